/* test_profile.c - profile statistics on hand-made rows. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "schema.h"

enum { C_RACE = 2, C_TIH = 9, C_LAB = 12 };

/* One clean row: every column "x" except the ones given. */
static int add(rdm_profile *p, const char *race, const char *tih, const char *lab,
               const char *batch, const char *target, const char *enc)
{
    const char *f[RDM_PROFILE_NFIELDS];
    const rdm_column *cols = rdm_schema_columns();
    for (int i = 0; i < RDM_NCOLS; i++)
        f[i] = cols[i].kind == RDM_COL_CAT || cols[i].kind == RDM_COL_DIAG ||
                       cols[i].kind == RDM_COL_TARGET
                   ? "x"
                   : "1";
    f[RDM_C_ENCOUNTER_ID] = enc;
    f[C_RACE] = race;
    f[C_TIH] = tih;
    f[C_LAB] = lab;
    f[RDM_PROFILE_F_BATCH] = batch;
    for (int g = 0; g < 3; g++)
        f[RDM_PROFILE_F_GROUP1 + g] = "other";
    f[RDM_PROFILE_F_TARGET] = target;
    rdm_err err = {0};
    return rdm_profile_add(p, f, &err);
}

static const json_t *column(const json_t *j, const char *name)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(j, "columns"), i, c)
    {
        if (!strcmp(json_string_value(json_object_get(c, "name")), name))
            return c;
    }
    return NULL;
}

static long long ival(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void test_profile_stats(void)
{
    rdm_profile *p = rdm_profile_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(add(p, "A", "1", "0", "2", "1", "10"), 0);
    CU_ASSERT_EQUAL(add(p, "A", "2", "50", "2", "0", "11"), 0);
    CU_ASSERT_EQUAL(add(p, "B", "3", "100", "1", "0", "12"), 0);
    CU_ASSERT_EQUAL(add(p, NULL, "10", "100", "2", "0", "12"), 0);
    rdm_err err = {0};
    json_t *j = rdm_profile_json(p, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);

    CU_ASSERT_EQUAL(ival(j, "rows"), 4);
    CU_ASSERT_EQUAL(ival(j, "positives"), 1);
    const json_t *cb = json_object_get(j, "class_balance");
    CU_ASSERT_EQUAL(ival(cb, "negative"), 3);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(cb, "positive_rate")), 0.25, 1e-12);

    /* rows per batch, ascending */
    const json_t *b = json_object_get(j, "batches");
    CU_ASSERT_EQUAL_FATAL(json_array_size(b), 2);
    CU_ASSERT_EQUAL(ival(json_array_get(b, 0), "batch_id"), 1);
    CU_ASSERT_EQUAL(ival(json_array_get(b, 0), "rows"), 1);
    CU_ASSERT_EQUAL(ival(json_array_get(b, 1), "rows"), 3);
    CU_ASSERT_EQUAL(ival(json_array_get(b, 1), "positives"), 1);

    /* categorical: missing, distinct, top values with target rate */
    const json_t *race = column(j, "race");
    CU_ASSERT_PTR_NOT_NULL_FATAL(race);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(race, "kind")), "categorical");
    CU_ASSERT_EQUAL(ival(race, "missing"), 1);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(race, "missing_rate")), 0.25, 1e-12);
    CU_ASSERT_EQUAL(ival(race, "distinct"), 2);
    const json_t *top = json_object_get(race, "top");
    CU_ASSERT_EQUAL_FATAL(json_array_size(top), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(top, 0), "value")),
                           "A");
    CU_ASSERT_EQUAL(ival(json_array_get(top, 0), "count"), 2);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(json_array_get(top, 0), "target_rate")),
                           0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(json_array_get(top, 1), "target_rate")),
                           0.0, 1e-12);

    /* numeric: 1, 2, 3, 10 */
    const json_t *tih = column(j, "time_in_hospital");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tih);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(tih, "kind")), "numeric");
    CU_ASSERT_EQUAL(ival(tih, "min"), 1);
    CU_ASSERT_EQUAL(ival(tih, "max"), 10);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(tih, "mean")), 4.0, 1e-12);
    const json_t *q = json_object_get(tih, "quantiles");
    /* nearest rank: ceil(q * 4) -> p5: 1st, p25: 1st, p50: 2nd, p75: 3rd, p95: 4th */
    CU_ASSERT_EQUAL(ival(q, "p5"), 1);
    CU_ASSERT_EQUAL(ival(q, "p25"), 1);
    CU_ASSERT_EQUAL(ival(q, "p50"), 2);
    CU_ASSERT_EQUAL(ival(q, "p75"), 3);
    CU_ASSERT_EQUAL(ival(q, "p95"), 10);
    const json_t *h = json_object_get(tih, "histogram");
    const json_t *edges = json_object_get(h, "edges"), *counts = json_object_get(h, "counts");
    CU_ASSERT_EQUAL_FATAL(json_array_size(counts), 10); /* one bin per value 1..10 */
    CU_ASSERT_EQUAL(json_array_size(edges), 11);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(edges, 0)), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(edges, 10)), 11);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(counts, 0)), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(counts, 3)), 0);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(counts, 9)), 1);

    /* wide range: 20 equal bins of width 5 over [0, 100]; 100 is in the last */
    const json_t *lab = column(j, "num_lab_procedures");
    h = json_object_get(lab, "histogram");
    counts = json_object_get(h, "counts");
    CU_ASSERT_EQUAL_FATAL(json_array_size(counts), 20);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(counts, 0)), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(counts, 10)), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_array_get(counts, 19)), 2);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_array_get(json_object_get(h, "edges"), 1)), 5.0,
                           1e-12);

    /* id column: distinct only, no top */
    const json_t *enc = column(j, "encounter_id");
    CU_ASSERT_EQUAL(ival(enc, "distinct"), 3);
    CU_ASSERT_PTR_NULL(json_object_get(enc, "top"));
    /* derived target column */
    const json_t *tg = column(j, "target");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tg);
    CU_ASSERT_EQUAL(ival(tg, "distinct"), 2);

    json_decref(j);
    rdm_profile_free(p);
}

static void test_profile_bad_value(void)
{
    rdm_profile *p = rdm_profile_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_NOT_EQUAL(add(p, "A", "three", "0", "1", "0", "1"), 0);
    rdm_profile_free(p);
}

/* A row of pseudo-random values through both entry points: text (as read
 * back from clean.encounters) and typed (as clean writes it). The profiles
 * must be the same document; the numbers span signs and magnitudes so that
 * the quantiles' sort sees every byte. */
static void test_profile_typed_same(void)
{
    rdm_profile *a = rdm_profile_new(), *b = rdm_profile_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    const rdm_column *cols = rdm_schema_columns();
    unsigned long long x = 88172645463325252ULL;
    static const char *const cats[] = {"A", "B", "C", "No", "Steady", "<script>"};
    char text[RDM_NCOLS][32], bid[32];
    for (int r = 0; r < 3000; r++) {
        const char *f[RDM_PROFILE_NFIELDS];
        long num[RDM_NCOLS];
        for (int i = 0; i < RDM_NCOLS; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int k = cols[i].kind;
            num[i] = 0;
            if (x % 11 == 0) {
                f[i] = NULL; /* missing */
            } else if (k == RDM_COL_ID || k == RDM_COL_INT || k == RDM_COL_CODE) {
                long v = (long)(x >> 20) % (i % 3 == 0 ? 100000000000L : i % 3 == 1 ? 300 : 7);
                if (x & 1)
                    v = -v;
                num[i] = v;
                snprintf(text[i], sizeof text[i], "%ld", v);
                f[i] = text[i];
            } else {
                f[i] = cats[x % 6];
            }
        }
        long batch = 1 + r / 700;
        snprintf(bid, sizeof bid, "%ld", batch);
        for (int g = 0; g < 3; g++)
            f[RDM_PROFILE_F_GROUP1 + g] = cats[(x >> g) % 3];
        f[RDM_PROFILE_F_TARGET] = (x >> 5) % 9 == 0 ? "1" : "0";
        rdm_err err = {0};
        f[RDM_PROFILE_F_BATCH] = bid;
        CU_ASSERT_EQUAL(rdm_profile_add(a, f, &err), 0);
        f[RDM_PROFILE_F_BATCH] = NULL;
        CU_ASSERT_EQUAL(rdm_profile_add_typed(b, f, NULL, num, batch, &err), 0);
    }
    rdm_err err = {0};
    json_t *ja = rdm_profile_json(a, &err), *jb = rdm_profile_json(b, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ja);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jb);
    char *ta = json_dumps(ja, JSON_COMPACT | JSON_PRESERVE_ORDER),
         *tb = json_dumps(jb, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    /* the quantiles are those of the sorted values: p50 of a column of
     * magnitudes up to 1e11 with both signs lies within its min and max */
    const json_t *enc = column(ja, cols[RDM_C_ENCOUNTER_ID].name);
    CU_ASSERT(ival(enc, "min") < 0 && ival(enc, "max") > 1000000000L);
    const json_t *c9 = column(ja, cols[C_TIH].name);
    const json_t *q = json_object_get(c9, "quantiles");
    CU_ASSERT(ival(c9, "min") <= ival(q, "p5") && ival(q, "p5") <= ival(q, "p25") &&
              ival(q, "p25") <= ival(q, "p50") && ival(q, "p50") <= ival(q, "p75") &&
              ival(q, "p75") <= ival(q, "p95") && ival(q, "p95") <= ival(c9, "max"));
    free(ta);
    free(tb);
    json_decref(ja);
    json_decref(jb);
    rdm_profile_free(a);
    rdm_profile_free(b);
}

int test_profile_register(void);

int test_profile_register(void)
{
    CU_pSuite s = CU_add_suite("profile", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_profile_stats) && CU_ADD_TEST(s, test_profile_bad_value) &&
            CU_ADD_TEST(s, test_profile_typed_same))
               ? 0
               : -1;
}
