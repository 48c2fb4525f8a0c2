/* explain.h - exact per-prediction explanations in log-odds.
 *
 * Boosted trees: path-dependent TreeSHAP (Lundberg et al., "From local
 * explanations to global understanding with explainable AI for trees", 2020,
 * Algorithm 2). The value of a feature set S at a node is the cover-weighted
 * mean of the children for a split on a feature outside S, and the child the
 * record takes for a split on a feature in S; the contributions are the exact
 * Shapley values of that game, so they add up to the tree's value minus its
 * expected value (the cover-weighted mean of its leaves). The algorithm sees
 * a tree only through rdm_shap_tree (children, split feature, node cover,
 * leaf value) and, for one record, which child the record takes at every
 * split; the split test itself stays with the model.
 *
 * Logistic regression: contribution of linear column j = w_j (x_j - mean_j)
 * with the training mean; the base value is the margin at the mean.
 *
 * Both are summed back to raw input fields (one-hot levels, diagnosis rank
 * and chapter add up to their field), and
 *     base_value + sum of contributions == logit(probability)
 * up to rounding. */
#ifndef RDM_EXPLAIN_H
#define RDM_EXPLAIN_H

#include <stddef.h>

#include "model.h"
#include "readmit.h"
#include "schema.h"

/* ---- TreeSHAP on one tree ---- */

/* A tree as parallel arrays indexed by node (all borrowed). Node `root` is the
 * root; an internal node k has feat[k] >= 0 and children left[k], right[k];
 * a leaf has feat[k] < 0 and value[k]. cover[k] > 0 is the training weight
 * (rows or hessian) that reached node k. Indexes may be absolute into arrays
 * shared by many trees. */
typedef struct rdm_shap_tree {
    int root;
    int n; /* nodes in the arrays (every index is < n) */
    const int *feat;
    const int *left, *right;
    const double *value;
    const double *cover;
} rdm_shap_tree;

/* Check a tree: indexes in range, features < nfeat, covers finite and > 0,
 * every node reached at most once from the root. *depth gets the number of
 * splits on the longest root-to-leaf path. RDM_EINVAL naming the node. */
int rdm_shap_tree_check(const rdm_shap_tree *t, int nfeat, int *depth, rdm_err *err);

/* Expected value of a checked tree: the cover-weighted mean of the leaves
 * (the same weights the contributions use). */
double rdm_shap_expected(const rdm_shap_tree *t);

/* Bytes of scratch rdm_shap_add needs for a tree of the given depth. */
size_t rdm_shap_scratch_size(int depth);

/* Add the contributions of a checked tree of the given depth for one record
 * to phi[] (indexed by feature). goes_left[k] (for every internal node k) is 1 when the record goes
 * to left[k]. `scratch` holds rdm_shap_scratch_size(depth) bytes, suitably aligned for double
 * (malloc). The contributions add up to the record's leaf value minus rdm_shap_expected; features
 * the tree never splits on get nothing added. No allocation. */
void rdm_shap_add(const rdm_shap_tree *t, int depth, const unsigned char *goes_left, double *phi,
                  void *scratch);

/* ---- the same for a whole forest, laid out once ----
 * Node by node, with the integral form of the Shapley weights evaluated by
 * quadrature (explain.c): the same values as rdm_shap_add up to rounding, at
 * a fraction of the cost (two branch-free passes over each tree's internal
 * nodes, no division: what does not depend on the record is computed when
 * the forest is laid out); this is what explaining a model uses. */
typedef struct rdm_shap_forest rdm_shap_forest;

/* Check and copy `ntrees` trees (borrowed during the call only) over
 * `nfeat` features. Returns a forest owned by the caller, or NULL with err
 * (RDM_EINVAL naming the tree, RDM_ENOMEM). */
rdm_shap_forest *rdm_shap_forest_create(const rdm_shap_tree *trees, int ntrees, int nfeat,
                                        rdm_err *err);
void rdm_shap_forest_free(rdm_shap_forest *f);
/* Sum of the trees' expected values. */
double rdm_shap_forest_expected(const rdm_shap_forest *f);
/* Bytes of scratch rdm_shap_forest_add needs. */
size_t rdm_shap_forest_scratch_size(const rdm_shap_forest *f);
/* Add every tree's contributions for one record to phi[nfeat]; goes_left as
 * for rdm_shap_add over the trees' node indexes; scratch as sized above
 * (malloc alignment). No allocation; thread-safe on a shared forest. */
void rdm_shap_forest_add(const rdm_shap_forest *f, const unsigned char *goes_left, double *phi,
                         void *scratch);
/* Use the portable vector code (1) or, where the processor has them, AVX2
 * and AVX-512 registers (0, the default). Both give the same bits; for tests. */
void rdm_shap_forest_portable(rdm_shap_forest *f, int portable);

/* ---- explanations of a model ---- */

typedef struct rdm_explainer rdm_explainer;

/* Build what explaining `m` needs (for boosted trees a copy of the trees;
 * for logistic regression the training means, which model files saved
 * before they were stored lack: RDM_EINVAL saying so). `m` is borrowed and
 * must outlive the explainer. Immutable once built: rdm_explain is
 * thread-safe on a shared explainer. Returns NULL with err on failure. */
rdm_explainer *rdm_explainer_create(const rdm_model *m, rdm_err *err);
void rdm_explainer_free(rdm_explainer *x);

typedef struct rdm_contribution {
    int col;             /* schema column of the input field */
    const char *field;   /* its name (borrowed, static) */
    double contribution; /* log-odds */
} rdm_contribution;

typedef struct rdm_explanation {
    double prob;       /* as rdm_model_score gives it */
    double base_value; /* log-odds of the expected prediction */
    int n;             /* input fields of the model */
    /* every input field, by decreasing |contribution| (ties in schema order) */
    rdm_contribution c[RDM_NCOLS];
} rdm_explanation;

/* Explain one raw record (as rdm_model_score takes it; the probability comes
 * from rdm_model_score itself, the contributions from the same encoder).
 * Errors and warnings as rdm_model_score. */
int rdm_explain(const rdm_explainer *x, const char *const values[RDM_NCOLS], rdm_explanation *out,
                rdm_warnings *w, rdm_err *err);

#endif
