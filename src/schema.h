/* schema.h - the 50-column encounter schema of the UCI diabetes data, value
 * normalisation and derived values (ICD-9 chapters, target) shared by clean,
 * training and serving. */
#ifndef RDM_SCHEMA_H
#define RDM_SCHEMA_H

#include "readmit.h"

#define RDM_NCOLS 50

typedef enum rdm_col_kind {
    RDM_COL_ID,     /* encounter_id, patient_nbr: integers, never features */
    RDM_COL_INT,    /* integer count or duration (numeric feature) */
    RDM_COL_CODE,   /* integer code used as a category (admission_type_id, ...) */
    RDM_COL_CAT,    /* string category */
    RDM_COL_DIAG,   /* ICD-9 code (diag_1..3) */
    RDM_COL_TARGET, /* readmitted */
} rdm_col_kind;

typedef struct rdm_column {
    const char *name;
    rdm_col_kind kind;
    const char *const *levels; /* known categories (NULL-terminated) or NULL */
    long min, max;             /* plausible range for INT/CODE/ID columns */
} rdm_column;

/* Column indexes of the columns the code refers to by name. */
enum {
    RDM_C_ENCOUNTER_ID = 0,
    RDM_C_PATIENT_NBR = 1,
    RDM_C_DISCHARGE = 7,
    RDM_C_DIAG_1 = 18,
    RDM_C_DIAG_2 = 19,
    RDM_C_DIAG_3 = 20,
    RDM_C_READMITTED = 49,
};

/* The table of all columns in source order. */
const rdm_column *rdm_schema_columns(void);
/* Index of column `name`, or -1. */
int rdm_schema_find(const char *name);

/* True when a raw value means "missing": NULL, "" or "?". The string "None" is
 * NOT missing (it is a category: "not measured"). */
static inline int rdm_value_is_missing(const char *v)
{
    return v == NULL || v[0] == '\0' || (v[0] == '?' && v[1] == '\0');
}

/* Normalise a raw categorical value into `out` (trim ASCII whitespace); returns
 * the normalised length. Used by clean and by the encoder, so training and
 * serving see the same strings. */
size_t rdm_value_normalize(const char *v, char *out, size_t outsz);

/* The same trim on v[0..n) where it lies: sets *start to the offset of the
 * first byte kept and returns the length kept. */
static inline size_t rdm_value_trim(const char *v, size_t n, size_t *start)
{
    const char *s = v, *e = v + n;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    *start = (size_t)(s - v);
    return (size_t)(e - s);
}

/* ICD-9 chapter group of a diagnosis code ("circulatory", "diabetes", ...);
 * "missing" for a missing code, "other" for an unrecognised one. Static string. */
const char *rdm_icd9_chapter(const char *code);
/* All chapter names, NULL-terminated. */
const char *const *rdm_icd9_chapters(void);

/* Binary target from readmitted: "<30" -> 1, "NO" / ">30" -> 0, else -1. */
int rdm_target_from(const char *readmitted);

/* Parse a decimal integer (optional sign, no spaces); returns 0 on success. */
int rdm_parse_long(const char *s, long *out);

#endif
