/* test_db.c - what db.c does without a server: COPY text-format escaping and
 * splitting, and the statement table behind the generated rdm_sql_id. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

int test_db_register(void);

/* ---- rdm_copy_escape ---- */

typedef struct esc_case {
    const char *in; /* NULL = SQL NULL */
    const char *want;
} esc_case;

static const esc_case ESC[] = {
    {NULL, "\\N"},
    {"", ""},
    {"plain", "plain"},
    {"a\tb", "a\\tb"},
    {"line\nbreak", "line\\nbreak"},
    {"cr\rhere", "cr\\rhere"},
    {"back\\slash", "back\\\\slash"},
    {"\\N", "\\\\N"}, /* the two characters, not a NULL */
    {"\t\n\r\\", "\\t\\n\\r\\\\"},
    {"caf\xc3\xa9", "caf\xc3\xa9"}, /* UTF-8 bytes pass through */
    {"?", "?"},
};

static void test_copy_escape_table(void)
{
    for (size_t i = 0; i < sizeof ESC / sizeof ESC[0]; i++) {
        rdm_buf b = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_copy_escape(&b, ESC[i].in), RDM_OK);
        const char *got = b.data ? b.data : "";
        if (strcmp(got, ESC[i].want))
            fprintf(stderr, "\nescape case %zu: got '%s', want '%s'\n", i, got, ESC[i].want);
        CU_ASSERT_STRING_EQUAL(got, ESC[i].want);
        rdm_buf_release(&b);
    }
}

/* ---- rdm_copy_split ---- */

typedef struct split_case {
    const char *line; /* as the server sends it, with its newline */
    int max;
    int nf;                /* expected field count, -1 = too many */
    const char *fields[5]; /* expected values; "<NULL>" = SQL NULL */
} split_case;

static const split_case SPLIT[] = {
    {"a\tb\tc\n", 5, 3, {"a", "b", "c"}},
    {"one\n", 5, 1, {"one"}},
    {"\n", 5, 1, {""}},
    {"\\N\tx\n", 5, 2, {"<NULL>", "x"}},
    {"\t\n", 5, 2, {"", ""}},
    {"a\\tb\tc\\nd\n", 5, 2, {"a\tb", "c\nd"}},
    {"back\\\\slash\n", 5, 1, {"back\\slash"}},
    {"\\\\N\n", 5, 1, {"\\N"}}, /* escaped backslash + N: text, not NULL */
    {"\\r\\b\\f\\v\n", 5, 1, {"\r\b\f\v"}},
    {"no newline", 5, 1, {"no newline"}},
    {"a\tb\tc\n", 2, -1, {NULL}},
};

static void test_copy_split_table(void)
{
    for (size_t i = 0; i < sizeof SPLIT / sizeof SPLIT[0]; i++) {
        const split_case *c = &SPLIT[i];
        char line[128];
        size_t len = strlen(c->line);
        memcpy(line, c->line, len + 1);
        char *f[5];
        int nf = rdm_copy_split(line, len, f, c->max);
        CU_ASSERT_EQUAL(nf, c->nf);
        if (nf != c->nf) {
            fprintf(stderr, "\nsplit case %zu: %d fields, want %d\n", i, nf, c->nf);
            continue;
        }
        for (int k = 0; k < nf; k++) {
            if (!strcmp(c->fields[k], "<NULL>")) {
                CU_ASSERT_PTR_NULL(f[k]);
            } else if (f[k]) {
                CU_ASSERT_STRING_EQUAL(f[k], c->fields[k]);
            } else {
                fprintf(stderr, "\nsplit case %zu: field %d is NULL\n", i, k);
                CU_FAIL("unexpected NULL field");
            }
        }
    }
}

/* escape then split gives back every value, NULL included */
static void test_copy_roundtrip(void)
{
    const char *vals[] = {"x\ty", NULL, "", "\\N", "a\\b\nc\r", "last"};
    const int n = (int)(sizeof vals / sizeof vals[0]);
    rdm_buf b = RDM_BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i)
            CU_ASSERT_EQUAL(rdm_buf_addc(&b, '\t'), RDM_OK);
        CU_ASSERT_EQUAL(rdm_copy_escape(&b, vals[i]), RDM_OK);
    }
    CU_ASSERT_EQUAL(rdm_buf_addc(&b, '\n'), RDM_OK);
    char *f[8];
    CU_ASSERT_EQUAL_FATAL(rdm_copy_split(b.data, b.len, f, 8), n);
    for (int i = 0; i < n; i++) {
        if (!vals[i]) {
            CU_ASSERT_PTR_NULL(f[i]);
        } else if (f[i]) {
            CU_ASSERT_STRING_EQUAL(f[i], vals[i]);
        } else {
            CU_FAIL("value came back as NULL");
        }
    }
    rdm_buf_release(&b);
}

/* ---- the statement table ---- */

/* RDM_SQL_<NAME> indexes the statement sql/<name>.sql: names sorted and
 * unique, every text non-empty, and the generated constant spells the name. */
static void test_sql_ids(void)
{
    CU_ASSERT_TRUE(RDM_SQL_COUNT > 0);
    CU_ASSERT_STRING_EQUAL(rdm_sql_name(RDM_SQL_RAW_INSERT_BATCH), "raw_insert_batch");
    CU_ASSERT_STRING_EQUAL(rdm_sql_name(RDM_SQL_SCHEMA_001_RAW), "schema/001_raw");
    CU_ASSERT_PTR_NOT_NULL(strstr(rdm_sql_text(RDM_SQL_META_BEGIN), "BEGIN"));
    CU_ASSERT_PTR_NULL(rdm_sql_name(RDM_SQL_COUNT));
    CU_ASSERT_PTR_NULL(rdm_sql_text((rdm_sql_id)-1));
    for (int i = 0; i < RDM_SQL_COUNT; i++) {
        const char *n = rdm_sql_name((rdm_sql_id)i), *t = rdm_sql_text((rdm_sql_id)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_TRUE(strlen(t) > 0);
        if (i > 0)
            CU_ASSERT_TRUE(strcmp(rdm_sql_name((rdm_sql_id)(i - 1)), n) < 0);
        for (const char *p = n; *p; p++)
            CU_ASSERT_TRUE(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' ||
                           *p == '/');
    }
}

/* ---- binary COPY field values ---- */

typedef struct bin_case {
    unsigned char bytes[8];
    size_t len;
    int64_t want;
} bin_case;

static const bin_case INTS[] = {
    {{0x00, 0x01}, 2, 1},
    {{0xff, 0xfe}, 2, -2},
    {{0x00, 0x01, 0x00, 0x00}, 4, 65536},
    {{0xff, 0xff, 0xff, 0xff}, 4, -1},
    {{0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}, 8, INT64_C(4294967296)},
    {{0x80, 0, 0, 0, 0, 0, 0, 0}, 8, INT64_MIN},
    {{0x01, 0x02, 0x03}, 3, 7}, /* no integer has 3 bytes: the default */
};

static void test_copy_binary_values(void)
{
    for (size_t i = 0; i < sizeof INTS / sizeof INTS[0]; i++) {
        rdm_copy_field f = {INTS[i].bytes, INTS[i].len};
        CU_ASSERT_EQUAL(rdm_copy_int(&f, 7), INTS[i].want);
    }
    rdm_copy_field null = {NULL, 0};
    CU_ASSERT_EQUAL(rdm_copy_int(&null, -5), -5);
    CU_ASSERT_EQUAL(rdm_copy_float8(&null, 2.5), 2.5);
    CU_ASSERT_EQUAL(rdm_copy_epoch(&null, 3.5), 3.5);
    // float8 0.1 is 0x3fb999999999999a, sent most significant byte first
    const unsigned char tenth[8] = {0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a};
    rdm_copy_field f = {tenth, 8};
    CU_ASSERT_EQUAL(rdm_copy_float8(&f, 0), 0.1);
    // timestamptz 2026-01-01 00:00:00.5 UTC: microseconds since 2000-01-01
    // (820540800500000 = 0x0002ea470af00120), unix seconds 1767225600.5
    const unsigned char ts[8] = {0x00, 0x02, 0xea, 0x47, 0x0a, 0xf0, 0x01, 0x20};
    f = (rdm_copy_field){ts, 8};
    CU_ASSERT_EQUAL(rdm_copy_epoch(&f, 0), 1767225600.5);
    // before 2000: negative microseconds (1999-12-31 23:59:59 UTC)
    const unsigned char early[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 0xbd, 0xc0};
    f = (rdm_copy_field){early, 8};
    CU_ASSERT_EQUAL(rdm_copy_epoch(&f, 0), 946684799.0);
}

int test_db_register(void)
{
    CU_pSuite s = CU_add_suite("db", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_copy_escape_table) && CU_ADD_TEST(s, test_copy_split_table) &&
            CU_ADD_TEST(s, test_copy_roundtrip) && CU_ADD_TEST(s, test_sql_ids) &&
            CU_ADD_TEST(s, test_copy_binary_values))
               ? 0
               : -1;
}
