/* test_logreg.c - gradient check, convergence and optimality of L2 logistic regression. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logreg.h"
#include "rng.h"

/* One-hot rows (positions whose value is 1 in every row, read without
 * their values) beside valued ones, over more rows than one chunk: the
 * objective and gradient equal a plain double loop over the CSR, and the
 * fit is the same to the bit on 1, 2, 3 and 7 threads. */
static void test_onehot_threads(void)
{
    size_t n = 9000;
    int d = 40, nnz = 5;
    int32_t *cols = malloc(n * (size_t)nnz * sizeof *cols);
    float *val = malloc(n * (size_t)nnz * sizeof *val), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    rdm_rng r;
    rdm_rng_seed(&r, 17);
    for (size_t i = 0; i < n; i++) {
        int32_t *c = cols + i * (size_t)nnz;
        float *v = val + i * (size_t)nnz;
        c[0] = (int32_t)rdm_rng_below(&r, 10);      /* one-hot field of 10 levels */
        c[1] = 10 + (int32_t)rdm_rng_below(&r, 20); /* and of 20 */
        c[2] = 30 + (int32_t)rdm_rng_below(&r, 8);
        c[3] = 38; /* a standardised number and its missing indicator */
        c[4] = 39;
        v[0] = v[1] = v[2] = 1;
        v[4] = rdm_rng_below(&r, 10) == 0;
        v[3] = v[4] ? 0 : (float)(2 * rdm_rng_uniform(&r) - 1);
        double z = -1 + 0.3 * (c[0] % 3) - 0.2 * (c[1] % 4) + v[3] + 0.5 * v[4];
        y[i] = rdm_rng_uniform(&r) < 1 / (1 + exp(-z));
    }
    rdm_csr X = {n, d, nnz, cols, val};
    double wb[41], g[41], plain_g[41] = {0}, plain = 0, l2 = 2.5;
    for (int j = 0; j <= d; j++)
        wb[j] = 0.05 * (j % 7) - 0.1;
    for (size_t i = 0; i < n; i++) {
        double z = wb[d];
        for (int k = 0; k < nnz; k++)
            z += (double)val[i * (size_t)nnz + (size_t)k] * wb[cols[i * (size_t)nnz + (size_t)k]];
        double p = 1 / (1 + exp(-z));
        plain += log1p(exp(z)) - y[i] * z;
        for (int k = 0; k < nnz; k++)
            plain_g[cols[i * (size_t)nnz + (size_t)k]] +=
                (p - y[i]) * val[i * (size_t)nnz + (size_t)k];
        plain_g[d] += p - y[i];
    }
    for (int j = 0; j < d; j++) {
        plain += 0.5 * l2 * wb[j] * wb[j];
        plain_g[j] += l2 * wb[j];
    }
    double f = rdm_logreg_objective(&X, y, l2, wb, g, 2);
    CU_ASSERT_DOUBLE_EQUAL(f, plain, 1e-9 * plain);
    for (int j = 0; j <= d; j++)
        CU_ASSERT_DOUBLE_EQUAL(g[j], plain_g[j], 1e-9 * fmax(1, fabs(plain_g[j])));
    rdm_logreg_params prm;
    rdm_logreg_params_default(&prm);
    prm.l2 = l2;
    rdm_logreg_info i1, it;
    prm.threads = 1;
    rdm_logreg *m1 = rdm_logreg_fit(&X, y, &prm, &i1, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m1);
    CU_ASSERT(i1.converged);
    static const int THREADS[] = {2, 3, 7};
    for (int t = 0; t < 3; t++) {
        prm.threads = THREADS[t];
        rdm_logreg *m = rdm_logreg_fit(&X, y, &prm, &it, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT_EQUAL(it.iterations, i1.iterations);
        CU_ASSERT(it.objective == i1.objective);
        CU_ASSERT(rdm_logreg_intercept(m) == rdm_logreg_intercept(m1));
        CU_ASSERT(memcmp(rdm_logreg_coef(m), rdm_logreg_coef(m1), (size_t)d * sizeof(double)) == 0);
        rdm_logreg_free(m);
    }
    rdm_logreg_free(m1);
    free(cols);
    free(val);
    free(y);
}

int test_logreg_register(void);

typedef struct prob {
    rdm_csr X;
    int32_t *cols;
    float *val;
    float *y;
} prob;

/* n rows, d columns, every row stores columns 0..nnz-1 of a random subset
 * pattern; labels from the logistic model w_true, b_true. */
static void make_problem(prob *p, size_t n, int d, int nnz, const double *wt, double bt,
                         uint64_t seed)
{
    rdm_rng r;
    rdm_rng_seed(&r, seed);
    p->cols = malloc(n * (size_t)nnz * sizeof *p->cols);
    p->val = malloc(n * (size_t)nnz * sizeof *p->val);
    p->y = malloc(n * sizeof *p->y);
    for (size_t i = 0; i < n; i++) {
        double z = bt;
        int start = (int)rdm_rng_below(&r, (uint64_t)(d - nnz + 1));
        for (int k = 0; k < nnz; k++) {
            int c = start + k;
            float v = (float)(2 * rdm_rng_uniform(&r) - 1);
            p->cols[i * (size_t)nnz + (size_t)k] = c;
            p->val[i * (size_t)nnz + (size_t)k] = v;
            z += v * wt[c];
        }
        p->y[i] = rdm_rng_uniform(&r) < 1 / (1 + exp(-z));
    }
    p->X.n = n;
    p->X.d = d;
    p->X.nnz = nnz;
    p->X.cols = p->cols;
    p->X.val = p->val;
}

static void free_problem(prob *p)
{
    free(p->cols);
    free(p->val);
    free(p->y);
}

static void test_gradient_check(void)
{
    static const double wt[] = {1, -1, 0.5, 2, 0, -0.5};
    prob p;
    make_problem(&p, 60, 6, 3, wt, 0.3, 11);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.y);
    double wb[7] = {0.3, -0.2, 0.9, 0.1, -1.1, 0.4, -0.25}, g[7], g3[7];
    double l2 = 0.7;
    double f = rdm_logreg_objective(&p.X, p.y, l2, wb, g, 1);
    double f3 = rdm_logreg_objective(&p.X, p.y, l2, wb, g3, 3);
    CU_ASSERT_DOUBLE_EQUAL(f, f3, 1e-9);
    for (int j = 0; j < 7; j++) {
        double h = 1e-5, save = wb[j];
        wb[j] = save + h;
        double fp = rdm_logreg_objective(&p.X, p.y, l2, wb, NULL, 1);
        wb[j] = save - h;
        double fm = rdm_logreg_objective(&p.X, p.y, l2, wb, NULL, 1);
        wb[j] = save;
        double num = (fp - fm) / (2 * h);
        CU_ASSERT_DOUBLE_EQUAL(g[j], num, 1e-5 * fmax(1, fabs(num)));
        CU_ASSERT_DOUBLE_EQUAL(g3[j], g[j], 1e-9);
    }
    // hand-checked value: at w = 0, b = 0 the loss is n log 2
    double zero[7] = {0};
    CU_ASSERT_DOUBLE_EQUAL(rdm_logreg_objective(&p.X, p.y, l2, zero, NULL, 1), 60 * log(2), 1e-9);
    free_problem(&p);
}

static void test_convergence(void)
{
    static const double wt[] = {1.5, -2, 0.5, 0, 3, -1};
    prob p;
    make_problem(&p, 20000, 6, 4, wt, -1, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.y);
    rdm_logreg_params prm;
    rdm_logreg_params_default(&prm);
    prm.l2 = 1.0;
    prm.tol = 1e-8;
    rdm_logreg_info info;
    rdm_err err = {0};
    rdm_logreg *m = rdm_logreg_fit(&p.X, p.y, &prm, &info, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT(info.converged);
    // gradient of F at the solution ~ 0 (checked independently of the solver)
    double wb[7], g[7];
    memcpy(wb, rdm_logreg_coef(m), 6 * sizeof *wb);
    wb[6] = rdm_logreg_intercept(m);
    rdm_logreg_objective(&p.X, p.y, prm.l2, wb, g, 1);
    for (int j = 0; j < 7; j++)
        CU_ASSERT(fabs(g[j]) / 20000 < 1e-6);
    // unpenalised intercept: mean prediction equals the positive rate
    double sp = 0, sy = 0;
    for (size_t i = 0; i < p.X.n; i++) {
        double z = rdm_logreg_margin(m, p.cols + i * 4, p.val + i * 4, 4);
        sp += 1 / (1 + exp(-z));
        sy += p.y[i];
    }
    // (to the bound of the gradient check above: the fit stops at the gradient
    // test or at the relative reduction test, whichever comes first)
    CU_ASSERT_DOUBLE_EQUAL(sp, sy, 1e-6 * 20000);
    // close to the generating weights
    for (int j = 0; j < 6; j++)
        CU_ASSERT_DOUBLE_EQUAL(rdm_logreg_coef(m)[j], wt[j], 0.25);
    CU_ASSERT_DOUBLE_EQUAL(rdm_logreg_intercept(m), -1, 0.15);
    rdm_logreg_free(m);
    // a huge penalty: weights ~ 0 and the intercept is the logit of the base rate
    prm.l2 = 1e9;
    m = rdm_logreg_fit(&p.X, p.y, &prm, &info, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    double rate = sy / 20000;
    CU_ASSERT_DOUBLE_EQUAL(rdm_logreg_intercept(m), log(rate / (1 - rate)), 1e-4);
    for (int j = 0; j < 6; j++)
        CU_ASSERT(fabs(rdm_logreg_coef(m)[j]) < 1e-4);
    rdm_logreg_free(m);
    free_problem(&p);
}

static void test_separable(void)
{
    // perfectly separable on column 0: without a penalty weights diverge; with
    // l2 the optimum is finite and the gradient vanishes there
    size_t n = 200;
    int32_t *cols = malloc(n * sizeof *cols);
    float *val = malloc(n * sizeof *val), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    for (size_t i = 0; i < n; i++) {
        cols[i] = 0;
        val[i] = (float)((double)i / (double)n - 0.5);
        y[i] = val[i] > 0;
    }
    rdm_csr X = {n, 1, 1, cols, val};
    rdm_logreg_params prm;
    rdm_logreg_params_default(&prm);
    prm.l2 = 0.1;
    rdm_logreg_info info;
    rdm_logreg *m = rdm_logreg_fit(&X, y, &prm, &info, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT(info.converged);
    CU_ASSERT(info.grad_norm <= 1e-6);
    CU_ASSERT(rdm_logreg_coef(m)[0] > 10);
    rdm_logreg_free(m);
    free(cols);
    free(val);
    free(y);
}

static void test_save_load(void)
{
    double w[] = {0.1, -1.0 / 3, 1e-300, 12345.678901234567};
    rdm_logreg *m = rdm_logreg_create(4, w, -0.7, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_buf b = RDM_BUF_INIT, b2 = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_logreg_save(m, &b, NULL), RDM_OK);
    size_t used = 0;
    rdm_err err = {0};
    rdm_logreg *m2 = rdm_logreg_load(b.data, b.len, &used, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
    CU_ASSERT_EQUAL(used, b.len);
    for (int j = 0; j < 4; j++)
        CU_ASSERT(rdm_logreg_coef(m2)[j] == w[j]); /* exact */
    CU_ASSERT(rdm_logreg_intercept(m2) == -0.7);
    CU_ASSERT_EQUAL(rdm_logreg_save(m2, &b2, NULL), RDM_OK);
    CU_ASSERT(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
    for (size_t cut = 0; cut < b.len; cut++) {
        rdm_err e2 = {0};
        rdm_logreg *t = rdm_logreg_load(b.data, cut, NULL, &e2);
        CU_ASSERT_PTR_NULL(t);
        CU_ASSERT_EQUAL(e2.code, RDM_EPARSE);
        rdm_logreg_free(t);
    }
    rdm_buf_release(&b);
    rdm_buf_release(&b2);
    rdm_logreg_free(m);
    rdm_logreg_free(m2);
}

typedef struct seen {
    int calls, last_iter, out_of_order, rose;
    double last_obj, last_grad;
} seen;

static void on_iter(int iter, double objective, double grad_norm, void *ud)
{
    seen *s = ud;
    s->out_of_order += iter != s->last_iter + 1;
    s->rose += s->calls > 0 && !(objective <= s->last_obj); /* Armijo steps only go down */
    s->calls++;
    s->last_iter = iter;
    s->last_obj = objective;
    s->last_grad = grad_norm;
}

/* The progress callback sees every iteration, in order, with the objective
 * and gradient the fit reports at the end; the same model as without it. */
static void test_progress(void)
{
    static const double wt[] = {1, -1, 0.5, 2};
    prob p;
    make_problem(&p, 3000, 4, 2, wt, 0.2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.y);
    rdm_logreg_params prm;
    rdm_logreg_params_default(&prm);
    rdm_logreg_info plain, info;
    rdm_logreg *m0 = rdm_logreg_fit(&p.X, p.y, &prm, &plain, NULL);
    seen s = {0};
    prm.progress = on_iter;
    prm.progress_ud = &s;
    rdm_logreg *m = rdm_logreg_fit(&p.X, p.y, &prm, &info, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT(info.iterations > 2);
    CU_ASSERT_EQUAL(s.calls, info.iterations);
    CU_ASSERT_EQUAL(s.last_iter, info.iterations);
    CU_ASSERT_EQUAL(s.out_of_order, 0);
    CU_ASSERT_EQUAL(s.rose, 0);
    CU_ASSERT(s.last_obj == info.objective && s.last_grad == info.grad_norm);
    CU_ASSERT(plain.iterations == info.iterations &&
              rdm_logreg_intercept(m0) == rdm_logreg_intercept(m));
    rdm_logreg_free(m0);
    rdm_logreg_free(m);
    free_problem(&p);
}

int test_logreg_register(void)
{
    CU_pSuite s = CU_add_suite("logreg", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_gradient_check) && CU_ADD_TEST(s, test_convergence) &&
            CU_ADD_TEST(s, test_separable) && CU_ADD_TEST(s, test_save_load) &&
            CU_ADD_TEST(s, test_progress) && CU_ADD_TEST(s, test_onehot_threads))
               ? 0
               : -1;
}
