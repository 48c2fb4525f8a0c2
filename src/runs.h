/* runs.h - queries over training runs as the registry returns them
 * (rdm_registry_runs_json): dotted field names, a small filter language,
 * sorting and the difference of two runs. For `readmit runs`; no database.
 *
 * Field names: any top-level field of a run (run_id, training_id, model_type,
 * name, status, snapshot_id, code_version, ...), "type" for model_type, "id"
 * for run_id, and "valid.METRIC", "test.METRIC", "params.NAME" (also
 * "param.NAME") for the nested objects. */
#ifndef RDM_RUNS_H
#define RDM_RUNS_H

#include <jansson.h>

#include "readmit.h"

/* The value of field `key` of `run` (borrowed), or NULL when absent. */
const json_t *rdm_runs_get(const json_t *run, const char *key);

/* Keep the runs of the array `runs` that match `where`, in order: comparisons
 * `FIELD OP VALUE` joined by "and"; OP is = (or ==), !=, <, <=, >, >=, or ~
 * (contains); VALUE is a number or a word, or quoted with ' or ". Numbers
 * compare as numbers (a parameter stored as text "0.1" too), anything else
 * as text; a run without the field does not match. A malformed expression is
 * RDM_EINVAL with the column in err, and `runs` is left as it was. */
int rdm_runs_filter(json_t *runs, const char *where, rdm_err *err);

/* Sort `runs` by field `key` ("-key": descending); runs without the field go
 * last; ties keep their order. RDM_EINVAL for an empty key. */
int rdm_runs_sort(json_t *runs, const char *key, rdm_err *err);

/* One run as a flat object of dotted names -> scalars ("valid.roc_auc": 0.67,
 * "params.learning_rate": "0.1", ...), in a stable order. New reference, or
 * NULL when out of memory. */
json_t *rdm_runs_flat(const json_t *run);

/* What differs between runs a and b: an array of {"field", "a", "b"} over the
 * parameters, metrics, data snapshot and fingerprint, code version, config
 * hash, model type and row counts (not ids, times or durations); a field one
 * run lacks is null on that side. New reference, or NULL when out of memory. */
json_t *rdm_runs_diff(const json_t *a, const json_t *b);

#endif
