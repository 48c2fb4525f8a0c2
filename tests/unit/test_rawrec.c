/* test_rawrec.c - the raw.records layout: the bytes written for known fields
 * (worked out by hand from the layout in rawrec.h), the split back, and
 * malformed records refused. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "db.h"
#include "rawrec.h"

int test_rawrec_register(void);

static void test_put_copy_bytes(void)
{
    char a[] = "12", b[] = "x\x1fy\x1ez", c[] = "", d[] = "t\tn\nr\rb\\";
    char *f[] = {a, b, c, d};
    size_t n[] = {2, 5, 0, 8};
    char out[64];
    char *end = rdm_rawrec_put_copy(out, f, n, 4);
    static const char want[] = "12\x1f"
                               "x\x1e\x01y\x1e\x02z\x1f\x1f"
                               "t\\tn\\nr\\rb\\\\";
    CU_ASSERT_EQUAL((size_t)(end - out), sizeof want - 1);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof want - 1), 0);
}

/* written, sent through COPY text (unescaped as the server stores it), split */
static void test_round_trip(void)
{
    char a[] = "\x1e\x1e\x01", b[] = "?", c[] = "\x1f", d[] = "a\\tb";
    char *f[] = {a, b, c, d};
    size_t n[] = {3, 1, 1, 4};
    char out[64];
    char *end = rdm_rawrec_put_copy(out, f, n, 4);
    *end = '\0';
    char *one[2];
    CU_ASSERT_EQUAL_FATAL(rdm_copy_split(out, (size_t)(end - out), one, 2), 1);
    char *g[5];
    size_t m[5];
    CU_ASSERT_EQUAL_FATAL(rdm_rawrec_split(one[0], strlen(one[0]), g, m, 5), 4);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(m[i], n[i]);
        CU_ASSERT_EQUAL(memcmp(g[i], f[i], n[i]), 0);
        CU_ASSERT_EQUAL(g[i][m[i]], '\0');
    }
}

static void test_split_refuses(void)
{
    char *g[3];
    size_t m[3];
    char many[] = "a\x1f"
                  "b\x1f"
                  "c\x1f"
                  "d";
    CU_ASSERT_EQUAL(rdm_rawrec_split(many, strlen(many), g, m, 3), -1);
    char bad[] = "a\x1e\x03";
    CU_ASSERT_EQUAL(rdm_rawrec_split(bad, strlen(bad), g, m, 3), -1);
    char cut[] = "a\x1f"
                 "b\x1e";
    CU_ASSERT_EQUAL(rdm_rawrec_split(cut, strlen(cut), g, m, 3), -1);
    char empty[] = "";
    CU_ASSERT_EQUAL(rdm_rawrec_split(empty, 0, g, m, 3), 1);
    CU_ASSERT_EQUAL(m[0], 0);
}

int test_rawrec_register(void)
{
    CU_pSuite s = CU_add_suite("rawrec", NULL, NULL);
    if (!s || !CU_add_test(s, "record bytes of known fields", test_put_copy_bytes) ||
        !CU_add_test(s, "write, COPY, split gives the fields back", test_round_trip) ||
        !CU_add_test(s, "split refuses too many fields and bad escapes", test_split_refuses))
        return -1;
    return 0;
}
