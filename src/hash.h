/* hash.h - the string hash shared by the in-memory hash tables. */
#ifndef RDM_HASH_H
#define RDM_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 64-bit FNV-1a-style hash of the bytes of the NUL-terminated string s (FNV
 * prime, offset basis 1469598103934665603: see hash.c). */
uint64_t rdm_hash_str(const char *s);
/* The same hash of s[0..n) (no terminator needed): rdm_hash_n(s, strlen(s)) == rdm_hash_str(s). */
uint64_t rdm_hash_n(const char *s, size_t n);
/* A 64-bit integer's bits mixed (the murmur3 finaliser's first half), for
 * tables keyed by integers. */
uint64_t rdm_hash_u64(uint64_t x);

static inline uint64_t rdm_ld64(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static inline uint32_t rdm_ld32(const char *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

/* a[0..n) == b[0..n), for the short keys of the tables: up to 16 bytes in
 * two (overlapping) loads per side, without a call. */
static inline int rdm_eq_n(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16)
        return ((rdm_ld64(a) ^ rdm_ld64(b)) | (rdm_ld64(a + n - 8) ^ rdm_ld64(b + n - 8))) == 0;
    if (n >= 4 && n < 8)
        return ((rdm_ld32(a) ^ rdm_ld32(b)) | (rdm_ld32(a + n - 4) ^ rdm_ld32(b + n - 4))) == 0;
    if (n < 4)
        return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
    return memcmp(a, b, n) == 0;
}

#endif
