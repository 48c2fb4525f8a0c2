/* dataset.c - the current clean snapshot as raw records, the patient split,
 * and scoring rows through rdm_model_score on the thread pool. */
#include "dataset.h"

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
                        ds->n + 1, nf, RDM_NCOLS);
    long pat = 0;
    if (!f[RDM_C_PATIENT_NBR] || rdm_parse_long(f[RDM_C_PATIENT_NBR], &pat))
        return rdm_errf(err, RDM_EPARSE,
                        "clean.encounters row %zu (encounter_id %s): bad patient_nbr", ds->n + 1,
                        f[0] ? f[0] : "NULL");
    int t = rdm_target_from(f[RDM_C_READMITTED]);
    if (t < 0)
        return rdm_errf(err, RDM_EPARSE,
                        "clean.encounters row %zu (encounter_id %s): field 'readmitted': "
                        "unexpected value '%s'",
                        ds->n + 1, f[0] ? f[0] : "NULL",
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
    if ((rc = rdm_res_check(r, err)))
        goto done;
    load_ctx lc = {ds, cfg, 0, NULL};
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
        (rc = rdm_db_copy_out(
             db, split >= 0 ? RDM_SQL_TRAIN_COPY_SPLIT_ENCOUNTERS : RDM_SQL_TRAIN_COPY_ENCOUNTERS,
             load_row, &lc, err)) ||
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
