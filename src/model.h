/* model.h - the model artifact and the one scoring path.
 *
 * A model holds everything serving needs: the feature schema, the fitted
 * encoder, the scorer (logistic regression, boosted trees or a constant
 * baseline), the decision threshold and metadata. Loaded models are immutable
 * and may be shared read-only between threads. */
#ifndef RDM_MODEL_H
#define RDM_MODEL_H

#include "readmit.h"
#include "schema.h"

typedef struct rdm_model rdm_model;

typedef enum { RDM_MODEL_BASELINE, RDM_MODEL_LOGREG, RDM_MODEL_GBT } rdm_model_type;

/* Load from bytes (as stored in the registry) or a file. Truncated, corrupted
 * (checksum), or newer-version input fails with RDM_EPARSE / RDM_EVERSION and a
 * clear message; never crashes. Returns a model owned by the caller. */
rdm_model *rdm_model_load_bytes(const void *data, size_t n, rdm_err *err);
rdm_model *rdm_model_load_file(const char *path, rdm_err *err);
/* Serialise (appends to out) / write atomically to a file. */
int rdm_model_save_bytes(const rdm_model *m, rdm_buf *out, rdm_err *err);
int rdm_model_save_file(const rdm_model *m, const char *path, rdm_err *err);
void rdm_model_free(rdm_model *m);

rdm_model_type rdm_model_get_type(const rdm_model *m);
const char *rdm_model_type_name(const rdm_model *m); /* "baseline", "logreg", "gbt" */
double rdm_model_threshold(const rdm_model *m);
/* Metadata value (run_id, trained_at, snapshot, ...), or NULL. Borrowed. */
const char *rdm_model_meta(const rdm_model *m, const char *key);
/* Number of metadata entries and the i-th key/value (borrowed). */
int rdm_model_meta_count(const rdm_model *m);
void rdm_model_meta_at(const rdm_model *m, int i, const char **key, const char **value);

/* The input schema: which raw columns the model reads, and for categorical
 * ones the levels it knows (for forms and validation). */
typedef struct rdm_input_field {
    int col;                   /* schema column index */
    const char *name;          /* column name */
    int categorical;           /* 1: string levels, 0: integer */
    const char *const *levels; /* known levels (NULL-terminated), categorical only */
    const char *const *labels; /* human labels parallel to levels (an entry NULL: none), or NULL
                                  when no level has one (e.g. the meaning of a code) */
    double min, max;           /* accepted range, numeric only */
} rdm_input_field;

int rdm_model_input_count(const rdm_model *m);
/* The human label of level `level` of schema column `col` (borrowed), or NULL. */
const char *rdm_model_label(const rdm_model *m, int col, const char *level);
const rdm_input_field *rdm_model_input(const rdm_model *m, int i);

/* Warnings from scoring one record (unseen categories mapped to "other"). */
#define RDM_MAX_WARNINGS 8

typedef struct rdm_warnings {
    int n;
    char msg[RDM_MAX_WARNINGS][128];
} rdm_warnings;

/* THE scoring path: a raw record, values indexed by schema column (RDM_NCOLS
 * entries; NULL, "" or "?" = missing; the same strings as in the source CSV)
 * -> probability of readmission within 30 days. Columns the model does not
 * read are ignored. A value that cannot be used (a non-number in a numeric
 * column, out of range) fails with RDM_EINVAL naming the field. `w` may be
 * NULL. Thread-safe on a shared model. */
int rdm_model_score(const rdm_model *m, const char *const values[RDM_NCOLS], double *prob,
                    rdm_warnings *w, rdm_err *err);

/* ---- building a model (training) ---- */
struct rdm_encoder; /* encode.h */

/* A new model owned by the caller. Takes ownership of `enc` (may be NULL only
 * for a baseline: the input schema is then every feature column of the
 * schema) and of `scorer`: an rdm_logreg * for RDM_MODEL_LOGREG, an rdm_gbt *
 * for RDM_MODEL_GBT, NULL for RDM_MODEL_BASELINE (which always scores
 * `baseline_prob`). On failure everything taken is freed and NULL returned.
 * The scorer's dimension must match the encoder's linear / tree dimension
 * (RDM_EINVAL otherwise). */
rdm_model *rdm_model_create(rdm_model_type type, struct rdm_encoder *enc, void *scorer,
                            double baseline_prob, double threshold, rdm_err *err);
/* Set (or replace) a metadata entry; keys are [A-Za-z0-9_.-]+ (at most 100
 * bytes), values any text without NUL (less than 4096 bytes). Only before the model is shared
 * between threads. Entries are kept sorted by key, so the saved bytes do not depend on call order.
 */
int rdm_model_set_meta(rdm_model *m, const char *key, const char *value, rdm_err *err);
/* Set (or replace) the human label of one level of a column (the meaning of
 * a code: admission_type_id "1" is "Emergency"); saved with the model (format
 * 2). Only before the model is shared between threads. RDM_EINVAL for an
 * empty level or label, a newline, or over-long text. */
int rdm_model_set_label(rdm_model *m, int col, const char *level, const char *text, rdm_err *err);
/* Set the decision threshold (only before sharing). */
void rdm_model_set_threshold(rdm_model *m, double threshold);
/* The encoder (borrowed; NULL for a baseline built without one). */
const struct rdm_encoder *rdm_model_encoder(const rdm_model *m);
/* The trees of a boosted-trees model (borrowed; NULL for other types). */
const struct rdm_gbt *rdm_model_gbt(const rdm_model *m);
/* The weights of a logistic regression (borrowed; NULL for other types). */
struct rdm_logreg;
const struct rdm_logreg *rdm_model_logreg(const rdm_model *m);
/* The constant of a baseline model (NaN for other types). */
double rdm_model_baseline_prob(const rdm_model *m);

/* Feature importance for reports: gbt = total split gain per tree feature;
 * logreg = |coef| * training sd per linear column (|coef| for one-hot);
 * baseline = none (returns 0). Writes up to `cap` entries sorted by
 * decreasing value (names borrowed from the model) and returns how many
 * features there are in total (call with cap 0 to size the arrays). */
int rdm_model_feature_importance(const rdm_model *m, const char **names, double *values, int cap);

/* Score many records (row-major cells as in encode.h, rows idx[0..n) or
 * 0..n-1) into prob[n]: the same probabilities, bit for bit, as
 * rdm_model_score on each row. Stops at the first error, which names the
 * row. */
int rdm_model_score_rows(const rdm_model *m, const char *const *cells, const size_t *idx, size_t n,
                         double *prob, rdm_err *err);

/* Score a block of records, rows[r] = record r (as rdm_model_score takes it),
 * into prob[n] with each row's warnings in w[r] (w: n entries, or NULL): the
 * same probabilities, bit for bit, and the same warnings as rdm_model_score
 * on each row, encoded and scored a block at a time. On a failure *nok is
 * the first failing row (the rows before it are scored) and err holds its
 * error as rdm_model_score gives it (no row prefix); else *nok = n.
 * Thread-safe on a shared model. */
int rdm_model_score_block(const rdm_model *m, const char *const *const *rows, size_t n,
                          double *prob, rdm_warnings *w, size_t *nok, rdm_err *err);

/* The scorer half of rdm_model_score on rows encoded beforehand by an
 * encoder equal to the model's (rdm_model_encoder_text_is): boosted trees
 * read tree_x (n x tree_dim, as rdm_encoder_tree_matrix writes it), a
 * logistic regression lin_cols and lin_vals (n x nnz, as
 * rdm_encoder_lin_matrix writes them); the others may be NULL. prob[n] gets
 * the same probabilities, bit for bit, as rdm_model_score_rows on the raw
 * records. RDM_EINVAL for a baseline or a missing matrix. Thread-safe. */
int rdm_model_score_encoded(const rdm_model *m, const float *tree_x, const int32_t *lin_cols,
                            const float *lin_vals, size_t n, double *prob, rdm_err *err);
/* 1 when the model's encoder saves to exactly text[0..n) (rdm_encoder_save):
 * it encodes as every encoder loaded from that text does. */
int rdm_model_encoder_text_is(const rdm_model *m, const char *text, size_t n);

#endif
