/* explain_summary.h - global explanations over a set of records, for the
 * report: every record explained through rdm_explain, then the mean
 * |contribution| of every input field (global importance, log-odds) and, for
 * the fields with the largest, the data of a dependence plot (the field's
 * value against its contribution). The result is a JSON object:
 *
 *   {"rows": n, "base_value": b,
 *    "fields": [{"field": name, "mean_abs": a, "mean": m}, ...],   by mean_abs, then schema order
 *    "dependence": [
 *      {"field": name, "kind": "numeric",
 *       "points": [[x, contribution], ...],        every k-th record (record order), at most max_points
 *       "means": [[x, mean contribution, records], ...]},          every distinct value, ascending
 *      {"field": name, "kind": "levels",
 *       "levels": [{"value": v, "records": k, "mean": m}, ...]},   most frequent first (ties by value);
 *                                                   the rest as "(other levels)", missing as "(missing)"
 *    ...]}
 *
 * Integer fields (counts, durations) are numeric; codes, categories and
 * diagnoses are levels. Deterministic: the same records give the same bytes,
 * whatever the pool. */
#ifndef RDM_EXPLAIN_SUMMARY_H
#define RDM_EXPLAIN_SUMMARY_H

#include <jansson.h>
#include <stddef.h>

#include "explain.h"
#include "pool.h"
#include "readmit.h"

typedef struct rdm_explain_summary_params {
    int top_fields; /* dependence data for this many fields (largest mean |contribution|) */
    int max_points; /* scatter points per numeric field */
    int max_levels; /* levels per categorical field before "(other levels)" */
} rdm_explain_summary_params;

void rdm_explain_summary_params_default(rdm_explain_summary_params *p); /* 4, 400, 12 */

/* Explain rows idx[0..n) of `cells` (row-major, RDM_NCOLS values per row,
 * NULL = missing) with `x`, spread over `pool` (NULL: the caller's thread).
 * Returns a new JSON object (the caller's reference), or NULL with err: the
 * first record that fails, as rdm_explain names it, or RDM_ENOMEM. */
json_t *rdm_explain_summary(const rdm_explainer *x, const char *const *cells, const size_t *idx,
                            size_t n, rdm_pool *pool, const rdm_explain_summary_params *p,
                            rdm_err *err);

#endif
