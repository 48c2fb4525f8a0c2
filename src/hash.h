/* hash.h - the string hash shared by the in-memory hash tables. */
#ifndef RDM_HASH_H
#define RDM_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a-style hash of the bytes of the NUL-terminated string s (FNV
 * prime, offset basis 1469598103934665603: see hash.c). */
uint64_t rdm_hash_str(const char *s);
/* The same hash of s[0..n) (no terminator needed): rdm_hash_n(s, strlen(s)) == rdm_hash_str(s). */
uint64_t rdm_hash_n(const char *s, size_t n);
/* A 64-bit integer's bits mixed (the murmur3 finaliser's first half), for
 * tables keyed by integers. */
uint64_t rdm_hash_u64(uint64_t x);

#endif
