/* fuzz_model.c - libFuzzer target for the model-file loader (src/model.c and
 * the encoder, logreg and gbt sections it reads).
 *
 * Each input is loaded twice: as it is, and with its checksum line replaced
 * by the right one (so mutations get past the checksum to the sections). A
 * model that loads must score (an all-missing record and a record of known
 * levels and range minimums) to a probability in [0, 1] or fail with a
 * message, and must save to bytes that load again and save identically. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define CK_PREFIX "checksum sha256 "
#define CK_LINE   (sizeof CK_PREFIX - 1 + 64 + 1)

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_model: %s: %s\n", what, msg ? msg : "");
    abort();
}

static void check_score(const rdm_model *m, const char *const values[RDM_NCOLS])
{
    double p = -1;
    rdm_warnings w;
    rdm_err err = {0};
    int rc = rdm_model_score(m, values, &p, &w, &err);
    if (rc == RDM_OK) {
        if (!(p >= 0 && p <= 1))
            fail("probability outside [0, 1]", rdm_model_type_name(m));
        if (w.n < 0 || w.n > RDM_MAX_WARNINGS)
            fail("bad warning count", rdm_model_type_name(m));
    } else if (!err.msg[0]) {
        fail("scoring error without a message", rdm_model_type_name(m));
    }
}

static void check_model(const rdm_model *m)
{
    if (!rdm_model_type_name(m))
        fail("no type name", "");
    const char *values[RDM_NCOLS] = {0};
    check_score(m, values);
    char num[RDM_NCOLS][32];
    for (int i = 0; i < rdm_model_input_count(m); i++) {
        const rdm_input_field *f = rdm_model_input(m, i);
        if (!f || f->col < 0 || f->col >= RDM_NCOLS || !f->name)
            fail("bad input field", f && f->name ? f->name : "");
        if (f->categorical) {
            values[f->col] = f->levels && f->levels[0] ? f->levels[0] : NULL;
        } else {
            snprintf(num[f->col], sizeof num[f->col], "%.0f", isfinite(f->min) ? f->min : 0);
            values[f->col] = num[f->col];
        }
    }
    check_score(m, values);

    rdm_buf a = RDM_BUF_INIT, b = RDM_BUF_INIT;
    rdm_err err = {0};
    if (rdm_model_save_bytes(m, &a, &err) != RDM_OK)
        fail("a loaded model does not save", err.msg);
    rdm_model *m2 = rdm_model_load_bytes(a.data, a.len, &err);
    if (!m2)
        fail("a saved model does not load again", err.msg);
    if (rdm_model_save_bytes(m2, &b, &err) != RDM_OK)
        fail("a reloaded model does not save", err.msg);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        fail("save, load, save changed the bytes", rdm_model_type_name(m));
    rdm_model_free(m2);
    rdm_buf_release(&a);
    rdm_buf_release(&b);
}

static void load(const uint8_t *data, size_t size)
{
    rdm_err err = {0};
    rdm_model *m = rdm_model_load_bytes(data, size, &err);
    if (!m) {
        if (!err.msg[0] || (strstr(err.msg, "(null)") && !memmem(data, size, "(null)", 6)))
            fail("bad error message", err.msg);
        return;
    }
    check_model(m);
    rdm_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);

    /* the body with a checksum that matches */
    size_t body = size;
    if (size >= CK_LINE && memcmp(data + size - CK_LINE, CK_PREFIX, sizeof CK_PREFIX - 1) == 0)
        body = size - CK_LINE;
    rdm_buf b = RDM_BUF_INIT;
    char hex[65];
    if (rdm_buf_add(&b, data, body) || (body && data[body - 1] != '\n' && rdm_buf_addc(&b, '\n')))
        fail("out of memory", "");
    rdm_sha256_hex(b.data, b.len, hex);
    if (rdm_buf_printf(&b, CK_PREFIX "%s\n", hex))
        fail("out of memory", "");
    load((const uint8_t *)b.data, b.len);
    rdm_buf_release(&b);
    return 0;
}
