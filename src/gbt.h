/* gbt.h - histogram gradient-boosted trees for binary log loss.
 *
 * Input is a dense row-major float matrix (n rows x d features), NaN = missing.
 * Feature j is numeric when ncat[j] == 0, else categorical with integer codes
 * 0..ncat[j]-1 stored as floats (split natively, not one-hot; at most 255
 * codes). A categorical value that is not an integer in 0..ncat[j]-1 (for
 * example a code the training data never had) is treated as missing, at
 * training and at scoring time.
 *
 * Numeric features are binned on quantiles of the training rows (at most
 * max_bins bins plus one bin for missing); trees are grown leaf-wise (best gain
 * first) with histogram subtraction. Each split learns where missing values go
 * (default_left). Categorical splits order the categories by gradient/hessian
 * within the node and send a contiguous prefix of that order left (stored as a
 * bitset). Numeric thresholds are stored as float values (x <= threshold goes
 * left), so the model scores raw float features.
 *
 * Gradients and hessians are summed in fixed point (exact integer sums), so a
 * fit gives the same model for a given seed whatever the thread count and
 * however the threads happen to share the work. Scoring uses tables derived
 * from the trees at fit and load time (leaf masks per feature bin, or a
 * compact copy of the nodes that is walked; the text form is unchanged). */
#ifndef RDM_GBT_H
#define RDM_GBT_H

#include "readmit.h"

typedef struct rdm_gbt rdm_gbt;

/* Defaults in parentheses (rdm_gbt_params_default); they were tuned on the
 * readmission task's validation split. */
typedef struct rdm_gbt_params {
    double learning_rate;    /* shrinkage (0.05) */
    int max_iter;            /* boosting rounds, upper bound (1000) */
    int max_leaves;          /* leaf-wise growth, 2..65536 (31) */
    int max_depth;           /* 0 = unlimited (default 0) */
    int max_bins;            /* numeric bins, 2..255 (255); missing gets one more */
    double min_child_weight; /* minimum hessian sum in a child (20; one row at
                                p=0.11 is ~0.1) */
    double l2;               /* L2 on leaf values (lambda, 20) */
    double subsample;        /* row fraction per tree (1.0) */
    double colsample;        /* feature fraction per tree (1.0) */
    int early_stopping;      /* stop after this many rounds without validation log-loss
                                gain (20); 0 = off */
    int threads;             /* 0 = all cores */
    uint64_t seed;
} rdm_gbt_params;

void rdm_gbt_params_default(rdm_gbt_params *p);

/* Called after each boosting round (may be NULL). */
typedef void (*rdm_gbt_progress)(int iter, double train_loss, double valid_loss, void *ud);

/* Fit. (Xv, yv, nv) is the validation set used only for early stopping (may be
 * NULL/0). y in {0,1}. ncat may be NULL (all numeric); d at most 1,000,000.
 * The result is identical for a given seed whatever the thread count. With a
 * validation set and early_stopping > 0 only the trees up to the best
 * validation round are kept. cb gets the training and validation mean log
 * loss after each round (validation NaN without a validation set); without a
 * cb the training loss is not computed. Returns a model owned by the caller
 * (free with rdm_gbt_free), or NULL with err: RDM_EINVAL (bad parameter, label
 * not 0/1, more than 255 categories), RDM_ENOMEM. */
rdm_gbt *rdm_gbt_fit(const float *X, const float *y, size_t n, int d, const int *ncat,
                     const float *Xv, const float *yv, size_t nv, const rdm_gbt_params *p,
                     rdm_gbt_progress cb, void *ud, rdm_err *err);
void rdm_gbt_free(rdm_gbt *m); /* NULL is a no-op */

/* Margin (log-odds) for one row of d features; probability =
 * 1/(1+exp(-margin)). No allocation; safe to call from many threads on one
 * model. The same as rdm_gbt_margins with n = 1. */
double rdm_gbt_margin(const rdm_gbt *m, const float *x);
/* Margins of n rows (row-major, d features each) into out[0..n): for each
 * row exactly rdm_gbt_margin's value (the same sum in the same tree order),
 * computed tree by tree over the block, which is faster per row for blocks
 * of tens of rows. No allocation; thread-safe like rdm_gbt_margin. */
void rdm_gbt_margins(const rdm_gbt *m, const float *X, size_t n, double *out);
/* Number of trees kept (after early stopping) and features. */
int rdm_gbt_ntrees(const rdm_gbt *m);
/* Leaves over the kept trees. */
int rdm_gbt_nleaves(const rdm_gbt *m);
int rdm_gbt_nfeatures(const rdm_gbt *m);
/* Total split gain per feature over the kept trees (d entries written). */
void rdm_gbt_importance(const rdm_gbt *m, double *gain);

/* ---- the trees, for explanations (explain.h) ----
 * Nodes of every kept tree in one array (the scoring order): tree t is the
 * nodes from rdm_gbt_tree_root(m, t) up to rdm_gbt_tree_root(m, t + 1), its
 * root first. */
typedef struct rdm_gbt_node_info {
    int feat;        /* split feature; -1 for a leaf */
    int left, right; /* children (-1 for a leaf) */
    double value;    /* leaf value (learning rate applied) */
    double cover;    /* training rows that reached the node; NaN when the model
                        was read from a format 1 file */
} rdm_gbt_node_info;

double rdm_gbt_base(const rdm_gbt *m); /* the margin's constant term */
int rdm_gbt_node_count(const rdm_gbt *m);
int rdm_gbt_tree_root(const rdm_gbt *m, int t);
void rdm_gbt_node(const rdm_gbt *m, int k, rdm_gbt_node_info *out);
/* For every node k: goes_left[k] = 1 when row x takes the left child (the
 * test rdm_gbt_margin applies; leaves get 1). node_count entries. */
void rdm_gbt_route(const rdm_gbt *m, const float *x, unsigned char *goes_left);

/* Text serialisation (a section of the model file), appended to `out`: hex
 * floats (%a), so everything reads back bit for bit. The section starts with
 * the line "gbt 2" and ends with the line "end"; format 2 adds each node's
 * training cover to format 1, which still loads (covers NaN) and is written
 * back as format 1. Returns RDM_OK or RDM_ENOMEM.
 */
int rdm_gbt_save(const rdm_gbt *m, rdm_buf *out, rdm_err *err);
/* Parse from text produced by rdm_gbt_save (need not be NUL-terminated; text
 * after the "end" line is left alone); *used (may be NULL) gets the bytes
 * consumed, including the end line's newline. Every child and feature index is
 * bounds-checked; malformed or truncated input fails with RDM_EPARSE ("gbt
 * model line N: ..."), another format version with RDM_EVERSION, never crashes.
 * Returns a model owned by the caller. */
rdm_gbt *rdm_gbt_load(const char *text, size_t n, size_t *used, rdm_err *err);

#endif
