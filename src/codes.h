/* codes.h - the meaning of the code columns: the mapping file that comes with
 * the UCI data (IDs_mapping.csv) gives a label to each integer code of
 * admission_type_id, discharge_disposition_id and admission_source_id.
 *
 * The file is three stacked tables, each a header line "<column>,description"
 * followed by "code,label" lines, separated by lines of empty fields (",").
 * Labels are trimmed; quoted labels may hold commas. A line that cannot be
 * used (a table that is not one of the three columns, a row outside a table,
 * a code that is not a positive integer, an empty label, a code listed twice
 * in one table, a malformed CSV record) is kept in `bad` with its line
 * number, raw text and reason; the other lines still count. Ingest stores the
 * mapping in raw.code_labels (and the bad lines in raw.code_label_rejects);
 * training puts it into the model's input schema. */
#ifndef RDM_CODES_H
#define RDM_CODES_H

#include <stddef.h>

#include "db.h"
#include "readmit.h"

typedef struct rdm_code_label {
    int col; /* schema column */
    char *code, *label;
    long line; /* in the mapping file (0 when read from the database) */
} rdm_code_label;

typedef struct rdm_code_bad {
    long line;
    char *raw, *reason;
} rdm_code_bad;

typedef struct rdm_code_labels {
    rdm_code_label *v;
    size_t n, cap;
    rdm_code_bad *bad;
    size_t nbad, badcap;
    char sha256[65]; /* of the mapping file's bytes (parse) */
} rdm_code_labels;

/* Zero-initialise with `rdm_code_labels x = {0}`; release frees everything. */
void rdm_code_labels_release(rdm_code_labels *cl);

/* Parse the n bytes of a mapping file; `name` (e.g. "b.zip:IDs_mapping.csv")
 * prefixes the reasons. Bad lines do not fail the parse (a file without any
 * table header is all bad lines: the data beside it still loads); only
 * RDM_ENOMEM does. */
int rdm_code_labels_parse(const char *data, size_t n, const char *name, rdm_code_labels *out,
                          rdm_err *err) __attribute__((warn_unused_result));

/* The label of `code` in column `col`, or NULL (borrowed). */
const char *rdm_code_labels_find(const rdm_code_labels *cl, int col, const char *code);

/* Store a parsed mapping in one transaction: every label (a code listed again
 * gets the new label) and the bad lines. */
int rdm_code_labels_store(rdm_db *db, const rdm_code_labels *cl, rdm_err *err)
    __attribute__((warn_unused_result));
/* Every stored label into `out` (empty when there is none). */
int rdm_code_labels_load(rdm_db *db, rdm_code_labels *out, rdm_err *err)
    __attribute__((warn_unused_result));

#endif
