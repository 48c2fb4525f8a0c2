/* test_explain.c - TreeSHAP against Shapley values computed by brute force
 * over every feature subset (with the same path-dependent value function),
 * additivity, and exact zeros for features no tree uses. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "csv.h"
#include "encode.h"
#include "explain.h"
#include "explain_summary.h"
#include "gbt.h"
#include "gbt_route.h"
#include "logreg.h"
#include "pool.h"
#include "rng.h"
#include "synth.h"

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
    double v[4096], fact[13] = {1};
    for (int i = 1; i <= 12; i++)
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
    double x[12], phi[12], ref[12];
    long checked = 0;
    for (int trial = 0; trial < 410; trial++) {
        /* mostly up to 8 features; the last 40 trees deeper, with paths of 9
         * to 12 distinct features (the forest's 8-point quadrature) */
        int deep = trial >= 400;
        int nf = deep ? 9 + (int)rdm_rng_below(&r, 4) : 1 + (int)rdm_rng_below(&r, 8);
        int depth = deep ? 10 + (int)rdm_rng_below(&r, 3) : 1 + (int)rdm_rng_below(&r, 7);
        random_tree(&t, depth, nf, &r);
        rdm_shap_tree v = view(&t);
        int d = -1;
        rdm_err err = {0};
        CU_ASSERT_EQUAL_FATAL(rdm_shap_tree_check(&v, nf, &d, &err), RDM_OK);
        CU_ASSERT_FATAL(d >= 0 && d <= depth);
        void *scratch = malloc(rdm_shap_scratch_size(d));
        CU_ASSERT_PTR_NOT_NULL_FATAL(scratch);
        double ev = rdm_shap_expected(&v);
        rdm_shap_forest *f = rdm_shap_forest_create(&v, 1, nf, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_DOUBLE_EQUAL(rdm_shap_forest_expected(f), ev, 1e-15);
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
            /* the forest form (what models use) gives the same values */
            double phi2[12] = {0};
            void *fs = malloc(rdm_shap_forest_scratch_size(f));
            CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
            rdm_shap_forest_add(f, gl, phi2, fs);
            /* the portable code and the vector-unit one (AVX2, AVX-512) give the same bits */
            double phi3[12] = {0};
            rdm_shap_forest_portable(f, 1);
            rdm_shap_forest_add(f, gl, phi3, fs);
            rdm_shap_forest_portable(f, 0);
            free(fs);
            ok &= memcmp(phi2, phi3, sizeof phi2) == 0;
            for (int j = 0; j < nf; j++) {
                ok &= fabs(phi2[j] - ref[j]) <= 1e-12 * (1 + scale);
                if (!(used & (1u << j)))
                    ok &= phi2[j] == 0.0;
            }
            CU_ASSERT(ok);
            if (!ok) {
                for (int j = 0; j < nf; j++)
                    fprintf(stderr,
                            "trial %d feature %d: treeshap %.17g forest %.17g brute force %.17g\n",
                            trial, j, phi[j], phi2[j], ref[j]);
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
        rdm_shap_forest_free(f);
    }
    n_bruteforce += checked;
    CU_ASSERT_EQUAL(checked, 2050);
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

/* ---- models: boosted trees fitted on a few features ---- */

/* Shapley values of the whole ensemble by brute force: v(S) = base + sum over
 * trees of the path-dependent expectation, through rdm_gbt_node and
 * rdm_gbt_route (the model's own split test). */
static double gbt_value(const rdm_gbt *g, const unsigned char *gl, int k, unsigned set)
{
    rdm_gbt_node_info ni, l, r;
    rdm_gbt_node(g, k, &ni);
    if (ni.feat < 0)
        return ni.value;
    if (set & (1u << ni.feat))
        return gbt_value(g, gl, gl[k] ? ni.left : ni.right, set);
    rdm_gbt_node(g, ni.left, &l);
    rdm_gbt_node(g, ni.right, &r);
    return (l.cover * gbt_value(g, gl, ni.left, set) + r.cover * gbt_value(g, gl, ni.right, set)) /
           ni.cover;
}

static double ensemble_value(const rdm_gbt *g, const unsigned char *gl, unsigned set)
{
    double s = rdm_gbt_base(g);
    for (int t = 0; t < rdm_gbt_ntrees(g); t++)
        s += gbt_value(g, gl, rdm_gbt_tree_root(g, t), set);
    return s;
}

/* A small boosted model fitted on one thread, no early stopping. */
static rdm_gbt *fit_small(const float *X, const float *y, int nr, int d, const int *ncat, int iters,
                          int leaves, double subsample)
{
    rdm_gbt_params p;
    rdm_gbt_params_default(&p);
    p.max_iter = iters;
    p.max_leaves = leaves;
    p.min_child_weight = 1;
    p.early_stopping = 0;
    p.threads = 1;
    p.subsample = subsample;
    rdm_err err = {0};
    return rdm_gbt_fit(X, y, (size_t)nr, d, ncat, NULL, NULL, 0, &p, NULL, NULL, &err);
}

static void test_gbt_fit_brute_force(void)
{
    enum { NR = 3000, D = 6 };

    float *X = malloc(NR * D * sizeof *X), y[NR];
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    rdm_rng r;
    rdm_rng_seed(&r, 77);
    int ncat[D] = {0, 0, 0, 4, 0, 3};
    for (int i = 0; i < NR; i++) {
        float *x = X + i * D;
        for (int j = 0; j < D; j++)
            x[j] =
                ncat[j] ? (float)rdm_rng_below(&r, (uint64_t)ncat[j]) : (float)rdm_rng_uniform(&r);
        if (rdm_rng_uniform(&r) < 0.1)
            x[1] = NAN; /* missing values take the learned direction */
        double z = 2 * x[0] - 1 + (x[3] == 2 ? 1 : 0) + (x[1] > 0.5f ? 0.7 : 0) - x[2] * x[0];
        y[i] = rdm_rng_uniform(&r) < 1 / (1 + exp(-z));
    }
    rdm_err err = {0};
    rdm_gbt *g = fit_small(X, y, NR, D, ncat, 12, 8, 0.7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    int nn = rdm_gbt_node_count(g);
    unsigned char *gl = malloc((size_t)nn);
    int *feat = malloc((size_t)nn * sizeof *feat), *lc = malloc((size_t)nn * sizeof *lc),
        *rc = malloc((size_t)nn * sizeof *rc);
    double *val = malloc((size_t)nn * sizeof *val), *cov = malloc((size_t)nn * sizeof *cov);
    CU_ASSERT_FATAL(gl && feat && lc && rc && val && cov);
    unsigned used = 0;
    for (int k = 0; k < nn; k++) {
        rdm_gbt_node_info ni;
        rdm_gbt_node(g, k, &ni);
        feat[k] = ni.feat;
        lc[k] = ni.left;
        rc[k] = ni.right;
        val[k] = ni.value;
        cov[k] = ni.cover;
        CU_ASSERT(cov[k] >= 1 && cov[k] <= NR);
        if (ni.feat >= 0) {
            used |= 1u << ni.feat;
            rdm_gbt_node_info a, b;
            rdm_gbt_node(g, ni.left, &a);
            rdm_gbt_node(g, ni.right, &b);
            CU_ASSERT_EQUAL(a.cover + b.cover, ni.cover); /* rows: children add up */
        }
    }
    int ntr = rdm_gbt_ntrees(g);
    rdm_shap_tree *trees = malloc((size_t)ntr * sizeof *trees);
    CU_ASSERT_PTR_NOT_NULL_FATAL(trees);
    for (int t = 0; t < ntr; t++)
        trees[t] = (rdm_shap_tree){rdm_gbt_tree_root(g, t), nn, feat, lc, rc, val, cov};
    rdm_shap_forest *forest = rdm_shap_forest_create(trees, ntr, D, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(forest);
    long ok_bf = 0, ok_add = 0;
    double fact[D + 1] = {1};
    for (int i = 1; i <= D; i++)
        fact[i] = fact[i - 1] * i;
    for (int i = 0; i < 200; i++) {
        const float *x = X + i * D;
        rdm_gbt_route(g, x, gl);
        double phi[D] = {0}, ev = rdm_gbt_base(g);
        for (int t = 0; t < rdm_gbt_ntrees(g); t++) {
            rdm_shap_tree v = {rdm_gbt_tree_root(g, t), nn, feat, lc, rc, val, cov};
            int depth;
            CU_ASSERT_EQUAL_FATAL(rdm_shap_tree_check(&v, D, &depth, &err), RDM_OK);
            double scratch[256];
            CU_ASSERT_FATAL(rdm_shap_scratch_size(depth) <= sizeof scratch);
            rdm_shap_add(&v, depth, gl, phi, scratch);
            ev += rdm_shap_expected(&v);
        }
        double phi2[D] = {0};
        void *fs = malloc(rdm_shap_forest_scratch_size(forest));
        CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
        rdm_shap_forest_add(forest, gl, phi2, fs);
        free(fs);
        for (int j = 0; j < D; j++)
            CU_ASSERT(fabs(phi2[j] - phi[j]) <= 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(rdm_shap_forest_expected(forest) + rdm_gbt_base(g), ev, 1e-12);
        double vs[1 << D];
        for (unsigned s2 = 0; s2 < (1u << D); s2++)
            vs[s2] = ensemble_value(g, gl, s2);
        double sum = ev;
        int ok = fabs(vs[0] - ev) <= 1e-12;
        for (int j = 0; j < D; j++) {
            double ref = 0;
            for (unsigned s2 = 0; s2 < (1u << D); s2++)
                if (!(s2 & (1u << j))) {
                    int sz = __builtin_popcount(s2);
                    ref += fact[sz] * fact[D - sz - 1] / fact[D] * (vs[s2 | (1u << j)] - vs[s2]);
                }
            ok &= fabs(phi[j] - ref) <= 1e-12;
            if (!(used & (1u << j)))
                ok &= phi[j] == 0.0;
            sum += phi[j];
        }
        double margin = rdm_gbt_margin(g, x);
        int add =
            fabs(sum - margin) <= 1e-9 * fabs(margin) && fabs(vs[(1u << D) - 1] - margin) <= 1e-12;
        CU_ASSERT(ok);
        CU_ASSERT(add);
        ok_bf += ok;
        ok_add += add;
    }
    CU_ASSERT_EQUAL(ok_bf, 200);
    n_bruteforce += ok_bf;
    n_additivity += ok_add;
    rdm_shap_forest_free(forest);
    free(trees);
    free(gl);
    free(feat);
    free(lc);
    free(rc);
    free(val);
    free(cov);
    free(X);
    rdm_gbt_free(g);
}

/* The router explanations use takes, at every split, the direction of the
 * scorer's own test (rdm_gbt_route): numeric splits with missing values
 * either way, categorical splits of few and of many (> 32) codes, and values
 * that are no code (negative, fractional, too large, infinite, missing). */
static void test_gbt_router(void)
{
    enum { NR = 4000, D = 4 };

    float *X = malloc(NR * D * sizeof *X), y[NR];
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    rdm_rng r;
    rdm_rng_seed(&r, 4242);
    int ncat[D] = {0, 40, 5, 0};
    for (int i = 0; i < NR; i++) {
        float *x = X + i * D;
        for (int j = 0; j < D; j++)
            x[j] =
                ncat[j] ? (float)rdm_rng_below(&r, (uint64_t)ncat[j]) : (float)rdm_rng_uniform(&r);
        if (rdm_rng_uniform(&r) < 0.15)
            x[0] = NAN;
        if (rdm_rng_uniform(&r) < 0.1)
            x[1] = NAN;
        double z = 2 * x[3] - 1 +
                   (x[1] != x[1]         ? 0
                    : (int)x[1] % 3 == 0 ? 1
                                         : -0.5) +
                   (x[2] == 1 ? 0.8 : 0) +
                   (x[0] != x[0]  ? 0.6
                    : x[0] > 0.4f ? -0.7
                                  : 0);
        y[i] = rdm_rng_uniform(&r) < 1 / (1 + exp(-z));
    }
    rdm_err err = {0};
    rdm_gbt *g = fit_small(X, y, NR, D, ncat, 20, 16, 1.0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    rdm_gbt_router *rt = rdm_gbt_router_create(g, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    int nn = rdm_gbt_node_count(g), splits[D] = {0};
    unsigned char *a = malloc((size_t)nn), *b = malloc((size_t)nn);
    void *slots = malloc(rdm_gbt_router_scratch_size(rt));
    CU_ASSERT_FATAL(a && b && slots);
    for (int k = 0; k < nn; k++) {
        rdm_gbt_node_info ni;
        rdm_gbt_node(g, k, &ni);
        if (ni.feat >= 0)
            splits[ni.feat]++;
    }
    for (int j = 0; j < D; j++)
        CU_ASSERT(splits[j] > 0); /* every kind of split is tried */
    static const float ODD[] = {-1.0f,     -0.5f, 0.5f,  2.5f,  4.999f, 5.0f,
                                39.5f,     40.0f, 41.0f, 1e9f,  -1e9f,  INFINITY,
                                -INFINITY, NAN,   0.0f,  -0.0f, 39.0f,  4.0f};
    long differ = 0, compared = 0;
    for (int i = 0; i < 3000; i++) {
        float x[D];
        memcpy(x, X + (i % NR) * D, sizeof x);
        if (i >= 1000) /* a value that is no code, or an edge of the range */
            x[rdm_rng_below(&r, D)] = ODD[rdm_rng_below(&r, sizeof ODD / sizeof ODD[0])];
        if (i >= 2000)
            x[rdm_rng_below(&r, D)] = ODD[rdm_rng_below(&r, sizeof ODD / sizeof ODD[0])];
        rdm_gbt_route(g, x, a);
        memset(b, 0xAA, (size_t)nn);
        rdm_gbt_router_route(rt, x, b, slots);
        for (int k = 0; k < nn; k++) {
            rdm_gbt_node_info ni;
            rdm_gbt_node(g, k, &ni);
            if (ni.feat < 0) {
                differ += b[k] != 0xAA; /* leaves are not written */
                continue;
            }
            compared++;
            differ += a[k] != b[k];
        }
    }
    CU_ASSERT(compared > 3000);
    CU_ASSERT_EQUAL(differ, 0);
    rdm_gbt_router_free(rt);
    free(slots);
    free(a);
    free(b);
    free(X);
    rdm_gbt_free(g);
}

/* ---- models built from synthetic records ---- */

typedef struct records {
    char **cells; /* row-major, RDM_NCOLS per row (NULL = absent column) */
    float *y;
    size_t n;
} records;

static void records_free(records *t)
{
    for (size_t k = 0; t->cells && k < t->n * RDM_NCOLS; k++)
        free(t->cells[k]);
    free(t->cells);
    free(t->y);
}

static int make_records(records *t, long rows, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    if (rdm_synth_buf(rows, seed, 0, &b, &err) != RDM_OK)
        return -1;
    rdm_csv *csv = rdm_csv_open_mem(b.data, b.len, 0, &err);
    int rc = csv ? rdm_csv_read_header(csv, &err) : -1;
    const char *const *names = NULL;
    int nh = rc ? 0 : rdm_csv_header(csv, &names), map[RDM_NCOLS + 8];
    for (int i = 0; i < nh && i < RDM_NCOLS + 8; i++)
        map[i] = rdm_schema_find(names[i]);
    t->cells = calloc((size_t)rows * RDM_NCOLS, sizeof *t->cells);
    t->y = calloc((size_t)rows, sizeof *t->y);
    rdm_csv_record rec;
    while (!rc && t->cells && t->y && t->n < (size_t)rows && rdm_csv_next(csv, &rec, &err) == 1) {
        char **row = t->cells + t->n * RDM_NCOLS;
        for (int i = 0; i < rec.nfields && i < nh; i++)
            if (map[i] >= 0)
                row[map[i]] = strdup(rec.fields[i]);
        t->y[t->n] = row[RDM_C_READMITTED] && strcmp(row[RDM_C_READMITTED], "<30") == 0;
        t->n++;
    }
    rdm_csv_free(csv);
    rdm_buf_release(&b);
    return rc || t->n != (size_t)rows ? -1 : 0;
}

/* Fit, save and load back (the explainer works on what the model file
 * holds). type: RDM_MODEL_GBT or RDM_MODEL_LOGREG. */
static rdm_model *fit_model(const records *t, rdm_model_type type)
{
    const char *const *cells = (const char *const *)t->cells;
    rdm_encoder_params ep;
    rdm_encoder_params_default(&ep);
    rdm_encoder *e = rdm_encoder_fit(cells, NULL, t->n, &ep, NULL);
    if (!e)
        return NULL;
    void *scorer = NULL;
    if (type == RDM_MODEL_GBT) {
        int d = rdm_encoder_tree_dim(e);
        float *X = malloc(t->n * (size_t)d * sizeof *X);
        if (X && rdm_encoder_tree_matrix(e, cells, NULL, t->n, X, NULL) == RDM_OK) {
            rdm_gbt_params p;
            rdm_gbt_params_default(&p);
            p.max_iter = 60;
            p.learning_rate = 0.1;
            p.early_stopping = 0;
            p.threads = 2;
            scorer = rdm_gbt_fit(X, t->y, t->n, d, rdm_encoder_tree_ncat(e), NULL, NULL, 0, &p,
                                 NULL, NULL, NULL);
        }
        free(X);
    } else {
        int nnz = rdm_encoder_lin_nnz(e);
        int32_t *cols = malloc(t->n * (size_t)nnz * sizeof *cols);
        float *val = malloc(t->n * (size_t)nnz * sizeof *val);
        if (cols && val &&
            rdm_encoder_lin_matrix(e, cells, NULL, t->n, cols, val, NULL) == RDM_OK) {
            rdm_csr X = {t->n, rdm_encoder_lin_dim(e), nnz, cols, val};
            rdm_logreg_params p;
            rdm_logreg_params_default(&p);
            p.l2 = 10;
            p.threads = 2;
            scorer = rdm_logreg_fit(&X, t->y, &p, NULL, NULL);
        }
        free(cols);
        free(val);
    }
    if (!scorer) {
        rdm_encoder_free(e);
        return NULL;
    }
    rdm_model *m = rdm_model_create(type, e, scorer, 0, 0.2, NULL);
    rdm_buf b = RDM_BUF_INIT;
    rdm_model *back = NULL;
    if (m && rdm_model_save_bytes(m, &b, NULL) == RDM_OK)
        back = rdm_model_load_bytes(b.data, b.len, NULL);
    rdm_buf_release(&b);
    rdm_model_free(m);
    return back;
}

/* Every record: base + contributions == logit(probability) to 1e-9
 * relative; every input field listed once, sorted by |contribution|. */
static long check_model_additivity(const rdm_model *m, const records *t, const rdm_explainer *x)
{
    long ok_n = 0;
    int nin = rdm_model_input_count(m);
    for (size_t i = 0; i < t->n; i++) {
        rdm_explanation ex;
        rdm_err err = {0};
        const char *const *row = (const char *const *)t->cells + i * RDM_NCOLS;
        CU_ASSERT_EQUAL_FATAL(rdm_explain(x, row, &ex, NULL, &err), RDM_OK);
        double p = 0;
        CU_ASSERT_EQUAL(rdm_model_score(m, row, &p, NULL, NULL), RDM_OK);
        CU_ASSERT_EQUAL(p, ex.prob); /* the one scoring path */
        double s = ex.base_value, lg = log(ex.prob / (1 - ex.prob));
        int seen[RDM_NCOLS] = {0}, ok = ex.n == nin;
        for (int k = 0; k < ex.n; k++) {
            s += ex.c[k].contribution;
            ok &= ex.c[k].col >= 0 && ex.c[k].col < RDM_NCOLS && !seen[ex.c[k].col]++;
            if (k)
                ok &= fabs(ex.c[k].contribution) <= fabs(ex.c[k - 1].contribution);
        }
        ok &= fabs(s - lg) <= 1e-9 * fmax(fabs(lg), 1e-3);
        CU_ASSERT(ok);
        if (!ok)
            fprintf(stderr, "record %zu: base + contributions %.17g, logit %.17g\n", i, s, lg);
        ok_n += ok;
    }
    return ok_n;
}

static void test_model_gbt(void)
{
    records t;
    CU_ASSERT_EQUAL_FATAL(make_records(&t, 4000, 5), 0);
    rdm_model *m = fit_model(&t, RDM_MODEL_GBT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_err err = {0};
    rdm_explainer *x = rdm_explainer_create(m, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    long ok = check_model_additivity(m, &t, x);
    CU_ASSERT_EQUAL(ok, (long)t.n);
    n_additivity += ok;
    /* fields that no split uses get exactly 0 */
    const rdm_gbt *g = rdm_model_gbt(m);
    const rdm_encoder *enc = rdm_model_encoder(m);
    int used[RDM_NCOLS] = {0}, nunused = 0;
    for (int k = 0; k < rdm_gbt_node_count(g); k++) {
        rdm_gbt_node_info ni;
        rdm_gbt_node(g, k, &ni);
        if (ni.feat >= 0)
            used[rdm_encoder_feature_col(enc, 0, ni.feat)] = 1;
    }
    for (size_t i = 0; i < 200; i++) {
        rdm_explanation ex;
        CU_ASSERT_EQUAL(
            rdm_explain(x, (const char *const *)t.cells + i * RDM_NCOLS, &ex, NULL, NULL), RDM_OK);
        for (int k = 0; k < ex.n; k++)
            if (!used[ex.c[k].col]) {
                CU_ASSERT_EQUAL(ex.c[k].contribution, 0.0);
                nunused += i == 0;
            }
    }
    CU_ASSERT(nunused > 0); /* the synthetic data has fields no tree needs */
    /* a bad value fails as scoring does, naming the field */
    const char *bad[RDM_NCOLS] = {0};
    bad[rdm_schema_find("num_lab_procedures")] = "many";
    err = (rdm_err){0};
    rdm_explanation ex;
    CU_ASSERT_NOT_EQUAL(rdm_explain(x, bad, &ex, NULL, &err), RDM_OK);
    CU_ASSERT(strstr(err.msg, "num_lab_procedures") != NULL);
    rdm_explainer_free(x);
    rdm_model_free(m);
    records_free(&t);
}

static void test_model_logreg(void)
{
    records t;
    CU_ASSERT_EQUAL_FATAL(make_records(&t, 3000, 6), 0);
    rdm_model *m = fit_model(&t, RDM_MODEL_LOGREG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_err err = {0};
    rdm_explainer *x = rdm_explainer_create(m, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    long ok = check_model_additivity(m, &t, x);
    CU_ASSERT_EQUAL(ok, (long)t.n);
    n_additivity += ok;
    /* against the training mean: the contributions average to 0 over the
     * training rows, field by field */
    double mean[RDM_NCOLS] = {0};
    for (size_t i = 0; i < t.n; i++) {
        rdm_explanation ex;
        CU_ASSERT_EQUAL(
            rdm_explain(x, (const char *const *)t.cells + i * RDM_NCOLS, &ex, NULL, NULL), RDM_OK);
        for (int k = 0; k < ex.n; k++)
            mean[ex.c[k].col] += ex.c[k].contribution / (double)t.n;
    }
    for (int c = 0; c < RDM_NCOLS; c++)
        CU_ASSERT(fabs(mean[c]) < 1e-6);
    rdm_explainer_free(x);
    rdm_model_free(m);
    records_free(&t);
}

/* The report's summary: the same bytes on one thread and on a pool; mean
 * |contribution| per field as the explanations give it; dependence data that
 * accounts for every record. */
static void test_summary(void)
{
    records t;
    CU_ASSERT_EQUAL_FATAL(make_records(&t, 1500, 11), 0);
    rdm_model *m = fit_model(&t, RDM_MODEL_GBT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_explainer *x = rdm_explainer_create(m, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    size_t n = 1200, *idx = malloc(n * sizeof *idx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = t.n - 1 - i; /* any order of any rows */
    rdm_explain_summary_params p;
    rdm_explain_summary_params_default(&p);
    p.max_levels = 3;
    p.max_points = 100;
    rdm_err err = {0};
    const char *const *cells = (const char *const *)t.cells;
    json_t *a = rdm_explain_summary(x, cells, idx, n, NULL, &p, &err);
    rdm_pool *pool = rdm_pool_create(3, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
    json_t *b = rdm_explain_summary(x, cells, idx, n, pool, &p, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    char *sa = json_dumps(a, JSON_COMPACT), *sb = json_dumps(b, JSON_COMPACT);
    CU_ASSERT_STRING_EQUAL(sa, sb);
    free(sa);
    free(sb);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(a, "rows")), (json_int_t)n);
    /* every input field once, by decreasing mean |contribution|, as the
     * explanations of the records give it */
    const json_t *fields = json_object_get(a, "fields");
    CU_ASSERT_EQUAL(json_array_size(fields), (size_t)rdm_model_input_count(m));
    double sum_abs[RDM_NCOLS] = {0};
    for (size_t i = 0; i < n; i++) {
        rdm_explanation ex;
        CU_ASSERT_EQUAL_FATAL(rdm_explain(x, cells + idx[i] * RDM_NCOLS, &ex, NULL, NULL), RDM_OK);
        for (int k = 0; k < ex.n; k++)
            sum_abs[ex.c[k].col] += fabs(ex.c[k].contribution);
    }
    double prev = INFINITY;
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        int col = rdm_schema_find(json_string_value(json_object_get(f, "field")));
        CU_ASSERT_FATAL(col >= 0);
        double ma = json_real_value(json_object_get(f, "mean_abs"));
        CU_ASSERT(fabs(ma - sum_abs[col] / (double)n) <= 1e-12 * (1 + ma));
        CU_ASSERT(ma <= prev);
        prev = ma;
    }
    CU_ASSERT(prev == 0.0); /* the synthetic data has fields no tree uses */
    /* dependence: the top fields, every record counted once */
    const json_t *dep = json_object_get(a, "dependence");
    CU_ASSERT(json_array_size(dep) >= 1 && json_array_size(dep) <= (size_t)p.top_fields);
    int kinds[2] = {0, 0};
    json_array_foreach(dep, i, f)
    {
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(f, "field")),
            json_string_value(json_object_get(json_array_get(fields, i), "field")));
        json_int_t total = 0;
        size_t k;
        const json_t *e;
        if (!strcmp(json_string_value(json_object_get(f, "kind")), "numeric")) {
            kinds[0]++;
            CU_ASSERT(json_array_size(json_object_get(f, "points")) <= (size_t)p.max_points);
            json_array_foreach(json_object_get(f, "means"), k, e) total +=
                json_integer_value(json_array_get(e, 2));
            CU_ASSERT(total > 0 && total <= (json_int_t)n);
        } else {
            kinds[1]++;
            const json_t *lv = json_object_get(f, "levels");
            CU_ASSERT(json_array_size(lv) <= (size_t)p.max_levels + 1);
            json_array_foreach(lv, k, e) total += json_integer_value(json_object_get(e, "records"));
            CU_ASSERT_EQUAL(total, (json_int_t)n);
        }
    }
    CU_ASSERT(kinds[0] + kinds[1] == (int)json_array_size(dep));
    json_decref(a);
    json_decref(b);
    rdm_pool_free(pool);
    free(idx);
    rdm_explainer_free(x);
    rdm_model_free(m);
    records_free(&t);
}

/* A baseline explains as its constant; a model without covers is refused. */
static void test_model_baseline_and_old_files(void)
{
    rdm_err err = {0};
    rdm_model *b = rdm_model_create(RDM_MODEL_BASELINE, NULL, NULL, 0.2, 0.5, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    rdm_explainer *x = rdm_explainer_create(b, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    const char *rec[RDM_NCOLS] = {0};
    rdm_explanation ex;
    CU_ASSERT_EQUAL(rdm_explain(x, rec, &ex, NULL, &err), RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(ex.base_value, log(0.25), 1e-15);
    for (int k = 0; k < ex.n; k++)
        CU_ASSERT_EQUAL(ex.c[k].contribution, 0.0);
    CU_ASSERT(ex.n > 40);
    rdm_explainer_free(x);
    rdm_model_free(b);

    static const char V1[] = "gbt 1\nfeatures 1\nncat 0\nbase 0x0p+0\ntrees 1\ntree 0 3\n"
                             "num 0 0x1p-1 1 1 2 0x1p+0\nleaf 0x1p+0\nleaf -0x1p+0\nend\n";
    rdm_gbt *g = rdm_gbt_load(V1, sizeof V1 - 1, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    rdm_gbt_node_info ni;
    rdm_gbt_node(g, 0, &ni);
    CU_ASSERT(isnan(ni.cover));
    rdm_buf out = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_gbt_save(g, &out, &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(out.data, V1); /* written back as format 1 */
    rdm_buf_release(&out);
    rdm_gbt_free(g);
}

/* ---- served: POST /api/v1/predict with "explain": true ---- */

/* A JSON body for record i (integers as numbers, the rest as strings). */
static void record_json(const records *t, size_t i, int explain, rdm_buf *b)
{
    const rdm_column *sc = rdm_schema_columns();
    int first = 1;
    CU_ASSERT_EQUAL(rdm_buf_addc(b, '{'), RDM_OK);
    for (int c = 0; c < RDM_NCOLS; c++) {
        const char *v = t->cells[i * RDM_NCOLS + c];
        if (!v || c == RDM_C_READMITTED || c == RDM_C_PATIENT_NBR || !strcmp(v, "?"))
            continue;
        int num = sc[c].kind == RDM_COL_INT || c == RDM_C_ENCOUNTER_ID;
        CU_ASSERT_EQUAL(rdm_buf_printf(b, num ? "%s\"%s\":%s" : "%s\"%s\":\"%s\"", first ? "" : ",",
                                       sc[c].name, v),
                        RDM_OK);
        first = 0;
    }
    if (explain)
        CU_ASSERT_EQUAL(rdm_buf_adds(b, ",\"explain\":true"), RDM_OK);
    CU_ASSERT_EQUAL(rdm_buf_addc(b, '}'), RDM_OK);
}

/* The prediction object `p` carries the explanation rdm_explain gives for
 * record i, digit for digit. */
static int same_explanation(const json_t *p, const rdm_explainer *x, const records *t, size_t i)
{
    rdm_explanation ex;
    if (rdm_explain(x, (const char *const *)t->cells + i * RDM_NCOLS, &ex, NULL, NULL))
        return 0;
    const json_t *cs = json_object_get(p, "contributions");
    int ok = json_is_array(cs) && (int)json_array_size(cs) == ex.n &&
             json_real_value(json_object_get(p, "base_value")) == ex.base_value;
    for (int k = 0; ok && k < ex.n; k++) {
        const json_t *c = json_array_get(cs, (size_t)k);
        ok = strcmp(json_string_value(json_object_get(c, "field")), ex.c[k].field) == 0 &&
             json_number_value(json_object_get(c, "contribution")) == ex.c[k].contribution &&
             json_object_get(c, "value") != NULL;
    }
    return ok;
}

static void test_api_explain(void)
{
    records t;
    CU_ASSERT_EQUAL_FATAL(make_records(&t, 2000, 8), 0);
    rdm_model *m = fit_model(&t, RDM_MODEL_GBT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_explainer *x = rdm_explainer_create(m, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    for (int with = 0; with < 2; with++) { /* the explainer given, or built per request */
        rdm_api_model am = {m, "readmission", "1", "champion", "", with ? x : NULL, NULL};
        for (size_t i = 0; i < 20; i++) {
            rdm_buf body = RDM_BUF_INIT, out = RDM_BUF_INIT;
            record_json(&t, i, 1, &body);
            CU_ASSERT_EQUAL(rdm_api_predict(&am, body.data, body.len, 100, &out), 200);
            json_t *r = json_loads(out.data, 0, NULL);
            CU_ASSERT_PTR_NOT_NULL_FATAL(r);
            CU_ASSERT(same_explanation(r, x, &t, i));
            json_decref(r);
            rdm_buf_release(&body);
            rdm_buf_release(&out);
        }
    }
    /* a batch with "explain" next to "instances"; without it, no contributions */
    rdm_api_model am = {m, "readmission", "1", "champion", "", x, NULL};
    for (int explain = 0; explain < 2; explain++) {
        rdm_buf body = RDM_BUF_INIT, out = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_buf_adds(&body, "{\"instances\":["), RDM_OK);
        for (size_t i = 0; i < 5; i++) {
            if (i)
                CU_ASSERT_EQUAL(rdm_buf_addc(&body, ','), RDM_OK);
            record_json(&t, i, 0, &body);
        }
        CU_ASSERT_EQUAL(rdm_buf_adds(&body, explain ? "],\"explain\":true}" : "]}"), RDM_OK);
        CU_ASSERT_EQUAL(rdm_api_predict(&am, body.data, body.len, 100, &out), 200);
        json_t *r = json_loads(out.data, 0, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        const json_t *ps = json_object_get(r, "predictions");
        CU_ASSERT_EQUAL(json_array_size(ps), 5);
        for (size_t i = 0; i < json_array_size(ps); i++) {
            const json_t *p = json_array_get(ps, i);
            if (explain) {
                CU_ASSERT(same_explanation(p, x, &t, i));
            } else {
                CU_ASSERT_PTR_NULL(json_object_get(p, "contributions"));
            }
        }
        json_decref(r);
        rdm_buf_release(&body);
        rdm_buf_release(&out);
    }
    /* not a boolean; inside a batch record: 422 */
    static const char *const BAD[] = {"{\"age\":\"[50-60)\",\"explain\":\"yes\"}",
                                      "{\"instances\":[{\"age\":\"[50-60)\",\"explain\":true}]}"};
    for (size_t k = 0; k < 2; k++) {
        rdm_buf out = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_api_predict(&am, BAD[k], strlen(BAD[k]), 100, &out), 422);
        rdm_buf_release(&out);
    }
    rdm_explainer_free(x);
    rdm_model_free(m);
    records_free(&t);
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
            CU_ADD_TEST(s, test_shap_check_rejects) && CU_ADD_TEST(s, test_shap_stump_by_hand) &&
            CU_ADD_TEST(s, test_gbt_fit_brute_force) && CU_ADD_TEST(s, test_gbt_router) &&
            CU_ADD_TEST(s, test_model_gbt) && CU_ADD_TEST(s, test_model_logreg) &&
            CU_ADD_TEST(s, test_summary) && CU_ADD_TEST(s, test_model_baseline_and_old_files) &&
            CU_ADD_TEST(s, test_api_explain))
               ? 0
               : -1;
}
