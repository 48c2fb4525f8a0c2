/* gbt.h - histogram gradient-boosted trees for binary log loss.
 *
 * Input is a dense row-major float matrix (n rows x d features), NaN = missing.
 * Feature j is numeric when ncat[j] == 0, else categorical with integer codes
 * 0..ncat[j]-1 stored as floats (split natively, not one-hot). */
#ifndef RDM_GBT_H
#define RDM_GBT_H

#include "readmit.h"

typedef struct rdm_gbt rdm_gbt;

typedef struct rdm_gbt_params {
    double learning_rate;     /* 0.1 */
    int max_iter;             /* boosting rounds, upper bound (500) */
    int max_leaves;           /* leaf-wise growth (31) */
    int max_depth;            /* 0 = unlimited (default 0) */
    int max_bins;             /* <= 255 (255) */
    double min_child_weight;  /* minimum hessian sum in a leaf (1e-3 .. ) */
    double l2;                /* L2 on leaf values (lambda, 1.0) */
    double subsample;         /* row fraction per tree (1.0) */
    double colsample;         /* feature fraction per tree (1.0) */
    int early_stopping;       /* stop after this many rounds without validation log-loss gain (20); 0 = off */
    int threads;              /* 0 = all cores */
    uint64_t seed;
} rdm_gbt_params;

void rdm_gbt_params_default(rdm_gbt_params *p);

/* Called after each boosting round (may be NULL). */
typedef void (*rdm_gbt_progress)(int iter, double train_loss, double valid_loss, void *ud);

/* Fit. (Xv, yv, nv) is the validation set used only for early stopping (may be
 * NULL/0). y in {0,1}. Deterministic for a given seed and thread count.
 * Returns a model owned by the caller, or NULL with err. */
rdm_gbt *rdm_gbt_fit(const float *X, const float *y, size_t n, int d, const int *ncat,
                     const float *Xv, const float *yv, size_t nv, const rdm_gbt_params *p,
                     rdm_gbt_progress cb, void *ud, rdm_err *err);
void rdm_gbt_free(rdm_gbt *m);

/* Margin (log-odds) for one row of d features; probability = 1/(1+exp(-margin)). */
double rdm_gbt_margin(const rdm_gbt *m, const float *x);
/* Number of trees kept (after early stopping) and features. */
int rdm_gbt_ntrees(const rdm_gbt *m);
int rdm_gbt_nfeatures(const rdm_gbt *m);
/* Total split gain per feature (d entries written). */
void rdm_gbt_importance(const rdm_gbt *m, double *gain);

/* Text serialisation (a section of the model file): floats exact (%a or %.17g). */
int rdm_gbt_save(const rdm_gbt *m, rdm_buf *out, rdm_err *err);
/* Parse from text produced by rdm_gbt_save; *used gets the bytes consumed.
 * Malformed or truncated input fails with RDM_EPARSE, never crashes. */
rdm_gbt *rdm_gbt_load(const char *text, size_t n, size_t *used, rdm_err *err);

#endif
