/* predlog.c - buffered, spill-backed writer of the prediction log
 * (monitor.prediction_batches). */
#include "predlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "predbatch.h"
#include "predentry.h"
#include "predfields.h"
#include "predqueue.h"

#define RETRY_US 500000     /* between connection attempts */
#define SCAN_US  5000000    /* between looks for orphaned spill files */
#define IDLE_US  1000000    /* an idle writer closes its connection after this */
#define SEND_MAX (8u << 20) /* bytes of queued rows sent from the queue file at once */
#define STOP_US  5000000    /* at stop, how long the queue file is drained before it is left */

struct rdm_predlog {
    const rdm_config *cfg;
    rdm_predlog_counters own;
    rdm_predlog_counters *c;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    rdm_buf active;       /* queued entries (guarded by mu) */
    uint64_t active_rows; /* guarded by mu */
    uint64_t flush_gen;   /* flush requests; guarded by mu */
    uint64_t flushed_gen; /* completed; guarded by mu */
    int stop;             /* guarded by mu */
    pthread_mutex_t spill_mu;
    int spill_fd;              /* own spill file, -1 when closed (guarded by spill_mu) */
    long spill_bytes;          /* its size (guarded by spill_mu) */
    _Atomic int spill_pending; /* spill files of gone writers may exist */
    _Atomic int raw_spilled;   /* the own spill file holds entries (the writer takes them) */
    int64_t warn_us;           /* last "dropping" warning */
    uint64_t seq;              /* guarded by mu */
    uint64_t boot_us;
    int32_t pid;           /* getpid() once (a system call per record otherwise) */
    uint64_t sample_state; /* guarded by mu */
    char spill_path[1024];
    /* the queue of formatted batches between the writer thread (formats) and
     * the sender thread (sends); guarded by qmu (taken after mu, never before) */
    pthread_t sender;
    int sender_started;
    int sender_alive; /* cleared by the sender thread as it ends */
    pthread_mutex_t qmu;
    pthread_cond_t qwake, qdone;
    rdm_predq q;
    int inflight;          /* a chunk of memory is being sent */
    int64_t inflight_us;   /* served time of the oldest record being sent (0: none) */
    int healthy;           /* the sender reaches the database: chunks may wait in memory */
    int qstop;             /* the writer is done: send what is left */
    int64_t fmt_oldest_us; /* served time of the batch being formatted (0: none) */
    /* sender thread only */
    rdm_db *db;
    int64_t next_try_us, next_scan_us, last_send_us;
    unsigned replay_no;
    unsigned aside_no;
    rdm_predbatch pb; /* writer thread only */
};

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* ---- database ---- */

static void db_drop(rdm_predlog *l)
{
    rdm_db_close(l->db);
    l->db = NULL;
    l->next_try_us = now_us() + RETRY_US;
}

static int db_ready(rdm_predlog *l)
{
    if (l->db)
        return 1;
    if (now_us() < l->next_try_us)
        return 0;
    rdm_err err = {0};
    l->db = rdm_db_connect(l->cfg, &err);
    if (!l->db) {
        l->next_try_us = now_us() + RETRY_US;
        return 0;
    }
    int applied = 0;
    l->last_send_us = now_us();
    if (rdm_db_migrate(l->db, &applied, &err) != RDM_OK ||
        rdm_db_exec(l->db, RDM_SQL_MONITOR_CREATE_STAGE, 0, NULL, &err) != RDM_OK) {
        rdm_log(RDM_LOG_WARN, "predlog: %s", err.msg);
        db_drop(l);
        return 0;
    }
    return 1;
}

static int copy_rows(rdm_db *db, rdm_sql_id stmt, const rdm_buf *rows, rdm_err *err)
{
    int rc = rdm_db_copy_in_begin(db, stmt, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_put(db, rows->data, rows->len, err);
    if (rc == RDM_OK)
        return rdm_db_copy_end(db, NULL, err);
    rdm_db_copy_end(db, "aborted", NULL);
    return rc;
}

/* Replay path: staging table, then insert what is not there yet. */
static int send_idempotent(rdm_predlog *l, const rdm_buf *rows, rdm_err *err)
{
    if (!rows->len)
        return RDM_OK;
    int rc = rdm_db_begin(l->db, err);
    if (rc == RDM_OK)
        rc = copy_rows(l->db, RDM_SQL_MONITOR_COPY_STAGE, rows, err);
    if (rc == RDM_OK)
        rc = rdm_db_exec(l->db, RDM_SQL_MONITOR_INSERT_STAGE, 0, NULL, err);
    if (rc == RDM_OK)
        rc = rdm_db_exec(l->db, RDM_SQL_MONITOR_PACK_PENDING, 0, NULL, err);
    if (rc == RDM_OK)
        rc = rdm_db_commit(l->db, err);
    if (rc != RDM_OK)
        rdm_db_rollback(l->db);
    return rc;
}

/* ---- spill files ---- */

static void spill_name(const rdm_predlog *l, char *out, size_t n, const char *suffix)
{
    snprintf(out, n, "%s/predlog-%d%s", l->cfg->monitor.spill_dir, (int)getpid(), suffix);
}

/* Append entries (`rows` predictions) to the own spill file; past the size
 * limit they are dropped. Thread-safe. */
static void spill_append(rdm_predlog *l, const char *data, size_t n, uint64_t rows)
{
    if (!n)
        return;
    pthread_mutex_lock(&l->spill_mu);
    int ok = 0;
    if (l->spill_fd < 0) {
        rdm_err err = {0};
        if (rdm_mkdirs(l->cfg->monitor.spill_dir, &err) == RDM_OK)
            l->spill_fd = open(l->spill_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        struct stat st;
        l->spill_bytes = l->spill_fd >= 0 && fstat(l->spill_fd, &st) == 0 ? (long)st.st_size : 0;
    }
    if (l->spill_fd >= 0 && l->spill_bytes + (long)n <= l->cfg->monitor.spill_max_bytes) {
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(l->spill_fd, data + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        l->spill_bytes += (long)done;
        // a short write leaves a torn entry that replay stops at: count all as dropped
        ok = done == n;
    }
    pthread_mutex_unlock(&l->spill_mu);
    if (ok) {
        atomic_fetch_add(&l->c->spilled, rows);
        l->raw_spilled = 1;
        return;
    }
    atomic_fetch_add(&l->c->dropped, rows);
    int64_t t = now_us();
    if (t - l->warn_us > 10000000) {
        l->warn_us = t;
        rdm_log(RDM_LOG_WARN,
                "predlog: dropping prediction records: spill file %s full (monitor.spill_max_bytes "
                "%ld) or not writable; dropped so far %llu",
                l->spill_path, l->cfg->monitor.spill_max_bytes,
                (unsigned long long)atomic_load(&l->c->dropped));
    }
}

/* A refusal the same records would meet again: their data (SQLSTATE class
 * 22), a constraint (23) or a limit (54), on a connection that still works.
 * Anything else (the connection, resources, locks, the server's state, a
 * schema every record would meet) is an outage: retried. */
static int refused_for_data(const rdm_predlog *l)
{
    const char *s = rdm_db_sqlstate(l->db);
    return rdm_db_ok(l->db) &&
           (!strncmp(s, "22", 2) || !strncmp(s, "23", 2) || !strncmp(s, "54", 2));
}

/* Set the entry (or with `row`, the batch row of a queue file)
 * bytes[0..len), at byte `off` of the file `path`, aside: written to <spill_dir>/poison/ as a file of its
 * own (an entry as spill files hold them; a row as a binary COPY file of
 * monitor.prediction_batches) with a ".reason" file beside it, then, when it
 * came from the file `path`, marked there so that no later replay sends it
 * again (a NULL path: the writer found it before sending it); counted and
 * logged. Returns 0 when it could not be written (then it stays). */
static int set_aside(rdm_predlog *l, const char *path, uint64_t off, const char *bytes, size_t len,
                     uint64_t rows, const char *reason, int row)
{
    char dir[1100], file[1200], why[1300], msg[128];
    snprintf(dir, sizeof dir, "%s/poison", l->cfg->monitor.spill_dir);
    snprintf(file, sizeof file, "%s/predlog-%d-%lld-%u.%s", dir, (int)getpid(), (long long)now_us(),
             l->aside_no++, row ? "copy" : "spill");
    snprintf(why, sizeof why, "%s.reason", file);
    rdm_buf text = RDM_BUF_INIT, copy = RDM_BUF_INIT;
    rdm_err err = {0};
    int ok = (path ? rdm_buf_printf(
                         &text, "refused by the database: %s\n%llu records, from %s at byte %zu\n",
                         reason, (unsigned long long)rows, path, (size_t)off)
                   : rdm_buf_printf(&text, "not stored: %s\n%llu records, as served\n", reason,
                                    (unsigned long long)rows)) == RDM_OK;
    if (ok && row)
        ok = rdm_predbatch_frame(&copy, 0) == RDM_OK && rdm_buf_add(&copy, bytes, len) == RDM_OK &&
             rdm_predbatch_frame(&copy, 1) == RDM_OK;
    ok = ok && rdm_mkdirs(dir, &err) == RDM_OK &&
         rdm_write_file_atomic(file, row ? copy.data : bytes, row ? copy.len : len, &err) ==
             RDM_OK &&
         rdm_write_file_atomic(why, text.data, text.len, &err) == RDM_OK;
    rdm_buf_release(&text);
    rdm_buf_release(&copy);
    if (!ok) {
        rdm_log(RDM_LOG_WARN, "predlog: cannot set %llu refused records aside in %s: %s",
                (unsigned long long)rows, dir, err.msg[0] ? err.msg : "out of memory");
        return 0;
    }
    if (path) {
        const uint32_t aside = RDM_PREDENTRY_ASIDE;
        rdm_predbatch_row r;
        const unsigned aside_nf = rdm_predbatch_aside_mark(
            row && rdm_predbatch_row_scan(bytes, len, &r) == 1 ? r.fields : RDM_PREDBATCH_FIELDS);
        const unsigned char mark[2] = {(unsigned char)(aside_nf >> 8), aside_nf & 0xff};
        size_t k = row ? sizeof mark : sizeof aside;
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || pwrite(fd, row ? (const void *)mark : (const void *)&aside, k, (off_t)off) !=
                          (ssize_t)k)
            rdm_log(RDM_LOG_WARN, "predlog: %s: cannot mark the entry at byte %zu set aside: %s",
                    path, (size_t)off, rdm_errno_text(errno, msg, sizeof msg));
        if (fd >= 0)
            close(fd);
    }
    atomic_fetch_add(&l->c->set_aside, rows);
    rdm_log(RDM_LOG_WARN, "predlog: %llu records %s set aside in %s: %s", (unsigned long long)rows,
            path ? "refused by the database" : "that cannot be stored", file, reason);
    return 1;
}

/* An entry the writer cannot store (rdm_predentry_format): set aside. */
static int aside_unstorable(void *ctx, const char *bytes, size_t len, uint64_t rows,
                            const char *why)
{
    return set_aside(ctx, NULL, 0, bytes, len, rows, why, 0);
}

/* The entries of data[start..end) one transaction each (a chunk the
 * database refused for its data): the refused ones are set aside, the rest
 * stored; *stored gets the rows sent. An outage returns its error. */
static int replay_each(rdm_predlog *l, const char *path, const char *data, size_t start, size_t end,
                       uint64_t *stored, rdm_err *err)
{
    rdm_buf rows = RDM_BUF_INIT;
    int rc = RDM_OK;
    rdm_predentry v;
    for (size_t off = start; rc == RDM_OK && off < end; off += v.h.len) {
        if (!rdm_predentry_parse(data + off, end - off, &v))
            break; /* cannot happen: the chunk was read before */
        uint64_t n = 0, bad = 0;
        rdm_err e = {0};
        rdm_buf_reset(&rows);
        int refused = 0;
        rc = rdm_predentry_format(data + off, v.h.len, NULL, &rows, &n, &bad, NULL, NULL);
        if (rc == RDM_OK) {
            rc = send_idempotent(l, &rows, &e);
            refused = rc != RDM_OK && refused_for_data(l);
        }
        if (refused && set_aside(l, path, off, data + off, v.h.len, v.h.rows, e.msg, 0))
            rc = RDM_OK;
        else if (rc == RDM_OK)
            *stored += n;
        if (rc == RDM_OK)
            atomic_fetch_add(&l->c->dropped, bad);
        else
            rdm_errf(err, rc, "%s", e.msg);
    }
    rdm_buf_release(&rows);
    return rc;
}

/* ---- formatted batches: live, from the queue file, set aside ---- */

/* Predictions in the queued rows rows[0..len) not set aside. */
static uint64_t rows_total(const char *rows, size_t len)
{
    uint64_t total = 0;
    for (size_t off = 0; off < len;) {
        rdm_predbatch_row r;
        if (rdm_predbatch_row_scan(rows + off, len - off, &r) != 1)
            break;
        off += r.len;
        total += r.aside ? 0 : r.n;
    }
    return total;
}

/* A COPY of queued rows rows[0..len) (`total` predictions, rows_total()),
 * each given its prediction ids (a range reserved for all of them first, in
 * row order); rows marked set aside are left out. The rows are sent from
 * where they lie, each as its field count, its bytes and its ids (built in
 * `ids`), between the stream's header and trailer. */
static int copy_framed(rdm_db *db, const char *rows, size_t len, uint64_t total, rdm_buf *ids,
                       rdm_err *err)
{
    if (!total)
        return RDM_OK;
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)total);
    const char *p[] = {n};
    rdm_res *res = rdm_db_query(db, RDM_SQL_PREDLOG_RESERVE_IDS, 1, p, err);
    if (!res)
        return RDM_EDB;
    int64_t id = (int64_t)rdm_res_ll(res, 0, "first");
    int rc = rdm_res_check(res, err);
    rdm_res_free(res);
    if (rc != RDM_OK)
        return rc;
    rdm_buf_reset(ids);
    if (rdm_predbatch_frame(ids, 0) != RDM_OK)
        return rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
    rc = rdm_db_copy_in_begin(db, RDM_SQL_MONITOR_COPY_PREDICTIONS, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_put(db, ids->data, ids->len, err);
    for (size_t off = 0; rc == RDM_OK && off < len;) {
        rdm_predbatch_row r;
        if (rdm_predbatch_row_scan(rows + off, len - off, &r) != 1)
            break;
        if (!r.aside) {
            rdm_buf_reset(ids);
            if (rdm_predbatch_ids_field(ids, r.n, id) != RDM_OK)
                rc = rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
            id += r.n;
            unsigned char count[2];
            const unsigned char *gap;
            size_t gap_len;
            rdm_predbatch_send_shape(&r, count, &gap, &gap_len);
            if (rc == RDM_OK)
                rc = rdm_db_copy_put(db, (const char *)count, sizeof count, err);
            if (rc == RDM_OK)
                rc = rdm_db_copy_put(db, rows + off + 2, r.len - 2, err);
            if (rc == RDM_OK && gap_len)
                rc = rdm_db_copy_put(db, (const char *)gap, gap_len, err);
            if (rc == RDM_OK)
                rc = rdm_db_copy_put(db, ids->data, ids->len, err);
        }
        off += r.len;
    }
    if (rc == RDM_OK) {
        rdm_buf_reset(ids);
        if (rdm_predbatch_frame(ids, 1) != RDM_OK)
            rc = rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
    }
    if (rc == RDM_OK)
        rc = rdm_db_copy_put(db, ids->data, ids->len, err);
    if (rc == RDM_OK)
        return rdm_db_copy_end(db, NULL, err);
    rdm_db_copy_end(db, "aborted", NULL);
    return rc;
}

typedef struct seq_range {
    const char *w; /* the writer (in the rows sent) */
    size_t wn;
    uint64_t lo, hi;
} seq_range;

/* The ranges writer w[0..wn) has stored ending in [lo, hi] into *out (*n). */
static int stored_ranges(rdm_predlog *l, const char *w, size_t wn, uint64_t lo, uint64_t hi,
                         seq_range **out, size_t *n, rdm_err *err)
{
    char writer[128], a[24], b[24];
    snprintf(writer, sizeof writer, "%.*s", (int)(wn < 127 ? wn : 127), w);
    snprintf(a, sizeof a, "%llu", (unsigned long long)lo);
    snprintf(b, sizeof b, "%llu", (unsigned long long)hi);
    const char *p[] = {writer, a, b};
    if (rdm_db_exec(l->db, RDM_SQL_PREDLOG_LOCK_WRITER, 1, p, err) != RDM_OK)
        return RDM_EDB;
    rdm_res *r = rdm_db_query(l->db, RDM_SQL_PREDLOG_STORED_RANGES, 3, p, err);
    if (!r)
        return RDM_EDB;
    int rows = rdm_res_rows(r);
    seq_range *g = rows ? realloc(*out, (*n + (size_t)rows) * sizeof *g) : *out;
    if (rows && !g) {
        rdm_res_free(r);
        return rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
    }
    *out = g;
    for (int i = 0; i < rows; i++)
        g[(*n)++] = (seq_range){w, wn, (uint64_t)rdm_res_ll(r, i, "seq_lo"),
                                (uint64_t)rdm_res_ll(r, i, "seq_hi")};
    int rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}

/* Queued rows rows[0..len) (whole rows) stored once each: in one
 * transaction, the rows no batch of the same writer and seq range holds yet,
 * in one COPY. The writer that queued them knows what it sent; the check is
 * for a crash between a COMMIT and the queue file's offset being written,
 * and for files replayed twice. *present gets the predictions stored before. */
static int send_checked(rdm_predlog *l, const char *rows, size_t len, rdm_buf *frame,
                        uint64_t *present, rdm_err *err)
{
    *present = 0;
    uint64_t kept = 0; /* predictions in keep */
    seq_range *have = NULL;
    size_t nhave = 0;
    rdm_buf keep = RDM_BUF_INIT;
    int rc = rdm_db_begin(l->db, err);
    // each writer's seq span in these rows, then what it stored in that span
    const char *w = NULL;
    size_t wn = 0;
    for (size_t off = 0; rc == RDM_OK && off < len;) {
        rdm_predbatch_row r;
        if (rdm_predbatch_row_scan(rows + off, len - off, &r) != 1)
            break;
        off += r.len;
        if (r.aside || (w && wn == r.writer_len && !memcmp(w, r.writer, wn)))
            continue;
        w = r.writer;
        wn = r.writer_len;
        uint64_t lo = r.seq_hi, hi = r.seq_hi;
        for (size_t o2 = off; o2 < len;) {
            rdm_predbatch_row s;
            if (rdm_predbatch_row_scan(rows + o2, len - o2, &s) != 1)
                break;
            o2 += s.len;
            if (s.writer_len == wn && !memcmp(s.writer, w, wn)) {
                lo = s.seq_hi < lo ? s.seq_hi : lo;
                hi = s.seq_hi > hi ? s.seq_hi : hi;
            }
        }
        rc = stored_ranges(l, w, wn, lo, hi, &have, &nhave, err);
    }
    for (size_t off = 0; rc == RDM_OK && off < len;) {
        rdm_predbatch_row r;
        if (rdm_predbatch_row_scan(rows + off, len - off, &r) != 1)
            break;
        int stored = 0;
        for (size_t i = 0; !r.aside && !stored && i < nhave; i++)
            stored = have[i].lo == r.seq_lo && have[i].hi == r.seq_hi &&
                     have[i].wn == r.writer_len && !memcmp(have[i].w, r.writer, r.writer_len);
        if (stored)
            *present += r.n;
        if (!stored && !r.aside && rdm_buf_add(&keep, rows + off, r.len) != RDM_OK)
            rc = rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
        kept += stored || r.aside ? 0 : r.n;
        off += r.len;
    }
    if (rc == RDM_OK)
        rc = copy_framed(l->db, keep.data, keep.len, kept, frame, err);
    if (rc == RDM_OK)
        rc = rdm_db_commit(l->db, err);
    if (rc != RDM_OK)
        rdm_db_rollback(l->db);
    free(have);
    rdm_buf_release(&keep);
    return rc;
}

/* Send queued rows rows[0..len): `checked` through send_checked (from a queue
 * file), else as they are. Rows the database refuses for their data are then
 * sent one by one and the refused ones set aside (marked in `path`, the file
 * they are at `base` in, when there is one). *stored gets the predictions
 * stored (present before included); an outage returns its error. */
static int send_rows(rdm_predlog *l, const char *rows, size_t len, int checked, const char *path,
                     uint64_t base, rdm_buf *frame, uint64_t *stored, rdm_err *err)
{
    uint64_t present = 0, total = rows_total(rows, len);
    *stored = 0;
    int rc = checked ? send_checked(l, rows, len, frame, &present, err)
                     : copy_framed(l->db, rows, len, total, frame, err);
    if (rc == RDM_OK) {
        *stored = total;
        return rc;
    }
    if (!refused_for_data(l))
        return rc;
    for (size_t off = 0; off < len;) {
        rdm_predbatch_row r;
        if (rdm_predbatch_row_scan(rows + off, len - off, &r) != 1)
            break;
        if (!r.aside) {
            rdm_err e = {0};
            rc = checked ? send_checked(l, rows + off, r.len, frame, &present, &e)
                         : copy_framed(l->db, rows + off, r.len, r.n, frame, &e);
            if (rc == RDM_OK)
                *stored += r.n;
            else if (!(refused_for_data(l) &&
                       set_aside(l, path, base + off, rows + off, r.len, r.n, e.msg, 1)))
                return rdm_errf(err, rc, "%s", e.msg);
        }
        off += r.len;
    }
    return RDM_OK;
}

/* Replay a queue file another writer left (its pid is gone): the rows after
 * its stored offset, SEND_MAX bytes at a time. *stored gets the predictions. */
static int replay_queue_file(rdm_predlog *l, const char *path, const rdm_buf *data,
                             uint64_t *stored, rdm_err *err)
{
    rdm_buf frame = RDM_BUF_INIT;
    size_t off = rdm_predq_file_rows(data->data, data->len);
    int rc = RDM_OK;
    while (rc == RDM_OK && off < data->len) {
        size_t start = off;
        rdm_predbatch_row r;
        int k = 0;
        while (off < data->len && (off == start || off - start < SEND_MAX) &&
               (k = rdm_predbatch_row_scan(data->data + off, data->len - off, &r)) == 1)
            off += r.len;
        if (off == start) { // torn tail (killed mid-write): nothing more to read
            if (k < 0)
                rdm_log(RDM_LOG_WARN, "predlog: %s: %zu unreadable bytes at the end skipped", path,
                        data->len - off);
            break;
        }
        uint64_t n = 0;
        rc = send_rows(l, data->data + start, off - start, 1, path, start, &frame, &n, err);
        if (rc == RDM_OK)
            *stored += n;
    }
    rdm_buf_release(&frame);
    return rc;
}

/* Store the entries of one spill file in chunks, each chunk one transaction
 * (a chunk refused for its data entry by entry, see replay_each); *stored
 * gets the rows sent (already present ones included). */
static int replay_file(rdm_predlog *l, const char *path, uint64_t *stored, rdm_err *err)
{
    rdm_buf data = RDM_BUF_INIT, rows = RDM_BUF_INIT;
    int rc = rdm_read_file(path, &data, err);
    *stored = 0;
    if (rc == RDM_OK && rdm_predq_file_rows(data.data, data.len)) { // formatted rows
        rc = replay_queue_file(l, path, &data, stored, err);
        rdm_buf_release(&data);
        return rc;
    }
    size_t off = 0;
    size_t chunk_rows = (size_t)l->cfg->monitor.batch_records * 10;
    while (rc == RDM_OK && off < data.len) {
        size_t start = off, nrows = 0;
        rdm_predentry v;
        while (off < data.len && nrows < chunk_rows &&
               rdm_predentry_parse(data.data + off, data.len - off, &v)) {
            off += v.h.len;
            nrows += v.h.rows;
        }
        if (off == start) { // torn tail (killed mid-write): nothing more to read
            rdm_log(RDM_LOG_WARN, "predlog: %s: %zu unreadable bytes at the end skipped", path,
                    data.len - off);
            break;
        }
        uint64_t n = 0, bad = 0;
        rdm_err e = {0};
        rdm_buf_reset(&rows);
        int refused = 0;
        rc =
            rdm_predentry_format(data.data + start, off - start, NULL, &rows, &n, &bad, NULL, NULL);
        if (rc == RDM_OK) {
            rc = send_idempotent(l, &rows, &e);
            refused = rc != RDM_OK && refused_for_data(l);
        }
        if (rc == RDM_OK) {
            *stored += n;
            atomic_fetch_add(&l->c->dropped, bad);
        } else if (refused) {
            rc = replay_each(l, path, data.data, start, off, stored, err);
        } else {
            rdm_errf(err, rc, "%s", e.msg);
        }
    }
    rdm_buf_release(&data);
    rdm_buf_release(&rows);
    return rc;
}

static int pid_alive(int pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/* 1 when the file at `path` is a queue file (formatted rows). */
static int is_queue_file(const char *path)
{
    char head[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int yes = fd >= 0 && read(fd, head, sizeof head) == (ssize_t)sizeof head &&
              !memcmp(head, RDM_PREDQ_MAGIC, sizeof head);
    if (fd >= 0)
        close(fd);
    return yes;
}

/* Rename every spill and queue file whose writer is gone to a "replay" name
 * this process owns: queue files first, so that they are replayed before
 * the spill files of entries (a writer killed while it moved its spill file
 * into its queue file leaves some records in both: stored from the queue
 * file first, the spill file's replay leaves them out by request id). The
 * own files are the writer's and the sender's. */
static void claim_spills(rdm_predlog *l)
{
    char to[1100], suffix[48];
    for (int pass = 0; pass < 2; pass++) {
        DIR *d = opendir(l->cfg->monitor.spill_dir);
        if (!d)
            return;
        struct dirent *de;
        while ((de = readdir(d))) {
            int pid = 0, n = 0;
            if (sscanf(de->d_name, "predlog-%d%n", &pid, &n) != 1 || pid == (int)getpid() ||
                pid_alive(pid))
                continue;
            char from[1100];
            snprintf(from, sizeof from, "%s/%s", l->cfg->monitor.spill_dir, de->d_name);
            if (is_queue_file(from) != (pass == 0))
                continue;
            snprintf(suffix, sizeof suffix, "-%06u.replay", l->replay_no++);
            spill_name(l, to, sizeof to, suffix);
            if (rename(from, to) == 0) // a peer may have claimed it first: then it is theirs
                rdm_log(RDM_LOG_INFO, "predlog: claimed %s of gone process %d", from, pid);
        }
        closedir(d);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay our claimed files in name order. Returns 0 when the database failed. */
static int replay_spills(rdm_predlog *l)
{
    claim_spills(l);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "predlog-%d-", (int)getpid());
    DIR *d = opendir(l->cfg->monitor.spill_dir);
    if (!d) {
        l->spill_pending = 0;
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, prefix, strlen(prefix)) || len < 7 ||
            strcmp(de->d_name + len - 7, ".replay"))
            continue;
        if (n == cap) {
            char **g = realloc(names, (cap ? cap * 2 : 8) * sizeof *g);
            if (!g)
                break;
            names = g;
            cap = cap ? cap * 2 : 8;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", l->cfg->monitor.spill_dir, names[i]);
        uint64_t stored = 0;
        rdm_err err = {0};
        if (ok && replay_file(l, path, &stored, &err) == RDM_OK) {
            atomic_fetch_add(&l->c->replayed, stored);
            unlink(path);
            rdm_log(RDM_LOG_INFO, "predlog: replayed %llu records from %s",
                    (unsigned long long)stored, path);
        } else if (ok) {
            rdm_log(RDM_LOG_WARN, "predlog: replay of %s: %s", path, err.msg);
            ok = 0;
        }
        free(names[i]);
    }
    free(names);
    if (ok)
        l->spill_pending = 0;
    return ok;
}

/* ---- writer ---- */

/* A spill file to replay: ours, or one whose writer is gone (no database
 * needed to tell). */
static int spill_files_present(const rdm_predlog *l)
{
    DIR *d = opendir(l->cfg->monitor.spill_dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        int pid = 0, n = 0;
        if (sscanf(de->d_name, "predlog-%d%n", &pid, &n) != 1)
            continue;
        // the own queue and spill files are the writer's and the sender's;
        // claimed files not replayed yet are "-NNNNNN.replay"
        size_t k = strlen(de->d_name);
        found = pid == (int)getpid() ? k > 7 && !strcmp(de->d_name + k - 7, ".replay")
                                     : !pid_alive(pid);
        (void)n;
    }
    closedir(d);
    return found;
}

/* Served time of the oldest record not stored yet, for the lag gauge: the
 * queue's head, else the batch being formatted, else the buffer's head. */
static void refresh_oldest(rdm_predlog *l)
{
    pthread_mutex_lock(&l->mu);
    pthread_mutex_lock(&l->qmu);
    int64_t t = l->inflight_us; // older than what is queued
    if (!t)
        t = rdm_predq_oldest(&l->q);
    if (!t)
        t = l->fmt_oldest_us;
    if (!t && l->active.len >= sizeof(rdm_predentry_hdr)) {
        rdm_predentry_hdr first;
        memcpy(&first, l->active.data, sizeof first);
        t = first.served_us;
    }
    atomic_store(&l->c->oldest_us, t);
    pthread_mutex_unlock(&l->qmu);
    pthread_mutex_unlock(&l->mu);
}

static void warn_dropped(rdm_predlog *l, const char *where)
{
    int64_t t = now_us();
    if (t - l->warn_us > 10000000) {
        l->warn_us = t;
        rdm_log(
            RDM_LOG_WARN,
            "predlog: dropping prediction records: %s full (monitor.spill_max_bytes %ld) or not "
            "writable; dropped so far %llu",
            where, l->cfg->monitor.spill_max_bytes,
            (unsigned long long)atomic_load(&l->c->dropped));
    }
}

/* The database is away (qmu held): what waits in memory goes to the queue
 * file (when that keeps the order, or `force`), new batches go there too. */
static void queue_unhealthy(rdm_predlog *l, int force)
{
    l->healthy = 0;
    uint64_t moved = 0, dropped = 0;
    rdm_err err = {0};
    if (rdm_predq_spill_mem(&l->q, force, &moved, &dropped, &err) != RDM_OK)
        rdm_log(RDM_LOG_WARN, "%s", err.msg);
    atomic_fetch_add(&l->c->spilled, moved);
    atomic_fetch_add(&l->c->dropped, dropped);
    if (dropped)
        warn_dropped(l, l->q.path);
}

/* Writer thread: the buffered entries of `batch` as batch rows, queued. */
static void enqueue(rdm_predlog *l, const char *data, size_t len, uint64_t nrows, int64_t oldest,
                    int spilled, rdm_buf *rows)
{
    if (!len)
        return;
    uint64_t n = 0, bad = 0;
    rdm_buf_reset(rows);
    int rc = rdm_predentry_format(data, len, &l->pb, rows, &n, &bad, aside_unstorable, l);
    atomic_fetch_add(&l->c->dropped, bad);
    if (rc != RDM_OK && !spilled) { // out of memory: the entries go to the spill file as they are
        rdm_log(RDM_LOG_WARN, "predlog: cannot format %llu records; spilling them",
                (unsigned long long)nrows);
        spill_append(l, data, len, nrows - bad);
        return;
    }
    if (rc != RDM_OK) {
        atomic_fetch_add(&l->c->dropped, nrows - bad);
        rdm_log(RDM_LOG_WARN, "predlog: cannot format %llu spilled records: dropped",
                (unsigned long long)nrows);
        return;
    }
    if (!n || !rows->len)
        return;
    rdm_err err = {0};
    int to_file = 0;
    pthread_mutex_lock(&l->qmu);
    // in memory the rows buffer itself is queued (*rows gets a free one)
    rc = rdm_predq_push_buf(&l->q, rows, n, oldest, l->healthy && !spilled, &to_file, &err);
    pthread_cond_signal(&l->qwake);
    pthread_mutex_unlock(&l->qmu);
    if (rc == RDM_OK) {
        if (to_file && !spilled) // spilled ones were counted when they were
            atomic_fetch_add(&l->c->spilled, n);
        return;
    }
    atomic_fetch_add(&l->c->dropped, n);
    if (rc != RDM_ESTATE)
        rdm_log(RDM_LOG_WARN, "%s", err.msg);
    warn_dropped(l, l->q.path);
}

/* Writer thread: entries the serving threads spilled while the buffer was
 * full, formatted and queued in the queue file (the order they had among
 * the others is not kept; they are told apart by request id). The file is
 * renamed first (".taking": a later writer replays it if this one dies
 * before it is done, leaving out what reached the database). */
static void take_spilled(rdm_predlog *l, rdm_buf *data, rdm_buf *rows)
{
    if (!atomic_exchange(&l->raw_spilled, 0))
        return;
    char taking[1100], msg[128];
    spill_name(l, taking, sizeof taking, ".taking");
    pthread_mutex_lock(&l->spill_mu);
    if (l->spill_fd >= 0)
        close(l->spill_fd);
    l->spill_fd = -1;
    int moved = rename(l->spill_path, taking) == 0;
    pthread_mutex_unlock(&l->spill_mu);
    rdm_err err = {0};
    rdm_buf_reset(data);
    if (!moved || rdm_read_file(taking, data, &err) != RDM_OK) {
        if (!moved && errno != ENOENT)
            rdm_log(RDM_LOG_WARN, "predlog: rename %s: %s", l->spill_path,
                    rdm_errno_text(errno, msg, sizeof msg));
        else if (moved)
            rdm_log(RDM_LOG_WARN, "%s", err.msg);
        return;
    }
    size_t off = 0, chunk = (size_t)l->cfg->monitor.buffer_bytes;
    while (off < data->len) {
        size_t start = off;
        uint64_t n = 0;
        rdm_predentry v;
        while (off < data->len && off - start < chunk &&
               rdm_predentry_parse(data->data + off, data->len - off, &v)) {
            off += v.h.len;
            n += v.aside ? 0 : v.h.rows;
        }
        if (off == start) {
            rdm_log(RDM_LOG_WARN, "predlog: %s: %zu unreadable bytes at the end skipped", taking,
                    data->len - off);
            break;
        }
        rdm_predentry_hdr first;
        memcpy(&first, data->data + start, sizeof first);
        enqueue(l, data->data + start, off - start, n, first.served_us, 1, rows);
    }
    unlink(taking);
    rdm_buf_reset(data);
}

/* Writer thread, on a flush: until what is queued in memory is stored, or
 * the database is away (then it is in the queue file). */
static void wait_sent(rdm_predlog *l)
{
    pthread_mutex_lock(&l->qmu);
    while ((l->q.nmem || l->inflight) && l->healthy && l->sender_alive)
        pthread_cond_wait(&l->qdone, &l->qmu);
    pthread_mutex_unlock(&l->qmu);
}

/* The log's threads take no signal: signals belong to the serving threads. */
static void block_signals(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
}

/* The writer thread formats: entries of the buffer to batch rows, queued for
 * the sender; it never waits for the database but on a flush. */
static void *writer_main(void *arg)
{
    rdm_predlog *l = arg;
    rdm_buf batch = RDM_BUF_INIT, rows = RDM_BUF_INIT;
    block_signals();
    for (;;) {
        pthread_mutex_lock(&l->mu);
        if (!l->stop && l->active_rows < (uint64_t)l->cfg->monitor.batch_records &&
            l->flush_gen == l->flushed_gen) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long ns = ts.tv_nsec + (long)l->cfg->monitor.flush_ms * 1000000L;
            ts.tv_sec += ns / 1000000000L;
            ts.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&l->wake, &l->mu, &ts);
        }
        rdm_buf tmp = l->active;
        l->active = batch;
        batch = tmp;
        uint64_t nrows = l->active_rows;
        l->active_rows = 0;
        uint64_t gen = l->flush_gen;
        int stop = l->stop;
        int64_t oldest = 0;
        if (batch.len >= sizeof(rdm_predentry_hdr)) {
            rdm_predentry_hdr first;
            memcpy(&first, batch.data, sizeof first);
            oldest = first.served_us;
        }
        pthread_mutex_lock(&l->qmu);
        l->fmt_oldest_us = oldest;
        pthread_mutex_unlock(&l->qmu);
        pthread_mutex_unlock(&l->mu);
        enqueue(l, batch.data, batch.len, nrows, oldest, 0, &rows);
        rdm_buf_reset(&batch);
        take_spilled(l, &batch, &rows);
        pthread_mutex_lock(&l->qmu);
        l->fmt_oldest_us = 0;
        pthread_mutex_unlock(&l->qmu);
        refresh_oldest(l);
        pthread_mutex_lock(&l->mu);
        int flushing = gen != l->flushed_gen;
        pthread_mutex_unlock(&l->mu);
        if (flushing || stop)
            wait_sent(l);
        pthread_mutex_lock(&l->mu);
        l->flushed_gen = gen;
        pthread_cond_broadcast(&l->done);
        int empty = l->active.len == 0;
        pthread_mutex_unlock(&l->mu);
        if (stop && empty)
            break;
    }
    rdm_buf_release(&batch);
    rdm_buf_release(&rows);
    return NULL;
}

/* Sender thread: one span of the queue. Returns the send's result. */
static int send_span(rdm_predlog *l, rdm_buf *data, const rdm_predq_span *sp, rdm_buf *frame,
                     rdm_err *err)
{
    uint64_t stored = 0;
    int rc = send_rows(l, data->data, data->len, sp->from_file, sp->from_file ? l->q.path : NULL,
                       sp->off, frame, &stored, err);
    if (rc == RDM_OK) {
        atomic_fetch_add(sp->from_file ? &l->c->replayed : &l->c->logged, stored);
        atomic_store(&l->c->last_ok_us, l->last_send_us = now_us());
    }
    return rc;
}

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(us % 1000000) * 1000L;
    ts.tv_sec += (time_t)(us / 1000000) + ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(c, m, &ts);
}

/* The sender thread: the queue to the database, oldest first (memory, then
 * the queue file, each with one COPY); spill files of other kinds (entries
 * spilled by the serving threads, files of writers that are gone) between
 * two sends. */
static void *sender_main(void *arg)
{
    rdm_predlog *l = arg;
    rdm_buf data = RDM_BUF_INIT, frame = RDM_BUF_INIT;
    block_signals();
    l->spill_pending = 1; // files of a previous run may be waiting
    int64_t stop_by = 0;
    for (;;) {
        int64_t t = now_us();
        pthread_mutex_lock(&l->qmu);
        int qstop = l->qstop;
        pthread_mutex_unlock(&l->qmu);
        // (at stop, only what is known to be pending: a previous run's files)
        if (l->spill_pending || (!qstop && t >= l->next_scan_us)) {
            l->next_scan_us = t + SCAN_US;
            if ((l->spill_pending || spill_files_present(l)) && db_ready(l) && !replay_spills(l))
                db_drop(l);
        }
        pthread_mutex_lock(&l->qmu);
        if (rdm_predq_empty(&l->q)) {
            if (l->qstop) {
                pthread_mutex_unlock(&l->qmu);
                break;
            }
            timed_wait(&l->qwake, &l->qmu, 100000);
            int idle = rdm_predq_empty(&l->q);
            pthread_mutex_unlock(&l->qmu);
            // an idle worker holds no connection (the host's one is the model follower's)
            if (idle && l->db && now_us() - l->last_send_us > IDLE_US && !l->spill_pending) {
                rdm_db_close(l->db);
                l->db = NULL;
                l->next_try_us = 0;
            }
            continue;
        }
        pthread_mutex_unlock(&l->qmu);
        int ready = db_ready(l);
        pthread_mutex_lock(&l->qmu);
        if (l->qstop && !stop_by)
            stop_by = now_us() + STOP_US;
        if (!ready || (l->qstop && now_us() > stop_by && !l->q.nmem)) {
            // away: memory to the file; at stop everything left goes there
            // (a later writer replays it)
            queue_unhealthy(l, l->qstop);
            pthread_cond_broadcast(&l->qdone);
            if (l->qstop && !l->q.nmem) {
                pthread_mutex_unlock(&l->qmu);
                break;
            }
            timed_wait(&l->qwake, &l->qmu, RETRY_US);
            pthread_mutex_unlock(&l->qmu);
            continue;
        }
        l->healthy = 1;
        rdm_predq_span sp;
        rdm_err err = {0};
        int got = rdm_predq_take(&l->q, SEND_MAX, &data, &sp, &err);
        l->inflight = got > 0;
        l->inflight_us = got > 0 ? sp.oldest_us : 0;
        pthread_mutex_unlock(&l->qmu);
        if (got < 0) {
            rdm_log(RDM_LOG_WARN, "%s", err.msg);
            pthread_mutex_lock(&l->qmu);
            timed_wait(&l->qwake, &l->qmu, RETRY_US);
            pthread_mutex_unlock(&l->qmu);
            continue;
        }
        if (!got)
            continue;
        int rc = send_span(l, &data, &sp, &frame, &err);
        pthread_mutex_lock(&l->qmu);
        l->inflight = 0;
        l->inflight_us = 0;
        if (rc == RDM_OK) {
            rdm_predq_done(&l->q, &sp);
        } else {
            if (rdm_predq_putback(&l->q, &data, &sp) != RDM_OK) {
                atomic_fetch_add(&l->c->dropped, sp.rows);
                warn_dropped(l, "memory");
            }
            queue_unhealthy(l, 0);
        }
        pthread_cond_broadcast(&l->qdone);
        pthread_mutex_unlock(&l->qmu);
        if (rc != RDM_OK) {
            rdm_log(RDM_LOG_WARN, "predlog: sending %llu records: %s; %s",
                    (unsigned long long)sp.rows, err.msg,
                    sp.from_file ? "they stay in the queue file" : "queued in the file");
            db_drop(l);
        }
        refresh_oldest(l);
    }
    pthread_mutex_lock(&l->qmu);
    l->sender_alive = 0;
    pthread_cond_broadcast(&l->qdone);
    pthread_mutex_unlock(&l->qmu);
    rdm_buf_release(&data);
    rdm_buf_release(&frame);
    rdm_db_close(l->db);
    l->db = NULL;
    return NULL;
}

rdm_predlog *rdm_predlog_start(const rdm_config *cfg, rdm_predlog_counters *counters, rdm_err *err)
{
    rdm_predlog *l = calloc(1, sizeof *l);
    if (!l) {
        rdm_errf(err, RDM_ENOMEM, "predlog: out of memory");
        return NULL;
    }
    l->cfg = cfg;
    l->c = counters ? counters : &l->own;
    l->spill_fd = -1;
    l->boot_us = (uint64_t)now_us();
    l->pid = (int32_t)getpid();
    l->sample_state = l->boot_us ^ (uint64_t)getpid();
    spill_name(l, l->spill_path, sizeof l->spill_path, ".spill");
    char qpath[1100];
    spill_name(l, qpath, sizeof qpath, ".queue");
    // memory holds a few batches at most: a SIGKILL loses what is there
    size_t mem = (size_t)cfg->monitor.queue_memory_bytes;
    rdm_predq_init(&l->q, qpath, (uint64_t)cfg->monitor.spill_max_bytes, mem);
    l->healthy = 1; // until the sender finds otherwise
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->spill_mu, NULL);
    pthread_mutex_init(&l->qmu, NULL);
    pthread_cond_init(&l->wake, NULL);
    pthread_cond_init(&l->done, NULL);
    pthread_cond_init(&l->qwake, NULL);
    pthread_cond_init(&l->qdone, NULL);
    l->sender_alive = 1;
    if (pthread_create(&l->sender, NULL, sender_main, l) != 0) {
        l->sender_alive = 0;
        rdm_errf(err, RDM_EIO, "predlog: cannot start the sender thread");
        rdm_predlog_stop(l);
        return NULL;
    }
    l->sender_started = 1;
    if (pthread_create(&l->thread, NULL, writer_main, l) != 0) {
        rdm_errf(err, RDM_EIO, "predlog: cannot start the writer thread");
        rdm_predlog_stop(l);
        return NULL;
    }
    l->started = 1;
    return l;
}

/* splitmix64 step as a cheap uniform draw for sampling. */
static double sample_draw(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* Write the entry for `s` with header `h` at `q` (h->len bytes). */
static void write_entry(char *q, const rdm_predentry_hdr *h, const rdm_predlog_served *s)
{
    rdm_predentry_write(q, h, nz(s->model_name), nz(s->model_version), nz(s->alias), s->body,
                        s->response, s->layout);
}

void rdm_predlog_put(rdm_predlog *l, const rdm_predlog_served *s)
{
    if (!l || !s)
        return;
    uint32_t rows = rdm_predresp_rows(s->response, s->response_len);
    size_t nl = strnlen(nz(s->model_name), 1024), vl = strnlen(nz(s->model_version), 64),
           al = strnlen(nz(s->alias), 64);
    rdm_predentry_hdr h = {RDM_PREDENTRY_MAGIC,
                           0,
                           now_us(),
                           0,
                           l->pid,
                           s->latency_us,
                           l->boot_us,
                           rows,
                           (uint16_t)nl,
                           (uint16_t)vl,
                           (uint16_t)al,
                           0,
                           (uint32_t)s->body_len,
                           (uint32_t)s->response_len,
                           0};
    if (s->layout && s->layout_len && s->layout_len <= UINT32_MAX) {
        h.flags = RDM_PREDENTRY_LAYOUT;
        h.layout_len = (uint32_t)s->layout_len;
    }
    size_t need = rdm_predentry_size(&h);
    h.len = (uint32_t)need;
    pthread_mutex_lock(&l->mu);
    if (l->cfg->monitor.log_fraction < 1.0 &&
        sample_draw(&l->sample_state) >= l->cfg->monitor.log_fraction) {
        pthread_mutex_unlock(&l->mu);
        atomic_fetch_add(&l->c->sampled, rows);
        return;
    }
    h.seq = ++l->seq;
    atomic_fetch_add(&l->c->queued, rows);
    int full = l->active.len + need > (size_t)l->cfg->monitor.buffer_bytes ||
               rdm_buf_reserve(&l->active, need) != RDM_OK;
    if (!full) {
        write_entry(l->active.data + l->active.len, &h, s);
        l->active.len += need;
        l->active.data[l->active.len] = '\0';
        if (!atomic_load(&l->c->oldest_us))
            atomic_store(&l->c->oldest_us, h.served_us);
        l->active_rows += rows;
        if (l->active_rows >= (uint64_t)l->cfg->monitor.batch_records)
            pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->mu);
        return;
    }
    pthread_mutex_unlock(&l->mu);
    // buffer full: the writer is behind; this record goes to the spill file now
    char *tmp = malloc(need);
    if (!tmp) {
        atomic_fetch_add(&l->c->dropped, rows);
        return;
    }
    write_entry(tmp, &h, s);
    spill_append(l, tmp, need, rows);
    free(tmp);
}

void rdm_predlog_flush(rdm_predlog *l)
{
    if (!l || !l->started)
        return;
    pthread_mutex_lock(&l->mu);
    uint64_t gen = ++l->flush_gen;
    pthread_cond_signal(&l->wake);
    while (l->flushed_gen < gen)
        pthread_cond_wait(&l->done, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

void rdm_predlog_stop(rdm_predlog *l)
{
    if (!l)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    if (l->sender_started) { // what the writer queued, then the sender stops
        pthread_mutex_lock(&l->qmu);
        l->qstop = 1;
        pthread_cond_signal(&l->qwake);
        pthread_mutex_unlock(&l->qmu);
        pthread_join(l->sender, NULL);
    }
    if (l->spill_fd >= 0)
        close(l->spill_fd);
    rdm_buf_release(&l->active);
    rdm_predbatch_release(&l->pb);
    rdm_predq_release(&l->q);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->spill_mu);
    pthread_mutex_destroy(&l->qmu);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->done);
    pthread_cond_destroy(&l->qwake);
    pthread_cond_destroy(&l->qdone);
    free(l);
}

const rdm_predlog_counters *rdm_predlog_counters_get(const rdm_predlog *l)
{
    return l ? l->c : NULL;
}

int rdm_predlog_replay_orphans(const rdm_config *cfg, uint64_t *rows, rdm_err *err)
{
    rdm_predlog l;
    memset(&l, 0, sizeof l);
    l.cfg = cfg;
    l.c = &l.own;
    l.spill_fd = -1;
    pthread_mutex_init(&l.spill_mu, NULL);
    spill_name(&l, l.spill_path, sizeof l.spill_path, ".spill");
    *rows = 0;
    int rc = RDM_OK;
    if (!db_ready(&l))
        rc = rdm_errf(err, RDM_EDB, "predlog: cannot reach the database to replay spill files");
    else if (!replay_spills(&l))
        rc = rdm_errf(err, RDM_EDB, "predlog: replaying spill files failed (see the log)");
    *rows = atomic_load(&l.own.replayed);
    rdm_db_close(l.db);
    pthread_mutex_destroy(&l.spill_mu);
    return rc;
}
