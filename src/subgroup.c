/* subgroup.c - metrics of one patient group with patient-resampled intervals. */
#include "subgroup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int rdm_subgroup_measure(const double *p, const float *y, const int64_t *patient,
                         const unsigned char *member, size_t n, double threshold,
                         double overall_auc, int B, uint64_t seed, rdm_subgroup *out, rdm_err *err)
{
    memset(out, 0, sizeof *out);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += !member || member[i];
    double *gp = malloc((m + 1) * sizeof *gp);
    float *gy = malloc((m + 1) * sizeof *gy);
    int64_t *gg = malloc((m + 1) * sizeof *gg), *sorted = malloc((m + 1) * sizeof *sorted);
    if (!gp || !gy || !gg || !sorted) {
        free(gp);
        free(gy);
        free(gg);
        free(sorted);
        return rdm_errf(err, RDM_ENOMEM, "subgroup: out of memory");
    }
    size_t k = 0, tp = 0, fp = 0, flagged = 0;
    double sp = 0;
    for (size_t i = 0; i < n; i++) {
        if (member && !member[i])
            continue;
        gp[k] = p[i];
        gy[k] = y[i];
        gg[k] = patient[i];
        int pos = y[i] > 0.5f, flag = p[i] >= threshold;
        out->positives += pos;
        flagged += flag;
        tp += pos && flag;
        fp += !pos && flag;
        sp += p[i];
        k++;
    }
    out->n = m;
    memcpy(sorted, gg, m * sizeof *sorted);
    qsort(sorted, m, sizeof *sorted, cmp_i64);
    for (size_t i = 0; i < m; i++)
        out->patients += i == 0 || sorted[i] != sorted[i - 1];
    size_t neg = m - out->positives;
    out->mean_p = m ? sp / (double)m : NAN;
    out->observed = m ? (double)out->positives / (double)m : NAN;
    out->positive_rate = m ? (double)flagged / (double)m : NAN;
    out->tpr = out->positives ? (double)tp / (double)out->positives : NAN;
    out->fpr = neg ? (double)fp / (double)neg : NAN;
    out->auc = out->auc_lo = out->auc_hi = NAN;
    int rc = RDM_OK;
    if (out->positives && neg) {
        out->auc = rdm_auc_weighted(gp, gy, NULL, m);
        rc = rdm_auc_bootstrap_grouped(gp, gy, gg, m, B, seed, &out->auc_lo, &out->auc_hi, err);
        out->below = rc == RDM_OK && !isnan(overall_auc) && out->auc_hi < overall_auc;
    }
    free(gp);
    free(gy);
    free(gg);
    free(sorted);
    return rc;
}
