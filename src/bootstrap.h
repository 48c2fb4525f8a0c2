/* bootstrap.h - intervals for metrics of rows that are not independent: a
 * patient has several encounters, so resampling rows understates the
 * uncertainty. These resample whole groups (patients) with replacement and
 * keep every row of a drawn group, as many times as it was drawn. */
#ifndef RDM_BOOTSTRAP_H
#define RDM_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

/* ROC AUC with integer-valued or real row weights w[i] >= 0 (w NULL = all 1):
 * the same as rdm_roc_auc on the data with row i repeated w[i] times; ties
 * count 1/2. NaN when a class has zero weight. */
double rdm_auc_weighted(const double *p, const float *y, const double *w, size_t n);

/* Linear-interpolation percentile (numpy's default) of `v`, sorted ascending,
 * `m` > 0 values, q in [0, 1]. */
double rdm_percentile_sorted(const double *v, size_t m, double q);

/* Percentile interval (2.5%, 97.5%) of ROC AUC over B resamples of the groups
 * (group[i] identifies the patient of row i; rows of one group are drawn
 * together). Seeded and deterministic. Resamples with a single class are
 * skipped. *lo and *hi get NaN and RDM_EINVAL is returned when none had both
 * classes. O(n log n) once and O(n) per resample. */
int rdm_auc_bootstrap_grouped(const double *p, const float *y, const int64_t *group, size_t n,
                              int B, uint64_t seed, double *lo, double *hi, rdm_err *err);

/* The same interval for the difference AUC(p2) - AUC(p) of two scores of the
 * same rows, both measured on each resample (paired). */
int rdm_auc_diff_bootstrap_grouped(const double *p, const double *p2, const float *y,
                                   const int64_t *group, size_t n, int B, uint64_t seed, double *lo,
                                   double *hi, rdm_err *err);

#endif
