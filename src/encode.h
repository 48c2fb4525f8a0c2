/* encode.h - the fitted feature encoder: raw records -> model features.
 *
 * Fit on training rows only; the fitted state (vocabularies, ranks, means and
 * standard deviations) is saved inside the model file, so serving applies
 * exactly what training learned. Features: every schema column except
 * encounter_id, patient_nbr and readmitted.
 *
 * Raw records are `const char *const values[RDM_NCOLS]` in schema column order
 * (NULL, "" or "?" = missing; the string "None" is a category). Values are
 * trimmed with rdm_value_normalize() before lookup.
 *
 * Two outputs from one encoder:
 *
 * TREE features (for gbt.h): dense floats, NaN = missing.
 *  - integer columns: the number itself;
 *  - categorical and code columns: a code 0..K-1 for the K levels seen in at
 *    least min_count training rows (most frequent first), code K = "other"
 *    (rarer and unseen levels); ncat = K + 1; missing -> NaN;
 *  - diag_1..3 in rank mode (default): "diag_N_rank" = dense frequency rank of
 *    the code among training rows of that column (1 = most frequent; codes
 *    with equal counts share a rank); an unseen code gets the rank of a count
 *    of 0, i.e. one past the largest rank (the tree treats it as the rarest,
 *    not as missing); missing -> NaN. Plus "diag_N_group" = ICD-9 chapter
 *    (rdm_icd9_chapters() order) as a categorical; missing -> NaN.
 *  - diag in raw mode: the code as an ordinary categorical column.
 *
 * LINEAR features (for logreg.h): sparse rows with a CONSTANT number of stored
 * entries per row (rdm_encoder_lin_nnz), so a design matrix is CSR with a fixed
 * row length:
 *  - categorical/code columns: one-hot over the K vocabulary levels + "other"
 *    + "missing" (exactly one entry of value 1);
 *  - integer columns: (x - mean) / sd with training mean and sd (sd 0 -> 1);
 *    if the column had missing values in training, a missing indicator column
 *    too, and a missing value is encoded as 0 (the mean) with indicator 1;
 *    both entries are always stored (explicit zeros keep the row length fixed);
 *  - diag in rank mode: the code one-hot (vocabulary of codes with >= min_count
 *    training rows + "other" + "missing", as for categoricals), the chapter
 *    one-hot, and log(rank) standardised (with a missing indicator like the
 *    integers); in raw mode only the code one-hot. (With the code one-hot the
 *    linear model matches a plain one-hot logistic regression; the chapter and
 *    rank add what rare codes share.)
 *
 * Unseen levels at apply time map to "other" and add a warning to `w` naming
 * the field (w may be NULL). A non-integer or out-of-range (schema min/max)
 * value in an integer column fails with RDM_EINVAL naming the field.
 * A fitted encoder is immutable; apply functions are thread-safe and do not
 * allocate. */
#ifndef RDM_ENCODE_H
#define RDM_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "pool.h"
#include "readmit.h"
#include "schema.h"
#include "text.h"

typedef struct rdm_encoder rdm_encoder;

enum { RDM_DIAG_RANK_CHAPTER = 0, RDM_DIAG_RAW = 1 };

typedef struct rdm_encoder_params {
    long min_count; /* a level needs this many training rows to get its own code (20) */
    int diag_mode;  /* RDM_DIAG_RANK_CHAPTER (default) or RDM_DIAG_RAW */
} rdm_encoder_params;

void rdm_encoder_params_default(rdm_encoder_params *p);

/* Upper bounds, for stack buffers: tree dim and linear nnz per row never
 * exceed these. */
#define RDM_ENC_MAX_TREE (2 * RDM_NCOLS)
#define RDM_ENC_MAX_NNZ  (2 * RDM_NCOLS)

/* Fit on training rows. `cells` is a row-major table of raw values,
 * cells[r * RDM_NCOLS + c] = column c of row r. Rows used: idx[0..n) when idx
 * is not NULL, else rows 0..n-1. Strings are only read during the call.
 * Returns a new encoder owned by the caller (rdm_encoder_free), or NULL with
 * err (RDM_ENOMEM, RDM_EINVAL for a bad integer value naming row and field). */
rdm_encoder *rdm_encoder_fit(const char *const *cells, const size_t *idx, size_t n,
                             const rdm_encoder_params *p, rdm_err *err);
/* The same, the columns fitted on `pool` (NULL: the caller's thread); the
 * same encoder for any pool. */
rdm_encoder *rdm_encoder_fit_on(const char *const *cells, const size_t *idx, size_t n,
                                const rdm_encoder_params *p, rdm_pool *pool, rdm_err *err);
void rdm_encoder_free(rdm_encoder *e);

/* ---- tree features ---- */
int rdm_encoder_tree_dim(const rdm_encoder *e);
/* ncat[j] for each tree feature (0 = numeric); borrowed, tree_dim entries. */
const int *rdm_encoder_tree_ncat(const rdm_encoder *e);
/* Name of tree feature j ("number_inpatient", "diag_1_rank", ...); borrowed. */
const char *rdm_encoder_tree_name(const rdm_encoder *e, int j);
/* Encode one raw record into out[tree_dim]. */
int rdm_encoder_tree_row(const rdm_encoder *e, const char *const values[RDM_NCOLS], float *out,
                         rdm_warnings *w, rdm_err *err);
/* Encode a block of records, rows[r] = record r (as rdm_encoder_tree_row
 * takes it), into X (n x tree_dim, row-major), each row's warnings in w[r]
 * (w: n entries, or NULL), column by column. The same features and warnings
 * as rdm_encoder_tree_row on each row. On a failure *nok is the first failing
 * row (the rows before it are encoded) and err has that row's error as
 * rdm_encoder_tree_row gives it; else *nok = n. */
int rdm_encoder_tree_block(const rdm_encoder *e, const char *const *const *rows, size_t n, float *X,
                           rdm_warnings *w, size_t *nok, rdm_err *err);
/* Encode rows (same cells/idx convention as fit) into X (n x tree_dim,
 * row-major, caller-allocated). Errors name the row number. */
int rdm_encoder_tree_matrix(const rdm_encoder *e, const char *const *cells, const size_t *idx,
                            size_t n, float *X, rdm_err *err);

/* ---- linear features ---- */
/* Number of linear feature columns (the logreg dimension). */
int rdm_encoder_lin_dim(const rdm_encoder *e);
/* Stored entries per row (constant). */
int rdm_encoder_lin_nnz(const rdm_encoder *e);
/* Name of linear column j ("race=Caucasian", "race=<other>", "race=<missing>",
 * "num_medications", "num_medications=<missing>", "diag_1_logrank", ...);
 * borrowed. */
const char *rdm_encoder_lin_name(const rdm_encoder *e, int j);
/* Training standard deviation behind linear column j (1 for one-hot columns
 * and indicators), for |coef| * sd style importances. */
double rdm_encoder_lin_scale(const rdm_encoder *e, int j);
/* Encode one raw record: idx[nnz] (increasing column indexes) and val[nnz]. */
int rdm_encoder_lin_row(const rdm_encoder *e, const char *const values[RDM_NCOLS], int32_t *idx,
                        float *val, rdm_warnings *w, rdm_err *err);
/* Encode rows into CSR with constant row length: idx and val have n * nnz
 * entries (caller-allocated); row r is at r * nnz. */
int rdm_encoder_lin_matrix(const rdm_encoder *e, const char *const *cells, const size_t *idx,
                           size_t n, int32_t *cols, float *val, rdm_err *err);

/* ---- input schema ---- */
/* Known levels (vocabulary, NULL-terminated, borrowed) of schema column `col`,
 * or NULL when the column is numeric in this encoder. For diagnoses in rank
 * mode: the codes of the linear one-hot (seen in at least min_count training
 * rows; rarer codes are still scored, by their rank). */
const char *const *rdm_encoder_levels(const rdm_encoder *e, int col);
/* Schema column (raw input field) that encoded feature j comes from: a tree
 * feature when `linear` is 0, a linear column otherwise; -1 when j is out of
 * range. One-hot levels, indicators, diagnosis rank and chapter all map to
 * their field. */
int rdm_encoder_feature_col(const rdm_encoder *e, int linear, int j);
/* 1 when schema column `col` is an input of the encoder. */
int rdm_encoder_uses(const rdm_encoder *e, int col);
const rdm_encoder_params *rdm_encoder_get_params(const rdm_encoder *e);

/* ---- serialisation (a section of the model file; floats exact) ---- */
/* Append the text form to out. */
int rdm_encoder_save(const rdm_encoder *e, rdm_buf *out, rdm_err *err);
/* Parse the text produced by rdm_encoder_save from text[0..n); *used gets the
 * bytes consumed. Malformed or truncated input fails with RDM_EPARSE. Returns
 * a new encoder owned by the caller. */
rdm_encoder *rdm_encoder_load(const char *text, size_t n, size_t *used, rdm_err *err);

#endif
