/* rng.h - deterministic seeded random numbers (xoshiro256** seeded by splitmix64).
 * The same seed gives the same stream on every platform. Not for cryptography. */
#ifndef RDM_RNG_H
#define RDM_RNG_H

#include <stdint.h>

/* Plain state struct: copy it freely; one per thread. */
typedef struct rdm_rng {
    uint64_t s[4];
} rdm_rng;

/* Seed the generator (any seed, including 0, is fine). */
void rdm_rng_seed(rdm_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t rdm_rng_next(rdm_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double rdm_rng_uniform(rdm_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t rdm_rng_below(rdm_rng *r, uint64_t n);
/* Advance by 2^128 steps: call k times on a copy to get k non-overlapping
 * streams for k threads. */
void rdm_rng_jump(rdm_rng *r);
/* splitmix64 (Steele, Lea & Flood), a generator of its own with a 64-bit
 * state: the next 64 bits (also a good 64-bit mixer for hashing). The boosted
 * trees draw their row and feature samples from this stream, so changing it
 * changes every model trained with subsampling. */
uint64_t rdm_splitmix64(uint64_t *state);
/* Uniform double in [0, 1) with 53 bits from the splitmix64 stream. */
double rdm_splitmix64_uniform(uint64_t *state);

#endif
