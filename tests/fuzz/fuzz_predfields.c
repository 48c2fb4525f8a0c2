/* fuzz_predfields.c - libFuzzer target for the prediction log's scan of a
 * served body (src/predfields.c), the writer's hot path: the input is a
 * primer and a body, split at the first NUL byte (no NUL: the body alone).
 *
 * The primer is scanned first with a keyless buffer, so that the body meets
 * whatever template of keys the primer left. The body is then scanned with
 * that buffer, with a fresh one and without one, as one record and as a
 * batch of 1 to 4 records: every way must agree (taken or declined, the five
 * fields, where each record lies, the keyless values and keys byte for
 * byte). When the API's fast parser takes the body, the layout it gives
 * (rdm_api_parse_predict_layout) must be read (rdm_predfields_layout) to
 * what the scan of the body gives. Each body sits in an allocation of
 * exactly its length and a NUL, so a read past it is an AddressSanitizer
 * error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "predfields.h"

#define MAX_RECORDS 4

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_predfields: %s\n", what);
    abort();
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void same_fields(const rdm_predfields *a, const rdm_predkeyless *ka, const rdm_predfields *b,
                        const rdm_predkeyless *kb)
{
    if (strcmp(a->id, b->id) || !same_str(a->patient, b->patient) || !same_str(a->race, b->race) ||
        !same_str(a->gender, b->gender) || !same_str(a->age, b->age))
        fail("the logged fields differ");
    if (!ka || !kb)
        return;
    if (a->keyless != b->keyless)
        fail("one scan gives a keyless form, the other none");
    if (!a->keyless)
        return;
    if (a->nkeys != b->nkeys || a->vals_len != b->vals_len || a->keys_len != b->keys_len ||
        memcmp(ka->vals.data + a->vals_off, kb->vals.data + b->vals_off, a->vals_len) ||
        memcmp(ka->keys.data + a->keys_off, kb->keys.data + b->keys_off, a->keys_len))
        fail("the keyless forms differ");
}

static char *copy(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        fail("out of memory");
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *z = memchr(data, 0, size);
    const size_t na = z ? (size_t)(z - data) : 0;
    const size_t nb = z ? size - na - 1 : size;
    char *a = copy(data, na), *b = copy(z ? z + 1 : data, nb);
    rdm_predkeyless kl = RDM_PREDKEYLESS_INIT;
    static rdm_predfields pa, p0, p1, p2;
    (void)rdm_predfields_scan_keyless(a, na, &pa, &kl);

    /* as one record */
    rdm_predkeyless fresh = RDM_PREDKEYLESS_INIT;
    rdm_buf_reset(&kl.vals), rdm_buf_reset(&kl.keys);
    int r0 = rdm_predfields_scan(b, nb, &p0);
    int r1 = rdm_predfields_scan_keyless(b, nb, &p1, &kl);
    int r2 = rdm_predfields_scan_keyless(b, nb, &p2, &fresh);
    if (r0 != r1 || r1 != r2)
        fail("the single-record scans disagree on taking the body");
    if (r1) {
        same_fields(&p1, &kl, &p2, &fresh);
        same_fields(&p0, NULL, &p1, NULL);
    }
    rdm_predkeyless_release(&fresh);

    /* as a batch */
    static rdm_predfields f1[MAX_RECORDS], f2[MAX_RECORDS];
    size_t at1[MAX_RECORDS], len1[MAX_RECORDS], at2[MAX_RECORDS], len2[MAX_RECORDS];
    for (size_t want = 1; want <= MAX_RECORDS; want++) {
        rdm_predkeyless one = RDM_PREDKEYLESS_INIT;
        rdm_buf_reset(&kl.vals), rdm_buf_reset(&kl.keys);
        int q1 = rdm_predfields_batch(b, nb, want, at1, len1, f1, &kl);
        int q2 = rdm_predfields_batch(b, nb, want, at2, len2, f2, &one);
        if (q1 != q2)
            fail("the batch scans disagree on taking the body");
        for (size_t k = 0; q1 && k < want; k++) {
            if (at1[k] != at2[k] || len1[k] != len2[k] || at1[k] + len1[k] > nb)
                fail("the batch scans place a record differently");
            same_fields(&f1[k], &kl, &f2[k], &one);
        }
        rdm_predkeyless_release(&one);
    }

    /* the parser's layout, where it gives one, read as the scan reads the body */
    rdm_api_request req;
    rdm_api_error e;
    rdm_buf lay = RDM_BUF_INIT;
    if (rdm_api_parse_predict_layout(b, nb, MAX_RECORDS, &req, &e, &lay) == RDM_HTTP_OK) {
        const size_t want = req.n;
        const int batch = req.batch;
        rdm_api_request_release(&req);
        if (lay.len) {
            rdm_predkeyless ly = RDM_PREDKEYLESS_INIT, sc = RDM_PREDKEYLESS_INIT;
            if (want < 1 || want > MAX_RECORDS ||
                !rdm_predfields_layout(b, nb, lay.data, lay.len, want, batch, at1, len1, f1, &ly))
                fail("the parser's layout is not read");
            if (rdm_predfields_layout(b, nb, lay.data, lay.len, want, !batch, at2, len2, f2, &sc))
                fail("the layout says batch or not otherwise than the parser");
            int q = batch ? rdm_predfields_batch(b, nb, want, at2, len2, f2, &sc)
                          : rdm_predfields_scan_keyless(b, nb, &f2[0], &sc);
            if (!q)
                fail("the scan declines a body the layout describes");
            for (size_t k = 0; k < want; k++) {
                if (batch && (at1[k] != at2[k] || len1[k] != len2[k]))
                    fail("the layout places a record otherwise than the scan");
                same_fields(&f1[k], &ly, &f2[k], &sc);
            }
            rdm_predkeyless_release(&ly);
            rdm_predkeyless_release(&sc);
        }
    } else if (lay.len) {
        fail("a layout of a body the parser refused");
    }
    rdm_buf_release(&lay);
    rdm_predkeyless_release(&kl);
    free(a);
    free(b);
    return 0;
}
