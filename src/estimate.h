/* estimate.h - performance expected from predicted probabilities alone, before
 * any label arrives, under the assumption that the model is calibrated (the
 * idea behind confidence-based performance estimation): if P(y = 1 | p) = p,
 * labels are independent Bernoulli(p_i) draws, so every metric has an
 * expected value and a spread that the realized metric should fall within. */
#ifndef RDM_ESTIMATE_H
#define RDM_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "readmit.h"

typedef struct rdm_estimate {
    size_t n;
    double roc_auc;       /* E[#concordant pairs] / E[#pos-neg pairs] */
    double roc_auc_lo;    /* 2.5% and 97.5% of the realized AUC over label draws */
    double roc_auc_hi;    /* (NaN when draws == 0) */
    double positive_rate; /* mean p */
    double decision_rate; /* share with p >= threshold */
    double precision;     /* expected at the threshold: sum p over decided / decided */
    double recall;        /* sum p over decided / sum p */
    double log_loss;      /* mean entropy of p (base e) */
    double brier;         /* mean p (1 - p) */
    /* Calibration bins (metrics.h layout): under calibration the observed rate of
     * a bin is expected to equal its mean prediction, within [lo, hi] (95%,
     * normal approximation to the sum of Bernoulli draws). */
    rdm_calib_bin calib[RDM_CALIB_BINS];
    double calib_lo[RDM_CALIB_BINS], calib_hi[RDM_CALIB_BINS];
} rdm_estimate;

/* Expected ROC AUC (the ratio of expected concordant to expected discordant +
 * concordant pairs, ties 1/2): O(n log n). */
double rdm_estimate_auc(const double *p, size_t n);

/* Everything above for `n` probabilities; `draws` label draws (seeded, O(n)
 * each) give the spread of the AUC (0 = skip). RDM_EINVAL when n == 0,
 * RDM_ENOMEM. */
int rdm_estimate_compute(const double *p, size_t n, double threshold, int draws, uint64_t seed,
                         rdm_estimate *out, rdm_err *err);

#endif
