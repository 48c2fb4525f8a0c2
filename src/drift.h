/* drift.h - distribution drift of served inputs and scores against a
 * reference (the champion's training snapshot): population stability index
 * (PSI) on the reference's bins (numbers) and levels (categories), missing-rate
 * change and the share of categories the model never saw.
 *
 * PSI = sum over bins of (a_i - e_i) * ln(a_i / e_i), where e_i and a_i are the
 * reference and live shares of bin i; shares are floored at RDM_PSI_FLOOR so
 * that an empty bin on either side gives a large but finite value. Missing
 * values are a bin of their own, so a field that suddenly goes missing drifts.
 * Usual reading: < 0.1 stable, 0.1-0.25 moderate (warn), > 0.25 major (alert). */
#ifndef RDM_DRIFT_H
#define RDM_DRIFT_H

#include <jansson.h>
#include <stdint.h>

#include "readmit.h"
#include "schema.h"

#define RDM_PSI_FLOOR 1e-4

/* PSI of two distributions given as non-negative weights over `k` bins (each
 * normalised to shares here). NaN when either side has zero total weight. */
double rdm_psi(const double *expected, const double *actual, int k);

/* Reference distribution of one input field. Numeric: bins [edges[i],
 * edges[i+1]) (the last includes its right edge; values outside go to the
 * first or last bin). Categorical: one bin per level plus a last "other" bin.
 * In both cases bin `nbins` (one past the value bins) holds missing values. */
typedef struct rdm_drift_field {
    char name[64];
    int col;         /* schema column */
    int categorical; /* 1: levels, 0: numeric edges */
    int nbins;       /* value bins (categorical: levels + 1 for "other") */
    double *edges;   /* numeric: nbins + 1 edges */
    char **levels;   /* categorical: nbins - 1 levels */
    double *ref;     /* reference weights, nbins + 1 (last = missing) */
    char **known;    /* levels the model knows (NULL-terminated), or NULL: unseen not counted */
} rdm_drift_field;

/* The reference of every field that has one. Owned by its creator. */
typedef struct rdm_drift_ref {
    rdm_drift_field *f;
    int n;
    double score_ref[10]; /* reference weights of predicted scores, 10 equal-width bins */
    int has_score_ref;
} rdm_drift_ref;

/* Build the reference from a clean-snapshot profile (profile.h layout) and,
 * optionally, a model input schema ([{"name", "type", "levels"}, ...], may be
 * NULL): numeric columns get the profile's histogram, categorical columns the
 * profile's top levels plus "other"; `known` comes from the input schema's
 * levels, else from the profile when it lists every distinct value. Only
 * schema columns that are features (not ids, not the target) are kept.
 * Returns RDM_OK or RDM_EPARSE naming the column. Free with rdm_drift_ref_release. */
int rdm_drift_ref_from_profile(const json_t *profile, const json_t *input_schema,
                               rdm_drift_ref *out, rdm_err *err);
void rdm_drift_ref_release(rdm_drift_ref *r);

/* Bin of `v` (raw text, as served; NULL, "" or "?" = missing) in field `f`:
 * 0..nbins-1 for a value, nbins for missing. *unseen (may be NULL) is set to
 * 1 for a categorical value the model does not know, else 0. */
int rdm_drift_bin(const rdm_drift_field *f, const char *v, int *unseen);

/* Bin of a predicted probability in the 10 equal-width score bins. */
int rdm_drift_score_bin(double p);

/* Live counts of one window for every field of a reference. */
typedef struct rdm_drift_counts {
    int nfields;
    uint64_t **bins;  /* per field: nbins + 1 counts (last = missing) */
    uint64_t *unseen; /* per field */
    uint64_t rows;
    uint64_t score[10];
} rdm_drift_counts;

int rdm_drift_counts_init(rdm_drift_counts *c, const rdm_drift_ref *r, rdm_err *err);
void rdm_drift_counts_release(rdm_drift_counts *c);
/* Count one raw record (values indexed by schema column). */
void rdm_drift_counts_add(rdm_drift_counts *c, const rdm_drift_ref *r,
                          const char *const values[RDM_NCOLS]);
/* Add `src` into `dst` (same reference). */
void rdm_drift_counts_merge(rdm_drift_counts *dst, const rdm_drift_counts *src,
                            const rdm_drift_ref *r);

/* Drift of one field in one window. */
typedef struct rdm_drift_result {
    int field;           /* index into the reference */
    double psi;          /* NaN when the window has no rows */
    double ref_missing;  /* missing share in the reference */
    double live_missing; /* missing share live */
    double unseen;       /* share of present values the model does not know (0 if not known) */
    int level;           /* 0 ok, 1 warn, 2 alert */
} rdm_drift_result;

/* 0 / 1 / 2 for `psi` against the warn and alert thresholds (NaN -> 0). */
int rdm_drift_level(double psi, double warn, double alert);

/* Drift of every field (out has r->n entries, in reference order), then sorted
 * by decreasing PSI when `ranked` (NaN last; ties by field order). */
void rdm_drift_compute(const rdm_drift_ref *r, const rdm_drift_counts *c, double warn, double alert,
                       int ranked, rdm_drift_result *out);

/* PSI of the window's predicted scores against the reference scores (NaN
 * without a score reference or without rows). */
double rdm_drift_score_psi(const rdm_drift_ref *r, const rdm_drift_counts *c);

#endif
