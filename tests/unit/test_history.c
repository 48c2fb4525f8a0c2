/* test_history.c - patient history features against a brute-force count, and
 * the leakage sentinel: changing this encounter or any later one of the same
 * patient (or adding later ones) changes nothing in this encounter's history. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "rng.h"

int test_history_register(void);

#define N 600

static void random_rows(rdm_hist_row *r, size_t n, uint64_t seed)
{
    rdm_rng g;
    rdm_rng_seed(&g, seed);
    for (size_t i = 0; i < n; i++) {
        r[i].patient = (int64_t)rdm_rng_below(&g, 60);
        r[i].encounter = (int64_t)rdm_rng_below(&g, 400); /* some ids repeat */
        r[i].days = 1 + (int)rdm_rng_below(&g, 14);
        r[i].emergency = rdm_rng_uniform(&g) < 0.4;
    }
}

static void test_brute_force(void)
{
    static rdm_hist_row r[N];
    static float f[N * RDM_NHIST];
    random_rows(r, N, 7);
    CU_ASSERT_EQUAL_FATAL(rdm_history_compute(r, N, f, NULL), RDM_OK);
    int bad = 0;
    for (size_t i = 0; i < N; i++) {
        double enc = 0, days = 0, em = 0;
        for (size_t j = 0; j < N; j++)
            if (r[j].patient == r[i].patient && r[j].encounter < r[i].encounter) {
                enc++;
                days += r[j].days;
                em += r[j].emergency;
            }
        bad += f[i * RDM_NHIST + RDM_HIST_ENCOUNTERS] != (float)enc ||
               f[i * RDM_NHIST + RDM_HIST_INPATIENT_DAYS] != (float)days ||
               f[i * RDM_NHIST + RDM_HIST_EMERGENCY] != (float)em;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* Leakage sentinel: for every row i, scramble row i and every row of the same
 * patient with encounter_id >= its own (their values, and the ids of the
 * others, which stay at or after it), add a later encounter: row i's
 * features must not move. */
static void test_leakage_sentinel(void)
{
    static rdm_hist_row r[N + 1], s[N + 1];
    static float f[N * RDM_NHIST], g[(N + 1) * RDM_NHIST];
    random_rows(r, N, 11);
    CU_ASSERT_EQUAL_FATAL(rdm_history_compute(r, N, f, NULL), RDM_OK);
    rdm_rng rng;
    rdm_rng_seed(&rng, 5);
    int moved = 0, changed_rows = 0;
    for (size_t i = 0; i < N; i += 7) {
        memcpy(s, r, N * sizeof *r);
        for (size_t j = 0; j < N; j++)
            if (s[j].patient == r[i].patient && s[j].encounter >= r[i].encounter) {
                if (j != i) /* this encounter keeps its id; later ones stay at or after it */
                    s[j].encounter = r[i].encounter + (int64_t)rdm_rng_below(&rng, 50);
                s[j].days = 1 + (int)rdm_rng_below(&rng, 14);
                s[j].emergency = !s[j].emergency;
                changed_rows++;
            }
        s[N] = (rdm_hist_row){r[i].patient, r[i].encounter + 1000, 14, 1};
        CU_ASSERT_EQUAL_FATAL(rdm_history_compute(s, N + 1, g, NULL), RDM_OK);
        moved += memcmp(f + i * RDM_NHIST, g + i * RDM_NHIST, RDM_NHIST * sizeof *f) != 0;
    }
    CU_ASSERT(changed_rows > N / 7);
    CU_ASSERT_EQUAL(moved, 0);
    /* and the sentinel can fail: an earlier encounter does move it */
    memcpy(s, r, N * sizeof *r);
    size_t i = 0;
    while (i < N && f[i * RDM_NHIST] == 0)
        i++;
    CU_ASSERT_FATAL(i < N);
    for (size_t j = 0; j < N; j++)
        if (s[j].patient == r[i].patient && s[j].encounter < r[i].encounter)
            s[j].days += 1;
    CU_ASSERT_EQUAL_FATAL(rdm_history_compute(s, N, g, NULL), RDM_OK);
    CU_ASSERT(g[i * RDM_NHIST + RDM_HIST_INPATIENT_DAYS] >
              f[i * RDM_NHIST + RDM_HIST_INPATIENT_DAYS]);
}

static void test_row(void)
{
    const char *v[RDM_NCOLS] = {0};
    v[rdm_schema_find("encounter_id")] = "12";
    v[rdm_schema_find("patient_nbr")] = "99";
    v[rdm_schema_find("time_in_hospital")] = "3";
    v[rdm_schema_find("admission_type_id")] = "2";
    v[rdm_schema_find("admission_source_id")] = "7";
    rdm_hist_row h;
    CU_ASSERT_EQUAL_FATAL(rdm_history_row(v, &h), 0);
    CU_ASSERT_EQUAL(h.encounter, 12);
    CU_ASSERT_EQUAL(h.patient, 99);
    CU_ASSERT_EQUAL(h.days, 3);
    CU_ASSERT_EQUAL(h.emergency, 1);
    v[rdm_schema_find("admission_source_id")] = "1";
    CU_ASSERT_EQUAL_FATAL(rdm_history_row(v, &h), 0);
    CU_ASSERT_EQUAL(h.emergency, 0);
    v[rdm_schema_find("patient_nbr")] = "?";
    CU_ASSERT_EQUAL(rdm_history_row(v, &h), -1);
    CU_ASSERT_STRING_EQUAL(rdm_history_name(RDM_HIST_EMERGENCY), "history_emergency");
}

int test_history_register(void)
{
    CU_pSuite s = CU_add_suite("history", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_brute_force) && CU_ADD_TEST(s, test_leakage_sentinel) &&
            CU_ADD_TEST(s, test_row))
               ? 0
               : -1;
}
