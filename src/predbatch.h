/* predbatch.h - rows of monitor.prediction_batches (one per batch of the
 * prediction log) as PostgreSQL binary COPY data, and the reading of the
 * one-dimensional arrays such rows hold.
 *
 * The encoder takes predictions one at a time and appends a row to the COPY
 * stream whenever the model or the writer changes or a batch is full; the
 * stream is rdm_predbatch_begin(), the rows, rdm_predbatch_end(). Columns, in
 * the order of sql/monitor_copy_predictions.sql: model_name, n, first_served,
 * last_served, writer, seq_lo, seq_hi, then the arrays served_at, request_id,
 * item, encounter_id, patient_nbr, model_version, alias, probability,
 * decision, threshold, latency_us, then race, gender and age (NULL: see
 * below), input_end, then inputs, input_keys, group_values and group_codes.
 *
 * The race, gender and age of the predictions (the input fields patient
 * groups are formed on) are stored as codes into a dictionary of the batch
 * (migration 017): group_values, a text[] of the batch's distinct values
 * (at most RDM_PREDBATCH_MAX_GROUP_VALUES, in order of first appearance),
 * and group_codes, a bytea of three bytes per prediction (race, gender,
 * age), each 0 for a missing value or k for group_values[k]. A batch is
 * written early when a prediction would bring more values than that.
 *
 * An input that is one flat JSON object of string and null values (no
 * escape, no control character) with the keys of the batch's first such
 * input, in their order, is stored without its keys: byte 0x1f before each
 * value, a null as the one byte 0x1e (migration 015; the view
 * monitor.predictions gives the object again). input_keys holds those keys
 * (NULL when no input of the batch is stored so); any other input is stored
 * as it was sent. */
#ifndef RDM_PREDBATCH_H
#define RDM_PREDBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

#define RDM_PREDBATCH_MAX_ROWS   4096      /* predictions per batch row */
#define RDM_PREDBATCH_MAX_INPUTS (8 << 20) /* bytes of inputs per batch row */

/* One logged prediction (strings borrowed for the call). */
typedef struct rdm_predbatch_item {
    int64_t served_us; /* unix microseconds */
    const char *request_id;
    int32_t item;
    const int64_t *encounter_id; /* NULL = not sent */
    const int64_t *patient_nbr;  /* NULL = not sent */
    const int32_t *version;      /* NULL = serving a model file */
    const char *alias;
    double probability;
    int decision;
    double threshold;
    uint32_t latency_us;
    const char *race, *gender, *age; /* NULL = missing */
    const char *input;
    size_t input_len;
    /* 1: `input` stays valid until the batch row holding it is written
     * (by rdm_predbatch_flush/_end or the add that writes it), and is
     * copied once, into the row, instead of twice */
    int input_stable;
    /* the input's keyless form when the caller has it (the input is then
     * not read again for it): kl_vals[0..kl_vals_len), each value after
     * byte 0x1f, a null as 0x1e, and its kl_nkeys keys kl_keys[0..
     * kl_keys_len), each a 4-byte big-endian length and its bytes; copied.
     * NULL kl_vals: the add finds the form itself */
    const char *kl_vals;
    size_t kl_vals_len;
    const char *kl_keys;
    size_t kl_keys_len;
    uint32_t kl_nkeys;
} rdm_predbatch_item;

enum {
    RDM_PB_SERVED,
    RDM_PB_REQUEST,
    RDM_PB_ITEM,
    RDM_PB_ENCOUNTER,
    RDM_PB_PATIENT,
    RDM_PB_VERSION,
    RDM_PB_ALIAS,
    RDM_PB_PROB,
    RDM_PB_DECISION,
    RDM_PB_THRESHOLD,
    RDM_PB_LATENCY,
    RDM_PB_INPUT_END,
    RDM_PB_NARRAYS
};

/* Where one input of the open batch is: borrowed (p) or in inputs at off. */
typedef struct rdm_pbspan {
    const char *p;
    size_t off, len;
} rdm_pbspan;

/* Fields of a batch row (RDM_PREDBATCH_FIELDS_V1: rows queued before
 * input_keys, _V2: before group_values and group_codes, which the sender
 * gives NULL, and which keep their race, gender and age arrays). */
#define RDM_PREDBATCH_FIELDS    26
#define RDM_PREDBATCH_FIELDS_V2 24
#define RDM_PREDBATCH_FIELDS_V1 23

#define RDM_PREDBATCH_MAX_GROUP_VALUES 255 /* distinct race, gender, age values per batch */

typedef struct rdm_predbatch {
    rdm_buf arr[RDM_PB_NARRAYS]; /* elements: int32 length, then the value */
    int hasnull[RDM_PB_NARRAYS];
    int varies[RDM_PB_NARRAYS];       /* an element unlike the first was added */
    size_t first_len[RDM_PB_NARRAYS]; /* bytes of the first element */
    rdm_buf inputs;                   /* the inputs that are not stable (copied) */
    rdm_pbspan *spans;
    size_t nspans, capspans;
    size_t input_len; /* bytes of all the open batch's inputs */
    rdm_buf model, writer;
    rdm_buf keys;   /* the open batch's input keys, as text[] elements */
    uint32_t nkeys; /* 0: none yet */
    rdm_buf gvals;  /* the open batch's group values, as text[] elements */
    uint32_t ngvals;
    uint32_t gval_at[RDM_PREDBATCH_MAX_GROUP_VALUES]; /* offset of each in gvals */
    rdm_buf gcodes;                                   /* three bytes per prediction */
    unsigned char glast[3];                           /* the code last given each field */
    uint32_t n;
    int64_t first_us, last_us;
    uint64_t seq_lo, seq_hi;
    uint64_t rows; /* batch rows written to the stream */
} rdm_predbatch;

void rdm_predbatch_init(rdm_predbatch *b);
void rdm_predbatch_release(rdm_predbatch *b);

/* Start a COPY stream in `out` (the binary header). */
int rdm_predbatch_begin(rdm_predbatch *b, rdm_buf *out) __attribute__((warn_unused_result));

/* Add one prediction of `model` from `writer` (request ids "<writer>-<seq>"). */
int rdm_predbatch_add(rdm_predbatch *b, const char *model, const char *writer, uint64_t seq,
                      const rdm_predbatch_item *it, rdm_buf *out)
    __attribute__((warn_unused_result));

/* Write the open batch and end the stream. */
int rdm_predbatch_end(rdm_predbatch *b, rdm_buf *out) __attribute__((warn_unused_result));

/* Write the open batch as a row of `out`, no trailer (rows as a queue holds
 * them: a stream of their own needs rdm_predbatch_frame around them). */
int rdm_predbatch_flush(rdm_predbatch *b, rdm_buf *out) __attribute__((warn_unused_result));

/* One row of such a stream (the rows between header and trailer, as a
 * queue file holds them): its length and what tells it from the others. */
typedef struct rdm_predbatch_row {
    size_t len; /* bytes of the row */
    int aside;  /* marked set aside (RDM_PREDBATCH_ASIDE): skip it */
    int fields; /* RDM_PREDBATCH_FIELDS, _V2 or _V1 (also for a row set aside) */
    uint32_t n; /* predictions */
    const char *writer;
    size_t writer_len;
    uint64_t seq_lo, seq_hi;
} rdm_predbatch_row;

/* The field count written over a row that was set aside (_V1, _V2: over
 * one of RDM_PREDBATCH_FIELDS_V1, _V2 fields): rdm_predbatch_aside_mark. */
#define RDM_PREDBATCH_ASIDE    0x585a
#define RDM_PREDBATCH_ASIDE_V2 0x5859
#define RDM_PREDBATCH_ASIDE_V1 0x5858
unsigned rdm_predbatch_aside_mark(int fields);

/* 1 with *r for the row at p[0..avail), 0 at the trailer, -1 when no whole
 * row of this layout is there (a torn end, or another kind of data). */
int rdm_predbatch_row_scan(const char *p, size_t avail, rdm_predbatch_row *r);

/* The row `row` (row_len bytes, as queued: n predictions) appended to `out`
 * as sql/monitor_copy_predictions.sql takes it: its fields (with NULL for
 * the fields an older row has not: input_keys of a RDM_PREDBATCH_FIELDS_V1
 * row, group_values and group_codes of _V1 and _V2), then one more field, its
 * prediction ids first, first + 1, ..., as an int8 array. */
int rdm_predbatch_row_ids(rdm_buf *out, const char *row, size_t row_len, uint32_t n, int64_t first)
    __attribute__((warn_unused_result));

/* The field count and what goes between a row's fields and its ids field
 * when sent (the NULL fields of an older row, above): a row
 * sent as count[2], its bytes after its count, gap[0..*gap_len), then the
 * ids field is the row above. */
void rdm_predbatch_send_shape(const rdm_predbatch_row *r, unsigned char count[2],
                              const unsigned char **gap, size_t *gap_len);

/* That last field alone (appended to `out`). */
int rdm_predbatch_ids_field(rdm_buf *out, uint32_t n, int64_t first)
    __attribute__((warn_unused_result));

/* The COPY stream's header (19 bytes) and trailer (2 bytes). */
#define RDM_PREDBATCH_HEADER  19
#define RDM_PREDBATCH_TRAILER 2
int rdm_predbatch_frame(rdm_buf *out, int trailer) __attribute__((warn_unused_result));

/* A one-dimensional array field of binary COPY output: rdm_pbarray_open()
 * checks the header (element type `oid`), then rdm_pbarray_next() gives each
 * element (data NULL for an SQL NULL). A NULL or empty array has n = 0. */
typedef struct rdm_pbarray {
    const unsigned char *p, *end;
    uint32_t n;
} rdm_pbarray;

int rdm_pbarray_open(rdm_pbarray *a, const unsigned char *data, size_t len, uint32_t oid);

/* 1 with the element in *data / *len, 0 at the end, -1 when malformed
 * (inline: the monitor calls it for every element of the log). */
static inline int rdm_pbarray_next(rdm_pbarray *a, const unsigned char **data, size_t *len)
{
    if (a->p == a->end)
        return 0;
    if (a->end - a->p < 4)
        return -1;
    uint32_t n =
        (uint32_t)a->p[0] << 24 | (uint32_t)a->p[1] << 16 | (uint32_t)a->p[2] << 8 | a->p[3];
    a->p += 4;
    if (n == UINT32_MAX) {
        *data = NULL;
        *len = 0;
        return 1;
    }
    if ((size_t)(a->end - a->p) < n)
        return -1;
    *data = a->p;
    *len = n;
    a->p += n;
    return 1;
}

#define RDM_OID_BYTEA       17
#define RDM_OID_INT8        20
#define RDM_OID_INT2        21
#define RDM_OID_INT4        23
#define RDM_OID_TEXT        25
#define RDM_OID_FLOAT8      701
#define RDM_OID_TIMESTAMPTZ 1184

#endif
