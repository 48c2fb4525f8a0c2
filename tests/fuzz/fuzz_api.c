/* fuzz_api.c - libFuzzer target for the JSON request parser and handler
 * (src/api.c): the input is a POST /api/v1/predict body.
 *
 * It goes through rdm_api_predict, the function the FastCGI worker calls,
 * for each seed model of tests/fuzz/corpus/model (baseline, logreg, gbt;
 * READMIT_FUZZ_MODELS names another directory), with the model's explainer
 * or without one. The status must be 200, 400,
 * 413 or 422 and the body well-formed JSON (an error body carrying the same
 * status and a code). The fast parser and the jansson parser must agree on
 * the status and, when both accept, on every record. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "explain.h"

#define MAX_INSTANCES 8

static const char *const MODELS[] = {"baseline", "logreg", "gbt"};
static rdm_model *models[3];
static rdm_explainer *explainers[3];

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_api: %s: %s\n", what, msg ? msg : "");
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("READMIT_FUZZ_MODELS");
    if (!dir || !*dir)
        dir = "tests/fuzz/corpus/model";
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, MODELS[i]);
        rdm_err err = {0};
        if (!(models[i] = rdm_model_load_file(path, &err)))
            fail("cannot load a model (run from the repository root)", err.msg);
        if (!(explainers[i] = rdm_explainer_create(models[i], &err)))
            fail("cannot build an explainer", err.msg);
    }
    return 0;
}

static void check_body(const rdm_buf *out, int st, const char *model)
{
    json_error_t je;
    json_t *j = json_loadb(out->data ? out->data : "", out->len, 0, &je);
    if (!j)
        fail("the response is not JSON", je.text);
    if (st != RDM_HTTP_OK) {
        json_t *e = json_object_get(j, "error");
        if (json_integer_value(json_object_get(e, "status")) != st ||
            !json_is_string(json_object_get(e, "code")))
            fail("error body without its status and code", model);
    } else if (!json_is_object(j)) {
        fail("a 200 body is not an object", model);
    }
    json_decref(j);
}

static void compare_parsers(const char *body, size_t len)
{
    rdm_api_request a = RDM_API_REQUEST_INIT, b = RDM_API_REQUEST_INIT;
    rdm_api_error ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    int sa = rdm_api_parse_predict(body, len, MAX_INSTANCES, &a, &ea);
    int sb = rdm_api_parse_predict_jansson(body, len, MAX_INSTANCES, &b, &eb);
    if (sa != sb) {
        fprintf(stderr, "fast %d %s, jansson %d %s\n", sa, ea.code, sb, eb.code);
        fail("the two parsers disagree on the status", "");
    }
    if (sa == RDM_HTTP_OK) {
        if (a.n != b.n || a.batch != b.batch || a.explain != b.explain)
            fail("the two parsers disagree on the records", "");
        for (size_t i = 0; i < a.n; i++) {
            if (strcmp(a.recs[i].id, b.recs[i].id) != 0)
                fail("the two parsers disagree on an encounter_id", a.recs[i].id);
            for (int c = 0; c < RDM_NCOLS; c++) {
                const char *x = a.recs[i].values[c], *y = b.recs[i].values[c];
                if ((!x != !y) || (x && strcmp(x, y) != 0))
                    fail("the two parsers disagree on a value", x ? x : y);
            }
        }
    } else if (!ea.code[0] || !eb.code[0]) {
        fail("a parse error without a code", "");
    }
    rdm_api_request_release(&a);
    rdm_api_request_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    compare_parsers(body, size);
    for (int i = 0; i < 3; i++) {
        /* the explainer as the worker has it, or none (built per request) */
        rdm_api_model am = {
            models[i], "readmission", "1", "champion", "", size % 2 ? explainers[i] : NULL, NULL};
        rdm_buf out = RDM_BUF_INIT;
        int st = rdm_api_predict(&am, body, size, MAX_INSTANCES, &out);
        if (st != RDM_HTTP_OK && st != RDM_HTTP_BAD_REQUEST && st != RDM_HTTP_TOO_LARGE &&
            st != RDM_HTTP_UNPROCESSABLE) {
            fprintf(stderr, "status %d: %.300s\n", st, out.data ? out.data : "");
            fail("unexpected status", MODELS[i]);
        }
        check_body(&out, st, MODELS[i]);
        rdm_buf_release(&out);
    }
    return 0;
}
