/* test_bootstrap.c - weighted AUC and the patient-resampled bootstrap. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "metrics.h"
#include "rng.h"

/* The paired interval of a difference: a score against itself is exactly 0;
 * a score with more signal lies wholly above 0; swapped, wholly below. */
static void test_paired_difference(void)
{
    enum { M = 3000 };

    static double p[M], q[M];
    static float y[M];
    static int64_t g[M];
    rdm_rng r;
    rdm_rng_seed(&r, 9);
    for (size_t i = 0; i < M; i++) {
        y[i] = rdm_rng_uniform(&r) < 0.2;
        double noise = rdm_rng_uniform(&r);
        p[i] = noise + 0.3 * y[i];
        q[i] = noise + 0.8 * y[i];
        g[i] = (int64_t)(i / 3);
    }
    double lo, hi;
    CU_ASSERT_EQUAL_FATAL(rdm_auc_diff_bootstrap_grouped(p, p, y, g, M, 200, 1, &lo, &hi, NULL),
                          RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(lo, 0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(hi, 0, 1e-15);
    CU_ASSERT_EQUAL_FATAL(rdm_auc_diff_bootstrap_grouped(p, q, y, g, M, 200, 1, &lo, &hi, NULL),
                          RDM_OK);
    double d = rdm_auc_weighted(q, y, NULL, M) - rdm_auc_weighted(p, y, NULL, M);
    CU_ASSERT(lo > 0 && lo < d && d < hi);
    CU_ASSERT_EQUAL_FATAL(rdm_auc_diff_bootstrap_grouped(q, p, y, g, M, 200, 1, &lo, &hi, NULL),
                          RDM_OK);
    CU_ASSERT(hi < 0);
}

int test_bootstrap_register(void);

static void test_weighted_auc(void)
{
    // Weighted AUC equals the plain AUC of the rows repeated w times.
    static const struct {
        size_t n;
        double p[5];
        float y[5];
        double w[5];
    } C[] = {
        {4, {0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}, {1, 1, 1, 1}},
        {4, {0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}, {2, 0, 3, 1}},
        {5, {0.9, 0.8, 0.8, 0.5, 0.3}, {1, 1, 0, 0, 1}, {1, 2, 1, 3, 1}},
        {3, {0.5, 0.5, 0.5}, {1, 0, 1}, {4, 1, 2}},
    };

    for (size_t c = 0; c < sizeof C / sizeof C[0]; c++) {
        double ep[32];
        float ey[32];
        size_t m = 0;
        for (size_t i = 0; i < C[c].n; i++)
            for (int k = 0; k < (int)C[c].w[i]; k++) {
                ep[m] = C[c].p[i];
                ey[m++] = C[c].y[i];
            }
        CU_ASSERT_DOUBLE_EQUAL(rdm_auc_weighted(C[c].p, C[c].y, C[c].w, C[c].n),
                               rdm_roc_auc(ep, ey, m), 1e-12);
    }
    CU_ASSERT_DOUBLE_EQUAL(rdm_auc_weighted(C[0].p, C[0].y, NULL, 4), 0.75, 1e-12);
    static const double w0[] = {1, 1, 0, 0}; // no positive weight left
    CU_ASSERT(isnan(rdm_auc_weighted(C[0].p, C[0].y, w0, 4)));
}

static void test_percentile(void)
{
    static const double v[] = {1, 2, 3, 4};

    static const struct {
        double q, want;
    } Q[] = {{0, 1}, {0.5, 2.5}, {0.025, 1.075}, {0.975, 3.925}, {1, 4}};

    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++)
        CU_ASSERT_DOUBLE_EQUAL(rdm_percentile_sorted(v, 4, Q[i].q), Q[i].want, 1e-12);
}

static void test_degenerate_groups(void)
{
    static const double p[] = {0.9, 0.1, 0.8, 0.2, 0.7, 0.6};
    static const float y[] = {1, 0, 1, 0, 0, 1};
    rdm_err err = {0};
    double lo, hi;
    // one patient: every resample is the whole data set
    static const int64_t one[] = {7, 7, 7, 7, 7, 7};
    CU_ASSERT_EQUAL(rdm_auc_bootstrap_grouped(p, y, one, 6, 50, 1, &lo, &hi, &err), RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(lo, rdm_roc_auc(p, y, 6), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(hi, rdm_roc_auc(p, y, 6), 1e-12);
    // two patients each ranking their own positive first, above the other's
    // negative too: every resample with both classes has AUC 1
    static const int64_t two[] = {1, 1, 2, 2};
    CU_ASSERT_EQUAL(rdm_auc_bootstrap_grouped(p, y, two, 4, 50, 1, &lo, &hi, &err), RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(lo, 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(hi, 1.0, 1e-12);
    // a patient with only positives and one with only negatives: resamples of
    // a single patient have one class and are skipped; the others give 1
    static const float yy[] = {1, 1, 0, 0};
    static const double pp[] = {0.9, 0.8, 0.2, 0.1};
    CU_ASSERT_EQUAL(rdm_auc_bootstrap_grouped(pp, yy, two, 4, 50, 1, &lo, &hi, &err), RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(lo, 1.0, 1e-12);
    static const float pos[] = {1, 1, 1, 1};
    CU_ASSERT_EQUAL(rdm_auc_bootstrap_grouped(pp, pos, two, 4, 20, 1, &lo, &hi, &err), RDM_EINVAL);
    CU_ASSERT(isnan(lo) && isnan(hi));
}

/* 150 patients with 10 identical encounters each: the rows carry the
 * information of 150, not 1500, so the patient interval is about sqrt(10)
 * times the row interval; with one encounter per patient both agree. */
static void test_clustered_width(void)
{
    enum { G = 150, K = 10, N = G * K };

    double *p = malloc(N * sizeof *p);
    float *y = malloc(N * sizeof *y);
    int64_t *gr = malloc(N * sizeof *gr), *uniq = malloc(N * sizeof *uniq);
    CU_ASSERT_FATAL(p && y && gr && uniq);
    rdm_rng r;
    rdm_rng_seed(&r, 11);
    for (int g = 0; g < G; g++) {
        double s = rdm_rng_uniform(&r);
        float lab = rdm_rng_uniform(&r) < 0.2 + 0.5 * s ? 1.0f : 0.0f;
        for (int k = 0; k < K; k++) {
            p[g * K + k] = s;
            y[g * K + k] = lab;
            gr[g * K + k] = 1000 + g;
            uniq[g * K + k] = g * K + k;
        }
    }
    rdm_err err = {0};
    double glo, ghi, rlo, rhi, ulo, uhi;
    CU_ASSERT_EQUAL_FATAL(rdm_auc_bootstrap_grouped(p, y, gr, N, 300, 5, &glo, &ghi, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_auc_bootstrap(p, y, N, 300, 5, &rlo, &rhi, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_auc_bootstrap_grouped(p, y, uniq, N, 300, 6, &ulo, &uhi, &err),
                          RDM_OK);
    double auc = rdm_roc_auc(p, y, N);
    CU_ASSERT(glo < auc && auc < ghi);
    double ratio = (ghi - glo) / (rhi - rlo), same = (uhi - ulo) / (rhi - rlo);
    CU_ASSERT(ratio > 2.2 && ratio < 4.5);
    CU_ASSERT(same > 0.75 && same < 1.33);
    // deterministic for a seed
    double a, b;
    CU_ASSERT_EQUAL(rdm_auc_bootstrap_grouped(p, y, gr, N, 300, 5, &a, &b, &err), RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(a, glo, 0);
    CU_ASSERT_DOUBLE_EQUAL(b, ghi, 0);
    free(p);
    free(y);
    free(gr);
    free(uniq);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, z = *(const int64_t *)b;
    return (x > z) - (x < z);
}

/* The patient bootstrap spelled out: per resample, each patient's draw count
 * as the weight of its rows, and the weighted AUC of rdm_auc_weighted. */
static void reference_interval(const double *p, const float *y, const int64_t *pat, size_t n, int B,
                               uint64_t seed, double *lo, double *hi)
{
    size_t *gid = malloc(n * sizeof *gid), G = 0;
    int64_t *ids = malloc(n * sizeof *ids);
    double *cnt = malloc(n * sizeof *cnt), *w = malloc(n * sizeof *w);
    double *aucs = malloc((size_t)B * sizeof *aucs);
    CU_ASSERT_FATAL(gid && ids && cnt && w && aucs);
    for (size_t i = 0; i < n; i++) /* dense ids in increasing patient order */
        ids[i] = pat[i];
    qsort(ids, n, sizeof *ids, cmp_i64);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || ids[i] != ids[i - 1])
            ids[G++] = ids[i];
    for (size_t i = 0; i < n; i++)
        gid[i] = (size_t)((const int64_t *)bsearch(&pat[i], ids, G, sizeof *ids, cmp_i64) - ids);
    rdm_rng r;
    rdm_rng_seed(&r, seed);
    size_t m = 0;
    for (int b = 0; b < B; b++) {
        for (size_t k = 0; k < G; k++)
            cnt[k] = 0;
        for (size_t k = 0; k < G; k++)
            cnt[rdm_rng_below(&r, G)] += 1;
        for (size_t i = 0; i < n; i++)
            w[i] = cnt[gid[i]];
        double a = rdm_auc_weighted(p, y, w, n);
        if (!isnan(a))
            aucs[m++] = a;
    }
    qsort(aucs, m, sizeof *aucs, cmp_dbl);
    *lo = rdm_percentile_sorted(aucs, m, 0.025);
    *hi = rdm_percentile_sorted(aucs, m, 0.975);
    free(gid);
    free(ids);
    free(cnt);
    free(w);
    free(aucs);
}

/* The prepared-rows bootstrap (integer sums, one sort) gives the same
 * interval, to the last bit, as the plain algorithm: with tied scores, several
 * encounters per patient, patients in no particular order and scores of 0. */
static void test_same_as_reference(void)
{
    enum { M = 700 };

    static double p[M];
    static float y[M];
    static int64_t g[M];
    rdm_rng r;
    rdm_rng_seed(&r, 21);
    for (size_t i = 0; i < M; i++) {
        y[i] = rdm_rng_uniform(&r) < 0.3;
        p[i] = floor((0.7 * rdm_rng_uniform(&r) + 0.3 * y[i]) * 40 - 2) / 40;
        p[i] = p[i] < 0 ? (i % 2 ? 0.0 : -0.0) : p[i];
        /* negative ids too: a row of unknown patient is a group of its own */
        g[i] = i % 9 == 0 ? -1 - (int64_t)i : 5000 - (int64_t)rdm_rng_below(&r, 260);
    }
    for (uint64_t seed = 1; seed <= 3; seed++) {
        double lo, hi, rlo, rhi;
        CU_ASSERT_EQUAL_FATAL(rdm_auc_bootstrap_grouped(p, y, g, M, 40, seed, &lo, &hi, NULL),
                              RDM_OK);
        reference_interval(p, y, g, M, 40, seed, &rlo, &rhi);
        CU_ASSERT(lo < hi);
        CU_ASSERT_EQUAL(memcmp(&lo, &rlo, sizeof lo), 0);
        CU_ASSERT_EQUAL(memcmp(&hi, &rhi, sizeof hi), 0);
    }
}

int test_bootstrap_register(void)
{
    CU_pSuite s = CU_add_suite("bootstrap", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_weighted_auc) && CU_ADD_TEST(s, test_percentile) &&
            CU_ADD_TEST(s, test_degenerate_groups) && CU_ADD_TEST(s, test_clustered_width) &&
            CU_ADD_TEST(s, test_paired_difference) && CU_ADD_TEST(s, test_same_as_reference))
               ? 0
               : -1;
}
