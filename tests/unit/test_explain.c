/* test_explain.c - TreeSHAP against Shapley values computed by brute force
 * over every feature subset (with the same path-dependent value function),
 * additivity, and exact zeros for features no tree uses. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "rng.h"

int test_explain_register(void);

/* counts printed at the end of the suite (the issue asks for them) */
static long n_additivity, n_bruteforce;

/* ---- random trees ---- */

#define MAXN 512

typedef struct rtree {
    int n;
    int feat[MAXN], left[MAXN], right[MAXN];
    double value[MAXN], cover[MAXN], thr[MAXN];
} rtree;

/* Grow node k to at most `depth` more levels; features drawn from [0, nf)
 * with repeats, so a feature often appears twice on a path. Returns the
 * node's cover (leaves get random covers, internal nodes the sum). */
static double grow(rtree *t, int k, int depth, int nf, rdm_rng *r)
{
    if (depth == 0 || t->n + 2 > MAXN || (k != 0 && rdm_rng_uniform(r) < 0.25)) {
        t->feat[k] = -1;
        t->left[k] = t->right[k] = -1;
        t->value[k] = rdm_rng_uniform(r) * 2 - 1;
        t->cover[k] = 1 + (double)rdm_rng_below(r, 50);
        return t->cover[k];
    }
    t->feat[k] = (int)rdm_rng_below(r, (uint64_t)nf);
    t->thr[k] = rdm_rng_uniform(r);
    t->value[k] = NAN;
    int l = t->n++, rr = t->n++;
    t->left[k] = l;
    t->right[k] = rr;
    t->cover[k] = grow(t, l, depth - 1, nf, r) + grow(t, rr, depth - 1, nf, r);
    return t->cover[k];
}

static void random_tree(rtree *t, int depth, int nf, rdm_rng *r)
{
    t->n = 1;
    grow(t, 0, depth, nf, r);
}

static rdm_shap_tree view(const rtree *t)
{
    rdm_shap_tree v = {0, t->n, t->feat, t->left, t->right, t->value, t->cover};
    return v;
}

static void route(const rtree *t, const double *x, unsigned char *gl)
{
    for (int k = 0; k < t->n; k++)
        gl[k] = t->feat[k] >= 0 && x[t->feat[k]] <= t->thr[k];
}

/* Path-dependent conditional expectation: features in `set` follow the
 * record, the others split the cover. */
static double value_of(const rtree *t, const unsigned char *gl, int k, unsigned set)
{
    if (t->feat[k] < 0)
        return t->value[k];
    int l = t->left[k], r = t->right[k];
    if (set & (1u << t->feat[k]))
        return value_of(t, gl, gl[k] ? l : r, set);
    return (t->cover[l] * value_of(t, gl, l, set) + t->cover[r] * value_of(t, gl, r, set)) /
           t->cover[k];
}

/* Shapley values of the game v(S) = value_of(S) over nf players. */
static void brute_force(const rtree *t, const unsigned char *gl, int nf, double *phi)
{
    double v[256], fact[9] = {1};
    for (int i = 1; i <= 8; i++)
        fact[i] = fact[i - 1] * i;
    for (unsigned s = 0; s < (1u << nf); s++)
        v[s] = value_of(t, gl, 0, s);
    for (int i = 0; i < nf; i++) {
        phi[i] = 0;
        for (unsigned s = 0; s < (1u << nf); s++) {
            if (s & (1u << i))
                continue;
            int sz = __builtin_popcount(s);
            phi[i] += fact[sz] * fact[nf - sz - 1] / fact[nf] * (v[s | (1u << i)] - v[s]);
        }
    }
}

static int leaf_of(const rtree *t, const unsigned char *gl)
{
    int k = 0;
    while (t->feat[k] >= 0)
        k = gl[k] ? t->left[k] : t->right[k];
    return k;
}

static void test_shap_matches_brute_force(void)
{
    rdm_rng r;
    rdm_rng_seed(&r, 12345);
    rtree t;
    unsigned char gl[MAXN];
    double x[8], phi[8], ref[8];
    long checked = 0;
    for (int trial = 0; trial < 400; trial++) {
        int nf = 1 + (int)rdm_rng_below(&r, 8);
        int depth = 1 + (int)rdm_rng_below(&r, 7);
        random_tree(&t, depth, nf, &r);
        rdm_shap_tree v = view(&t);
        int d = -1;
        rdm_err err = {0};
        CU_ASSERT_EQUAL_FATAL(rdm_shap_tree_check(&v, nf, &d, &err), RDM_OK);
        CU_ASSERT_FATAL(d >= 0 && d <= depth);
        void *scratch = malloc(rdm_shap_scratch_size(d));
        CU_ASSERT_PTR_NOT_NULL_FATAL(scratch);
        double ev = rdm_shap_expected(&v);
        unsigned used = 0;
        for (int k = 0; k < t.n; k++)
            if (t.feat[k] >= 0)
                used |= 1u << t.feat[k];
        for (int rec = 0; rec < 5; rec++) {
            for (int j = 0; j < nf; j++)
                x[j] = rdm_rng_uniform(&r);
            route(&t, x, gl);
            memset(phi, 0, sizeof phi);
            rdm_shap_add(&v, d, gl, phi, scratch);
            brute_force(&t, gl, nf, ref);
            double sum = ev, scale = 0;
            for (int j = 0; j < nf; j++) {
                sum += phi[j];
                scale = fmax(scale, fabs(ref[j]));
            }
            int ok = 1;
            for (int j = 0; j < nf; j++) {
                ok &= fabs(phi[j] - ref[j]) <= 1e-12 * (1 + scale);
                if (!(used & (1u << j)))
                    ok &= phi[j] == 0.0; /* exactly: nothing was ever added */
            }
            CU_ASSERT(ok);
            if (!ok) {
                for (int j = 0; j < nf; j++)
                    fprintf(stderr, "trial %d feature %d: treeshap %.17g brute force %.17g\n",
                            trial, j, phi[j], ref[j]);
            }
            /* additivity: expected value + contributions = the record's leaf */
            double leaf = t.value[leaf_of(&t, gl)];
            int add_ok = fabs(sum - leaf) <= 1e-12 * (1 + fabs(leaf));
            CU_ASSERT(add_ok);
            /* the brute-force game agrees on both ends */
            CU_ASSERT(fabs(value_of(&t, gl, 0, 0) - ev) <= 1e-12 * (1 + fabs(ev)));
            checked += ok;
            n_additivity += add_ok;
        }
        free(scratch);
    }
    n_bruteforce += checked;
    CU_ASSERT_EQUAL(checked, 2000);
}

/* A node reached twice, a zero cover, a feature out of range: refused. */
static void test_shap_check_rejects(void)
{
    rtree t;
    rdm_rng r;
    rdm_rng_seed(&r, 9);
    random_tree(&t, 3, 4, &r);
    while (t.feat[0] < 0)
        random_tree(&t, 3, 4, &r);
    rdm_shap_tree v = view(&t);
    rdm_err err = {0};
    int d;
    CU_ASSERT_EQUAL(rdm_shap_tree_check(&v, 4, &d, &err), RDM_OK);
    CU_ASSERT_NOT_EQUAL(rdm_shap_tree_check(&v, t.feat[0], &d, &err), RDM_OK);
    double c = t.cover[t.left[0]];
    t.cover[t.left[0]] = 0;
    err = (rdm_err){0};
    CU_ASSERT_NOT_EQUAL(rdm_shap_tree_check(&v, 4, &d, &err), RDM_OK);
    CU_ASSERT(strstr(err.msg, "cover") != NULL);
    t.cover[t.left[0]] = c;
    int rr = t.right[0];
    t.right[0] = t.left[0];
    CU_ASSERT_NOT_EQUAL(rdm_shap_tree_check(&v, 4, &d, &err), RDM_OK);
    t.right[0] = rr;
    t.left[0] = 0; /* a cycle */
    CU_ASSERT_NOT_EQUAL(rdm_shap_tree_check(&v, 4, &d, &err), RDM_OK);
}

/* A stump by hand: x0 <= 0.5 -> left (cover 3, value 1), else right (cover
 * 1, value -3). Expected value 0; a record going left gets +1 on feature 0,
 * one going right -3. */
static void test_shap_stump_by_hand(void)
{
    int feat[3] = {0, -1, -1}, left[3] = {1, -1, -1}, right[3] = {2, -1, -1};
    double value[3] = {0, 1, -3}, cover[3] = {4, 3, 1};
    rdm_shap_tree v = {0, 3, feat, left, right, value, cover};
    double scratch[64], phi[2] = {0, 0};
    CU_ASSERT_DOUBLE_EQUAL(rdm_shap_expected(&v), 0.0, 1e-15);
    unsigned char gl[3] = {1, 0, 0};
    rdm_shap_add(&v, 1, gl, phi, scratch);
    CU_ASSERT_DOUBLE_EQUAL(phi[0], 1.0, 1e-15);
    CU_ASSERT_EQUAL(phi[1], 0.0);
    gl[0] = 0;
    phi[0] = 0;
    rdm_shap_add(&v, 1, gl, phi, scratch);
    CU_ASSERT_DOUBLE_EQUAL(phi[0], -3.0, 1e-15);
}

static int print_counts(void)
{
    printf("\nexplain: %ld additivity checks passed, %ld brute-force Shapley checks passed\n",
           n_additivity, n_bruteforce);
    return 0;
}

int test_explain_register(void)
{
    CU_pSuite s = CU_add_suite("explain", NULL, print_counts);
    return (s && CU_ADD_TEST(s, test_shap_matches_brute_force) &&
            CU_ADD_TEST(s, test_shap_check_rejects) && CU_ADD_TEST(s, test_shap_stump_by_hand))
               ? 0
               : -1;
}
