/* rawrec.c - the record layout of raw.records: fields joined by 0x1f. */
#include "rawrec.h"

#include <string.h>

/* what a byte becomes: 0 itself, else the second byte after '\\' (COPY text
 * escapes) or after 0x1e (the record's own escapes: 1 or 2) */
static const unsigned char OUT[256] = {
    ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', [0x1f] = 1, [0x1e] = 2,
};

char *rdm_rawrec_put_copy(char *w, char *const *f, const size_t *lens, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            *w++ = RDM_RAWREC_SEP;
        const unsigned char *v = (const unsigned char *)f[i];
        size_t len = lens[i], j = 0;
        while (j < len) {
            size_t s = j;
            while (j < len && !OUT[v[j]])
                j++;
            memcpy(w, v + s, j - s);
            w += j - s;
            if (j < len) {
                unsigned char c = OUT[v[j++]];
                *w++ = c > 2 ? '\\' : RDM_RAWREC_ESC;
                *w++ = (char)c;
            }
        }
    }
    return w;
}

/* Decode the escapes of v[0..n) in place; returns the new length or -1. */
static long unescape(char *v, size_t n)
{
    char *w = v, *p = v, *end = v + n;
    while (p < end) {
        if (*p != RDM_RAWREC_ESC) {
            *w++ = *p++;
            continue;
        }
        if (p + 1 == end || (p[1] != 1 && p[1] != 2))
            return -1;
        *w++ = p[1] == 1 ? RDM_RAWREC_SEP : RDM_RAWREC_ESC;
        p += 2;
    }
    *w = '\0';
    return (long)(w - v);
}

int rdm_rawrec_split(char *rec, size_t len, char **f, size_t *n, int max)
{
    int esc = memchr(rec, RDM_RAWREC_ESC, len) != NULL, nf = 0;
    char *p = rec, *end = rec + len;
    for (;;) {
        if (nf >= max)
            return -1;
        char *q = memchr(p, RDM_RAWREC_SEP, (size_t)(end - p));
        if (!q)
            q = end;
        *q = '\0';
        f[nf] = p;
        n[nf] = (size_t)(q - p);
        if (esc) {
            long k = unescape(p, n[nf]);
            if (k < 0)
                return -1;
            n[nf] = (size_t)k;
        }
        nf++;
        if (q == end)
            return nf;
        p = q + 1;
    }
}
