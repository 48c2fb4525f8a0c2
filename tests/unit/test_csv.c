/* test_csv.c - RFC 4180 reader: quoting, line ends, BOM, line numbers and the
 * per-record problems (field count, UTF-8, over-long, quotes). */
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

static void test_csv_quoted_comma(void)
{
    const char *s = "a,b\n\"x,y\",2\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const char *const *names;
    CU_ASSERT_EQUAL(rdm_csv_header(c, &names), 2);
    CU_ASSERT_STRING_EQUAL(names[1], "b");
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL_FATAL(r.nfields, 2);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "x,y");
    CU_ASSERT_EQUAL(r.lens[0], 3);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "2");
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_EQUAL(r.raw_len, 7);
    CU_ASSERT_EQUAL(memcmp(r.raw, "\"x,y\",2", 7), 0);
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);
}

static void test_csv_doubled_quotes(void)
{
    const char *s = "a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "say \"hi\"");
    CU_ASSERT_STRING_EQUAL(r.fields[1], "\"");
    rdm_csv_free(c);
}

static void test_csv_embedded_newline(void)
{
    /* line 1 header; record 1 spans lines 2-4; record 2 is line 5 */
    const char *s = "a,b\n\"one\ntwo\nthree\",x\nlast,y\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "one\ntwo\nthree");
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_EQUAL(r.last_line, 4);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "last");
    CU_ASSERT_EQUAL(r.line, 5);
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);
}

static void test_csv_crlf_bom_no_final_newline(void)
{
    const char *s = "\xEF\xBB\xBF"
                    "a,b\r\n1,\"q\"\r\n\r\n3,4";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const char *const *names;
    rdm_csv_header(c, &names);
    CU_ASSERT_STRING_EQUAL(names[0], "a"); /* BOM stripped */
    CU_ASSERT_STRING_EQUAL(names[1], "b"); /* no \r left */
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "q");
    CU_ASSERT_EQUAL(r.raw_len, 5); /* 1,"q" without CRLF */
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1); /* the empty line 3 is skipped */
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL(r.line, 4);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "3");
    CU_ASSERT_STRING_EQUAL(r.fields[1], "4");
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);
}

static void test_csv_empty_fields(void)
{
    const char *s = "a,b,c\n,,\n\"\",x,\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL_FATAL(r.nfields, 3);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "");
    CU_ASSERT_STRING_EQUAL(r.fields[2], "");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL_FATAL(r.nfields, 3);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "x");
    CU_ASSERT_EQUAL(r.lens[2], 0);
    rdm_csv_free(c);
}

static void test_csv_field_count(void)
{
    const char *s = "a,b,c\n1,2\n1,2,3,4\n5,6,7\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_FIELD_COUNT);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 2: 2 fields, expected 3");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_FIELD_COUNT);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 3: 4 fields, expected 3");
    CU_ASSERT_EQUAL(r.raw_len, 7);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL(r.line, 4);
    rdm_csv_free(c);
}

static void test_csv_invalid_utf8(void)
{
    /* \xC3\xA9 is valid (e acute); \xFF, an overlong \xC0\xAF and a lone
     * continuation byte are not */
    const char *s = "name,city\nJos\xC3\xA9,Ok\nx,Bad\xFF\n\xC0\xAF,y\n\x80,z\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_UTF8);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 3, column 'city': invalid UTF-8");
    CU_ASSERT_EQUAL(r.raw_len, 6);
    CU_ASSERT_EQUAL(memcmp(r.raw, "x,Bad\xFF", 6), 0);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_UTF8);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 4, column 'name': invalid UTF-8");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_UTF8);
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);
    CU_ASSERT_TRUE(rdm_utf8_valid("\xF0\x9F\x98\x80", 4));  /* U+1F600 */
    CU_ASSERT_FALSE(rdm_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    CU_ASSERT_FALSE(rdm_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    CU_ASSERT_FALSE(rdm_utf8_valid("\xE2\x82", 2));         /* truncated */
}

static void test_csv_unterminated_quote(void)
{
    /* the quote on line 3 never closes: line 3 alone is rejected and the
     * reader resumes at line 4 (the rest of the file is not swallowed) */
    const char *s = "a,b\n1,2\n3,\"open\n5,6\n7,8\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_UNTERMINATED);
    CU_ASSERT_EQUAL(r.line, 3);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 3, column 'b': unterminated quote at end of file");
    CU_ASSERT_EQUAL(r.raw_len, 7);
    CU_ASSERT_EQUAL(memcmp(r.raw, "3,\"open", 7), 0);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL(r.line, 4);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "5");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.line, 5);
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);

    /* last line of the file, no newline */
    const char *t = "a,b\n1,\"x";
    c = open_hdr(t, strlen(t));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_UNTERMINATED);
    CU_ASSERT_EQUAL(r.raw_len, 4);
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);

    /* a quote still open after max_field_bytes (16) with a closing quote later */
    const char *u = "a,b\n1,\"x\n2,yyyyyyyyyyyyyyyyyyyy\n3,\"\n4,5\n";
    c = open_hdr(u, strlen(u));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_UNTERMINATED);
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_STRING_EQUAL(r.reason,
                           "line 2, column 'b': unterminated quote (not closed within 16 bytes)");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.line, 3);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_TOO_LONG);
    rdm_csv_free(c);
}

static void test_csv_over_long_and_stray_quote(void)
{
    const char *s = "a,b\n1,12345678901234567\n1,1234567890123456\nab\"c,d\n\"x\"y,z\n";
    rdm_csv *c = open_hdr(s, strlen(s));
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_TOO_LONG);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 2, column 'b': field of 17 bytes, longer than 16");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK); /* exactly 16 is fine */
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_STRAY_QUOTE);
    CU_ASSERT_STRING_EQUAL(r.reason, "line 4, column 'a': stray quote in unquoted field");
    CU_ASSERT_EQUAL_FATAL(next(c, &r), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_STRAY_QUOTE);
    CU_ASSERT_EQUAL(r.line, 5);
    CU_ASSERT_EQUAL(next(c, &r), 0);
    rdm_csv_free(c);
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
    return (CU_ADD_TEST(s, test_csv_quoted_comma) && CU_ADD_TEST(s, test_csv_doubled_quotes) &&
            CU_ADD_TEST(s, test_csv_embedded_newline) &&
            CU_ADD_TEST(s, test_csv_crlf_bom_no_final_newline) &&
            CU_ADD_TEST(s, test_csv_empty_fields) && CU_ADD_TEST(s, test_csv_field_count) &&
            CU_ADD_TEST(s, test_csv_invalid_utf8) && CU_ADD_TEST(s, test_csv_unterminated_quote) &&
            CU_ADD_TEST(s, test_csv_over_long_and_stray_quote) &&
            CU_ADD_TEST(s, test_csv_trickle_source) && CU_ADD_TEST(s, test_csv_record_too_long) &&
            CU_ADD_TEST(s, test_csv_empty_input))
               ? 0
               : -1;
}
