/* test_estimate.c - expected performance under calibration: hand-worked cases
 * and coverage of the realized AUC of labels drawn from calibrated scores. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>

#include "estimate.h"
#include "metrics.h"
#include "rng.h"

int test_estimate_register(void);

static void test_expected_auc_hand(void)
{
    static const struct {
        size_t n;
        double p[4];
        double want;
    } C[] = {
        // labels (0,1) with prob .8*.8 = .64 give AUC 1, (1,0) with .2*.2 = .04 give 0:
        // E[concordant] / E[pairs] = .64 / .68
        {2, {0.2, 0.8}, 0.64 / 0.68},
        {2, {0.8, 0.2}, 0.64 / 0.68},
        // all tied: every pair counts half
        {3, {0.3, 0.3, 0.3}, 0.5},
        // .1 < .5 < .9: concordant weights p_hi (1 - p_lo) over all ordered pairs
        // num = .5*.9 + .9*.9 + .9*.5 = 1.71; den adds .1*.5 + .1*.1 + .5*.1 = .11 -> 1.82
        {3, {0.5, 0.1, 0.9}, 1.71 / 1.82},
        // a certain positive and a certain negative: AUC 1
        {2, {1.0, 0.0}, 1.0},
    };

    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++)
        CU_ASSERT_DOUBLE_EQUAL(rdm_estimate_auc(C[i].p, C[i].n), C[i].want, 1e-12);
    static const double one[] = {0.4};
    CU_ASSERT(isnan(rdm_estimate_auc(one, 1)));
}

static void test_expected_scalars(void)
{
    static const double p[] = {0.5, 0.1};
    rdm_estimate e;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_estimate_compute(p, 2, 0.3, 0, 1, &e, &err), RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(e.positive_rate, 0.3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(e.brier, (0.25 + 0.09) / 2, 1e-12);
    // (ln 2 + H(.1)) / 2, H(.1) = -(.1 ln .1 + .9 ln .9) = .325083
    CU_ASSERT_DOUBLE_EQUAL(e.log_loss, (log(2) + 0.3250830) / 2, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(e.decision_rate, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(e.precision, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(e.recall, 0.5 / 0.6, 1e-12);
    CU_ASSERT(isnan(e.roc_auc_lo)); // no draws asked for
    CU_ASSERT_EQUAL(e.calib[1].count, 1);
    CU_ASSERT_EQUAL(e.calib[5].count, 1);
    CU_ASSERT_DOUBLE_EQUAL(e.calib[5].observed, 0.5, 1e-12);
    // one Bernoulli(.5) in the bin: .5 +- 1.96 * .5, clipped to [0, 1]
    CU_ASSERT_DOUBLE_EQUAL(e.calib_lo[5], 0.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(e.calib_hi[5], 1.0, 1e-12);
    CU_ASSERT(isnan(e.calib[3].mean_pred));
    CU_ASSERT_EQUAL(rdm_estimate_compute(p, 0, 0.3, 0, 1, &e, &err), RDM_EINVAL);
}

/* Scores skewed low like the real model's (about 20% positives). */
static void draw_scores(rdm_rng *r, double *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double u = rdm_rng_uniform(r);
        p[i] = 0.02 + 0.7 * u * u;
    }
}

/* Over 40 windows, labels drawn from the scores themselves (a calibrated
 * model) land inside the 95% interval in about 38; labels drawn independently
 * of the scores (a useless model that claims skill) almost never do. */
static void test_coverage(void)
{
    enum { N = 1500, REPS = 40 };

    double *p = malloc(N * sizeof *p);
    float *y = malloc(N * sizeof *y), *z = malloc(N * sizeof *z);
    CU_ASSERT_FATAL(p && y && z);
    rdm_rng r;
    rdm_rng_seed(&r, 2026);
    int inside = 0, inside_useless = 0;
    double gap = 0;
    for (int k = 0; k < REPS; k++) {
        draw_scores(&r, p, N);
        double mean = 0;
        for (size_t i = 0; i < N; i++) {
            y[i] = rdm_rng_uniform(&r) < p[i] ? 1.0f : 0.0f;
            mean += p[i] / N;
        }
        for (size_t i = 0; i < N; i++)
            z[i] = rdm_rng_uniform(&r) < mean ? 1.0f : 0.0f;
        rdm_estimate e;
        rdm_err err = {0};
        CU_ASSERT_EQUAL_FATAL(rdm_estimate_compute(p, N, 0.5, 30, (uint64_t)k, &e, &err), RDM_OK);
        CU_ASSERT(e.roc_auc_lo < e.roc_auc && e.roc_auc < e.roc_auc_hi);
        double real = rdm_roc_auc(p, y, N), useless = rdm_roc_auc(p, z, N);
        inside += real >= e.roc_auc_lo && real <= e.roc_auc_hi;
        inside_useless += useless >= e.roc_auc_lo && useless <= e.roc_auc_hi;
        gap += (real - e.roc_auc) / REPS;
    }
    CU_ASSERT(inside >= 34);
    CU_ASSERT(inside_useless <= 2);
    CU_ASSERT(fabs(gap) < 0.01); // the point estimate is unbiased to within noise
    free(p);
    free(y);
    free(z);
}

int test_estimate_register(void)
{
    CU_pSuite s = CU_add_suite("estimate", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_expected_auc_hand) && CU_ADD_TEST(s, test_expected_scalars) &&
            CU_ADD_TEST(s, test_coverage))
               ? 0
               : -1;
}
