/* explain.c - exact explanations: path-dependent TreeSHAP over rdm_shap_tree,
 * linear contributions against the training mean, summed per input field. */
#include "explain.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "gbt.h"
#include "gbt_route.h"
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
 * With R_n(t) = prod_k g_k(t) over the path down to node n and S_n(t) the sum
 * of v R over the leaves below n, feature i's terms for the leaves whose last
 * split on i is the edge into child c share g_i and (o_i - z_i), so they are
 *     (o_i - z_i) * integral (S_c(t) - A_c(t)) / g_i(t) dt,
 * with A_c the sum of S over the children of the next splits on i below c
 * (their leaves belong to those deeper edges). For a leaf c that is
 * v (o_i - z_i) * integral R_p / g_i(p's earlier split) (p its parent).
 *
 * Which node's A a split adds to, and which factor it divides out when it
 * splits a feature again, depend only on the tree: they are laid out once
 * (`anc` below), with the cover fractions and the leaf values. A record then
 * costs two branch-free passes over each tree's internal nodes, breadth first
 * (R, z, o and g down) and back (S and A up), in a workspace of Q-point
 * vectors per node; contributions are accumulated per feature at the Q points
 * and weighted once at the end. Trees whose paths carry more than 16 distinct
 * features take rdm_shap_add (Algorithm 2) instead. */

#define NQ 8 /* quadrature points at most */

enum { W_ALG2 = 0, W_4 = 4, W_8 = 8 };

typedef double v4d __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

/* An internal node of a quadrature tree. Node indexes are local to the tree:
 * breadth first from the root (0), the two children of a node adjacent. */
typedef struct snode {
    int self, left; /* this node; its children are left and left + 1 */
    int anc;        /* on the path to self, the child of the nearest ancestor split on
                the   same feature (self itself when it is the parent), or the
                tree's node   count: a slot with factor 1 */
    int src;        /* the caller's index of the node (goes_left) */
    int feat;       /* split feature */
    int fp;         /* the parent's split feature (nfeat for the root: a sink) */
    double zs;      /* z of the edge into self (1 for the root) */
    double iz;      /* 1 / zs */
    double zl, zr;  /* z of the edges into the children */
    double vl, vr;  /* the children's leaf values (0 for an internal child) */
} snode;

/* One tree at Q points. sn: its ni internal nodes; ig: per internal node,
 * 1 / g of the edge into it when the record follows that edge (o = 1), at the
 * points; n: the tree's node count; pv: per-feature sums at the points
 * (nfeat + 1 entries); R, G, S, A: n + 1 vectors each, O: n + 1 ints, 0 or 1 (the
 * workspace).
 *
 * The z of every edge (the product of the cover fractions of the splits on
 * its feature down to it) does not depend on the record, and o is 0 or 1, so
 * 1 / g of an edge is one of two vectors known in advance: ig when o = 1,
 * iz / (1 - t) when o = 0 (g = z (1 - t)); selecting by o (an exact 0 or 1)
 * leaves no division for the record. */
#define DEFINE_TREE(NAME, VEC, ATTR)                                                              \
    ATTR static void NAME(const snode *sn, const VEC *ig, int ni, int n, const unsigned char *gl, \
                          const double *tp, VEC *pv, VEC *R, VEC *G, VEC *S, VEC *A, int *O)      \
    {                                                                                             \
        VEC t, zero, one;                                                                         \
        memcpy(&t, tp, sizeof t);                                                                 \
        zero = t * 0;                                                                             \
        one = zero + 1;                                                                           \
        VEC omt = one - t, iomt = one / omt;                                                      \
        R[0] = G[n] = one;                                                                        \
        O[0] = O[n] = 1;                                                                          \
        for (int j = 0; j < ni; j++) { /* down: G[i] = 1 / g of the edge into i */                \
            const snode *e = &sn[j];                                                              \
            int i = e->self, a = e->anc, l = e->left;                                             \
            double oi = O[i]; /* 0 or 1 */                                                        \
            G[i] = oi * ig[j] + (1 - oi) * (e->iz * iomt);                                        \
            VEC Rb = R[i] * G[a];                                                                 \
            int ob = O[a], h = gl[e->src] != 0, oli = ob & h, ori = ob & !h;                      \
            double zl = e->zl, ol = oli, zr = e->zr, orr = ori;                                   \
            VEC gL = zl * omt + ol * t, gR = zr * omt + orr * t;                                  \
            VEC RL = Rb * gL, RR = Rb * gR;                                                       \
            O[l] = oli;                                                                           \
            O[l + 1] = ori;                                                                       \
            R[l] = RL;                                                                            \
            R[l + 1] = RR;                                                                        \
            S[l] = e->vl * RL;                                                                    \
            S[l + 1] = e->vr * RR;                                                                \
            A[i] = zero;                                                                          \
            pv[e->feat] += (e->vl * (ol - zl) + e->vr * (orr - zr)) * Rb;                         \
        }                                                                                         \
        for (int j = ni - 1; j >= 0; j--) { /* up */                                              \
            const snode *e = &sn[j];                                                              \
            int i = e->self, l = e->left;                                                         \
            VEC s = S[l] + S[l + 1];                                                              \
            S[i] = s;                                                                             \
            A[e->anc] += s;                                                                       \
            pv[e->fp] += ((double)O[i] - e->zs) * ((s - A[i]) * G[i]);                            \
        }                                                                                         \
    }

typedef void tree4_fn(const snode *, const v4d *, int, int, const unsigned char *, const double *,
                      v4d *, v4d *, v4d *, v4d *, v4d *, int *);
typedef void tree8_fn(const snode *, const v8d *, int, int, const unsigned char *, const double *,
                      v8d *, v8d *, v8d *, v8d *, v8d *, int *);

DEFINE_TREE(tree4, v4d, )
DEFINE_TREE(tree8, v8d, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same operations in the same order on AVX2 registers, and the 8-point
 * trees on AVX-512 ones: the same bits (no fused multiply-add: ISO C mode
 * does not contract expressions, and clang is told not to), in about half
 * and a quarter of the instructions. */
#define HAVE_AVX2 1
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
DEFINE_TREE(tree4_avx2, v4d, __attribute__((target("avx2"))))
DEFINE_TREE(tree8_avx2, v8d, __attribute__((target("avx2"))))
DEFINE_TREE(tree8_avx512, v8d, __attribute__((target("avx512f"))))
#endif

struct rdm_shap_forest {
    int nfeat, ntrees;
    int *width;          /* per tree: W_4, W_8 or W_ALG2 */
    int *first, *ninner; /* per quadrature tree: its first snode, how many */
    int *nnode;          /* per quadrature tree: nodes */
    snode *sn;
    size_t nsn, sncap;
    double *ig;    /* per quadrature tree, from igoff[t] (a multiple of 8): a vector
                 per snode */
    size_t *igoff; /* per quadrature tree: its first double in ig */
    int maxnodes;  /* nodes of the largest quadrature tree */
    /* Algorithm 2 trees: the caller's nodes (by the caller's indexes) */
    int *root, *depth;
    int nn, maxdepth;
    int *feat, *left, *right;
    double *value, *cover;
    double expected;
    /* quadrature: points and weights */
    double t4[4], w4[4], t8[NQ], w8[NQ];
    tree4_fn *run4;
    tree8_fn *run8;
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
    free(f->width);
    free(f->first);
    free(f->ninner);
    free(f->nnode);
    free(f->sn);
    free(f->ig);
    free(f->igoff);
    free(f->root);
    free(f->depth);
    free(f->feat);
    free(f->left);
    free(f->right);
    free(f->value);
    free(f->cover);
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

/* Lay out checked tree `tr` as the forest's tree t: breadth first, the
 * internal nodes appended to f->sn. q, par: scratch of tr->n ints; z: of
 * tr->n doubles. */
static int layout_tree(rdm_shap_forest *f, int t, const rdm_shap_tree *tr, int *q, int *par,
                       double *z)
{
    int n = 0, head = 0;
    q[n] = tr->root;
    par[n++] = -1;
    f->first[t] = (int)f->nsn;
    while (head < n) {
        int k = q[head];
        if (tr->feat[k] >= 0) {
            void *v = f->sn;
            if (rdm_grow(&v, &f->sncap, f->nsn + 1, sizeof *f->sn))
                return RDM_ENOMEM;
            f->sn = v;
            snode *e = &f->sn[f->nsn++];
            e->self = head;
            e->left = n;
            e->src = k;
            e->feat = tr->feat[k];
            e->fp = head == 0 ? f->nfeat : tr->feat[q[par[head]]];
            e->vl = tr->feat[tr->left[k]] < 0 ? tr->value[tr->left[k]] : 0.0;
            e->vr = tr->feat[tr->right[k]] < 0 ? tr->value[tr->right[k]] : 0.0;
            q[n] = tr->left[k];
            par[n++] = head;
            q[n] = tr->right[k];
            par[n++] = head;
        }
        head++;
    }
    f->ninner[t] = (int)f->nsn - f->first[t];
    f->nnode[t] = n;
    if (n > f->maxnodes)
        f->maxnodes = n;
    /* the z of every edge: the z above the nearest earlier split on the same
   * feature (1 when there is none) times this split's cover fraction */
    z[0] = 1;
    for (size_t j = (size_t)f->first[t]; j < f->nsn; j++) {
        snode *e = &f->sn[j];
        int k = q[e->self];
        e->anc = n;
        for (int c = e->self, p = par[c]; p >= 0; c = p, p = par[p])
            if (tr->feat[q[p]] == e->feat) {
                e->anc = c;
                break;
            }
        double zb = e->anc == n ? 1.0 : z[e->anc];
        e->zs = z[e->self];
        e->iz = 1 / e->zs;
        e->zl = z[e->left] = zb * (tr->cover[tr->left[k]] / tr->cover[k]);
        e->zr = z[e->left + 1] = zb * (tr->cover[tr->right[k]] / tr->cover[k]);
    }
    return RDM_OK;
}

/* The o = 1 reciprocals of every quadrature tree (f->ig, f->igoff). */
static int layout_reciprocals(rdm_shap_forest *f)
{
    size_t total = 0;
    for (int t = 0; t < f->ntrees; t++) {
        f->igoff[t] = total;
        if (f->width[t] != W_ALG2)
            total += ((size_t)f->ninner[t] * (size_t)f->width[t] + 7) & ~(size_t)7;
    }
    f->ig = aligned_alloc(64, (total + 8) * sizeof *f->ig);
    if (!f->ig)
        return RDM_ENOMEM;
    for (int t = 0; t < f->ntrees; t++) {
        int w = f->width[t];
        const double *tp = w == W_4 ? f->t4 : f->t8;
        for (int j = 0; w != W_ALG2 && j < f->ninner[t]; j++) {
            const snode *e = &f->sn[f->first[t] + j];
            double *g = f->ig + f->igoff[t] + (size_t)j * (size_t)w;
            /* as the tree would compute 1 / (z (1 - t) + o t) with o = 1 */
            for (int k = 0; k < w; k++)
                g[k] = e->self == 0 ? 1.0 : 1 / (e->zs * (1.0 - tp[k]) + 1.0 * tp[k]);
        }
    }
    return RDM_OK;
}

rdm_shap_forest *rdm_shap_forest_create(const rdm_shap_tree *trees, int ntrees, int nfeat,
                                        rdm_err *err)
{
    rdm_shap_forest *f = calloc(1, sizeof *f);
    int *cnt = calloc((size_t)nfeat + 1, sizeof *cnt), *q = NULL;
    double *z = NULL;
    if (!f || !cnt)
        goto nomem;
    gauss_legendre(4, f->t4, f->w4);
    gauss_legendre(NQ, f->t8, f->w8);
    f->nfeat = nfeat;
    f->ntrees = ntrees;
    f->nn = ntrees > 0 ? trees[0].n : 0;
    for (int t = 0; t < ntrees; t++)
        if (trees[t].n > f->nn)
            f->nn = trees[t].n;
    size_t nt = (size_t)ntrees + 1, nn = (size_t)f->nn + 1;
    q = malloc(2 * nn * sizeof *q);
    z = malloc(nn * sizeof *z);
    f->igoff = calloc(nt, sizeof *f->igoff);
    f->width = malloc(nt * sizeof *f->width);
    f->first = calloc(nt, sizeof *f->first);
    f->ninner = calloc(nt, sizeof *f->ninner);
    f->nnode = calloc(nt, sizeof *f->nnode);
    f->root = malloc(nt * sizeof *f->root);
    f->depth = malloc(nt * sizeof *f->depth);
    f->feat = malloc(nn * sizeof *f->feat);
    f->left = malloc(nn * sizeof *f->left);
    f->right = malloc(nn * sizeof *f->right);
    f->value = calloc(nn, sizeof *f->value);
    f->cover = calloc(nn, sizeof *f->cover);
    if (!q || !z || !f->igoff || !f->width || !f->first || !f->ninner || !f->nnode || !f->root ||
        !f->depth || !f->feat || !f->left || !f->right || !f->value || !f->cover)
        goto nomem;
    for (int k = 0; k < f->nn; k++)
        f->feat[k] = f->left[k] = f->right[k] = -1;
    for (int t = 0; t < ntrees; t++) {
        const rdm_shap_tree *tr = &trees[t];
        if (rdm_shap_tree_check(tr, nfeat, &f->depth[t], err)) {
            rdm_err_prefix(err, "tree %d", t);
            goto fail;
        }
        f->root[t] = tr->root;
        f->expected += rdm_shap_expected(tr);
        int m = max_distinct(tr, tr->root, cnt, 0);
        f->width[t] = m <= 8 ? W_4 : m <= 16 ? W_8 : W_ALG2;
        if (f->width[t] != W_ALG2) {
            if (layout_tree(f, t, tr, q, q + nn, z))
                goto nomem;
            continue;
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
                stack[sp++] = tr->left[k];
                stack[sp++] = tr->right[k];
            }
        }
        if (f->depth[t] > f->maxdepth)
            f->maxdepth = f->depth[t];
    }
    if (layout_reciprocals(f))
        goto nomem;
    rdm_shap_forest_portable(f, 0);
    free(cnt);
    free(q);
    free(z);
    return f;
nomem:
    rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
fail:
    free(cnt);
    free(q);
    free(z);
    rdm_shap_forest_free(f);
    return NULL;
}

void rdm_shap_forest_portable(rdm_shap_forest *f, int portable)
{
    f->run4 = tree4;
    f->run8 = tree8;
#ifdef HAVE_AVX2
    if (!portable && __builtin_cpu_supports("avx2")) {
        f->run4 = tree4_avx2;
        f->run8 = tree8_avx2;
    }
    if (!portable && __builtin_cpu_supports("avx512f"))
        f->run8 = tree8_avx512;
#else
    (void)portable;
#endif
}

double rdm_shap_forest_expected(const rdm_shap_forest *f)
{
    return f->expected;
}

/* The scratch: per-feature sums at 8 and at 4 points, the tree workspace
 * (R, G, S, A at up to 8 points, O), then Algorithm 2's paths. */
size_t rdm_shap_forest_scratch_size(const rdm_shap_forest *f)
{
    size_t nf = ((size_t)f->nfeat + 2) & ~(size_t)1, n = (size_t)f->maxnodes + 1;
    return 64 + nf * (sizeof(v8d) + sizeof(v4d)) + n * (4 * sizeof(v8d) + sizeof(double)) +
           rdm_shap_scratch_size(f->maxdepth);
}

void rdm_shap_forest_add(const rdm_shap_forest *f, const unsigned char *goes_left, double *phi,
                         void *scratch)
{
    /* nf even: every array starts on a 64-byte boundary */
    size_t nf = ((size_t)f->nfeat + 2) & ~(size_t)1, n = (size_t)f->maxnodes + 1;
    v8d *pv8 = (v8d *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63); /* vector alignment */
    v4d *pv4 = (v4d *)(pv8 + nf);
    v8d *R = (v8d *)(pv4 + nf), *G = R + n, *S = G + n, *A = S + n;
    int *O = (int *)(A + n);
    void *alg2 = O + n;
    memset(pv8, 0, nf * (sizeof *pv8 + sizeof *pv4));
    for (int t = 0; t < f->ntrees; t++) {
        const snode *sn = f->sn + f->first[t];
        if (f->width[t] == W_4) {
            f->run4(sn, (const v4d *)(f->ig + f->igoff[t]), f->ninner[t], f->nnode[t], goes_left,
                    f->t4, pv4, (v4d *)R, (v4d *)G, (v4d *)S, (v4d *)A, O);
        } else if (f->width[t] == W_8) {
            f->run8(sn, (const v8d *)(f->ig + f->igoff[t]), f->ninner[t], f->nnode[t], goes_left,
                    f->t8, pv8, R, G, S, A, O);
        } else {
            rdm_shap_tree v = {f->root[t], f->nn, f->feat, f->left, f->right, f->value, f->cover};
            rdm_shap_add(&v, f->depth[t], goes_left, phi, alg2);
        }
    }
    for (int j = 0; j < f->nfeat; j++) {
        double s = 0;
        for (int k = 0; k < 8; k++)
            s += f->w8[k] * pv8[j][k];
        for (int k = 0; k < 4; k++)
            s += f->w4[k] * pv4[j][k];
        phi[j] += s;
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
    rdm_gbt_router *router; /* the record's direction at every split */
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
    rdm_gbt_router_free(x->router);
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
    x->router = rdm_gbt_router_create(g, err);
    if (!x->router)
        rc = err ? err->code : RDM_ENOMEM;
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

/* 1 when a comes before b: larger |contribution| first, ties in schema order */
static int before(const rdm_contribution *a, const rdm_contribution *b)
{
    double x = fabs(a->contribution), y = fabs(b->contribution);
    return x != y ? x > y : a->col < b->col;
}

/* By insertion: a few dozen fields, already in schema order (qsort's merge
 * sort allocates and calls back). */
static void sort_contributions(rdm_contribution *c, int n)
{
    for (int i = 1; i < n; i++) {
        rdm_contribution v = c[i];
        int j = i;
        for (; j > 0 && before(&v, &c[j - 1]); j--)
            c[j] = c[j - 1];
        c[j] = v;
    }
}

/* The workspace of rdm_explain, one per thread: the route and the forest's
 * scratch, grown to the largest model explained on the thread and freed when
 * the thread exits (pthread key destructor). A 16-byte header holds its size.
 */
static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static int ws_ok;

static void ws_make_key(void)
{
    ws_ok = pthread_key_create(&ws_key, free) == 0;
}

static void *thread_workspace(size_t need)
{
    pthread_once(&ws_once, ws_make_key);
    if (!ws_ok)
        return NULL;
    size_t *w = pthread_getspecific(ws_key);
    if (w && w[0] >= need)
        return w + 2;
    size_t *nw = malloc(need + 2 * sizeof *nw);
    if (!nw)
        return NULL;
    nw[0] = need;
    if (pthread_setspecific(ws_key, nw)) {
        free(nw);
        return NULL;
    }
    free(w);
    return nw + 2;
}

/* Tree contributions of the encoded row, summed per input into phi_in. */
static int explain_gbt(const rdm_explainer *x, const float *row, double *phi_in, rdm_err *err)
{
    size_t ngl = ((size_t)x->nnodes + 64) & ~(size_t)63;
    size_t nfs = (rdm_shap_forest_scratch_size(x->forest) + 63) & ~(size_t)63;
    unsigned char *gl = thread_workspace(ngl + nfs + rdm_gbt_router_scratch_size(x->router));
    if (!gl)
        return rdm_errf(err, RDM_ENOMEM, "explain: out of memory");
    double phi[RDM_ENC_MAX_TREE] = {0};
    rdm_gbt_router_route(x->router, row, gl, gl + ngl + nfs);
    rdm_shap_forest_add(x->forest, gl, phi, gl + ngl);
    for (int j = 0; j < x->nfeat; j++)
        phi_in[x->field[j]] += phi[j];
    return RDM_OK;
}

int rdm_explain(const rdm_explainer *x, const char *const values[RDM_NCOLS], rdm_explanation *out,
                rdm_warnings *w, rdm_err *err)
{
    if (!x || !values || !out)
        return rdm_errf(err, RDM_EINVAL, "explain: NULL argument");
    /* the row is encoded once: the probability is the scorer's half of
     * rdm_model_score on the same encoding, so it matches it bit for bit */
    double phi[RDM_NCOLS] = {0};
    const rdm_encoder *enc = rdm_model_encoder(x->m);
    int rc;
    if (w)
        w->n = 0;
    if (x->type == RDM_MODEL_GBT) {
        float row[RDM_ENC_MAX_TREE];
        rc = rdm_encoder_tree_row(enc, values, row, w, err);
        if (!rc)
            rc = rdm_model_score_encoded(x->m, row, NULL, NULL, 1, &out->prob, err);
        if (!rc)
            rc = explain_gbt(x, row, phi, err);
    } else if (x->type == RDM_MODEL_LOGREG) {
        int32_t idx[RDM_ENC_MAX_NNZ];
        float val[RDM_ENC_MAX_NNZ];
        rc = rdm_encoder_lin_row(enc, values, idx, val, w, err);
        if (!rc)
            rc = rdm_model_score_encoded(x->m, NULL, idx, val, 1, &out->prob, err);
        for (int i = 0; !rc && i < x->ninput; i++)
            phi[i] = x->lin_const[i];
        for (int k = 0; !rc && k < rdm_encoder_lin_nnz(enc); k++)
            phi[x->field[idx[k]]] += x->w[idx[k]] * (double)val[k];
    } else {
        rc = rdm_model_score(x->m, values, &out->prob, w, err);
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
    sort_contributions(out->c, out->n);
    return RDM_OK;
}
