/* test_gbt.c - gradient-boosted trees: known patterns on tiny tables, early
 * stopping, determinism, text round trip, hand-written model text, defensive
 * parsing. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gbt.h"

int test_gbt_register(void);

static uint64_t lcg_state;

static double unif(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) * (1.0 / 9007199254740992.0);
}

static void params(rdm_gbt_params *p)
{
    rdm_gbt_params_default(p);
    p->learning_rate = 0.3;
    p->max_iter = 40;
    p->max_leaves = 8;
    p->min_child_weight = 1.0;
    p->early_stopping = 0;
    p->threads = 1;
    p->seed = 7;
}

/* Columns: 0 = categorical(4), 1 = categorical(4), 2 = numeric uniform, 3 =
 * numeric with NaNs, 4 = constant. Label: P(y)=0.9 when (f0 odd) XOR (f1 >= 2),
 * else 0.1 (f1 >= 2 is 70% of rows). */
static void make_xor(size_t n, float *X, float *y)
{
    for (size_t i = 0; i < n; i++) {
        float *x = X + i * 5;
        x[0] = (float)(int)(unif() * 4);
        x[1] = unif() < 0.7 ? (float)(2 + (int)(unif() * 2)) : (float)(int)(unif() * 2);
        x[2] = (float)unif();
        x[3] = unif() < 0.1 ? NAN : (float)unif();
        x[4] = 5.0f;
        int cell = (((int)x[0] & 1) ^ (x[1] >= 2));
        y[i] = unif() < (cell ? 0.9 : 0.1) ? 1.0f : 0.0f;
    }
}

static const int XOR_NCAT[5] = {4, 4, 0, 0, 0};

static void test_gbt_categorical_xor(void)
{
    size_t n = 4000;
    float *X = malloc(n * 5 * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 1;
    make_xor(n, X, y);
    rdm_gbt_params p;
    params(&p);
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_fit(X, y, n, 5, XOR_NCAT, NULL, NULL, 0, &p, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(rdm_gbt_ntrees(m), 40);
    CU_ASSERT_EQUAL(rdm_gbt_nfeatures(m), 5);
    /* every cell on the right side, with a clear margin (true log-odds are +-2.2)
     */
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            float x[5] = {(float)a, (float)b, 0.5f, 0.5f, 5.0f};
            double z = rdm_gbt_margin(m, x);
            int cell = (a & 1) ^ (b >= 2);
            CU_ASSERT(cell ? z > 1.0 : z < -1.0);
        }
    double gain[5];
    rdm_gbt_importance(m, gain);
    CU_ASSERT(gain[0] > 0);
    CU_ASSERT(gain[1] > 0);
    /* the noise columns pick up some over-fitting gain; the signal columns
     * dominate */
    double noise = gain[2] > gain[3] ? gain[2] : gain[3];
    CU_ASSERT(gain[0] > 2 * noise);
    CU_ASSERT(gain[1] > 2 * noise);
    CU_ASSERT_EQUAL(gain[4], 0.0); /* constant feature: never splittable */
    rdm_gbt_free(m);
    free(X);
    free(y);
}

static void test_gbt_monotone_numeric(void)
{
    size_t n = 6000;
    float *X = malloc(n * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 2;
    for (size_t i = 0; i < n; i++) {
        X[i] = (float)unif();
        y[i] = unif() < X[i] ? 1.0f : 0.0f; /* P(y=1 | x) = x */
    }
    rdm_gbt_params p;
    params(&p);
    p.learning_rate = 0.1;
    p.max_iter = 60;
    p.max_leaves = 4;
    p.min_child_weight = 20;
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_fit(X, y, n, 1, NULL, NULL, NULL, 0, &p, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    double prev = -INFINITY;
    for (int k = 1; k <= 9; k += 2) {
        float x = (float)k / 10.0f;
        double z = rdm_gbt_margin(m, &x);
        CU_ASSERT(z >= prev - 0.05); /* allow tiny wiggles between neighbouring bins */
        prev = z;
    }
    float lo = 0.1f, hi = 0.9f;
    /* logit(0.9) - logit(0.1) = 4.39; boosted trees get most of the way */
    CU_ASSERT(rdm_gbt_margin(m, &hi) - rdm_gbt_margin(m, &lo) > 2.5);
    rdm_gbt_free(m);
    free(X);
    free(y);
}

static void test_gbt_missing_learned_direction(void)
{
    size_t n = 3000;
    float *X = malloc(n * 2 * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 3;
    for (size_t i = 0; i < n; i++) {
        int miss = unif() < 0.2;
        /* feature 0: numeric, NaN carries the signal; feature 1: categorical(3),
         * NaN likewise */
        X[2 * i] = miss ? NAN : (float)unif();
        X[2 * i + 1] = miss ? NAN : (float)(int)(unif() * 3);
        y[i] = miss ? 1.0f : (unif() < 0.05 ? 1.0f : 0.0f);
    }
    int ncat[2] = {0, 3};
    rdm_gbt_params p;
    params(&p);
    rdm_err err = {0};
    for (int variant = 0; variant < 2; variant++) {
        /* variant 1: only the categorical column is available as a signal */
        float *Xv = X;
        if (variant == 1)
            for (size_t i = 0; i < n; i++)
                X[2 * i] = 0.5f;
        rdm_gbt *m = rdm_gbt_fit(Xv, y, n, 2, ncat, NULL, NULL, 0, &p, NULL, NULL, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        float miss[2] = {NAN, NAN};
        double zm = rdm_gbt_margin(m, miss);
        CU_ASSERT(zm > 2.0);
        for (int k = 0; k < 3; k++) {
            float x[2] = {0.1f + 0.4f * (float)k, (float)k};
            CU_ASSERT(rdm_gbt_margin(m, x) < -2.0);
        }
        /* the learned default direction holds for each feature on its own */
        float only_num[2] = {NAN, 1.0f};
        float only_cat[2] = {0.5f, NAN};
        CU_ASSERT(variant == 1 || rdm_gbt_margin(m, only_num) > 0.0);
        CU_ASSERT(variant == 0 || rdm_gbt_margin(m, only_cat) > 2.0);
        rdm_gbt_free(m);
    }
    free(X);
    free(y);
}

typedef struct trace {
    int calls;
    double tl[512], vl[512];
} trace;

static void record(int iter, double tl, double vl, void *ud)
{
    trace *t = ud;
    if (iter == t->calls && t->calls < 512) {
        t->tl[t->calls] = tl;
        t->vl[t->calls] = vl;
    }
    t->calls++;
}

static void test_gbt_train_loss_decreases(void)
{
    size_t n = 2000;
    float *X = malloc(n * 5 * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 4;
    make_xor(n, X, y);
    rdm_gbt_params p;
    params(&p);
    p.learning_rate = 0.1;
    p.max_iter = 30;
    trace *t = calloc(1, sizeof *t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_fit(X, y, n, 5, XOR_NCAT, NULL, NULL, 0, &p, record, t, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(t->calls, 30);
    /* base rate loss: the positive rate r gives -(r log r + (1-r) log(1-r))
     * before any tree */
    double pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y[i];
    double r = pos / (double)n, l0 = -(r * log(r) + (1 - r) * log(1 - r));
    CU_ASSERT(t->tl[0] < l0);
    for (int i = 1; i < 30; i++)
        CU_ASSERT(t->tl[i] <= t->tl[i - 1] + 1e-12);
    CU_ASSERT(t->tl[29] < l0 - 0.15);
    CU_ASSERT(isnan(t->vl[0])); /* no validation set */
    rdm_gbt_free(m);
    free(t);
    free(X);
    free(y);
}

static void test_gbt_early_stopping(void)
{
    size_t n = 1000, nv = 1000;
    float *X = malloc((n + nv) * 3 * sizeof *X), *y = malloc((n + nv) * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 5;
    for (size_t i = 0; i < n + nv; i++) { /* pure noise: validation loss soon goes up */
        for (int j = 0; j < 3; j++)
            X[i * 3 + j] = (float)unif();
        y[i] = unif() < 0.3 ? 1.0f : 0.0f;
    }
    rdm_gbt_params p;
    params(&p);
    p.max_iter = 300;
    p.max_leaves = 16;
    p.early_stopping = 5;
    trace *t = calloc(1, sizeof *t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_fit(X, y, n, 3, NULL, X + n * 3, y + n, nv, &p, record, t, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    int kept = rdm_gbt_ntrees(m);
    CU_ASSERT(t->calls < 300);
    CU_ASSERT_EQUAL(t->calls, kept + 5); /* stopped 5 rounds after the best */
    int best = 0;
    for (int i = 1; i < t->calls && i < 512; i++)
        if (t->vl[i] < t->vl[best])
            best = i;
    CU_ASSERT_EQUAL(kept, best + 1);
    /* the kept model's validation loss is the best recorded one */
    double s = 0;
    for (size_t i = 0; i < nv; i++) {
        double z = rdm_gbt_margin(m, X + (n + i) * 3), yi = y[n + i];
        s += log1p(exp(-fabs(z))) + (z > 0 ? z : 0) - yi * z;
    }
    CU_ASSERT_DOUBLE_EQUAL(s / (double)nv, t->vl[best], 1e-9);
    rdm_gbt_free(m);
    free(t);
    free(X);
    free(y);
}

static char *fit_text(const float *X, const float *y, size_t n, int threads, uint64_t seed)
{
    rdm_gbt_params p;
    params(&p);
    p.threads = threads;
    p.seed = seed;
    p.subsample = 0.8;
    p.colsample = 0.6;
    p.max_iter = 15;
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_fit(X, y, n, 5, XOR_NCAT, X, y, n, &p, NULL, NULL, &err);
    if (!m)
        return NULL;
    rdm_buf b = RDM_BUF_INIT;
    int rc = rdm_gbt_save(m, &b, &err);
    rdm_gbt_free(m);
    if (rc != RDM_OK) {
        rdm_buf_release(&b);
        return NULL;
    }
    return rdm_buf_take(&b);
}

static void test_gbt_deterministic(void)
{
    size_t n = 3000;
    float *X = malloc(n * 5 * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 6;
    make_xor(n, X, y);
    char *a = fit_text(X, y, n, 2, 11), *b = fit_text(X, y, n, 2, 11);
    char *c = fit_text(X, y, n, 1, 11), *d = fit_text(X, y, n, 3, 11);
    char *e = fit_text(X, y, n, 2, 12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(a, b); /* same seed, same threads */
    CU_ASSERT_STRING_EQUAL(a, c); /* thread count does not matter either */
    CU_ASSERT_STRING_EQUAL(a, d);
    CU_ASSERT(strcmp(a, e) != 0); /* the seed does (row and feature sampling) */
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    free(X);
    free(y);
}

static void test_gbt_save_load_roundtrip(void)
{
    size_t n = 2000;
    float *X = malloc(n * 5 * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 7;
    make_xor(n, X, y);
    rdm_gbt_params p;
    params(&p);
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_fit(X, y, n, 5, XOR_NCAT, NULL, NULL, 0, &p, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_gbt_save(m, &b, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_buf_adds(&b, "next section\n"), 0);
    size_t used = 0;
    rdm_gbt *m2 = rdm_gbt_load(b.data, b.len, &used, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
    CU_ASSERT_EQUAL(used, b.len - strlen("next section\n"));
    CU_ASSERT_EQUAL(rdm_gbt_ntrees(m2), rdm_gbt_ntrees(m));
    int same = 1;
    for (size_t i = 0; i < n; i++)
        if (rdm_gbt_margin(m, X + i * 5) != rdm_gbt_margin(m2, X + i * 5))
            same = 0;
    CU_ASSERT(same);
    double g1[5], g2[5];
    rdm_gbt_importance(m, g1);
    rdm_gbt_importance(m2, g2);
    CU_ASSERT(memcmp(g1, g2, sizeof g1) == 0);
    rdm_buf b2 = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_gbt_save(m2, &b2, &err), RDM_OK);
    CU_ASSERT_EQUAL(b2.len, used);
    CU_ASSERT(b2.len == used && memcmp(b.data, b2.data, used) == 0);

    /* truncated at every offset: an error, never a crash; only the full text
     * loads */
    int bad = 0;
    for (size_t cut = 0; cut < used - 1; cut++) {
        rdm_err e2 = {0};
        char *tr = malloc(cut + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
        memcpy(tr, b.data, cut); /* exact-size copy: ASan sees any read past the end */
        rdm_gbt *t = rdm_gbt_load(tr, cut, NULL, &e2);
        if (t || e2.code != RDM_EPARSE)
            bad++;
        rdm_gbt_free(t);
        free(tr);
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* garbled bytes: any outcome but a crash; a model that loads must still score
     */
    for (size_t pos = 0; pos < used; pos += 7) {
        rdm_err e3 = {0};
        char *g = malloc(used);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        memcpy(g, b.data, used);
        g[pos] = (char)(g[pos] == '1' ? '9' : (g[pos] == ' ' ? 'x' : '1'));
        rdm_gbt *t = rdm_gbt_load(g, used, NULL, &e3);
        if (t) {
            (void)rdm_gbt_margin(t, X);
        } else {
            CU_ASSERT(e3.code == RDM_EPARSE || e3.code == RDM_EVERSION);
        }
        rdm_gbt_free(t);
        free(g);
    }
    rdm_buf_release(&b);
    rdm_buf_release(&b2);
    rdm_gbt_free(m);
    rdm_gbt_free(m2);
    free(X);
    free(y);
}

/* A model written by hand: x0 <= 0.5 (missing left) -> 1; else x1 in {0, 2} ->
 * 2, otherwise (1, missing, unknown codes) -> -1; base 0.25. */
static const char HAND[] = "gbt 1\n"
                           "features 2\n"
                           "ncat 0 3\n"
                           "base 0x1p-2\n"
                           "trees 1\n"
                           "tree 0 5\n"
                           "num 0 0x1p-1 1 1 2 0x1.8p+0\n"
                           "leaf 0x1p+0\n"
                           "cat 1 0 3 4 0x1p-1 5\n"
                           "leaf 0x1p+1\n"
                           "leaf -0x1p+0\n"
                           "end\n";

static void test_gbt_hand_model(void)
{
    rdm_err err = {0};
    size_t used = 0;
    rdm_gbt *m = rdm_gbt_load(HAND, strlen(HAND), &used, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(used, strlen(HAND));

    struct {
        float x0, x1;
        double want;
    } cases[] = {
        {0.25f, 1.0f, 1.25},  {0.5f, 1.0f, 1.25},    {NAN, 1.0f, 1.25},      {0.75f, 0.0f, 2.25},
        {0.75f, 2.0f, 2.25},  {0.75f, 1.0f, -0.75},  {0.75f, NAN, -0.75},    {0.75f, 7.0f, -0.75},
        {0.75f, 1.5f, -0.75}, {0.75f, -1.0f, -0.75}, {INFINITY, 0.0f, 2.25},
    };

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float x[2] = {cases[k].x0, cases[k].x1};
        CU_ASSERT_DOUBLE_EQUAL(rdm_gbt_margin(m, x), cases[k].want, 1e-15);
    }
    double g[2];
    rdm_gbt_importance(m, g);
    CU_ASSERT_DOUBLE_EQUAL(g[0], 1.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(g[1], 0.5, 0);
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_gbt_save(m, &b, &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(b.data, HAND);
    rdm_buf_release(&b);
    rdm_gbt_free(m);
}

static void expect_load_error(const char *from, const char *to, int code)
{
    char text[1024];
    const char *at = strstr(HAND, from);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    size_t pre = (size_t)(at - HAND);
    snprintf(text, sizeof text, "%.*s%s%s", (int)pre, HAND, to, at + strlen(from));
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_load(text, strlen(text), NULL, &err);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT(strstr(err.msg, "line") != NULL);
    rdm_gbt_free(m);
}

static void test_gbt_load_errors(void)
{
    /* HAND with one piece replaced: `from` -> `to` must fail with `code` */
    static const struct {
        const char *from, *to;
        int code;
    } cases[] = {
        {"gbt 1", "gbt 3", RDM_EVERSION},
        {"gbt 1", "gbx 1", RDM_EPARSE},
        {"num 0 0x1p-1 1 1 2", "num 0 0x1p-1 1 1 5", RDM_EPARSE}, /* child >= nodes */
        {"num 0 0x1p-1 1 1 2", "num 0 0x1p-1 1 0 2", RDM_EPARSE}, /* cycle */
        {"num 0 0x1p-1", "num 2 0x1p-1", RDM_EPARSE},             /* feature */
        {"num 0 0x1p-1", "num 1 0x1p-1", RDM_EPARSE},             /* numeric on categorical */
        {"cat 1 0 3 4", "cat 0 0 3 4", RDM_EPARSE},               /* categorical on numeric */
        {"0x1p-1 5\n", "0x1p-1 5 6\n", RDM_EPARSE},               /* extra bitset word */
        {"0x1p-1 5\n", "0x1p-1 zz\n", RDM_EPARSE},
        {"leaf 0x1p+0", "leaf nan", RDM_EPARSE},
        {"leaf 0x1p+0", "leaf", RDM_EPARSE},
        {"leaf 0x1p+0", "leaf 0x1p+0 7", RDM_EPARSE}, /* extra token */
        {"leaf 0x1p+0", "lief 0x1p+0", RDM_EPARSE},   /* node kind */
        {"base 0x1p-2", "base inf", RDM_EPARSE},
        {"trees 1", "trees 2", RDM_EPARSE},
        {"tree 0 5", "tree 0 4", RDM_EPARSE},
        {"tree 0 5", "tree 1 5", RDM_EPARSE},
        {"tree 0 5", "tree 0 99999999", RDM_EPARSE},
        {"ncat 0 3", "ncat 0 300", RDM_EPARSE},
        {"ncat 0 3", "ncat 0", RDM_EPARSE},
        {"end\n", "", RDM_EPARSE},
        {"end\n", "end x\n", RDM_EPARSE},
    };

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        expect_load_error(cases[k].from, cases[k].to, cases[k].code);
    rdm_err err = {0};
    CU_ASSERT_PTR_NULL(rdm_gbt_load("", 0, NULL, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
}

/* Mean log loss of the model on rows X (d features), computed from
 * rdm_gbt_margin. */
static double model_loss(const rdm_gbt *m, const float *X, const float *y, size_t n, int d)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double z = rdm_gbt_margin(m, X + i * (size_t)d), yi = y[i];
        s += log1p(exp(-fabs(z))) + (z > 0 ? z : 0) - yi * z;
    }
    return s / (double)n;
}

/* Columns: 0 = categorical(40), levels {3, 17, 33, 38} carry the signal, 8%
 * missing; 1 = numeric with 10% NaN, signal above 0.6; 2..9 = categorical(3)
 * at level 0 70% of the time (sparse rows of varying length); 10 =
 * constant. */
#define BIG_D 11

static void make_big(size_t n, float *X, float *y)
{
    for (size_t i = 0; i < n; i++) {
        float *x = X + i * BIG_D;
        int c0 = (int)(unif() * 40);
        x[0] = unif() < 0.08 ? NAN : (float)c0;
        x[1] = unif() < 0.1 ? NAN : (float)unif();
        int busy = 0;
        for (int j = 2; j < 10; j++) {
            double u = unif();
            x[j] = u < 0.7 ? 0.0f : (u < 0.85 ? 1.0f : 2.0f);
            busy += x[j] != 0.0f;
        }
        x[10] = 1.0f;
        double z = -1.5;
        if (!isnan(x[0]) && (c0 == 3 || c0 == 17 || c0 == 33 || c0 == 38))
            z += 2.0;
        if (!isnan(x[1]) && x[1] > 0.6f)
            z += 1.0;
        z += 0.3 * (busy - 2.4);
        y[i] = unif() < 1.0 / (1.0 + exp(-z)) ? 1.0f : 0.0f;
    }
}

static const int BIG_NCAT[BIG_D] = {40, 0, 3, 3, 3, 3, 3, 3, 3, 3, 0};

/* Enough rows for every parallel path (row chunks of histograms and
 * partitions): the model is the same for 1, 2 and 3 threads, and the
 * training and validation losses reported during the fit are those of the
 * final model's rdm_gbt_margin (the binned routes of the fit agree with the
 * float thresholds, wide categorical bitsets included). */
static void test_gbt_threads_large(void)
{
    size_t n = 40000, nv = 8000;
    float *X = malloc((n + nv) * BIG_D * sizeof *X), *y = malloc((n + nv) * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 21;
    make_big(n + nv, X, y);
    const float *Xv = X + n * BIG_D, *yv = y + n;
    char *text[3] = {NULL, NULL, NULL};
    for (int t = 0; t < 3; t++) {
        rdm_gbt_params p;
        params(&p);
        p.threads = t + 1;
        p.learning_rate = 0.2;
        p.max_iter = 25;
        p.max_leaves = 16;
        p.min_child_weight = 5;
        trace *tr = calloc(1, sizeof *tr);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
        rdm_err err = {0};
        rdm_gbt *m = rdm_gbt_fit(X, y, n, BIG_D, BIG_NCAT, Xv, yv, nv, &p, record, tr, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT_EQUAL(tr->calls, 25);
        CU_ASSERT_EQUAL(rdm_gbt_ntrees(m), 25);
        CU_ASSERT_DOUBLE_EQUAL(tr->tl[24], model_loss(m, X, y, n, BIG_D), 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(tr->vl[24], model_loss(m, Xv, yv, nv, BIG_D), 1e-9);
        /* learned: the signal levels of the wide categorical, high x1 */
        float a[BIG_D] = {17, 0.9f, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        float b[BIG_D] = {16, 0.9f, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        float c[BIG_D] = {16, 0.1f, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        CU_ASSERT(rdm_gbt_margin(m, a) > rdm_gbt_margin(m, b) + 1.0);
        CU_ASSERT(rdm_gbt_margin(m, b) > rdm_gbt_margin(m, c) + 0.5);
        double g[BIG_D];
        rdm_gbt_importance(m, g);
        CU_ASSERT_EQUAL(g[10], 0.0);
        rdm_buf buf = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_gbt_save(m, &buf, &err), RDM_OK);
        text[t] = rdm_buf_take(&buf);
        rdm_gbt_free(m);
        free(tr);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[1]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[2]);
    CU_ASSERT_STRING_EQUAL(text[0], text[1]);
    CU_ASSERT_STRING_EQUAL(text[0], text[2]);
    for (int t = 0; t < 3; t++)
        free(text[t]);
    free(X);
    free(y);
}

/* ---- an independent scorer over the text form (the reference) ---- */

typedef struct refnode {
    int kind; /* 0 leaf, 1 num, 2 cat */
    int feat, dleft, left, right;
    double thr, value, gain;
    uint32_t set[8];
} refnode;

typedef struct refmodel {
    int d, ncat[64], ntrees;
    double base;
    int *tstart; /* ntrees + 1 */
    refnode *nodes;
} refmodel;

/* Parse what rdm_gbt_save writes (features <= 64, categories <= 256). */
static int ref_parse(const char *text, refmodel *r)
{
    const char *p = text;
    int used = 0, nn = 0;
    memset(r, 0, sizeof *r);
    if (sscanf(p, "gbt 2\nfeatures %d\nncat%n", &r->d, &used) != 1 || r->d > 64)
        return -1;
    p += used;
    for (int j = 0; j < r->d; j++, p += used)
        if (sscanf(p, " %d%n", &r->ncat[j], &used) != 1)
            return -1;
    if (sscanf(p, "\nbase %la\ntrees %d\n%n", &r->base, &r->ntrees, &used) != 2)
        return -1;
    p += used;
    r->tstart = calloc((size_t)r->ntrees + 1, sizeof *r->tstart);
    size_t cap = 1024;
    r->nodes = malloc(cap * sizeof *r->nodes);
    for (int t = 0; t < r->ntrees; t++) {
        int tt, k;
        if (sscanf(p, "tree %d %d\n%n", &tt, &k, &used) != 2 || tt != t)
            return -1;
        p += used;
        r->tstart[t] = nn;
        for (int i = 0; i < k; i++, nn++) {
            if ((size_t)nn == cap)
                r->nodes = realloc(r->nodes, (cap *= 2) * sizeof *r->nodes);
            refnode *q = &r->nodes[nn];
            double cover; /* format 2: every node ends with its cover */
            memset(q, 0, sizeof *q);
            if (sscanf(p, "leaf %la %la\n%n", &q->value, &cover, &used) == 2) {
                q->kind = 0;
            } else if (sscanf(p, "num %d %la %d %d %d %la %la\n%n", &q->feat, &q->thr, &q->dleft,
                              &q->left, &q->right, &q->gain, &cover, &used) == 7) {
                q->kind = 1;
            } else if (sscanf(p, "cat %d %d %d %d %la %la%n", &q->feat, &q->dleft, &q->left,
                              &q->right, &q->gain, &cover, &used) == 6) {
                q->kind = 2;
                p += used;
                for (int w = 0; w < (r->ncat[q->feat] + 31) / 32; w++, p += used)
                    if (sscanf(p, " %x%n", &q->set[w], &used) != 1)
                        return -1;
                used = 1; /* the newline */
            } else {
                return -1;
            }
            p += used;
        }
    }
    r->tstart[r->ntrees] = nn;
    return strcmp(p, "end\n") == 0 ? 0 : -1;
}

/* base + the leaf of every tree, in tree order: x <= thr goes left, NaN and
 * codes outside 0..ncat-1 go where dleft says. */
static double ref_margin(const refmodel *r, const float *x)
{
    double s = r->base;
    for (int t = 0; t < r->ntrees; t++) {
        const refnode *q = &r->nodes[r->tstart[t]];
        while (q->kind != 0) {
            float v = x[q->feat];
            int left;
            if (isnan(v))
                left = q->dleft;
            else if (q->kind == 1)
                left = (double)v <= q->thr;
            else if (v >= 0 && v < (float)r->ncat[q->feat] && v == floorf(v))
                left = (int)((q->set[(int)v / 32] >> ((int)v % 32)) & 1u);
            else
                left = q->dleft;
            q = &r->nodes[r->tstart[t] + (left ? q->left : q->right)];
        }
        s += q->value;
    }
    return s;
}

/* Whether row x reaches node k of tree 0 of r. */
static int ref_reaches(const refmodel *r, const float *x, int k)
{
    int at = 0;
    while (at != k && r->nodes[at].kind == 1) {
        const refnode *q = &r->nodes[at];
        float v = x[q->feat];
        at = (isnan(v) ? q->dleft : (double)v <= q->thr) ? q->left : q->right;
    }
    return at == k;
}

static double split_score(double g, double h, double l2)
{
    return g * g / (h + l2);
}

/* The best gain of splitting rows[0..m) on numeric feature f of X (d
 * columns): every threshold between two values present, missing values on
 * either side, each child's hessian at least mcw; -1 when none. */
static double brute_gain(const float *X, int d, const int *rows, int m, int f, const float *y,
                         double p0, double l2, double mcw)
{
    double hrow = p0 * (1 - p0), G = 0, gm = 0, hm = 0;
    float *v = malloc((size_t)m * sizeof *v);
    int nv = 0;
    for (int k = 0; k < m; k++) {
        float x = X[(size_t)rows[k] * d + f];
        double g = p0 - y[rows[k]];
        G += g;
        if (isnan(x)) {
            gm += g;
            hm += hrow;
        } else {
            v[nv++] = x;
        }
    }
    double H = m * hrow, parent = split_score(G, H, l2), best = -1;
    for (int a = 0; a < nv; a++) { /* candidate threshold: value v[a] (x <= v[a] left) */
        int dup = 0, top = 1;
        for (int b = 0; b < nv; b++) {
            dup |= b < a && v[b] == v[a];
            top &= v[b] <= v[a];
        }
        if (dup || top)
            continue;
        double gl = 0, hl = 0;
        for (int k = 0; k < m; k++) {
            float x = X[(size_t)rows[k] * d + f];
            if (!isnan(x) && x <= v[a]) {
                gl += p0 - y[rows[k]];
                hl += hrow;
            }
        }
        for (int dl = 0; dl <= (hm > 0); dl++) {
            double lg = gl + (dl ? gm : 0), lh = hl + (dl ? hm : 0);
            if (lh < mcw || H - lh < mcw)
                continue;
            double gain = split_score(lg, lh, l2) + split_score(G - lg, H - lh, l2) - parent;
            if (gain > best)
                best = gain;
        }
    }
    free(v);
    return best;
}

/* Every split of a one-tree fit is the best split of the rows that reach its
 * node, found by brute force (every threshold between two values present,
 * missing values either way; all rows share the first tree's gradient
 * form): the fit's partitions, histogram subtraction and recovery of each
 * feature's most frequent bin, on 1, 2 and 3 threads, against a direct
 * computation from the rows. */
static void test_gbt_splits_are_best(void)
{
    enum { N = 5000, D = 4 };

    float *X = malloc(N * D * sizeof *X), *y = malloc(N * sizeof *y);
    int *rows = malloc(N * sizeof *rows);
    CU_ASSERT_FATAL(X && y && rows);
    lcg_state = 31;
    for (int i = 0; i < N; i++) {
        float *x = X + (size_t)i * D;
        x[0] = (float)(int)(unif() * 30);
        x[1] = unif() < 0.15 ? NAN : (float)(int)(unif() * 12);
        x[2] = (float)(int)(unif() * 50) / 7.0f;
        x[3] = unif() < 0.6 ? 0.0f : (float)(int)(unif() * 5); /* mostly the default bin */
        double z = 0.08 * x[0] - 1.5 + (isnan(x[1]) ? 0.8 : 0.1 * x[1]) + (x[3] > 2 ? 0.7 : 0) -
                   0.05 * x[2];
        y[i] = unif() < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
    }
    for (int t = 1; t <= 3; t++) {
        rdm_gbt_params p;
        params(&p);
        p.max_iter = 1;
        p.max_leaves = 12;
        p.min_child_weight = 5;
        p.l2 = 1;
        p.threads = t;
        rdm_err err = {0};
        rdm_gbt *m = rdm_gbt_fit(X, y, N, D, NULL, NULL, NULL, 0, &p, NULL, NULL, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rdm_buf b = RDM_BUF_INIT;
        CU_ASSERT_EQUAL_FATAL(rdm_gbt_save(m, &b, &err), RDM_OK);
        refmodel r;
        CU_ASSERT_EQUAL_FATAL(ref_parse(b.data, &r), 0);
        double p0 = 1 / (1 + exp(-r.base));
        int splits = 0, best = 0;
        for (int k = r.tstart[0]; k < r.tstart[1]; k++) {
            if (r.nodes[k].kind != 1)
                continue;
            int mrows = 0;
            for (int i = 0; i < N; i++)
                if (ref_reaches(&r, X + (size_t)i * D, k))
                    rows[mrows++] = i;
            double g[D], top = -1;
            int arg = -1;
            for (int f = 0; f < D; f++) {
                g[f] = brute_gain(X, D, rows, mrows, f, y, p0, p.l2, p.min_child_weight);
                if (g[f] > top) {
                    top = g[f];
                    arg = f;
                }
            }
            splits++;
            best += arg == r.nodes[k].feat && fabs(r.nodes[k].gain - top) <= 1e-6 * top;
        }
        CU_ASSERT_EQUAL(splits, 11); /* the tree has its 12 leaves */
        CU_ASSERT_EQUAL(best, splits);
        free(r.tstart);
        free(r.nodes);
        rdm_buf_release(&b);
        rdm_gbt_free(m);
    }
    free(X);
    free(y);
    free(rows);
}

/* The block scorer on a whole test split: every row's margin, for every
 * block size, is bit for bit the reference's (and rdm_gbt_margin's), wide
 * and narrow categorical splits, missing values and unseen codes included;
 * with 31 leaves a tree (leaf-mask tables) and 48 (trees walked). */
static void block_scoring(int leaves)
{
    size_t n = 20000, nt = 5000;
    float *X = malloc((n + nt) * BIG_D * sizeof *X), *y = malloc((n + nt) * sizeof *y);
    double *ref = malloc(nt * sizeof *ref), *got = malloc(nt * sizeof *got);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X && y && ref && got);
    lcg_state = 99;
    make_big(n + nt, X, y);
    float *Xt = X + n * BIG_D;
    for (size_t i = 0; i < nt; i += 97) /* codes the training data never had */
        Xt[i * BIG_D + 2] = (float)(3 + i % 5);
    rdm_gbt_params p;
    params(&p);
    p.max_iter = 60;
    p.max_leaves = leaves;
    p.learning_rate = 0.1;
    p.min_child_weight = 2;
    rdm_err err = {0};
    rdm_gbt *m = rdm_gbt_fit(X, y, n, BIG_D, BIG_NCAT, NULL, NULL, 0, &p, NULL, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(rdm_gbt_ntrees(m), 60);
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_gbt_save(m, &b, &err), RDM_OK);
    refmodel r;
    CU_ASSERT_EQUAL_FATAL(ref_parse(b.data, &r), 0);
    CU_ASSERT_EQUAL(r.ntrees, 60);
    for (size_t i = 0; i < nt; i++)
        ref[i] = ref_margin(&r, Xt + i * BIG_D);
    static const size_t blocks[] = {1, 2, 3, 7, 8, 9, 32, 100, 4999, 5000};
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++) {
        memset(got, 0, nt * sizeof *got);
        for (size_t a = 0; a < nt; a += blocks[k])
            rdm_gbt_margins(m, Xt + a * BIG_D, nt - a < blocks[k] ? nt - a : blocks[k], got + a);
        size_t diff = 0;
        for (size_t i = 0; i < nt; i++)
            diff += memcmp(&got[i], &ref[i], sizeof *got) != 0;
        CU_ASSERT_EQUAL(diff, 0);
    }
    size_t diff = 0;
    double spread = 0;
    for (size_t i = 0; i < nt; i++) {
        double z = rdm_gbt_margin(m, Xt + i * BIG_D);
        diff += memcmp(&z, &ref[i], sizeof z) != 0;
        spread += fabs(z - ref[0]);
    }
    CU_ASSERT_EQUAL(diff, 0);
    CU_ASSERT(spread > 0); /* the rows do not all land in the same leaves */
    free(r.tstart);
    free(r.nodes);
    rdm_buf_release(&b);
    rdm_gbt_free(m);
    free(X);
    free(y);
    free(ref);
    free(got);
}

static void test_gbt_block_scoring(void)
{
    block_scoring(31);
    block_scoring(48);
}

/* Almost every row at the most frequent bin of every feature: the few other
 * rows (1.5%) still carry the signal. */
static void test_gbt_sparse_rows(void)
{
    size_t n = 6000;
    float *X = malloc(n * 3 * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 22;
    for (size_t i = 0; i < n; i++) {
        int rare = unif() < 0.015;
        X[3 * i] = rare ? 1.0f : 0.0f;
        X[3 * i + 1] = rare ? 5.0f : 2.0f;
        X[3 * i + 2] = rare ? 2.0f : 0.0f;
        y[i] = unif() < (rare ? 0.8 : 0.1) ? 1.0f : 0.0f;
    }
    int ncat[3] = {2, 0, 3};
    rdm_gbt_params p;
    params(&p);
    p.min_child_weight = 1;
    for (int t = 1; t <= 2; t++) {
        p.threads = t;
        rdm_err err = {0};
        rdm_gbt *m = rdm_gbt_fit(X, y, n, 3, ncat, NULL, NULL, 0, &p, NULL, NULL, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        float a[3] = {1, 5, 2}, b[3] = {0, 2, 0};
        CU_ASSERT(rdm_gbt_margin(m, a) > 0.8);  /* logit(0.8) = 1.4 */
        CU_ASSERT(rdm_gbt_margin(m, b) < -1.5); /* logit(0.1) = -2.2 */
        rdm_gbt_free(m);
    }
    free(X);
    free(y);
}

/* Five hand-written trees: a categorical feature with 40 categories (two
 * bitset words), an unbalanced chain; values worked out by hand below. The
 * model text repeats them `reps` times (trees are scored eight at a time, then
 * one by one). */
static const int HAND5_NODES[5] = {5, 1, 3, 7, 1};
static const char *const HAND5_TREES[5] = {
    "num 0 0x1p-1 1 1 2 0x1p+0\n"
    "leaf 0x1p+0\n"
    "cat 1 0 3 4 0x1p+0 2 82\n"
    "leaf 0x1p+1\n"
    "leaf -0x1p+0\n",
    "leaf 0x1p-2\n",
    "cat 1 1 1 2 0x1p+0 0 1\n"
    "leaf 0x1p-1\n"
    "leaf -0x1p-1\n",
    "num 0 0x1p-2 0 1 2 0x1p+0\n"
    "leaf 0x1p-3\n"
    "num 0 0x1p-1 0 3 4 0x1p+0\n"
    "leaf 0x1p-4\n"
    "num 0 0x1.8p-1 0 5 6 0x1p+0\n"
    "leaf 0x1p-5\n"
    "leaf 0x1p-6\n",
    "leaf 0x1p-7\n",
};

static char *hand5_text(int reps)
{
    rdm_buf b = RDM_BUF_INIT;
    int rc = rdm_buf_printf(&b,
                            "gbt 1\nfeatures 2\nncat 0 40\nbase 0x0p+0\n"
                            "trees %d\n",
                            5 * reps);
    for (int t = 0; rc == 0 && t < 5 * reps; t++)
        rc = rdm_buf_printf(&b, "tree %d %d\n%s", t, HAND5_NODES[t % 5], HAND5_TREES[t % 5]);
    if (rc == 0)
        rc = rdm_buf_adds(&b, "end\n");
    if (rc != 0) {
        rdm_buf_release(&b);
        return NULL;
    }
    return rdm_buf_take(&b);
}

static void test_gbt_hand_five_trees(void)
{
    /* tree 0: x0 <= 0.5 (NaN too) -> 1, else codes {1, 33, 39} -> 2, other
     * codes and missing -> -1; tree 1: 0.25; tree 2: code 32, missing or not a
     * code -> 0.5, else -0.5; tree 3: x0 <= 0.25 -> 1/8, <= 0.5 -> 1/16,
     * <= 0.75 -> 1/32, else (NaN too) 1/64; tree 4: 1/128 */
    struct {
        float x0, x1;
        double want;
    } cases[] = {
        {0.25f, 1.0f, 1 + 0.25 - 0.5 + 0.125 + 0.0078125},
        {0.6f, 33.0f, 2 + 0.25 - 0.5 + 0.03125 + 0.0078125},
        {NAN, 39.0f, 1 + 0.25 - 0.5 + 0.015625 + 0.0078125},
        {0.9f, 32.0f, -1 + 0.25 + 0.5 + 0.015625 + 0.0078125},
        {0.9f, 40.0f, -1 + 0.25 + 0.5 + 0.015625 + 0.0078125},
        {0.9f, NAN, -1 + 0.25 + 0.5 + 0.015625 + 0.0078125},
        {0.9f, 1.5f, -1 + 0.25 + 0.5 + 0.015625 + 0.0078125},
        {0.9f, 1.0f, 2 + 0.25 - 0.5 + 0.015625 + 0.0078125},
        {0.75f, 0.0f, -1 + 0.25 - 0.5 + 0.03125 + 0.0078125},
        {0.5f, 38.0f, 1 + 0.25 - 0.5 + 0.0625 + 0.0078125},
    };

    for (int reps = 1; reps <= 3; reps++) {
        char *text = hand5_text(reps);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        rdm_err err = {0};
        rdm_gbt *m = rdm_gbt_load(text, strlen(text), NULL, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT_EQUAL(rdm_gbt_ntrees(m), 5 * reps);
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            float x[2] = {cases[k].x0, cases[k].x1};
            CU_ASSERT_DOUBLE_EQUAL(rdm_gbt_margin(m, x), reps * cases[k].want, 0);
        }
        rdm_buf b = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_gbt_save(m, &b, &err), RDM_OK);
        CU_ASSERT_STRING_EQUAL(b.data, text);
        rdm_buf_release(&b);
        rdm_gbt_free(m);
        free(text);
    }
    /* a node that is the child of two nodes is not a tree */
    const char *dag = "gbt 1\nfeatures 1\nncat 0\nbase 0x0p+0\ntrees 1\n"
                      "tree 0 5\n"
                      "num 0 0x1p-1 1 1 2 0x1p+0\n"
                      "num 0 0x1p-2 1 3 4 0x1p+0\n"
                      "num 0 0x1p-3 1 3 4 0x1p+0\n"
                      "leaf 0x1p+0\n"
                      "leaf 0x1p+1\n"
                      "end\n";
    rdm_err err2 = {0};
    CU_ASSERT_PTR_NULL(rdm_gbt_load(dag, strlen(dag), NULL, &err2));
    CU_ASSERT_EQUAL(err2.code, RDM_EPARSE);
    CU_ASSERT(strstr(err2.msg, "child of two nodes") != NULL);
}

/* Bad arguments: each case changes one thing of a valid 4-row fit. */
static void test_gbt_bad_input(void)
{
    static const struct {
        const char *what;
        float y3;       /* label of row 4 */
        int max_bins;   /* 0 = default */
        int ncat;       /* categories of the one feature (0 = numeric) */
        int max_leaves; /* 0 = default */
        double subsample;
        const char *msg; /* expected in the message */
    } cases[] = {
        {"label", 2, 0, 0, 0, 1, "row 3"},
        {"bins", 1, 256, 0, 0, 1, "max_bins"},
        {"categories", 1, 0, 256, 0, 1, "categories"},
        {"leaves", 1, 0, 0, 1, 1, "max_leaves"},
        {"subsample", 1, 0, 0, 0, 0, "subsample"},
    };

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float X[4] = {1, 2, 3, 4}, y[4] = {0, 1, 0, cases[k].y3};
        rdm_gbt_params p;
        params(&p);
        if (cases[k].max_bins)
            p.max_bins = cases[k].max_bins;
        if (cases[k].max_leaves)
            p.max_leaves = cases[k].max_leaves;
        p.subsample = cases[k].subsample;
        int ncat = cases[k].ncat;
        rdm_err err = {0};
        rdm_gbt *m = rdm_gbt_fit(X, y, 4, 1, &ncat, NULL, NULL, 0, &p, NULL, NULL, &err);
        CU_ASSERT_PTR_NULL(m);
        CU_ASSERT_EQUAL(err.code, RDM_EINVAL);
        if (!strstr(err.msg, cases[k].msg))
            CU_FAIL(cases[k].what);
        rdm_gbt_free(m);
    }
    /* and the valid fit itself works */
    float X[4] = {1, 2, 3, 4}, y[4] = {0, 1, 0, 1};
    rdm_gbt_params p;
    params(&p);
    p.min_child_weight = 0;
    rdm_gbt *m = rdm_gbt_fit(X, y, 4, 1, NULL, NULL, NULL, 0, &p, NULL, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL(m);
    rdm_gbt_free(m);
}

/* Two copies of the signal column (features 2 and 3, equal histograms, so
 * equal gains at every split): the first is chosen on every split, on 1, 2
 * and 3 threads, whichever thread and feature item finds each copy's split
 * (on 2 threads, by their bins, feature 0 goes to one thread, 1 and 2 to the
 * other, 3 to the first); features 0 and 1 are categorical noise. */
static void test_gbt_ties_first_feature(void)
{
    enum { D = 4 };

    static const int ncat[D] = {93, 53, 0, 0};
    size_t n = 6000;
    float *X = malloc(n * D * sizeof *X), *y = malloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    lcg_state = 99;
    for (size_t i = 0; i < n; i++) {
        float *x = X + i * D;
        x[0] = (float)(int)(unif() * 93);
        x[1] = (float)(int)(unif() * 53);
        x[2] = (float)(int)(unif() * 44);
        x[3] = x[2];
        y[i] = unif() < 0.1 + 0.8 * x[2] / 44.0 ? 1.0f : 0.0f;
    }
    char *text[3] = {NULL, NULL, NULL};
    for (int t = 0; t < 3; t++) {
        rdm_gbt_params p;
        params(&p);
        p.threads = t + 1;
        p.max_iter = 10;
        rdm_err err = {0};
        rdm_gbt *m = rdm_gbt_fit(X, y, n, D, ncat, NULL, NULL, 0, &p, NULL, NULL, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        double g[D];
        rdm_gbt_importance(m, g);
        CU_ASSERT(g[2] > 0.0);
        CU_ASSERT_EQUAL(g[3], 0.0);
        rdm_buf buf = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_gbt_save(m, &buf, &err), RDM_OK);
        text[t] = rdm_buf_take(&buf);
        rdm_gbt_free(m);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[1]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[2]);
    CU_ASSERT_STRING_EQUAL(text[0], text[1]);
    CU_ASSERT_STRING_EQUAL(text[0], text[2]);
    for (int t = 0; t < 3; t++)
        free(text[t]);
    free(X);
    free(y);
}

int test_gbt_register(void)
{
    CU_pSuite s = CU_add_suite("gbt", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_ADD_TEST(s, test_gbt_categorical_xor) || !CU_ADD_TEST(s, test_gbt_monotone_numeric) ||
        !CU_ADD_TEST(s, test_gbt_missing_learned_direction) ||
        !CU_ADD_TEST(s, test_gbt_train_loss_decreases) ||
        !CU_ADD_TEST(s, test_gbt_early_stopping) || !CU_ADD_TEST(s, test_gbt_deterministic) ||
        !CU_ADD_TEST(s, test_gbt_save_load_roundtrip) || !CU_ADD_TEST(s, test_gbt_hand_model) ||
        !CU_ADD_TEST(s, test_gbt_load_errors) || !CU_ADD_TEST(s, test_gbt_threads_large) ||
        !CU_ADD_TEST(s, test_gbt_sparse_rows) || !CU_ADD_TEST(s, test_gbt_hand_five_trees) ||
        !CU_ADD_TEST(s, test_gbt_bad_input) || !CU_ADD_TEST(s, test_gbt_block_scoring) ||
        !CU_ADD_TEST(s, test_gbt_splits_are_best) || !CU_ADD_TEST(s, test_gbt_ties_first_feature))
        return -1;
    return 0;
}
