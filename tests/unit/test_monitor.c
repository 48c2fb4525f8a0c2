/* test_monitor.c - input parsing, windows, live metrics and the retrain
 * decision of the monitor stage, on rows built by hand. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "monitor.h"

int test_monitor_register(void);

static void test_parse_input(void)
{
    const char *v[RDM_NCOLS];
    char a[] = "{\"age\": \"[70-80)\", \"race\": null, \"time_in_hospital\": 3, "
               "\"unknown_key\": \"x\", \"payer_code\": \"M\\u00e9\\\"q\", \"gender\": \"\"}";
    CU_ASSERT_EQUAL_FATAL(rdm_monitor_parse_input(a, v), 0);
    CU_ASSERT_STRING_EQUAL(v[rdm_schema_find("age")], "[70-80)");
    CU_ASSERT_PTR_NULL(v[rdm_schema_find("race")]);
    CU_ASSERT_STRING_EQUAL(v[rdm_schema_find("time_in_hospital")], "3");
    CU_ASSERT_STRING_EQUAL(v[rdm_schema_find("payer_code")], "M\xc3\xa9\"q");
    CU_ASSERT_STRING_EQUAL(v[rdm_schema_find("gender")], "");
    CU_ASSERT_PTR_NULL(v[rdm_schema_find("weight")]);
    char b[] = "{\"num_procedures\":1,\"age\":\"[0-10)\"}";
    CU_ASSERT_EQUAL_FATAL(rdm_monitor_parse_input(b, v), 0);
    CU_ASSERT_STRING_EQUAL(v[rdm_schema_find("num_procedures")], "1");
    CU_ASSERT_STRING_EQUAL(v[rdm_schema_find("age")], "[0-10)");
    char e[] = "{}";
    CU_ASSERT_EQUAL(rdm_monitor_parse_input(e, v), 0);
    static const char *const BAD[] = {"[1, 2]", "{\"age\": {\"x\": 1}}", "{\"age\" \"x\"}",
                                      "{\"age\": \"x\"", "{\"age\": \"\\u12\"}"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char *t = strdup(BAD[i]);
        CU_ASSERT_EQUAL(rdm_monitor_parse_input(t, v), -1);
        free(t);
    }
}

static const char *PROFILE =
    "{\"rows\": 100, \"columns\": ["
    "{\"name\": \"time_in_hospital\", \"kind\": \"numeric\", \"missing\": 0,"
    " \"histogram\": {\"edges\": [1, 2, 3], \"counts\": [50, 50]}}]}";

/* A monitor over the test profile with small resample counts; the config
 * and the reference stay with the caller until close_monitor. */
static rdm_monitor *open_monitor(rdm_config *cfg, json_t **prof, rdm_drift_ref *ref,
                                 long window_rows, long min_rows, int draws)
{
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(cfg, &err), RDM_OK);
    cfg->monitor.window_rows = window_rows;
    cfg->monitor.min_rows = min_rows;
    cfg->monitor.bootstrap = draws;
    cfg->monitor.estimate_draws = draws;
    cfg->train.threads = 1;
    *prof = json_loads(PROFILE, 0, NULL);
    CU_ASSERT_EQUAL_FATAL(rdm_drift_ref_from_profile(*prof, NULL, ref, &err), RDM_OK);
    rdm_monitor *m = rdm_monitor_create(cfg, ref, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    return m;
}

static void close_monitor(rdm_monitor *m, rdm_config *cfg, json_t *prof, rdm_drift_ref *ref)
{
    json_decref(prof);
    rdm_monitor_free(m);
    rdm_drift_ref_release(ref);
    rdm_config_release(cfg);
}

/* Two windows of 300 rows by count: the first like training, the second all
 * in the upper bin; outcomes on every other row of the first window only. */
static void test_windows(void)
{
    rdm_config cfg;
    rdm_err err = {0};
    json_t *prof;
    rdm_drift_ref ref;
    rdm_monitor *m = open_monitor(&cfg, &prof, &ref, 300, 200, 50);
    double p[150];
    float y[150];
    int nl = 0;
    for (int i = 0; i < 600; i++) {
        const char *v[RDM_NCOLS] = {0};
        v[rdm_schema_find("time_in_hospital")] = i < 300 ? (i % 2 ? "1" : "2") : "2";
        rdm_mon_row r = {i + 1,         1.7e9 + i, 4,  1000 + i / 3, (i % 10) / 10.0 + 0.05,
                         (i % 10) >= 5, -1,        NAN};
        if (i < 300 && i % 2 == 0) {
            r.label = (i / 2) % 3 == 0 || (i % 10) >= 8;
            r.observed = r.served + 7200;
            p[nl] = r.p;
            y[nl++] = (float)r.label;
        }
        CU_ASSERT_EQUAL_FATAL(rdm_monitor_add(m, &r, v, &err), RDM_OK);
    }
    json_t *doc = rdm_monitor_finish(m, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    const json_t *wins = json_object_get(doc, "windows");
    CU_ASSERT_EQUAL_FATAL(json_array_size(wins), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "predictions")), 600);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "labelled")), 150);
    const json_t *w0 = json_array_get(wins, 0), *w1 = json_array_get(wins, 1);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(w0, "coverage")), 0.5, 1e-12);
    const json_t *v0 = json_array_get(json_object_get(w0, "versions"), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(v0, "version")), 4);
    const json_t *real = json_object_get(v0, "realized");
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(real, "roc_auc")),
                           rdm_roc_auc(p, y, (size_t)nl), 1e-12);
    double lo = json_number_value(json_object_get(real, "roc_auc_lo"));
    double hi = json_number_value(json_object_get(real, "roc_auc_hi"));
    CU_ASSERT(lo < rdm_roc_auc(p, y, (size_t)nl) && rdm_roc_auc(p, y, (size_t)nl) < hi);
    CU_ASSERT_DOUBLE_EQUAL(
        json_number_value(json_object_get(json_object_get(v0, "label_delay_hours"), "median")), 2.0,
        1e-9);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(v0, "decision_rate")), 0.5, 1e-12);
    CU_ASSERT(json_is_null(
        json_object_get(json_array_get(json_object_get(w1, "versions"), 0), "realized")));
    // drift: window 0 like training (PSI 0), window 1 all in one bin
    const json_t *d0 = json_array_get(json_object_get(json_object_get(w0, "drift"), "fields"), 0);
    const json_t *d1 = json_array_get(json_object_get(json_object_get(w1, "drift"), "fields"), 0);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(d0, "psi")), 0.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d1, "level")), "alert");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(doc, "latest"), "window")),
                    1);
    // the retrain decision on this document
    char reason[256], key[64];
    cfg.monitor.retrain_when = 1; /* drift */
    CU_ASSERT_EQUAL(rdm_monitor_retrain(&cfg, doc, reason, sizeof reason, key, sizeof key), 1);
    CU_ASSERT_STRING_EQUAL(key, "drift:w1");
    CU_ASSERT_PTR_NOT_NULL(strstr(reason, "time_in_hospital"));
    cfg.monitor.retrain_when = 0; /* never */
    CU_ASSERT_EQUAL(rdm_monitor_retrain(&cfg, doc, reason, sizeof reason, key, sizeof key), 0);
    cfg.monitor.retrain_when = 2; /* auc: the latest window has no outcomes */
    CU_ASSERT_EQUAL(rdm_monitor_retrain(&cfg, doc, reason, sizeof reason, key, sizeof key), 0);
    cfg.monitor.retrain_when = 1;
    // a latest window too small to judge never fires
    json_object_set_new((json_t *)w1, "complete", json_false());
    CU_ASSERT_EQUAL(rdm_monitor_retrain(&cfg, doc, reason, sizeof reason, key, sizeof key), 0);
    json_decref(doc);
    close_monitor(m, &cfg, prof, &ref);
}

/* Versions that alternate row by row in one window (a promotion rolled back
 * and forth under load): each version is one group, in version order, with
 * its own rows and decisions. */
static void test_interleaved_versions(void)
{
    enum { N = 60000 };

    rdm_config cfg;
    rdm_err err = {0};
    json_t *prof;
    rdm_drift_ref ref;
    rdm_monitor *m = open_monitor(&cfg, &prof, &ref, N, 100, 20);
    for (int i = 0; i < N; i++) {
        const char *v[RDM_NCOLS] = {0};
        int ver = 3 - i % 3; /* 3, 2, 1, 3, 2, 1 ... */
        /* version 1 decides yes on every row, the others on none */
        rdm_mon_row r = {i + 1, 1.7e9 + i, ver, 1000 + i, 0.2, ver == 1, -1, NAN};
        CU_ASSERT_EQUAL_FATAL(rdm_monitor_add(m, &r, v, &err), RDM_OK);
    }
    json_t *doc = rdm_monitor_finish(m, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    const json_t *wins = json_object_get(doc, "windows");
    CU_ASSERT_EQUAL_FATAL(json_array_size(wins), 1);
    const json_t *vers = json_object_get(json_array_get(wins, 0), "versions");
    CU_ASSERT_EQUAL_FATAL(json_array_size(vers), 3);
    for (int k = 0; k < 3; k++) {
        const json_t *g = json_array_get(vers, (size_t)k);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(g, "version")), k + 1);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(g, "predictions")), N / 3);
        CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(g, "decision_rate")),
                               k == 0 ? 1.0 : 0.0, 1e-12);
    }
    json_decref(doc);
    close_monitor(m, &cfg, prof, &ref);
}

int test_monitor_register(void)
{
    CU_pSuite s = CU_add_suite("monitor", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_parse_input) && CU_ADD_TEST(s, test_windows) &&
            CU_ADD_TEST(s, test_interleaved_versions))
               ? 0
               : -1;
}
