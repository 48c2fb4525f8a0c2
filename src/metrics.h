/* metrics.h - binary classification metrics on predicted probabilities.
 *
 * Conventions everywhere: p[i] is the predicted probability of class 1, y[i]
 * is 0 or 1 (float, as in gbt.h), n rows. A row is predicted positive when
 * p >= threshold. Functions returning double return NaN when the metric is
 * undefined (e.g. AUC with only one class present, n == 0). */
#ifndef RDM_METRICS_H
#define RDM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

/* ROC AUC; tied scores count 1/2 (average rank = trapezoid rule). */
double rdm_roc_auc(const double *p, const float *y, size_t n);
/* Average precision (scikit-learn): sum over distinct thresholds of
 * (R_k - R_{k-1}) * P_k, thresholds in decreasing order. */
double rdm_average_precision(const double *p, const float *y, size_t n);
/* Mean log loss with p clipped to [1e-15, 1 - 1e-15]. */
double rdm_log_loss(const double *p, const float *y, size_t n);
/* Mean squared error of p against y. */
double rdm_brier(const double *p, const float *y, size_t n);
/* Fraction correct when predicting 1 for p >= threshold. */
double rdm_accuracy(const double *p, const float *y, size_t n, double threshold);

/* ---- metrics by name (the selection metric, the gate) ----
 * The one list of metric names a configuration may select, and their
 * direction. */

/* "roc_auc", "pr_auc", "log_loss", "accuracy", "brier", NULL. */
extern const char *const rdm_metric_names[];
/* 1 when `metric` is one of rdm_metric_names. */
int rdm_metric_known(const char *metric);
/* 1 when larger is better (all but log_loss and brier). */
int rdm_metric_higher_better(const char *metric);
/* Value of `metric` on (p, y) ("accuracy" at 0.5); NaN for an unknown name. */
double rdm_metric_by_name(const char *metric, const double *p, const float *y, size_t n);

typedef struct rdm_confusion {
    size_t tp, fp, tn, fn;
} rdm_confusion;

rdm_confusion rdm_confusion_at(const double *p, const float *y, size_t n, double threshold);

typedef struct rdm_prf {
    double precision, recall, f1; /* 0 when the denominator is 0 */
} rdm_prf;

rdm_prf rdm_prf_at(const double *p, const float *y, size_t n, double threshold);

/* The threshold (one of the p values) maximising F1 on the given rows when
 * predicting positive for p >= threshold; *f1 (may be NULL) gets that F1.
 * Ties: the highest such threshold. Returns 0.5 when there are no positives. */
double rdm_best_f1_threshold(const double *p, const float *y, size_t n, double *f1);

/* Calibration: 10 equal-width bins over [0, 1] (p == 1 in the last bin). */
#define RDM_CALIB_BINS 10

typedef struct rdm_calib_bin {
    double lo, hi;    /* bin edges */
    double mean_pred; /* mean predicted probability in the bin (NaN if empty) */
    double observed;  /* observed positive rate in the bin (NaN if empty) */
    size_t count;
} rdm_calib_bin;

void rdm_calibration(const double *p, const float *y, size_t n, rdm_calib_bin out[RDM_CALIB_BINS]);

/* A curve downsampled to at most RDM_CURVE_MAX points (first and last kept).
 * ROC: x = false positive rate, y = true positive rate, from (0,0) to (1,1).
 * PR: x = recall, y = precision, in decreasing threshold order.
 * thr[i] = the threshold of the point (+inf for the ROC origin). */
#define RDM_CURVE_MAX 300

typedef struct rdm_curve {
    int n;
    double x[RDM_CURVE_MAX], y[RDM_CURVE_MAX], thr[RDM_CURVE_MAX];
} rdm_curve;

/* Fill `out` (caller-owned). RDM_ENOMEM or RDM_EINVAL (a class missing). */
int rdm_roc_curve(const double *p, const float *y, size_t n, rdm_curve *out, rdm_err *err);
int rdm_pr_curve(const double *p, const float *y, size_t n, rdm_curve *out, rdm_err *err);

/* Percentile bootstrap interval of ROC AUC: B resamples of n rows with
 * replacement (seeded, deterministic), 2.5% and 97.5% percentiles into *lo and
 * *hi. O(n log n) once plus O(n) per resample. */
int rdm_auc_bootstrap(const double *p, const float *y, size_t n, int B, uint64_t seed, double *lo,
                      double *hi, rdm_err *err);

/* All scalar metrics at once (for run records). */
typedef struct rdm_metrics {
    size_t n;
    double positive_rate;
    double roc_auc, pr_auc, log_loss, brier;
    double accuracy;     /* at 0.5 */
    double threshold;    /* the threshold used for the fields below */
    double accuracy_thr; /* accuracy at threshold */
    double precision, recall, f1;
    rdm_confusion cm; /* at threshold */
} rdm_metrics;

void rdm_metrics_compute(const double *p, const float *y, size_t n, double threshold,
                         rdm_metrics *out);

/* ---- the rows sorted once ----
 * The metrics above that need the order of the scores, on one sorted copy of
 * (p, y): the same values as the functions above, which sort for themselves,
 * for the cost of one sort. p and y must stay as they were given. */
typedef struct rdm_ranked rdm_ranked;
/* NULL when out of memory. */
rdm_ranked *rdm_ranked_create(const double *p, const float *y, size_t n);
void rdm_ranked_free(rdm_ranked *r);
double rdm_ranked_roc_auc(const rdm_ranked *r);
double rdm_ranked_average_precision(const rdm_ranked *r);
double rdm_ranked_best_f1_threshold(const rdm_ranked *r, double *f1);
int rdm_ranked_roc_curve(const rdm_ranked *r, rdm_curve *out, rdm_err *err);
int rdm_ranked_pr_curve(const rdm_ranked *r, rdm_curve *out, rdm_err *err);
int rdm_ranked_auc_bootstrap(const rdm_ranked *r, int B, uint64_t seed, double *lo, double *hi,
                             rdm_err *err);
/* rdm_metrics_compute and rdm_metric_by_name of the (p, y) r was made from */
void rdm_ranked_metrics(const rdm_ranked *r, const double *p, const float *y, double threshold,
                        rdm_metrics *out);
double rdm_ranked_metric_by_name(const char *metric, const rdm_ranked *r, const double *p,
                                 const float *y);

#endif
