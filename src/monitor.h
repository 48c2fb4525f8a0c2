/* monitor.h - the monitor stage's computation, without a database: served
 * predictions (with their outcome when one is known) are added one by one;
 * finishing groups them into windows (monitor.window_rows predictions, or
 * monitor.window_seconds of serving time) and computes per window and model
 * version the estimated performance (estimate.h), the realized performance on
 * labelled predictions (metrics.h, ROC AUC interval by patient bootstrap.h),
 * label coverage and delay, and per window the drift of every input field and
 * of the scores against the reference (drift.h). The result is the
 * `readmit monitor --json` document (keys documented in docs/ARCHITECTURE.md
 * and stable). */
#ifndef RDM_MONITOR_H
#define RDM_MONITOR_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "drift.h"
#include "readmit.h"
#include "schema.h"

/* One served prediction as read from the log. */
typedef struct rdm_mon_row {
    int64_t id;      /* prediction_id */
    double served;   /* unix seconds */
    int32_t version; /* model version, -1 = none */
    int64_t patient; /* patient_nbr, or any value unique to the row when unknown */
    double p;        /* probability */
    int decision;    /* 0/1 */
    int label;       /* 0/1, -1 = no outcome yet */
    double observed; /* unix seconds of the outcome, NaN without one */
} rdm_mon_row;

typedef struct rdm_monitor rdm_monitor;

/* A new accumulator for `cfg`'s monitor section and the reference `ref`
 * (both borrowed; they must outlive it). NULL with err on failure. */
rdm_monitor *rdm_monitor_create(const rdm_config *cfg, const rdm_drift_ref *ref, rdm_err *err);
void rdm_monitor_free(rdm_monitor *m);
/* Add one prediction and its raw input (values by schema column; NULL: the
 * input is not in the drift sample). */
int rdm_monitor_add(rdm_monitor *m, const rdm_mon_row *row, const char *const *values, rdm_err *err)
    __attribute__((warn_unused_result));
/* Add the raw input (values by schema column) of the prediction added
 * `row`-th (0 = the first) to its window's drift counts; the same as passing
 * the values to rdm_monitor_add. RDM_EINVAL for a row not added. */
int rdm_monitor_add_input(rdm_monitor *m, size_t row, const char *const *values, rdm_err *err)
    __attribute__((warn_unused_result));
/* Everything computed, as the "windows" array and the summary keys of the
 * monitor document: a new JSON object owned by the caller, or NULL with err. */
json_t *rdm_monitor_finish(rdm_monitor *m, rdm_err *err);

/* Drift of one set of counts (a window, an ingested batch) as JSON: "rows",
 * "max_psi", "level" and "fields" [{"field", "psi", "ref_missing",
 * "live_missing", "unseen", "level"}] ranked by PSI. */
json_t *rdm_monitor_drift_json(const rdm_drift_ref *ref, const rdm_drift_counts *c, double warn,
                               double alert);

/* Parse a flat JSON object of raw input fields (text as PostgreSQL prints
 * jsonb) in place: values[col] points at each known column's value as text
 * (strings unescaped, numbers as written, null -> NULL); unknown keys are
 * ignored. Returns 0, or -1 when the text is not a flat object. */
int rdm_monitor_parse_input(char *text, const char *values[RDM_NCOLS]);

/* The retrain decision for a monitor document: with monitor.retrain_when
 * "drift", the latest window with at least monitor.min_rows predictions has a
 * field at or past psi_alert; "auc", a version's realized AUC in that window is
 * below auc_floor with at least min_labels labelled predictions. Returns 1
 * and fills `reason` and `key` (identifies the condition and window, so it
 * fires once) when the trigger fires, else 0. */
int rdm_monitor_retrain(const rdm_config *cfg, const json_t *doc, char *reason, size_t reason_n,
                        char *key, size_t key_n);

#endif
