/* text.c - the model file's tokenizer (escaped space-separated tokens). */
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

int rdm_text_put(rdm_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*s)
        return rdm_buf_addc(out, '%');
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q <= 0x20 || *q >= 0x7f || *q == '%') {
            char esc[3] = {'%', hex[*q >> 4], hex[*q & 15]};
            if (rdm_buf_add(out, esc, 3))
                return RDM_ENOMEM;
        } else if (rdm_buf_addc(out, (char)*q)) {
            return RDM_ENOMEM;
        }
    }
    return RDM_OK;
}

int rdm_text_fail(const rdm_text *t, rdm_err *err, const char *fmt, ...)
{
    char msg[RDM_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rdm_errf(err, RDM_EPARSE, "line %d: %s", t->line, msg);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int rdm_text_word(rdm_text *t, char *buf, size_t sz, const char *what, rdm_err *err)
{
    while (t->p < t->end && is_blank(*t->p))
        t->p++;
    const char *s = t->p;
    while (t->p < t->end && !is_blank(*t->p) && *t->p != '\n' && *t->p != '\r')
        t->p++;
    size_t n = (size_t)(t->p - s);
    if (n == 0)
        return rdm_text_fail(t, err, "expected %s", what);
    if (n == 1 && s[0] == '%') {
        buf[0] = '\0';
        return RDM_OK;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return rdm_text_fail(t, err, "bad escape in %s", what);
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (k + 1 >= sz)
            return rdm_text_fail(t, err, "%s too long", what);
        buf[k++] = c;
    }
    buf[k] = '\0';
    return RDM_OK;
}

int rdm_text_expect(rdm_text *t, const char *lit, rdm_err *err)
{
    char buf[64];
    int rc = rdm_text_word(t, buf, sizeof buf, lit, err);
    if (rc)
        return rc;
    if (strcmp(buf, lit) != 0)
        return rdm_text_fail(t, err, "expected '%s', found '%.40s'", lit, buf);
    return RDM_OK;
}

int rdm_text_double(rdm_text *t, double *out, const char *what, rdm_err *err)
{
    char buf[64], *end;
    int rc = rdm_text_word(t, buf, sizeof buf, what, err);
    if (rc)
        return rc;
    errno = 0;
    *out = strtod(buf, &end);
    if (end == buf || *end)
        return rdm_text_fail(t, err, "%s: not a number: '%s'", what, buf);
    return RDM_OK;
}

int rdm_text_real(rdm_text *t, double *out, int allow_inf, const char *what, rdm_err *err)
{
    double v;
    int rc = rdm_text_double(t, &v, what, err);
    if (rc)
        return rc;
    if (isnan(v) || (!allow_inf && isinf(v)))
        return rdm_text_fail(t, err, "%s: expected a %snumber", what, allow_inf ? "" : "finite ");
    *out = v;
    return RDM_OK;
}

int rdm_text_long(rdm_text *t, long *out, long min, long max, const char *what, rdm_err *err)
{
    char buf[32];
    int rc = rdm_text_word(t, buf, sizeof buf, what, err);
    if (rc)
        return rc;
    if (rdm_parse_long(buf, out) != 0 || *out < min || *out > max)
        return rdm_text_fail(t, err, "%s: bad value '%s' (expected an integer in %ld..%ld)", what,
                             buf, min, max);
    return RDM_OK;
}

int rdm_text_int(rdm_text *t, int *out, int min, int max, const char *what, rdm_err *err)
{
    long v = 0;
    int rc = rdm_text_long(t, &v, min, max, what, err);
    if (rc == RDM_OK)
        *out = (int)v;
    return rc;
}

int rdm_text_hex32(rdm_text *t, uint32_t *out, const char *what, rdm_err *err)
{
    char buf[16], *end;
    int rc = rdm_text_word(t, buf, sizeof buf, what, err);
    if (rc)
        return rc;
    unsigned long v = strtoul(buf, &end, 16);
    if (*end != '\0' || buf[0] == '-' || buf[0] == '+' || buf[0] == ' ' || v > 0xffffffffUL)
        return rdm_text_fail(t, err, "%s: expected a 32-bit hex word, found '%.20s'", what, buf);
    *out = (uint32_t)v;
    return RDM_OK;
}

int rdm_text_eol(rdm_text *t, rdm_err *err)
{
    while (t->p < t->end && is_blank(*t->p))
        t->p++;
    if (t->p < t->end && *t->p == '\r')
        t->p++;
    if (t->p >= t->end)
        return rdm_text_fail(t, err, "unexpected end of data");
    if (*t->p != '\n')
        return rdm_text_fail(t, err, "unexpected data at end of line");
    t->p++;
    t->line++;
    return RDM_OK;
}
