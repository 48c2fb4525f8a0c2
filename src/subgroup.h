/* subgroup.h - performance by patient group (the model card's disaggregated
 * evaluation): for the rows of one group, ROC AUC with a patient-resampled
 * interval, calibration-in-the-large, positive rate and true/false positive
 * rates at the decision threshold, and the group's size. */
#ifndef RDM_SUBGROUP_H
#define RDM_SUBGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

typedef struct rdm_subgroup {
    size_t n, patients, positives;
    double auc, auc_lo, auc_hi; /* NaN when the group has a single class */
    double mean_p, observed;    /* mean predicted probability, observed rate */
    double positive_rate;       /* share flagged (p >= threshold) */
    double tpr, fpr;            /* at the threshold (NaN without positives / negatives) */
    int below;                  /* 1: the AUC interval lies wholly below `overall_auc` */
} rdm_subgroup;

/* Metrics of the rows i with member[i] != 0 (member NULL = all rows);
 * group[i] is the patient of row i (intervals resample patients, B
 * resamples, seeded). overall_auc (NaN: none) sets `below`. */
int rdm_subgroup_measure(const double *p, const float *y, const int64_t *patient,
                         const unsigned char *member, size_t n, double threshold,
                         double overall_auc, int B, uint64_t seed, rdm_subgroup *out, rdm_err *err);

/* The rows of one data set prepared once for measuring many of its groups
 * (one sort for all): p and y are borrowed and must outlive it. */
typedef struct rdm_subgroup_base {
    const double *p;
    const float *y;
    size_t n;
    size_t *order; /* rows by decreasing p, ties in row order */
    uint32_t *pid; /* dense patient index of each row, in increasing patient id */
    size_t G;      /* patients */
} rdm_subgroup_base;

int rdm_subgroup_base_init(rdm_subgroup_base *b, const double *p, const float *y,
                           const int64_t *patient, size_t n, rdm_err *err)
    __attribute__((warn_unused_result));
void rdm_subgroup_base_release(rdm_subgroup_base *b);
/* The same as rdm_subgroup_measure for the rows i with level[i] == want
 * (level NULL: every row). Reads b only: several threads may measure groups
 * of one base at once. */
int rdm_subgroup_measure_in(const rdm_subgroup_base *b, const unsigned char *level,
                            unsigned char want, double threshold, double overall_auc, int B,
                            uint64_t seed, rdm_subgroup *out, rdm_err *err);

#endif
