/* text.h - the model file's tokenizer: lines of tokens separated by spaces,
 * shared by every section of the model file (model.c's header, the encoder,
 * logistic regression, boosted trees).
 *
 * Tokens are escaped: bytes <= 0x20, >= 0x7f and '%' as %XX; the empty
 * string as a lone "%". Writers put one space between tokens and end lines
 * with "\n"; readers also accept runs of spaces or tabs and "\r\n". Every
 * parse error is RDM_EPARSE with a message "line N: ..." (callers add their
 * context with rdm_err_prefix). */
#ifndef RDM_TEXT_H
#define RDM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

/* A reader over borrowed text: rdm_text t = {text, text + n, 1}. */
typedef struct rdm_text {
    const char *p, *end; /* unread input */
    int line;            /* current line number (1-based) */
} rdm_text;

/* Append the escaped form of s. Returns RDM_OK or RDM_ENOMEM. */
int rdm_text_put(rdm_buf *out, const char *s) __attribute__((warn_unused_result));

/* Next token on the current line, unescaped into buf[sz]; RDM_EPARSE naming
 * `what` when the line has no more tokens or the token is too long. */
int rdm_text_word(rdm_text *t, char *buf, size_t sz, const char *what, rdm_err *err);
/* The next token must equal `lit`. */
int rdm_text_expect(rdm_text *t, const char *lit, rdm_err *err);
/* A number (strtod syntax, hex floats included; NaN and infinities allowed). */
int rdm_text_double(rdm_text *t, double *out, const char *what, rdm_err *err);
/* A number that is not NaN, and finite unless allow_inf. */
int rdm_text_real(rdm_text *t, double *out, int allow_inf, const char *what, rdm_err *err);
/* A decimal integer in [min, max]. */
int rdm_text_long(rdm_text *t, long *out, long min, long max, const char *what, rdm_err *err);
int rdm_text_int(rdm_text *t, int *out, int min, int max, const char *what, rdm_err *err);
/* A hexadecimal 32-bit word without sign or prefix. */
int rdm_text_hex32(rdm_text *t, uint32_t *out, const char *what, rdm_err *err);
/* The current line must have no more tokens; moves to the next line. */
int rdm_text_eol(rdm_text *t, rdm_err *err);
/* RDM_EPARSE with the reader's line: "line N: <message>". */
int rdm_text_fail(const rdm_text *t, rdm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
