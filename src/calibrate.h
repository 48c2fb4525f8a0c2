/* calibrate.h - how honest the probabilities are: calibration slope and
 * intercept, expected calibration error, reliability bins with their counts,
 * and intervals that resample patients (a patient's encounters are not
 * independent). The slope/intercept fit is also the Platt calibrator.
 *
 * Row weights w (NULL = all 1) are counts: the same as repeating row i w[i]
 * times. Probabilities are clamped to [1e-12, 1 - 1e-12] before logit. */
#ifndef RDM_CALIBRATE_H
#define RDM_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

/* Logistic recalibration logit P(y = 1) = intercept + slope * logit(p),
 * fitted by Newton's method on the weighted log likelihood (a perfectly
 * calibrated model has slope 1 and intercept 0; slope < 1 means predictions
 * too extreme). Fitted on validation it is Platt scaling. RDM_EINVAL when
 * there is only one class or no weight. */
int rdm_calib_fit(const double *p, const float *y, const double *w, size_t n, double *intercept,
                  double *slope, rdm_err *err);

/* The recalibrated probability sigmoid(intercept + slope * logit(p)). */
double rdm_calib_apply(double intercept, double slope, double p);

#define RDM_CALIB_MAXBINS 50

typedef struct rdm_calib_bin {
    double lo, hi;   /* [lo, hi) of predicted probability (the last bin includes 1) */
    double n;        /* encounters (weight) in the bin */
    double mean_p;   /* mean predicted probability (NaN when empty) */
    double frac_pos; /* observed fraction readmitted (NaN when empty) */
} rdm_calib_bin;

/* Equal-width reliability bins over [0, 1] (nbins 1..RDM_CALIB_MAXBINS) and
 * the expected calibration error: sum over bins of weight share times
 * |mean_p - frac_pos|. Returns the ECE (NaN when there is no weight). */
double rdm_calib_bins(const double *p, const float *y, const double *w, size_t n, int nbins,
                      rdm_calib_bin *bins);

/* Everything with 95% percentile intervals over B resamples of patients
 * (group[i] = patient of row i; a drawn patient brings all their rows). */
typedef struct rdm_calibration {
    size_t n, patients;
    double slope, slope_lo, slope_hi;
    double intercept, intercept_lo, intercept_hi;
    double ece, ece_lo, ece_hi;
    int nbins;
    rdm_calib_bin bins[RDM_CALIB_MAXBINS];
} rdm_calibration;

int rdm_calibration_measure(const double *p, const float *y, const int64_t *group, size_t n,
                            int nbins, int B, uint64_t seed, rdm_calibration *out, rdm_err *err);

#endif
