/* train.h - training: every configured model and grid point as a tracked run
 * (registry.*) on the current clean snapshot (dataset.h), evaluated through the
 * one scoring path (rdm_model_score). */
#ifndef RDM_TRAIN_H
#define RDM_TRAIN_H

#include <stddef.h>

#include "config.h"
#include "dataset.h"
#include "db.h"
#include "model.h"
#include "readmit.h"
#include "schema.h"

#define RDM_CODE_VERSION_MAX 160
/* Code version recorded with runs into out: RDM_VERSION, plus "+" and `extra`
 * when not NULL or empty (the command passes $READMIT_CODE_VERSION). */
void rdm_code_version(char out[RDM_CODE_VERSION_MAX], const char *extra);

/* Progress callback: one line of text per event (model, iteration, metric,
 * rows/s). May be NULL. */
typedef void (*rdm_train_progress)(const char *line, void *ud);

/* What the command gives a training besides the config. */
typedef struct rdm_train_opts {
    const char *code_version;    /* recorded with every run and in its model (rdm_code_version) */
    rdm_train_progress progress; /* may be NULL */
    void *ud;                    /* passed to progress */
    /* 1: the test split's details of each run (explanations and performance
     * by patient group, for the report) are left to rdm_train_details, which
     * can run beside registering and serving; 0: measured with each run */
    int defer_details;
} rdm_train_opts;

/* What a training did. */
typedef struct rdm_train_result {
    long long training_id;
    long long selected_run_id; /* 0 when no run finished */
    int runs, finished, failed;
    int stale_runs; /* runs of interrupted trainings marked failed */
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
int rdm_train(const rdm_config *cfg, rdm_db *db, const rdm_train_opts *opts, rdm_train_result *res,
              rdm_err *err);

/* What rdm_train_details did. */
typedef struct rdm_train_details_result {
    long long training_id;
    int already; /* finished runs that had their details */
    int missing; /* ... that had not (a baseline never has) */
    int done;    /* of those, runs that have both now */
    double seconds;
} rdm_train_details_result;

/* The test split's explanations and performance by patient group of every
 * finished run of the latest training that lacks them (rdm_train with
 * defer_details), measured on the models as stored and stored as the runs'
 * test curves: the same values as rdm_train without defer_details gives.
 * RDM_ESTATE when the clean snapshot is no longer the training's. */
int rdm_train_details(const rdm_config *cfg, rdm_db *db, const rdm_train_opts *opts,
                      rdm_train_details_result *res, rdm_err *err);

#endif
