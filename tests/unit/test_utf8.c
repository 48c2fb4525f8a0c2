/* test_utf8.c - the UTF-8 validator, table-driven: every class of malformed
 * sequence (overlong, surrogate, above U+10FFFF, truncated, stray
 * continuation, impossible bytes) next to the well-formed edges. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

int test_utf8_register(void);

typedef struct seq_case {
    const char *what;
    const char *bytes;
    size_t n;
    size_t len;  /* rdm_utf8_seq at the start */
    unsigned cp; /* its code point when len > 0 */
    int valid;   /* rdm_utf8_valid over all n bytes */
} seq_case;

#define B(s) s, sizeof s - 1

static const seq_case SEQ[] = {
    {"empty", B(""), 0, 0, 1},
    {"ASCII", B("A"), 1, 0x41, 1},
    {"NUL byte", "\0", 1, 1, 0, 1},
    {"DEL", B("\x7f"), 1, 0x7f, 1},
    {"smallest 2-byte U+0080", B("\xC2\x80"), 2, 0x80, 1},
    {"e acute U+00E9", B("\xC3\xA9"), 2, 0xE9, 1},
    {"largest 2-byte U+07FF", B("\xDF\xBF"), 2, 0x7FF, 1},
    {"smallest 3-byte U+0800", B("\xE0\xA0\x80"), 3, 0x800, 1},
    {"euro U+20AC", B("\xE2\x82\xAC"), 3, 0x20AC, 1},
    {"last before surrogates U+D7FF", B("\xED\x9F\xBF"), 3, 0xD7FF, 1},
    {"first after surrogates U+E000", B("\xEE\x80\x80"), 3, 0xE000, 1},
    {"U+FFFF", B("\xEF\xBF\xBF"), 3, 0xFFFF, 1},
    {"smallest 4-byte U+10000", B("\xF0\x90\x80\x80"), 4, 0x10000, 1},
    {"emoji U+1F600", B("\xF0\x9F\x98\x80"), 4, 0x1F600, 1},
    {"largest U+10FFFF", B("\xF4\x8F\xBF\xBF"), 4, 0x10FFFF, 1},
    {"overlong '/' in 2 bytes (C0 AF)", B("\xC0\xAF"), 0, 0, 0},
    {"overlong NUL (C0 80)", B("\xC0\x80"), 0, 0, 0},
    {"overlong C1 BF", B("\xC1\xBF"), 0, 0, 0},
    {"overlong U+07FF in 3 bytes", B("\xE0\x9F\xBF"), 0, 0, 0},
    {"overlong '/' in 3 bytes", B("\xE0\x80\xAF"), 0, 0, 0},
    {"overlong U+FFFF in 4 bytes", B("\xF0\x8F\xBF\xBF"), 0, 0, 0},
    {"surrogate U+D800", B("\xED\xA0\x80"), 0, 0, 0},
    {"surrogate U+DBFF", B("\xED\xAF\xBF"), 0, 0, 0},
    {"surrogate U+DC00", B("\xED\xB0\x80"), 0, 0, 0},
    {"surrogate U+DFFF", B("\xED\xBF\xBF"), 0, 0, 0},
    {"surrogate pair as CESU-8", B("\xED\xA0\xBD\xED\xB8\x80"), 0, 0, 0},
    {"U+110000", B("\xF4\x90\x80\x80"), 0, 0, 0},
    {"lead F5", B("\xF5\x80\x80\x80"), 0, 0, 0},
    {"lead F8 (5-byte form)", B("\xF8\x88\x80\x80\x80"), 0, 0, 0},
    {"byte FE", B("\xFE"), 0, 0, 0},
    {"byte FF", B("\xFF"), 0, 0, 0},
    {"truncated 2-byte", B("\xC3"), 0, 0, 0},
    {"truncated 3-byte (1 of 2)", B("\xE2\x82"), 0, 0, 0},
    {"truncated 3-byte (0 of 2)", B("\xE2"), 0, 0, 0},
    {"truncated 4-byte (2 of 3)", B("\xF0\x9F\x98"), 0, 0, 0},
    {"lead then ASCII",
     B("\xC3"
       "A"),
     0, 0, 0},
    {"3-byte broken by ASCII",
     B("\xE2\x82"
       "A"),
     0, 0, 0},
    {"stray continuation", B("\x80"), 0, 0, 0},
    {"stray continuation BF", B("\xBF"), 0, 0, 0},
    {"Latin-1 e acute", B("\xE9"), 0, 0, 0},
    {"text then valid", B("ab\xC3\xA9"), 1, 'a', 1},
    {"text then truncated", B("ab\xE2\x82"), 1, 'a', 0},
    {"text then surrogate", B("ok\xED\xA0\x80"), 1, 'o', 0},
    {"valid then stray continuation", B("\xC3\xA9\xA9"), 2, 0xE9, 0},
};

static void test_seq_and_valid(void)
{
    for (size_t i = 0; i < sizeof SEQ / sizeof SEQ[0]; i++) {
        const seq_case *c = &SEQ[i];
        unsigned cp = 0xFFFFFFFFu;
        size_t len = rdm_utf8_seq(c->bytes, c->n, &cp);
        int valid = rdm_utf8_valid(c->bytes, c->n);
        if (len != c->len || (len && cp != c->cp) || valid != c->valid)
            fprintf(stderr,
                    "utf8 case '%s': seq %zu (want %zu) cp %X (want %X) valid %d (want %d)\n",
                    c->what, len, c->len, cp, c->cp, valid, c->valid);
        CU_ASSERT_EQUAL(len, c->len);
        if (len)
            CU_ASSERT_EQUAL(cp, c->cp);
        CU_ASSERT_EQUAL(valid, c->valid);
        CU_ASSERT_EQUAL(rdm_utf8_seq(c->bytes, c->n, NULL), c->len); /* cp may be NULL */
    }
}

typedef struct cut_case {
    const char *what;
    const char *bytes;
    size_t n;
    size_t want;
} cut_case;

static const cut_case CUT[] = {
    {"empty", B(""), 0},
    {"ASCII", B("abc"), 3},
    {"complete 2-byte", B("a\xC3\xA9"), 3},
    {"complete 4-byte", B("a\xF0\x9F\x98\x80"), 5},
    {"lead only", B("a\xC3"), 1},
    {"3-byte missing one", B("ab\xE2\x82"), 2},
    {"3-byte missing two", B("ab\xE2"), 2},
    {"4-byte missing one", B("x\xF0\x9F\x98"), 1},
    {"only continuations", B("\x80\x80"), 2},
    {"invalid lead kept", B("a\xFF"), 2},
};

static void test_cut(void)
{
    for (size_t i = 0; i < sizeof CUT / sizeof CUT[0]; i++) {
        size_t got = rdm_utf8_cut(CUT[i].bytes, CUT[i].n);
        if (got != CUT[i].want)
            fprintf(stderr, "utf8 cut '%s': %zu (want %zu)\n", CUT[i].what, got, CUT[i].want);
        CU_ASSERT_EQUAL(got, CUT[i].want);
    }
}

/* Every 2-byte and 3-byte pattern: valid exactly when the code point decodes
 * in the shortest form and is not a surrogate (an independent decoder). */
static void test_exhaustive(void)
{
    int bad = 0;
    for (unsigned a = 0x80; a <= 0xFF; a++)
        for (unsigned b = 0; b <= 0xFF; b++) {
            unsigned char s[2] = {(unsigned char)a, (unsigned char)b};
            int want = (a & 0xE0) == 0xC0 && (b & 0xC0) == 0x80 &&
                       ((((a & 0x1F) << 6) | (b & 0x3F)) >= 0x80);
            bad += rdm_utf8_valid((const char *)s, 2) != want;
        }
    for (unsigned a = 0xE0; a <= 0xEF; a++)
        for (unsigned b = 0x80; b <= 0xBF; b++)
            for (unsigned c = 0x80; c <= 0xBF; c++) {
                unsigned char s[3] = {(unsigned char)a, (unsigned char)b, (unsigned char)c};
                unsigned cp = ((a & 0x0F) << 12) | ((b & 0x3F) << 6) | (c & 0x3F);
                int want = cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF);
                bad += rdm_utf8_valid((const char *)s, 3) != want;
            }
    CU_ASSERT_EQUAL(bad, 0);
}

int test_utf8_register(void)
{
    CU_pSuite s = CU_add_suite("utf8", NULL, NULL);
    if (!s || !CU_add_test(s, "sequences and validation", test_seq_and_valid) ||
        !CU_add_test(s, "cut on a character boundary", test_cut) ||
        !CU_add_test(s, "every 2- and 3-byte pattern", test_exhaustive))
        return -1;
    return 0;
}
