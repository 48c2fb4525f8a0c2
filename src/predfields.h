/* predfields.h - the fields the prediction log stores beside a request's
 * input (encounter_id, patient_nbr, race, gender, age), read from a served
 * single-record body without parsing the rest of it.
 *
 * The body was parsed and validated when it was served; the log writer needs
 * only these five values again, as rdm_api_parse_predict() gives them. The
 * scan takes them when every one of them is a plain token (a string of
 * printable ASCII without escapes, a non-negative integer of at most 15
 * digits, or null), the body one flat object and no key escaped; then the
 * values are the parser's. Anything else (a batch, escapes or other bytes in
 * those values, a real, nesting, a duplicate, a syntax error) returns 0 and
 * the caller parses the body in full. */
#ifndef RDM_PREDFIELDS_H
#define RDM_PREDFIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

typedef struct rdm_predfields {
    /* with a keyless buffer: the record's keyless form (predbatch.h,
     * migration 015), when every value is a string without a control byte
     * or null: `keyless` 1, its values at kl->vals.data + vals_off (byte
     * 0x1f before each value, a null as 0x1f 0x1e) and its keys at
     * kl->keys.data + keys_off (each a 4-byte big-endian length and its
     * bytes: the elements of a binary text[]) */
    int keyless;
    uint32_t nkeys;
    size_t vals_off, vals_len, keys_off, keys_len;
    char id[48];         /* encounter_id as rdm_api_record.id holds it ("" = not sent) */
    const char *patient; /* values[RDM_C_PATIENT_NBR] of the parser (NULL = missing) */
    const char *race, *gender, *age;
    char text[4 * (RDM_API_MAX_VALUE + 1)]; /* the values above point here */
} rdm_predfields;

/* 1 with `out` filled, or 0: parse the body in full instead. `body` must be
 * NUL-terminated at `len` (as the log's entries are); one with a NUL before
 * `len` is declined. */
int rdm_predfields_scan(const char *body, size_t len, rdm_predfields *out);

/* Where the scans write the records' keyless forms (see rdm_predfields):
 * appended to what vals and keys hold. Owned by the caller: zero it
 * (RDM_PREDKEYLESS_INIT), reset vals and keys between bodies as it likes,
 * release it with rdm_predkeyless_release. It also keeps the keys of the
 * last record scanned (tkeys, one field id per key in tfields, ntkeys), kept
 * across resets: a record with the same keys (the records of a batch, the
 * bodies of one client) is matched against them instead of read key by key;
 * any other is read in full. */
typedef struct rdm_predkeyless {
    rdm_buf vals, keys;
    rdm_buf tkeys, tfields, fields; /* fields: scratch of the record being scanned */
    uint32_t ntkeys;
    /* rdm_predfields_layout: the columns of the last record read from a
     * layout (one byte each) and their keys as `keys` holds them */
    rdm_buf lcols, lkeys;
} rdm_predkeyless;

#define RDM_PREDKEYLESS_INIT                                                                   \
    {                                                                                          \
        RDM_BUF_INIT, RDM_BUF_INIT, RDM_BUF_INIT, RDM_BUF_INIT, RDM_BUF_INIT, 0, RDM_BUF_INIT, \
            RDM_BUF_INIT                                                                       \
    }

void rdm_predkeyless_release(rdm_predkeyless *kl);

/* rdm_predfields_scan() that also gives the record's keyless form in `kl`
 * (NULL: none; out->keyless 0 when it has none or memory ran out). */
int rdm_predfields_scan_keyless(const char *body, size_t len, rdm_predfields *out,
                                rdm_predkeyless *kl);

/* The `want` records of a batch body b[0..n) ({"instances": [...]}, other
 * keys beside it): where each lies (b + at[k], len[k] bytes) and its fields
 * (out[k]), as rdm_predfields_scan() gives them for that record alone, in
 * one pass over the body. 1 when the body has no backslash and no NUL and
 * exactly `want` records, each a flat object the scan takes; else 0 (the
 * caller then takes the records apart another way). With `kl` (may be
 * NULL) each record's keyless form too, as rdm_predfields_scan_keyless(). */
int rdm_predfields_batch(const char *b, size_t n, size_t want, size_t *at, size_t *len,
                         rdm_predfields *out, rdm_predkeyless *kl);

/* The `want` records of a served body b[0..n) as the API's parser
 * described them (its layout, lay[0..lay_len): rdm_api_parse_predict_layout)
 * instead of scanned: where each lies (at, len), its fields (out) and with
 * kl its keyless form, as rdm_predfields_batch() gives them for a batch
 * (`batch` 1) and rdm_predfields_scan_keyless() for a single record (0).
 * 1 when the layout is whole, of that kind of body and fits the body
 * (exactly `want` records, each value inside its record, each string
 * between quotes) and every record's fields are ones the scan takes; else
 * 0 (scan the body), with nothing left in kl. */
int rdm_predfields_layout(const char *b, size_t n, const char *lay, size_t lay_len, size_t want,
                          int batch, size_t *at, size_t *len, rdm_predfields *out,
                          rdm_predkeyless *kl);

/* Predictions in a response body: one per "probability" key. */
uint32_t rdm_predresp_rows(const char *r, size_t n);

/* The next prediction of a response r[0..n) from *pos (0 first): the first
 * "probability" key from there, and after it the first "decision" (true
 * when its value starts with 't') and "threshold" (0 without one); numbers
 * as strtod reads them. *pos is moved past the probability's key. 0 when
 * there is no further "probability" key. */
int rdm_predresp_next(const char *r, size_t n, size_t *pos, double *p, int *d, double *thr);

#endif
