/* test_calibrate.c - calibration slope/intercept on data with a known
 * calibration, ECE and bins by hand, weights as repeated rows, and
 * patient-resampled intervals that widen when patients repeat. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>

#include "calibrate.h"
#include "rng.h"

int test_calibrate_register(void);

static double sigm(double z)
{
    return 1 / (1 + exp(-z));
}

/* y ~ Bernoulli(sigmoid(a + b * logit(p))): the fit recovers (a, b). */
static void test_recovers_known_miscalibration(void)
{
    enum { N = 200000 };

    double *p = malloc(N * sizeof *p);
    float *y = malloc(N * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p && y);
    rdm_rng r;
    rdm_rng_seed(&r, 3);
    static const double AB[][2] = {{0, 1}, {-0.5, 0.6}, {0.3, 1.8}};
    for (int c = 0; c < 3; c++) {
        for (size_t i = 0; i < N; i++) {
            p[i] = 0.02 + 0.9 * rdm_rng_uniform(&r);
            double z = log(p[i] / (1 - p[i]));
            y[i] = rdm_rng_uniform(&r) < sigm(AB[c][0] + AB[c][1] * z);
        }
        double a, b;
        CU_ASSERT_EQUAL_FATAL(rdm_calib_fit(p, y, NULL, N, &a, &b, NULL), RDM_OK);
        CU_ASSERT_DOUBLE_EQUAL(a, AB[c][0], 0.03);
        CU_ASSERT_DOUBLE_EQUAL(b, AB[c][1], 0.03);
        /* applying the fit calibrates: ECE of the recalibrated probabilities is small */
        double *q = malloc(N * sizeof *q);
        CU_ASSERT_PTR_NOT_NULL_FATAL(q);
        for (size_t i = 0; i < N; i++)
            q[i] = rdm_calib_apply(a, b, p[i]);
        rdm_calib_bin bins[10];
        CU_ASSERT(rdm_calib_bins(q, y, NULL, N, 10, bins) < 0.01);
        double ece = rdm_calib_bins(p, y, NULL, N, 10, bins);
        CU_ASSERT(c == 0 ? ece < 0.01 : ece > 0.02);
        free(q);
    }
    free(p);
    free(y);
}

/* Two bins by hand: p 0.1, 0.2 (y 0, 1) and 0.7, 0.9 (y 1, 1):
 * |0.15 - 0.5| * 2/4 + |0.8 - 1| * 2/4 = 0.275. Weights 2 = a row twice. */
static void test_bins_by_hand(void)
{
    double p[] = {0.1, 0.2, 0.7, 0.9};
    float y[] = {0, 1, 1, 1};
    rdm_calib_bin b[2];
    CU_ASSERT_DOUBLE_EQUAL(rdm_calib_bins(p, y, NULL, 4, 2, b), 0.275, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(b[0].n, 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(b[0].mean_p, 0.15, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(b[1].frac_pos, 1.0, 0);
    double w[] = {2, 1, 1, 0};
    double p2[] = {0.1, 0.1, 0.2, 0.7};
    float y2[] = {0, 0, 1, 1};
    rdm_calib_bin c[2];
    double e1 = rdm_calib_bins(p, y, w, 4, 2, b), e2 = rdm_calib_bins(p2, y2, NULL, 4, 2, c);
    CU_ASSERT_DOUBLE_EQUAL(e1, e2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(b[0].n, 3, 0);
    CU_ASSERT_EQUAL(rdm_calib_fit(p, (float[]){1, 1, 1, 1}, NULL, 4, &e1, &e2, NULL), RDM_EINVAL);
}

/* Patients with many encounters each (identical within a patient): the
 * patient-resampled interval is wider than the one that treats rows as
 * independent, and both contain the point estimate. */
static void test_patient_intervals(void)
{
    enum { P = 400, K = 8, N = P * K };

    double *p = malloc(N * sizeof *p);
    float *y = malloc(N * sizeof *y);
    int64_t *g = malloc(N * sizeof *g), *rows = malloc(N * sizeof *rows);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p && y && g && rows);
    rdm_rng r;
    rdm_rng_seed(&r, 5);
    for (size_t k = 0; k < P; k++) {
        double pk = 0.05 + 0.5 * rdm_rng_uniform(&r);
        float yk = rdm_rng_uniform(&r) < pk;
        for (size_t j = 0; j < K; j++) {
            p[k * K + j] = pk;
            y[k * K + j] = yk;
            g[k * K + j] = (int64_t)(1000 + 7 * k);
            rows[k * K + j] = (int64_t)(k * K + j);
        }
    }
    rdm_calibration a, b;
    CU_ASSERT_EQUAL_FATAL(rdm_calibration_measure(p, y, g, N, 10, 300, 1, &a, NULL), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_calibration_measure(p, y, rows, N, 10, 300, 1, &b, NULL), RDM_OK);
    CU_ASSERT_EQUAL(a.patients, P);
    CU_ASSERT_EQUAL(b.patients, N);
    CU_ASSERT(a.slope_lo <= a.slope && a.slope <= a.slope_hi);
    CU_ASSERT(a.ece_lo <= a.ece_hi);
    CU_ASSERT((a.slope_hi - a.slope_lo) > 1.8 * (b.slope_hi - b.slope_lo));
    double tot = 0;
    for (int i = 0; i < a.nbins; i++)
        tot += a.bins[i].n;
    CU_ASSERT_DOUBLE_EQUAL(tot, N, 0);
    free(p);
    free(y);
    free(g);
    free(rows);
}

int test_calibrate_register(void)
{
    CU_pSuite s = CU_add_suite("calibrate", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_recovers_known_miscalibration) &&
            CU_ADD_TEST(s, test_bins_by_hand) && CU_ADD_TEST(s, test_patient_intervals))
               ? 0
               : -1;
}
