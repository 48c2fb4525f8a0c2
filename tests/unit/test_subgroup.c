/* test_subgroup.c - one group's metrics by hand; a group the model ranks
 * worse is flagged below the overall AUC. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "rng.h"
#include "subgroup.h"

int test_subgroup_register(void);

/* Six rows, threshold 0.5: group A = rows 0..3 (p 0.9 0.6 0.4 0.2, y 1 0 1 0):
 * AUC 3/4, flagged 2 of 4, TPR 1/2, FPR 1/2, patients 3. */
static void test_by_hand(void)
{
    double p[] = {0.9, 0.6, 0.4, 0.2, 0.8, 0.1};
    float y[] = {1, 0, 1, 0, 1, 0};
    int64_t pat[] = {7, 7, 8, 9, 10, 11};
    unsigned char a[] = {1, 1, 1, 1, 0, 0};
    rdm_subgroup g;
    CU_ASSERT_EQUAL_FATAL(rdm_subgroup_measure(p, y, pat, a, 6, 0.5, NAN, 50, 1, &g, NULL), RDM_OK);
    CU_ASSERT_EQUAL(g.n, 4);
    CU_ASSERT_EQUAL(g.patients, 3);
    CU_ASSERT_EQUAL(g.positives, 2);
    CU_ASSERT_DOUBLE_EQUAL(g.auc, 0.75, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(g.positive_rate, 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(g.tpr, 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(g.fpr, 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(g.mean_p, 0.525, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(g.observed, 0.5, 0);
    CU_ASSERT_EQUAL(g.below, 0);
}

/* Group 1's scores carry no signal: its AUC interval lies below the overall
 * AUC; group 0's does not. */
static void test_flags_a_worse_group(void)
{
    enum { N = 6000 };

    double *p = malloc(N * sizeof *p);
    float *y = malloc(N * sizeof *y);
    int64_t *pat = malloc(N * sizeof *pat);
    unsigned char *m0 = malloc(N), *m1 = malloc(N);
    CU_ASSERT_FATAL(p && y && pat && m0 && m1);
    rdm_rng r;
    rdm_rng_seed(&r, 2);
    for (size_t i = 0; i < N; i++) {
        int g = i % 3 == 0; /* a third of the rows */
        y[i] = rdm_rng_uniform(&r) < 0.3;
        p[i] = g ? rdm_rng_uniform(&r) : 0.5 * rdm_rng_uniform(&r) + 0.4 * y[i];
        pat[i] = (int64_t)(i / 2);
        m1[i] = (unsigned char)g;
        m0[i] = (unsigned char)!g;
    }
    rdm_subgroup all, g0, g1;
    CU_ASSERT_EQUAL_FATAL(rdm_subgroup_measure(p, y, pat, NULL, N, 0.5, NAN, 200, 1, &all, NULL),
                          RDM_OK);
    CU_ASSERT_EQUAL(rdm_subgroup_measure(p, y, pat, m0, N, 0.5, all.auc, 200, 1, &g0, NULL),
                    RDM_OK);
    CU_ASSERT_EQUAL(rdm_subgroup_measure(p, y, pat, m1, N, 0.5, all.auc, 200, 1, &g1, NULL),
                    RDM_OK);
    CU_ASSERT(g1.auc_lo <= g1.auc && g1.auc <= g1.auc_hi);
    CU_ASSERT_EQUAL(g1.below, 1);
    CU_ASSERT_EQUAL(g0.below, 0);
    CU_ASSERT_EQUAL(g0.n + g1.n, N);
    free(p);
    free(y);
    free(pat);
    free(m0);
    free(m1);
}

/* A group measured on the shared order of its data set (rdm_subgroup_base)
 * equals the group's own rows measured alone, to the last bit. */
static void test_shared_order(void)
{
    enum { N = 3000 };

    double *p = malloc(N * sizeof *p), *gp = malloc(N * sizeof *gp);
    float *y = malloc(N * sizeof *y), *gy = malloc(N * sizeof *gy);
    int64_t *pat = malloc(N * sizeof *pat), *gpat = malloc(N * sizeof *gpat);
    unsigned char *lv = malloc(N);
    CU_ASSERT_FATAL(p && gp && y && gy && pat && gpat && lv);
    rdm_rng r;
    rdm_rng_seed(&r, 8);
    for (size_t i = 0; i < N; i++) {
        y[i] = rdm_rng_uniform(&r) < 0.3;
        p[i] = floor((0.6 * rdm_rng_uniform(&r) + 0.3 * y[i]) * 30) / 30;
        pat[i] = (int64_t)rdm_rng_below(&r, 900);
        lv[i] = (unsigned char)rdm_rng_below(&r, 3);
    }
    rdm_subgroup_base b;
    CU_ASSERT_EQUAL_FATAL(rdm_subgroup_base_init(&b, p, y, pat, N, NULL), RDM_OK);
    for (unsigned char l = 0; l < 3; l++) {
        size_t m = 0;
        for (size_t i = 0; i < N; i++)
            if (lv[i] == l) {
                gp[m] = p[i];
                gy[m] = y[i];
                gpat[m++] = pat[i];
            }
        rdm_subgroup s, alone;
        CU_ASSERT_EQUAL_FATAL(rdm_subgroup_measure_in(&b, lv, l, 0.4, NAN, 80, 3, &s, NULL),
                              RDM_OK);
        CU_ASSERT_EQUAL_FATAL(
            rdm_subgroup_measure(gp, gy, gpat, NULL, m, 0.4, NAN, 80, 3, &alone, NULL), RDM_OK);
        double lo, hi;
        CU_ASSERT_EQUAL_FATAL(rdm_auc_bootstrap_grouped(gp, gy, gpat, m, 80, 3, &lo, &hi, NULL),
                              RDM_OK);
        CU_ASSERT_EQUAL(s.n, m);
        CU_ASSERT_EQUAL(s.patients, alone.patients);
        CU_ASSERT(s.patients > 500 && s.patients < 900);
        CU_ASSERT_EQUAL(memcmp(&s, &alone, sizeof s), 0);
        CU_ASSERT_EQUAL(memcmp(&s.auc_lo, &lo, sizeof lo), 0);
        CU_ASSERT_EQUAL(memcmp(&s.auc_hi, &hi, sizeof hi), 0);
        CU_ASSERT_EQUAL(memcmp(&s.auc, &(double){rdm_auc_weighted(gp, gy, NULL, m)}, sizeof lo), 0);
    }
    rdm_subgroup_base_release(&b);
    free(p);
    free(gp);
    free(y);
    free(gy);
    free(pat);
    free(gpat);
    free(lv);
}

int test_subgroup_register(void)
{
    CU_pSuite s = CU_add_suite("subgroup", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_by_hand) && CU_ADD_TEST(s, test_flags_a_worse_group) &&
            CU_ADD_TEST(s, test_shared_order))
               ? 0
               : -1;
}
