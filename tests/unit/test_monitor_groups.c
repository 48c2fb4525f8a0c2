/* test_monitor_groups.c - live performance by patient group: groups formed on
 * race, gender and age as sent, sizes that add up, missing values as a group
 * of their own, a group the model ranks no better than chance flagged below
 * the overall AUC, and one block per model version. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "monitor_groups.h"
#include "rng.h"

int test_monitor_groups_register(void);

/* The group object of attribute a, level l in version object v. */
static const json_t *find(const json_t *v, const char *a, const char *l)
{
    const json_t *gs = json_object_get(v, "groups");
    for (size_t i = 0; i < json_array_size(gs); i++) {
        const json_t *g = json_array_get(gs, i);
        if (!strcmp(json_string_value(json_object_get(g, "attribute")), a) &&
            !strcmp(json_string_value(json_object_get(g, "level")), l))
            return g;
    }
    return NULL;
}

static long long ival(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void test_groups(void)
{
    rdm_err err = {0};
    rdm_mongroups *g = rdm_mongroups_create(200, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    rdm_rng r;
    rdm_rng_seed(&r, 3);
    static const char *const RACE[] = {"Caucasian", "AfricanAmerican", NULL, "?"};
    const size_t N = 4000;
    for (size_t i = 0; i < N; i++) {
        int bad = i % 4 == 1; /* AfricanAmerican: scores unrelated to the outcome */
        int y = rdm_rng_uniform(&r) < 0.3;
        rdm_mongroup_row row = {.version = i < 3000 ? 2 : 1,
                                .patient = (int64_t)(i / 2),
                                .p =
                                    bad ? rdm_rng_uniform(&r) : 0.5 * rdm_rng_uniform(&r) + 0.4 * y,
                                .threshold = 0.45,
                                .label = y,
                                .attr = {RACE[i % 4], i % 2 ? "Male" : "Female", "[70-80)"}};
        CU_ASSERT_EQUAL_FATAL(rdm_mongroups_add(g, &row, &err), RDM_OK);
    }
    json_t *doc = rdm_mongroups_finish(g, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    const json_t *vers = json_object_get(doc, "versions");
    CU_ASSERT_EQUAL_FATAL(json_array_size(vers), 2);
    const json_t *v1 = json_array_get(vers, 0), *v2 = json_array_get(vers, 1);
    CU_ASSERT_EQUAL(ival(v1, "version"), 1);
    CU_ASSERT_EQUAL(ival(v1, "labelled"), 1000);
    CU_ASSERT_EQUAL(ival(v2, "version"), 2);
    CU_ASSERT_EQUAL(ival(v2, "labelled"), 3000);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(v2, "threshold")), 0.45, 1e-12);
    const json_t *all = json_object_get(v2, "overall");
    CU_ASSERT_EQUAL(ival(all, "n"), 3000);
    CU_ASSERT_EQUAL(ival(all, "patients"), 1500);
    /* NULL and "?" are both the missing group */
    const json_t *cau = find(v2, "race", "Caucasian"), *aa = find(v2, "race", "AfricanAmerican"),
                 *mis = find(v2, "race", "(missing)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cau);
    CU_ASSERT_PTR_NOT_NULL_FATAL(aa);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mis);
    CU_ASSERT_EQUAL(ival(cau, "n") + ival(aa, "n") + ival(mis, "n"), 3000);
    CU_ASSERT_EQUAL(ival(mis, "n"), 1500);
    CU_ASSERT(json_is_true(json_object_get(aa, "below")));
    CU_ASSERT(json_is_false(json_object_get(cau, "below")));
    CU_ASSERT(json_number_value(json_object_get(aa, "roc_auc_hi")) <
              json_number_value(json_object_get(all, "roc_auc")));
    const json_t *male = find(v2, "gender", "Male"), *female = find(v2, "gender", "Female");
    CU_ASSERT_PTR_NOT_NULL_FATAL(male);
    CU_ASSERT_PTR_NOT_NULL_FATAL(female);
    CU_ASSERT_EQUAL(ival(male, "n") + ival(female, "n"), 3000);
    CU_ASSERT_EQUAL(ival(find(v2, "age", "[70-80)"), "n"), 3000);
    /* positive rate, TPR and FPR at the threshold, by hand for one group */
    double tpr = json_number_value(json_object_get(cau, "tpr"));
    double fpr = json_number_value(json_object_get(cau, "fpr"));
    CU_ASSERT(tpr > fpr);
    CU_ASSERT(json_number_value(json_object_get(cau, "positive_rate")) > 0);
    json_decref(doc);
    rdm_mongroups_free(g);
}

/* Groups measured on several threads equal groups measured on one, to the
 * last digit (each group draws from its own copy of the seeded stream). */
static void test_threads(void)
{
    static const char *const RACE[] = {"Caucasian", "AfricanAmerican", "Asian", "Other", NULL};
    static const char *const AGE[] = {"[50-60)", "[60-70)", "[70-80)"};
    json_t *doc[3] = {NULL, NULL, NULL};
    static const int THREADS[] = {1, 4, 0};
    for (int k = 0; k < 3; k++) {
        rdm_err err = {0};
        rdm_mongroups *g = rdm_mongroups_create(60, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        rdm_mongroups_threads(g, THREADS[k]);
        rdm_rng r;
        rdm_rng_seed(&r, 17);
        for (size_t i = 0; i < 5000; i++) {
            int y = rdm_rng_uniform(&r) < 0.25;
            rdm_mongroup_row row = {
                .version = (int32_t)(i % 3 == 0 ? 4 : 5),
                .patient = (int64_t)rdm_rng_below(&r, 1500),
                .p = floor((0.6 * rdm_rng_uniform(&r) + 0.3 * y) * 50) / 50, /* ties */
                .threshold = 0.4,
                .label = y,
                .attr = {RACE[i % 5], i % 2 ? "Male" : "Female", AGE[(i / 7) % 3]}};
            CU_ASSERT_EQUAL_FATAL(rdm_mongroups_add(g, &row, &err), RDM_OK);
        }
        doc[k] = rdm_mongroups_finish(g, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc[k]);
        rdm_mongroups_free(g);
    }
    const json_t *v = json_array_get(json_object_get(doc[0], "versions"), 1);
    CU_ASSERT(json_array_size(json_object_get(v, "groups")) >= 10);
    CU_ASSERT(json_number_value(json_object_get(json_object_get(v, "overall"), "roc_auc_lo")) <
              json_number_value(json_object_get(json_object_get(v, "overall"), "roc_auc_hi")));
    char *a = json_dumps(doc[0], JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    for (int k = 1; k < 3; k++) {
        char *b = json_dumps(doc[k], JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_STRING_EQUAL(a, b);
        free(b);
    }
    free(a);
    for (int k = 0; k < 3; k++)
        json_decref(doc[k]);
}

/* The document does not depend on the order the rows come in (the database
 * sends them in no particular order): rows are taken by prediction id. */
static void test_row_order(void)
{
    static const char *const RACE[] = {"Caucasian", "Hispanic", "Caucasian", "Asian",
                                       "AfricanAmerican"};

    enum { N = 3000 };

    char *text[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        rdm_err err = {0};
        rdm_mongroups *g = rdm_mongroups_create(40, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        for (size_t j = 0; j < N; j++) {
            size_t i = k ? N - 1 - j : j; /* the same rows, backwards */
            rdm_rng r;
            rdm_rng_seed(&r, 100 + i);
            int y = rdm_rng_uniform(&r) < 0.3;
            rdm_mongroup_row row = {.id = (int64_t)i + 1,
                                    .version = 7,
                                    .patient = (int64_t)(i / 3),
                                    .p = 0.6 * rdm_rng_uniform(&r) + 0.3 * y,
                                    .threshold = 0.2 + (double)i / N, /* the first one counts */
                                    .label = y,
                                    /* the three smaller as large: by name */
                                    .attr = {RACE[i % 5], "Female", "[40-50)"}};
            CU_ASSERT_EQUAL_FATAL(rdm_mongroups_add(g, &row, &err), RDM_OK);
        }
        json_t *doc = rdm_mongroups_finish(g, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        const json_t *v = json_array_get(json_object_get(doc, "versions"), 0);
        CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(v, "threshold")), 0.2, 1e-12);
        const json_t *gs = json_object_get(v, "groups");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(gs, 1), "level")),
                               "AfricanAmerican");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(gs, 2), "level")),
                               "Asian");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(gs, 3), "level")),
                               "Hispanic");
        text[k] = json_dumps(doc, JSON_REAL_PRECISION(17));
        json_decref(doc);
        rdm_mongroups_free(g);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text[1]);
    CU_ASSERT_STRING_EQUAL(text[0], text[1]);
    free(text[0]);
    free(text[1]);
}

static void test_empty(void)
{
    rdm_err err = {0};
    rdm_mongroups *g = rdm_mongroups_create(0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    json_t *doc = rdm_mongroups_finish(g, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(doc, "versions")), 0);
    json_decref(doc);
    rdm_mongroups_free(g);
}

/* Every row measured as one set (a training run's test split), whatever its
 * version, equals the block of a single version holding the same rows; no
 * row is refused. */
static void test_measure_all(void)
{
    static const char *const RACE[] = {"Caucasian", "AfricanAmerican", "Asian", NULL};
    rdm_err err = {0};
    rdm_mongroups *g[2] = {rdm_mongroups_create(40, &err), rdm_mongroups_create(40, &err)};
    CU_ASSERT_PTR_NOT_NULL_FATAL(g[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g[1]);
    rdm_rng r;
    rdm_rng_seed(&r, 29);
    for (size_t i = 0; i < 3000; i++) {
        int y = rdm_rng_uniform(&r) < 0.3;
        rdm_mongroup_row row = {
            .id = (int64_t)i,
            .version = 7,
            .patient = (int64_t)(i / 3),
            .p = 0.5 * rdm_rng_uniform(&r) + 0.3 * y,
            .threshold = 0.35,
            .label = y,
            .attr = {RACE[i % 4], i % 3 ? "Male" : "Female", i % 5 ? "[60-70)" : "[80-90)"}};
        CU_ASSERT_EQUAL_FATAL(rdm_mongroups_add(g[0], &row, &err), RDM_OK);
        row.version = (int32_t)(i % 2 ? -1 : 3);
        CU_ASSERT_EQUAL_FATAL(rdm_mongroups_add(g[1], &row, &err), RDM_OK);
    }
    json_t *doc = rdm_mongroups_finish(g[0], &err);
    rdm_pool *pool = rdm_pool_create(2, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
    json_t *one = rdm_mongroups_measure_all(g[1], pool, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    const json_t *v = json_array_get(json_object_get(doc, "versions"), 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(doc, "versions")), 1);
    CU_ASSERT_PTR_NULL(json_object_get(one, "version"));
    CU_ASSERT_EQUAL(ival(one, "resamples"), 40);
    CU_ASSERT_EQUAL(ival(one, "labelled"), 3000);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(one, "threshold")), 0.35, 1e-12);
    static const char *const K[] = {"overall", "groups"};
    for (int k = 0; k < 2; k++) {
        char *a = json_dumps(json_object_get(v, K[k]), JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        char *b = json_dumps(json_object_get(one, K[k]), JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_STRING_EQUAL(a, b);
        free(a);
        free(b);
    }
    CU_ASSERT_EQUAL(json_array_size(json_object_get(one, "groups")), 4 + 2 + 2);
    json_decref(doc);
    json_decref(one);
    /* nothing to measure: an error, not an empty object */
    rdm_mongroups *e = rdm_mongroups_create(0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_PTR_NULL(rdm_mongroups_measure_all(e, pool, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EINVAL);
    rdm_mongroups_free(e);
    rdm_pool_free(pool);
    rdm_mongroups_free(g[0]);
    rdm_mongroups_free(g[1]);
}

int test_monitor_groups_register(void)
{
    CU_pSuite s = CU_add_suite("monitor_groups", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_groups) && CU_ADD_TEST(s, test_threads) &&
            CU_ADD_TEST(s, test_row_order) && CU_ADD_TEST(s, test_empty) &&
            CU_ADD_TEST(s, test_measure_all))
               ? 0
               : -1;
}
