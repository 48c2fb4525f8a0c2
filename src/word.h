/* word.h - byte tests eight bytes at a time, for the scanners that read
 * short keys and values (the API's fast parser, the log's field scan). */
#ifndef RDM_WORD_H
#define RDM_WORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define RDM_WORD_LE 1
#else
#define RDM_WORD_LE 0
#endif

/* The low r bytes (0..7) of a word, on a little-endian machine. */
static inline uint64_t rdm_word_low(size_t r)
{
    static const uint64_t LOW[8] = {0,
                                    0xffull,
                                    0xffffull,
                                    0xffffffull,
                                    0xffffffffull,
                                    0xffffffffffull,
                                    0xffffffffffffull,
                                    0xffffffffffffffull};
    return LOW[r & 7];
}

/* The bytes of w equal to c, as high bits: exact for the lowest such byte
 * (a byte above one may be marked too). */
static inline uint64_t rdm_word_eq(uint64_t w, unsigned char c)
{
    w ^= 0x0101010101010101ull * c; /* such a byte is zero now */
    return (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
}

/* The bytes of w below 0x20, as high bits, exact for the lowest as above. */
static inline uint64_t rdm_word_control(uint64_t w)
{
    return (w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull;
}

/* a[0..n) == b[0..n), eight bytes at a time; the last step reads eight
 * bytes of each when a[n..lim) is readable (b must then hold eight bytes
 * from there: padded). */
static inline int rdm_word_same(const char *a, const char *b, size_t n, const char *lim)
{
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
    }
    if (!n)
        return 1;
#if RDM_WORD_LE
    if (lim - a >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return ((x ^ y) & rdm_word_low(n)) == 0;
    }
#else
    (void)lim;
#endif
    return memcmp(a, b, n) == 0;
}

#endif
