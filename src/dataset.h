/* dataset.h - the data a model is trained and judged on: the current clean
 * snapshot as raw records (the strings serving would see), the patient split,
 * and scoring a set of its rows with a model through rdm_model_score. */
#ifndef RDM_DATASET_H
#define RDM_DATASET_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "model.h"
#include "pool.h"
#include "readmit.h"
#include "schema.h"

enum { RDM_SPLIT_TRAIN = 0, RDM_SPLIT_VALID = 1, RDM_SPLIT_TEST = 2, RDM_NSPLITS = 3 };

/* Split of a patient: k = patient_nbr mod 100 (non-negative); k < train_below
 * -> train, k < valid_below -> validation, else test. Pure. */
int rdm_split_of(long long patient_nbr, int train_below, int valid_below);
/* "train", "valid", "test". */
const char *rdm_split_name(int split);

/* The current clean snapshot as raw records (the strings serving would see:
 * NULL = missing), split by patient. */
typedef struct rdm_dataset {
    size_t n;                 /* rows */
    const char **cells;       /* n * RDM_NCOLS values, row-major */
    float *y;                 /* target per row (readmitted == "<30") */
    unsigned char *split;     /* RDM_SPLIT_* per row */
    size_t *idx[RDM_NSPLITS]; /* row indexes of each split, ascending */
    float *ys[RDM_NSPLITS];   /* targets of each split (gathered by idx) */
    size_t count[RDM_NSPLITS];
    long long snapshot_id;
    char fingerprint[160]; /* clean snapshot fingerprint */
    char batch_ids[256];   /* "1,2,3" (truncated with "..." if long) */
    void *arena;           /* storage behind cells (private) */
} rdm_dataset;

/* Stream the current clean snapshot (latest ok row of clean.snapshots) with
 * COPY ... TO STDOUT in one REPEATABLE READ transaction and split it with
 * cfg->split. RDM_ENOTFOUND when there is no clean snapshot. `ds` is
 * caller-allocated; release with rdm_dataset_release() (also on failure). */
int rdm_dataset_load(rdm_db *db, const rdm_config *cfg, rdm_dataset *ds, rdm_err *err);
/* The same with only the rows of one split (RDM_SPLIT_*): ds->n and the
 * other splits' counts are those rows' and 0 (the gate reads the validation
 * rows: a sixth of the snapshot's). The rows are in the same order as in the
 * whole snapshot's split. */
int rdm_dataset_load_split(rdm_db *db, const rdm_config *cfg, int split, rdm_dataset *ds,
                           rdm_err *err);
void rdm_dataset_release(rdm_dataset *ds);

/* Score rows idx[0..n) of `ds` through rdm_model_score into p[0..n), spread
 * over `pool` in chunks of rows (NULL: on the caller's thread). Each row's
 * probability is the same whatever the pool. */
int rdm_score_rows(const rdm_model *m, const rdm_dataset *ds, const size_t *idx, size_t n,
                   rdm_pool *pool, double *p, rdm_err *err);

#endif
