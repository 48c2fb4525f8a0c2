/* dataset.c - the current clean snapshot as raw records, the patient split,
 * and scoring rows through rdm_model_score on the thread pool. */
#include "dataset.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the split ---- */

int rdm_split_of(long long patient_nbr, int train_below, int valid_below)
{
    long long k = patient_nbr % 100;
    if (k < 0)
        k += 100;
    if (k < train_below)
        return RDM_SPLIT_TRAIN;
    if (k < valid_below)
        return RDM_SPLIT_VALID;
    return RDM_SPLIT_TEST;
}

const char *rdm_split_name(int split)
{
    static const char *const names[] = {"train", "valid", "test"};
    return split >= 0 && split < RDM_NSPLITS ? names[split] : "?";
}

/* Blocks of text that hold the COPY lines (cells point into them). */
typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block;

typedef struct load_ctx {
    rdm_dataset *ds;
    const rdm_config *cfg;
    size_t cap;
    block *head;
    size_t row0; /* rows of the snapshot before these (for messages) */
} load_ctx;

static char *arena_alloc(load_ctx *lc, size_t n)
{
    block *b = lc->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > (4u << 20) ? n : (4u << 20);
        block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        lc->head = nb;
        lc->ds->arena = nb;
        b = nb;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

static int load_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    load_ctx *lc = ud;
    rdm_dataset *ds = lc->ds;
    if (ds->n == lc->cap) { /* cells: RDM_NCOLS per row */
        void *a[3] = {(void *)ds->cells, ds->y, ds->split};
        const size_t e[3] = {sizeof *ds->cells * RDM_NCOLS, sizeof *ds->y, sizeof *ds->split};
        int rc = rdm_grow_all(a, e, 3, &lc->cap, lc->cap ? 2 * lc->cap : 16384);
        ds->cells = a[0];
        ds->y = a[1];
        ds->split = a[2];
        if (rc)
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    char *copy = arena_alloc(lc, len + 1);
    if (!copy)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    memcpy(copy, line, len);
    copy[len] = '\0';
    char *f[RDM_NCOLS + 1];
    int nf = rdm_copy_split(copy, len, f, RDM_NCOLS + 1);
    if (nf != RDM_NCOLS)
        return rdm_errf(err, RDM_EPARSE, "clean.encounters row %zu: %d columns, expected %d",
                        lc->row0 + ds->n + 1, nf, RDM_NCOLS);
    long pat = 0;
    if (!f[RDM_C_PATIENT_NBR] || rdm_parse_long(f[RDM_C_PATIENT_NBR], &pat))
        return rdm_errf(err, RDM_EPARSE,
                        "clean.encounters row %zu (encounter_id %s): bad patient_nbr",
                        lc->row0 + ds->n + 1, f[0] ? f[0] : "NULL");
    int t = rdm_target_from(f[RDM_C_READMITTED]);
    if (t < 0)
        return rdm_errf(err, RDM_EPARSE,
                        "clean.encounters row %zu (encounter_id %s): field 'readmitted': "
                        "unexpected value '%s'",
                        lc->row0 + ds->n + 1, f[0] ? f[0] : "NULL",
                        f[RDM_C_READMITTED] ? f[RDM_C_READMITTED] : "NULL");
    const char **row = ds->cells + ds->n * RDM_NCOLS;
    for (int c = 0; c < RDM_NCOLS; c++)
        row[c] = f[c];
    ds->y[ds->n] = (float)t;
    ds->split[ds->n] =
        (unsigned char)rdm_split_of(pat, lc->cfg->split.train_below, lc->cfg->split.valid_below);
    ds->n++;
    return RDM_OK;
}

void rdm_dataset_release(rdm_dataset *ds)
{
    if (!ds)
        return;
    block *b = ds->arena;
    while (b) {
        block *nx = b->next;
        free(b);
        b = nx;
    }
    free(ds->cells);
    free(ds->y);
    free(ds->split);
    for (int s = 0; s < RDM_NSPLITS; s++) {
        free(ds->idx[s]);
        free(ds->ys[s]);
    }
    memset(ds, 0, sizeof *ds);
}

/* Row indexes and targets of each split (ds->split filled). */
static int index_splits(rdm_dataset *ds, rdm_err *err)
{
    for (int s = 0; s < RDM_NSPLITS; s++) {
        size_t k = 0;
        for (size_t i = 0; i < ds->n; i++)
            k += ds->split[i] == s;
        ds->idx[s] = malloc(sizeof(size_t) * (k ? k : 1));
        ds->ys[s] = malloc(sizeof(float) * (k ? k : 1));
        if (!ds->idx[s] || !ds->ys[s])
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
        ds->count[s] = 0;
        for (size_t i = 0; i < ds->n; i++)
            if (ds->split[i] == s) {
                ds->ys[s][ds->count[s]] = ds->y[i];
                ds->idx[s][ds->count[s]++] = i;
            }
    }
    return RDM_OK;
}

/* ---- the whole snapshot in two ranges, on two connections side by side ----
 * The server's COPY of the rows (most of the load's time) then takes two
 * backends instead of one. The second connection reads in a transaction of
 * its own: it must see the same snapshot row (id, fingerprint, rows), which
 * clean changes in the transaction that changes the rows. Anything unusual
 * (no second connection, another snapshot, an error) leaves the second range
 * to the first connection, after its own. */
enum { TWO_RANGES_MIN_ROWS = 20000 };

static const char ID_MIN[] = "-9223372036854775808", ID_MAX[] = "9223372036854775807";

typedef struct range_read {
    rdm_db *db;
    const char *after; /* the range: after < encounter_id */
    load_ctx lc;
    int rc;
    rdm_err err;
} range_read;

static int copy_range(rdm_db *db, const char *after, const char *upto, load_ctx *lc, rdm_err *err)
{
    const char *p[] = {after, upto};
    int rc = rdm_db_exec(db, RDM_SQL_TRAIN_SET_RANGE, 2, p, err);
    return rc ? rc : rdm_db_copy_out(db, RDM_SQL_TRAIN_COPY_RANGE_ENCOUNTERS, load_row, lc, err);
}

static void *range_main(void *arg)
{
    range_read *R = arg;
    R->rc = copy_range(R->db, R->after, ID_MAX, &R->lc, &R->err);
    return NULL;
}

/* The second connection in a transaction on the same snapshot as ds's, or NULL. */
static rdm_db *second_connection(const rdm_config *cfg, const rdm_dataset *ds, long long rows)
{
    rdm_err e = {0};
    rdm_db *db = rdm_db_connect(cfg, &e);
    rdm_res *r = NULL;
    int same = db && rdm_db_exec(db, RDM_SQL_TRAIN_BEGIN_SNAPSHOT, 0, NULL, &e) == RDM_OK &&
               (r = rdm_db_query(db, RDM_SQL_TRAIN_SELECT_SNAPSHOT, 0, NULL, &e)) &&
               rdm_res_rows(r) == 1 && rdm_res_ll(r, 0, "snapshot_id") == ds->snapshot_id &&
               rdm_res_ll(r, 0, "rows") == rows && rdm_res_text(r, 0, "fingerprint") &&
               !strcmp(rdm_res_text(r, 0, "fingerprint"), ds->fingerprint) &&
               rdm_res_check(r, &e) == RDM_OK;
    rdm_res_free(r);
    if (!same && db) {
        rdm_log(RDM_LOG_INFO, "train: the snapshot is read on one connection (%s)",
                e.msg[0] ? e.msg : "another snapshot on the second");
        rdm_db_close(db);
        db = NULL;
    }
    return db;
}

/* Append b's rows to a's (b's arena joins a's; b's arrays are freed). */
static int append_rows(rdm_dataset *a, size_t *acap, rdm_dataset *b, rdm_err *err)
{
    if (a->n + b->n > *acap) {
        void *v[3] = {(void *)a->cells, a->y, a->split};
        const size_t e[3] = {sizeof *a->cells * RDM_NCOLS, sizeof *a->y, sizeof *a->split};
        int rc = rdm_grow_all(v, e, 3, acap, a->n + b->n);
        a->cells = v[0];
        a->y = v[1];
        a->split = v[2];
        if (rc)
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    if (b->n) {
        memcpy(a->cells + a->n * RDM_NCOLS, b->cells, b->n * RDM_NCOLS * sizeof *a->cells);
        memcpy(a->y + a->n, b->y, b->n * sizeof *a->y);
        memcpy(a->split + a->n, b->split, b->n * sizeof *a->split);
        a->n += b->n;
    }
    if (!a->arena) {
        a->arena = b->arena;
    } else {
        block *t = a->arena;
        while (t->next)
            t = t->next;
        t->next = b->arena;
    }
    b->arena = NULL;
    rdm_dataset_release(b);
    return RDM_OK;
}

/* The whole snapshot's rows into ds (its snapshot row read on db): in two
 * ranges of encounter ids, the second on a connection of its own when the
 * snapshot is large enough. The rows are in the snapshot's order either way. */
static int copy_all(rdm_db *db, const rdm_config *cfg, long long rows, rdm_dataset *ds,
                    load_ctx *lc, rdm_err *err)
{
    if (rows < TWO_RANGES_MIN_ROWS)
        return rdm_db_copy_out(db, RDM_SQL_TRAIN_COPY_ENCOUNTERS, load_row, lc, err);
    /* the first range: the first half of the rows */
    char half[24], pivot[24];
    snprintf(half, sizeof half, "%lld", rows / 2);
    const char *ph[] = {half};
    rdm_res *r = rdm_db_query(db, RDM_SQL_TRAIN_SELECT_PIVOT, 1, ph, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    int rc = rdm_res_rows(r) == 1 ? rdm_res_check(r, err) : RDM_ENOTFOUND;
    if (rc == RDM_OK)
        rdm_res_copy(r, 0, "encounter_id", pivot, sizeof pivot);
    rdm_res_free(r);
    if (rc == RDM_ENOTFOUND) /* fewer rows than the snapshot says: clean's check will tell */
        return rdm_db_copy_out(db, RDM_SQL_TRAIN_COPY_ENCOUNTERS, load_row, lc, err);
    if (rc)
        return rc;
    rdm_dataset second;
    memset(&second, 0, sizeof second);
    range_read R = {second_connection(cfg, ds, rows),
                    pivot,
                    {&second, cfg, 0, NULL, (size_t)(rows / 2) + 1},
                    RDM_OK,
                    {0}};
    pthread_t tid;
    int started = R.db && pthread_create(&tid, NULL, range_main, &R) == 0;
    rc = copy_range(db, ID_MIN, pivot, lc, err);
    if (started)
        pthread_join(tid, NULL);
    rdm_db_close(R.db); /* its transaction read only: closing ends it */
    if (rc == RDM_OK && started && R.rc == RDM_OK)
        return append_rows(ds, &lc->cap, &second, err);
    rdm_dataset_release(&second);
    if (rc)
        return rc;
    if (started && R.rc != RDM_OK)
        rdm_log(RDM_LOG_INFO, "train: the second range again on the first connection (%s)",
                R.err.msg);
    /* the second range on this connection (the same snapshot) */
    rdm_dataset tail;
    memset(&tail, 0, sizeof tail);
    load_ctx lt = {&tail, cfg, 0, NULL, ds->n};
    rc = copy_range(db, pivot, ID_MAX, &lt, err);
    if (rc) {
        rdm_dataset_release(&tail);
        return rc;
    }
    return append_rows(ds, &lc->cap, &tail, err);
}

/* The whole snapshot (split < 0) or the rows of one split. */
static int load(rdm_db *db, const rdm_config *cfg, int split, rdm_dataset *ds, rdm_err *err)
{
    memset(ds, 0, sizeof *ds);
    rdm_res *r = NULL;
    int rc = rdm_db_exec(db, RDM_SQL_TRAIN_BEGIN_SNAPSHOT, 0, NULL, err);
    if (rc)
        return rc;
    if (!(r = rdm_db_query(db, RDM_SQL_TRAIN_SELECT_SNAPSHOT, 0, NULL, err))) {
        rc = err && err->code ? err->code : RDM_EDB;
        goto done;
    }
    if (rdm_res_rows(r) < 1) {
        rc = rdm_errf(err, RDM_ENOTFOUND,
                      "no clean snapshot yet: run readmit ingest and readmit clean");
        goto done;
    }
    ds->snapshot_id = rdm_res_ll(r, 0, "snapshot_id");
    rdm_res_copy(r, 0, "fingerprint", ds->fingerprint, sizeof ds->fingerprint);
    const char *bids = rdm_res_text(r, 0, "batch_ids");
    if (!bids)
        bids = "";
    if (strlen(bids) >= sizeof ds->batch_ids)
        snprintf(ds->batch_ids, sizeof ds->batch_ids, "%.*s...", (int)sizeof ds->batch_ids - 4,
                 bids);
    else
        snprintf(ds->batch_ids, sizeof ds->batch_ids, "%s", bids);
    long long rows = rdm_res_ll(r, 0, "rows");
    if ((rc = rdm_res_check(r, err)))
        goto done;
    load_ctx lc = {ds, cfg, 0, NULL, 0};
    if (split >= 0) {
        long lo = split == RDM_SPLIT_TRAIN   ? 0
                  : split == RDM_SPLIT_VALID ? cfg->split.train_below
                                             : cfg->split.valid_below;
        long hi = split == RDM_SPLIT_TRAIN   ? cfg->split.train_below
                  : split == RDM_SPLIT_VALID ? cfg->split.valid_below
                                             : 100;
        char a[24], b[24];
        snprintf(a, sizeof a, "%ld", lo);
        snprintf(b, sizeof b, "%ld", hi);
        const char *p[] = {a, b};
        rc = rdm_db_exec(db, RDM_SQL_TRAIN_SET_SPLIT, 2, p, err);
    }
    if (rc ||
        (rc = split >= 0
                  ? rdm_db_copy_out(db, RDM_SQL_TRAIN_COPY_SPLIT_ENCOUNTERS, load_row, &lc, err)
                  : copy_all(db, cfg, rows, ds, &lc, err)) ||
        (rc = rdm_db_commit(db, err)))
        goto done;
    rc = index_splits(ds, err);
    if (rc == RDM_OK && split >= 0 && ds->count[split] != ds->n)
        rc = rdm_errf(err, RDM_ESTATE, "snapshot %lld: %zu of %zu rows read are not of split %s",
                      ds->snapshot_id, ds->n - ds->count[split], ds->n, rdm_split_name(split));
done:
    rdm_res_free(r);
    rdm_db_rollback(db); /* no-op after the commit */
    return rc;
}

int rdm_dataset_load(rdm_db *db, const rdm_config *cfg, rdm_dataset *ds, rdm_err *err)
{
    return load(db, cfg, -1, ds, err);
}

int rdm_dataset_load_split(rdm_db *db, const rdm_config *cfg, int split, rdm_dataset *ds,
                           rdm_err *err)
{
    if (split < 0 || split >= RDM_NSPLITS)
        return rdm_errf(err, RDM_EINVAL, "dataset: no split %d", split);
    return load(db, cfg, split, ds, err);
}

/* ---- scoring through the one path, on the pool ---- */

enum { SCORE_CHUNK = 2048 }; /* rows per pool item */

typedef struct score_job {
    const rdm_model *m;
    const rdm_dataset *ds;
    const size_t *idx;
    size_t n;
    double *p;
    int rc[RDM_POOL_MAX]; /* first failure of each thread */
    rdm_err err[RDM_POOL_MAX];
} score_job;

static void score_chunk(void *arg, size_t item, int tid)
{
    score_job *j = arg;
    size_t a = item * SCORE_CHUNK, b = a + SCORE_CHUNK < j->n ? a + SCORE_CHUNK : j->n;
    if (j->rc[tid])
        return;
    j->rc[tid] =
        rdm_model_score_rows(j->m, j->ds->cells, j->idx + a, b - a, j->p + a, &j->err[tid]);
}

int rdm_score_rows(const rdm_model *m, const rdm_dataset *ds, const size_t *idx, size_t n,
                   rdm_pool *pool, double *p, rdm_err *err)
{
    score_job *j = calloc(1, sizeof *j);
    if (!j)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    *j = (score_job){.m = m, .ds = ds, .idx = idx, .n = n, .p = p};
    rdm_pool_for(pool, (n + SCORE_CHUNK - 1) / SCORE_CHUNK, score_chunk, j);
    int rc = RDM_OK;
    for (int t = 0; t < RDM_POOL_MAX && rc == RDM_OK; t++)
        if (j->rc[t])
            rc = rdm_errf(err, j->rc[t], "%s", j->err[t].msg);
    free(j);
    return rc;
}
