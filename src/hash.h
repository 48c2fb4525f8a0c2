/* hash.h - the string hash shared by the in-memory hash tables. */
#ifndef RDM_HASH_H
#define RDM_HASH_H

#include <stdint.h>

/* 64-bit FNV-1a-style hash of the bytes of the NUL-terminated string s (FNV
 * prime, offset basis 1469598103934665603: see hash.c). */
uint64_t rdm_hash_str(const char *s);

#endif
