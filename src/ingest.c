/* ingest.c - source CSV -> raw.batches / raw.records / raw.rejects, one
 * transaction per batch, streaming (see ingest.h). */
#include "ingest.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "csv.h"
#include "rawrec.h"
#include "schema.h"
#include "source.h"

#define COPY_FLUSH       (256u * 1024u) /* send accepted rows to the server in chunks */
#define REJECT_RAW_MAX   (64u * 1024u)  /* raw bytes kept per reject */
#define REJECT_BUF_SOFT  (16u << 20)    /* past this, keep only REJECT_RAW_SHORT bytes */
#define REJECT_RAW_SHORT 256u

/* Append `name` to the comma-separated list `b` unless it already holds
 * LIST_MAX names (the error message must fit its buffer: the tail is counted). */
#define LIST_MAX 10

static int list_add(rdm_buf *b, int *count, const char *name, const char *note)
{
    if ((*count)++ >= LIST_MAX)
        return RDM_OK;
    return rdm_buf_printf(b, "%s%s%s", b->len ? ", " : "", name, note);
}

static int list_end(rdm_buf *b, int count)
{
    if (count > LIST_MAX)
        return rdm_buf_printf(b, " and %d more", count - LIST_MAX);
    return count ? RDM_OK : rdm_buf_adds(b, "(none)");
}

int rdm_ingest_check_header(const char *const *names, int n, const char *label, rdm_err *err)
{
    const rdm_column *cols = rdm_schema_columns();
    int ok = n == RDM_NCOLS;
    for (int i = 0; ok && i < n; i++)
        ok = strcmp(names[i], cols[i].name) == 0;
    if (ok)
        return RDM_OK;
    rdm_buf miss = RDM_BUF_INIT, extra = RDM_BUF_INIT;
    int rc = RDM_OK, nmiss = 0, nextra = 0;
    for (int i = 0; i < RDM_NCOLS && rc == RDM_OK; i++) {
        int found = 0;
        for (int j = 0; j < n && !found; j++)
            found = strcmp(names[j], cols[i].name) == 0;
        if (!found)
            rc = list_add(&miss, &nmiss, cols[i].name, "");
    }
    for (int j = 0; j < n && rc == RDM_OK; j++) {
        int dup = 0;
        for (int k = 0; k < j && !dup; k++)
            dup = strcmp(names[j], names[k]) == 0;
        if (dup || rdm_schema_find(names[j]) < 0)
            rc = list_add(&extra, &nextra, names[j], dup ? " (duplicate)" : "");
    }
    if (rc == RDM_OK && (nmiss || nextra))
        rc = list_end(&miss, nmiss) || list_end(&extra, nextra) ? RDM_ENOMEM : RDM_OK;
    if (rc != RDM_OK) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    } else if (nmiss || nextra) {
        rc = rdm_errf(err, RDM_ESCHEMA,
                      "%s: header does not match the schema: missing columns: %s; unexpected "
                      "columns: %s",
                      label, miss.data, extra.data);
    } else {
        int i = 0;
        while (i < n && strcmp(names[i], cols[i].name) == 0)
            i++;
        rc = rdm_errf(err, RDM_ESCHEMA,
                      "%s: header does not match the schema: column %d is '%s', "
                      "expected '%s' "
                      "(columns out of order)",
                      label, i + 1, names[i], cols[i].name);
    }
    rdm_buf_release(&miss);
    rdm_buf_release(&extra);
    return rc;
}

#define LOADERS   2           /* connections loading batches side by side */
#define QUEUE_MAX (32u << 20) /* COPY bytes queued for one loader before the reader waits */

typedef struct run run;
typedef struct chunk chunk;

enum { JOB_IDLE, JOB_ASSIGNED, JOB_RUNNING, JOB_DONE };

/* One loader: a connection, its thread and the batch in its hands. Fields
 * below `thread` are guarded by run.mu. */
typedef struct loader {
    run *r;
    rdm_db *db;
    int own_db;
    int started;
    pthread_t thread;
    int state;    /* JOB_* */
    int quit;     /* no more batches */
    int seq;      /* commit order of the batch (0, 1, ... in this run) */
    int batch_no; /* its ledger number */
    unsigned long long first_record;
    long long batch_id; /* set by the loader once its ledger row is in */
    int opened;         /* ledger row in, COPY open: the reader may queue rows */
    chunk *head, *tail; /* rows queued by the reader */
    size_t queued;      /* their bytes */
    int closed;         /* the reader queued every row, counts and rejects below */
    int abort;          /* the reader failed: roll back */
    int failed;         /* the loader failed (reason in err) */
    int committed;
    long nread, nacc, nrej, first_line, last_line;
    rdm_buf rej; /* rejects, COPY text */
    int rc;
    rdm_err err;
} loader;

/* State of one run. */
struct run {
    const rdm_config *cfg;
    rdm_db *db;
    rdm_csv *csv;
    rdm_source *src;
    rdm_ingest_stats *st;
    rdm_ingest_progress_fn progress;
    void *ud;
    double t0, last_progress;
    rdm_buf copy;           /* accepted rows, COPY text */
    rdm_buf rej;            /* rejects, COPY text */
    rdm_ingest_range *done; /* records already loaded from this sha256, by start */
    int ndone;
    int next_no;            /* batch_no of the next batch (1 + the largest so far) */
    unsigned long long pos; /* data records read from the source so far */
    int eof;
    /* the sha256 pass runs in a thread while the header is read */
    const char *path;
    long long max_bytes; /* data.max_source_bytes */
    pthread_t sha_thread;
    int sha_running;
    int sha_rc;
    rdm_err sha_err;
    char sha[65]; /* written by the thread, read after the join or once sha_done */
    int known;    /* sha256 and done set are known */
    /* speculative: raw.batches was empty, so no record of this source can be
     * loaded and batches start before the sha256 pass ends; each batch gets
     * its sha256 (waited for under sha_mu) just before it commits */
    int speculative;
    pthread_mutex_t sha_mu;
    pthread_cond_t sha_cv;
    int sha_done;
    /* tee: a zip entry is inflated once, by the sha256 thread, which hands
     * the bytes to the reader (a queue of blocks under sha_mu) */
    int tee;
    struct tee_block *tee_head, *tee_tail;
    /* the loaders */
    loader L[LOADERS];
    int nl, next_loader;
    int sync; /* mu and cv exist */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int seq;        /* batches handed out */
    int turn;       /* batches finished (committed, rolled back or failed), in order */
    int failed_seq; /* the first batch that failed (INT_MAX: none) */
    chunk *spare;   /* chunks to reuse */
    int sent;       /* batches handed out with rows in them */
    int rc;         /* the run's first failure */
};

static void *sha_main(void *arg)
{
    run *r = arg;
    r->sha_rc = rdm_source_sha256(r->path, r->max_bytes, r->sha, NULL, &r->sha_err);
    pthread_mutex_lock(&r->sha_mu);
    r->sha_done = 1;
    pthread_cond_broadcast(&r->sha_cv);
    pthread_mutex_unlock(&r->sha_mu);
    return NULL;
}

/* ---- tee: the zip entry inflated once for the sha256 and the rows ---- */

#define TEE_BLOCK (1u << 20)
#define TEE_MAX_ZIP \
    (512LL << 20) /* larger entries are inflated twice (a slow reader
                                     would let the queue hold the whole entry) */

typedef struct tee_block {
    struct tee_block *next;
    size_t len, off;
    char data[];
} tee_block;

/* The sha256 thread in tee mode: read r->src to the end, hash each block and
 * queue it for tee_read. Never waits for the reader: batches may wait for
 * the sha256 (speculative), and the reader for them. */
static void *tee_main(void *arg)
{
    run *r = arg;
    rdm_err e = {0};
    rdm_sha256 *h = rdm_sha256_new();
    int rc = h ? RDM_OK : rdm_errf(&e, RDM_ENOMEM, "%s: out of memory", r->path);
    while (rc == RDM_OK) {
        tee_block *b = malloc(sizeof *b + TEE_BLOCK);
        if (!b) {
            rc = rdm_errf(&e, RDM_ENOMEM, "%s: out of memory", r->path);
            break;
        }
        long n = rdm_source_read(r->src, b->data, TEE_BLOCK, &e);
        if (n <= 0) {
            free(b);
            rc = n < 0 ? (int)n : RDM_OK;
            break;
        }
        rdm_sha256_update(h, b->data, (size_t)n);
        b->len = (size_t)n;
        b->off = 0;
        b->next = NULL;
        pthread_mutex_lock(&r->sha_mu);
        if (r->tee_tail)
            r->tee_tail->next = b;
        else
            r->tee_head = b;
        r->tee_tail = b;
        pthread_cond_broadcast(&r->sha_cv);
        pthread_mutex_unlock(&r->sha_mu);
    }
    char out[65];
    if (h)
        rdm_sha256_final(h, out);
    pthread_mutex_lock(&r->sha_mu);
    if (rc == RDM_OK)
        memcpy(r->sha, out, sizeof out);
    r->sha_rc = rc;
    r->sha_err = e;
    r->sha_done = 1;
    pthread_cond_broadcast(&r->sha_cv);
    pthread_mutex_unlock(&r->sha_mu);
    return NULL;
}

/* rdm_csv_read_fn over the tee queue (ud = run). */
static long tee_read(void *ud, char *buf, size_t n, rdm_err *err)
{
    run *r = ud;
    pthread_mutex_lock(&r->sha_mu);
    while (!r->tee_head && !r->sha_done)
        pthread_cond_wait(&r->sha_cv, &r->sha_mu);
    tee_block *b = r->tee_head, *done = NULL;
    long got = 0;
    if (b) {
        size_t k = b->len - b->off < n ? b->len - b->off : n;
        memcpy(buf, b->data + b->off, k);
        b->off += k;
        got = (long)k;
        if (b->off == b->len) {
            r->tee_head = b->next;
            if (!r->tee_head)
                r->tee_tail = NULL;
            done = b;
        }
    } else if (r->sha_rc != RDM_OK) {
        *err = r->sha_err;
        got = r->sha_rc;
    }
    pthread_mutex_unlock(&r->sha_mu);
    free(done);
    return got;
}

static void tee_release(run *r)
{
    while (r->tee_head) {
        tee_block *b = r->tee_head;
        r->tee_head = b->next;
        free(b);
    }
    r->tee_tail = NULL;
}

/* A speculative batch's sha256: waits for the pass; NULL (err set) if it failed. */
static const char *wait_sha(run *r, rdm_err *err)
{
    pthread_mutex_lock(&r->sha_mu);
    while (!r->sha_done)
        pthread_cond_wait(&r->sha_cv, &r->sha_mu);
    pthread_mutex_unlock(&r->sha_mu);
    if (r->sha_rc != RDM_OK) {
        rdm_errf(err, r->sha_rc, "%s", r->sha_err.msg);
        return NULL;
    }
    return r->sha;
}

/* Is raw.batches empty? Then nothing of any source is loaded yet. */
static int ledger_empty(run *r, int *empty, rdm_err *err)
{
    rdm_res *res = rdm_db_query(r->db, RDM_SQL_RAW_SELECT_ANY_BATCH, 0, NULL, err);
    if (!res)
        return RDM_EDB;
    const char *any = rdm_res_text(res, 0, "any");
    *empty = any && !strcmp(any, "f");
    int rc = rdm_res_check(res, err);
    rdm_res_free(res);
    return rc;
}

static int load_done(run *r, rdm_err *err);

/* Wait for the sha256 pass, then read which batches are already loaded. */
static int learn_source(run *r, rdm_err *err)
{
    if (r->known)
        return RDM_OK;
    if (r->sha_running) {
        pthread_join(r->sha_thread, NULL);
        r->sha_running = 0;
    }
    if (r->sha_rc != RDM_OK)
        return rdm_errf(err, r->sha_rc, "%s", r->sha_err.msg);
    memcpy(r->st->sha256, r->sha, sizeof r->sha);
    int rc = load_done(r, err);
    if (rc == RDM_OK)
        r->known = 1;
    return rc;
}

void rdm_ingest_plan(const rdm_ingest_range *done, int ndone, unsigned long long pos,
                     long batch_rows, rdm_ingest_step *step)
{
    unsigned long long end = pos;
    /* a loaded batch covers pos: skip to its end (the furthest, if several) */
    for (int i = 0; i < ndone; i++) {
        unsigned long long a = done[i].first, b = done[i].first + done[i].count;
        if (a <= pos && pos < b && b > end)
            end = b;
    }
    if (end > pos) {
        step->skip = 1;
        step->count = end - pos;
        return;
    }
    /* a new batch, cut where the next loaded range starts */
    unsigned long long n = (unsigned long long)batch_rows;
    for (int i = 0; i < ndone; i++)
        if (done[i].count > 0 && done[i].first > pos && done[i].first - pos < n)
            n = done[i].first - pos;
    step->skip = 0;
    step->count = n;
}

static int load_done(run *r, rdm_err *err)
{
    const char *p[] = {r->st->sha256};
    rdm_res *res = rdm_db_query(r->db, RDM_SQL_RAW_SELECT_BATCH_RANGES, 1, p, err);
    if (!res)
        return RDM_EDB;
    int n = rdm_res_rows(res), rc = RDM_OK;
    r->done = calloc((size_t)n + 1, sizeof *r->done);
    if (!r->done) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    r->next_no = 1;
    for (int i = 0; i < n; i++) {
        long long first = rdm_res_ll(res, i, "first_record");
        long long count = rdm_res_ll(res, i, "rows_read");
        int no = rdm_res_int(res, i, "batch_no");
        r->done[i].first = first > 0 ? (unsigned long long)first : 0;
        r->done[i].count = count > 0 ? (unsigned long long)count : 0;
        if (no >= r->next_no)
            r->next_no = no + 1;
    }
    r->ndone = n;
    rc = rdm_res_check(res, err);
done:
    rdm_res_free(res);
    return rc;
}

static void tick(run *r, int force)
{
    if (!r->progress)
        return;
    double now = rdm_now();
    if (force || now - r->last_progress >= 1.0) {
        r->st->seconds = now - r->t0;
        r->st->bytes = rdm_csv_bytes(r->csv);
        r->progress(r->st, r->ud);
        r->last_progress = now;
    }
}

/* Read past up to n records without loading them; *got gets how many. */
static int skip_records(run *r, unsigned long long n, unsigned long long *got, rdm_err *err)
{
    rdm_csv_record rec;
    unsigned long long k = 0;
    for (; k < n; k++) {
        int rc = rdm_csv_next(r->csv, &rec, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            r->eof = 1;
            break;
        }
    }
    *got = k;
    r->pos += k;
    return RDM_OK;
}

static const char HEX[] = "0123456789abcdef";

static int add_reject(run *r, long long batch_id, const rdm_csv_record *rec, char *num)
{
    size_t keep = rec->raw_len;
    int cut = 0;
    size_t lim = r->rej.len > REJECT_BUF_SOFT ? REJECT_RAW_SHORT : REJECT_RAW_MAX;
    if (keep > lim) {
        keep = lim;
        cut = 1;
    }
    snprintf(num, 64, "%lld\t%ld\t", batch_id, rec->line);
    if (rdm_buf_adds(&r->rej, num) || rdm_copy_escape(&r->rej, rec->reason))
        return RDM_ENOMEM;
    if (cut && rdm_buf_printf(&r->rej, " (raw text cut to %zu of %zu bytes)", keep, rec->raw_len))
        return RDM_ENOMEM;
    if (rdm_buf_add(&r->rej, "\t\\\\x", 4) || rdm_buf_reserve(&r->rej, keep * 2 + 2))
        return RDM_ENOMEM;
    const unsigned char *p = (const unsigned char *)rec->raw;
    char *w = r->rej.data + r->rej.len;
    for (size_t i = 0; i < keep; i++) {
        *w++ = HEX[p[i] >> 4];
        *w++ = HEX[p[i] & 15];
    }
    r->rej.len += keep * 2;
    r->rej.data[r->rej.len] = '\0';
    return rdm_buf_addc(&r->rej, '\n');
}

/* Append one accepted record as a COPY text line of raw.records: batch_id,
 * line_no, the fields as one record (rawrec.h). */
static int add_row(run *r, const char *prefix, size_t plen, const rdm_csv_record *rec)
{
    size_t need = plen + 24 + (size_t)rec->nfields * 2 + 2;
    for (int i = 0; i < rec->nfields; i++)
        need += rec->lens[i] * 2;
    if (rdm_buf_reserve(&r->copy, need))
        return RDM_ENOMEM;
    char *w = r->copy.data + r->copy.len;
    memcpy(w, prefix, plen);
    w += plen;
    w += snprintf(w, 24, "%ld\t", rec->line);
    w = rdm_rawrec_put_copy(w, rec->fields, rec->lens, rec->nfields);
    *w++ = '\n';
    r->copy.len = (size_t)(w - r->copy.data);
    *w = '\0';
    return RDM_OK;
}

/* ---- loaders: batches go to the server over LOADERS connections ----
 *
 * The reader (the calling thread) parses batch k and queues its COPY text
 * for loader k % LOADERS, whose thread sends it over its own connection
 * while the reader goes on with batch k + 1: the server's work on two
 * batches runs side by side. Batches still commit in batch order (a loader
 * waits for the batches before its own), so the loaded batches are always a
 * prefix of the run's, whatever fails or is killed. */

/* The reader's rows, handed to a loader in chunks of about COPY_FLUSH bytes. */
typedef struct chunk {
    struct chunk *next;
    rdm_buf b;
} chunk;

static chunk *chunk_get(run *r)
{
    chunk *c = r->spare;
    if (c)
        r->spare = c->next;
    else
        c = calloc(1, sizeof *c);
    if (c)
        c->next = NULL;
    return c;
}

static void chunk_put(run *r, chunk *c)
{
    rdm_buf_reset(&c->b);
    c->next = r->spare;
    r->spare = c;
}

/* Wait for the batches before `l`'s to end; 1 when they all committed. */
static int wait_turn(loader *l)
{
    run *r = l->r;
    pthread_mutex_lock(&r->mu);
    while (r->turn != l->seq)
        pthread_cond_wait(&r->cv, &r->mu);
    int ok = r->failed_seq > l->seq;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

/* The loader's side of one batch: ledger row, rows, rejects, commit. */
static int send_batch(loader *l, int *committed, rdm_err *err)
{
    run *r = l->r;
    char bno[32], bfirst[32];
    snprintf(bno, sizeof bno, "%d", l->batch_no);
    snprintf(bfirst, sizeof bfirst, "%llu", l->first_record);
    int rc = rdm_db_begin(l->db, err), in_copy = 0;
    if (rc)
        return rc;
    /* (a speculative batch is stored as "pending" until its sha256 is known:
     * the run's batch numbers differ, and ingests run one at a time) */
    const char *p[] = {rdm_source_name(r->src), r->speculative ? "pending" : r->st->sha256, bno,
                       bfirst};
    rdm_res *res = rdm_db_query(l->db, RDM_SQL_RAW_INSERT_BATCH, 4, p, err);
    long long batch_id = res ? rdm_res_ll(res, 0, "batch_id") : 0;
    rc = res ? rdm_res_check(res, err) : RDM_EDB;
    rdm_res_free(res);
    if (rc == RDM_OK &&
        (rc = rdm_db_copy_in_begin(l->db, RDM_SQL_RAW_COPY_IN_RECORDS, err)) == RDM_OK)
        in_copy = 1;
    pthread_mutex_lock(&r->mu);
    l->batch_id = batch_id;
    l->opened = rc == RDM_OK;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    while (rc == RDM_OK) {
        pthread_mutex_lock(&r->mu);
        while (!l->head && !l->closed && !l->abort)
            pthread_cond_wait(&r->cv, &r->mu);
        chunk *c = l->abort ? NULL : l->head;
        if (c) {
            l->head = c->next;
            if (!l->head)
                l->tail = NULL;
            l->queued -= c->b.len;
            pthread_cond_broadcast(&r->cv);
        }
        int aborted = l->abort;
        pthread_mutex_unlock(&r->mu);
        if (aborted)
            rc = rdm_errf(err, RDM_EIO, "reading the source failed");
        if (!c)
            break;
        rc = rdm_db_copy_put(l->db, c->b.data, c->b.len, err);
        pthread_mutex_lock(&r->mu);
        chunk_put(r, c);
        pthread_mutex_unlock(&r->mu);
    }
    if (rc == RDM_OK) {
        in_copy = 0;
        rc = rdm_db_copy_end(l->db, NULL, err);
    }
    /* closed: the counts and rejects are the reader's last word on the batch */
    if (rc == RDM_OK && l->nread == 0) { /* nothing left: this batch does not exist */
        rdm_db_rollback(l->db);
        return RDM_OK;
    }
    if (rc == RDM_OK && l->rej.len) {
        if ((rc = rdm_db_copy_in_begin(l->db, RDM_SQL_RAW_COPY_IN_REJECTS, err)) == RDM_OK) {
            in_copy = 1;
            if ((rc = rdm_db_copy_put(l->db, l->rej.data, l->rej.len, err)) == RDM_OK) {
                in_copy = 0;
                rc = rdm_db_copy_end(l->db, NULL, err);
            }
        }
    }
    const char *sha = r->st->sha256;
    if (rc == RDM_OK && r->speculative && !(sha = wait_sha(r, err)))
        rc = err->code;
    if (rc == RDM_OK) {
        char sid[32], sfirst[32], slast[32], sread[32], sacc[32], srej[32];
        snprintf(sid, sizeof sid, "%lld", batch_id);
        snprintf(sfirst, sizeof sfirst, "%ld", l->first_line);
        snprintf(slast, sizeof slast, "%ld", l->last_line);
        snprintf(sread, sizeof sread, "%ld", l->nread);
        snprintf(sacc, sizeof sacc, "%ld", l->nacc);
        snprintf(srej, sizeof srej, "%ld", l->nrej);
        const char *u[] = {sid, sfirst, slast, sread, sacc, srej, sha};
        rc = rdm_db_exec(l->db, RDM_SQL_RAW_UPDATE_BATCH, 7, u, err);
    }
    if (rc == RDM_OK && !wait_turn(l)) { /* an earlier batch failed: keep the prefix */
        rdm_db_rollback(l->db);
        return RDM_OK;
    }
    if (rc == RDM_OK) {
        if ((rc = rdm_db_commit(l->db, err)) == RDM_OK)
            *committed = 1;
        return rc;
    }
    if (in_copy)
        rdm_db_copy_end(l->db, "ingest failed", NULL);
    rdm_db_rollback(l->db);
    return rc;
}

static void *loader_main(void *arg)
{
    loader *l = arg;
    run *r = l->r;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!l->quit && l->state != JOB_ASSIGNED)
            pthread_cond_wait(&r->cv, &r->mu);
        if (l->state != JOB_ASSIGNED) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        l->state = JOB_RUNNING;
        pthread_mutex_unlock(&r->mu);
        int committed = 0;
        rdm_err e = {0};
        int rc = send_batch(l, &committed, &e);
        if (rc != RDM_OK) {
            rdm_err_prefix(&e, "batch %d", l->batch_no);
            pthread_mutex_lock(&r->mu);
            l->failed = 1;
            if (l->seq < r->failed_seq)
                r->failed_seq = l->seq;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
        }
        wait_turn(l); /* batches end in order, whatever the outcome */
        pthread_mutex_lock(&r->mu);
        l->rc = rc;
        l->err = e;
        l->committed = committed;
        l->state = JOB_DONE;
        r->turn++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
}

/* Wait until `l` has no batch in hand, then count its last batch in. */
static int reap(run *r, loader *l, rdm_err *err)
{
    pthread_mutex_lock(&r->mu);
    while (l->state == JOB_ASSIGNED || l->state == JOB_RUNNING)
        pthread_cond_wait(&r->cv, &r->mu);
    int was = l->state;
    l->state = JOB_IDLE;
    pthread_mutex_unlock(&r->mu);
    if (was != JOB_DONE)
        return RDM_OK;
    while (l->head) { /* left by a failed batch */
        chunk *c = l->head;
        l->head = c->next;
        chunk_put(r, c);
    }
    l->tail = NULL;
    l->queued = 0;
    if (l->committed) {
        r->st->batches_loaded++;
        rdm_log(RDM_LOG_DEBUG, "ingest batch=%d batch_id=%lld rows=%ld accepted=%ld rejected=%ld",
                l->batch_no, l->batch_id, l->nread, l->nacc, l->nrej);
    } else {
        /* the batch's rows are not in the database: take them out of the totals */
        r->st->rows_read -= (unsigned long long)l->nread;
        r->st->rows_accepted -= (unsigned long long)l->nacc;
        r->st->rows_rejected -= (unsigned long long)l->nrej;
    }
    if (l->rc != RDM_OK && r->rc == RDM_OK) {
        r->rc = l->rc;
        *err = l->err;
    }
    return r->rc;
}

/* Reap every loader, oldest batch first. */
static int reap_all(run *r, rdm_err *err)
{
    for (int i = 0; i < r->nl; i++)
        reap(r, &r->L[(r->next_loader + i) % r->nl], err);
    return r->rc;
}

/* Hand the reader's full chunk to `l`; waits while l holds QUEUE_MAX bytes.
 * Returns RDM_OK, 1 when the loader failed (its reason comes with the reap)
 * or RDM_ENOMEM. */
static int push(run *r, loader *l, rdm_err *err)
{
    pthread_mutex_lock(&r->mu);
    while (!l->failed && l->queued >= QUEUE_MAX)
        pthread_cond_wait(&r->cv, &r->mu);
    chunk *c = l->failed ? NULL : chunk_get(r);
    if (c) {
        rdm_buf t = c->b;
        c->b = r->copy;
        r->copy = t;
        if (l->tail)
            l->tail->next = c;
        else
            l->head = c;
        l->tail = c;
        l->queued += c->b.len;
        pthread_cond_broadcast(&r->cv);
    }
    int failed = l->failed;
    pthread_mutex_unlock(&r->mu);
    if (failed)
        return 1;
    return c ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "out of memory");
}

/* Read the next `n` records as batch number r->next_no and hand them to the
 * next loader (one transaction there). */
static int load_batch(run *r, unsigned long long n, rdm_err *err)
{
    loader *l = &r->L[r->next_loader];
    int rc = reap(r, l, err);
    if (rc)
        return rc;
    r->next_loader = (r->next_loader + 1) % r->nl;
    rdm_buf_reset(&r->copy);
    rdm_buf_reset(&r->rej);
    pthread_mutex_lock(&r->mu);
    l->seq = r->seq++;
    l->batch_no = r->next_no;
    l->first_record = r->pos;
    l->batch_id = 0;
    l->opened = l->closed = l->abort = l->failed = l->committed = 0;
    l->nread = l->nacc = l->nrej = l->first_line = l->last_line = 0;
    rdm_buf_reset(&l->rej);
    l->state = JOB_ASSIGNED;
    pthread_cond_broadcast(&r->cv);
    while (!l->opened && !l->failed)
        pthread_cond_wait(&r->cv, &r->mu);
    long long batch_id = l->batch_id;
    int failed = l->failed;
    pthread_mutex_unlock(&r->mu);
    if (failed) /* the reason comes with the reap */
        return reap(r, l, err);
    char prefix[64], num[64];
    int plen = snprintf(prefix, sizeof prefix, "%lld\t", batch_id);
    long nread = 0, nacc = 0, nrej = 0, first = 0, last = 0;
    rdm_csv_record rec;
    while (rc == RDM_OK && (unsigned long long)nread < n) {
        rc = rdm_csv_next(r->csv, &rec, err);
        if (rc <= 0) {
            r->eof = rc == 0;
            break;
        }
        rc = RDM_OK;
        if (nread == 0)
            first = rec.line;
        last = rec.last_line;
        nread++;
        r->st->rows_read++;
        if (rec.problem) {
            nrej++;
            r->st->rows_rejected++;
            if (add_reject(r, batch_id, &rec, num) != RDM_OK)
                rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        } else {
            nacc++;
            r->st->rows_accepted++;
            if (add_row(r, prefix, (size_t)plen, &rec) != RDM_OK)
                rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
            else if (r->copy.len >= COPY_FLUSH)
                rc = push(r, l, err);
        }
        if ((nread & 1023) == 0)
            tick(r, 0);
    }
    if (rc == RDM_OK && r->copy.len)
        rc = push(r, l, err);
    pthread_mutex_lock(&r->mu);
    l->nread = nread;
    l->nacc = nacc;
    l->nrej = nrej;
    l->first_line = first;
    l->last_line = last;
    rdm_buf t = l->rej;
    l->rej = r->rej;
    r->rej = t;
    if (rc != RDM_OK)
        l->abort = 1;
    l->closed = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (rc > 0) /* the loader failed: its reason */
        return reap(r, l, err);
    if (rc != RDM_OK) {
        rdm_err_prefix(err, "batch %d", l->batch_no);
        r->rc = rc;
        reap(r, l, err);
        return rc;
    }
    r->pos += (unsigned long long)nread;
    if (nread > 0) {
        r->next_no++;
        r->sent++;
    }
    return RDM_OK;
}

/* Start the loaders: the caller's connection and LOADERS - 1 more. */
static int loaders_start(run *r, rdm_err *err)
{
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->sync = 1;
    r->failed_seq = INT_MAX;
    for (int i = 0; i < LOADERS; i++) {
        loader *l = &r->L[i];
        l->r = r;
        if (i == 0) {
            l->db = r->db;
        } else {
            rdm_err e = {0};
            if (!(l->db = rdm_db_connect(r->cfg, &e))) {
                rdm_log(RDM_LOG_WARN, "ingest: one connection only: %s", e.msg);
                break;
            }
            l->own_db = 1;
        }
        if (pthread_create(&l->thread, NULL, loader_main, l) != 0) {
            if (l->own_db)
                rdm_db_close(l->db);
            l->db = NULL;
            l->own_db = 0;
            break;
        }
        l->started = 1;
        r->nl++;
    }
    return r->nl ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "ingest: cannot start a loader thread");
}

static void loaders_stop(run *r)
{
    if (!r->sync)
        return;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->nl; i++)
        r->L[i].quit = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < r->nl; i++) {
        loader *l = &r->L[i];
        pthread_join(l->thread, NULL);
        if (l->own_db)
            rdm_db_close(l->db);
        while (l->head) {
            chunk *c = l->head;
            l->head = c->next;
            chunk_put(r, c);
        }
        rdm_buf_release(&l->rej);
    }
    while (r->spare) {
        chunk *c = r->spare;
        r->spare = c->next;
        rdm_buf_release(&c->b);
        free(c);
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

/* The zip's code-label mapping (IDs_mapping.csv), when it has one, into
 * raw.code_labels; its bad lines are logged and kept. */
static int load_code_labels(run *r, rdm_err *err)
{
    if (!rdm_source_is_zip(r->src))
        return RDM_OK;
    rdm_buf b = RDM_BUF_INIT;
    rdm_code_labels cl = {0};
    char name[1024] = "";
    int found = 0;
    int rc = rdm_source_zip_member(r->path, "IDs_mapping.csv", 1 << 20, &b, name, sizeof name,
                                   &found, err);
    if (rc == RDM_OK && found)
        rc = rdm_code_labels_parse(b.data ? b.data : "", b.len, name, &cl, err);
    if (rc == RDM_OK && found)
        rc = rdm_code_labels_store(r->db, &cl, err);
    if (rc == RDM_OK && found) {
        r->st->code_labels = (long)cl.n;
        r->st->code_labels_bad = (long)cl.nbad;
        for (size_t i = 0; i < cl.nbad; i++)
            rdm_log(RDM_LOG_WARN, "ingest: %s (kept in raw.code_label_rejects)", cl.bad[i].reason);
    }
    rdm_code_labels_release(&cl);
    rdm_buf_release(&b);
    return rc;
}

int rdm_ingest(const rdm_config *cfg, rdm_db *db, long max_batches, rdm_ingest_progress_fn progress,
               void *ud, rdm_ingest_stats *st, rdm_err *err)
{
    memset(st, 0, sizeof *st);
    st->code_labels = -1;
    run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.db = db;
    r.st = st;
    r.progress = progress;
    r.ud = ud;
    r.t0 = r.last_progress = rdm_now();
    const char *path = cfg->data.source;
    int rc;
    if (cfg->data.batch_rows <= 0 || cfg->data.batch_rows > 100000000L)
        return rdm_errf(err, RDM_EINVAL, "data.batch_rows must be in [1, 100000000], not %ld",
                        cfg->data.batch_rows);
    if (!path || !*path)
        return rdm_errf(err, RDM_EINVAL,
                        "no data source: set data.source, --source or READMIT_DATA");
    /* one ingest at a time per database: a second one waits, then finds the
     * batches loaded (session lock, dropped on exit or crash) */
    if (rdm_db_exec(db, RDM_SQL_RAW_LOCK_INGEST, 0, NULL, err))
        return RDM_EDB;
    r.path = path;
    r.max_bytes = cfg->data.max_source_bytes;
    pthread_mutex_init(&r.sha_mu, NULL);
    pthread_cond_init(&r.sha_cv, NULL);
    if (!(r.src = rdm_source_open(path, r.max_bytes, err))) {
        rc = err ? err->code : RDM_EIO;
        goto done;
    }
    /* the sha256 pass: over the reader's own handle for a zip entry (tee:
     * inflated once), over a second handle of a plain file */
    long long zsize = rdm_source_zip_size(r.src);
    if (zsize >= 0 && zsize <= TEE_MAX_ZIP &&
        pthread_create(&r.sha_thread, NULL, tee_main, &r) == 0)
        r.tee = r.sha_running = 1;
    else if (pthread_create(&r.sha_thread, NULL, sha_main, &r) == 0)
        r.sha_running = 1;
    else /* no thread: compute it here */
        sha_main(&r);
    size_t maxf = cfg->data.max_field_bytes > 0 ? (size_t)cfg->data.max_field_bytes : 1024;
    if (!(r.csv = rdm_csv_create(r.tee ? tee_read : rdm_source_read, r.tee ? (void *)&r : r.src,
                                 maxf, rdm_source_name(r.src), err))) {
        rc = RDM_ENOMEM;
        goto done;
    }
    if ((rc = rdm_csv_read_header(r.csv, err)) != RDM_OK)
        goto done;
    const char *const *names;
    int nn = rdm_csv_header(r.csv, &names);
    if ((rc = rdm_ingest_check_header(names, nn, rdm_source_name(r.src), err)) != RDM_OK)
        goto done;
    /* which records of this source are loaded already: none when the ledger
     * is empty (then loading starts while the sha256 pass runs) */
    int empty = 0;
    if ((rc = ledger_empty(&r, &empty, err)) != RDM_OK)
        goto done;
    if (empty && r.sha_running) {
        r.speculative = r.known = 1;
        r.next_no = 1;
    } else if ((rc = learn_source(&r, err)) != RDM_OK) {
        goto done;
    }
    if ((rc = load_code_labels(&r, err)) != RDM_OK)
        goto done;
    if ((rc = loaders_start(&r, err)) != RDM_OK)
        goto done;

    while (!r.eof) {
        rdm_ingest_step step;
        unsigned long long got = 0;
        rdm_ingest_plan(r.done, r.ndone, r.pos, cfg->data.batch_rows, &step);
        if (step.skip) { /* covered by earlier batches, whatever their size */
            if ((rc = skip_records(&r, step.count, &got, err)) != RDM_OK)
                goto done;
            st->rows_skipped += got;
            st->batches_skipped += got > 0;
            continue;
        }
        if (max_batches >= 0 && r.sent >= max_batches) {
            /* only count the new batches left for a later run */
            if ((rc = skip_records(&r, step.count, &got, err)) != RDM_OK)
                goto done;
            st->batches_left += got > 0;
            continue;
        }
        if ((rc = load_batch(&r, step.count, err)) != RDM_OK)
            goto done;
        tick(&r, 0);
    }
done:
    if (r.sync) {
        int rc2 = reap_all(&r, err);
        if (rc == RDM_OK)
            rc = rc2;
        loaders_stop(&r);
    }
    if (r.sha_running)
        pthread_join(r.sha_thread, NULL);
    if (r.speculative && r.sha_rc == RDM_OK)
        memcpy(st->sha256, r.sha, sizeof r.sha);
    tee_release(&r);
    pthread_cond_destroy(&r.sha_cv);
    pthread_mutex_destroy(&r.sha_mu);
    st->seconds = rdm_now() - r.t0;
    if (r.csv)
        st->bytes = rdm_csv_bytes(r.csv);
    if (rc == RDM_OK)
        tick(&r, 1);
    {
        rdm_err ignore = {0};
        if (rdm_db_exec(db, RDM_SQL_RAW_UNLOCK_INGEST, 0, NULL, &ignore))
            rdm_log(RDM_LOG_WARN, "ingest: %s", ignore.msg);
    }
    rdm_csv_free(r.csv);
    rdm_source_close(r.src);
    rdm_buf_release(&r.copy);
    rdm_buf_release(&r.rej);
    free(r.done);
    return rc;
}
