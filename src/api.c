/* api.c - HTTP API bodies: prediction requests -> records -> scores -> JSON. */
#include "api.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "utf8.h"
#include "word.h"

int rdm_api_seterr(rdm_api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    if (!e)
        return status;
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code ? code : "error");
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->position = -1;
    return status;
}

int rdm_api_json_str(rdm_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = rdm_buf_addc(out, '"');
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (rc == RDM_OK && i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = rdm_buf_add(out, esc, 2);
            i++;
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc = rdm_buf_add(out, esc, 6);
            i++;
        } else if (c < 0x80) {
            size_t j = i;
            while (j < n && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
                j++;
            rc = rdm_buf_add(out, s + i, j - i);
            i = j;
        } else {
            size_t l = rdm_utf8_seq(p + i, n - i, NULL);
            if (l == 0) {
                rc = rdm_buf_adds(out, "\\ufffd");
                i++;
            } else {
                rc = rdm_buf_add(out, s + i, l);
                i += l;
            }
        }
    }
    if (rc == RDM_OK)
        rc = rdm_buf_addc(out, '"');
    return rc;
}

int rdm_api_error_json(const rdm_api_error *e, rdm_buf *out)
{
    int rc = rdm_buf_adds(out, "{\"error\":{\"status\":");
    if (rc == RDM_OK)
        rc = rdm_buf_printf(out, "%d,\"code\":", e->status);
    if (rc == RDM_OK)
        rc = rdm_api_json_str(out, e->code, strlen(e->code));
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, ",\"message\":");
    if (rc == RDM_OK)
        rc = rdm_api_json_str(out, e->message, strlen(e->message));
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, ",\"field\":");
    if (rc == RDM_OK)
        rc = e->field[0] ? rdm_api_json_str(out, e->field, strlen(e->field))
                         : rdm_buf_adds(out, "null");
    if (rc == RDM_OK && e->position >= 0)
        rc = rdm_buf_printf(out, ",\"position\":%ld", e->position);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, "}}\n");
    return rc;
}

/* ---- request parsing ---- */

void rdm_api_request_release(rdm_api_request *req)
{
    if (!req)
        return;
    free(req->recs);
    free(req->arena);
    if (req->json)
        json_decref((json_t *)req->json);
    *req = (rdm_api_request)RDM_API_REQUEST_INIT;
}

/* Copy a rendered number into the arena; returns its offset or -1. */
static long arena_add(rdm_api_request *req, const char *s)
{
    size_t n = strlen(s) + 1;
    void *a = req->arena;
    if (rdm_grow(&a, &req->arena_cap, req->arena_len + n, 1))
        return -1;
    req->arena = a;
    memcpy(req->arena + req->arena_len, s, n);
    long off = (long)req->arena_len;
    req->arena_len += n;
    return off;
}

/* Field name for messages: "age" or "instances[3].age". */
static void field_name(char *out, size_t n, int batch, size_t idx, const char *key)
{
    if (batch)
        snprintf(out, n, "instances[%zu]%s%s", idx, key ? "." : "", key ? key : "");
    else
        snprintf(out, n, "%s", key ? key : "");
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* Check an integer value against a numeric column's range. */
static int check_int(const rdm_column *c, long v, const char *fname, rdm_api_error *e)
{
    if (v < c->min || v > c->max)
        return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "out_of_range", fname,
                              "field '%s': %ld is outside the accepted range [%ld, %ld]", fname, v,
                              c->min, c->max);
    return RDM_HTTP_OK;
}

/* Offsets into the arena are stored in values[] until parsing ends (the arena
 * may move); this marks them. */
#define ARENA_TAG ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))

/* Parse one value of column `col` into rec->values[col]. */
static int parse_value(rdm_api_request *req, rdm_api_record *rec, int col, const json_t *v,
                       const char *fname, rdm_api_error *e)
{
    const rdm_column *c = &rdm_schema_columns()[col];
    int numeric = c->kind == RDM_COL_ID || c->kind == RDM_COL_INT || c->kind == RDM_COL_CODE;
    char num[64];
    rec->values[col] = NULL;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return RDM_HTTP_OK;
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n > RDM_API_MAX_VALUE)
            return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "value_too_long", fname,
                                  "field '%s': value of %zu bytes is longer than %d", fname, n,
                                  RDM_API_MAX_VALUE);
        if (rdm_value_is_missing(s))
            return RDM_HTTP_OK;
        if (numeric) {
            long lv;
            if (rdm_parse_long(s, &lv) != 0)
                return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", fname,
                                      "field '%s': expected an integer, got \"%.40s\"", fname, s);
            int st = check_int(c, lv, fname, e);
            if (st != RDM_HTTP_OK)
                return st;
        }
        rec->values[col] = s;
        return RDM_HTTP_OK;
    }
    case JSON_INTEGER: {
        if (c->kind == RDM_COL_CAT || c->kind == RDM_COL_TARGET)
            return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", fname,
                                  "field '%s': expected a string, got a number", fname);
        json_int_t iv = json_integer_value(v);
        if (numeric) {
            if (iv < LONG_MIN || iv > LONG_MAX)
                return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "out_of_range", fname,
                                      "field '%s': integer out of range", fname);
            int st = check_int(c, (long)iv, fname, e);
            if (st != RDM_HTTP_OK)
                return st;
        }
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, iv);
        break;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        if (c->kind == RDM_COL_CAT || c->kind == RDM_COL_TARGET)
            return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", fname,
                                  "field '%s': expected a string, got a number", fname);
        if (numeric) {
            if (!isfinite(d) || d != floor(d))
                return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", fname,
                                      "field '%s': expected an integer, got %g", fname, d);
            if (d < (double)c->min || d > (double)c->max)
                return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "out_of_range", fname,
                                      "field '%s': %g is outside the accepted range [%ld, %ld]",
                                      fname, d, c->min, c->max);
            snprintf(num, sizeof num, "%ld", (long)d);
        } else {
            /* a diagnosis code sent as a number (250.83): shortest form */
            snprintf(num, sizeof num, "%.15g", d);
        }
        break;
    }
    default:
        return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", fname,
                              "field '%s': expected a string or a number, got %s", fname,
                              json_type_name(v));
    }
    long off = arena_add(req, num);
    if (off < 0)
        return rdm_api_seterr(e, RDM_HTTP_INTERNAL, "out_of_memory", NULL, "out of memory");
    rec->values[col] = (const char *)(uintptr_t)((uintptr_t)off | ARENA_TAG);
    return RDM_HTTP_OK;
}

/* "explain": a boolean. */
static int parse_explain(rdm_api_request *req, const json_t *v, rdm_api_error *e)
{
    if (!json_is_boolean(v))
        return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", "explain",
                              "field 'explain': expected true or false, got %s", json_type_name(v));
    req->explain = json_is_true(v);
    return RDM_HTTP_OK;
}

static int parse_record(rdm_api_request *req, rdm_api_record *rec, size_t idx, const json_t *obj,
                        rdm_api_error *e)
{
    char fname[96];
    if (!json_is_object(obj)) {
        field_name(fname, sizeof fname, req->batch, idx, NULL);
        return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", req->batch ? fname : NULL,
                              "%s%s must be a JSON object of feature values, got %s",
                              req->batch ? "" : "the request body", fname, json_type_name(obj));
    }
    memset(rec, 0, sizeof *rec);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        field_name(fname, sizeof fname, req->batch, idx, key);
        if (!req->batch && strcmp(key, "explain") == 0) {
            int st = parse_explain(req, v, e);
            if (st != RDM_HTTP_OK)
                return st;
            continue;
        }
        if (strcmp(key, "encounter_id") == 0) {
            if (json_is_integer(v)) {
                snprintf(rec->id, sizeof rec->id, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            } else if (json_is_string(v)) {
                rdm_buf b = RDM_BUF_INIT;
                size_t n = json_string_length(v);
                if (n > sizeof rec->id - 3)
                    return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "value_too_long", fname,
                                          "field '%s': longer than %zu bytes", fname,
                                          sizeof rec->id - 3);
                if (rdm_api_json_str(&b, json_string_value(v), n) != RDM_OK ||
                    b.len >= sizeof rec->id) {
                    rdm_buf_release(&b);
                    return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "value_too_long", fname,
                                          "field '%s': too long once escaped", fname);
                }
                memcpy(rec->id, b.data, b.len + 1);
                rdm_buf_release(&b);
            } else if (!json_is_null(v)) {
                return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", fname,
                                      "field '%s': expected a string or an integer, got %s", fname,
                                      json_type_name(v));
            }
            continue;
        }
        int col = rdm_schema_find(key);
        if (col < 0) {
            if (strcmp(key, "instances") == 0 && req->batch)
                return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", fname,
                                      "field '%s': instances cannot be nested", fname);
            return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "unknown_field", fname,
                                  "unknown field '%s': keys are the raw column names, see GET "
                                  "/api/v1/model",
                                  fname);
        }
        if (col == RDM_C_ENCOUNTER_ID)
            continue; /* handled above */
        int st = parse_value(req, rec, col, v, fname, e);
        if (st != RDM_HTTP_OK)
            return st;
    }
    return RDM_HTTP_OK;
}

/* ---- fast path ----
 * Most bodies are a flat object (or {"instances": [flat objects]}) of plain
 * ASCII strings, small non-negative integers and nulls. Those are parsed here
 * without building a jansson tree, into a private copy of the body with the
 * values NUL-terminated in place. Anything else (escapes, non-ASCII, reals,
 * negative numbers, nesting, duplicates, unknown keys, any invalid value, any
 * syntax error) is left to jansson, which then gives the same records or the
 * error with its position: this path only ever accepts what jansson would
 * parse to the same values. */

typedef struct fcur {
    char *p, *end;
} fcur;

static void f_ws(fcur *c)
{
    if (c->p < c->end && (unsigned char)*c->p > ' ') // compact JSON: most often none
        return;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* A plain string: printable ASCII without quote or backslash. NUL-terminates
 * it in place (over the closing quote). */
static char *f_string(fcur *c, size_t *n)
{
    if (c->p >= c->end || *c->p != '"')
        return NULL;
    char *s = ++c->p;
    /* 1 for printable ASCII other than '"' and '\\'. The body is
     * NUL-terminated and holds no NUL, so the scan stops at its end at the
     * latest (NUL is not plain). */
    static const unsigned char plain[256] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    };
    const unsigned char *q = (const unsigned char *)s;
    while (plain[*q])
        q++;
    c->p = (char *)q;
    if (c->p >= c->end || *c->p != '"')
        return NULL;
    *n = (size_t)(c->p - s);
    *c->p++ = '\0';
    return s;
}

/* Index of the key among the schema columns (RDM_NCOLS = encounter_id), or
 * -1. Records usually list columns in CSV order: try the one after `prev`. */
static int f_key(const char *k, int prev)
{
    const rdm_column *cols = rdm_schema_columns();
    /* the next column, or the one after (a record without patient_nbr) */
    for (int next = prev + 1; next <= prev + 2 && next < RDM_NCOLS; next++)
        if (next >= 0 && cols[next].name[0] == k[0] && strcmp(cols[next].name, k) == 0)
            return next == RDM_C_ENCOUNTER_ID ? RDM_NCOLS : next;
    if (strcmp(k, "encounter_id") == 0)
        return RDM_NCOLS;
    return rdm_schema_find(k);
}

/* The columns' names zero-padded to KEY_ROOM bytes, and their lengths
 * (SIZE_MAX: a name too long for the room, compared byte by byte), so that
 * f_next_key compares eight bytes at a time. Filled once (fast_parse). */
#define KEY_ROOM 48

static struct {
    char name[KEY_ROOM];
    size_t len;
} key_names[RDM_NCOLS];

static pthread_once_t key_names_once = PTHREAD_ONCE_INIT;

static void key_names_init(void)
{
    const rdm_column *cols = rdm_schema_columns();
    for (int i = 0; i < RDM_NCOLS; i++) {
        size_t n = strlen(cols[i].name);
        key_names[i].len = n + 8 <= KEY_ROOM ? n : SIZE_MAX;
        if (n + 8 <= KEY_ROOM)
            memcpy(key_names[i].name, cols[i].name, n);
    }
}

/* The key at c->p when it is the next column's name or the one after's (the
 * usual order): its index as f_key gives it, with c->p past the closing
 * quote; -1 (c->p unchanged) otherwise. One comparison with the body. */
static int f_next_key(fcur *c, int prev)
{
    const rdm_column *cols = rdm_schema_columns();
    if (c->p >= c->end || *c->p != '"')
        return -1;
    const char *k = c->p + 1;
    for (int next = prev + 1; next <= prev + 2 && next < RDM_NCOLS; next++) {
        if (next < 0)
            continue;
        const size_t n = key_names[next].len;
        if (n != SIZE_MAX) { // the name, then the closing quote, inside the body
            if ((size_t)(c->end - k) > n && k[n] == '"' &&
                rdm_word_same(k, key_names[next].name, n, c->end)) {
                c->p = (char *)k + n + 1;
                return next == RDM_C_ENCOUNTER_ID ? RDM_NCOLS : next;
            }
            continue;
        }
        /* name and body side by side; the body ends in a NUL, so the walk
         * stops there at the latest */
        const char *a = cols[next].name, *b = k;
        while (*a && *a == *b)
            a++, b++;
        if (!*a && b < c->end && *b == '"') {
            c->p = (char *)b + 1;
            return next == RDM_C_ENCOUNTER_ID ? RDM_NCOLS : next;
        }
    }
    return -1;
}

/* One key of a record's layout (api.h) at *w: column, kind, the value's
 * length and offset from the record's first byte (the caller drops a
 * layout whose record is too long for them). */
static inline void lay_key(unsigned char **w, int col, int kind, size_t off, size_t n)
{
    unsigned char *q = *w;
    const uint16_t l = (uint16_t)n, o = (uint16_t)off;
    q[0] = (unsigned char)col;
    q[1] = (unsigned char)kind;
    memcpy(q + 2, &l, sizeof l);
    memcpy(q + 4, &o, sizeof o);
    *w = q + RDM_API_LAYOUT_KEY;
}

/* One flat record at c->p. Returns 1 when parsed, 0 to fall back. With
 * lw (room for RDM_NCOLS + 1 keys), its keys' layout written there, *lw
 * moved past them. */
static int f_record(fcur *c, rdm_api_record *rec, unsigned char **lw)
{
    const rdm_column *cols = rdm_schema_columns();
    uint64_t seen = 0;
    int prev = -1;
    memset(rec, 0, sizeof *rec);
    if (c->p >= c->end || *c->p != '{')
        return 0;
    const char *rs = c->p; // the record's first byte: the layout's offsets are from it
    c->p++;
    f_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 1;
    }
    for (;;) {
        size_t kn, vn;
        f_ws(c);
        int col = f_next_key(c, prev);
        if (col < 0) {
            char *key = f_string(c, &kn);
            if (!key)
                return 0;
            col = f_key(key, prev);
        }
        if (col < 0 || (seen >> col) & 1)
            return 0;
        prev = col == RDM_NCOLS ? RDM_C_ENCOUNTER_ID : col;
        seen |= (uint64_t)1 << col;
        f_ws(c);
        if (c->p >= c->end || *c->p != ':')
            return 0;
        c->p++;
        f_ws(c);
        if (c->p >= c->end)
            return 0;
        const rdm_column *cd = col < RDM_NCOLS ? &cols[col] : NULL;
        int numeric =
            cd && (cd->kind == RDM_COL_ID || cd->kind == RDM_COL_INT || cd->kind == RDM_COL_CODE);
        char *v = NULL;
        if (*c->p == '"') {
            v = f_string(c, &vn);
            if (!v || vn > RDM_API_MAX_VALUE)
                return 0;
            if (lw)
                lay_key(lw, col, RDM_API_LAYOUT_STRING, (size_t)(v - rs), vn);
            if (!cd) {
                if (vn + 3 > sizeof rec->id)
                    return 0;
                rec->id[0] = '"';
                memcpy(rec->id + 1, v, vn);
                rec->id[vn + 1] = '"';
                rec->id[vn + 2] = '\0';
                v = NULL;
            } else if (rdm_value_is_missing(v)) {
                v = NULL;
            } else if (numeric) {
                long lv;
                if (rdm_parse_long(v, &lv) != 0 || lv < cd->min || lv > cd->max)
                    return 0;
            }
        } else if (*c->p >= '0' && *c->p <= '9') {
            char *d = c->p;
            while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
                c->p++;
            size_t nd = (size_t)(c->p - d);
            if (nd > 15 || (nd > 1 && d[0] == '0') || c->p >= c->end)
                return 0;
            if (*c->p == '.' || *c->p == 'e' || *c->p == 'E')
                return 0; /* reals: jansson */
            char after = *c->p;
            if (after != ',' && after != '}' && after != ' ' && after != '\t' && after != '\n' &&
                after != '\r')
                return 0;
            if (cd && (cd->kind == RDM_COL_CAT || cd->kind == RDM_COL_TARGET))
                return 0;
            if (lw)
                lay_key(lw, col, RDM_API_LAYOUT_NUMBER, (size_t)(d - rs), nd);
            if (!cd) {
                if (nd + 1 > sizeof rec->id)
                    return 0;
                memcpy(rec->id, d, nd);
                rec->id[nd] = '\0';
            } else {
                if (numeric) {
                    long lv = strtol(d, NULL, 10);
                    if (lv < cd->min || lv > cd->max)
                        return 0;
                }
                v = d;
            }
            /* terminate in place; the separator is re-checked from `after` */
            *c->p = '\0';
            if (after == ',' || after == '}') {
                c->p++;
                if (cd)
                    rec->values[col] = v;
                if (after == '}')
                    return 1;
                continue;
            }
            c->p++;
        } else if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
            if (lw)
                lay_key(lw, col, RDM_API_LAYOUT_NULL, (size_t)(c->p - rs), 4);
            c->p += 4;
        } else {
            return 0;
        }
        if (cd)
            rec->values[col] = v;
        f_ws(c);
        if (c->p >= c->end)
            return 0;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == '}') {
            c->p++;
            return 1;
        }
        return 0;
    }
}

/* Returns 1 when the whole body was parsed into req, 0 to fall back (req is
 * then released). With `lay`, the body's layout appended to it (api.h;
 * nothing when a record is too long for one). */
static int fast_parse(const char *body, size_t len, long max_instances, rdm_api_request *req,
                      rdm_buf *lay)
{
    if (len == 0 || len > (64u << 20) || memchr(body, '\0', len))
        return 0;
    const size_t lay0 = lay ? lay->len : 0;
    pthread_once(&key_names_once, key_names_init);
    req->arena = malloc(len + 1);
    if (!req->arena)
        return 0;
    memcpy(req->arena, body, len);
    req->arena[len] = '\0';
    req->arena_len = req->arena_cap = len + 1;
    fcur c = {req->arena, req->arena + len};
    size_t cap = 0;
    f_ws(&c);
    /* {"instances": [ ... ]} */
    char *save = c.p;
    int batch = 0;
    if (c.p < c.end && *c.p == '{') {
        c.p++;
        f_ws(&c);
        static const char INST[] = "\"instances\"";
        if ((size_t)(c.end - c.p) > sizeof INST && memcmp(c.p, INST, sizeof INST - 1) == 0) {
            c.p += sizeof INST - 1;
            f_ws(&c);
            if (c.p >= c.end || *c.p != ':')
                goto fallback;
            c.p++;
            f_ws(&c);
            if (c.p >= c.end || *c.p != '[')
                goto fallback;
            c.p++;
            batch = 1;
        } else {
            c.p = save;
        }
    }
    req->batch = batch;
    uint32_t nrec = 0, lbatch = (uint32_t)batch;
    if (lay && (rdm_buf_add(lay, &nrec, sizeof nrec) != RDM_OK ||
                rdm_buf_add(lay, &lbatch, sizeof lbatch) != RDM_OK)) {
        lay->len = lay0;
        lay = NULL;
    }
    for (;;) {
        f_ws(&c);
        if (batch && (long)req->n >= max_instances)
            goto fallback; /* jansson reports too_many_instances */
        void *r = req->recs;
        if (rdm_grow(&r, &cap, req->n + 1, sizeof *req->recs))
            goto fallback;
        req->recs = r;

        // the record's layout: its span and key count, then its keys
        enum { HEAD = 2 * sizeof(uint32_t) + sizeof(uint16_t) };

        if (lay && rdm_buf_reserve(lay, HEAD + (RDM_NCOLS + 1) * RDM_API_LAYOUT_KEY) != RDM_OK) {
            lay->len = lay0;
            lay = NULL;
        }
        unsigned char *head = lay ? (unsigned char *)lay->data + lay->len : NULL;
        unsigned char *w = head ? head + HEAD : NULL;
        const char *rs = c.p;
        if (!f_record(&c, &req->recs[req->n], head ? &w : NULL))
            goto fallback;
        if (lay) {
            const size_t rlen = (size_t)(c.p - rs);
            const uint32_t off = (uint32_t)(rs - req->arena), rl = (uint32_t)rlen;
            const uint16_t nk = (uint16_t)((size_t)(w - head - HEAD) / RDM_API_LAYOUT_KEY);
            if (rlen > UINT16_MAX) { // offsets in it would not fit: no layout
                lay->len = lay0;
                lay = NULL;
            } else {
                memcpy(head, &off, sizeof off);
                memcpy(head + sizeof off, &rl, sizeof rl);
                memcpy(head + 2 * sizeof off, &nk, sizeof nk);
                lay->len += (size_t)(w - head);
                nrec++;
            }
        }
        req->n++;
        if (!batch)
            break;
        f_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == ']') {
            c.p++;
            f_ws(&c);
            if (c.p >= c.end || *c.p != '}')
                goto fallback;
            c.p++;
            break;
        }
        goto fallback;
    }
    f_ws(&c);
    if (c.p != c.end)
        goto fallback;
    if (lay) {
        memcpy(lay->data + lay0, &nrec, sizeof nrec);
        lay->data[lay->len] = '\0';
    }
    return 1;
fallback:
    if (lay) {
        lay->len = lay0;
        if (lay->data)
            lay->data[lay0] = '\0';
    }
    rdm_api_request_release(req);
    return 0;
}

int rdm_api_parse_predict(const char *body, size_t len, long max_instances, rdm_api_request *req,
                          rdm_api_error *e)
{
    return rdm_api_parse_predict_layout(body, len, max_instances, req, e, NULL);
}

int rdm_api_parse_predict_layout(const char *body, size_t len, long max_instances,
                                 rdm_api_request *req, rdm_api_error *e, rdm_buf *layout)
{
    *req = (rdm_api_request)RDM_API_REQUEST_INIT;
    if (body && fast_parse(body, len, max_instances, req, layout))
        return RDM_HTTP_OK;
    return rdm_api_parse_predict_jansson(body, len, max_instances, req, e);
}

int rdm_api_parse_predict_jansson(const char *body, size_t len, long max_instances,
                                  rdm_api_request *req, rdm_api_error *e)
{
    json_error_t je;
    *req = (rdm_api_request)RDM_API_REQUEST_INIT;
    if (!body)
        body = "";
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        int st = rdm_api_seterr(e, RDM_HTTP_BAD_REQUEST, "malformed_json", NULL,
                                "malformed JSON at byte %d (line %d, column %d): %s", je.position,
                                je.line, je.column, je.text);
        if (e)
            e->position = je.position;
        return st;
    }
    req->json = root;
    int st = RDM_HTTP_OK;
    const json_t *list = NULL;
    if (!json_is_object(root)) {
        st = rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", NULL,
                            "the request body must be a JSON object (one record or "
                            "{\"instances\": [...]}), got %s",
                            json_type_name(root));
        goto fail;
    }
    list = json_object_get(root, "instances");
    if (list) {
        req->batch = 1;
        if (!json_is_array(list)) {
            st = rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "wrong_type", "instances",
                                "field 'instances': expected an array of records, got %s",
                                json_type_name(list));
            goto fail;
        }
        const json_t *ex = json_object_get(root, "explain");
        if (ex && (st = parse_explain(req, ex, e)) != RDM_HTTP_OK)
            goto fail;
        if (json_object_size(root) != 1u + (ex != NULL)) {
            const char *k;
            const json_t *v;
            json_object_foreach(root, k, v)
            {
                if (strcmp(k, "instances") != 0 && strcmp(k, "explain") != 0)
                    break;
            }
            (void)v;
            st = rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "unknown_field", k,
                                "unknown field '%s' next to 'instances'", k);
            goto fail;
        }
        size_t n = json_array_size(list);
        if (n == 0) {
            st = rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "empty_batch", "instances",
                                "field 'instances': the list is empty");
            goto fail;
        }
        if ((long)n > max_instances || n > (size_t)-1 / sizeof(rdm_api_record)) {
            st = rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "too_many_instances", "instances",
                                "field 'instances': %zu records, at most %ld per request", n,
                                max_instances);
            goto fail;
        }
        req->n = n;
    } else {
        req->n = 1;
    }
    req->recs = malloc(req->n * sizeof *req->recs);
    if (!req->recs) {
        st = rdm_api_seterr(e, RDM_HTTP_INTERNAL, "out_of_memory", NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < req->n; i++) {
        st = parse_record(req, &req->recs[i], i, list ? json_array_get(list, i) : root, e);
        if (st != RDM_HTTP_OK)
            goto fail;
    }
    /* resolve arena offsets now that the arena no longer moves */
    for (size_t i = 0; i < req->n; i++)
        for (int c = 0; c < RDM_NCOLS; c++) {
            uintptr_t p = (uintptr_t)req->recs[i].values[c];
            if (p & ARENA_TAG)
                req->recs[i].values[c] = req->arena + (p & ~ARENA_TAG);
        }
    return RDM_HTTP_OK;
fail:
    rdm_api_request_release(req);
    return st;
}

/* ---- responses ---- */

/* Field named in a model error message ("field 'age': ..."), else "". */
static void field_from_msg(const char *msg, char *out, size_t n)
{
    out[0] = '\0';
    const char *p = strstr(msg, "field '");
    if (!p)
        return;
    p += 7;
    const char *q = strchr(p, '\'');
    if (!q)
        return;
    size_t len = (size_t)(q - p);
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

static int add_model_head(rdm_buf *out, const rdm_api_model *am)
{
    int rc = rdm_buf_adds(out, "{\"model\":{\"name\":");
    if (rc == RDM_OK)
        rc = rdm_api_json_str(out, am->name ? am->name : "", am->name ? strlen(am->name) : 0);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, ",\"version\":");
    if (rc == RDM_OK)
        rc = rdm_api_json_str(out, am->version ? am->version : "",
                              am->version ? strlen(am->version) : 0);
    if (rc == RDM_OK)
        rc = rdm_buf_addc(out, '}');
    return rc;
}

/* ,"encounter_id":..,"probability":..,"decision":..,"threshold":..,"warnings":[..]
 * `thr_text` is the threshold formatted with %.6g (once per request). */
static int add_prediction(rdm_buf *out, const rdm_api_record *rec, double p, double thr,
                          const char *thr_text, const rdm_warnings *w)
{
    int rc = RDM_OK;
    if (rec->id[0]) {
        rc = rdm_buf_adds(out, "\"encounter_id\":");
        if (rc == RDM_OK)
            rc = rdm_buf_adds(out, rec->id);
        if (rc == RDM_OK)
            rc = rdm_buf_addc(out, ',');
    }
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, "\"probability\":");
    if (rc == RDM_OK)
        rc = rdm_buf_add_fixed6(out, p);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, p >= thr ? ",\"decision\":true,\"threshold\":"
                                        : ",\"decision\":false,\"threshold\":");
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, thr_text);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, ",\"warnings\":[");
    for (int i = 0; rc == RDM_OK && i < w->n && i < RDM_MAX_WARNINGS; i++) {
        if (i)
            rc = rdm_buf_addc(out, ',');
        if (rc == RDM_OK)
            rc = rdm_api_json_str(out, w->msg[i], strnlen(w->msg[i], sizeof w->msg[i]));
    }
    if (rc == RDM_OK)
        rc = rdm_buf_addc(out, ']');
    return rc;
}

static int score_records(const rdm_api_model *am, const struct rdm_explainer *x,
                         const rdm_api_request *req, rdm_buf *out, rdm_api_error *e);

/* ,"base_value":..,"contributions":[{"field":..,"value":..,"contribution":..},..]
 * (values as the request gave them: numbers for integer fields, null when
 * missing). */
static int add_explanation(rdm_buf *out, const rdm_api_record *rec, const rdm_explanation *ex)
{
    const rdm_column *sc = rdm_schema_columns();
    int rc = rdm_buf_printf(out, ",\"base_value\":%.17g,\"contributions\":[", ex->base_value);
    for (int k = 0; rc == RDM_OK && k < ex->n; k++) {
        const rdm_contribution *c = &ex->c[k];
        const char *v = rec->values[c->col];
        int missing = !v || !v[0] || strcmp(v, "?") == 0;
        rc = rdm_buf_adds(out, k ? ",{\"field\":" : "{\"field\":");
        if (rc == RDM_OK)
            rc = rdm_api_json_str(out, c->field, strlen(c->field));
        if (rc == RDM_OK)
            rc = rdm_buf_adds(out, ",\"value\":");
        if (rc == RDM_OK && missing)
            rc = rdm_buf_adds(out, "null");
        else if (rc == RDM_OK && sc[c->col].kind == RDM_COL_INT)
            rc = rdm_buf_adds(out, v); /* validated as an integer when parsed */
        else if (rc == RDM_OK)
            rc = rdm_api_json_str(out, v, strlen(v));
        if (rc == RDM_OK)
            rc = rdm_buf_printf(out, ",\"contribution\":%.17g}", c->contribution);
    }
    if (rc == RDM_OK)
        rc = rdm_buf_addc(out, ']');
    return rc;
}

int rdm_api_score(const rdm_api_model *am, const rdm_api_request *req, rdm_buf *out,
                  rdm_api_error *e)
{
    rdm_explainer *own = NULL;
    const rdm_explainer *x = req->explain ? am->explainer : NULL;
    if (req->explain && !x) {
        rdm_err xe = {0};
        if (!(x = own = rdm_explainer_create(am->model, &xe)))
            return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "cannot_explain", "explain", "%s",
                                  xe.msg);
    }
    int st = score_records(am, x, req, out, e);
    rdm_explainer_free(own);
    return st;
}

#define API_BLOCK 32 /* records scored at a time */

/* The threshold as "%.6g", formatted once per thread for each threshold seen
 * last (printf's floating-point path, on every request, costs more than the
 * rest of a response's text). */
static const char *threshold_text(double thr)
{
    static _Thread_local int have;
    static _Thread_local double last;
    static _Thread_local char text[40];
    if (!have || memcmp(&last, &thr, sizeof thr) != 0) {
        snprintf(text, sizeof text, "%.6g", thr);
        last = thr;
        have = 1;
    }
    return text;
}

/* rdm_api_score with the explainer `x` (NULL without "explain"). */
static int score_records(const rdm_api_model *am, const rdm_explainer *x,
                         const rdm_api_request *req, rdm_buf *out, rdm_api_error *e)
{
    double thr = rdm_model_threshold(am->model);
    const char *thr_text = threshold_text(thr);
    size_t start = out->len;
    int rc = add_model_head(out, am);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, req->batch ? ",\"predictions\":[" : ",");
    /* without explanations the records are scored a block at a time (the
     * same probabilities and warnings as one at a time) */
    const char *const *rows[API_BLOCK];
    double prob[API_BLOCK];
    rdm_warnings wb[API_BLOCK];
    size_t b0 = 0, bn = 0, bok = 0; /* the block: records b0 .. b0 + bn, bok of them scored */
    rdm_err berr = {0};
    int brc = RDM_OK;
    for (size_t i = 0; rc == RDM_OK && i < req->n; i++) {
        rdm_err err = {0};
        rdm_warnings w, *wp = &w;
        double p = 0;
        w.n = 0;
        rdm_explanation ex;
        int src;
        if (x) {
            src = rdm_explain(x, req->recs[i].values, &ex, &w, &err);
            p = ex.prob;
        } else {
            if (i == b0 + bn) {
                b0 = i;
                bn = req->n - i < API_BLOCK ? req->n - i : API_BLOCK;
                for (size_t k = 0; k < bn; k++)
                    rows[k] = req->recs[b0 + k].values;
                brc = rdm_model_score_block(am->model, rows, bn, prob, wb, &bok, &berr);
            }
            src = i - b0 < bok ? RDM_OK : brc;
            if (src != RDM_OK) {
                err = berr;
            } else {
                p = prob[i - b0];
                wp = &wb[i - b0];
            }
        }
        if (src != RDM_OK) {
            char f[64], fname[96];
            field_from_msg(err.msg, f, sizeof f);
            field_name(fname, sizeof fname, req->batch, i, f[0] ? f : NULL);
            out->len = start;
            if (out->data)
                out->data[start] = '\0';
            return rdm_api_seterr(e, RDM_HTTP_UNPROCESSABLE, "invalid_value",
                                  f[0] || req->batch ? fname : NULL, "%s%s%s",
                                  req->batch ? fname : "", req->batch ? ": " : "", err.msg);
        }
        if (req->batch)
            rc = rdm_buf_adds(out, i ? ",{" : "{");
        if (rc == RDM_OK)
            rc = add_prediction(out, &req->recs[i], p, thr, thr_text, wp);
        if (rc == RDM_OK && x)
            rc = add_explanation(out, &req->recs[i], &ex);
        if (rc == RDM_OK && req->batch)
            rc = rdm_buf_addc(out, '}');
    }
    if (rc == RDM_OK)
        rc = rdm_buf_adds(out, req->batch ? "]}\n" : "}\n");
    if (rc != RDM_OK) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return rdm_api_seterr(e, RDM_HTTP_UNAVAILABLE, "out_of_memory", NULL, "out of memory");
    }
    return RDM_HTTP_OK;
}

int rdm_api_predict(const rdm_api_model *am, const char *body, size_t len, long max_instances,
                    rdm_buf *out)
{
    rdm_api_error e;
    rdm_api_request req;
    int st;
    if (!am || !am->model) {
        st = rdm_api_seterr(&e, RDM_HTTP_UNAVAILABLE, "no_model", NULL,
                            "no model is being served yet: train, register and promote a "
                            "champion (readmit train && readmit register)");
    } else {
        st = rdm_api_parse_predict(body, len, max_instances, &req, &e);
        if (st == RDM_HTTP_OK) {
            st = rdm_api_score(am, &req, out, &e);
            rdm_api_request_release(&req);
        }
    }
    if (st != RDM_HTTP_OK && rdm_api_error_json(&e, out) != RDM_OK)
        return RDM_HTTP_UNAVAILABLE;
    return st;
}

static json_t *jstr(const char *s)
{
    json_t *v = json_string(s ? s : "");
    return v ? v : json_string("");
}

int rdm_api_model_json(const rdm_api_model *am, rdm_buf *out)
{
    const rdm_model *m = am->model;
    json_t *o = json_object();
    json_t *meta = json_object();
    json_t *fields = json_array();
    int rc = RDM_ENOMEM;
    if (!o || !meta || !fields)
        goto done;
    json_object_set_new(o, "name", jstr(am->name));
    json_object_set_new(o, "version", jstr(am->version));
    json_object_set_new(o, "alias", jstr(am->alias));
    json_object_set_new(o, "sha256", jstr(am->sha256));
    json_object_set_new(o, "type", jstr(rdm_model_type_name(m)));
    json_object_set_new(o, "threshold", json_real(rdm_model_threshold(m)));
    static const char *const keys[] = {"trained_at", "snapshot_id", "run_id", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *v = rdm_model_meta(m, keys[i]);
        if (v)
            json_object_set_new(o, keys[i], jstr(v));
    }
    for (int i = 0; i < rdm_model_meta_count(m); i++) {
        const char *k = NULL, *v = NULL;
        rdm_model_meta_at(m, i, &k, &v);
        if (k)
            json_object_set_new(meta, k, jstr(v));
    }
    json_object_set(o, "metadata", meta);
    for (int i = 0; i < rdm_model_input_count(m); i++) {
        const rdm_input_field *f = rdm_model_input(m, i);
        json_t *jf = json_object();
        if (!f || !jf) {
            json_decref(jf);
            continue;
        }
        json_object_set_new(jf, "name", jstr(f->name));
        json_object_set_new(jf, "type", jstr(f->categorical ? "categorical" : "integer"));
        if (f->categorical) {
            json_t *lv = json_array();
            for (int k = 0; lv && f->levels && f->levels[k]; k++)
                json_array_append_new(lv, jstr(f->levels[k]));
            if (lv)
                json_object_set_new(jf, "levels", lv);
            json_t *lb = f->labels ? json_array() : NULL;
            for (int k = 0; lb && f->levels && f->levels[k]; k++)
                json_array_append_new(lb, f->labels[k] ? jstr(f->labels[k]) : json_null());
            if (lb)
                json_object_set_new(jf, "labels", lb);
            if (rdm_schema_columns()[f->col].kind == RDM_COL_DIAG) { /* ICD-9 chapter per code */
                json_t *ch = json_array();
                for (int k = 0; ch && f->levels && f->levels[k]; k++)
                    json_array_append_new(ch, jstr(rdm_icd9_chapter(f->levels[k])));
                if (ch)
                    json_object_set_new(jf, "chapters", ch);
            }
        } else {
            json_object_set_new(jf, "min", json_real(f->min));
            json_object_set_new(jf, "max", json_real(f->max));
        }
        json_array_append_new(fields, jf);
    }
    json_t *mj = am->metrics && am->metrics[0] ? json_loads(am->metrics, 0, NULL) : NULL;
    json_object_set_new(o, "metrics", json_is_object(mj) ? mj : json_object());
    if (mj && !json_is_object(mj))
        json_decref(mj);
    json_object_set(o, "input", fields);
    json_object_set_new(o, "missing", jstr("absent, null, \"\" or \"?\""));
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (text) {
        rc = rdm_buf_adds(out, text);
        if (rc == RDM_OK)
            rc = rdm_buf_addc(out, '\n');
        free(text);
    }
done:
    json_decref(fields);
    json_decref(meta);
    json_decref(o);
    return rc;
}
