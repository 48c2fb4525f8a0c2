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
 * The same values, computed leaf by leaf. For one leaf of value v whose path
 * splits on the distinct features k (a feature split on twice counts once,
 * with z_k the product of its cover fractions and o_k = 1 when the record
 * takes every one of its edges, else 0), the value function is
 * v * prod_k (k in S ? o_k : z_k), a product game whose Shapley values are
 *     phi_i = v (o_i - z_i) * integral_0^1 prod_{k != i} (z_k + (o_k - z_k) t) dt
 * (the Shapley weights |S|! (M-|S|-1)! / M! are the integrals of
 * t^|S| (1-t)^(M-1-|S|)). The integrand is a polynomial of degree M - 1, so
 * Gauss-Legendre quadrature with ceil(M/2) points is exact. With
 * G(t) = prod_k g_k(t):
 *   o_i = 0: g_i = z_i (1 - t), so phi_i = -v integral G(t) / (1 - t): the same
 *            for every such feature of the leaf;
 *   o_i = 1: g_i = z_i + (1 - z_i) t, phi_i = v (1 - z_i) integral G / g_i.
 * The path structure (features, z, edges) is fixed per tree, so it is laid
 * out once; a record then costs a pass over each leaf's edges and features. */

#define MAXQ 64 /* quadrature points: paths with up to 128 distinct features */

typedef struct fleaf {
    double v;
    int m;     /* distinct features on the path */
    int first; /* their index in the per-feature arrays */
} fleaf;

struct rdm_shap_forest {
    int nfeat, nleaves;
    fleaf *leaves;
    int *pf_feat;    /* per path feature: the feature */
    double *pf_z;    /* its cover fraction */
    int *pf_edge;    /* its first edge; edges of one feature are contiguous */
    unsigned *edges; /* per edge: split node * 2 + 1 when the path goes left */
    int npf, nedge;
    double expected;
    double qt[MAXQ + 1][MAXQ], qw[MAXQ + 1][MAXQ]; /* nodes and weights on [0, 1] per count */
    int maxq;
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
    free(f->leaves);
    free(f->pf_feat);
    free(f->pf_z);
    free(f->pf_edge);
    free(f->edges);
    free(f);
}

/* DFS over one tree: count (f->nleaves, npf, nedge) or, with `fill`, lay
 * out the leaves. The current path is kept in pnode/pleft/pfeat/pfrac. */
typedef struct fbuild {
    rdm_shap_forest *f;
    const rdm_shap_tree *t;
    int fill;
    int pnode[128], pfeat[128];
    unsigned char pleft[128];
    double pfrac[128];
} fbuild;

static void lay_leaf(fbuild *b, int depth, double v)
{
    rdm_shap_forest *f = b->f;
    if (!b->fill) {
        f->nleaves++;
        f->nedge += depth;
        f->npf += depth; /* an upper bound */
        return;
    }
    fleaf *L = &f->leaves[f->nleaves++];
    L->v = v;
    L->first = f->npf;
    L->m = 0;
    unsigned char done[128] = {0};
    for (int e = 0; e < depth; e++) {
        if (done[e])
            continue;
        int k = f->npf++;
        f->pf_feat[k] = b->pfeat[e];
        f->pf_edge[k] = f->nedge;
        double z = 1;
        for (int e2 = e; e2 < depth; e2++)
            if (!done[e2] && b->pfeat[e2] == b->pfeat[e]) {
                done[e2] = 1;
                z *= b->pfrac[e2];
                f->edges[f->nedge++] = (unsigned)b->pnode[e2] * 2u + b->pleft[e2];
            }
        f->pf_z[k] = z;
        L->m++;
    }
    f->pf_edge[f->npf] = f->nedge;
}

static void lay_tree(fbuild *b, int node, int depth)
{
    const rdm_shap_tree *t = b->t;
    if (t->feat[node] < 0) {
        lay_leaf(b, depth, t->value[node]);
        return;
    }
    for (int side = 0; side < 2; side++) {
        int c = side == 0 ? t->left[node] : t->right[node];
        b->pnode[depth] = node;
        b->pleft[depth] = side == 0;
        b->pfeat[depth] = t->feat[node];
        b->pfrac[depth] = t->cover[c] / t->cover[node];
        lay_tree(b, c, depth + 1);
    }
}

rdm_shap_forest *rdm_shap_forest_create(const rdm_shap_tree *trees, int ntrees, int nfeat,
                                        rdm_err *err)
{
    rdm_shap_forest *f = calloc(1, sizeof *f);
    if (!f) {
        rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
        return NULL;
    }
    f->nfeat = nfeat;
    int maxm = 0;
    for (int t = 0; t < ntrees; t++) {
        int depth;
        if (rdm_shap_tree_check(&trees[t], nfeat, &depth, err)) {
            rdm_err_prefix(err, "tree %d", t);
            goto fail;
        }
        if (depth > 2 * MAXQ) {
            rdm_errf(err, RDM_EINVAL, "tree %d: deeper than %d splits", t, 2 * MAXQ);
            goto fail;
        }
        if (depth > maxm)
            maxm = depth;
        fbuild b = {f, &trees[t], 0, {0}, {0}, {0}, {0}};
        lay_tree(&b, trees[t].root, 0);
        f->expected += rdm_shap_expected(&trees[t]);
    }
    f->leaves = malloc(((size_t)f->nleaves + 1) * sizeof *f->leaves);
    f->pf_feat = malloc(((size_t)f->npf + 1) * sizeof *f->pf_feat);
    f->pf_z = malloc(((size_t)f->npf + 1) * sizeof *f->pf_z);
    f->pf_edge = malloc(((size_t)f->npf + 1) * sizeof *f->pf_edge);
    f->edges = malloc(((size_t)f->nedge + 1) * sizeof *f->edges);
    if (!f->leaves || !f->pf_feat || !f->pf_z || !f->pf_edge || !f->edges) {
        rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
        goto fail;
    }
    f->nleaves = f->npf = f->nedge = 0;
    f->pf_edge[0] = 0;
    for (int t = 0; t < ntrees; t++) {
        fbuild b = {f, &trees[t], 1, {0}, {0}, {0}, {0}};
        lay_tree(&b, trees[t].root, 0);
    }
    f->maxq = (maxm + 1) / 2;
    for (int q = 1; q <= f->maxq; q++)
        gauss_legendre(q, f->qt[q], f->qw[q]);
    return f;
fail:
    rdm_shap_forest_free(f);
    return NULL;
}

double rdm_shap_forest_expected(const rdm_shap_forest *f)
{
    return f->expected;
}

/* One leaf with value v: the record follows the na path features fa (cover
 * fractions za) and leaves the nb features fb (product of their fractions
 * zb). nq = ceil((na + nb) / 2) quadrature points (a constant where inlined,
 * so the loops over q unroll); products by prefix and suffix instead of
 * divisions. */
static inline __attribute__((always_inline)) void
leaf_kernel(const rdm_shap_forest *f, double v, int na, const double *za, const int *fa, int nb,
            double zb, const int *fb, double *phi, const int nq)
{
    const double *t = f->qt[nq], *w = f->qw[nq];
    double P[2 * MAXQ + 1][MAXQ], S[MAXQ];
    for (int q = 0; q < nq; q++) {
        double g = w[q] * zb, u = 1 - t[q];
        for (int k = 0; k < nb; k++)
            g *= u;
        P[0][q] = g;
    }
    for (int k = 0; k < na; k++) {
        double z = za[k], y = 1 - z;
        for (int q = 0; q < nq; q++)
            P[k + 1][q] = P[k][q] * (z + y * t[q]);
    }
    if (nb) {
        double sb = 0;
        for (int q = 0; q < nq; q++)
            sb += P[na][q] / (1 - t[q]);
        sb *= -v;
        for (int k = 0; k < nb; k++)
            phi[fb[k]] += sb;
    }
    for (int q = 0; q < nq; q++)
        S[q] = 1;
    for (int k = na - 1; k >= 0; k--) {
        double z = za[k], y = 1 - z, sa = 0;
        for (int q = 0; q < nq; q++) {
            sa += P[k][q] * S[q];
            S[q] *= z + y * t[q];
        }
        phi[fa[k]] += v * y * sa;
    }
}

void rdm_shap_forest_add(const rdm_shap_forest *f, const unsigned char *goes_left, double *phi)
{
    const int *pf_edge = f->pf_edge, *pf_feat = f->pf_feat;
    const unsigned *edges = f->edges;
    const double *pf_z = f->pf_z;
    for (int l = 0; l < f->nleaves; l++) {
        const fleaf *L = &f->leaves[l];
        int m = L->m, k0 = L->first, na = 0, nb = 0;
        double za[2 * MAXQ], zb = 1;
        int fa[2 * MAXQ], fb[2 * MAXQ];
        for (int k = k0; k < k0 + m; k++) {
            int ok = 1;
            for (int e = pf_edge[k]; e < pf_edge[k + 1]; e++)
                ok &= goes_left[edges[e] >> 1] == (edges[e] & 1u);
            double z = pf_z[k];
            /* branch-free partition into followed (a) and left (b) features */
            za[na] = z;
            fa[na] = pf_feat[k];
            fb[nb] = pf_feat[k];
            zb *= ok ? 1.0 : z;
            na += ok;
            nb += !ok;
        }
        switch ((m + 1) / 2) {
        case 0:
            break;
        case 1:
            leaf_kernel(f, L->v, na, za, fa, nb, zb, fb, phi, 1);
            break;
        case 2:
            leaf_kernel(f, L->v, na, za, fa, nb, zb, fb, phi, 2);
            break;
        case 3:
            leaf_kernel(f, L->v, na, za, fa, nb, zb, fb, phi, 3);
            break;
        case 4:
            leaf_kernel(f, L->v, na, za, fa, nb, zb, fb, phi, 4);
            break;
        case 5:
            leaf_kernel(f, L->v, na, za, fa, nb, zb, fb, phi, 5);
            break;
        case 6:
            leaf_kernel(f, L->v, na, za, fa, nb, zb, fb, phi, 6);
            break;
        default:
            leaf_kernel(f, L->v, na, za, fa, nb, zb, fb, phi, (m + 1) / 2);
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
    double phi[RDM_ENC_MAX_TREE] = {0};
    if (!gl)
        return rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
    rdm_gbt_route(rdm_model_gbt(x->m), row, gl);
    rdm_shap_forest_add(x->forest, gl, phi);
    for (int j = 0; j < x->nfeat; j++)
        phi_in[x->field[j]] += phi[j];
    free(gl);
    return RDM_OK;
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
