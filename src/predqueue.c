/* predqueue.c - ordered queue of formatted log batches, in memory and in a
 * file of the same rows. */
#define _GNU_SOURCE /* fallocate */
#include "predqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void rdm_predq_init(rdm_predq *q, const char *path, uint64_t max_file, size_t max_mem)
{
    memset(q, 0, sizeof *q);
    snprintf(q->path, sizeof q->path, "%s", path);
    q->max_file = max_file;
    q->max_mem = max_mem;
    q->fd = -1;
}

void rdm_predq_release(rdm_predq *q)
{
    for (size_t i = 0; i < q->nmem; i++)
        rdm_buf_release(&q->mem[i].data);
    free(q->mem);
    free(q->seg);
    rdm_buf_release(&q->spare);
    if (q->fd >= 0)
        close(q->fd);
    memset(q, 0, sizeof *q);
    q->fd = -1;
}

int rdm_predq_empty(const rdm_predq *q)
{
    return q->nmem == 0 && q->seg0 == q->nseg;
}

int64_t rdm_predq_oldest(const rdm_predq *q)
{
    if (q->nmem)
        return q->mem[0].oldest_us;
    return q->seg0 < q->nseg ? q->seg[q->seg0].oldest_us : 0;
}

static int write_all(int fd, const void *p, size_t n, off_t at)
{
    const char *c = p;
    while (n) {
        ssize_t w = at >= 0 ? pwrite(fd, c, n, at) : write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
        if (at >= 0)
            at += w;
    }
    return 0;
}

static int write_header(rdm_predq *q)
{
    char h[RDM_PREDQ_HEADER];
    memcpy(h, RDM_PREDQ_MAGIC, 8);
    memcpy(h + 8, &q->rd, 8);
    return write_all(q->fd, h, sizeof h, 0);
}

/* The file, created when there is none (the header written). */
static int open_file(rdm_predq *q, rdm_err *err)
{
    if (q->fd >= 0)
        return RDM_OK;
    char dir[sizeof q->path];
    snprintf(dir, sizeof dir, "%s", q->path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int rc = rdm_mkdirs(dir, err);
        if (rc != RDM_OK)
            return rc;
    }
    q->fd = open(q->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    q->rd = q->wr = RDM_PREDQ_HEADER;
    q->nseg = q->seg0 = 0;
    q->file_rows = 0;
    if (q->fd < 0 || write_header(q) != 0) {
        char msg[128];
        int rc = rdm_errf(err, RDM_EIO, "predlog: queue file %s: %s", q->path,
                          rdm_errno_text(errno, msg, sizeof msg));
        if (q->fd >= 0) {
            close(q->fd);
            unlink(q->path);
        }
        q->fd = -1;
        return rc;
    }
    return RDM_OK;
}

static int append_file(rdm_predq *q, const char *data, size_t len, uint64_t rows, int64_t oldest_us,
                       rdm_err *err)
{
    if ((q->wr - q->rd) + len > q->max_file)
        return RDM_ESTATE;
    int rc = open_file(q, err);
    if (rc != RDM_OK)
        return rc;
    if (q->nseg == q->capseg) {
        if (q->seg0 > 0) { // reuse the front
            memmove(q->seg, q->seg + q->seg0, (q->nseg - q->seg0) * sizeof *q->seg);
            q->nseg -= q->seg0;
            q->seg0 = 0;
        }
        void *v = q->seg;
        if (rdm_grow(&v, &q->capseg, q->nseg + 1, sizeof *q->seg) != RDM_OK)
            return rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
        q->seg = v;
    }
    if (write_all(q->fd, data, len, (off_t)q->wr) != 0) {
        char msg[128];
        // a torn row at the end: the next append writes over it
        return rdm_errf(err, RDM_EIO, "predlog: queue file %s: %s", q->path,
                        rdm_errno_text(errno, msg, sizeof msg));
    }
    q->seg[q->nseg++] = (rdm_predq_seg){q->wr, len, rows, oldest_us};
    q->wr += len;
    q->file_rows += rows;
    return RDM_OK;
}

/* Room for one more chunk in memory. */
static int grow_mem(rdm_predq *q)
{
    void *v = q->mem;
    int rc = rdm_grow(&v, &q->capmem, q->nmem + 1, sizeof *q->mem);
    q->mem = v;
    return rc;
}

/* A chunk of `len` bytes may wait in memory. */
static int mem_room(const rdm_predq *q, size_t len, int mem_ok)
{
    return mem_ok && q->seg0 == q->nseg && (q->nmem == 0 || q->mem_bytes + len <= q->max_mem);
}

int rdm_predq_push_buf(rdm_predq *q, rdm_buf *rows, uint64_t n, int64_t oldest_us, int mem_ok,
                       int *to_file, rdm_err *err)
{
    *to_file = 0;
    if (!rows->len)
        return RDM_OK;
    if (!mem_room(q, rows->len, mem_ok)) {
        *to_file = 1;
        return append_file(q, rows->data, rows->len, n, oldest_us, err);
    }
    if (grow_mem(q) != RDM_OK)
        return rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
    q->mem[q->nmem++] = (rdm_predq_chunk){*rows, n, oldest_us};
    q->mem_bytes += rows->len;
    q->mem_rows += n;
    *rows = q->spare;
    q->spare = (rdm_buf)RDM_BUF_INIT;
    rdm_buf_reset(rows);
    return RDM_OK;
}

int rdm_predq_take(rdm_predq *q, size_t max_bytes, rdm_buf *out, rdm_predq_span *sp, rdm_err *err)
{
    memset(sp, 0, sizeof *sp);
    rdm_buf_reset(out);
    if (q->nmem) {
        rdm_predq_chunk c = q->mem[0];
        memmove(q->mem, q->mem + 1, (q->nmem - 1) * sizeof *q->mem);
        q->nmem--;
        q->mem_bytes -= c.data.len;
        q->mem_rows -= c.rows;
        rdm_buf tmp = *out;
        *out = c.data;
        if (!q->spare.data) // the next push_buf takes it
            q->spare = tmp;
        else
            rdm_buf_release(&tmp);
        sp->len = out->len;
        sp->rows = c.rows;
        sp->oldest_us = c.oldest_us;
        return 1;
    }
    if (q->seg0 == q->nseg)
        return 0;
    sp->from_file = 1;
    sp->off = q->seg[q->seg0].off;
    sp->oldest_us = q->seg[q->seg0].oldest_us;
    for (size_t i = q->seg0; i < q->nseg && (i == q->seg0 || sp->len + q->seg[i].len <= max_bytes);
         i++) {
        sp->len += q->seg[i].len;
        sp->rows += q->seg[i].rows;
    }
    if (rdm_buf_reserve(out, sp->len) != RDM_OK)
        return rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
    size_t got = 0;
    while (got < sp->len) {
        ssize_t r = pread(q->fd, out->data + got, sp->len - got, (off_t)(sp->off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            char msg[128];
            return rdm_errf(err, RDM_EIO, "predlog: reading queue file %s: %s", q->path,
                            r < 0 ? rdm_errno_text(errno, msg, sizeof msg) : "short file");
        }
        got += (size_t)r;
    }
    out->len = sp->len;
    out->data[out->len] = '\0';
    return 1;
}

void rdm_predq_done(rdm_predq *q, const rdm_predq_span *sp)
{
    if (!sp->from_file)
        return;
    uint64_t end = sp->off + sp->len;
    while (q->seg0 < q->nseg && q->seg[q->seg0].off < end) {
        q->file_rows -= q->seg[q->seg0].rows;
        q->seg0++;
    }
    q->rd = end;
    if (q->rd >= q->wr) { // all sent: no file left behind
        close(q->fd);
        unlink(q->path);
        q->fd = -1;
        q->nseg = q->seg0 = 0;
        q->rd = q->wr = RDM_PREDQ_HEADER;
        q->file_rows = 0;
        return;
    }
    write_header(q);
    // give the sent rows' space back (the header stays); ignored where unsupported
    (void)fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)sp->off,
                    (off_t)sp->len);
}

int rdm_predq_putback(rdm_predq *q, rdm_buf *out, const rdm_predq_span *sp)
{
    if (sp->from_file)
        return RDM_OK;
    if (grow_mem(q) != RDM_OK)
        return RDM_ENOMEM;
    memmove(q->mem + 1, q->mem, q->nmem * sizeof *q->mem);
    q->mem[0] = (rdm_predq_chunk){*out, sp->rows, sp->oldest_us};
    *out = (rdm_buf)RDM_BUF_INIT;
    q->nmem++;
    q->mem_bytes += q->mem[0].data.len;
    q->mem_rows += sp->rows;
    return RDM_OK;
}

int rdm_predq_spill_mem(rdm_predq *q, int force, uint64_t *rows, uint64_t *dropped, rdm_err *err)
{
    *rows = *dropped = 0;
    if (!q->nmem || (!force && q->seg0 < q->nseg))
        return RDM_OK;
    int rc = RDM_OK;
    size_t i = 0;
    for (; i < q->nmem; i++) {
        rdm_predq_chunk *c = &q->mem[i];
        rc = append_file(q, c->data.data, c->data.len, c->rows, c->oldest_us, err);
        if (rc == RDM_ESTATE) {
            *dropped += c->rows;
            rc = RDM_OK;
        } else if (rc != RDM_OK) {
            break;
        } else {
            *rows += c->rows;
        }
        q->mem_bytes -= c->data.len;
        q->mem_rows -= c->rows;
        rdm_buf_release(&c->data);
    }
    // chunks that could not be written stay in memory, at the front
    memmove(q->mem, q->mem + i, (q->nmem - i) * sizeof *q->mem);
    q->nmem -= i;
    return rc;
}

size_t rdm_predq_file_rows(const char *data, size_t len)
{
    if (len < RDM_PREDQ_HEADER || memcmp(data, RDM_PREDQ_MAGIC, 8))
        return 0;
    uint64_t rd;
    memcpy(&rd, data + 8, 8);
    if (rd < RDM_PREDQ_HEADER) // no offset that makes sense: every row (each is stored once)
        return RDM_PREDQ_HEADER;
    return rd > len ? len : (size_t)rd;
}
