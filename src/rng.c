/* rng.c - xoshiro256** (Blackman & Vigna) seeded through splitmix64. */
#include "rng.h"

uint64_t rdm_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rdm_splitmix64_uniform(uint64_t *state)
{
    return (double)(rdm_splitmix64(state) >> 11) * 0x1.0p-53;
}

void rdm_rng_seed(rdm_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = rdm_splitmix64(&st);
}

double rdm_rng_uniform(rdm_rng *r)
{
    return (double)(rdm_rng_next(r) >> 11) * 0x1.0p-53;
}

void rdm_rng_jump(rdm_rng *r)
{
    static const uint64_t JUMP[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                    0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++) {
        for (int b = 0; b < 64; b++) {
            if (JUMP[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            rdm_rng_next(r);
        }
    }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}
