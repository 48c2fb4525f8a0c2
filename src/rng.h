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

/* Next 64 random bits (inline: resampling loops draw one per row). */
static inline uint64_t rdm_rng_next(rdm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
double rdm_rng_uniform(rdm_rng *r);

/* Uniform integer in [0, n) without modulo bias; n > 0 (Lemire's
 * multiply-shift with rejection). */
static inline uint64_t rdm_rng_below(rdm_rng *r, uint64_t n)
{
    uint64_t x = rdm_rng_next(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = (0 - n) % n;
        while (l < t) {
            x = rdm_rng_next(r);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

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
