/* explain.c - exact explanations: path-dependent TreeSHAP over rdm_shap_tree,
 * linear contributions against the training mean, summed per input field. */
#include "explain.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
