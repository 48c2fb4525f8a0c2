/* test_drift.c - PSI and field drift against hand-worked cases. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "drift.h"

int test_drift_register(void);

static const struct {
    const char *what;
    int k;
    double e[3], a[3];
    double want; /* NaN: undefined */
} PSI_CASES[] = {
    // shares .5/.5 -> .25/.75: -.25 ln .5 + .25 ln 1.5 = .173287 + .101366
    {"two bins", 2, {1, 1}, {1, 3}, 0.2746531},
    {"same shares, other totals", 3, {2, 3, 5}, {4, 6, 10}, 0.0},
    // .1 ln 1.5 + 0 + (-.1) ln .8 = .0405465 + .0223144
    {"three bins", 3, {0.2, 0.3, 0.5}, {0.3, 0.3, 0.4}, 0.0628609},
    // empty reference bin floored at 1e-4: -.5 ln .5 + (.5 - 1e-4) ln 5000 = .346574 + 4.257745
    {"empty reference bin", 2, {1, 0}, {1, 1}, 4.6043187},
    {"empty reference", 2, {0, 0}, {1, 1}, NAN},
    {"empty live", 2, {1, 1}, {0, 0}, NAN},
};

static void test_psi_table(void)
{
    for (size_t i = 0; i < sizeof PSI_CASES / sizeof PSI_CASES[0]; i++) {
        double got = rdm_psi(PSI_CASES[i].e, PSI_CASES[i].a, PSI_CASES[i].k);
        if (isnan(PSI_CASES[i].want)) {
            CU_ASSERT(isnan(got));
        } else {
            CU_ASSERT_DOUBLE_EQUAL(got, PSI_CASES[i].want, 1e-6);
        }
    }
}

static void test_levels(void)
{
    static const struct {
        double psi;
        int want;
    } L[] = {{0.0, 0}, {0.099, 0}, {0.1, 1}, {0.2499, 1}, {0.25, 2}, {3.0, 2}, {NAN, 0}};

    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        CU_ASSERT_EQUAL(rdm_drift_level(L[i].psi, 0.1, 0.25), L[i].want);
}

/* 100 training rows: time_in_hospital 1..3 (10/20/10 + 60 outside the bins is
 * impossible, so the profile says 40 present and 60 missing); race with two
 * listed levels, one more level unlisted (5 rows) and 5 missing. */
static const char *PROFILE =
    "{\"rows\": 100, \"columns\": ["
    "{\"name\": \"encounter_id\", \"kind\": \"id\", \"missing\": 0},"
    "{\"name\": \"race\", \"kind\": \"categorical\", \"missing\": 5, \"distinct\": 3,"
    " \"top\": [{\"value\": \"Caucasian\", \"count\": 60}, {\"value\": \"AfricanAmerican\","
    " \"count\": 30}]},"
    "{\"name\": \"time_in_hospital\", \"kind\": \"numeric\", \"missing\": 60,"
    " \"histogram\": {\"edges\": [1, 2, 3, 4], \"counts\": [10, 20, 10]}},"
    "{\"name\": \"readmitted\", \"kind\": \"categorical\", \"missing\": 0, \"distinct\": 1,"
    " \"top\": [{\"value\": \"NO\", \"count\": 100}]}]}";
static const char *INPUT_SCHEMA = "{\"fields\": [{\"name\": \"race\", \"type\": \"categorical\","
                                  " \"levels\": [\"Caucasian\", \"AfricanAmerican\", \"Asian\"]}]}";

static int load_ref(rdm_drift_ref *r, int with_schema)
{
    json_t *p = json_loads(PROFILE, 0, NULL), *s = json_loads(INPUT_SCHEMA, 0, NULL);
    rdm_err err = {0};
    int rc = rdm_drift_ref_from_profile(p, with_schema ? s : NULL, r, &err);
    json_decref(p);
    json_decref(s);
    return rc;
}

static void test_reference_and_bins(void)
{
    rdm_drift_ref r;
    CU_ASSERT_EQUAL_FATAL(load_ref(&r, 1), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(r.n, 2); // ids and the target are not features
    const rdm_drift_field *race = &r.f[0], *tih = &r.f[1];
    CU_ASSERT_STRING_EQUAL(race->name, "race");
    CU_ASSERT_EQUAL(race->nbins, 3);
    CU_ASSERT_DOUBLE_EQUAL(race->ref[2], 5, 0); // other = 100 - 5 missing - 90 listed
    CU_ASSERT_DOUBLE_EQUAL(race->ref[3], 5, 0); // missing
    CU_ASSERT_EQUAL(tih->nbins, 3);
    CU_ASSERT_DOUBLE_EQUAL(tih->ref[3], 60, 0);

    static const struct {
        int field;
        const char *v;
        int bin, unseen;
    } B[] = {
        {1, "1", 0, 0},         {1, "2", 1, 0},          {1, "3.5", 2, 0},      {1, "4", 2, 0},
        {1, "0", 0, 0},         {1, "99", 2, 0},         {1, "?", 3, 0},        {1, NULL, 3, 0},
        {0, "Caucasian", 0, 0}, {0, " Caucasian", 0, 0}, {0, "Hispanic", 2, 1}, {0, "Asian", 2, 0},
        {0, "?", 3, 0},         {0, "", 3, 0},
    };

    for (size_t i = 0; i < sizeof B / sizeof B[0]; i++) {
        int unseen = -1;
        CU_ASSERT_EQUAL(rdm_drift_bin(&r.f[B[i].field], B[i].v, &unseen), B[i].bin);
        CU_ASSERT_EQUAL(unseen, B[i].unseen);
    }
    rdm_drift_ref_release(&r);
    // without the input schema the profile does not list every value (distinct 3 > 2
    // listed), so nothing counts as unseen
    CU_ASSERT_EQUAL_FATAL(load_ref(&r, 0), RDM_OK);
    int unseen = -1;
    CU_ASSERT_EQUAL(rdm_drift_bin(&r.f[0], "Hispanic", &unseen), 2);
    CU_ASSERT_EQUAL(unseen, 0);
    rdm_drift_ref_release(&r);
}

static void add_rows(rdm_drift_counts *c, const rdm_drift_ref *r, const char *race, const char *tih,
                     int times)
{
    const char *v[RDM_NCOLS] = {0};
    v[rdm_schema_find("race")] = race;
    v[rdm_schema_find("time_in_hospital")] = tih;
    for (int i = 0; i < times; i++)
        rdm_drift_counts_add(c, r, v);
}

static void test_compute_ranked(void)
{
    rdm_drift_ref r;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(load_ref(&r, 1), RDM_OK);
    rdm_drift_counts c, c2;
    CU_ASSERT_EQUAL_FATAL(rdm_drift_counts_init(&c, &r, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_drift_counts_init(&c2, &r, &err), RDM_OK);
    // time_in_hospital exactly as in training: 10/20/10 present, 60 missing.
    // race: 40 Caucasian, 40 AfricanAmerican, 10 Hispanic (other, unseen), 10 missing.
    add_rows(&c, &r, "Caucasian", "1", 10);
    add_rows(&c, &r, "Caucasian", "2", 20);
    add_rows(&c, &r, "Caucasian", "3", 10);
    add_rows(&c2, &r, "AfricanAmerican", NULL, 40);
    add_rows(&c2, &r, "Hispanic", NULL, 10);
    add_rows(&c2, &r, "?", NULL, 10);
    rdm_drift_counts_merge(&c, &c2, &r);
    CU_ASSERT_EQUAL(c.rows, 100);
    rdm_drift_result res[2];
    rdm_drift_compute(&r, &c, 0.1, 0.25, 1, res);
    // race shares .6 .3 .05 .05 -> .4 .4 .1 .1:
    // -.2 ln(2/3) + .1 ln(4/3) + .05 ln 2 + .05 ln 2 = .081093 + .028768 + .069315
    CU_ASSERT_EQUAL(res[0].field, 0);
    CU_ASSERT_DOUBLE_EQUAL(res[0].psi, 0.1791759, 1e-6);
    CU_ASSERT_EQUAL(res[0].level, 1);
    CU_ASSERT_DOUBLE_EQUAL(res[0].ref_missing, 0.05, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(res[0].live_missing, 0.10, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(res[0].unseen, 10.0 / 90.0, 1e-12);
    CU_ASSERT_EQUAL(res[1].field, 1);
    CU_ASSERT_DOUBLE_EQUAL(res[1].psi, 0.0, 1e-12);
    CU_ASSERT_EQUAL(res[1].level, 0);
    rdm_drift_counts_release(&c);
    rdm_drift_counts_release(&c2);
    rdm_drift_ref_release(&r);
}

static void test_score_psi(void)
{
    rdm_drift_ref r;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(load_ref(&r, 0), RDM_OK);
    rdm_drift_counts c;
    CU_ASSERT_EQUAL_FATAL(rdm_drift_counts_init(&c, &r, &err), RDM_OK);
    CU_ASSERT(isnan(rdm_drift_score_psi(&r, &c))); // no score reference
    r.has_score_ref = 1;
    r.score_ref[0] = r.score_ref[1] = 1;
    static const double P[] = {0.0, 0.05, 0.099, 0.1, 0.15, 0.19999, 1.0};
    static const int BIN[] = {0, 0, 0, 1, 1, 1, 9};
    for (size_t i = 0; i < sizeof P / sizeof P[0]; i++)
        CU_ASSERT_EQUAL(rdm_drift_score_bin(P[i]), BIN[i]);
    c.score[0] = 1;
    c.score[1] = 3;
    // the two-bin case of the PSI table plus eight empty bins on both sides
    CU_ASSERT_DOUBLE_EQUAL(rdm_drift_score_psi(&r, &c), 0.2746531, 1e-6);
    rdm_drift_counts_release(&c);
    rdm_drift_ref_release(&r);
}

static void test_bad_profile(void)
{
    rdm_drift_ref r;
    rdm_err err = {0};
    json_t *p = json_loads("{\"rows\": 10, \"columns\": [{\"name\": \"num_procedures\","
                           " \"kind\": \"numeric\", \"histogram\": {\"edges\": [0, 1],"
                           " \"counts\": [1, 2]}}]}",
                           0, NULL);
    CU_ASSERT_EQUAL(rdm_drift_ref_from_profile(p, NULL, &r, &err), RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "num_procedures"));
    json_decref(p);
}

int test_drift_register(void)
{
    CU_pSuite s = CU_add_suite("drift", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_psi_table) && CU_ADD_TEST(s, test_levels) &&
            CU_ADD_TEST(s, test_reference_and_bins) && CU_ADD_TEST(s, test_compute_ranked) &&
            CU_ADD_TEST(s, test_score_psi) && CU_ADD_TEST(s, test_bad_profile))
               ? 0
               : -1;
}
