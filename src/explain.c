/* explain.c - exact explanations: path-dependent TreeSHAP over rdm_shap_tree,
 * linear contributions against the training mean, summed per input field. */
#include "explain.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "gbt.h"
#include "logreg.h"

/* ---------------------------------------------------------------- TreeSHAP */

/* One element of the path from the root to the current node: a feature split
 * on along the path (merged when it appears more than once), the fraction of
 * the cover that follows the path when the feature is unknown (z), whether the
 * record follows it when the feature is known (o, 0 or 1), and w, the weight
 * of the subsets of that many known features (indexed by position, not by
 * feature: the weights are a polynomial's coefficients). */
typedef struct pelem {
    int feat;
    double z, o, w;
} pelem;

/* Append feature `feat` with fractions (z, o) to a path of `len` elements and
 * update the subset weights. */
static void path_extend(pelem *p, int len, double z, double o, int feat)
{
    p[len].feat = feat;
    p[len].z = z;
    p[len].o = o;
    p[len].w = len == 0 ? 1.0 : 0.0;
    double inv = 1.0 / (len + 1);
    for (int i = len - 1; i >= 0; i--) {
        p[i + 1].w += o * p[i].w * (i + 1) * inv;
        p[i].w = z * p[i].w * (len - i) * inv;
    }
}

/* Remove element i from a path of `len` elements (the inverse of extend). */
static void path_unwind(pelem *p, int len, int i)
{
    int l = len - 1;
    double o = p[i].o, z = p[i].z, n = p[l].w;
    if (o != 0) {
        for (int j = l - 1; j >= 0; j--) {
            double t = p[j].w;
            p[j].w = n * (l + 1) / ((j + 1) * o);
            n = t - p[j].w * z * (l - j) / (l + 1);
        }
    } else {
        for (int j = l - 1; j >= 0; j--)
            p[j].w = p[j].w * (l + 1) / (z * (l - j));
    }
    for (int j = i; j < l; j++) {
        p[j].feat = p[j + 1].feat;
        p[j].z = p[j + 1].z;
        p[j].o = p[j + 1].o;
    }
}

/* Sum of the weights the path would have with element i unwound. */
static double path_unwound_sum(const pelem *p, int len, int i)
{
    int l = len - 1;
    double o = p[i].o, z = p[i].z, s = 0;
    if (o != 0) {
        double n = p[l].w, a = (l + 1) / o, b = z / (l + 1);
        for (int j = l - 1; j >= 0; j--) {
            double w = n * a / (j + 1);
            s += w;
            n = p[j].w - w * b * (l - j);
        }
    } else {
        double a = (l + 1) / z;
        for (int j = l - 1; j >= 0; j--)
            s += p[j].w * a / (l - j);
    }
    return s;
}

typedef struct shapctx {
    const rdm_shap_tree *t;
    const unsigned char *left;
    double *phi;
    int cap; /* elements per path level */
} shapctx;

/* Visit `node`, reached with fractions (z, o) for the split feature `feat` of
 * its parent; `parent` is the parent's path of `len` elements (the node's own
 * path is built in the next level of scratch). */
static void shap_visit(const shapctx *c, const pelem *parent, int len, int node, double z, double o,
                       int feat)
{
    const rdm_shap_tree *t = c->t;
    pelem *m = (pelem *)parent + c->cap;
    memcpy(m, parent, (size_t)len * sizeof *m);
    path_extend(m, len, z, o, feat);
    len++;
    int f = t->feat[node];
    if (f < 0) {
        double v = t->value[node];
        for (int i = 1; i < len; i++)
            c->phi[m[i].feat] += path_unwound_sum(m, len, i) * (m[i].o - m[i].z) * v;
        return;
    }
    int l = t->left[node], r = t->right[node];
    int hot = c->left[node] ? l : r, cold = c->left[node] ? r : l;
    double iz = 1, io = 1;
    int k = 1;
    while (k < len && m[k].feat != f)
        k++;
    if (k < len) { /* the feature was split on above: merge */
        iz = m[k].z;
        io = m[k].o;
        path_unwind(m, len, k);
        len--;
    }
    double cv = t->cover[node];
    shap_visit(c, m, len, hot, iz * t->cover[hot] / cv, io, f);
    shap_visit(c, m, len, cold, iz * t->cover[cold] / cv, 0, f);
}

size_t rdm_shap_scratch_size(int depth)
{
    size_t cap = (size_t)depth + 2;
    return cap * (cap + 1) * sizeof(pelem);
}

void rdm_shap_add(const rdm_shap_tree *t, int depth, const unsigned char *goes_left, double *phi,
                  void *scratch)
{
    shapctx c = {t, goes_left, phi, depth + 2};
    shap_visit(&c, scratch, 0, t->root, 1.0, 1.0, -1);
}

double rdm_shap_expected(const rdm_shap_tree *t)
{
    /* iterative: sum over leaves of value * product of cover fractions */
    double s = 0;
    int stack[256];
    double wt[256];
    int sp = 0;
    stack[sp] = t->root;
    wt[sp++] = 1.0;
    while (sp > 0) {
        sp--;
        int k = stack[sp];
        double w = wt[sp];
        if (t->feat[k] < 0) {
            s += w * t->value[k];
            continue;
        }
        int l = t->left[k], r = t->right[k];
        stack[sp] = l;
        wt[sp++] = w * t->cover[l] / t->cover[k];
        stack[sp] = r;
        wt[sp++] = w * t->cover[r] / t->cover[k];
    }
    return s;
}

int rdm_shap_tree_check(const rdm_shap_tree *t, int nfeat, int *depth, rdm_err *err)
{
    if (!t || t->n <= 0 || t->root < 0 || t->root >= t->n)
        return rdm_errf(err, RDM_EINVAL, "tree: no nodes or root out of range");
    unsigned char *seen = calloc((size_t)t->n, 1);
    int *stack = malloc(2 * (size_t)t->n * sizeof *stack);
    int rc = RDM_OK, sp = 0, maxd = 0;
    if (!seen || !stack) {
        rc = rdm_errf(err, RDM_ENOMEM, "tree: out of memory");
        goto done;
    }
    stack[sp++] = t->root;
    stack[sp++] = 0;
    while (sp > 0 && !rc) {
        int d = stack[--sp], k = stack[--sp];
        if (seen[k]) {
            rc = rdm_errf(err, RDM_EINVAL, "tree: node %d is reached twice", k);
            break;
        }
        seen[k] = 1;
        if (!(t->cover[k] > 0) || !isfinite(t->cover[k])) {
            rc = rdm_errf(err, RDM_EINVAL, "tree: node %d has cover %g (must be > 0)", k,
                          t->cover[k]);
            break;
        }
        if (d > maxd)
            maxd = d;
        if (t->feat[k] < 0) {
            if (!isfinite(t->value[k]))
                rc = rdm_errf(err, RDM_EINVAL, "tree: leaf %d has no finite value", k);
            continue;
        }
        int l = t->left[k], r = t->right[k];
        if (t->feat[k] >= nfeat || l < 0 || l >= t->n || r < 0 || r >= t->n || l == r) {
            rc = rdm_errf(err, RDM_EINVAL, "tree: node %d has a bad feature or child", k);
            break;
        }
        if (d + 1 > 120) {
            rc = rdm_errf(err, RDM_EINVAL, "tree: deeper than 120 splits");
            break;
        }
        stack[sp++] = l;
        stack[sp++] = d + 1;
        stack[sp++] = r;
        stack[sp++] = d + 1;
    }
    if (!rc && depth)
        *depth = maxd;
done:
    free(seen);
    free(stack);
    return rc;
}

/* ---------------------------------------------------------------- forests
 *
 * The same values, computed node by node. For one leaf of value v whose path
 * splits on the distinct features k (a feature split on twice counts once,
 * with z_k the product of its cover fractions and o_k = 1 when the record
 * takes every one of its edges, else 0), the value function is
 * v * prod_k (k in S ? o_k : z_k), a product game whose Shapley values are
 *     phi_i = v (o_i - z_i) * integral_0^1 prod_{k != i} g_k(t) dt,
 *     g_k(t) = z_k (1 - t) + o_k t
 * (the Shapley weights |S|! (M-|S|-1)! / M! are the integrals of
 * t^|S| (1-t)^(M-1-|S|)). The integrand is a polynomial of degree M - 1, so
 * Gauss-Legendre quadrature with Q >= M/2 points is exact: everything is
 * computed at Q points t_q at once.
 *
 * A depth-first walk carries R(t) = prod_k g_k(t) over the path down and
 * returns S_n(t) = sum over the leaves below n of v R(t) up. Feature i's
 * terms for the leaves whose last split on i is the edge into child c share
 * g_i and (o_i - z_i), so they are
 *     (o_i - z_i) * integral (S_c(t) - A_c(t)) / g_i(t) dt,
 * with A_c the sum of S over the children of the next splits on i below c
 * (their leaves belong to those deeper edges). One pass over the nodes per
 * record. Trees whose paths carry more than 16 distinct features take
 * rdm_shap_add (Algorithm 2) instead. */

#define NQ 8 /* quadrature points at most */

enum { W_ALG2 = 0, W_4 = 4, W_8 = 8 };

typedef double v4d __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

struct rdm_shap_forest {
    int nfeat, ntrees, nn;
    int *root, *depth, *width;    /* per tree; width 4, 8 or W_ALG2 */
    int *feat, *left, *right;     /* per node (the trees' own indexes) */
    double *value, *cover, *frac; /* frac: cover / parent cover */
    int maxdepth;
    double expected;
    /* quadrature: points, 1 - t, 1 / (1 - t), weights */
    v4d t4, omt4, iomt4, w4;
    v8d t8, omt8, iomt8, w8;
};

/* Gauss-Legendre nodes and weights for n points, mapped to [0, 1]. */
static void gauss_legendre(int n, double *t, double *w)
{
    for (int i = 0; i < n; i++) {
        double x = cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 1;
        for (int it = 0; it < 100; it++) {
            double p0 = 1, p1 = x;
            for (int k = 2; k <= n; k++) {
                double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = n * (x * p1 - p0) / (x * x - 1);
            double dx = p1 / dp;
            x -= dx;
            if (fabs(dx) < 1e-16)
                break;
        }
        double p0 = 1, p1 = x;
        for (int k = 2; k <= n; k++) {
            double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
            p0 = p1;
            p1 = p2;
        }
        dp = n * (x * p1 - p0) / (x * x - 1);
        t[i] = (1 - x) / 2;
        w[i] = 1 / ((1 - x * x) * dp * dp);
    }
}

void rdm_shap_forest_free(rdm_shap_forest *f)
{
    if (!f)
        return;
    free(f->root);
    free(f->depth);
    free(f->width);
    free(f->feat);
    free(f->left);
    free(f->right);
    free(f->value);
    free(f->cover);
    free(f->frac);
    free(f);
}

/* Most distinct features on a root-to-leaf path below `node`; cnt[] counts
 * the features on the path above (all zero again on return). */
static int max_distinct(const rdm_shap_tree *t, int node, int *cnt, int have)
{
    int f = t->feat[node];
    if (f < 0)
        return have;
    int add = cnt[f]++ == 0;
    int a = max_distinct(t, t->left[node], cnt, have + add);
    int b = max_distinct(t, t->right[node], cnt, have + add);
    cnt[f]--;
    return a > b ? a : b;
}

rdm_shap_forest *rdm_shap_forest_create(const rdm_shap_tree *trees, int ntrees, int nfeat,
                                        rdm_err *err)
{
    rdm_shap_forest *f = calloc(1, sizeof *f);
    int *cnt = calloc((size_t)nfeat + 1, sizeof *cnt);
    if (!f || !cnt)
        goto nomem;
    f->nfeat = nfeat;
    f->ntrees = ntrees;
    f->nn = ntrees > 0 ? trees[0].n : 0;
    for (int t = 0; t < ntrees; t++)
        if (trees[t].n > f->nn)
            f->nn = trees[t].n;
    size_t nt = (size_t)ntrees + 1, nn = (size_t)f->nn + 1;
    f->root = malloc(nt * sizeof *f->root);
    f->depth = malloc(nt * sizeof *f->depth);
    f->width = malloc(nt * sizeof *f->width);
    f->feat = malloc(nn * sizeof *f->feat);
    f->left = malloc(nn * sizeof *f->left);
    f->right = malloc(nn * sizeof *f->right);
    f->value = calloc(nn, sizeof *f->value);
    f->cover = calloc(nn, sizeof *f->cover);
    f->frac = calloc(nn, sizeof *f->frac);
    if (!f->root || !f->depth || !f->width || !f->feat || !f->left || !f->right || !f->value ||
        !f->cover || !f->frac)
        goto nomem;
    for (int k = 0; k < f->nn; k++)
        f->feat[k] = f->left[k] = f->right[k] = -1;
    for (int t = 0; t < ntrees; t++) {
        const rdm_shap_tree *tr = &trees[t];
        if (rdm_shap_tree_check(tr, nfeat, &f->depth[t], err)) {
            rdm_err_prefix(err, "tree %d", t);
            goto fail;
        }
        /* copy the nodes this tree reaches (trees may share arrays) */
        int stack[256], sp = 0;
        stack[sp++] = tr->root;
        while (sp > 0) {
            int k = stack[--sp];
            f->feat[k] = tr->feat[k];
            f->value[k] = tr->value[k];
            f->cover[k] = tr->cover[k];
            if (tr->feat[k] >= 0) {
                f->left[k] = tr->left[k];
                f->right[k] = tr->right[k];
                f->frac[tr->left[k]] = tr->cover[tr->left[k]] / tr->cover[k];
                f->frac[tr->right[k]] = tr->cover[tr->right[k]] / tr->cover[k];
                stack[sp++] = tr->left[k];
                stack[sp++] = tr->right[k];
            }
        }
        f->root[t] = tr->root;
        int m = max_distinct(tr, tr->root, cnt, 0);
        f->width[t] = m <= 8 ? W_4 : m <= 16 ? W_8 : W_ALG2;
        if (f->depth[t] > f->maxdepth)
            f->maxdepth = f->depth[t];
        f->expected += rdm_shap_expected(tr);
    }
    double t[NQ], w[NQ];
    gauss_legendre(4, t, w);
    for (int q = 0; q < 4; q++) {
        f->t4[q] = t[q];
        f->omt4[q] = 1 - t[q];
        f->iomt4[q] = 1 / (1 - t[q]);
        f->w4[q] = w[q];
    }
    gauss_legendre(NQ, t, w);
    for (int q = 0; q < NQ; q++) {
        f->t8[q] = t[q];
        f->omt8[q] = 1 - t[q];
        f->iomt8[q] = 1 / (1 - t[q]);
        f->w8[q] = w[q];
    }
    free(cnt);
    return f;
nomem:
    rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
fail:
    free(cnt);
    rdm_shap_forest_free(f);
    return NULL;
}

double rdm_shap_forest_expected(const rdm_shap_forest *f)
{
    return f->expected;
}

/* The walk, on fixed-width vectors of quadrature points (GCC/Clang vector
 * extensions): 4 points for trees whose paths carry up to 8 distinct
 * features, 8 for up to 16 (more points than needed are still exact). Per
 * feature, while the walk is below one of its splits: its merged cover
 * fraction z and indicator o at the last such edge, 1 / g at the points, and
 * A (see above). */
typedef struct fstate4 {
    v4d ig, acc;
    double z, o;
    int on;
} fstate4;

typedef struct fstate8 {
    v8d ig, acc;
    double z, o;
    int on;
} fstate8;

typedef struct walk {
    const rdm_shap_forest *f;
    const unsigned char *gl;
    double *phi;
    void *st; /* fstate4 or fstate8 per feature */
} walk;

/* visit4 / visit8: the walk at `node` with *Rp; *Sp gets the sum of v R
 * over the leaves below. T: the points, OMT: 1 - T, IOMT: 1 / (1 - T), W: the
 * weights. */
#define DEFINE_VISIT(NAME, VEC, STATE, T, OMT, IOMT, W)                    \
    static void NAME(const walk *c, int node, const VEC *Rp, VEC *Sp)      \
    {                                                                      \
        const rdm_shap_forest *f = c->f;                                   \
        VEC R = *Rp;                                                       \
        int fe = f->feat[node];                                            \
        if (fe < 0) {                                                      \
            *Sp = f->value[node] * R;                                      \
            return;                                                        \
        }                                                                  \
        STATE *st = (STATE *)c->st + fe, saved = *st;                      \
        VEC S = R * 0;                                                     \
        for (int side = 0; side < 2; side++) {                             \
            int ch = side ? f->right[node] : f->left[node];                \
            int hot = (c->gl[node] != 0) == (side == 0);                   \
            double z = (saved.on ? saved.z : 1.0) * f->frac[ch];           \
            double o = (saved.on && saved.o == 0) || !hot ? 0.0 : 1.0;     \
            VEC ig = o == 0 ? f->IOMT * (1 / z) : 1 / (z * f->OMT + f->T); \
            VEC g = o == 0 ? z * f->OMT : z * f->OMT + f->T;               \
            VEC R2 = (saved.on ? R * saved.ig : R) * g;                    \
            st->ig = ig;                                                   \
            st->acc = R * 0;                                               \
            st->on = 1;                                                    \
            st->z = z;                                                     \
            st->o = o;                                                     \
            VEC S2;                                                        \
            NAME(c, ch, &R2, &S2);                                         \
            VEC d = f->W * (S2 - st->acc) * ig;                            \
            double sum = 0;                                                \
            for (size_t q = 0; q < sizeof(VEC) / sizeof(double); q++)      \
                sum += d[q];                                               \
            c->phi[fe] += (o - z) * sum;                                   \
            saved.acc += S2;                                               \
            S += S2;                                                       \
        }                                                                  \
        *st = saved;                                                       \
        *Sp = S;                                                           \
    }

DEFINE_VISIT(visit4, v4d, fstate4, t4, omt4, iomt4, w4)
DEFINE_VISIT(visit8, v8d, fstate8, t8, omt8, iomt8, w8)

size_t rdm_shap_forest_scratch_size(const rdm_shap_forest *f)
{
    return 64 + (size_t)(f->nfeat + 1) * (sizeof(fstate8) + sizeof(fstate4)) +
           rdm_shap_scratch_size(f->maxdepth);
}

void rdm_shap_forest_add(const rdm_shap_forest *f, const unsigned char *goes_left, double *phi,
                         void *scratch)
{
    /* a walk leaves every feature's state off, as it found it */
    fstate8 *st8 = (fstate8 *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63); /* vector alignment */
    fstate4 *st4 = (fstate4 *)(st8 + f->nfeat + 1);
    for (int j = 0; j <= f->nfeat; j++) {
        st8[j].on = 0;
        st4[j].on = 0;
    }
    void *alg2 = st4 + f->nfeat + 1;
    walk c4 = {f, goes_left, phi, st4}, c8 = {f, goes_left, phi, st8};
    for (int t = 0; t < f->ntrees; t++) {
        if (f->width[t] == W_4) {
            v4d one = {1, 1, 1, 1}, S;
            visit4(&c4, f->root[t], &one, &S);
        } else if (f->width[t] == W_8) {
            v8d one = {1, 1, 1, 1, 1, 1, 1, 1}, S;
            visit8(&c8, f->root[t], &one, &S);
        } else {
            rdm_shap_tree v = {f->root[t], f->nn, f->feat, f->left, f->right, f->value, f->cover};
            rdm_shap_add(&v, f->depth[t], goes_left, phi, alg2);
        }
    }
}

/* ---------------------------------------------------------------- models */

struct rdm_explainer {
    const rdm_model *m;
    rdm_model_type type;
    int ninput;
    int cols[RDM_NCOLS]; /* input i -> schema column */
    int *field;          /* encoded feature -> input index */
    int nfeat;           /* encoded features (tree dim or linear dim) */
    double base_value;   /* log-odds */
    /* boosted trees, laid out for explanations */
    rdm_shap_forest *forest;
    int nnodes;
    /* logistic regression: per input, -sum of w_j * mean_j over its columns */
    const double *w;
    double *lin_const;
};

void rdm_explainer_free(rdm_explainer *x)
{
    if (!x)
        return;
    free(x->field);
    rdm_shap_forest_free(x->forest);
    free(x->lin_const);
    free(x);
}

static int input_index(const rdm_explainer *x, int col)
{
    for (int i = 0; i < x->ninput; i++)
        if (x->cols[i] == col)
            return i;
    return -1;
}

/* feature -> input field map for the tree (linear = 0) or linear layout */
static int map_fields(rdm_explainer *x, const rdm_encoder *enc, int linear, rdm_err *err)
{
    x->field = malloc((size_t)x->nfeat * sizeof *x->field);
    if (!x->field)
        return rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
    for (int j = 0; j < x->nfeat; j++) {
        x->field[j] = input_index(x, rdm_encoder_feature_col(enc, linear, j));
        if (x->field[j] < 0)
            return rdm_errf(err, RDM_EINVAL, "explain: feature %d has no input field", j);
    }
    return RDM_OK;
}

static int build_gbt(rdm_explainer *x, const rdm_gbt *g, rdm_err *err)
{
    int nt = rdm_gbt_ntrees(g), nn = x->nnodes = rdm_gbt_node_count(g), rc = RDM_OK;
    int *feat = malloc(((size_t)nn + 1) * sizeof *feat);
    int *left = malloc(((size_t)nn + 1) * sizeof *left);
    int *right = malloc(((size_t)nn + 1) * sizeof *right);
    double *value = malloc(((size_t)nn + 1) * sizeof *value);
    double *cover = malloc(((size_t)nn + 1) * sizeof *cover);
    rdm_shap_tree *trees = malloc(((size_t)nt + 1) * sizeof *trees);
    if (!feat || !left || !right || !value || !cover || !trees) {
        rc = rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
        goto done;
    }
    for (int k = 0; k < nn; k++) {
        rdm_gbt_node_info ni;
        rdm_gbt_node(g, k, &ni);
        if (isnan(ni.cover)) {
            rc = rdm_errf(err, RDM_EINVAL,
                          "explain: the model file predates node covers (gbt format 1); "
                          "retrain the model to explain its predictions");
            goto done;
        }
        feat[k] = ni.feat;
        left[k] = ni.left;
        right[k] = ni.right;
        value[k] = ni.value;
        cover[k] = ni.cover;
    }
    for (int t = 0; t < nt; t++)
        trees[t] = (rdm_shap_tree){rdm_gbt_tree_root(g, t), nn, feat, left, right, value, cover};
    x->forest = rdm_shap_forest_create(trees, nt, x->nfeat, err);
    if (!x->forest) {
        rdm_err_prefix(err, "explain");
        rc = err ? err->code : RDM_EINVAL;
        goto done;
    }
    x->base_value = rdm_gbt_base(g) + rdm_shap_forest_expected(x->forest);
done:
    free(feat);
    free(left);
    free(right);
    free(value);
    free(cover);
    free(trees);
    return rc;
}

static int build_logreg(rdm_explainer *x, const rdm_logreg *lr, rdm_err *err)
{
    const double *mean = rdm_logreg_means(lr);
    if (!mean)
        return rdm_errf(err, RDM_EINVAL,
                        "explain: the model file has no training means (saved before they "
                        "were stored); retrain the model to explain its predictions");
    x->w = rdm_logreg_coef(lr);
    x->lin_const = calloc((size_t)x->ninput, sizeof *x->lin_const);
    if (!x->lin_const)
        return rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
    double base = rdm_logreg_intercept(lr);
    for (int j = 0; j < x->nfeat; j++) {
        x->lin_const[x->field[j]] -= x->w[j] * mean[j];
        base += x->w[j] * mean[j];
    }
    x->base_value = base;
    return RDM_OK;
}

rdm_explainer *rdm_explainer_create(const rdm_model *m, rdm_err *err)
{
    if (!m) {
        rdm_errf(err, RDM_EINVAL, "explain: no model");
        return NULL;
    }
    rdm_explainer *x = calloc(1, sizeof *x);
    if (!x) {
        rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
        return NULL;
    }
    x->m = m;
    x->type = rdm_model_get_type(m);
    x->ninput = rdm_model_input_count(m);
    for (int i = 0; i < x->ninput; i++)
        x->cols[i] = rdm_model_input(m, i)->col;
    const rdm_encoder *enc = rdm_model_encoder(m);
    int rc = RDM_OK;
    if (x->type == RDM_MODEL_GBT) {
        x->nfeat = rdm_encoder_tree_dim(enc);
        rc = map_fields(x, enc, 0, err);
        if (!rc)
            rc = build_gbt(x, rdm_model_gbt(m), err);
    } else if (x->type == RDM_MODEL_LOGREG) {
        x->nfeat = rdm_encoder_lin_dim(enc);
        rc = map_fields(x, enc, 1, err);
        if (!rc)
            rc = build_logreg(x, rdm_model_logreg(m), err);
    } else {
        double p = rdm_model_baseline_prob(m);
        x->base_value = log(p / (1 - p));
    }
    if (rc) {
        rdm_explainer_free(x);
        return NULL;
    }
    return x;
}

static int cmp_contrib(const void *a, const void *b)
{
    const rdm_contribution *x = a, *y = b;
    double ax = fabs(x->contribution), ay = fabs(y->contribution);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return x->col - y->col;
}

/* Tree contributions of the encoded row, summed per input into phi_in. */
static int explain_gbt(const rdm_explainer *x, const float *row, double *phi_in, rdm_err *err)
{
    unsigned char *gl = malloc((size_t)x->nnodes + 1);
    void *scratch = malloc(rdm_shap_forest_scratch_size(x->forest));
    double phi[RDM_ENC_MAX_TREE] = {0};
    int rc = RDM_OK;
    if (!gl || !scratch) {
        rc = rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
    } else {
        rdm_gbt_route(rdm_model_gbt(x->m), row, gl);
        rdm_shap_forest_add(x->forest, gl, phi, scratch);
        for (int j = 0; j < x->nfeat; j++)
            phi_in[x->field[j]] += phi[j];
    }
    free(gl);
    free(scratch);
    return rc;
}

int rdm_explain(const rdm_explainer *x, const char *const values[RDM_NCOLS], rdm_explanation *out,
                rdm_warnings *w, rdm_err *err)
{
    if (!x || !values || !out)
        return rdm_errf(err, RDM_EINVAL, "explain: NULL argument");
    int rc = rdm_model_score(x->m, values, &out->prob, w, err);
    if (rc)
        return rc;
    double phi[RDM_NCOLS] = {0};
    const rdm_encoder *enc = rdm_model_encoder(x->m);
    if (x->type == RDM_MODEL_GBT) {
        float row[RDM_ENC_MAX_TREE];
        rc = rdm_encoder_tree_row(enc, values, row, NULL, err);
        if (!rc)
            rc = explain_gbt(x, row, phi, err);
    } else if (x->type == RDM_MODEL_LOGREG) {
        int32_t idx[RDM_ENC_MAX_NNZ];
        float val[RDM_ENC_MAX_NNZ];
        rc = rdm_encoder_lin_row(enc, values, idx, val, NULL, err);
        for (int i = 0; !rc && i < x->ninput; i++)
            phi[i] = x->lin_const[i];
        for (int k = 0; !rc && k < rdm_encoder_lin_nnz(enc); k++)
            phi[x->field[idx[k]]] += x->w[idx[k]] * (double)val[k];
    }
    if (rc)
        return rc;
    const rdm_column *sc = rdm_schema_columns();
    out->base_value = x->base_value;
    out->n = x->ninput;
    for (int i = 0; i < x->ninput; i++) {
        out->c[i].col = x->cols[i];
        out->c[i].field = sc[x->cols[i]].name;
        out->c[i].contribution = phi[i];
    }
    qsort(out->c, (size_t)out->n, sizeof out->c[0], cmp_contrib);
    return RDM_OK;
}
