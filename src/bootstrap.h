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

/* Rows prepared once for many resamples (and for many groups of one data set
 * sharing one sort, subgroup.h): in decreasing score order, ties in row order,
 * each row one word RDM_BOOT_ROW(patient, positive, last): patient is the
 * row's patient as a dense index 0..G-1 in increasing patient id, last is 1
 * on the last row of a run of equal scores. */
typedef struct rdm_boot_rows {
    uint32_t *e;
    size_t n; /* rows */
    size_t G; /* patients */
} rdm_boot_rows;

#define RDM_BOOT_MAX ((UINT32_C(1) << 30) - 1) /* rows (so patients) at most */
#define RDM_BOOT_ROW(patient, positive, last) \
    ((uint32_t)(patient) << 2 | (uint32_t)(!!(positive)) << 1 | (uint32_t)(!!(last)))

/* order[k] = the row of rank k by decreasing p, ties in row order. */
int rdm_boot_order(const double *p, size_t n, size_t *order, rdm_err *err)
    __attribute__((warn_unused_result));
/* pid[i] = the dense index of patient[i] (0..*G-1, in increasing patient). */
int rdm_boot_patients(const int64_t *patient, size_t n, uint32_t *pid, size_t *G, rdm_err *err)
    __attribute__((warn_unused_result));
/* Room for n rows (r->n and r->G are left 0 for the caller to fill): RDM_OK,
 * RDM_ENOMEM, or RDM_EINVAL past RDM_BOOT_MAX. Free with rdm_boot_rows_release. */
int rdm_boot_rows_alloc(rdm_boot_rows *r, size_t n, rdm_err *err)
    __attribute__((warn_unused_result));
void rdm_boot_rows_release(rdm_boot_rows *r);
/* ROC AUC of the prepared rows (ties 1/2); NaN with a single class. */
double rdm_boot_auc(const rdm_boot_rows *r);
/* The interval of rdm_auc_bootstrap_grouped over prepared rows (r2 not NULL:
 * of AUC(r2) - AUC(r), paired; r2 has the same patients). Each resample
 * draws r->G patients with replacement from the stream seeded with `seed`
 * and costs O(n + G); sums are exact integers (so independent of the order
 * rows are summed in) below 2^26 total weight. */
int rdm_boot_interval(const rdm_boot_rows *r, const rdm_boot_rows *r2, int B, uint64_t seed,
                      double *lo, double *hi, rdm_err *err) __attribute__((warn_unused_result));

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
