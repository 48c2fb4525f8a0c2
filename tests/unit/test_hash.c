/* test_hash.c - the string hash FNV-1a steps with the basis 1469598103934665603
 * (values computed independently of the C code). */
#include <CUnit/CUnit.h>
#include <stdint.h>

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

int test_hash_register(void)
{
    CU_pSuite s = CU_add_suite("hash", NULL, NULL);
    if (!s || !CU_add_test(s, "FNV-1a with the tables' basis", test_fnv1a_vectors))
        return -1;
    return 0;
}
