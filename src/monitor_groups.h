/* monitor_groups.h - performance by patient group on live traffic (the model
 * card's disaggregated evaluation, on served predictions that have an
 * outcome): per model version, for the whole and for each race, gender and
 * age band, the measures of subgroup.h (ROC AUC with a patient-resampled
 * interval, calibration in the large, positive rate and TPR/FPR at the
 * version's threshold, sizes) and a flag on every group whose interval lies
 * wholly below the version's overall AUC. The result is the "subgroups" key
 * of the `readmit monitor --json` document. */
#ifndef RDM_MONITOR_GROUPS_H
#define RDM_MONITOR_GROUPS_H

#include <jansson.h>
#include <stdint.h>

#include "pool.h"
#include "readmit.h"

/* The attributes groups are formed on, in this order. */
enum { RDM_MONGROUP_RACE, RDM_MONGROUP_GENDER, RDM_MONGROUP_AGE, RDM_MONGROUP_NATTR };

/* One labelled prediction as read from the log. */
typedef struct rdm_mongroup_row {
    int64_t id;       /* prediction_id: rows are taken in this order (then as added) */
    int32_t version;  /* model version, -1 = none */
    int64_t patient;  /* patient_nbr, or any value unique to the row when unknown */
    double p;         /* probability */
    double threshold; /* the decision threshold it was served with */
    int label;        /* 0/1 */
    const char *attr[RDM_MONGROUP_NATTR]; /* race, gender, age as sent; NULL: missing */
} rdm_mongroup_row;

typedef struct rdm_mongroups rdm_mongroups;

/* A new accumulator; intervals use `resamples` patient resamples (0: none). */
rdm_mongroups *rdm_mongroups_create(int resamples, rdm_err *err);
void rdm_mongroups_free(rdm_mongroups *g);
/* Threads that measure the groups (0, the default: every core); the result
 * is the same for any number. */
void rdm_mongroups_threads(rdm_mongroups *g, int threads);
/* Add one labelled prediction (its strings are copied). */
int rdm_mongroups_add(rdm_mongroups *g, const rdm_mongroup_row *row, rdm_err *err)
    __attribute__((warn_unused_result));
/* {"resamples": B, "versions": [{"version", "threshold", "labelled", "overall": G,
 *   "groups": [G + {"attribute", "level"}]}]} where G is {"n", "patients",
 * "positives", "roc_auc", "roc_auc_lo", "roc_auc_hi", "mean_p", "observed",
 * "positive_rate", "tpr", "fpr", "below"}: a new object owned by the caller,
 * or NULL with err. */
json_t *rdm_mongroups_finish(rdm_mongroups *g, rdm_err *err);
/* Every row added, whatever its version, as one set in the order added (the
 * test split of a training run), measured on `pool` at the first row's
 * threshold: {"resamples": B, "threshold", "labelled", "overall": G,
 * "groups": [...]} as one element of "versions" above without "version".
 * A new object owned by the caller, or NULL with err (RDM_EINVAL: no row). */
json_t *rdm_mongroups_measure_all(const rdm_mongroups *g, rdm_pool *pool, rdm_err *err);

#endif
