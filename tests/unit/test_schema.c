/* test_schema.c - schema.c: ICD-9 chapters, target, missing values, integer
 * parsing (each one table of inputs and expected outputs worked out from the
 * ICD-9 chapter ranges and the data set's documentation), and the column
 * lists of the SQL in sql/ agreeing with the one column table. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "schema.h"

int test_schema_register(void);

static void test_icd9_chapters(void)
{
    static const struct {
        const char *code, *chapter;
    } cases[] = {
        {"250", "diabetes"},
        {"250.83", "diabetes"},
        {"250.01", "diabetes"},
        {"249", "endocrine"},
        {"251", "endocrine"},
        {"240", "endocrine"},
        {"279", "endocrine"},
        {"390", "circulatory"},
        {"428", "circulatory"},
        {"459.9", "circulatory"},
        {"785", "circulatory"},
        {"460", "respiratory"},
        {"519", "respiratory"},
        {"786", "respiratory"},
        {"520", "digestive"},
        {"579", "digestive"},
        {"787", "digestive"},
        {"580", "genitourinary"},
        {"629", "genitourinary"},
        {"788", "genitourinary"},
        {"800", "injury"},
        {"999", "injury"},
        {"710", "musculoskeletal"},
        {"739", "musculoskeletal"},
        {"140", "neoplasms"},
        {"239", "neoplasms"},
        {"1", "infectious"},
        {"8", "infectious"},
        {"139", "infectious"},
        {"280", "blood"},
        {"289", "blood"},
        {"290", "mental"},
        {"319", "mental"},
        {"320", "nervous"},
        {"365.44", "nervous"},
        {"389", "nervous"},
        {"680", "skin"},
        {"709", "skin"},
        {"740", "congenital"},
        {"759", "congenital"},
        {"630", "pregnancy"},
        {"679", "pregnancy"},
        {"780", "symptoms"},
        {"783", "symptoms"},
        {"789", "symptoms"},
        {"799", "symptoms"},
        {"V57", "supplementary"},
        {"v45", "supplementary"},
        {"E888", "external"},
        {"e812", "external"},
        {"?", "missing"},
        {"", "missing"},
        {NULL, "missing"},
        {"0", "other"},
        {"1000", "other"},
        {"abc", "other"},
        {"12x", "other"},
        {"4 28", "other"},
        {"nan", "other"},
        {"-nan", "other"},
        {"inf", "other"},
        {"1e300", "other"},
        {"-250", "other"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = rdm_icd9_chapter(cases[i].code);
        if (strcmp(got, cases[i].chapter) != 0)
            fprintf(stderr, "\n    icd9 '%s': got %s, expected %s",
                    cases[i].code ? cases[i].code : "(null)", got, cases[i].chapter);
        CU_ASSERT_STRING_EQUAL(got, cases[i].chapter);
    }
    /* every name returned is in the published list */
    const char *const *all = rdm_icd9_chapters();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int found = 0;
        for (int j = 0; all[j]; j++)
            found |= !strcmp(all[j], cases[i].chapter);
        CU_ASSERT_TRUE(found);
    }
}

static void test_value_helpers(void)
{
    static const struct {
        const char *v;
        int missing, target;
    } cases[] = {
        {NULL, 1, -1}, {"", 1, -1},   {"?", 1, -1}, {"??", 0, -1}, {"None", 0, -1},
        {"<30", 0, 1}, {">30", 0, 0}, {"NO", 0, 0}, {"no", 0, -1}, {" <30", 0, -1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(rdm_value_is_missing(cases[i].v), cases[i].missing);
        CU_ASSERT_EQUAL(rdm_target_from(cases[i].v), cases[i].target);
    }

    static const struct {
        const char *s;
        int rc;
        long v;
    } nums[] = {
        {"0", 0, 0},    {"42", 0, 42},
        {"-7", 0, -7},  {"+7", -1, 0},
        {" 7", -1, 0},  {"7 ", -1, 0},
        {"", -1, 0},    {"x", -1, 0},
        {"1.5", -1, 0}, {"99999999999999999999", -1, 0},
    };

    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        long v = 0;
        CU_ASSERT_EQUAL(rdm_parse_long(nums[i].s, &v), nums[i].rc);
        if (nums[i].rc == 0)
            CU_ASSERT_EQUAL(v, nums[i].v);
    }
    char out[8];
    CU_ASSERT_EQUAL(rdm_value_normalize("  Surgery\t", out, sizeof out), 7);
    CU_ASSERT_STRING_EQUAL(out, "Surgery");
    CU_ASSERT_EQUAL(rdm_value_normalize("Cardiology", out, sizeof out), 7);
    CU_ASSERT_STRING_EQUAL(out, "Cardiol");
}

/* The double-quoted identifiers of SQL text, comments removed, in order
 * (name and, when `types` is set, the word after it), one per line. */
static char *quoted_names(const char *sql, int types)
{
    rdm_buf out = RDM_BUF_INIT;
    int bad = 0;
    for (const char *p = sql; *p && !bad;) {
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
            continue;
        }
        if (*p == '\'') { /* string literal */
            const char *e = strchr(p + 1, '\'');
            p = e ? e + 1 : p + strlen(p);
            continue;
        }
        if (*p != '"') {
            p++;
            continue;
        }
        const char *e = strchr(p + 1, '"');
        if (!e)
            break;
        bad |= rdm_buf_add(&out, p + 1, (size_t)(e - p - 1));
        p = e + 1;
        if (types) {
            while (*p == ' ')
                p++;
            size_t n = 0;
            while (isalpha((unsigned char)p[n]))
                n++;
            bad |= rdm_buf_addc(&out, ' ') || rdm_buf_add(&out, p, n);
        }
        bad |= rdm_buf_addc(&out, '\n');
    }
    return rdm_buf_take(&out);
}

/* The schema's column list in the same form; `types`: 0 none, 1 all text
 * (raw), 2 the clean table's types. */
static char *schema_names(int types)
{
    const rdm_column *cols = rdm_schema_columns();
    rdm_buf out = RDM_BUF_INIT;
    int bad = 0;
    for (int i = 0; i < RDM_NCOLS; i++) {
        const char *t = "";
        if (types == 1)
            t = " text";
        else if (types == 2)
            t = cols[i].kind == RDM_COL_ID                                    ? " bigint"
                : cols[i].kind == RDM_COL_INT || cols[i].kind == RDM_COL_CODE ? " integer"
                                                                              : " text";
        bad |= rdm_buf_printf(&out, "%s%s\n", cols[i].name, t);
    }
    return bad ? NULL : rdm_buf_take(&out);
}

static void check_text(const char *stmt, const char *sql, int types)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(sql);
    char *got = quoted_names(sql, types), *want = schema_names(types);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n    sql/%s.sql: column list differs from schema.c", stmt);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
    free(want);
}

static void check_sql(rdm_sql_id id, int types)
{
    check_text(rdm_sql_name(id), rdm_sql_text(id), types);
}

/* Every statement that lists the 50 columns lists exactly the schema's, in
 * order; the two tables give them the schema's types. */
static void test_sql_columns_agree(void)
{
    check_sql(RDM_SQL_SCHEMA_001_RAW, 1);
    check_sql(RDM_SQL_SCHEMA_002_CLEAN, 2);
    /* 012: the old table's columns go into records, then the view gives them back */
    const char *m = rdm_sql_text(RDM_SQL_SCHEMA_012_RAW_RECORDS), *v = strstr(m, "CREATE VIEW");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    char *head = strndup(m, (size_t)(v - m));
    CU_ASSERT_PTR_NOT_NULL_FATAL(head);
    check_text("schema/012_raw_records (records)", head, 0);
    check_text("schema/012_raw_records (view)", v, 0);
    free(head);
    static const rdm_sql_id stmts[] = {
        RDM_SQL_CLEAN_COPY_IN_ENCOUNTERS, RDM_SQL_CLEAN_COPY_PROFILE, RDM_SQL_TRAIN_COPY_ENCOUNTERS,
        RDM_SQL_TRAIN_COPY_SPLIT_ENCOUNTERS, RDM_SQL_TRAIN_COPY_RANGE_ENCOUNTERS};
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        check_sql(stmts[i], 0);
}

/* The checker itself notices a reordered or missing column. */
static void test_sql_checker_fails(void)
{
    char *want = schema_names(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    char *a = quoted_names("COPY t (\"patient_nbr\", \"encounter_id\") FROM STDIN", 0);
    CU_ASSERT_STRING_EQUAL(a, "patient_nbr\nencounter_id\n");
    CU_ASSERT_TRUE(strcmp(a, want) != 0);
    char *b = quoted_names(
        "-- \"x\" in a comment\nCREATE TABLE t (\"a\" text, b int, 'it''s' \"c\" integer);", 1);
    CU_ASSERT_STRING_EQUAL(b, "a text\nc integer\n");
    free(a);
    free(b);
    free(want);
}

int test_schema_register(void)
{
    CU_pSuite s = CU_add_suite("schema", NULL, NULL);
    if (!s)
        return -1;
    return (CU_ADD_TEST(s, test_icd9_chapters) && CU_ADD_TEST(s, test_value_helpers) &&
            CU_ADD_TEST(s, test_sql_columns_agree) && CU_ADD_TEST(s, test_sql_checker_fails))
               ? 0
               : -1;
}
