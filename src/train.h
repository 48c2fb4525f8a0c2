/* train.h - training orchestration: the current clean snapshot as raw records,
 * the patient split, every configured model and grid point as a tracked run
 * (registry.*), evaluation through the one scoring path (rdm_model_score). */
#ifndef RDM_TRAIN_H
#define RDM_TRAIN_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "model.h"
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
void rdm_dataset_release(rdm_dataset *ds);

/* Score rows idx[0..n) of `ds` through rdm_model_score into p[0..n), with
 * `threads` threads (0 = all cores). */
int rdm_score_rows(const rdm_model *m, const rdm_dataset *ds, const size_t *idx, size_t n,
                   int threads, double *p, rdm_err *err);

/* Value of a selection metric ("roc_auc", "pr_auc", "log_loss", "accuracy"
 * at 0.5) on (p, y); NaN for an unknown name. */
double rdm_metric_by_name(const char *metric, const double *p, const float *y, size_t n);
/* 1 when larger is better (all but log_loss and brier). */
int rdm_metric_higher_better(const char *metric);

/* Code version recorded with runs: RDM_VERSION, plus "+" and
 * $READMIT_CODE_VERSION when set. Static buffer. */
const char *rdm_code_version(void);

/* Progress callback: one line of text per event (model, iteration, metric,
 * rows/s). May be NULL. */
typedef void (*rdm_train_progress)(const char *line, void *ud);

/* What a training did. */
typedef struct rdm_train_result {
    long long training_id;
    long long selected_run_id; /* 0 when no run finished */
    int runs, finished, failed;
    char selected_name[128];
    double selected_valid; /* selection metric on validation */
    double selected_test;  /* same metric on test (reported, never used) */
    size_t rows[RDM_NSPLITS];
    long long snapshot_id;
    char fingerprint[160];
    double seconds;
} rdm_train_result;

/* Train every configured model and grid point on the current clean snapshot;
 * record trainings/runs/params/metrics/curves/artifacts in the registry; pick
 * the best finished run by cfg->train.metric on validation. A failing run is
 * recorded as failed and the others go on; fails only when nothing could be
 * trained (no data, database error, every run failed). */
int rdm_train(const rdm_config *cfg, rdm_db *db, rdm_train_progress progress, void *ud,
              rdm_train_result *res, rdm_err *err);

#endif
