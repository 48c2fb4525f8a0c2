/* bootstrap.c - patient-resampled bootstrap of ROC AUC and weighted AUC. */
#include "bootstrap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

typedef struct wrow {
    double p;
    float y;
    size_t i; /* original row */
} wrow;

static int cmp_desc(const void *a, const void *b)
{
    const wrow *x = a, *z = b;
    if (x->p != z->p)
        return x->p < z->p ? 1 : -1;
    return (x->i > z->i) - (x->i < z->i);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

double rdm_percentile_sorted(const double *v, size_t m, double q)
{
    double h = q * (double)(m - 1);
    size_t lo = (size_t)floor(h);
    if (lo >= m - 1)
        return v[m - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* AUC over rows sorted by decreasing score with weight wt(k) of sorted row k:
 * each negative's weight times (positives above + half the tied positives). */
static double sweep(const wrow *s, size_t n, const double *w)
{
    double tp = 0, P = 0, N = 0, sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        for (; j < n && s[j].p == s[i].p; j++) {
            double wk = w ? w[s[j].i] : 1.0;
            if (s[j].y > 0.5f)
                gp += wk;
            else
                gn += wk;
        }
        sum += gn * (tp + gp / 2);
        tp += gp;
        P += gp;
        N += gn;
        i = j;
    }
    return P > 0 && N > 0 ? sum / (P * N) : NAN;
}

static wrow *sorted_rows(const double *p, const float *y, size_t n)
{
    wrow *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = (wrow){p[i], y[i], i};
    qsort(s, n, sizeof *s, cmp_desc);
    return s;
}

double rdm_auc_weighted(const double *p, const float *y, const double *w, size_t n)
{
    wrow *s = sorted_rows(p, y, n);
    if (!s)
        return NAN;
    double auc = sweep(s, n, w);
    free(s);
    return auc;
}

typedef struct grow {
    int64_t g;
    size_t i;
} grow;

static int cmp_group(const void *a, const void *b)
{
    const grow *x = a, *z = b;
    if (x->g != z->g)
        return (x->g > z->g) - (x->g < z->g);
    return (x->i > z->i) - (x->i < z->i);
}

/* Dense group index of every row (0..G-1 in increasing group id); returns G. */
static size_t dense_groups(const int64_t *group, size_t n, size_t *gid, grow *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (grow){group[i], i};
    qsort(tmp, n, sizeof *tmp, cmp_group);
    size_t G = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && tmp[k].g != tmp[k - 1].g)
            G++;
        gid[tmp[k].i] = G;
    }
    return n ? G + 1 : 0;
}

/* The interval of AUC(p), or of AUC(p2) - AUC(p) on the same resamples when
 * p2 is not NULL. */
static int grouped(const double *p, const double *p2, const float *y, const int64_t *group,
                   size_t n, int B, uint64_t seed, double *lo, double *hi, rdm_err *err)
{
    *lo = *hi = NAN;
    if (n == 0 || B <= 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: need rows and B > 0");
    int rc = RDM_ENOMEM;
    wrow *s = sorted_rows(p, y, n), *s2 = p2 ? sorted_rows(p2, y, n) : NULL;
    size_t *gid = malloc(n * sizeof *gid);
    grow *tmp = malloc(n * sizeof *tmp);
    double *w = malloc(n * sizeof *w);
    double *cnt = malloc(n * sizeof *cnt);
    double *aucs = malloc((size_t)B * sizeof *aucs);
    if (!s || (p2 && !s2) || !gid || !tmp || !w || !cnt || !aucs) {
        rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
        goto done;
    }
    size_t G = dense_groups(group, n, gid, tmp);
    rdm_rng rng;
    rdm_rng_seed(&rng, seed);
    size_t m = 0;
    for (int b = 0; b < B; b++) {
        memset(cnt, 0, G * sizeof *cnt);
        for (size_t k = 0; k < G; k++)
            cnt[rdm_rng_below(&rng, G)] += 1;
        for (size_t i = 0; i < n; i++)
            w[i] = cnt[gid[i]];
        double a = sweep(s, n, w);
        if (s2)
            a = sweep(s2, n, w) - a;
        if (!isnan(a))
            aucs[m++] = a;
    }
    if (m == 0) {
        rc = rdm_errf(err, RDM_EINVAL, "bootstrap: every resample had a single class");
        goto done;
    }
    qsort(aucs, m, sizeof *aucs, cmp_double);
    *lo = rdm_percentile_sorted(aucs, m, 0.025);
    *hi = rdm_percentile_sorted(aucs, m, 0.975);
    rc = RDM_OK;
done:
    free(s);
    free(s2);
    free(gid);
    free(tmp);
    free(w);
    free(cnt);
    free(aucs);
    return rc;
}

int rdm_auc_bootstrap_grouped(const double *p, const float *y, const int64_t *group, size_t n,
                              int B, uint64_t seed, double *lo, double *hi, rdm_err *err)
{
    return grouped(p, NULL, y, group, n, B, seed, lo, hi, err);
}

int rdm_auc_diff_bootstrap_grouped(const double *p, const double *p2, const float *y,
                                   const int64_t *group, size_t n, int B, uint64_t seed, double *lo,
                                   double *hi, rdm_err *err)
{
    return grouped(p, p2, y, group, n, B, seed, lo, hi, err);
}
