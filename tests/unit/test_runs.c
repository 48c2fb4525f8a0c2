/* test_runs.c - runs.c: field names, the --where language (one table of
 * expressions and the run ids each must keep, worked out by hand from the
 * four runs below), sorting with missing values last, and diffs. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"

int test_runs_register(void);

static const char RUNS[] =
    "[{\"run_id\": 4, \"training_id\": 2, \"model_type\": \"gbt\", \"name\": \"gbt lr=0.1\","
    "  \"status\": \"finished\", \"snapshot_id\": 2, \"code_version\": \"0.1.0\","
    "  \"params\": {\"learning_rate\": \"0.1\", \"max_leaves\": \"31\"},"
    "  \"valid\": {\"roc_auc\": 0.671, \"log_loss\": 0.33}, \"test\": {\"roc_auc\": 0.68}},"
    " {\"run_id\": 3, \"training_id\": 2, \"model_type\": \"gbt\", \"name\": \"gbt lr=0.05\","
    "  \"status\": \"finished\", \"snapshot_id\": 2, \"code_version\": \"0.1.0\","
    "  \"params\": {\"learning_rate\": \"0.05\", \"max_leaves\": \"31\"},"
    "  \"valid\": {\"roc_auc\": 0.665, \"log_loss\": 0.34}, \"test\": {\"roc_auc\": 0.67}},"
    " {\"run_id\": 2, \"training_id\": 1, \"model_type\": \"logreg\", \"name\": \"logreg l2=10\","
    "  \"status\": \"finished\", \"snapshot_id\": 1, \"code_version\": \"0.0.9\","
    "  \"params\": {\"l2\": \"10\"}, \"valid\": {\"roc_auc\": 0.652}, \"test\": {}},"
    " {\"run_id\": 1, \"training_id\": 1, \"model_type\": \"baseline\", \"name\": \"baseline\","
    "  \"status\": \"failed\", \"snapshot_id\": 1, \"code_version\": \"0.0.9\","
    "  \"params\": {}, \"valid\": {}, \"test\": {}}]";

static json_t *runs(void)
{
    json_t *r = json_loads(RUNS, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    return r;
}

/* "4,3" for the run ids left, in order */
static void ids(const json_t *r, char *out, size_t n)
{
    out[0] = '\0';
    size_t i;
    json_t *e;
    json_array_foreach(r, i, e)
    {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%lld", i ? "," : "",
                 (long long)json_integer_value(json_object_get(e, "run_id")));
    }
}

static void test_runs_fields(void)
{
    json_t *r = runs();
    const json_t *run = json_array_get(r, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(rdm_runs_get(run, "type")), "gbt");
    CU_ASSERT_EQUAL(json_integer_value(rdm_runs_get(run, "id")), 4);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(rdm_runs_get(run, "valid.roc_auc")), 0.671, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(rdm_runs_get(run, "params.learning_rate")), "0.1");
    CU_ASSERT_STRING_EQUAL(json_string_value(rdm_runs_get(run, "param.max_leaves")), "31");
    CU_ASSERT_PTR_NULL(rdm_runs_get(run, "valid.nope"));
    CU_ASSERT_PTR_NULL(rdm_runs_get(run, "other.roc_auc"));
    CU_ASSERT_PTR_NULL(rdm_runs_get(run, ""));
    json_decref(r);
}

static void test_runs_where(void)
{
    static const struct {
        const char *where, *want;
    } cases[] = {
        {"", "4,3,2,1"},
        {"type=gbt", "4,3"},
        {"type == gbt", "4,3"},
        {"type!=gbt", "2,1"},
        {"valid.roc_auc>0.66", "4,3"},
        {"valid.roc_auc>=0.665", "4,3"},
        {"valid.roc_auc<0.665", "2"},
        {"type=gbt and valid.roc_auc>0.666", "4"},
        {"params.learning_rate<0.1", "3"},
        {"params.learning_rate=0.10", "4"},
        {"name~lr=", "4,3"},
        {"name = 'logreg l2=10'", "2"},
        {"name = \"baseline\"", "1"},
        {"status=failed", "1"},
        {"training_id=1 and snapshot_id<2", "2,1"},
        {"code_version=0.1.0", "4,3"},
        {"test.roc_auc>0", "4,3"},
        {"valid.log_loss<=0.335", "4"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = runs();
        rdm_err err = {0};
        CU_ASSERT_EQUAL(rdm_runs_filter(r, cases[i].where, &err), RDM_OK);
        char got[64];
        ids(r, got, sizeof got);
        if (strcmp(got, cases[i].want))
            fprintf(stderr, "\n    --where '%s': got %s, expected %s", cases[i].where, got,
                    cases[i].want);
        CU_ASSERT_STRING_EQUAL(got, cases[i].want);
        json_decref(r);
    }
}

static void test_runs_where_errors(void)
{
    static const struct {
        const char *where, *msg;
    } cases[] = {
        {"type", "column 5: expected an operator"},
        {"=gbt", "column 1: expected a field name"},
        {"type=", "column 6: expected a value after 'type'"},
        {"type=gbt or type=logreg", "column 10: expected 'and' or the end"},
        {"name='x", "column 6: unterminated quote"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = runs();
        rdm_err err = {0};
        CU_ASSERT_EQUAL(rdm_runs_filter(r, cases[i].where, &err), RDM_EINVAL);
        if (!strstr(err.msg, cases[i].msg))
            fprintf(stderr, "\n    --where '%s': %s", cases[i].where, err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].msg));
        CU_ASSERT_EQUAL(json_array_size(r), 4); /* left as it was */
        json_decref(r);
    }
}

static void test_runs_sort(void)
{
    static const struct {
        const char *key, *want;
    } cases[] = {
        {"valid.roc_auc", "2,3,4,1"}, /* run 1 has none: last */
        {"-valid.roc_auc", "4,3,2,1"},
        {"run_id", "1,2,3,4"},
        {"-id", "4,3,2,1"},
        {"type", "1,4,3,2"}, /* baseline < gbt = gbt < logreg; ties keep their order */
        {"params.learning_rate", "3,4,2,1"},
        {"+training_id", "2,1,4,3"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = runs();
        rdm_err err = {0};
        CU_ASSERT_EQUAL(rdm_runs_sort(r, cases[i].key, &err), RDM_OK);
        char got[64];
        ids(r, got, sizeof got);
        if (strcmp(got, cases[i].want))
            fprintf(stderr, "\n    --sort %s: got %s, expected %s", cases[i].key, got,
                    cases[i].want);
        CU_ASSERT_STRING_EQUAL(got, cases[i].want);
        json_decref(r);
    }
    json_t *r = runs();
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_runs_sort(r, "-", &err), RDM_EINVAL);
    json_decref(r);
}

static void test_runs_diff(void)
{
    json_t *r = runs();
    json_t *d = rdm_runs_diff(json_array_get(r, 0), json_array_get(r, 1));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    /* runs 4 and 3 differ in name, learning rate and three metrics; ids and
     * everything else alike are left out */
    char fields[256] = "";
    size_t i;
    json_t *row;
    json_array_foreach(d, i, row)
    {
        size_t l = strlen(fields);
        snprintf(fields + l, sizeof fields - l, "%s%s", i ? " " : "",
                 json_string_value(json_object_get(row, "field")));
    }
    CU_ASSERT_STRING_EQUAL(fields, "name params.learning_rate valid.log_loss valid.roc_auc "
                                   "test.roc_auc");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(d, 1), "a")), "0.1");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(d, 1), "b")), "0.05");
    json_decref(d);
    /* a field only one side has: null on the other */
    d = rdm_runs_diff(json_array_get(r, 2), json_array_get(r, 3));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int found = 0;
    json_array_foreach(d, i, row)
    {
        if (!strcmp(json_string_value(json_object_get(row, "field")), "params.l2")) {
            found = 1;
            CU_ASSERT_TRUE(json_is_null(json_object_get(row, "b")));
        }
    }
    CU_ASSERT_TRUE(found);
    json_decref(d);
    d = rdm_runs_diff(json_array_get(r, 0), json_array_get(r, 0));
    CU_ASSERT_EQUAL(json_array_size(d), 0);
    json_decref(d);
    json_decref(r);
}

int test_runs_register(void)
{
    CU_pSuite s = CU_add_suite("runs", NULL, NULL);
    if (!s)
        return -1;
    return (CU_ADD_TEST(s, test_runs_fields) && CU_ADD_TEST(s, test_runs_where) &&
            CU_ADD_TEST(s, test_runs_where_errors) && CU_ADD_TEST(s, test_runs_sort) &&
            CU_ADD_TEST(s, test_runs_diff))
               ? 0
               : -1;
}
