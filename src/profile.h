/* profile.h - profile of a clean snapshot (the whole clean.encounters) as
 * JSON, stored in clean.profiles for the data report.
 *
 * Layout (all counts are integers, rates in [0,1]):
 * {
 *   "rows": N, "positives": P,
 *   "class_balance": {"negative": N0, "positive": P, "positive_rate": r},
 *   "batches": [{"batch_id": b, "rows": n, "positives": p}, ...],   ascending batch_id
 *   "columns": [                                                    schema order, then derived
 *     {"name": "race", "kind": "categorical" | "numeric" | "id",
 *      "missing": m, "missing_rate": r, "distinct": d,              distinct present values
 *      "top": [{"value": "Caucasian", "count": c, "target_rate": t}, ...],  up to 10, by count
 *      numeric only:
 *      "min": a, "max": b, "mean": x,
 *      "quantiles": {"p5": .., "p25": .., "p50": .., "p75": .., "p95": ..},
 *      "histogram": {"edges": [e0, ..., ek], "counts": [c1, ..., ck]}}, ...
 *   ]
 * }
 * "id" columns (encounter_id, patient_nbr) have no "top". Numeric columns
 * are the INT columns of the schema (counts and durations); integer codes
 * (admission_type_id, ...) are categorical. Derived columns: diag_1_group,
 * diag_2_group, diag_3_group (categorical) and target (categorical, "0"/"1").
 * Quantiles use the nearest-rank method (the smallest value with at least
 * q% of the values at or below it). The histogram has one bin per integer
 * value when the range spans at most 20 values, else 20 equal-width bins;
 * bin i counts edges[i] <= x < edges[i+1] (the last bin includes its right
 * edge). */
#ifndef RDM_PROFILE_H
#define RDM_PROFILE_H

#include <jansson.h>

#include "db.h"
#include "readmit.h"

typedef struct rdm_profile rdm_profile;

/* Column count of a profile row: the 50 schema columns, batch_id, then
 * diag_1_group, diag_2_group, diag_3_group, target. */
#define RDM_PROFILE_NFIELDS (RDM_PROFILE_F_TARGET + 1)

enum {
    RDM_PROFILE_F_BATCH = 50,
    RDM_PROFILE_F_GROUP1 = 51,
    RDM_PROFILE_F_TARGET = 54,
};

/* A new empty profile accumulator owned by the caller (rdm_profile_free), or NULL. */
rdm_profile *rdm_profile_new(void);
void rdm_profile_free(rdm_profile *p);
/* Add one clean row: `f` holds RDM_PROFILE_NFIELDS text values in the order
 * above (NULL = missing); integers as decimal text, target "0" or "1". */
int rdm_profile_add(rdm_profile *p, const char *const *f, rdm_err *err)
    __attribute__((warn_unused_result));
/* rdm_profile_add for a row whose numbers the caller has: num[i] is the
 * value of integer column i (f[i] only says whether it is present), len[k]
 * the length of f[k] (NULL: strlen), batch_id the row's batch
 * (f[RDM_PROFILE_F_BATCH] is not read). */
int rdm_profile_add_typed(rdm_profile *p, const char *const *f, const size_t *len, const long *num,
                          long batch_id, rdm_err *err) __attribute__((warn_unused_result));
/* The profile as JSON: a new reference owned by the caller (json_decref), or
 * NULL with err. */
json_t *rdm_profile_json(const rdm_profile *p, rdm_err *err);

/* Profile clean.encounters as the current transaction sees it and store it as
 * the profile of `snapshot_id` in clean.profiles. */
int rdm_profile_store(rdm_db *db, int snapshot_id, rdm_err *err)
    __attribute__((warn_unused_result));
/* Store `p` (built by the caller from the same rows) as the profile of
 * `snapshot_id` in clean.profiles. */
int rdm_profile_save(rdm_db *db, int snapshot_id, const rdm_profile *p, rdm_err *err)
    __attribute__((warn_unused_result));
/* Store the document `j` (rdm_profile_json, made earlier; its "snapshot_id"
 * is set here, `j` stays the caller's) as the profile of `snapshot_id`. */
int rdm_profile_save_json(rdm_db *db, int snapshot_id, json_t *j, rdm_err *err)
    __attribute__((warn_unused_result));

#endif
