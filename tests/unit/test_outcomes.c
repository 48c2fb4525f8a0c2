/* test_outcomes.c - outcome labels, timestamps and the outcomes CSV parser. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "outcomes.h"

int test_outcomes_register(void);

static void test_labels(void)
{
    static const struct {
        const char *v;
        int want;
    } L[] = {{"<30", 1}, {"1", 1},  {">30", 0},   {"NO", 0}, {"0", 0},  {"no", -1},
             {"", -1},   {"2", -1}, {"<30 ", -1}, {"?", -1}, {NULL, -1}};

    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        CU_ASSERT_EQUAL(rdm_outcome_label(L[i].v), L[i].want);
}

static void test_times(void)
{
    static const struct {
        const char *v;
        int ok;
    } T[] = {
        {"2026-01-31", 1},
        {"2026-01-31T10:20", 1},
        {"2026-01-31 10:20:30", 1},
        {"2026-01-31T10:20:30Z", 1},
        {"2026-01-31T10:20:30.25+02:00", 1},
        {"2026-01-31T10:20-05", 1},
        {"2026-02-30", 0},
        {"2026-13-01", 0},
        {"26-01-31", 0},
        {"2026-01-31T25:00", 0},
        {"2026-01-31T10:20Zx", 0},
        {"yesterday", 0},
        {"2026-01-31T10:20:30.Z", 0},
        {"", 0},
    };

    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        CU_ASSERT_EQUAL(rdm_outcome_time_ok(T[i].v), T[i].ok);
}

static void test_parse(void)
{
    static const char CSV[] = "encounter_id,extra,readmitted,observed_at\n"
                              "101,x,<30,2026-01-31\n"
                              "102,x,NO,\n"
                              "abc,x,NO,\n"
                              "103,x,maybe,\n"
                              "104,x,1,not a time\n"
                              "105,x,\n"
                              "0,x,0,\n";
    rdm_outcomes_parsed p;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_outcomes_parse(CSV, strlen(CSV), "o.csv", &p, &err), RDM_OK);
    CU_ASSERT_EQUAL(p.read, 7);
    CU_ASSERT_EQUAL(p.valid, 2);
    CU_ASSERT_EQUAL(p.rejected, 5);
    CU_ASSERT_STRING_EQUAL(p.rows.data, "101\t<30\t1\t2026-01-31\t2\n102\tNO\t0\t\\N\t3\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(p.rejects.data, "4\tabc,x,NO,\tencounter_id: not a positive"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.rejects.data, "5\t103,x,maybe,\treadmitted: 'maybe'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.rejects.data, "6\t104,x,1,not a time\tobserved_at:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.rejects.data, "7\t105,x,\t"));             // field count
    CU_ASSERT_PTR_NOT_NULL(strstr(p.rejects.data, "8\t0,x,0,\tencounter_id")); // zero
    rdm_outcomes_parsed_release(&p);
    static const char NOHDR[] = "id,readmitted\n1,NO\n";
    CU_ASSERT_EQUAL(rdm_outcomes_parse(NOHDR, strlen(NOHDR), "o.csv", &p, &err), RDM_ESCHEMA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "o.csv:1: header needs"));
}

int test_outcomes_register(void)
{
    CU_pSuite s = CU_add_suite("outcomes", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_labels) && CU_ADD_TEST(s, test_times) &&
            CU_ADD_TEST(s, test_parse))
               ? 0
               : -1;
}
