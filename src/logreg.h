/* logreg.h - L2-penalised logistic regression on a sparse design.
 *
 * Objective (the "l2" of conf/readmit.yaml, train.logreg.l2):
 *     F(w, b) = sum_i logloss(y_i, sigmoid(x_i . w + b)) + (l2 / 2) * ||w||^2
 * i.e. scikit-learn's convention with l2 = 1 / C (C = 0.03 <-> l2 = 33.3).
 * The intercept b is not penalised. Solver: L-BFGS (the minimiser does not
 * depend on the scale, internally F / n is minimised) with a diagonal
 * preconditioner; it stops when max |grad of F/n| <= tol or when an iteration
 * reduces F/n by less than 2.2e-9 relative (the L-BFGS-B "factr" test that
 * scikit-learn's lbfgs solver also uses). The objective's sums are taken over
 * fixed chunks of rows added in order: the fit is the same for any number of
 * threads. */
#ifndef RDM_LOGREG_H
#define RDM_LOGREG_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

/* CSR design with a constant number of stored entries per row (encode.h):
 * row r = columns cols[r*nnz .. r*nnz+nnz) with values val[...]; entries
 * with value 0 are allowed. Borrowed by the functions below. */
typedef struct rdm_csr {
    size_t n; /* rows */
    int d;    /* columns */
    int nnz;  /* entries per row */
    const int32_t *cols;
    const float *val;
} rdm_csr;

typedef struct rdm_logreg rdm_logreg;

/* Called after each L-BFGS iteration (1, 2, ...) with F/n and max |grad of
 * F/n| at the new point. */
typedef void (*rdm_logreg_progress)(int iter, double objective, double grad_norm, void *ud);

typedef struct rdm_logreg_params {
    double l2;                    /* penalty (1 / C); >= 0 (default 1) */
    int max_iter;                 /* L-BFGS iterations (200) */
    double tol;                   /* stop when max |grad of F/n| <= tol (1e-6) */
    int threads;                  /* gradient threads; 0 = all cores (default 0) */
    rdm_logreg_progress progress; /* per iteration (NULL = none; default NULL) */
    void *progress_ud;            /* passed to progress */
} rdm_logreg_params;

void rdm_logreg_params_default(rdm_logreg_params *p);

/* What the fit did (optional out). */
typedef struct rdm_logreg_info {
    int iterations;
    int evaluations;  /* objective + gradient passes over the data */
    int converged;    /* 1 when a stopping test (gradient or relative reduction) was met */
    double objective; /* F(w, b) / n at the end */
    double grad_norm; /* max |grad of F/n| at the end */
} rdm_logreg_info;

/* Fit; y in {0, 1}. Returns a model owned by the caller (rdm_logreg_free), or
 * NULL with err. Deterministic: the same model for any thread count. */
rdm_logreg *rdm_logreg_fit(const rdm_csr *X, const float *y, const rdm_logreg_params *p,
                           rdm_logreg_info *info, rdm_err *err);

/* Objective F(w, b) (unscaled, as defined above) and, if grad is not NULL,
 * its gradient: grad[0..d) for w, grad[d] for b. `wb` holds w then b
 * (d + 1 entries). Exposed for gradient checks. threads as in params. */
double rdm_logreg_objective(const rdm_csr *X, const float *y, double l2, const double *wb,
                            double *grad, int threads);

/* A model from given weights (d entries, copied) and intercept. */
rdm_logreg *rdm_logreg_create(int d, const double *w, double b, rdm_err *err);
void rdm_logreg_free(rdm_logreg *m);

int rdm_logreg_dim(const rdm_logreg *m);
const double *rdm_logreg_coef(const rdm_logreg *m); /* borrowed, d entries */
double rdm_logreg_intercept(const rdm_logreg *m);
double rdm_logreg_get_l2(const rdm_logreg *m); /* penalty it was fitted with (0 if created) */
/* Training mean of each column (d entries, borrowed), for explanations; NULL
 * for a created model or one loaded from a file saved without them. */
const double *rdm_logreg_means(const rdm_logreg *m);
/* Margin b + sum val[k] * w[cols[k]] for one sparse row; probability =
 * 1 / (1 + exp(-margin)). Column indexes must be < d. */
double rdm_logreg_margin(const rdm_logreg *m, const int32_t *cols, const float *val, int nnz);

/* Text serialisation (a section of the model file; floats exact). */
int rdm_logreg_save(const rdm_logreg *m, rdm_buf *out, rdm_err *err);
/* Parse from text[0..n); *used gets the bytes consumed. RDM_EPARSE on
 * malformed or truncated input. Returns a model owned by the caller. */
rdm_logreg *rdm_logreg_load(const char *text, size_t n, size_t *used, rdm_err *err);

#endif
