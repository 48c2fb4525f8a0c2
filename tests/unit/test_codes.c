/* test_codes.c - the code-label mapping file: the three stacked tables of
 * the UCI layout (CRLF, quoted labels with commas, leading blanks), the
 * synthetic mapping `readmit synth --mapping` writes, and bad lines reported
 * with their line numbers and kept while the good ones still count. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "codes.h"
#include "schema.h"
#include "synth.h"

int test_codes_register(void);

static void test_layout(void)
{
    static const char F[] = "admission_type_id,description\r\n"
                            "1,Emergency\r\n"
                            "2,Urgent\r\n"
                            ",\r\n"
                            "discharge_disposition_id,description\r\n"
                            "1,Discharged to home\r\n"
                            "19,\"Expired at home, somewhere.\"\r\n"
                            ",\r\n"
                            "admission_source_id,description\r\n"
                            "1, Physician Referral\r\n";
    rdm_code_labels cl = {0};
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_code_labels_parse(F, sizeof F - 1, "m.csv", &cl, &err), RDM_OK);
    CU_ASSERT_EQUAL(cl.n, 5);
    CU_ASSERT_EQUAL(cl.nbad, 0);
    int at = rdm_schema_find("admission_type_id"), dd = rdm_schema_find("discharge_disposition_id"),
        as = rdm_schema_find("admission_source_id");
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, at, "1"), "Emergency");
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, dd, "1"), "Discharged to home");
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, dd, "19"), "Expired at home, somewhere.");
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, as, "1"), "Physician Referral");
    CU_ASSERT_PTR_NULL(rdm_code_labels_find(&cl, as, "2"));
    CU_ASSERT_EQUAL(cl.v[0].line, 2);
    CU_ASSERT_EQUAL(strlen(cl.sha256), 64);
    rdm_code_labels_release(&cl);
}

/* Each kind of bad line, on a known line; the good lines around them count. */
static void test_bad_lines(void)
{
    static const char F[] = "1,Before any table\n"              /* 1 */
                            "admission_type_id,description\n"   /* 2 */
                            "1,Emergency\n"                     /* 3 */
                            "x1,Not a code\n"                   /* 4 */
                            "3,\n"                              /* 5 */
                            "1,Emergency again\n"               /* 6 */
                            "4,Newborn,extra\n"                 /* 7 */
                            "5,\"Not \"Available\n"             /* 8 */
                            "6,NULL\n"                          /* 9 */
                            ",\n"                               /* 10 */
                            "payer_id,description\n"            /* 11 */
                            "1,Medicare\n"                      /* 12 */
                            "admission_source_id,description\n" /* 13 */
                            "7, Emergency Room\n";              /* 14 */
    rdm_code_labels cl = {0};
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_code_labels_parse(F, sizeof F - 1, "m.csv", &cl, &err), RDM_OK);
    CU_ASSERT_EQUAL(cl.n, 3); /* 1 Emergency, 6 NULL, 7 Emergency Room */

    static const struct {
        long line;
        const char *says;
    } WANT[] = {{1, "row outside a table"},
                {4, "code 'x1' is not a positive integer"},
                {5, "code 3 has an empty description"},
                {6, "code 1 is listed twice in its table (the one on line 3 is kept)"},
                {7, "expected 2 fields (code,description), got 3"},
                {8, "quote"},
                {11, "table 'payer_id' is not admission_type_id"},
                {12, "row of an unknown table"}};

    CU_ASSERT_EQUAL_FATAL(cl.nbad, sizeof WANT / sizeof WANT[0]);
    for (size_t i = 0; i < cl.nbad; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "m.csv line %ld: ", WANT[i].line);
        CU_ASSERT_EQUAL(cl.bad[i].line, WANT[i].line);
        CU_ASSERT_PTR_NOT_NULL(strstr(cl.bad[i].reason, prefix));
        CU_ASSERT_PTR_NOT_NULL(strstr(cl.bad[i].reason, WANT[i].says));
    }
    CU_ASSERT_STRING_EQUAL(cl.bad[3].raw, "1,Emergency again"); /* kept as read */
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, rdm_schema_find("admission_type_id"), "1"),
                           "Emergency");
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, rdm_schema_find("admission_source_id"), "7"),
                           "Emergency Room");
    rdm_code_labels_release(&cl);
    /* a file without any table: every line bad, nothing fails */
    CU_ASSERT_EQUAL(rdm_code_labels_parse("id,name\n1,2\n", 12, "x.csv", &cl, &err), RDM_OK);
    CU_ASSERT_EQUAL(cl.n, 0);
    CU_ASSERT_EQUAL(cl.nbad, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(cl.bad[0].reason, "x.csv line 1: row outside a table"));
    rdm_code_labels_release(&cl);
}

static void test_synthetic_mapping(void)
{
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_synth_mapping(&b, &err), RDM_OK);
    rdm_code_labels cl = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_code_labels_parse(b.data, b.len, "synth", &cl, &err), RDM_OK);
    CU_ASSERT_EQUAL(cl.nbad, 0);
    CU_ASSERT_EQUAL(cl.n, 8 + 27 + 11); /* every code synth writes */
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, rdm_schema_find("admission_source_id"), "1"),
                           "Physician Referral");
    CU_ASSERT_STRING_EQUAL(rdm_code_labels_find(&cl, rdm_schema_find("admission_source_id"), "7"),
                           "Synthetic source, code 7");
    rdm_code_labels_release(&cl);
    rdm_buf_release(&b);
}

int test_codes_register(void)
{
    CU_pSuite s = CU_add_suite("codes", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_layout) && CU_ADD_TEST(s, test_bad_lines) &&
            CU_ADD_TEST(s, test_synthetic_mapping))
               ? 0
               : -1;
}
