/* calibrate.c - calibration slope/intercept (and Platt), ECE, reliability bins,
 * patient-resampled intervals. */
#include "calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "rng.h"

static double logit_clamped(double p)
{
    if (!(p >= 1e-12))
        p = 1e-12;
    if (p > 1 - 1e-12)
        p = 1 - 1e-12;
    return log(p / (1 - p));
}

double rdm_calib_apply(double intercept, double slope, double p)
{
    return 1 / (1 + exp(-(intercept + slope * logit_clamped(p))));
}

int rdm_calib_fit(const double *p, const float *y, const double *w, size_t n, double *intercept,
                  double *slope, rdm_err *err)
{
    double W = 0, P = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        W += wi;
        P += wi * (y[i] > 0.5f);
    }
    if (!(W > 0) || P <= 0 || P >= W)
        return rdm_errf(err, RDM_EINVAL, "calibration: needs both classes");
    double a = log(P / (W - P)), b = 0; /* start: the base rate */
    for (int it = 0; it < 100; it++) {
        double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
        for (size_t i = 0; i < n; i++) {
            double wi = w ? w[i] : 1;
            if (wi == 0)
                continue;
            double z = logit_clamped(p[i]), q = 1 / (1 + exp(-(a + b * z)));
            double r = (y[i] > 0.5f) - q, v = q * (1 - q);
            g0 += wi * r;
            g1 += wi * r * z;
            h00 += wi * v;
            h01 += wi * v * z;
            h11 += wi * v * z * z;
        }
        double det = h00 * h11 - h01 * h01;
        if (!(det > 0))
            return rdm_errf(err, RDM_EINVAL, "calibration: predictions do not vary");
        double da = (h11 * g0 - h01 * g1) / det, db = (h00 * g1 - h01 * g0) / det;
        a += da;
        b += db;
        if (fabs(da) + fabs(db) < 1e-12)
            break;
    }
    *intercept = a;
    *slope = b;
    return RDM_OK;
}

double rdm_calib_bins(const double *p, const float *y, const double *w, size_t n, int nbins,
                      rdm_calib_bin *bins)
{
    if (nbins < 1)
        nbins = 1;
    if (nbins > RDM_CALIB_MAXBINS)
        nbins = RDM_CALIB_MAXBINS;
    double sp[RDM_CALIB_MAXBINS] = {0}, sy[RDM_CALIB_MAXBINS] = {0}, W = 0;
    for (int b = 0; b < nbins; b++) {
        bins[b].lo = (double)b / nbins;
        bins[b].hi = (double)(b + 1) / nbins;
        bins[b].n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        int b = (int)(p[i] * nbins);
        if (b < 0)
            b = 0;
        if (b >= nbins)
            b = nbins - 1;
        bins[b].n += wi;
        sp[b] += wi * p[i];
        sy[b] += wi * (y[i] > 0.5f);
        W += wi;
    }
    double ece = 0;
    for (int b = 0; b < nbins; b++) {
        bins[b].mean_p = bins[b].n > 0 ? sp[b] / bins[b].n : NAN;
        bins[b].frac_pos = bins[b].n > 0 ? sy[b] / bins[b].n : NAN;
        if (bins[b].n > 0)
            ece += bins[b].n / W * fabs(bins[b].mean_p - bins[b].frac_pos);
    }
    return W > 0 ? ece : NAN;
}

typedef struct grow {
    int64_t g;
    size_t i;
} grow;

static int cmp_grow(const void *a, const void *b)
{
    const grow *x = a, *y = b;
    return (x->g > y->g) - (x->g < y->g);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int rdm_calibration_measure(const double *p, const float *y, const int64_t *group, size_t n,
                            int nbins, int B, uint64_t seed, rdm_calibration *out, rdm_err *err)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->nbins = nbins < 1 ? 1 : nbins > RDM_CALIB_MAXBINS ? RDM_CALIB_MAXBINS : nbins;
    out->ece = rdm_calib_bins(p, y, NULL, n, out->nbins, out->bins);
    int rc = rdm_calib_fit(p, y, NULL, n, &out->intercept, &out->slope, err);
    if (rc)
        return rc;
    size_t *gid = malloc((n + 1) * sizeof *gid);
    grow *t = malloc((n + 1) * sizeof *t);
    double *w = malloc((n + 1) * sizeof *w), *cnt = malloc((n + 1) * sizeof *cnt);
    double *vs = malloc(3 * ((size_t)B + 1) * sizeof *vs);
    if (!gid || !t || !w || !cnt || !vs) {
        rc = rdm_errf(err, RDM_ENOMEM, "calibration: out of memory");
        goto done;
    }
    /* dense patient index per row */
    for (size_t i = 0; i < n; i++)
        t[i] = (grow){group ? group[i] : (int64_t)i, i};
    qsort(t, n, sizeof *t, cmp_grow);
    size_t G = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && t[k].g != t[k - 1].g)
            G++;
        gid[t[k].i] = G;
    }
    G = n ? G + 1 : 0;
    out->patients = G;
    rdm_rng rng;
    rdm_rng_seed(&rng, seed);
    double *sl = vs, *ic = vs + B, *ec = vs + 2 * (size_t)B;
    int m = 0;
    rdm_calib_bin tmp[RDM_CALIB_MAXBINS];
    for (int b = 0; b < B; b++) {
        memset(cnt, 0, G * sizeof *cnt);
        for (size_t k = 0; k < G; k++)
            cnt[rdm_rng_below(&rng, G)] += 1;
        for (size_t i = 0; i < n; i++)
            w[i] = cnt[gid[i]];
        double a, s;
        if (rdm_calib_fit(p, y, w, n, &a, &s, NULL) != RDM_OK)
            continue; /* a resample with one class */
        sl[m] = s;
        ic[m] = a;
        ec[m] = rdm_calib_bins(p, y, w, n, out->nbins, tmp);
        m++;
    }
    if (m == 0) {
        rc = rdm_errf(err, RDM_EINVAL, "calibration: no resample had both classes");
        goto done;
    }
    qsort(sl, (size_t)m, sizeof *sl, cmp_d);
    qsort(ic, (size_t)m, sizeof *ic, cmp_d);
    qsort(ec, (size_t)m, sizeof *ec, cmp_d);
    out->slope_lo = rdm_percentile_sorted(sl, (size_t)m, 0.025);
    out->slope_hi = rdm_percentile_sorted(sl, (size_t)m, 0.975);
    out->intercept_lo = rdm_percentile_sorted(ic, (size_t)m, 0.025);
    out->intercept_hi = rdm_percentile_sorted(ic, (size_t)m, 0.975);
    out->ece_lo = rdm_percentile_sorted(ec, (size_t)m, 0.025);
    out->ece_hi = rdm_percentile_sorted(ec, (size_t)m, 0.975);
done:
    free(gid);
    free(t);
    free(w);
    free(cnt);
    free(vs);
    return rc;
}
