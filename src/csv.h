/* csv.h - streaming RFC 4180 reader over a byte source.
 *
 * Accepts quoted fields (commas, doubled quotes and newlines inside quotes),
 * CRLF or LF line ends, a UTF-8 byte order mark at the start and a last line
 * without a newline. Completely empty lines are skipped (they still count as
 * lines). A lone CR inside an unquoted field is data.
 *
 * Problems in one record are not fatal: the record is returned with
 * `problem` set and a `reason` naming the line, the column and the problem,
 * so the caller can store it as a reject and go on. Only I/O errors and
 * out-of-memory stop the reader.
 *
 * Resynchronisation after a broken quote: a quoted field may span lines, but
 * it may not grow past max_field_bytes. When a quoted field is still open at
 * end of file, or grows past max_field_bytes, the record is rejected
 * (RDM_CSV_UNTERMINATED) and it ends at the end of the physical line on which
 * the quote opened; reading resumes on the next line. So a stray opening quote
 * costs its own line only, never the rest of the file.
 *
 * A physical record longer than a hard cap (max(1 MiB, 2 * (fields + 1) *
 * max_field_bytes)) is rejected (RDM_CSV_RECORD_TOO_LONG) with its first bytes
 * as raw text and the reader skips to the next line, so memory stays bounded.
 */
#ifndef RDM_CSV_H
#define RDM_CSV_H

#include <stddef.h>

#include "readmit.h"
#include "utf8.h" /* rdm_utf8_valid, used on every field */

/* Byte source: fill buf with up to n bytes; return the count, 0 at end of
 * input, or a negative RDM_E* code with err filled. */
typedef long (*rdm_csv_read_fn)(void *ud, char *buf, size_t n, rdm_err *err);

/* Per-record problems (first one found wins). */
typedef enum rdm_csv_problem {
    RDM_CSV_OK = 0,
    RDM_CSV_FIELD_COUNT,     /* not as many fields as the header */
    RDM_CSV_UTF8,            /* a field is not valid UTF-8 */
    RDM_CSV_NUL,             /* a field holds a NUL byte (text cannot store it) */
    RDM_CSV_TOO_LONG,        /* a field is longer than max_field_bytes */
    RDM_CSV_UNTERMINATED,    /* quoted field open at end of file or past
                                max_field_bytes */
    RDM_CSV_STRAY_QUOTE,     /* '"' inside an unquoted field or after a closing quote
                              */
    RDM_CSV_RECORD_TOO_LONG, /* physical record over the hard cap */
} rdm_csv_problem;

/* Short name of a problem ("field count", "invalid utf-8", ...). Static string.
 */
const char *rdm_csv_problem_name(rdm_csv_problem p);

/* One record. Everything points into the reader and stays valid until the
 * next rdm_csv_next() or rdm_csv_free(). */
typedef struct rdm_csv_record {
    int nfields;
    char **fields;      /* decoded, NUL-terminated values */
    const size_t *lens; /* their lengths */
    long line;          /* source line of the record's first line (header = 1) */
    long last_line;     /* source line of its last line */
    const char *raw;    /* the bytes as read, without the line end */
    size_t raw_len;
    rdm_csv_problem problem;
    const char *reason; /* NULL when problem == RDM_CSV_OK */
} rdm_csv_record;

typedef struct rdm_csv rdm_csv;

/* Create a reader over `read`/`ud` (borrowed; must outlive the reader).
 * `max_field_bytes` 0 means 1024. `label` (borrowed, may be NULL) prefixes
 * reasons and errors, e.g. the file name. Returns a reader owned by the
 * caller (rdm_csv_free), or NULL with err (RDM_ENOMEM). */
rdm_csv *rdm_csv_create(rdm_csv_read_fn read, void *ud, size_t max_field_bytes, const char *label,
                        rdm_err *err);
/* Reader over a memory buffer (borrowed: must outlive the reader). */
rdm_csv *rdm_csv_open_mem(const char *data, size_t n, size_t max_field_bytes, rdm_err *err);
void rdm_csv_free(rdm_csv *c);

/* Read the first record as the header: it fixes the expected field count and
 * the column names used in reasons. Fails with RDM_EPARSE on an empty input or
 * a header with a problem. */
int rdm_csv_read_header(rdm_csv *c, rdm_err *err) __attribute__((warn_unused_result));
/* Header names (borrowed) and their count; 0 before rdm_csv_read_header(). */
int rdm_csv_header(const rdm_csv *c, const char *const **names);

/* Next record into *rec: returns 1, 0 at end of input, or a negative RDM_E*
 * code (I/O, out of memory) with err filled. Without a header, records are not
 * checked against a field count. */
int rdm_csv_next(rdm_csv *c, rdm_csv_record *rec, rdm_err *err) __attribute__((warn_unused_result));

/* Bytes consumed from the source so far (after the BOM). */
unsigned long long rdm_csv_bytes(const rdm_csv *c);

#endif
