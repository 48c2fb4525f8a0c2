/* predfields.c - the logged fields of a served body, by a scan of its keys. */
#include "predfields.h"

#include <string.h>

#include "schema.h"

enum { F_ENCOUNTER, F_PATIENT, F_RACE, F_GENDER, F_AGE, F_N };

/* 1 for printable ASCII other than '"' and '\\' (the parser's plain strings). */
static const unsigned char PLAIN[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The value of key `quoted` ("\"name\"") in the body: its first occurrence
 * followed by a colon. Without a backslash in the body every quote delimits
 * a string, so that is the key (a flat record has no other); NULL when the
 * body does not have it. */
static const char *value_of(const char *body, const char *quoted)
{
    size_t n = strlen(quoted);
    for (const char *p = body; (p = strstr(p, quoted)); p += n) {
        const char *q = ws(p + n);
        if (*q == ':')
            return ws(q + 1);
    }
    return NULL;
}

/* Only plain bytes (nothing the parser would decode)? */
static int plain(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!PLAIN[(unsigned char)v[i]])
            return 0;
    return 1;
}

/* Digits of an integer the parser keeps as sent (at most 15, no leading
 * zero), or 0. */
static int plain_integer(const char *v, size_t n)
{
    if (n == 0 || n > 15 || (n > 1 && v[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

/* Copy v[0..n) NUL-terminated into out's text at *used; the copy. */
static const char *keep(rdm_predfields *out, size_t *used, const char *v, size_t n)
{
    char *d = out->text + *used;
    memcpy(d, v, n);
    d[n] = '\0';
    *used += n + 1;
    return d;
}

/* Field f's value token: 1 when taken (as the parser gives it), 0 to fall back. */
static int take(rdm_predfields *out, size_t *used, int f, int quoted, const char *v, size_t n)
{
    const char **dst = f == F_PATIENT  ? &out->patient
                       : f == F_RACE   ? &out->race
                       : f == F_GENDER ? &out->gender
                       : f == F_AGE    ? &out->age
                                       : NULL;
    if (!quoted && n == 4 && !memcmp(v, "null", 4))
        return 1;
    if (f == F_ENCOUNTER) {
        if (quoted && n + 3 <= sizeof out->id) {
            out->id[0] = '"';
            memcpy(out->id + 1, v, n);
            memcpy(out->id + 1 + n, "\"", 2);
            return 1;
        }
        if (!quoted && plain_integer(v, n) && n < sizeof out->id) {
            memcpy(out->id, v, n);
            out->id[n] = '\0';
            return 1;
        }
        return 0;
    }
    if (n > RDM_API_MAX_VALUE)
        return 0;
    if (quoted && (n == 0 || (n == 1 && v[0] == '?')))
        return 1; /* missing */
    if (f == F_PATIENT) {
        const rdm_column *c = &rdm_schema_columns()[RDM_C_PATIENT_NBR];
        long lv = 0;
        if (quoted) {
            char tmp[RDM_API_MAX_VALUE + 1];
            memcpy(tmp, v, n);
            tmp[n] = '\0';
            if (rdm_parse_long(tmp, &lv) != 0)
                return 0;
        } else {
            if (!plain_integer(v, n))
                return 0;
            for (size_t i = 0; i < n; i++)
                lv = lv * 10 + (v[i] - '0');
        }
        if (lv < c->min || lv > c->max)
            return 0;
    } else if (!quoted) {
        return 0; /* a number for a category: the parser's message, not ours */
    }
    *dst = keep(out, used, v, n);
    return 1;
}

int rdm_predfields_scan(const char *body, size_t len, rdm_predfields *out)
{
    static const char *const KEYS[F_N] = {"\"encounter_id\"", "\"patient_nbr\"", "\"race\"",
                                          "\"gender\"", "\"age\""};
    memset(out, 0, offsetof(rdm_predfields, text));
    // one flat object, NUL-terminated, with no NUL and no escape in it
    if (strlen(body) != len || memchr(body, '\\', len) || *ws(body) != '{' ||
        value_of(body, "\"instances\""))
        return 0;
    size_t used = 0;
    for (int f = 0; f < F_N; f++) {
        const char *v = value_of(body, KEYS[f]), *e;
        if (!v)
            continue;
        int quoted = *v == '"';
        if (quoted) {
            e = strchr(++v, '"');
        } else {
            for (e = v; *e && *e != ',' && *e != '}' && *e != ' ' && *e != '\t' && *e != '\n' &&
                        *e != '\r';
                 e++)
                ;
            if (e == v)
                return 0;
        }
        if (!e || !*e || (quoted && !plain(v, (size_t)(e - v))) ||
            !take(out, &used, f, quoted, v, (size_t)(e - v)))
            return 0;
    }
    return 1;
}
