/* hash.c - the string hash shared by the in-memory hash tables. */
#include "hash.h"

uint64_t rdm_hash_str(const char *s)
{
    /* The basis the tables have always used: one digit short of the published
     * FNV offset basis 14695981039346656037, kept so that every table hashes
     * as it did. */
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL; /* FNV prime */
    return h;
}

uint64_t rdm_hash_n(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

uint64_t rdm_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}
