/* predfields.c - the logged fields of a served body, by a scan of its keys. */
#include "predfields.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "word.h"

enum { F_ENCOUNTER, F_PATIENT, F_RACE, F_GENDER, F_AGE, F_N };

/* 1 for printable ASCII other than '"' and '\\' (the parser's plain strings). */
static const unsigned char PLAIN[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
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

/* The scan by key (strstr per field): any body the one pass below declines. */
static int scan_by_key(const char *body, size_t len, rdm_predfields *out)
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

/* ---- one pass over a flat record ---- */

#define KEYLESS_MARK 0x1f /* before each value of a keyless form */
#define KEYLESS_NULL 0x1e /* a null value */

/* Copy s[0..n) to d: 0 (part copied) when a byte of it is a control byte
 * (below 0x20), which a keyless form does not take. Eight bytes at a time;
 * the last step reads up to lim (s[n..lim) is readable) and may write up to
 * seven bytes past d + n (the callers' buffers have that room). */
static inline int copy_text(char *d, const char *s, size_t n, const char *lim)
{
    size_t i = 0;
#if RDM_WORD_LE
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        if (rdm_word_control(w))
            return 0;
        memcpy(d + i, &w, sizeof w);
    }
    if (i < n && lim - (s + i) >= 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        if (rdm_word_control(w) & rdm_word_low(n - i))
            return 0;
        memcpy(d + i, &w, sizeof w);
        return 1;
    }
#else
    (void)lim;
#endif
    for (; i < n; i++) {
        if ((unsigned char)s[i] < 0x20)
            return 0;
        d[i] = s[i];
    }
    return 1;
}

/* The closing quote of a string whose bytes start at p (no backslash in
 * it: the caller checked), or NULL before `end`. Eight bytes at a time. */
static inline const char *string_end(const char *p, const char *end)
{
#if RDM_WORD_LE
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w);
        const uint64_t z = rdm_word_eq(w, '"');
        if (z) /* the lowest marked byte is the first quote */
            return p + (__builtin_ctzll(z) >> 3);
        p += 8;
    }
#endif
    while (p < end && *p != '"')
        p++;
    return p < end ? p : NULL;
}

/* string_end() that also copies the string to d (NULL: no copy) as
 * copy_text() does, in the same pass: *ok 0 when d was given and a byte of
 * the string is a control byte (the copy is then incomplete). May write up
 * to seven bytes past the copy's end. */
static inline const char *string_copy(const char *p, const char *end, char *d, int *ok)
{
    *ok = d != NULL;
#if RDM_WORD_LE
    if (d) {
        for (; end - p >= 8; p += 8, d += 8) {
            uint64_t w;
            memcpy(&w, p, sizeof w);
            const uint64_t q = rdm_word_eq(w, '"'), c = rdm_word_control(w);
            if (q) {
                const size_t n = (size_t)__builtin_ctzll(q) >> 3;
                if (n && (c & rdm_word_low(n)))
                    *ok = 0;
                memcpy(d, &w, sizeof w);
                return p + n;
            }
            if (c) { // a control byte: find the end alone
                *ok = 0;
                return string_end(p, end);
            }
            memcpy(d, &w, sizeof w);
        }
    }
#endif
    const char *s = p;
    const char *e = string_end(p, end);
    if (e && d && !copy_text(d, s, (size_t)(e - s), end))
        *ok = 0;
    return e;
}

static inline const char *ws_to(const char *p, const char *end)
{
    if (p < end && (unsigned char)*p > ' ') // compact JSON: most often no white space
        return p;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The logged field a key k[0..n) names, F_N for any other, -1 for
 * "instances" (a batch: not a record). */
static int field_of(const char *k, size_t n)
{
    switch (n) {
    case 12:
        return memcmp(k, "encounter_id", 12) ? F_N : F_ENCOUNTER;
    case 11:
        return memcmp(k, "patient_nbr", 11) ? F_N : F_PATIENT;
    case 4:
        return memcmp(k, "race", 4) ? F_N : F_RACE;
    case 6:
        return memcmp(k, "gender", 6) ? F_N : F_GENDER;
    case 3:
        return memcmp(k, "age", 3) ? F_N : F_AGE;
    case 9:
        return memcmp(k, "instances", 9) ? F_N : -1;
    default:
        return F_N;
    }
}

/* 1 for the bytes that end a value that is not a string. */
static const unsigned char ENDS[256] = {
    [','] = 1, ['}'] = 1, [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [']'] = 1, ['\0'] = 1,
};

static inline uint32_t get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* The template's keys up to tk (those a record matched) written at wk;
 * the byte after them. */
static inline char *template_keys(char *wk, const char *tbase, const char *tk)
{
    const size_t m = (size_t)(tk - tbase);
    memcpy(wk, tbase, m);
    return wk + m;
}

/* The record just scanned (its keys at k[0..n), m of them, their field ids
 * in kl->fields) becomes the template of the next. */
static void keep_template(rdm_predkeyless *kl, const char *k, size_t n, uint32_t m)
{
    kl->ntkeys = 0;
    rdm_buf_reset(&kl->tkeys);
    rdm_buf_reset(&kl->tfields);
    // eight zero bytes after the keys: rdm_word_same reads the last key's word
    if (rdm_buf_add(&kl->tkeys, k, n) == RDM_OK && rdm_buf_reserve(&kl->tkeys, 8) == RDM_OK &&
        rdm_buf_add(&kl->tfields, kl->fields.data, m) == RDM_OK) {
        memset(kl->tkeys.data + n, 0, 8);
        kl->ntkeys = m;
    }
}

/* The record (a flat object) at p[0] == '{' in [p, end), which has no
 * backslash and no NUL: its fields into `out` and the byte after its
 * closing brace into *after; 0 for anything else (a nested value, a key
 * "instances", a field value the by-key scan would decline, no end). Each
 * field is its first occurrence, as the by-key scan takes it; on a flat
 * object without escapes the two agree (every quote delimits a string).
 * With kl, its keyless form too; while its keys are those of kl's template
 * they are matched, not read (the same keys either way). */
static int one_record(const char *p, const char *end, rdm_predfields *out, const char **after,
                      rdm_predkeyless *kl)
{
    memset(out, 0, offsetof(rdm_predfields, text));
    size_t used = 0;
    unsigned seen = 0;
    // the keyless form, written as the record is read (space reserved by
    // the caller: at most the record's length each); NULL once declined
    char *wv = kl ? kl->vals.data + kl->vals.len : NULL;
    char *const wk0 = kl ? kl->keys.data + kl->keys.len : NULL;
    char *wk = wk0;
    // the template's next key while every key so far was the template's
    // (the keys then written at the end, in one copy); NULL: read each
    // (held here: the byte stores below could alias kl's fields)
    const char *const tbase = kl ? kl->tkeys.data : NULL;
    const uint32_t ntk = kl ? kl->ntkeys : 0;
    const char *tk = ntk ? tbase : NULL;
    const unsigned char *tf = kl ? (const unsigned char *)kl->tfields.data : NULL;
    unsigned char *nf = kl ? (unsigned char *)kl->fields.data : NULL;
    uint32_t nk = 0;
    p = ws_to(p + 1, end);
    if (p < end && *p == '}') {
        *after = p + 1;
        return 1;
    }
    for (;;) {
        if (p >= end || *p != '"')
            return 0;
        const char *k = p + 1, *ke;
        int f;
        size_t kn;
        if (tk && nk < ntk && (size_t)(end - k) > (kn = get32(tk)) && k[kn] == '"' &&
            rdm_word_same(k, tk + 4, kn, end)) {
            ke = k + kn;
            f = tf[nk];
            tk += 4 + kn;
        } else {
            if (tk && wk) // the keys so far were the template's first nk
                wk = template_keys(wk, tbase, tk);
            tk = NULL;
            if (!(ke = string_end(k, end)))
                return 0;
            kn = (size_t)(ke - k);
            if ((f = field_of(k, kn)) < 0)
                return 0;
            if (wk) {
                wk[0] = (char)(kn >> 24), wk[1] = (char)(kn >> 16), wk[2] = (char)(kn >> 8),
                wk[3] = (char)kn;
                if (copy_text(wk + 4, k, kn, end))
                    wk += 4 + kn;
                else
                    wk = wv = NULL;
            }
        }
        if (nf)
            nf[nk] = (unsigned char)f;
        if (end - ke > 2 && ke[1] == ':' && (unsigned char)ke[2] > ' ') { // compact
            p = ke + 2;
        } else {
            p = ws_to(ke + 1, end);
            if (p >= end || *p != ':')
                return 0;
            p = ws_to(p + 1, end);
            if (p >= end)
                return 0;
        }
        if (*p == '{' || *p == '[')
            return 0;
        const char *v, *ve;
        int quoted = *p == '"', copied = 0;
        if (quoted) {
            v = p + 1;
            // with a keyless form, copied after its mark as it is found
            if (!(ve = string_copy(v, end, wv ? wv + 1 : NULL, &copied)))
                return 0;
            p = ve + 1;
        } else {
            for (v = ve = p; ve < end && !ENDS[(unsigned char)*ve]; ve++)
                ;
            if (ve == v)
                return 0;
            p = ve;
        }
        if (wv) {
            const size_t vn = (size_t)(ve - v);
            *wv++ = KEYLESS_MARK;
            if (quoted && copied)
                wv += vn;
            else if (!quoted && vn == 4 && !memcmp(v, "null", 4))
                *wv++ = KEYLESS_NULL;
            else
                wk = wv = NULL;
        }
        nk++;
        if (f < F_N && !(seen & 1u << f)) {
            seen |= 1u << f;
            if ((quoted && !plain(v, (size_t)(ve - v))) ||
                !take(out, &used, f, quoted, v, (size_t)(ve - v)))
                return 0;
        }
        if (end - p > 1 && p[0] == ',' && p[1] == '"') { // compact
            p++;
            continue;
        }
        p = ws_to(p, end);
        if (p < end && *p == ',') {
            p = ws_to(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            *after = p + 1;
            if (!kl)
                return 1;
            const int matched = tk != NULL && nk == ntk;
            if (tk && wk) // every key was the template's
                wk = template_keys(wk, tbase, tk);
            if (wv) {
                out->keyless = 1;
                out->nkeys = nk;
                out->vals_off = kl->vals.len;
                out->vals_len = (size_t)(wv - (kl->vals.data + kl->vals.len));
                out->keys_off = kl->keys.len;
                out->keys_len = (size_t)(wk - wk0);
                kl->vals.len += out->vals_len;
                kl->keys.len += out->keys_len;
                if (!matched)
                    keep_template(kl, wk0, out->keys_len, nk);
            }
            return 1;
        }
        return 0;
    }
}

/* Room in kl for the keyless forms of a body of n bytes (each at most n);
 * kl, or NULL when there is none (no keyless form then). */
static rdm_predkeyless *room(rdm_predkeyless *kl, size_t n)
{
    if (kl && (rdm_buf_reserve(&kl->vals, n + 16) != RDM_OK ||
               rdm_buf_reserve(&kl->keys, n + 16) != RDM_OK ||
               rdm_buf_reserve(&kl->fields, n + 16) != RDM_OK))
        return NULL;
    return kl;
}

void rdm_predkeyless_release(rdm_predkeyless *kl)
{
    rdm_buf_release(&kl->lcols);
    rdm_buf_release(&kl->lkeys);
    rdm_buf_release(&kl->vals);
    rdm_buf_release(&kl->keys);
    rdm_buf_release(&kl->tkeys);
    rdm_buf_release(&kl->tfields);
    rdm_buf_release(&kl->fields);
    kl->ntkeys = 0;
}

int rdm_predfields_scan(const char *body, size_t len, rdm_predfields *out)
{
    return rdm_predfields_scan_keyless(body, len, out, NULL);
}

int rdm_predfields_scan_keyless(const char *body, size_t len, rdm_predfields *out,
                                rdm_predkeyless *kl)
{
    const char *end = body + len, *after;
    const size_t vals_at = kl ? kl->vals.len : 0, keys_at = kl ? kl->keys.len : 0;
    // the one pass takes a flat object; anything else (and whatever it
    // declines) is scanned by key, which declines what it cannot take
    if (!memchr(body, '\0', len) && !memchr(body, '\\', len)) {
        const char *p = ws_to(body, end);
        if (p < end && *p == '{' && one_record(p, end, out, &after, room(kl, len)) &&
            ws_to(after, end) == end)
            return 1;
        if (kl) { // what a declined record wrote is not kept
            kl->vals.len = vals_at;
            kl->keys.len = keys_at;
        }
    }
    return scan_by_key(body, len, out);
}

/* The index after the JSON value at b[i] of a body without backslashes, or
 * 0 (a value before or after "instances": rarely more than a scalar). */
static size_t skip_plain_value(const char *b, size_t n, size_t i)
{
    const char *end = b + n;
    if (i >= n)
        return 0;
    if (b[i] == '"') {
        const char *e = string_end(b + i + 1, end);
        return e ? (size_t)(e - b) + 1 : 0;
    }
    if (b[i] == '{' || b[i] == '[') {
        int depth = 0;
        while (i < n) {
            if (b[i] == '"') {
                const char *e = string_end(b + i + 1, end);
                if (!e)
                    return 0;
                i = (size_t)(e - b) + 1;
                continue;
            }
            if (b[i] == '{' || b[i] == '[')
                depth++;
            else if ((b[i] == '}' || b[i] == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return 0;
    }
    size_t s = i;
    while (i < n && !ENDS[(unsigned char)b[i]])
        i++;
    return i > s ? i : 0;
}

int rdm_predfields_batch(const char *b, size_t n, size_t want, size_t *at, size_t *len,
                         rdm_predfields *out, rdm_predkeyless *kl)
{
    if (memchr(b, '\0', n) || memchr(b, '\\', n))
        return 0;
    kl = room(kl, n);
    const char *end = b + n;
    size_t i = (size_t)(ws_to(b, end) - b);
    if (i >= n || b[i] != '{')
        return 0;
    i = (size_t)(ws_to(b + i + 1, end) - b);
    while (i < n && b[i] == '"') {
        const char *ke = string_end(b + i + 1, end);
        if (!ke)
            return 0;
        int instances = ke - (b + i + 1) == 9 && !memcmp(b + i + 1, "instances", 9);
        i = (size_t)(ws_to(ke + 1, end) - b);
        if (i >= n || b[i] != ':')
            return 0;
        i = (size_t)(ws_to(b + i + 1, end) - b);
        if (instances) {
            if (i >= n || b[i] != '[')
                return 0;
            size_t m = 0;
            for (i = (size_t)(ws_to(b + i + 1, end) - b); i < n && b[i] == '{';) {
                const char *after;
                if (m == want || !one_record(b + i, end, &out[m], &after, kl))
                    return 0;
                at[m] = i;
                len[m++] = (size_t)(after - (b + i));
                i = (size_t)(ws_to(after, end) - b);
                if (i < n && b[i] == ',')
                    i = (size_t)(ws_to(b + i + 1, end) - b);
                else
                    break;
            }
            return i < n && b[i] == ']' && m == want;
        }
        if (!(i = skip_plain_value(b, n, i)))
            return 0;
        i = (size_t)(ws_to(b + i, end) - b);
        if (i >= n || b[i] != ',')
            return 0;
        i = (size_t)(ws_to(b + i + 1, end) - b);
    }
    return 0;
}

/* ---- a body as the API's parser described it (its layout, api.h) ---- */

/* Per layout column (RDM_NCOLS: "encounter_id"): the logged field it is
 * (F_N: none), and its key as a binary text[] element (4-byte big-endian
 * length, bytes). Filled once. */
static struct {
    unsigned char field[RDM_NCOLS + 1];
    char key[RDM_NCOLS + 1][4 + 64];
    uint8_t key_len[RDM_NCOLS + 1];
} lay_cols;

static pthread_once_t lay_cols_once = PTHREAD_ONCE_INIT;

static void lay_cols_init(void)
{
    const rdm_column *cols = rdm_schema_columns();
    for (int c = 0; c <= RDM_NCOLS; c++) {
        const char *name = cols[c < RDM_NCOLS ? c : RDM_C_ENCOUNTER_ID].name;
        size_t n = strlen(name);
        int f = field_of(name, n);
        lay_cols.field[c] = (unsigned char)(c == RDM_C_ENCOUNTER_ID || f < 0 ? F_N : f);
        if (n > 64) // no column's name is this long: such a key is never matched
            n = 64;
        char *k = lay_cols.key[c];
        k[0] = 0, k[1] = 0, k[2] = (char)(n >> 8), k[3] = (char)n;
        memcpy(k + 4, name, n);
        lay_cols.key_len[c] = (uint8_t)(4 + n);
    }
}

static inline uint32_t lay32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint16_t lay16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Copy s[0..n) to d, eight bytes at a time when s[0..n rounded up to
 * eight) lies before lim; may then write up to seven bytes past d + n. */
static inline void copy_value(char *d, const char *s, size_t n, const char *lim)
{
#if RDM_WORD_LE
    if ((size_t)(lim - s) >= ((n + 7) & ~(size_t)7)) {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            memcpy(d + i, &w, sizeof w);
        }
        return;
    }
#else
    (void)lim;
#endif
    memcpy(d, s, n);
}

/* The keys of the columns cols[0..nk) appended to kl->keys: those of the
 * previous record when its columns were the same (one comparison), else
 * written from the table (and kept for the next). 0 when out of memory. */
static int lay_keys(rdm_predkeyless *kl, const unsigned char *cols, size_t nk, size_t *keys_len)
{
    if (kl->lcols.len != nk || (nk && memcmp(kl->lcols.data, cols, nk))) {
        rdm_buf_reset(&kl->lcols);
        rdm_buf_reset(&kl->lkeys);
        int ok = 1;
        for (size_t i = 0; ok && i < nk; i++)
            ok =
                rdm_buf_add(&kl->lkeys, lay_cols.key[cols[i]], lay_cols.key_len[cols[i]]) == RDM_OK;
        // the columns last: kept only with all their keys
        if (!ok || rdm_buf_add(&kl->lcols, cols, nk) != RDM_OK) {
            rdm_buf_reset(&kl->lcols);
            return 0;
        }
    }
    *keys_len = kl->lkeys.len;
    return rdm_buf_add(&kl->keys, kl->lkeys.data, kl->lkeys.len) == RDM_OK;
}

/* One record of a layout at lay[0..lay_len) (its head and keys) on the body
 * b[0..n): its fields into out, its span into *at, *len, and with kl its
 * keyless form; the bytes of the layout it took, or 0 (declined). */
static size_t lay_record(const char *b, size_t n, const char *lay, size_t lay_len,
                         rdm_predfields *out, size_t *at, size_t *len, rdm_predkeyless *kl)
{
    enum { HEAD = 2 * sizeof(uint32_t) + sizeof(uint16_t) };

    if (lay_len < HEAD)
        return 0;
    const size_t off = lay32(lay), rlen = lay32(lay + 4), nk = lay16(lay + 8);
    const size_t took = HEAD + nk * RDM_API_LAYOUT_KEY;
    if (off > n || rlen > n - off || rlen < 2 || b[off] != '{' || b[off + rlen - 1] != '}' ||
        nk > RDM_NCOLS + 1 || took > lay_len)
        return 0;
    const char *r = b + off;
    memset(out, 0, offsetof(rdm_predfields, text));
    size_t used = 0;
    unsigned seen = 0;
    // the keyless form (room: the record's length, two bytes per key), NULL
    // once a value is a number; the columns, in kl->fields
    char *wv = NULL;
    unsigned char *cols = NULL;
    if (kl && rdm_buf_reserve(&kl->vals, rlen + 2 * nk + 16) == RDM_OK &&
        rdm_buf_reserve(&kl->fields, nk + 16) == RDM_OK) {
        wv = kl->vals.data + kl->vals.len;
        cols = (unsigned char *)kl->fields.data;
    }
    char *const wv0 = wv;
    const char *k = lay + HEAD;
    for (size_t i = 0; i < nk; i++, k += RDM_API_LAYOUT_KEY) {
        const unsigned col = (unsigned char)k[0], kind = (unsigned char)k[1];
        const size_t vn = lay16(k + 2), vo = lay16(k + 4);
        if (col > RDM_NCOLS || vo + vn > rlen)
            return 0;
        const char *v = r + vo;
        const int quoted = kind == RDM_API_LAYOUT_STRING;
        if (quoted ? vo < 1 || vo + vn >= rlen || v[-1] != '"' || v[vn] != '"'
            : kind == RDM_API_LAYOUT_NULL ? vn != 4 || memcmp(v, "null", 4)
                                          : kind != RDM_API_LAYOUT_NUMBER)
            return 0;
        if (cols)
            cols[i] = (unsigned char)col;
        if (wv) {
            *wv++ = KEYLESS_MARK;
            if (quoted) { // the parser's strings are printable ASCII: no control byte
                copy_value(wv, v, vn, b + n);
                wv += vn;
            } else if (kind == RDM_API_LAYOUT_NULL) {
                *wv++ = KEYLESS_NULL;
            } else {
                wv = NULL;
            }
        }
        const unsigned f = lay_cols.field[col];
        if (f < F_N && !(seen & 1u << f)) {
            seen |= 1u << f;
            if (!take(out, &used, (int)f, quoted, v, vn))
                return 0;
        }
    }
    *at = off;
    *len = rlen;
    size_t keys_len = 0;
    // an empty record has no keyless form (as the scan gives it)
    if (wv && nk && lay_keys(kl, cols, nk, &keys_len)) {
        out->keyless = 1;
        out->nkeys = (uint32_t)nk;
        out->vals_off = kl->vals.len;
        out->vals_len = (size_t)(wv - wv0);
        out->keys_off = kl->keys.len - keys_len;
        out->keys_len = keys_len;
        kl->vals.len += out->vals_len;
    }
    return took;
}

int rdm_predfields_layout(const char *b, size_t n, const char *lay, size_t lay_len, size_t want,
                          int batch, size_t *at, size_t *len, rdm_predfields *out,
                          rdm_predkeyless *kl)
{
    pthread_once(&lay_cols_once, lay_cols_init);
    if (!lay || lay_len < 2 * sizeof(uint32_t) || lay32(lay) != want ||
        lay32(lay + 4) != (uint32_t)batch)
        return 0;
    const size_t vals_at = kl ? kl->vals.len : 0, keys_at = kl ? kl->keys.len : 0;
    size_t pos = 2 * sizeof(uint32_t), took = 1;
    for (size_t k = 0; took && k < want; k++) {
        took = lay_record(b, n, lay + pos, lay_len - pos, &out[k], &at[k], &len[k], kl);
        pos += took;
    }
    if (took && pos == lay_len)
        return 1;
    if (kl) { // what a declined layout wrote is not kept
        kl->vals.len = vals_at;
        kl->keys.len = keys_at;
    }
    return 0;
}

/* ---- the predictions of a response ---- */

/* First occurrence of `k` bytes `needle` in h[0..n), or NULL (memmem is a GNU extension). */
static const char *find(const char *h, size_t n, const char *needle, size_t k)
{
    const char *end = h + n;
    for (const char *p = h; k > 0 && (size_t)(end - p) >= k; p++) {
        if (!(p = memchr(p, needle[0], (size_t)(end - p) - k + 1)))
            return NULL;
        if ((k < 2 || p[1] == needle[1]) && !memcmp(p, needle, k)) // most candidates fail at once
            return p;
    }
    return NULL;
}

/* The key every prediction of a response has, and the index of its 'y',
 * a byte no other key of a response has: found by a memchr for it. */
static const char KEY_P[] = "\"probability\":";
#define KEY_P_Y 11

/* First occurrence of KEY_P in h[0..n), or NULL: each 'y' in turn, the key
 * checked around it (the key has one 'y': an occurrence is one 'y'). */
static const char *find_probability(const char *h, size_t n)
{
    const size_t k = sizeof KEY_P - 1;
    if (n < k)
        return NULL;
    const char *end = h + n;
    for (const char *y = h + KEY_P_Y; (y = memchr(y, 'y', (size_t)(end - y) - (k - KEY_P_Y - 1)));
         y++)
        if (!memcmp(y - KEY_P_Y, KEY_P, k))
            return y - KEY_P_Y;
    return NULL;
}

uint32_t rdm_predresp_rows(const char *r, size_t n)
{
    uint32_t rows = 0;
    const char *end = r + n;
    for (const char *p = r; p && p < end;) {
        p = find_probability(p, (size_t)(end - p));
        if (p) {
            rows++;
            p += sizeof KEY_P - 1;
        }
    }
    return rows;
}

/* The number at s (before end) as strtod reads it. The pool writes
 * probabilities with six decimals and thresholds with %.6g: a decimal of at
 * most 15 digits and no exponent is m / 10^k with m and 10^k exact doubles,
 * and one division rounds it as strtod does (correctly); anything else goes
 * to strtod, on a NUL-terminated copy. */
static double decimal(const char *s, const char *end)
{
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char *c = s;
    int neg = c < end && *c == '-';
    c += neg;
    uint64_t m = 0;
    int digits = 0, k = 0;
    for (; c < end && *c >= '0' && *c <= '9' && digits <= 15; c++, digits++)
        m = m * 10 + (uint64_t)(*c - '0');
    if (c < end && *c == '.')
        for (c++; c < end && *c >= '0' && *c <= '9' && digits <= 15; c++, digits++, k++)
            m = m * 10 + (uint64_t)(*c - '0');
    if (digits == 0 || digits > 15 || (c < end && (*c == 'e' || *c == 'E'))) {
        char tmp[512];
        size_t n = (size_t)(end - s) < sizeof tmp - 1 ? (size_t)(end - s) : sizeof tmp - 1;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return strtod(tmp, NULL);
    }
    double v = (double)m / p10[k];
    return neg ? -v : v;
}

/* `key` (k bytes) at p, within end? */
static int at_key(const char *p, const char *end, const char *key, size_t k)
{
    return (size_t)(end - p) >= k && !memcmp(p, key, k);
}

/* The pool writes the three one after the other: taken there when they
 * are, else searched for. */
int rdm_predresp_next(const char *r, size_t n, size_t *pos, double *p, int *d, double *thr)
{
    static const char kd[] = ",\"decision\":", kt[] = ",\"threshold\":";
    const size_t kdn = sizeof kd - 2, ktn = sizeof kt - 2; // the keys without the comma
    const char *end = r + n, *s = find_probability(r + *pos, n - *pos);
    if (!s)
        return 0;
    const char *v = s + sizeof KEY_P - 1, *e = v;
    *p = decimal(v, end);
    // the number as the pool writes it (digits, a point), then the decision
    while (e < end && ((*e >= '0' && *e <= '9') || *e == '.' || *e == '-'))
        e++;
    const char *sd = NULL, *st = NULL;
    if (e > v && at_key(e, end, kd, sizeof kd - 1)) {
        sd = e + 1;
        const char *b = sd + kdn;
        const char *be = at_key(b, end, "true", 4)    ? b + 4
                         : at_key(b, end, "false", 5) ? b + 5
                                                      : NULL;
        if (be && at_key(be, end, kt, sizeof kt - 1))
            st = be + 1;
        else
            st = find(s, (size_t)(end - s), kt + 1, ktn);
    } else {
        sd = find(s, (size_t)(end - s), kd + 1, kdn);
        st = find(s, (size_t)(end - s), kt + 1, ktn);
    }
    *d = sd && sd + kdn < end && sd[kdn] == 't';
    *thr = st ? decimal(st + ktn, end) : 0;
    *pos = (size_t)(v - r);
    return 1;
}
