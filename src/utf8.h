/* utf8.h - the one UTF-8 validator: well-formed sequences as Unicode defines
 * them (no overlong forms, no surrogates U+D800..U+DFFF, nothing above
 * U+10FFFF, no truncated sequence). Pure functions over bytes; no allocation. */
#ifndef RDM_UTF8_H
#define RDM_UTF8_H

#include <stddef.h>

/* Length (1..4) of the well-formed sequence at the start of p[0..n), or 0
 * when the bytes there are not one (or n == 0). *cp (may be NULL) gets the
 * code point when the length is not 0. ASCII bytes, controls included, are
 * sequences of length 1. */
size_t rdm_utf8_seq(const void *p, size_t n, unsigned *cp);

/* 1 when all n bytes of s are well-formed UTF-8 (n == 0 included), else 0. */
int rdm_utf8_valid(const char *s, size_t n);

/* The length of s[0..n) without a trailing sequence that the end cuts short:
 * a lead byte at the end whose continuation bytes are missing is dropped
 * together with the continuation bytes present. For shortening text on a
 * character boundary (snprintf with %.Ns then this). Other bytes are kept as
 * they are: this is not a validator. */
size_t rdm_utf8_cut(const char *s, size_t n);

#endif
