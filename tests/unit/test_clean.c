/* test_clean.c - the row conversion and rule functions of the clean stage. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "config.h"
#include "schema.h"

/* A plausible source row (values as in the CSV). */
static const char *const ROW[RDM_NCOLS] = {
    "2278392", "8222157", " Caucasian ", "Female", "[0-10)", "?",
    "6",       "25",      "1",           "1",      "?",      "Pediatrics-Endocrinology",
    "41",      "0",       "1",           "0",      "0",      "0",
    "250.83",  "V57",     "?",           "1",      "None",   "None",
    "No",      "No",      "No",          "No",     "No",     "No",
    "No",      "No",      "No",          "No",     "No",     "No",
    "No",      "No",      "No",          "No",     "No",     "No",
    "No",      "No",      "No",          "No",     "No",     "No",
    "No",      "<30"};

typedef struct typed {
    const char *raw[RDM_NCOLS];
    char *scratch;
    rdm_clean_row row;
    rdm_clean_issue issue;
    int rc;
} typed;

/* Type ROW with column `col` replaced by `v` (col < 0: unchanged). */
static void type_with(typed *t, int col, const char *v)
{
    memcpy(t->raw, ROW, sizeof t->raw);
    if (col >= 0)
        t->raw[col] = v;
    t->scratch = malloc(rdm_clean_scratch_size(t->raw));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->scratch);
    memset(&t->issue, 0, sizeof t->issue);
    t->rc = rdm_clean_type_row(t->raw, t->scratch, &t->row, &t->issue);
}

static void test_parse_int(void)
{
    long x = -1;
    CU_ASSERT_EQUAL(rdm_clean_parse_int("12", RDM_COL_INT, &x), 0);
    CU_ASSERT_EQUAL(x, 12);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("-3", RDM_COL_INT, &x), 0);
    CU_ASSERT_EQUAL(x, -3);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("?", RDM_COL_INT, &x), 1);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("", RDM_COL_CODE, &x), 1);
    CU_ASSERT_EQUAL(rdm_clean_parse_int(NULL, RDM_COL_CODE, &x), 1);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("1.5", RDM_COL_INT, &x), -1);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("forty", RDM_COL_INT, &x), -1);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("+3", RDM_COL_INT, &x), -1);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("12a", RDM_COL_INT, &x), -1);
    /* integer columns are 32-bit in clean.encounters, ids 64-bit */
    CU_ASSERT_EQUAL(rdm_clean_parse_int("2147483648", RDM_COL_CODE, &x), -1);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("2147483647", RDM_COL_INT, &x), 0);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("443867222", RDM_COL_ID, &x), 0);
    CU_ASSERT_EQUAL(x, 443867222L);
    CU_ASSERT_EQUAL(rdm_clean_parse_int("99999999999", RDM_COL_ID, &x), 0);
    CU_ASSERT_EQUAL(x, 99999999999L);
}

static void test_type_row(void)
{
    typed t;
    type_with(&t, -1, NULL);
    CU_ASSERT_EQUAL_FATAL(t.rc, 0);
    CU_ASSERT_EQUAL(t.row.num[RDM_C_ENCOUNTER_ID], 2278392L);
    CU_ASSERT_EQUAL(t.row.num[RDM_C_PATIENT_NBR], 8222157L);
    CU_ASSERT_STRING_EQUAL(t.row.val[2], "Caucasian"); /* trimmed */
    CU_ASSERT_PTR_NULL(t.row.val[5]);                  /* weight '?' */
    CU_ASSERT_PTR_NULL(t.row.val[10]);                 /* payer_code '?' */
    CU_ASSERT_EQUAL(t.row.num[RDM_C_DISCHARGE], 25);
    CU_ASSERT_EQUAL(t.row.num[12], 41);            /* num_lab_procedures */
    CU_ASSERT_STRING_EQUAL(t.row.val[22], "None"); /* max_glu_serum: a category */
    CU_ASSERT_STRING_EQUAL(t.row.val[23], "None"); /* A1Cresult */
    CU_ASSERT_EQUAL(t.row.target, 1);
    CU_ASSERT_STRING_EQUAL(t.row.group[0], "diabetes");      /* 250.83 */
    CU_ASSERT_STRING_EQUAL(t.row.group[1], "supplementary"); /* V57 */
    CU_ASSERT_STRING_EQUAL(t.row.group[2], "missing");       /* ? */
    free(t.scratch);

    type_with(&t, RDM_C_READMITTED, "NO");
    CU_ASSERT_EQUAL(t.row.target, 0);
    free(t.scratch);
    type_with(&t, RDM_C_READMITTED, ">30");
    CU_ASSERT_EQUAL(t.row.target, 0);
    free(t.scratch);
    type_with(&t, RDM_C_DIAG_1, "428");
    CU_ASSERT_STRING_EQUAL(t.row.group[0], "circulatory");
    free(t.scratch);
    type_with(&t, 9, " 7 "); /* time_in_hospital with spaces is still an integer */
    CU_ASSERT_EQUAL(t.rc, 0);
    CU_ASSERT_EQUAL(t.row.num[9], 7);
    free(t.scratch);
    type_with(&t, 9, " ? "); /* missing after trimming */
    CU_ASSERT_EQUAL(t.rc, 0);
    CU_ASSERT_PTR_NULL(t.row.val[9]);
    free(t.scratch);
    type_with(&t, RDM_C_ENCOUNTER_ID, NULL); /* SQL NULL */
    CU_ASSERT_EQUAL(t.rc, 0);
    CU_ASSERT_PTR_NULL(t.row.val[RDM_C_ENCOUNTER_ID]);
    free(t.scratch);
}

static void test_type_reject(void)
{
    typed t;
    type_with(&t, 12, "forty");
    CU_ASSERT_EQUAL(t.rc, -1);
    CU_ASSERT_STRING_EQUAL(t.issue.rule, "type:num_lab_procedures");
    CU_ASSERT_PTR_NOT_NULL(strstr(t.issue.detail, "'forty'"));
    free(t.scratch);
    type_with(&t, 6, "1.0");
    CU_ASSERT_EQUAL(t.rc, -1);
    CU_ASSERT_STRING_EQUAL(t.issue.rule, "type:admission_type_id");
    free(t.scratch);
    type_with(&t, RDM_C_PATIENT_NBR, "P123");
    CU_ASSERT_EQUAL(t.rc, -1);
    CU_ASSERT_STRING_EQUAL(t.issue.rule, "type:patient_nbr");
    free(t.scratch);
    /* a long multi-byte value is cut on a character boundary in the detail */
    char big[400];
    memset(big, 0, sizeof big);
    for (int i = 0; i < 100; i++)
        memcpy(big + 3 * i, "\xE2\x82\xAC", 3); /* the euro sign */
    type_with(&t, 13, big);
    CU_ASSERT_EQUAL(t.rc, -1);
    const char *q = strchr(t.issue.detail, '\'');
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    size_t n = strcspn(q + 1, "'");
    CU_ASSERT_EQUAL(n % 3, 0);
    CU_ASSERT(n <= 60);
    free(t.scratch);
}

static void test_rules(void)
{
    typed t;
    char n_g[] = "gender_allowed", c_g[] = "gender", female[] = "Female", male[] = "Male";
    char n_t[] = "tih", c_t[] = "time_in_hospital", n_p[] = "payer_present", c_p[] = "payer_code";
    char n_w[] = "weight_missing", c_w[] = "weight";
    char *g[] = {female, male, NULL};
    rdm_rule allowed = {.name = n_g,
                        .column = c_g,
                        .col = 3,
                        .kind = RDM_RULE_ALLOWED,
                        .allowed = g,
                        .nallowed = 2,
                        .hard = 1};
    rdm_rule range = {.name = n_t,
                      .column = c_t,
                      .col = 9,
                      .kind = RDM_RULE_RANGE,
                      .min = 1,
                      .max = 14,
                      .hard = 1};
    rdm_rule notnull = {
        .name = n_p, .column = c_p, .col = 10, .kind = RDM_RULE_NOT_NULL, .hard = 0};
    rdm_rule missing = {
        .name = n_w, .column = c_w, .col = 5, .kind = RDM_RULE_MISSING, .max_missing = 0.1};
    rdm_clean_issue is;

    type_with(&t, -1, NULL);
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&allowed, &t.row, &is), 0);
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&range, &t.row, &is), 0); /* 1 is the lower bound */
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&notnull, &t.row, &is), 1);
    CU_ASSERT_STRING_EQUAL(is.rule, "payer_present");
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&missing, &t.row, &is), 0); /* not a row rule */
    free(t.scratch);

    type_with(&t, 3, "Robot");
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&allowed, &t.row, &is), 1);
    CU_ASSERT_STRING_EQUAL(is.rule, "gender_allowed");
    CU_ASSERT_PTR_NOT_NULL(strstr(is.detail, "Robot"));
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&allowed, &t.row, NULL), 1);
    free(t.scratch);
    type_with(&t, 3, "?"); /* missing values break only not_null */
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&allowed, &t.row, &is), 0);
    free(t.scratch);

    type_with(&t, 9, "14");
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&range, &t.row, &is), 0);
    free(t.scratch);
    type_with(&t, 9, "99");
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&range, &t.row, &is), 1);
    CU_ASSERT_STRING_EQUAL(is.rule, "tih");
    free(t.scratch);
    type_with(&t, 9, "0");
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&range, &t.row, &is), 1);
    free(t.scratch);

    /* allowed values of an integer column compare as integers */
    char one[] = "1", two[] = "2", n_a[] = "adm", c_a[] = "admission_type_id";
    char *codes[] = {one, two, NULL};
    rdm_rule adm = {.name = n_a,
                    .column = c_a,
                    .col = 6,
                    .kind = RDM_RULE_ALLOWED,
                    .allowed = codes,
                    .nallowed = 2,
                    .hard = 1};
    type_with(&t, 6, "02");
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&adm, &t.row, &is), 0);
    free(t.scratch);
    type_with(&t, 6, "3");
    CU_ASSERT_EQUAL(rdm_clean_rule_violated(&adm, &t.row, &is), 1);
    free(t.scratch);

    CU_ASSERT_EQUAL(rdm_clean_missing_exceeds(&missing, 10, 100), 0); /* 10% is not above 10% */
    CU_ASSERT_EQUAL(rdm_clean_missing_exceeds(&missing, 11, 100), 1);
    CU_ASSERT_EQUAL(rdm_clean_missing_exceeds(&missing, 0, 0), 0);
}

static void test_required_and_filter(void)
{
    typed t;
    rdm_clean_issue is;
    type_with(&t, -1, NULL);
    CU_ASSERT_EQUAL(rdm_clean_required_missing(&t.row, &is), 0);
    free(t.scratch);
    type_with(&t, RDM_C_READMITTED, "maybe");
    CU_ASSERT_EQUAL(t.row.target, -1);
    CU_ASSERT_EQUAL(rdm_clean_required_missing(&t.row, &is), 1);
    CU_ASSERT_STRING_EQUAL(is.rule, "required:readmitted");
    free(t.scratch);
    type_with(&t, RDM_C_PATIENT_NBR, "?");
    CU_ASSERT_EQUAL(rdm_clean_required_missing(&t.row, &is), 1);
    CU_ASSERT_STRING_EQUAL(is.rule, "required:patient_nbr");
    free(t.scratch);

    rdm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    long excl[] = {11, 13, 14, 19, 20, 21};
    cfg.clean.exclude_discharge = excl;
    cfg.clean.nexclude = 6;
    type_with(&t, RDM_C_DISCHARGE, "11"); /* expired */
    CU_ASSERT_EQUAL(rdm_clean_filtered(&cfg, &t.row), 1);
    free(t.scratch);
    type_with(&t, RDM_C_DISCHARGE, "21");
    CU_ASSERT_EQUAL(rdm_clean_filtered(&cfg, &t.row), 1);
    free(t.scratch);
    type_with(&t, RDM_C_DISCHARGE, "1");
    CU_ASSERT_EQUAL(rdm_clean_filtered(&cfg, &t.row), 0);
    free(t.scratch);
    type_with(&t, RDM_C_DISCHARGE, "?");
    CU_ASSERT_EQUAL(rdm_clean_filtered(&cfg, &t.row), 0);
    free(t.scratch);
}

int test_clean_register(void);

int test_clean_register(void)
{
    CU_pSuite s = CU_add_suite("clean", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_parse_int) && CU_ADD_TEST(s, test_type_row) &&
            CU_ADD_TEST(s, test_type_reject) && CU_ADD_TEST(s, test_rules) &&
            CU_ADD_TEST(s, test_required_and_filter))
               ? 0
               : -1;
}
