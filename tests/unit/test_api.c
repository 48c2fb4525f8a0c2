/* test_api.c - the HTTP API bodies: request parsing and validation, response
 * building, every error case, and a corpus of hostile bodies (run under ASan
 * by make check-asan). */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "csv.h"
#include "encode.h"
#include "gbt.h"
#include "model.h"
#include "readmit.h"
#include "schema.h"
#include "synth.h"

#define BAD_DIR "data/bad-bodies"

int test_api_register(void);

static int col(const char *name)
{
    return rdm_schema_find(name);
}

/* Parse `body`; return the status and leave the request in *req. */
static int parse(const char *body, long max, rdm_api_request *req, rdm_api_error *e)
{
    memset(e, 0, sizeof *e);
    return rdm_api_parse_predict(body, strlen(body), max, req, e);
}

/* A baseline model that always answers 0.25, threshold 0.5 (no encoder: reads
 * every feature column, rejects unusable integers). */
static rdm_model *baseline(double p, double thr)
{
    return rdm_model_create(RDM_MODEL_BASELINE, NULL, NULL, p, thr, NULL);
}

/* ---- parsing ---- */

static void test_parse_single(void)
{
    rdm_api_request req;
    rdm_api_error e;
    int st = parse("{\"encounter_id\": 42, \"race\": \"Caucasian\", \"age\": \"[70-80)\", "
                   "\"time_in_hospital\": 5, \"num_lab_procedures\": \"41\", \"weight\": \"?\", "
                   "\"payer_code\": null, \"diag_1\": 250.83, \"medical_specialty\": \"\"}",
                   10, &req, &e);
    CU_ASSERT_EQUAL_FATAL(st, 200);
    CU_ASSERT_EQUAL(req.n, 1);
    CU_ASSERT_EQUAL(req.batch, 0);
    const rdm_api_record *r = &req.recs[0];
    CU_ASSERT_STRING_EQUAL(r->id, "42");
    CU_ASSERT_STRING_EQUAL(r->values[col("race")], "Caucasian");
    CU_ASSERT_STRING_EQUAL(r->values[col("age")], "[70-80)");
    CU_ASSERT_STRING_EQUAL(r->values[col("time_in_hospital")], "5");
    CU_ASSERT_STRING_EQUAL(r->values[col("num_lab_procedures")], "41");
    CU_ASSERT_STRING_EQUAL(r->values[col("diag_1")], "250.83");
    CU_ASSERT_PTR_NULL(r->values[col("weight")]);            /* "?" */
    CU_ASSERT_PTR_NULL(r->values[col("payer_code")]);        /* null */
    CU_ASSERT_PTR_NULL(r->values[col("medical_specialty")]); /* "" */
    CU_ASSERT_PTR_NULL(r->values[col("gender")]);            /* absent */
    CU_ASSERT_PTR_NULL(r->values[RDM_C_ENCOUNTER_ID]);       /* never a feature */
    rdm_api_request_release(&req);
    rdm_api_request_release(&req); /* idempotent */
}

static void test_parse_batch(void)
{
    rdm_api_request req;
    rdm_api_error e;
    int st = parse("{\"instances\": [{\"encounter_id\": \"a\\\"b\", \"number_inpatient\": 3}, {}, "
                   "{\"gender\": \"Male\", \"number_inpatient\": 0}]}",
                   3, &req, &e);
    CU_ASSERT_EQUAL_FATAL(st, 200);
    CU_ASSERT_EQUAL(req.n, 3);
    CU_ASSERT_EQUAL(req.batch, 1);
    CU_ASSERT_STRING_EQUAL(req.recs[0].id, "\"a\\\"b\""); /* kept as JSON text */
    CU_ASSERT_STRING_EQUAL(req.recs[0].values[col("number_inpatient")], "3");
    CU_ASSERT_STRING_EQUAL(req.recs[1].id, "");
    for (int c = 0; c < RDM_NCOLS; c++)
        CU_ASSERT_PTR_NULL(req.recs[1].values[c]);
    CU_ASSERT_STRING_EQUAL(req.recs[2].values[col("gender")], "Male");
    CU_ASSERT_STRING_EQUAL(req.recs[2].values[col("number_inpatient")], "0");
    rdm_api_request_release(&req);
}

/* Many numbers in one batch: the arena that holds them grows and moves. */
static void test_parse_batch_numbers(void)
{
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "{\"instances\":["), RDM_OK);
    for (int i = 0; i < 500; i++)
        CU_ASSERT_EQUAL_FATAL(rdm_buf_printf(&b, "%s{\"num_medications\": %d, \"diag_2\": %d.5}",
                                             i ? "," : "", i % 150, i),
                              RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "]}"), RDM_OK);
    rdm_api_request req;
    rdm_api_error e;
    CU_ASSERT_EQUAL_FATAL(parse(b.data, 1000, &req, &e), 200);
    CU_ASSERT_EQUAL(req.n, 500);
    char want[32];
    for (int i = 0; i < 500; i++) {
        snprintf(want, sizeof want, "%d", i % 150);
        CU_ASSERT_STRING_EQUAL(req.recs[i].values[col("num_medications")], want);
        snprintf(want, sizeof want, "%d.5", i);
        CU_ASSERT_STRING_EQUAL(req.recs[i].values[col("diag_2")], want);
    }
    rdm_api_request_release(&req);
    rdm_buf_release(&b);
}

/* One failing body: expected status, code and field ("" = null). */
typedef struct bad_case {
    const char *body;
    long max;
    int status;
    const char *code;
    const char *field;
} bad_case;

static void test_parse_errors(void)
{
    static const bad_case cases[] = {
        {"", 10, 400, "malformed_json", ""},
        {"{\"age\": ", 10, 400, "malformed_json", ""},
        {"{\"age\": \"[70-80)\"} trailing", 10, 400, "malformed_json", ""},
        {"{\"age\": \"a\", \"age\": \"b\"}", 10, 400, "malformed_json", ""}, /* duplicate key */
        {"[1, 2]", 10, 422, "wrong_type", ""},
        {"\"text\"", 10, 422, "wrong_type", ""},
        {"{\"foo\": 1}", 10, 422, "unknown_field", "foo"},
        {"{\"Age\": \"[70-80)\"}", 10, 422, "unknown_field", "Age"},
        {"{\"age\": 7}", 10, 422, "wrong_type", "age"},
        {"{\"race\": true}", 10, 422, "wrong_type", "race"},
        {"{\"race\": [\"Caucasian\"]}", 10, 422, "wrong_type", "race"},
        {"{\"race\": {\"v\": 1}}", 10, 422, "wrong_type", "race"},
        {"{\"time_in_hospital\": \"abc\"}", 10, 422, "wrong_type", "time_in_hospital"},
        {"{\"time_in_hospital\": 3.5}", 10, 422, "wrong_type", "time_in_hospital"},
        {"{\"time_in_hospital\": 0}", 10, 422, "out_of_range", "time_in_hospital"},
        {"{\"time_in_hospital\": 15}", 10, 422, "out_of_range", "time_in_hospital"},
        {"{\"time_in_hospital\": \"15\"}", 10, 422, "out_of_range", "time_in_hospital"},
        {"{\"num_lab_procedures\": -1}", 10, 422, "out_of_range", "num_lab_procedures"},
        {"{\"num_lab_procedures\": 1e300}", 10, 422, "out_of_range", "num_lab_procedures"},
        {"{\"admission_type_id\": 100}", 10, 422, "out_of_range", "admission_type_id"},
        {"{\"encounter_id\": [1]}", 10, 422, "wrong_type", "encounter_id"},
        {"{\"instances\": {}}", 10, 422, "wrong_type", "instances"},
        {"{\"instances\": []}", 10, 422, "empty_batch", "instances"},
        {"{\"instances\": [{}, {}, {}]}", 2, 422, "too_many_instances", "instances"},
        {"{\"instances\": [{}], \"model\": 1}", 10, 422, "unknown_field", "model"},
        {"{\"instances\": [{}, 5]}", 10, 422, "wrong_type", "instances[1]"},
        {"{\"instances\": [{}, {\"foo\": 1}]}", 10, 422, "unknown_field", "instances[1].foo"},
        {"{\"instances\": [{\"age\": 1}]}", 10, 422, "wrong_type", "instances[0].age"},
        {"{\"instances\": [{\"instances\": []}]}", 10, 422, "wrong_type", "instances[0].instances"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rdm_api_request req;
        rdm_api_error e;
        int st = parse(cases[i].body, cases[i].max, &req, &e);
        if (st != cases[i].status || strcmp(e.code, cases[i].code) != 0 ||
            strcmp(e.field, cases[i].field) != 0)
            fprintf(stderr, "\ncase %zu %s: got %d %s field '%s' (%s)\n", i, cases[i].body, st,
                    e.code, e.field, e.message);
        CU_ASSERT_EQUAL(st, cases[i].status);
        CU_ASSERT_STRING_EQUAL(e.code, cases[i].code);
        CU_ASSERT_STRING_EQUAL(e.field, cases[i].field);
        CU_ASSERT_EQUAL(e.status, cases[i].status);
        CU_ASSERT_PTR_NULL(req.recs); /* left empty on failure */
        CU_ASSERT_PTR_NULL(req.json);
        if (cases[i].field[0]) {
            CU_ASSERT_PTR_NOT_NULL(strstr(e.message, cases[i].field));
        }
    }
}

/* Malformed JSON reports where: byte offsets worked out by hand. */
static void test_parse_position(void)
{
    static const struct {
        const char *body;
        int status;
        long position; /* -1: none */
        const char *in_message;
    } cases[] = {
        /* 16 bytes, the object never closes: the error is at the end */
        {"{\"age\":\"[70-80)\"", 400, 16, "byte 16"},
        /* "x" at byte 8 is not a value; jansson has read it when it fails */
        {"{\"age\": x}", 400, 9, "byte 9"},
        /* not malformed: no position */
        {"{\"foo\": 1}", 422, -1, "foo"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rdm_api_request req;
        rdm_api_error e;
        CU_ASSERT_EQUAL(parse(cases[i].body, 10, &req, &e), cases[i].status);
        CU_ASSERT_EQUAL(e.position, cases[i].position);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.message, cases[i].in_message));
    }
}

/* ---- responses ---- */

static json_t *load_json(const rdm_buf *b)
{
    json_error_t je;
    json_t *j = json_loadb(b->data, b->len, 0, &je);
    if (!j)
        fprintf(stderr, "\nnot JSON (%s): %.*s\n", je.text, (int)b->len, b->data);
    return j;
}

/* The error body: {"error": {"status", "code", "message", "field"}}. */
static void check_error_body(const rdm_buf *b, int status, const char *code, const char *field)
{
    json_t *j = load_json(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *err = json_object_get(j, "error");
    CU_ASSERT_TRUE_FATAL(json_is_object(err));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(err, "status")), status);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json_string_value(json_object_get(err, "code")));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(err, "code")), code);
    CU_ASSERT_TRUE(json_is_string(json_object_get(err, "message")));
    json_t *f = json_object_get(err, "field");
    if (field) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(json_string_value(f));
        CU_ASSERT_STRING_EQUAL(json_string_value(f), field);
    } else {
        CU_ASSERT_TRUE(json_is_null(f));
    }
    json_decref(j);
}

static void test_predict_single(void)
{
    rdm_model *m = baseline(0.25, 0.5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_api_model am = {m, "readmission", "7", "champion", "", NULL, NULL};
    rdm_buf out = RDM_BUF_INIT;
    const char *body = "{\"encounter_id\": 1234, \"age\": \"[50-60)\", \"time_in_hospital\": 2}";
    CU_ASSERT_EQUAL(rdm_api_predict(&am, body, strlen(body), 10, &out), 200);
    json_t *j = load_json(&out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(j, "model"), "name")),
                           "readmission");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(j, "model"), "version")), "7");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "encounter_id")), 1234);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(j, "probability")), 0.25, 1e-9);
    CU_ASSERT_TRUE(json_is_false(json_object_get(j, "decision"))); /* 0.25 < 0.5 */
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(j, "threshold")), 0.5, 1e-9);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "warnings")), 0);
    json_decref(j);
    rdm_buf_release(&out);
    rdm_model_free(m);

    /* at the threshold the decision is positive: 0.25 >= 0.25 */
    m = baseline(0.25, 0.25);
    am.model = m;
    CU_ASSERT_EQUAL(rdm_api_predict(&am, "{}", 2, 10, &out), 200);
    j = load_json(&out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_TRUE(json_is_true(json_object_get(j, "decision")));
    CU_ASSERT_PTR_NULL(json_object_get(j, "encounter_id")); /* not sent, not echoed */
    json_decref(j);
    rdm_buf_release(&out);
    rdm_model_free(m);
}

/* The probability is written as printf("%.6f") writes it and the threshold
 * as "%.6g", including values next to a rounding tie. */
static void test_predict_number_text(void)
{
    static const struct {
        double p;
        const char *text;
    } cases[] = {
        {0.25, "0.250000"},        {0.0, "0.000000"},       {1.0, "1.000000"},
        {0.123456789, "0.123457"}, {0.9999996, "1.000000"}, {0.0000004, "0.000000"},
        {0.0000006, "0.000001"},   {0.5, "0.500000"},       {1.0 / 3.0, "0.333333"},
    };

    rdm_buf out = RDM_BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rdm_model *m = baseline(cases[i].p, 0.137884123);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rdm_api_model am = {m, "readmission", "7", "champion", "", NULL, NULL};
        rdm_buf_reset(&out);
        CU_ASSERT_EQUAL(rdm_api_predict(&am, "{}", 2, 10, &out), 200);
        char want[160];
        snprintf(want, sizeof want, "\"probability\":%s,\"decision\":%s,\"threshold\":0.137884,",
                 cases[i].text, cases[i].p >= 0.137884123 ? "true" : "false");
        CU_ASSERT_PTR_NOT_NULL(strstr(out.data, want));
        rdm_model_free(m);
    }
    /* near ties and random values: the same text as printf */
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double p = i < 2000 ? ((double)(i % 1000) + 0.5) / 1e6 + (i < 1000 ? 0.0 : 1e-12)
                            : (double)(x >> 11) / 9007199254740992.0;
        rdm_model *m = baseline(p, 0.5);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rdm_api_model am = {m, "readmission", "7", "champion", "", NULL, NULL};
        rdm_buf_reset(&out);
        CU_ASSERT_EQUAL_FATAL(rdm_api_predict(&am, "{}", 2, 10, &out), 200);
        char want[80];
        snprintf(want, sizeof want, "\"probability\":%.6f,", p);
        if (!strstr(out.data, want)) {
            CU_FAIL("probability text differs from printf");
            rdm_model_free(m);
            break;
        }
        rdm_model_free(m);
    }
    rdm_buf_release(&out);
}

static void test_predict_batch(void)
{
    rdm_model *m = baseline(0.75, 0.5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_api_model am = {m, "readmission", "2", "champion", "", NULL, NULL};
    rdm_buf out = RDM_BUF_INIT;
    const char *body = "{\"instances\": [{\"encounter_id\": \"e1\"}, {\"encounter_id\": 2}]}";
    CU_ASSERT_EQUAL(rdm_api_predict(&am, body, strlen(body), 10, &out), 200);
    json_t *j = load_json(&out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *p = json_object_get(j, "predictions");
    CU_ASSERT_EQUAL_FATAL(json_array_size(p), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(p, 0), "encounter_id")),
                           "e1");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(p, 1), "encounter_id")), 2);
    for (int i = 0; i < 2; i++) {
        json_t *r = json_array_get(p, (size_t)i);
        CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(r, "probability")), 0.75, 1e-9);
        CU_ASSERT_TRUE(json_is_true(json_object_get(r, "decision")));
        CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(r, "threshold")), 0.5, 1e-9);
    }
    json_decref(j);
    rdm_buf_release(&out);
    rdm_model_free(m);
}

/* A batch is scored a block at a time: on a boosted-trees model, each
 * prediction of a batch of 70 (more than one block) is the text the same
 * record gets alone and the text of rdm_model_score's probability, with the
 * same warnings (an unseen race in some records). */
static void test_predict_batch_gbt(void)
{
    enum { NR = 300, NB = 70 };

    rdm_buf text = RDM_BUF_INIT, body = RDM_BUF_INIT, one = RDM_BUF_INIT, out = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_synth_buf(NR, 5, 0, &text, NULL), RDM_OK);
    rdm_csv *csv = rdm_csv_open_mem(text.data, text.len, 0, NULL);
    CU_ASSERT_FATAL(csv && rdm_csv_read_header(csv, NULL) == RDM_OK);
    char **cells = calloc(NR * RDM_NCOLS, sizeof *cells);
    float *y = calloc(NR, sizeof *y);
    CU_ASSERT_FATAL(cells && y);
    rdm_csv_record rec;
    size_t n = 0;
    while (n < NR && rdm_csv_next(csv, &rec, NULL) == 1)
        if (rec.nfields == RDM_NCOLS && !rec.problem) {
            for (int c = 0; c < RDM_NCOLS; c++)
                cells[n * RDM_NCOLS + c] = strdup(rec.fields[c]);
            y[n] = strcmp(rec.fields[RDM_C_READMITTED], "<30") == 0;
            n++;
        }
    rdm_csv_free(csv);
    CU_ASSERT_FATAL(n == NR);
    const char *const *cc = (const char *const *)cells;
    rdm_encoder *e = rdm_encoder_fit(cc, NULL, NR, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    int d = rdm_encoder_tree_dim(e);
    float *X = malloc((size_t)NR * (size_t)d * sizeof *X);
    CU_ASSERT_FATAL(X && rdm_encoder_tree_matrix(e, cc, NULL, NR, X, NULL) == RDM_OK);
    rdm_gbt_params gp;
    rdm_gbt_params_default(&gp);
    gp.max_iter = 12;
    gp.early_stopping = 0;
    gp.min_child_weight = 1;
    gp.threads = 1;
    rdm_gbt *g =
        rdm_gbt_fit(X, y, NR, d, rdm_encoder_tree_ncat(e), NULL, NULL, 0, &gp, NULL, NULL, NULL);
    free(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    rdm_model *m = rdm_model_create(RDM_MODEL_GBT, e, g, 0, 0.2, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_api_model am = {m, "readmission", "4", "champion", "", NULL, NULL};
    for (int i = 3; i < NB; i += 9) { /* not seen in training: a warning */
        free(cells[i * RDM_NCOLS + col("race")]);
        cells[i * RDM_NCOLS + col("race")] = strdup("Martian");
    }
    /* records as JSON objects of strings (the fields the model reads) */
    const rdm_column *sc = rdm_schema_columns();
    int rc = rdm_buf_adds(&body, "{\"instances\":[");
    for (int i = 0; i < NB && !rc; i++) {
        rdm_buf_reset(&one);
        rc = rdm_buf_printf(&one, "{\"encounter_id\":%d", i);
        for (int c = 0; c < RDM_NCOLS && !rc; c++)
            if (rdm_encoder_uses(e, c))
                rc = rdm_buf_printf(&one, ",\"%s\":\"%s\"", sc[c].name, cells[i * RDM_NCOLS + c]);
        if (!rc)
            rc = rdm_buf_printf(&body, "%s%s}", i ? "," : "", one.data);
    }
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&body, "]}"), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_api_predict(&am, body.data, body.len, 1000, &out), 200);
    json_t *j = load_json(&out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *preds = json_object_get(j, "predictions");
    CU_ASSERT_EQUAL_FATAL(json_array_size(preds), NB);
    int warned = 0;
    for (int i = 0; i < NB; i++) {
        /* the record alone */
        rdm_buf_reset(&one);
        rdm_buf_reset(&out);
        CU_ASSERT_EQUAL_FATAL(rdm_buf_printf(&one, "{\"encounter_id\":%d", i), RDM_OK);
        for (int c = 0; c < RDM_NCOLS; c++)
            if (rdm_encoder_uses(e, c))
                CU_ASSERT_EQUAL(
                    rdm_buf_printf(&one, ",\"%s\":\"%s\"", sc[c].name, cells[i * RDM_NCOLS + c]),
                    RDM_OK);
        CU_ASSERT_EQUAL(rdm_buf_addc(&one, '}'), RDM_OK);
        CU_ASSERT_EQUAL_FATAL(rdm_api_predict(&am, one.data, one.len, 1000, &out), 200);
        json_t *s1 = load_json(&out), *b1 = json_array_get(preds, (size_t)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
        double p;
        CU_ASSERT_EQUAL(rdm_model_score(m, cc + i * RDM_NCOLS, &p, NULL, NULL), RDM_OK);
        char want[32];
        snprintf(want, sizeof want, "\"probability\":%.6f,", p);
        CU_ASSERT_PTR_NOT_NULL(strstr(out.data, want));
        CU_ASSERT(json_real_value(json_object_get(s1, "probability")) ==
                  json_real_value(json_object_get(b1, "probability")));
        CU_ASSERT(json_equal(json_object_get(s1, "decision"), json_object_get(b1, "decision")));
        CU_ASSERT(json_equal(json_object_get(s1, "warnings"), json_object_get(b1, "warnings")));
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(b1, "encounter_id")), i);
        warned += json_array_size(json_object_get(b1, "warnings")) > 0;
        json_decref(s1);
    }
    CU_ASSERT_EQUAL(warned, (NB - 3 + 8) / 9);
    json_decref(j);
    for (size_t i = 0; i < NR * RDM_NCOLS; i++)
        free(cells[i]);
    free(cells);
    free(y);
    rdm_model_free(m);
    rdm_buf_release(&text);
    rdm_buf_release(&body);
    rdm_buf_release(&one);
    rdm_buf_release(&out);
}

/* The whole handler's error answers: status and error body. */
static void test_predict_errors(void)
{
    static const struct {
        const char *body;
        long max;
        int with_model; /* 0: no model loaded, 2: a model without a scorer */
        int status;
        const char *code;
        const char *field; /* NULL: null */
    } cases[] = {
        {"{}", 10, 0, 503, "no_model", NULL},
        {"{}", 10, 2, 503, "no_model", NULL},
        {"{", 10, 1, 400, "malformed_json", NULL},
        /* unknown field in a batch, named with its index */
        {"{\"instances\": [{}, {\"colour\": \"red\"}]}", 10, 1, 422, "unknown_field",
         "instances[1].colour"},
        {"{\"instances\": [{}, {}]}", 1, 1, 422, "too_many_instances", "instances"},
        {"{\"age\": 3}", 10, 1, 422, "wrong_type", "age"},
    };

    rdm_model *m = baseline(0.25, 0.5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_api_model am = {m, "readmission", "1", "champion", "", NULL, NULL};
    rdm_api_model none = {NULL, "", "", "", "", NULL, NULL};
    rdm_buf out = RDM_BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rdm_api_model *use = cases[i].with_model == 1   ? &am
                                   : cases[i].with_model == 2 ? &none
                                                              : NULL;
        rdm_buf_reset(&out);
        const char *b = cases[i].body;
        CU_ASSERT_EQUAL(rdm_api_predict(use, b, strlen(b), cases[i].max, &out), cases[i].status);
        check_error_body(&out, cases[i].status, cases[i].code, cases[i].field);
    }
    rdm_buf_release(&out);
    rdm_model_free(m);
}

/* A model with an encoder: an unseen category is scored as "other" and
 * reported in the warnings; the response is still 200. */
static void test_predict_unseen_category(void)
{
    enum { N = 40 };

    const char **cells = calloc(N * RDM_NCOLS, sizeof *cells);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    static const char *const RACE[] = {"Caucasian", "AfricanAmerican"};
    static const char *const NUM[] = {"1", "2", "3", "4"};
    for (int i = 0; i < N; i++) {
        const char **row = cells + (size_t)i * RDM_NCOLS;
        row[RDM_C_ENCOUNTER_ID] = NUM[i % 4];
        row[RDM_C_PATIENT_NBR] = NUM[i % 4];
        row[col("race")] = RACE[i % 2];
        row[col("gender")] = i % 3 ? "Female" : "Male";
        row[col("time_in_hospital")] = NUM[i % 4];
        row[RDM_C_READMITTED] = i % 5 ? "NO" : "<30";
    }
    rdm_encoder_params ep;
    rdm_encoder_params_default(&ep);
    ep.min_count = 1;
    rdm_err err = {0};
    rdm_encoder *enc = rdm_encoder_fit(cells, NULL, N, &ep, &err);
    free(cells);
    CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
    rdm_model *m = rdm_model_create(RDM_MODEL_BASELINE, enc, NULL, 0.1, 0.5, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_api_model am = {m, "readmission", "3", "champion", "", NULL, NULL};
    rdm_buf out = RDM_BUF_INIT;
    const char *body = "{\"race\": \"Martian\", \"gender\": \"Female\"}";
    CU_ASSERT_EQUAL(rdm_api_predict(&am, body, strlen(body), 10, &out), 200);
    json_t *j = load_json(&out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *w = json_object_get(j, "warnings");
    CU_ASSERT_EQUAL_FATAL(json_array_size(w), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_array_get(w, 0)), "race"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_array_get(w, 0)), "Martian"));
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(j, "probability")), 0.1, 1e-9);
    json_decref(j);
    rdm_buf_reset(&out);

    /* the model schema: race is categorical with the two training levels */
    CU_ASSERT_EQUAL(rdm_api_model_json(&am, &out), RDM_OK);
    j = load_json(&out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "version")), "3");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "alias")), "champion");
    /* no metrics known: an empty object */
    CU_ASSERT_TRUE(json_is_object(json_object_get(j, "metrics")));
    CU_ASSERT_EQUAL(json_object_size(json_object_get(j, "metrics")), 0);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(j, "threshold")), 0.5, 1e-9);
    json_t *in = json_object_get(j, "input");
    int found = 0;
    for (size_t i = 0; i < json_array_size(in); i++) {
        json_t *f = json_array_get(in, i);
        if (strcmp(json_string_value(json_object_get(f, "name")), "race") != 0)
            continue;
        found = 1;
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "type")), "categorical");
        json_t *lv = json_object_get(f, "levels");
        int cau = 0, aa = 0;
        for (size_t k = 0; k < json_array_size(lv); k++) {
            cau += strcmp(json_string_value(json_array_get(lv, k)), "Caucasian") == 0;
            aa += strcmp(json_string_value(json_array_get(lv, k)), "AfricanAmerican") == 0;
        }
        CU_ASSERT_EQUAL(cau, 1);
        CU_ASSERT_EQUAL(aa, 1);
    }
    CU_ASSERT_TRUE(found);
    json_decref(j);
    /* the run's metrics by split, as published by the supervisor */
    am.metrics = "{\"valid\":{\"roc_auc\":0.6704},\"test\":{\"roc_auc\":0.6846}}";
    rdm_buf_reset(&out);
    CU_ASSERT_EQUAL(rdm_api_model_json(&am, &out), RDM_OK);
    j = load_json(&out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(
                               json_object_get(json_object_get(j, "metrics"), "valid"), "roc_auc")),
                           0.6704, 1e-12);
    json_decref(j);
    rdm_buf_release(&out);
    rdm_model_free(m);
}

/* ---- JSON text ---- */

static void test_json_str(void)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"a\"b\\c\n\x01", 7, "\"a\\\"b\\\\c\\u000a\\u0001\""},
        /* valid UTF-8 (é, €) kept; a lone continuation byte and a truncated
         * sequence become U+FFFD */
        {"\xc3\xa9\xe2\x82\xac\x80z\xe2\x82", 9, "\"\xc3\xa9\xe2\x82\xac\\ufffdz\\ufffd\\ufffd\""},
        /* overlong encoding and a surrogate are invalid */
        {"\xc0\xaf\xed\xa0\x80", 5, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\""},
        /* embedded NUL */
        {"a\0b", 3, "\"a\\u0000b\""},
        /* 4-byte sequence kept; above U+10FFFF invalid */
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},
        {"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
        {"", 0, "\"\""},
    };

    rdm_buf b = RDM_BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rdm_buf_reset(&b);
        CU_ASSERT_EQUAL_FATAL(rdm_api_json_str(&b, cases[i].in, cases[i].len), RDM_OK);
        if (strcmp(b.data, cases[i].out) != 0)
            fprintf(stderr, "\njson_str case %zu: got %s want %s\n", i, b.data, cases[i].out);
        CU_ASSERT_STRING_EQUAL(b.data, cases[i].out);
    }
    rdm_buf_release(&b);
}

static void test_error_json(void)
{
    rdm_api_error e;
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_api_seterr(&e, 422, "unknown_field", "x\"y", "bad \"%s\"", "q"), 422);
    CU_ASSERT_EQUAL(rdm_api_error_json(&e, &b), RDM_OK);
    CU_ASSERT_STRING_EQUAL(b.data,
                           "{\"error\":{\"status\":422,\"code\":\"unknown_field\",\"message\":"
                           "\"bad \\\"q\\\"\",\"field\":\"x\\\"y\"}}\n");
    rdm_buf_reset(&b);
    rdm_api_seterr(&e, 400, "malformed_json", NULL, "m");
    e.position = 12;
    CU_ASSERT_EQUAL(rdm_api_error_json(&e, &b), RDM_OK);
    check_error_body(&b, 400, "malformed_json", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "\"position\":12"));
    rdm_buf_release(&b);
}

/* ---- hostile bodies ---- */

/* Run one body through the whole handler; the answer must be `want` (0 = any
 * 4xx) with a well-formed error body. */
static void replay(const rdm_api_model *am, const char *name, const char *body, size_t len,
                   int want)
{
    rdm_buf out = RDM_BUF_INIT;
    int st = rdm_api_predict(am, body, len, 1000, &out);
    if ((want && st != want) || (!want && (st < 400 || st > 499)))
        fprintf(stderr, "\n%s: status %d (want %d): %.300s\n", name, st, want,
                out.data ? out.data : "");
    CU_ASSERT(want ? st == want : st >= 400 && st <= 499);
    json_error_t je;
    json_t *j = json_loadb(out.data, out.len, 0, &je);
    CU_ASSERT_PTR_NOT_NULL(j);
    if (j && st != 200) {
        json_t *e = json_object_get(j, "error");
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "status")), st);
        CU_ASSERT_TRUE(json_is_string(json_object_get(e, "code")));
    }
    json_decref(j);
    rdm_buf_release(&out);
}

static void test_bad_bodies_corpus(void)
{
    rdm_model *m = baseline(0.25, 0.5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_api_model am = {m, "readmission", "1", "champion", "", NULL, NULL};
    DIR *d = opendir(BAD_DIR);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        /* files are named STATUS-description.json */
        if (de->d_name[0] == '.' || strlen(de->d_name) < 5)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", BAD_DIR, de->d_name);
        rdm_buf body = RDM_BUF_INIT;
        rdm_err err = {0};
        CU_ASSERT_EQUAL_FATAL(rdm_read_file(path, &body, &err), RDM_OK);
        replay(&am, de->d_name, body.data ? body.data : "", body.len, atoi(de->d_name));
        rdm_buf_release(&body);
        n++;
    }
    closedir(d);
    CU_ASSERT(n >= 10);
    rdm_model_free(m);
}

static char *repeat(const char *head, char c, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), tl = strlen(tail);
    char *s = malloc(hl + n + tl + 1);
    if (!s)
        return NULL;
    memcpy(s, head, hl);
    memset(s + hl, c, n);
    memcpy(s + hl + n, tail, tl + 1);
    *len = hl + n + tl;
    return s;
}

static void test_bad_bodies_generated(void)
{
    rdm_model *m = baseline(0.25, 0.5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_api_model am = {m, "readmission", "1", "champion", "", NULL, NULL};
    size_t len;
    char *s;
    /* a 10 MB string value, key and garbage */
    s = repeat("{\"race\": \"", 'x', 10u << 20, "\"}", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    replay(&am, "10MB value", s, len, 422);
    free(s);
    s = repeat("{\"", 'k', 10u << 20, "\": 1}", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    replay(&am, "10MB key", s, len, 422);
    free(s);
    s = repeat("{\"race\": \"", 'x', 10u << 20, "", &len); /* unterminated */
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    replay(&am, "10MB unterminated", s, len, 400);
    free(s);
    /* deep nesting: arrays and objects */
    s = repeat("", '[', 200000, "", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    replay(&am, "deep arrays", s, len, 400);
    free(s);
    rdm_buf b = RDM_BUF_INIT;
    for (int i = 0; i < 100000; i++)
        CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "{\"a\":"), RDM_OK);
    replay(&am, "deep objects", b.data, b.len, 400);
    rdm_buf_release(&b);
    /* a batch of 1001 records (limit 1000) */
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "{\"instances\":["), RDM_OK);
    for (int i = 0; i < 1001; i++)
        CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, i ? ",{}" : "{}"), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "]}"), RDM_OK);
    replay(&am, "1001 instances", b.data, b.len, 422);
    rdm_buf_release(&b);
    /* NUL bytes inside and after the document */
    replay(&am, "NUL in string", "{\"race\": \"a\0b\"}", 15, 400);
    replay(&am, "NUL after", "{}\0", 3, 400);
    replay(&am, "escaped NUL", "{\"race\": \"a\\u0000b\"}", 20, 400);
    /* every single byte value as a whole body */
    for (int c = 0; c < 256; c++) {
        char one[1] = {(char)c};
        replay(&am, "one byte", one, 1, 0);
    }
    rdm_model_free(m);
}

/* The fast path and jansson must agree on every body: same status, same
 * records (values and echoed ids), same error code and field. */
static void same_parse(const char *name, const char *body, size_t len, long max)
{
    rdm_api_request a, b;
    rdm_api_error ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    int sa = rdm_api_parse_predict(body, len, max, &a, &ea);
    int sb = rdm_api_parse_predict_jansson(body, len, max, &b, &eb);
    if (sa != sb)
        fprintf(stderr, "\n%s: fast %d, jansson %d\n", name, sa, sb);
    CU_ASSERT_EQUAL(sa, sb);
    if (sa == 200 && sb == 200) {
        CU_ASSERT_EQUAL_FATAL(a.n, b.n);
        CU_ASSERT_EQUAL(a.batch, b.batch);
        for (size_t i = 0; i < a.n; i++) {
            CU_ASSERT_STRING_EQUAL(a.recs[i].id, b.recs[i].id);
            for (int c = 0; c < RDM_NCOLS; c++) {
                const char *x = a.recs[i].values[c], *y = b.recs[i].values[c];
                CU_ASSERT((x == NULL) == (y == NULL));
                if (x && y && strcmp(x, y) != 0) {
                    fprintf(stderr, "\n%s: record %zu column %d: '%s' vs '%s'\n", name, i, c, x, y);
                    CU_FAIL("values differ");
                }
            }
        }
    } else {
        CU_ASSERT_STRING_EQUAL(ea.code, eb.code);
        CU_ASSERT_STRING_EQUAL(ea.field, eb.field);
        CU_ASSERT_EQUAL(ea.position, eb.position);
    }
    rdm_api_request_release(&a);
    rdm_api_request_release(&b);
}

static void test_fast_path_agrees(void)
{
    static const char *const bodies[] = {
        "{}",
        " { } ",
        "{\"race\":\"Caucasian\",\"age\":\"[70-80)\",\"time_in_hospital\":5}",
        "{\"encounter_id\":12,\"patient_nbr\":\"9\",\"num_lab_procedures\":\"0\"}",
        "{\"encounter_id\":\"x-1\",\"weight\":\"?\",\"payer_code\":null,\"diag_1\":\"250.83\"}",
        "{\"diag_1\":250,\"admission_type_id\":3,\"medical_specialty\":\"\"}",
        /* keys in schema order (found by one comparison with the next names) */
        "{\"encounter_id\":\"7\",\"race\":\"Other\",\"gender\":\"Male\",\"age\":\"[0-10)\"}",
        "{\"encounter_id\":7,\"patient_nbr\":8,\"race\":\"Other\",\"gender\":\"Male\"}",
        "{\"rac\":\"Other\"}",
        "{\"racex\":\"Other\"}",
        "{\"race\":\"Other\",\"race\":\"Other\"}",
        "{\"gender\":\"Male\",\"race\":\"Other\",\"gender\":\"Male\"}",
        "{\"race",
        "{\"race\"",
        "{\"encounter_id\":\"0123456789012345678901234567890123456789012345\"}",
        "{\"encounter_id\":\"01234567890123456789012345678901234567890123456\"}",
        "{\"time_in_hospital\":\"-0\"}",
        "{\"time_in_hospital\":\"0007\"}",
        "{\"time_in_hospital\":\" 5\"}",
        "{\"time_in_hospital\":\"+5\"}",
        "{\"time_in_hospital\":\"\\t5\"}",
        "{\"time_in_hospital\":\"5 \"}",
        "{\"time_in_hospital\":\"99999999999999999999\"}",
        "{\"time_in_hospital\":05}",
        "{\"time_in_hospital\":15}",
        "{\"time_in_hospital\":\"15\"}",
        "{\"time_in_hospital\":-3}",
        "{\"time_in_hospital\":3.0}",
        "{\"time_in_hospital\":3e0}",
        "{\"time_in_hospital\":1234567890123456789012}",
        "{\"race\":7}",
        "{\"race\":\"a\",\"race\":\"b\"}",
        "{\"race\":\"\\u00e9\"}",
        "{\"race\":\"Cau\\\"c\"}",
        "{\"race\":nul}",
        "{\"race\":null,}",
        "{\"race\":\"x\"",
        "{\"race\":\"x\"}x",
        "{\"race\" \"x\"}",
        "{\"foo\":1}",
        "{\"encounter_id\":true}",
        "{\"instances\":[{\"race\":\"Other\"},{},{\"time_in_hospital\":2}]}",
        "{ \"instances\" : [ { \"race\" : \"Other\" } , { } ] }",
        "{\"instances\":[]}",
        "{\"instances\":[{},{},{}]}",
        "{\"instances\":[{}],\"race\":\"x\"}",
        "{\"race\":\"x\",\"instances\":[{}]}",
        "{\"instances\":[{}]",
        "{\"instances\":[{},]}",
        "{\"instances\":{}}",
        "[{}]",
        "5",
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        same_parse(bodies[i], bodies[i], strlen(bodies[i]), 2);
    /* the hostile corpus */
    DIR *d = opendir(BAD_DIR);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", BAD_DIR, de->d_name);
        rdm_buf body = RDM_BUF_INIT;
        if (rdm_read_file(path, &body, NULL) == RDM_OK)
            same_parse(de->d_name, body.data ? body.data : "", body.len, 1000);
        rdm_buf_release(&body);
    }
    closedir(d);
}

int test_api_register(void)
{
    CU_pSuite s = CU_add_suite("api", NULL, NULL);
    if (!s)
        return -1;
    return (CU_ADD_TEST(s, test_parse_single) && CU_ADD_TEST(s, test_parse_batch) &&
            CU_ADD_TEST(s, test_parse_batch_numbers) && CU_ADD_TEST(s, test_parse_errors) &&
            CU_ADD_TEST(s, test_parse_position) && CU_ADD_TEST(s, test_predict_single) &&
            CU_ADD_TEST(s, test_predict_number_text) && CU_ADD_TEST(s, test_predict_batch) &&
            CU_ADD_TEST(s, test_predict_batch_gbt) && CU_ADD_TEST(s, test_predict_errors) &&
            CU_ADD_TEST(s, test_predict_unseen_category) && CU_ADD_TEST(s, test_json_str) &&
            CU_ADD_TEST(s, test_error_json) && CU_ADD_TEST(s, test_bad_bodies_corpus) &&
            CU_ADD_TEST(s, test_bad_bodies_generated) && CU_ADD_TEST(s, test_fast_path_agrees))
               ? 0
               : -1;
}
