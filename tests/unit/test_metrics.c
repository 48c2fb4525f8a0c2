/* test_metrics.c - metrics against values worked out by hand. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>

#include "bootstrap.h"
#include "metrics.h"
#include "rng.h"

int test_metrics_register(void);

/* Six rows with ties: positives at 0.9, 0.8, 0.3; negatives at 0.8, 0.5, 0.3. */
static const double P6[] = {0.9, 0.8, 0.8, 0.5, 0.3, 0.3};
static const float Y6[] = {1, 1, 0, 0, 1, 0};

static void test_auc_ties(void)
{
    // pairs: 0.9 beats 3 (3); 0.8 ties 1, beats 2 (2.5); 0.3 ties 1 (0.5) -> 6 / 9
    CU_ASSERT_DOUBLE_EQUAL(rdm_roc_auc(P6, Y6, 6), 6.0 / 9.0, 1e-12);
    static const double p[] = {0.1, 0.4, 0.35, 0.8};
    static const float y[] = {0, 0, 1, 1};
    CU_ASSERT_DOUBLE_EQUAL(rdm_roc_auc(p, y, 4), 0.75, 1e-12);
    static const double same[] = {0.5, 0.5, 0.5, 0.5};
    CU_ASSERT_DOUBLE_EQUAL(rdm_roc_auc(same, y, 4), 0.5, 1e-12);
    static const float one[] = {1, 1, 1, 1};
    CU_ASSERT(isnan(rdm_roc_auc(p, one, 4)));
}

static void test_average_precision(void)
{
    // thresholds 0.9: R 1/3 P 1; 0.8: R 2/3 P 2/3; 0.5: R 2/3; 0.3: R 1 P 1/2
    // AP = 1/3 + (1/3)(2/3) + 0 + (1/3)(1/2) = 13/18
    CU_ASSERT_DOUBLE_EQUAL(rdm_average_precision(P6, Y6, 6), 13.0 / 18.0, 1e-12);
    static const double p[] = {0.1, 0.4, 0.35, 0.8};
    static const float y[] = {0, 0, 1, 1};
    // 0.8: R .5 P 1; 0.4: R .5; 0.35: R 1 P 2/3 -> 0.5 + 0.5 * 2/3 = 0.8333
    CU_ASSERT_DOUBLE_EQUAL(rdm_average_precision(p, y, 4), 0.5 + 1.0 / 3.0, 1e-12);
}

static void test_log_loss_brier(void)
{
    static const double p[] = {0.9, 0.2, 0.6, 0.4};
    static const float y[] = {1, 0, 0, 1};
    double want = -(log(0.9) + log(0.8) + log(0.4) + log(0.4)) / 4; // 0.54027...
    CU_ASSERT_DOUBLE_EQUAL(rdm_log_loss(p, y, 4), want, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(rdm_log_loss(p, y, 4), 0.5402714, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(rdm_brier(p, y, 4), 0.77 / 4, 1e-12);
    static const double q[] = {0.0, 1.0};
    static const float z[] = {1, 0};
    // clipped to [1e-15, 1 - 1e-15] (1 - (1 - 1e-15) is 1.11e-15 in double, as in scikit-learn)
    double hi = 1 - 1e-15;
    CU_ASSERT_DOUBLE_EQUAL(rdm_log_loss(q, z, 2), (-log(1e-15) - log(1 - hi)) / 2, 1e-9);
    CU_ASSERT(rdm_log_loss(q, z, 2) > 34 && rdm_log_loss(q, z, 2) < 35);
}

static void test_threshold_metrics(void)
{
    rdm_confusion c = rdm_confusion_at(P6, Y6, 6, 0.5);
    CU_ASSERT_EQUAL(c.tp, 2);
    CU_ASSERT_EQUAL(c.fp, 2);
    CU_ASSERT_EQUAL(c.fn, 1);
    CU_ASSERT_EQUAL(c.tn, 1);
    CU_ASSERT_DOUBLE_EQUAL(rdm_accuracy(P6, Y6, 6, 0.5), 0.5, 1e-12);
    rdm_prf r = rdm_prf_at(P6, Y6, 6, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(r.precision, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.recall, 2.0 / 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.f1, 4.0 / 7.0, 1e-12);
    // F1 by threshold: 0.9 -> 0.5, 0.8 -> 2/3, 0.5 -> 4/7, 0.3 -> 2/3: tie, highest wins
    double f1;
    CU_ASSERT_DOUBLE_EQUAL(rdm_best_f1_threshold(P6, Y6, 6, &f1), 0.8, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(f1, 2.0 / 3.0, 1e-12);
    rdm_metrics m;
    rdm_metrics_compute(P6, Y6, 6, 0.8, &m);
    CU_ASSERT_EQUAL(m.cm.tp, 2);
    CU_ASSERT_EQUAL(m.cm.fp, 1);
    CU_ASSERT_DOUBLE_EQUAL(m.f1, 2.0 / 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m.positive_rate, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m.roc_auc, 6.0 / 9.0, 1e-12);
}

static void test_calibration(void)
{
    static const double p[] = {0.05, 0.15, 0.12, 0.95, 1.0};
    static const float y[] = {0, 1, 0, 1, 1};
    rdm_calib_bin b[RDM_CALIB_BINS];
    rdm_calibration(p, y, 5, b);
    CU_ASSERT_EQUAL(b[0].count, 1);
    CU_ASSERT_DOUBLE_EQUAL(b[0].mean_pred, 0.05, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(b[0].observed, 0.0, 1e-12);
    CU_ASSERT_EQUAL(b[1].count, 2);
    CU_ASSERT_DOUBLE_EQUAL(b[1].mean_pred, 0.135, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(b[1].observed, 0.5, 1e-12);
    CU_ASSERT_EQUAL(b[9].count, 2);
    CU_ASSERT_DOUBLE_EQUAL(b[9].mean_pred, 0.975, 1e-12);
    CU_ASSERT_EQUAL(b[5].count, 0);
    CU_ASSERT(isnan(b[5].observed));
    CU_ASSERT_DOUBLE_EQUAL(b[3].lo, 0.3, 1e-12);
}

static void test_curves(void)
{
    rdm_curve c;
    CU_ASSERT_EQUAL_FATAL(rdm_roc_curve(P6, Y6, 6, &c, NULL), RDM_OK);
    // (0,0) (0,1/3) (1/3,2/3) (2/3,2/3) (1,1)
    CU_ASSERT_EQUAL_FATAL(c.n, 5);
    CU_ASSERT_DOUBLE_EQUAL(c.x[1], 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.y[1], 1.0 / 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.x[2], 1.0 / 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.y[2], 2.0 / 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.x[4], 1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.thr[2], 0.8, 1e-12);
    CU_ASSERT_EQUAL_FATAL(rdm_pr_curve(P6, Y6, 6, &c, NULL), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 4);
    CU_ASSERT_DOUBLE_EQUAL(c.x[0], 1.0 / 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.y[0], 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.y[3], 0.5, 1e-12);
    // downsampling keeps the ends
    size_t n = 5000;
    double *p = malloc(n * sizeof *p);
    float *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    for (size_t i = 0; i < n; i++) {
        p[i] = (double)i / (double)n;
        y[i] = (i % 3) == 0;
    }
    CU_ASSERT_EQUAL(rdm_roc_curve(p, y, n, &c, NULL), RDM_OK);
    CU_ASSERT_EQUAL(c.n, RDM_CURVE_MAX);
    CU_ASSERT_DOUBLE_EQUAL(c.x[0], 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.x[c.n - 1], 1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.y[c.n - 1], 1, 1e-12);
    for (int i = 1; i < c.n; i++)
        CU_ASSERT(c.x[i] >= c.x[i - 1]);
    static const float none[] = {0, 0};
    CU_ASSERT_EQUAL(rdm_roc_curve(P6, none, 2, &c, NULL), RDM_EINVAL);
    free(p);
    free(y);
}

static void test_bootstrap(void)
{
    size_t n = 15000;
    double *p = malloc(n * sizeof *p);
    float *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    rdm_rng r;
    rdm_rng_seed(&r, 7);
    double P = 0;
    for (size_t i = 0; i < n; i++) {
        y[i] = rdm_rng_uniform(&r) < 0.12;
        // scores rounded to 2 decimals: many ties
        p[i] = floor((0.3 * y[i] + rdm_rng_uniform(&r)) * 100) / 100;
        P += y[i];
    }
    double auc = rdm_roc_auc(p, y, n), lo, hi, lo2, hi2;
    double t0 = rdm_now();
    CU_ASSERT_EQUAL_FATAL(rdm_auc_bootstrap(p, y, n, 200, 42, &lo, &hi, NULL), RDM_OK);
    double secs = rdm_now() - t0;
    CU_ASSERT(lo < auc && auc < hi);
    CU_ASSERT_EQUAL(rdm_auc_bootstrap(p, y, n, 200, 42, &lo2, &hi2, NULL), RDM_OK);
    CU_ASSERT_EQUAL(lo, lo2); /* same seed, same interval */
    CU_ASSERT_EQUAL(hi, hi2);
    // width against the Hanley-McNeil standard error
    double N = (double)n - P, q1 = auc / (2 - auc), q2 = 2 * auc * auc / (1 + auc);
    double se =
        sqrt((auc * (1 - auc) + (P - 1) * (q1 - auc * auc) + (N - 1) * (q2 - auc * auc)) / (P * N));
    double ratio = (hi - lo) / (2 * 1.96 * se);
    CU_ASSERT(ratio > 0.8 && ratio < 1.25);
    (void)secs; /* timing is reported by the benchmark, not asserted */
    free(p);
    free(y);
}

/* The bootstrap interval against a plain resampling: the same draws (sorted
 * positions, as rdm_auc_bootstrap draws them) given as row weights to
 * rdm_auc_weighted, then the percentiles. Scores are distinct or tied only
 * within a class, so every sort puts the same class at each position; the
 * sums are of whole counts, so the intervals are equal to the last bit. */
static void bootstrap_reference(const double *p, const float *y, size_t n, int B, uint64_t seed)
{
    size_t *order = malloc(n * sizeof *order);
    double *w = malloc(n * sizeof *w), *aucs = malloc((size_t)B * sizeof *aucs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(order);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(aucs);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort by decreasing score */
        for (size_t k = i; k > 0 && p[order[k - 1]] < p[order[k]]; k--) {
            size_t t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    rdm_rng r;
    rdm_rng_seed(&r, seed);
    for (int b = 0; b < B; b++) {
        for (size_t i = 0; i < n; i++)
            w[i] = 0;
        for (size_t k = 0; k < n; k++)
            w[order[rdm_rng_below(&r, n)]] += 1;
        aucs[b] = rdm_auc_weighted(p, y, w, n);
    }
    for (int i = 1; i < B; i++) /* ascending */
        for (int k = i; k > 0 && aucs[k - 1] > aucs[k]; k--) {
            double t = aucs[k];
            aucs[k] = aucs[k - 1];
            aucs[k - 1] = t;
        }
    double lo, hi, rlo, rhi;
    CU_ASSERT_EQUAL_FATAL(rdm_auc_bootstrap(p, y, n, B, seed, &lo, &hi, NULL), RDM_OK);
    rlo = rdm_percentile_sorted(aucs, (size_t)B, 0.025);
    rhi = rdm_percentile_sorted(aucs, (size_t)B, 0.975);
    CU_ASSERT_EQUAL(lo, rlo);
    CU_ASSERT_EQUAL(hi, rhi);
    CU_ASSERT(lo < hi);
    /* the same from the rows sorted once */
    rdm_ranked *rk = rdm_ranked_create(p, y, n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT_EQUAL(rdm_ranked_auc_bootstrap(rk, B, seed, &lo, &hi, NULL), RDM_OK);
    CU_ASSERT_EQUAL(lo, rlo);
    CU_ASSERT_EQUAL(hi, rhi);
    rdm_ranked_free(rk);
    free(order);
    free(w);
    free(aucs);
}

static void test_bootstrap_exact(void)
{
    enum { N = 1500 };

    static double p[N];
    static float y[N];
    rdm_rng r;
    rdm_rng_seed(&r, 3);
    for (size_t i = 0; i < N; i++) { /* distinct scores */
        y[i] = rdm_rng_uniform(&r) < 0.2;
        p[i] = (0.2 * y[i] + rdm_rng_uniform(&r)) / 1.2;
    }
    bootstrap_reference(p, y, N, 60, 42);
    for (size_t i = 0; i < N; i++) /* ties within a class: odd hundredths positive */
        p[i] = (double)(2 * rdm_rng_below(&r, 40) + (y[i] > 0.5f) + 20 * (y[i] > 0.5f)) / 100.0;
    bootstrap_reference(p, y, N, 60, 7);
}

/* The metrics from rows sorted once are those of the functions sorting for
 * themselves, ties included. */
static void test_ranked(void)
{
    static const float one[] = {1, 1, 1, 1, 1, 1};
    rdm_ranked *rk = rdm_ranked_create(P6, Y6, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT_DOUBLE_EQUAL(rdm_ranked_roc_auc(rk), 6.0 / 9.0, 1e-12);
    CU_ASSERT_EQUAL(rdm_ranked_roc_auc(rk), rdm_roc_auc(P6, Y6, 6));
    CU_ASSERT_EQUAL(rdm_ranked_average_precision(rk), rdm_average_precision(P6, Y6, 6));
    CU_ASSERT_EQUAL(rdm_ranked_metric_by_name("pr_auc", rk, P6, Y6),
                    rdm_metric_by_name("pr_auc", P6, Y6, 6));
    CU_ASSERT_EQUAL(rdm_ranked_metric_by_name("log_loss", rk, P6, Y6),
                    rdm_metric_by_name("log_loss", P6, Y6, 6));
    double f1a, f1b;
    CU_ASSERT_EQUAL(rdm_ranked_best_f1_threshold(rk, &f1a), rdm_best_f1_threshold(P6, Y6, 6, &f1b));
    CU_ASSERT_EQUAL(f1a, f1b);
    rdm_metrics a, b;
    rdm_ranked_metrics(rk, P6, Y6, 0.8, &a);
    rdm_metrics_compute(P6, Y6, 6, 0.8, &b);
    CU_ASSERT_EQUAL(a.roc_auc, b.roc_auc);
    CU_ASSERT_EQUAL(a.pr_auc, b.pr_auc);
    CU_ASSERT_EQUAL(a.log_loss, b.log_loss);
    CU_ASSERT_EQUAL(a.cm.tp, b.cm.tp);
    CU_ASSERT_EQUAL(a.f1, b.f1);
    rdm_curve c1, c2;
    CU_ASSERT_EQUAL_FATAL(rdm_ranked_roc_curve(rk, &c1, NULL), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_roc_curve(P6, Y6, 6, &c2, NULL), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(c1.n, c2.n);
    for (int i = 0; i < c1.n; i++)
        CU_ASSERT(c1.x[i] == c2.x[i] && c1.y[i] == c2.y[i]);
    CU_ASSERT_EQUAL_FATAL(rdm_ranked_pr_curve(rk, &c1, NULL), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_pr_curve(P6, Y6, 6, &c2, NULL), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(c1.n, c2.n);
    for (int i = 0; i < c1.n; i++)
        CU_ASSERT(c1.x[i] == c2.x[i] && c1.y[i] == c2.y[i]);
    rdm_ranked_free(rk);
    /* one class: undefined AUC, no ROC curve */
    rk = rdm_ranked_create(P6, one, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT(isnan(rdm_ranked_roc_auc(rk)));
    CU_ASSERT_EQUAL(rdm_ranked_roc_curve(rk, &c1, NULL), RDM_EINVAL);
    rdm_ranked_free(rk);
}

static void test_rng(void)
{
    rdm_rng a, b;
    rdm_rng_seed(&a, 1);
    rdm_rng_seed(&b, 1);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(rdm_rng_next(&a), rdm_rng_next(&b));
    // splitmix64 reference value for state 0 (first output)
    uint64_t st = 0;
    CU_ASSERT_EQUAL(rdm_splitmix64(&st), UINT64_C(0xe220a8397b1dcdaf));
    int hist[10] = {0};
    for (int i = 0; i < 100000; i++)
        hist[rdm_rng_below(&a, 10)]++;
    for (int k = 0; k < 10; k++)
        CU_ASSERT(hist[k] > 9500 && hist[k] < 10500);
    double s = 0;
    for (int i = 0; i < 100000; i++) {
        double u = rdm_rng_uniform(&a);
        CU_ASSERT(u >= 0 && u < 1);
        s += u;
    }
    CU_ASSERT_DOUBLE_EQUAL(s / 100000, 0.5, 0.01);
    rdm_rng c = b;
    rdm_rng_jump(&c);
    CU_ASSERT(rdm_rng_next(&c) != rdm_rng_next(&b));
}

int test_metrics_register(void)
{
    CU_pSuite s = CU_add_suite("metrics", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_auc_ties) && CU_ADD_TEST(s, test_average_precision) &&
            CU_ADD_TEST(s, test_log_loss_brier) && CU_ADD_TEST(s, test_threshold_metrics) &&
            CU_ADD_TEST(s, test_calibration) && CU_ADD_TEST(s, test_curves) &&
            CU_ADD_TEST(s, test_bootstrap) && CU_ADD_TEST(s, test_bootstrap_exact) &&
            CU_ADD_TEST(s, test_ranked) && CU_ADD_TEST(s, test_rng))
               ? 0
               : -1;
}
