/* test_hash.c - the string hash FNV-1a steps with the basis 1469598103934665603
 * (values computed independently of the C code). */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "hash.h"

int test_hash_register(void);

static const struct {
    const char *s;
    uint64_t h;
} CASES[] = {
    {"", 0x14650fb0739d0383ULL /* the basis itself */},
    {"a", 0x44bd8ad473cd9906ULL},
    {"foobar", 0x88fad7c0a8ff07f2ULL},
};

static void test_fnv1a_vectors(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        CU_ASSERT_EQUAL(rdm_hash_str(CASES[i].s), CASES[i].h);
    /* bytes above 0x7f hash as unsigned values */
    CU_ASSERT_NOT_EQUAL(rdm_hash_str("\xC3\xA9"), rdm_hash_str("e"));
}

/* rdm_hash_n over a length is rdm_hash_str of the string; rdm_eq_n agrees
 * with memcmp for every length up to 24 and a difference at every byte. */
static void test_hash_n_eq_n(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        CU_ASSERT_EQUAL(rdm_hash_n(CASES[i].s, strlen(CASES[i].s)), CASES[i].h);
    CU_ASSERT_EQUAL(rdm_hash_n("foobarbaz", 6), rdm_hash_str("foobar"));
    char a[25], b[25];
    for (size_t n = 0; n <= 24; n++) {
        for (size_t k = 0; k < n; k++)
            a[k] = b[k] = (char)('A' + k);
        CU_ASSERT_TRUE(rdm_eq_n(a, b, n));
        for (size_t d = 0; d < n; d++) {
            b[d] ^= 0x20;
            CU_ASSERT_FALSE(rdm_eq_n(a, b, n));
            CU_ASSERT_EQUAL(rdm_eq_n(a, b, n), memcmp(a, b, n) == 0);
            b[d] ^= 0x20;
        }
    }
    CU_ASSERT_EQUAL(rdm_hash_u64(0), 0);
    CU_ASSERT_NOT_EQUAL(rdm_hash_u64(1), rdm_hash_u64(2));
}

int test_hash_register(void)
{
    CU_pSuite s = CU_add_suite("hash", NULL, NULL);
    if (!s || !CU_add_test(s, "FNV-1a with the tables' basis", test_fnv1a_vectors) ||
        !CU_add_test(s, "hash over a length, short-key equality", test_hash_n_eq_n))
        return -1;
    return 0;
}
