/* estimate.c - expected performance of a calibrated model from its scores. */
#include "estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static int cmp_asc(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

static double *sorted_copy(const double *p, size_t n)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    memcpy(s, p, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_asc);
    return s;
}

/* Expected AUC over ascending scores: a positive i outranks a negative j with
 * weight p_i (1 - p_j); tied pairs count half; i == j never pairs. */
static double expected_auc_sorted(const double *s, size_t n)
{
    double neg_below = 0, num = 0, sp = 0, sq = 0, spq = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gq = 0, gpq = 0;
        for (; j < n && s[j] == s[i]; j++) {
            gp += s[j];
            gq += 1 - s[j];
            gpq += s[j] * (1 - s[j]);
        }
        num += gp * neg_below + 0.5 * (gp * gq - gpq);
        neg_below += gq;
        sp += gp;
        sq += gq;
        spq += gpq;
        i = j;
    }
    double den = sp * sq - spq;
    return den > 0 ? num / den : NAN;
}

double rdm_estimate_auc(const double *p, size_t n)
{
    double *s = sorted_copy(p, n);
    if (!s)
        return NAN;
    double auc = expected_auc_sorted(s, n);
    free(s);
    return auc;
}

/* Realized AUC of one label draw over ascending scores. */
static double draw_auc(const double *s, size_t n, rdm_rng *rng)
{
    double neg_below = 0, P = 0, N = 0, sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        for (; j < n && s[j] == s[i]; j++) {
            if (rdm_rng_uniform(rng) < s[j])
                gp++;
            else
                gn++;
        }
        sum += gp * (neg_below + gn / 2);
        neg_below += gn;
        P += gp;
        N += gn;
        i = j;
    }
    return P > 0 && N > 0 ? sum / (P * N) : NAN;
}

static void calibration(const double *p, size_t n, rdm_estimate *out)
{
    double sum[RDM_CALIB_BINS] = {0}, var[RDM_CALIB_BINS] = {0};
    for (int b = 0; b < RDM_CALIB_BINS; b++) {
        out->calib[b] = (rdm_calib_bin){(double)b / RDM_CALIB_BINS,
                                        (double)(b + 1) / RDM_CALIB_BINS, NAN, NAN, 0};
        out->calib_lo[b] = out->calib_hi[b] = NAN;
    }
    for (size_t i = 0; i < n; i++) {
        int b = (int)(p[i] * RDM_CALIB_BINS);
        b = b < 0 ? 0 : b >= RDM_CALIB_BINS ? RDM_CALIB_BINS - 1 : b;
        sum[b] += p[i];
        var[b] += p[i] * (1 - p[i]);
        out->calib[b].count++;
    }
    for (int b = 0; b < RDM_CALIB_BINS; b++) {
        double c = (double)out->calib[b].count;
        if (c == 0)
            continue;
        double m = sum[b] / c, half = 1.959964 * sqrt(var[b]) / c;
        out->calib[b].mean_pred = out->calib[b].observed = m;
        out->calib_lo[b] = m - half < 0 ? 0 : m - half;
        out->calib_hi[b] = m + half > 1 ? 1 : m + half;
    }
}

int rdm_estimate_compute(const double *p, size_t n, double threshold, int draws, uint64_t seed,
                         rdm_estimate *out, rdm_err *err)
{
    memset(out, 0, sizeof *out);
    out->roc_auc = out->roc_auc_lo = out->roc_auc_hi = NAN;
    if (n == 0)
        return rdm_errf(err, RDM_EINVAL, "estimate: no predictions");
    double *s = sorted_copy(p, n);
    double *aucs = malloc((size_t)(draws > 0 ? draws : 1) * sizeof *aucs);
    if (!s || !aucs) {
        free(s);
        free(aucs);
        return rdm_errf(err, RDM_ENOMEM, "estimate: out of memory");
    }
    out->n = n;
    out->roc_auc = expected_auc_sorted(s, n);
    double sp = 0, sdec = 0, sdp = 0, ll = 0, br = 0;
    for (size_t i = 0; i < n; i++) {
        double q = p[i];
        sp += q;
        if (q >= threshold) {
            sdec++;
            sdp += q;
        }
        if (q > 0 && q < 1)
            ll -= q * log(q) + (1 - q) * log(1 - q);
        br += q * (1 - q);
    }
    out->positive_rate = sp / (double)n;
    out->decision_rate = sdec / (double)n;
    out->precision = sdec > 0 ? sdp / sdec : 0;
    out->recall = sp > 0 ? sdp / sp : 0;
    out->log_loss = ll / (double)n;
    out->brier = br / (double)n;
    calibration(p, n, out);
    rdm_rng rng;
    rdm_rng_seed(&rng, seed);
    size_t m = 0;
    for (int d = 0; d < draws; d++) {
        double a = draw_auc(s, n, &rng);
        if (!isnan(a))
            aucs[m++] = a;
    }
    if (m > 1) { // normal interval from the spread of the draws: a few dozen draws suffice
        double mean = 0, var = 0;
        for (size_t i = 0; i < m; i++)
            mean += aucs[i] / (double)m;
        for (size_t i = 0; i < m; i++)
            var += (aucs[i] - mean) * (aucs[i] - mean) / (double)(m - 1);
        out->roc_auc_lo = out->roc_auc - 1.959964 * sqrt(var);
        out->roc_auc_hi = out->roc_auc + 1.959964 * sqrt(var);
    }
    free(s);
    free(aucs);
    return RDM_OK;
}
