/* ingest.c - source CSV -> raw.batches / raw.encounters / raw.rejects, one
 * transaction per batch, streaming (see ingest.h). */
#include "ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "csv.h"
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

/* State of one run. */
typedef struct run {
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
    char sha[65]; /* written by the thread, read after the join */
    int known;    /* sha256 and done set are known */
} run;

static void *sha_main(void *arg)
{
    run *r = arg;
    r->sha_rc = rdm_source_sha256(r->path, r->max_bytes, r->sha, NULL, &r->sha_err);
    return NULL;
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

/* Bytes that COPY text format escapes. */
static unsigned char ESC[256];

/* Append one accepted record as a COPY text line: batch_id, line_no, fields.
 * Same output as rdm_copy_escape() field by field, written in one pass. */
static int add_row(run *r, const char *prefix, size_t plen, const rdm_csv_record *rec)
{
    if (!ESC['\\'])
        ESC['\\'] = ESC['\t'] = ESC['\n'] = ESC['\r'] = 1;
    size_t need = plen + 24 + (size_t)rec->nfields * 2 + 2;
    for (int i = 0; i < rec->nfields; i++)
        need += rec->lens[i] * 2;
    if (rdm_buf_reserve(&r->copy, need))
        return RDM_ENOMEM;
    char *w = r->copy.data + r->copy.len;
    memcpy(w, prefix, plen);
    w += plen;
    w += snprintf(w, 24, "%ld", rec->line);
    for (int i = 0; i < rec->nfields; i++) {
        *w++ = '\t';
        const unsigned char *f = (const unsigned char *)rec->fields[i];
        size_t n = rec->lens[i], j = 0;
        while (j < n) {
            size_t s = j;
            while (j < n && !ESC[f[j]])
                j++;
            memcpy(w, f + s, j - s);
            w += j - s;
            if (j < n) {
                unsigned char c = f[j++];
                *w++ = '\\';
                *w++ = c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
            }
        }
    }
    *w++ = '\n';
    r->copy.len = (size_t)(w - r->copy.data);
    *w = '\0';
    return RDM_OK;
}

/* Load the next `n` records as batch number r->next_no, in one transaction. */
static int load_batch(run *r, unsigned long long n, rdm_err *err)
{
    int k = r->next_no;
    char bno[32], bfirst[32], num[64];
    snprintf(bno, sizeof bno, "%d", k);
    snprintf(bfirst, sizeof bfirst, "%llu", r->pos);
    int rc = rdm_db_begin(r->db, err);
    if (rc)
        return rc;
    const char *p[] = {rdm_source_name(r->src), r->st->sha256, bno, bfirst};
    rdm_res *res = rdm_db_query(r->db, RDM_SQL_RAW_INSERT_BATCH, 4, p, err);
    if (!res) {
        rdm_db_rollback(r->db);
        return RDM_EDB;
    }
    long long batch_id = rdm_res_ll(res, 0, "batch_id");
    rc = rdm_res_check(res, err);
    rdm_res_free(res);
    if (rc) {
        rdm_db_rollback(r->db);
        return rc;
    }
    char prefix[64];
    int plen = snprintf(prefix, sizeof prefix, "%lld\t", batch_id);

    rc = rdm_db_copy_in_begin(r->db, RDM_SQL_RAW_COPY_IN_ENCOUNTERS, err);
    if (rc) {
        rdm_db_rollback(r->db);
        return rc;
    }
    int in_copy = 1;
    rdm_buf_reset(&r->copy);
    rdm_buf_reset(&r->rej);
    long nread = 0, nacc = 0, nrej = 0, first = 0, last = 0;
    rdm_csv_record rec;
    while ((unsigned long long)nread < n) {
        rc = rdm_csv_next(r->csv, &rec, err);
        if (rc < 0)
            goto fail;
        if (rc == 0) {
            r->eof = 1;
            break;
        }
        if (nread == 0)
            first = rec.line;
        last = rec.last_line;
        nread++;
        r->st->rows_read++;
        if (rec.problem) {
            nrej++;
            r->st->rows_rejected++;
            if ((rc = add_reject(r, batch_id, &rec, num)) != RDM_OK) {
                rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
                goto fail;
            }
        } else {
            nacc++;
            r->st->rows_accepted++;
            if ((rc = add_row(r, prefix, (size_t)plen, &rec)) != RDM_OK) {
                rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
                goto fail;
            }
            if (r->copy.len >= COPY_FLUSH) {
                if ((rc = rdm_db_copy_put(r->db, r->copy.data, r->copy.len, err)) != RDM_OK)
                    goto fail;
                rdm_buf_reset(&r->copy);
            }
        }
        if ((nread & 1023) == 0)
            tick(r, 0);
    }
    if (r->copy.len && (rc = rdm_db_copy_put(r->db, r->copy.data, r->copy.len, err)) != RDM_OK)
        goto fail;
    in_copy = 0;
    if ((rc = rdm_db_copy_end(r->db, NULL, err)) != RDM_OK)
        goto fail;
    if (nread == 0) { /* nothing left: this batch does not exist */
        rdm_db_rollback(r->db);
        return RDM_OK;
    }
    if (r->rej.len) {
        if ((rc = rdm_db_copy_in_begin(r->db, RDM_SQL_RAW_COPY_IN_REJECTS, err)) != RDM_OK)
            goto fail;
        in_copy = 1;
        if ((rc = rdm_db_copy_put(r->db, r->rej.data, r->rej.len, err)) != RDM_OK)
            goto fail;
        in_copy = 0;
        if ((rc = rdm_db_copy_end(r->db, NULL, err)) != RDM_OK)
            goto fail;
    }
    char sid[32], sfirst[32], slast[32], sread[32], sacc[32], srej[32];
    snprintf(sid, sizeof sid, "%lld", batch_id);
    snprintf(sfirst, sizeof sfirst, "%ld", first);
    snprintf(slast, sizeof slast, "%ld", last);
    snprintf(sread, sizeof sread, "%ld", nread);
    snprintf(sacc, sizeof sacc, "%ld", nacc);
    snprintf(srej, sizeof srej, "%ld", nrej);
    const char *u[] = {sid, sfirst, slast, sread, sacc, srej, r->st->sha256};
    if ((rc = rdm_db_exec(r->db, RDM_SQL_RAW_UPDATE_BATCH, 7, u, err)) != RDM_OK)
        goto fail;
    if ((rc = rdm_db_commit(r->db, err)) != RDM_OK)
        goto undo;
    r->pos += (unsigned long long)nread;
    r->next_no++;
    r->st->batches_loaded++;
    rdm_log(RDM_LOG_DEBUG, "ingest batch=%d batch_id=%lld rows=%ld accepted=%ld rejected=%ld", k,
            batch_id, nread, nacc, nrej);
    return RDM_OK;
fail:
    if (in_copy)
        rdm_db_copy_end(r->db, "ingest failed", NULL);
    rdm_db_rollback(r->db);
undo:
    /* the batch's rows are not in the database: take them out of the totals */
    r->st->rows_read -= (unsigned long long)nread;
    r->st->rows_accepted -= (unsigned long long)nacc;
    r->st->rows_rejected -= (unsigned long long)nrej;
    rdm_err_prefix(err, "batch %d", k);
    return rc;
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
    if (pthread_create(&r.sha_thread, NULL, sha_main, &r) == 0)
        r.sha_running = 1;
    else /* no thread: compute it here */
        sha_main(&r);
    if (!(r.src = rdm_source_open(path, r.max_bytes, err))) {
        rc = err ? err->code : RDM_EIO;
        goto done;
    }
    size_t maxf = cfg->data.max_field_bytes > 0 ? (size_t)cfg->data.max_field_bytes : 1024;
    if (!(r.csv = rdm_csv_create(rdm_source_read, r.src, maxf, rdm_source_name(r.src), err))) {
        rc = RDM_ENOMEM;
        goto done;
    }
    if ((rc = rdm_csv_read_header(r.csv, err)) != RDM_OK)
        goto done;
    const char *const *names;
    int nn = rdm_csv_header(r.csv, &names);
    if ((rc = rdm_ingest_check_header(names, nn, rdm_source_name(r.src), err)) != RDM_OK)
        goto done;
    /* which records of this source are loaded already */
    if ((rc = learn_source(&r, err)) != RDM_OK)
        goto done;
    if ((rc = load_code_labels(&r, err)) != RDM_OK)
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
        if (max_batches >= 0 && st->batches_loaded >= max_batches) {
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
    if (r.sha_running)
        pthread_join(r.sha_thread, NULL);
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
