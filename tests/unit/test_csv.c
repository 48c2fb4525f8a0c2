/* test_csv.c - RFC 4180 reader: quoting, line ends, BOM, line numbers and the
 * per-record problems (field count, UTF-8, over-long, quotes), as one table of
 * inputs and expected records; a byte-at-a-time source; the record cap. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int test_csv_register(void);

/* Open `s` (strlen) with max field 16 and read the header. */
static rdm_csv *open_hdr(const char *s, size_t n)
{
    rdm_err err = {0};
    rdm_csv *c = rdm_csv_open_mem(s, n, 16, &err);
    CU_ASSERT_PTR_NOT_NULL(c);
    if (c && rdm_csv_read_header(c, &err) != RDM_OK) {
        CU_FAIL("header");
        rdm_csv_free(c);
        return NULL;
    }
    return c;
}

static int next(rdm_csv *c, rdm_csv_record *r)
{
    rdm_err err = {0};
    return rdm_csv_next(c, r, &err);
}

/* One expected record: its problem, first and last line (0: not checked),
 * its fields joined with '|' (NULL: not checked), the reason (NULL: not
 * checked) and the raw bytes kept for a reject (NULL: not checked). */
typedef struct want_rec {
    rdm_csv_problem problem;
    long line, last_line;
    const char *fields, *reason, *raw;
} want_rec;

/* Each input is read with max_field_bytes 16; the header is `header`
 * (joined with '|'), then exactly the records listed (or at least them when
 * `partial`). Expected values worked out by hand from RFC 4180 and csv.h. */
static const struct {
    const char *name, *input, *header;
    int partial;
    want_rec recs[5];
} CASES[] = {
    {"quoted comma",
     "a,b\n\"x,y\",2\n",
     "a|b",
     0,
     {{RDM_CSV_OK, 2, 2, "x,y|2", NULL, "\"x,y\",2"}}},
    {"doubled quotes",
     "a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n",
     "a|b",
     0,
     {{RDM_CSV_OK, 2, 2, "say \"hi\"|\"", NULL, NULL}}},
    {"embedded newline: a record over lines 2-4",
     "a,b\n\"one\ntwo\nthree\",x\nlast,y\n",
     "a|b",
     0,
     {{RDM_CSV_OK, 2, 4, "one\ntwo\nthree|x", NULL, NULL},
      {RDM_CSV_OK, 5, 5, "last|y", NULL, NULL}}},
    {"BOM stripped, CRLF, empty line skipped, no final newline",
     "\xEF\xBB\xBF"
     "a,b\r\n1,\"q\"\r\n\r\n3,4",
     "a|b",
     0,
     {{RDM_CSV_OK, 2, 2, "1|q", NULL, "1,\"q\""}, {RDM_CSV_OK, 4, 4, "3|4", NULL, NULL}}},
    {"empty fields",
     "a,b,c\n,,\n\"\",x,\n",
     "a|b|c",
     0,
     {{RDM_CSV_OK, 2, 2, "||", NULL, NULL}, {RDM_CSV_OK, 3, 3, "|x|", NULL, NULL}}},
    {"field count",
     "a,b,c\n1,2\n1,2,3,4\n5,6,7\n",
     "a|b|c",
     0,
     {{RDM_CSV_FIELD_COUNT, 2, 0, NULL, "line 2: 2 fields, expected 3", "1,2"},
      {RDM_CSV_FIELD_COUNT, 3, 0, NULL, "line 3: 4 fields, expected 3", "1,2,3,4"},
      {RDM_CSV_OK, 4, 4, "5|6|7", NULL, NULL}}},
    {"invalid UTF-8 (\\xFF, overlong, lone continuation byte)",
     "name,city\nJos\xC3\xA9,Ok\nx,Bad\xFF\n\xC0\xAF,y\n\x80,z\n",
     "name|city",
     0,
     {{RDM_CSV_OK, 2, 2, "Jos\xC3\xA9|Ok", NULL, NULL},
      {RDM_CSV_UTF8, 3, 0, NULL, "line 3, column 'city': invalid UTF-8", "x,Bad\xFF"},
      {RDM_CSV_UTF8, 4, 0, NULL, "line 4, column 'name': invalid UTF-8", NULL},
      {RDM_CSV_UTF8, 5, 0, NULL, NULL, NULL}}},
    {"unterminated quote: that line alone is rejected, reading resumes",
     "a,b\n1,2\n3,\"open\n5,6\n7,8\n",
     "a|b",
     0,
     {{RDM_CSV_OK, 2, 2, "1|2", NULL, NULL},
      {RDM_CSV_UNTERMINATED, 3, 0, NULL, "line 3, column 'b': unterminated quote at end of file",
       "3,\"open"},
      {RDM_CSV_OK, 4, 4, "5|6", NULL, NULL},
      {RDM_CSV_OK, 5, 5, "7|8", NULL, NULL}}},
    {"unterminated quote on the last line, no newline",
     "a,b\n1,\"x",
     "a|b",
     0,
     {{RDM_CSV_UNTERMINATED, 2, 0, NULL, NULL, "1,\"x"}}},
    {"a quote still open after max_field_bytes",
     "a,b\n1,\"x\n2,yyyyyyyyyyyyyyyyyyyy\n3,\"\n4,5\n",
     "a|b",
     1,
     {{RDM_CSV_UNTERMINATED, 2, 0, NULL,
       "line 2, column 'b': unterminated quote (not closed within 16 bytes)", NULL},
      {RDM_CSV_TOO_LONG, 3, 0, NULL, NULL, NULL}}},
    {"over-long field (17 > 16; exactly 16 is fine) and stray quotes",
     "a,b\n1,12345678901234567\n1,1234567890123456\nab\"c,d\n\"x\"y,z\n",
     "a|b",
     0,
     {{RDM_CSV_TOO_LONG, 2, 0, NULL, "line 2, column 'b': field of 17 bytes, longer than 16", NULL},
      {RDM_CSV_OK, 3, 3, "1|1234567890123456", NULL, NULL},
      {RDM_CSV_STRAY_QUOTE, 4, 0, NULL, "line 4, column 'a': stray quote in unquoted field", NULL},
      {RDM_CSV_STRAY_QUOTE, 5, 0, NULL, NULL, NULL}}},
};

/* The fields of r joined with '|'; each field's length must be its string's. */
static void joined(const rdm_csv_record *r, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < r->nfields && k < n; i++) {
        CU_ASSERT_EQUAL(r->lens[i], strlen(r->fields[i]));
        k += (size_t)snprintf(out + k, n - k, "%s%s", i ? "|" : "", r->fields[i]);
    }
}

static void test_csv_cases(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const char *in = CASES[i].input;
        rdm_csv *c = open_hdr(in, strlen(in));
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        const char *const *names;
        char got[256], hdr[256] = "";
        int nh = rdm_csv_header(c, &names);
        for (int k = 0; k < nh; k++)
            snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "%s%s", k ? "|" : "", names[k]);
        CU_ASSERT_STRING_EQUAL(hdr, CASES[i].header);
        size_t nr = 0;
        while (nr < 5 && CASES[i].recs[nr].line)
            nr++;
        for (size_t j = 0; j < nr; j++) {
            const want_rec *w = &CASES[i].recs[j];
            rdm_csv_record r;
            int more = next(c, &r);
            if (more != 1)
                fprintf(stderr, "\n    csv case '%s': record %zu missing", CASES[i].name, j + 1);
            CU_ASSERT_EQUAL_FATAL(more, 1);
            if (r.problem != w->problem || r.line != w->line)
                fprintf(stderr, "\n    csv case '%s', record %zu: problem %d line %ld (%s)",
                        CASES[i].name, j + 1, (int)r.problem, r.line, r.reason ? r.reason : "");
            CU_ASSERT_EQUAL(r.problem, w->problem);
            CU_ASSERT_EQUAL(r.line, w->line);
            if (w->last_line)
                CU_ASSERT_EQUAL(r.last_line, w->last_line);
            if (w->fields) {
                joined(&r, got, sizeof got);
                CU_ASSERT_STRING_EQUAL(got, w->fields);
            }
            if (w->reason)
                CU_ASSERT_STRING_EQUAL(r.reason, w->reason);
            if (w->raw) {
                CU_ASSERT_EQUAL(r.raw_len, strlen(w->raw));
                CU_ASSERT_TRUE(r.raw_len == strlen(w->raw) && !memcmp(r.raw, w->raw, r.raw_len));
            }
        }
        if (!CASES[i].partial) {
            rdm_csv_record r;
            CU_ASSERT_EQUAL(next(c, &r), 0);
        }
        rdm_csv_free(c);
    }
}

/* The UTF-8 validator the reader uses (cases worked out from RFC 3629). */
static void test_csv_utf8_validator(void)
{
    static const struct {
        const char *s;
        int valid;
    } cases[] = {
        {"Jos\xC3\xA9", 1},
        {"\xF0\x9F\x98\x80", 1}, /* U+1F600 */
        {"\xED\xA0\x80", 0},     /* surrogate */
        {"\xF4\x90\x80\x80", 0}, /* > U+10FFFF */
        {"\xE2\x82", 0},         /* truncated */
        {"\xC0\xAF", 0},         /* overlong */
        {"\x80", 0},             /* lone continuation byte */
        {"Bad\xFF", 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CU_ASSERT_EQUAL(!!rdm_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].valid);
}

/* Byte source handing out 1 byte at a time: every record crosses a refill. */
typedef struct {
    const char *s;
    size_t n, pos;
} trickle;

static long trickle_read(void *ud, char *buf, size_t n, rdm_err *err)
{
    (void)err;
    trickle *t = ud;
    if (t->pos >= t->n || n == 0)
        return 0;
    buf[0] = t->s[t->pos++];
    return 1;
}

static void test_csv_trickle_source(void)
{
    const char *s = "\xEF\xBB\xBF"
                    "a,b\r\n\"x\"\"\r\ny\",2\r\n3,\"4\"";
    trickle t = {s, strlen(s), 0};
    rdm_err err = {0};
    rdm_csv *c = rdm_csv_create(trickle_read, &t, 0, "mem", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_read_header(c, &err), RDM_OK);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "x\"\r\ny");
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_EQUAL(r.last_line, 3);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "4");
    CU_ASSERT_EQUAL(r.line, 4);
    CU_ASSERT_EQUAL(rdm_csv_next(c, &r, &err), 0);
    CU_ASSERT_EQUAL(rdm_csv_bytes(c), strlen(s) - 3);
    rdm_csv_free(c);
}

static void test_csv_record_too_long(void)
{
    /* a 3 MiB line (no newline inside) is over the 1 MiB cap: rejected with its
     * first 64 KiB, the reader skips to the next line and memory stays bounded */
    size_t big = 3u << 20;
    const char *hdr = "a,b\n";
    size_t n = strlen(hdr) + big + 1 + 4;
    char *s = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    strcpy(s, hdr);
    memset(s + strlen(hdr), 'x', big);
    memcpy(s + strlen(hdr) + big, "\n1,2\n", 6);
    rdm_csv *c = open_hdr(s, n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_RECORD_TOO_LONG);
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_EQUAL(r.raw_len, 65536);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 2: record longer than 1048576 bytes");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL(r.line, 3);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "2");
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);
    free(s);
}

static void test_csv_empty_input(void)
{
    rdm_err err = {0};
    rdm_csv *c = rdm_csv_open_mem("", 0, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(rdm_csv_read_header(c, &err), RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no header"));
    rdm_csv_free(c);
}

int test_csv_register(void)
{
    CU_pSuite s = CU_add_suite("csv", NULL, NULL);
    if (!s)
        return -1;
    return (CU_ADD_TEST(s, test_csv_cases) && CU_ADD_TEST(s, test_csv_utf8_validator) &&
            CU_ADD_TEST(s, test_csv_trickle_source) && CU_ADD_TEST(s, test_csv_record_too_long) &&
            CU_ADD_TEST(s, test_csv_empty_input))
               ? 0
               : -1;
}
