/* predbatch.c - prediction log batches as binary COPY rows. */
#include "predbatch.h"

#include <stdlib.h>
#include <string.h>

#define PG_EPOCH_US INT64_C(946684800000000) /* 2000-01-01 in unix microseconds */

static const uint32_t ARRAY_OID[RDM_PB_NARRAYS] = {
    RDM_OID_TIMESTAMPTZ, RDM_OID_TEXT,   RDM_OID_INT4, RDM_OID_INT8,   RDM_OID_INT8, RDM_OID_INT4,
    RDM_OID_TEXT,        RDM_OID_FLOAT8, RDM_OID_INT2, RDM_OID_FLOAT8, RDM_OID_INT4, RDM_OID_INT4,
};

static void be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* rdm_buf_add of a few bytes, copied here when they fit (most often: the
 * arrays grow once per batch, and a call per element was a tenth of the
 * writer's time). */
static inline int add_small(rdm_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len <= n)
        return rdm_buf_add(b, p, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return RDM_OK;
}

static int add_be(rdm_buf *b, uint64_t v, int n)
{
    unsigned char x[8];
    be(x, v, n);
    return add_small(b, x, (size_t)n);
}

/* A field or element: length, then the value. */
static int add_val(rdm_buf *b, const void *p, size_t n)
{
    int rc = add_be(b, (uint32_t)n, 4);
    return rc ? rc : rdm_buf_add(b, p, n);
}

static int add_int(rdm_buf *b, uint64_t v, int n)
{
    unsigned char x[12];
    be(x, (uint64_t)n, 4);
    be(x + 4, v, n);
    return add_small(b, x, 4 + (size_t)n);
}

static uint64_t float_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static int elem_null(rdm_predbatch *b, int a)
{
    b->hasnull[a] = 1;
    return add_be(&b->arr[a], UINT32_MAX, 4);
}

static int elem_text(rdm_predbatch *b, int a, const char *s)
{
    return s ? add_val(&b->arr[a], s, strlen(s)) : elem_null(b, a);
}

static int elem_int(rdm_predbatch *b, int a, const void *v, int n)
{
    if (!v)
        return elem_null(b, a);
    uint64_t x =
        n == 8 ? (uint64_t) * (const int64_t *)v : (uint64_t)(uint32_t) * (const int32_t *)v;
    return add_int(&b->arr[a], x, n);
}

void rdm_predbatch_init(rdm_predbatch *b)
{
    memset(b, 0, sizeof *b);
}

void rdm_predbatch_release(rdm_predbatch *b)
{
    for (int a = 0; a < RDM_PB_NARRAYS; a++)
        rdm_buf_release(&b->arr[a]);
    rdm_buf_release(&b->inputs);
    free(b->spans);
    rdm_buf_release(&b->model);
    rdm_buf_release(&b->writer);
    rdm_buf_release(&b->keys);
    rdm_buf_release(&b->gvals);
    rdm_buf_release(&b->gcodes);
    memset(b, 0, sizeof *b);
}

int rdm_predbatch_frame(rdm_buf *out, int trailer)
{
    static const char sig[11] = "PGCOPY\n\377\r\n";
    if (trailer)
        return add_be(out, UINT16_MAX, 2);
    int rc = rdm_buf_add(out, sig, sizeof sig);
    return rc ? rc : rdm_buf_add(out, "\0\0\0\0\0\0\0\0", 8); /* flags, extension length */
}

int rdm_predbatch_begin(rdm_predbatch *b, rdm_buf *out)
{
    b->rows = 0;
    return rdm_predbatch_frame(out, 0);
}

/* The arrays stored as one element when all of a batch's are alike. */
static int once_ok(int a)
{
    return a == RDM_PB_VERSION || a == RDM_PB_ALIAS || a == RDM_PB_THRESHOLD;
}

/* After element `a` of the n-th prediction was appended from byte `at`:
 * note its length (the first) or whether it differs from the first. */
static void note_elem(rdm_predbatch *b, int a, size_t at)
{
    const rdm_buf *x = &b->arr[a];
    if (!b->n)
        b->first_len[a] = x->len;
    else if (!b->varies[a])
        b->varies[a] =
            x->len - at != b->first_len[a] || memcmp(x->data + at, x->data, b->first_len[a]);
}

/* A one-dimensional array field of `n` elements of type `oid` (elements:
 * the bytes elems[0..len), each its length and its value); no NULL. */
static int add_array(rdm_buf *out, uint32_t oid, uint32_t n, const char *elems, size_t len)
{
    unsigned char h[24];
    if (!n) {
        be(h, 12, 4);
        be(h + 4, 0, 4); /* no dimension: an empty array */
        be(h + 8, 0, 4);
        be(h + 12, oid, 4);
        return rdm_buf_add(out, h, 16);
    }
    be(h, 20 + len, 4);
    be(h + 4, 1, 4); /* dimensions */
    be(h + 8, 0, 4); /* no NULL */
    be(h + 12, oid, 4);
    be(h + 16, n, 4);
    be(h + 20, 1, 4); /* lower bound */
    int rc = rdm_buf_add(out, h, sizeof h);
    return rc ? rc : rdm_buf_add(out, elems, len);
}

/* The open batch as one row of `out`. */
static int flush(rdm_predbatch *b, rdm_buf *out)
{
    if (!b->n)
        return RDM_OK;
    int rc = add_be(out, RDM_PREDBATCH_FIELDS, 2);
    rc = rc ? rc : add_val(out, b->model.data, b->model.len);
    rc = rc ? rc : add_int(out, b->n, 4);
    rc = rc ? rc : add_int(out, (uint64_t)(b->first_us - PG_EPOCH_US), 8);
    rc = rc ? rc : add_int(out, (uint64_t)(b->last_us - PG_EPOCH_US), 8);
    rc = rc ? rc : add_val(out, b->writer.data, b->writer.len);
    rc = rc ? rc : add_int(out, b->seq_lo, 8);
    rc = rc ? rc : add_int(out, b->seq_hi, 8);
    for (int a = 0; rc == RDM_OK && a < RDM_PB_NARRAYS; a++) {
        if (a == RDM_PB_INPUT_END) /* race, gender, age: in group_codes */
            rc = rdm_buf_add(out, "\377\377\377\377\377\377\377\377\377\377\377\377", 12);
        if (rc != RDM_OK)
            break;
        // one element for all when none differs (those kept so: once_ok)
        const int once = once_ok(a) && !b->varies[a];
        const size_t len = once ? b->first_len[a] : b->arr[a].len;
        unsigned char h[24];
        be(h, 20 + len, 4);
        be(h + 4, 1, 4); /* dimensions */
        be(h + 8, (uint64_t)b->hasnull[a], 4);
        be(h + 12, ARRAY_OID[a], 4);
        be(h + 16, once ? 1 : b->n, 4);
        be(h + 20, 1, 4); /* lower bound */
        rc = rdm_buf_add(out, h, sizeof h);
        if (rc == RDM_OK)
            rc = rdm_buf_add(out, b->arr[a].data, len);
        rdm_buf_reset(&b->arr[a]);
        b->hasnull[a] = 0;
        b->varies[a] = 0;
    }
    // the inputs, each copied once from where it lies
    rc = rc ? rc : add_be(out, (uint32_t)b->input_len, 4);
    rc = rc ? rc : rdm_buf_reserve(out, b->input_len);
    if (rc == RDM_OK) {
        char *q = out->data + out->len;
        for (size_t i = 0; i < b->nspans; i++) {
            const rdm_pbspan *s = &b->spans[i];
            memcpy(q, s->p ? s->p : b->inputs.data + s->off, s->len);
            q += s->len;
        }
        out->len += b->input_len;
        out->data[out->len] = '\0';
    }
    // input_keys: a text[] of the keys, or NULL
    if (rc == RDM_OK && b->nkeys)
        rc = add_array(out, RDM_OID_TEXT, b->nkeys, b->keys.data, b->keys.len);
    else if (rc == RDM_OK)
        rc = add_be(out, UINT32_MAX, 4);
    // group_values and group_codes
    rc = rc ? rc : add_array(out, RDM_OID_TEXT, b->ngvals, b->gvals.data, b->gvals.len);
    rc = rc ? rc : add_val(out, b->gcodes.data, b->gcodes.len);
    rdm_buf_reset(&b->keys);
    b->nkeys = 0;
    rdm_buf_reset(&b->gvals);
    rdm_buf_reset(&b->gcodes);
    b->ngvals = 0;
    memset(b->glast, 0, sizeof b->glast);
    rdm_buf_reset(&b->inputs);
    b->nspans = 0;
    b->input_len = 0;
    b->n = 0;
    b->rows++;
    return rc;
}

/* ---- inputs stored without their keys ---- */

#define KEYLESS_MARK 0x1f /* before each value */
#define KEYLESS_NULL 0x1e /* a null value */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Copy the bytes of the string that starts at p to *w (advanced) up to its
 * closing quote: the quote, or NULL when the string has a control character
 * or no end. The input has no backslash: the next quote ends it. */
static const char *copy_string(const char *p, const char *end, char **w)
{
    char *q = *w;
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *w = q;
            return p;
        }
        if (c < 0x20)
            return NULL;
        *q++ = (char)c;
    }
    return NULL;
}

static uint32_t get32(const unsigned char *p);

/* Whether the key elements k[0..len) (text[] elements) name one key twice. */
static int dup_keys(const char *k, size_t len)
{
    const unsigned char *u = (const unsigned char *)k;
    for (size_t a = 0; a < len;) {
        uint32_t na = get32(u + a);
        for (size_t c = a + 4 + na; c < len; c += 4 + get32(u + c))
            if (get32(u + c) == na && !memcmp(u + a + 4, u + c + 4, na))
                return 1;
        a += 4 + na;
    }
    return 0;
}

/* Append input s[0..n) to b->inputs without its keys when it can be (see
 * predbatch.h): 1 when appended, 0 when it is to be stored as sent, or
 * RDM_ENOMEM. The first such input of a batch sets the batch's keys. */
static int add_keyless(rdm_predbatch *b, const char *s, size_t n)
{
    if (n < 2 || memchr(s, '\\', n))
        return 0;
    // the values take fewer bytes than the record: written in place
    if (rdm_buf_reserve(&b->inputs, n) != RDM_OK)
        return RDM_ENOMEM;
    const int first = b->nkeys == 0;
    const char *p = skip_ws(s, s + n), *end = s + n;
    char *w = b->inputs.data + b->inputs.len;
    const unsigned char *key = (const unsigned char *)b->keys.data, *keys_end = key + b->keys.len;
    uint32_t k = 0;
    int ok = 0;
    if (p == end || *p++ != '{')
        return 0;
    for (p = skip_ws(p, end); p < end && *p == '"';) {
        const char *e = ++p;
        if (first) {
            while (e < end && *e != '"' && (unsigned char)*e >= 0x20)
                e++;
            if (e == end || *e != '"' || add_val(&b->keys, p, (size_t)(e - p)) != RDM_OK)
                break;
        } else {
            if (key >= keys_end)
                break;
            uint32_t klen = get32(key);
            if ((size_t)(end - p) <= klen || memcmp(key + 4, p, klen) || p[klen] != '"')
                break;
            e = p + klen;
            key += 4 + klen;
        }
        p = skip_ws(e + 1, end);
        if (p == end || *p != ':')
            break;
        p = skip_ws(p + 1, end);
        *w++ = KEYLESS_MARK;
        if (p < end && *p == '"') {
            if (!(p = copy_string(p + 1, end, &w)))
                break;
            p++;
        } else if (end - p >= 4 && !memcmp(p, "null", 4)) {
            *w++ = KEYLESS_NULL;
            p += 4;
        } else {
            break;
        }
        k++;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        // the end: the object's brace, then nothing but white space; every
        // key of the batch's, or (the first) two keys at least, none twice
        ok = p < end && *p == '}' && skip_ws(p + 1, end) == end &&
             (first ? k >= 2 && !dup_keys(b->keys.data, b->keys.len) : key == keys_end);
        break;
    }
    if (ok) {
        if (first)
            b->nkeys = k;
        b->inputs.len = (size_t)(w - b->inputs.data);
        b->inputs.data[b->inputs.len] = '\0';
        return 1;
    }
    if (first)
        rdm_buf_reset(&b->keys);
    return 0;
}

/* add_keyless() for an input whose keyless form the caller gives (the
 * item's kl_*): the same outcome without reading the input. */
static int add_keyless_given(rdm_predbatch *b, const rdm_predbatch_item *it)
{
    if (b->nkeys == 0) {
        if (it->kl_nkeys < 2 || dup_keys(it->kl_keys, it->kl_keys_len))
            return 0;
        if (rdm_buf_add(&b->keys, it->kl_keys, it->kl_keys_len) != RDM_OK) {
            rdm_buf_reset(&b->keys);
            return RDM_ENOMEM;
        }
        b->nkeys = it->kl_nkeys;
    } else if (it->kl_keys_len != b->keys.len || memcmp(it->kl_keys, b->keys.data, b->keys.len)) {
        return 0;
    }
    if (rdm_buf_add(&b->inputs, it->kl_vals, it->kl_vals_len) != RDM_OK)
        return RDM_ENOMEM;
    return 1;
}

/* ---- race, gender and age as codes ---- */

#define GROUPS_FULL 1 /* add_groups: no room for the values */

/* The code of value s in the open batch's group values (field f: the one
 * it had last is tried first); 0 for a missing value, -1 when not there. */
static int group_code(const rdm_predbatch *b, int f, const char *s, size_t n)
{
    if (!s)
        return 0;
    const unsigned char *v = (const unsigned char *)b->gvals.data;
    const uint32_t last = b->glast[f];
    if (last && get32(v + b->gval_at[last - 1]) == n &&
        !memcmp(v + b->gval_at[last - 1] + 4, s, n))
        return (int)last;
    for (uint32_t k = 0; k < b->ngvals; k++)
        if (get32(v + b->gval_at[k]) == n && !memcmp(v + b->gval_at[k] + 4, s, n))
            return (int)k + 1;
    return -1;
}

/* The codes of one prediction's race, gender and age appended to
 * b->gcodes, values new to the batch added: RDM_OK, or GROUPS_FULL when
 * they would be more than RDM_PREDBATCH_MAX_GROUP_VALUES (nothing added). */
static int add_groups(rdm_predbatch *b, const char *const g[3])
{
    size_t len[3];
    int code[3], fresh = 0;
    for (int f = 0; f < 3; f++) {
        len[f] = g[f] ? strlen(g[f]) : 0;
        code[f] = group_code(b, f, g[f], len[f]);
        fresh += code[f] < 0;
    }
    if (b->ngvals + (uint32_t)fresh > RDM_PREDBATCH_MAX_GROUP_VALUES)
        return GROUPS_FULL;
    for (int f = 0; f < 3; f++) {
        if (code[f] < 0) {
            // the same new value twice in one prediction: one entry
            code[f] = group_code(b, f, g[f], len[f]);
            if (code[f] < 0) {
                b->gval_at[b->ngvals] = (uint32_t)b->gvals.len;
                if (add_val(&b->gvals, g[f], len[f]) != RDM_OK)
                    return RDM_ENOMEM;
                code[f] = (int)++b->ngvals;
            }
        }
        b->glast[f] = (unsigned char)code[f];
    }
    const unsigned char c[3] = {(unsigned char)code[0], (unsigned char)code[1],
                                (unsigned char)code[2]};
    return rdm_buf_add(&b->gcodes, c, sizeof c);
}

static int same(const rdm_buf *b, const char *s)
{
    size_t n = strlen(s);
    return b->len == n && !memcmp(b->data, s, n);
}

/* An empty batch takes the model, writer, time and seq of its first prediction. */
static int start(rdm_predbatch *b, const char *model, const char *writer, int64_t served_us,
                 uint64_t seq)
{
    rdm_buf_reset(&b->model);
    rdm_buf_reset(&b->writer);
    int rc = rdm_buf_adds(&b->model, model);
    rc = rc ? rc : rdm_buf_adds(&b->writer, writer);
    b->first_us = b->last_us = served_us;
    b->seq_lo = b->seq_hi = seq;
    return rc;
}

int rdm_predbatch_add(rdm_predbatch *b, const char *model, const char *writer, uint64_t seq,
                      const rdm_predbatch_item *it, rdm_buf *out)
{
    int rc = RDM_OK;
    if (b->n && (b->n >= RDM_PREDBATCH_MAX_ROWS ||
                 b->input_len + it->input_len > RDM_PREDBATCH_MAX_INPUTS ||
                 !same(&b->model, model) || !same(&b->writer, writer)))
        rc = flush(b, out);
    if (rc == RDM_OK && !b->n)
        rc = start(b, model, writer, it->served_us, seq);
    // race, gender and age first: a batch with too many distinct values of
    // them is written before this prediction, which starts the next
    const char *const g[3] = {it->race, it->gender, it->age};
    if (rc == RDM_OK && (rc = add_groups(b, g)) == GROUPS_FULL) {
        rc = flush(b, out);
        if (rc == RDM_OK)
            rc = start(b, model, writer, it->served_us, seq);
        rc = rc ? rc : add_groups(b, g);
    }
    if (rc != RDM_OK)
        return rc;
    if (it->served_us < b->first_us)
        b->first_us = it->served_us;
    if (it->served_us > b->last_us)
        b->last_us = it->served_us;
    if (seq < b->seq_lo)
        b->seq_lo = seq;
    if (seq > b->seq_hi)
        b->seq_hi = seq;
    const int32_t latency = (int32_t)it->latency_us, item = it->item;
    const int64_t served = it->served_us - PG_EPOCH_US;
    const int16_t decision = (int16_t)(it->decision != 0);
    rc = elem_int(b, RDM_PB_SERVED, &served, 8);
    rc = rc ? rc : elem_text(b, RDM_PB_REQUEST, it->request_id);
    rc = rc ? rc : elem_int(b, RDM_PB_ITEM, &item, 4);
    rc = rc ? rc : elem_int(b, RDM_PB_ENCOUNTER, it->encounter_id, 8);
    rc = rc ? rc : elem_int(b, RDM_PB_PATIENT, it->patient_nbr, 8);
    const size_t at_version = b->arr[RDM_PB_VERSION].len, at_alias = b->arr[RDM_PB_ALIAS].len,
                 at_threshold = b->arr[RDM_PB_THRESHOLD].len;
    rc = rc ? rc : elem_int(b, RDM_PB_VERSION, it->version, 4);
    rc = rc ? rc : elem_text(b, RDM_PB_ALIAS, it->alias ? it->alias : "");
    rc = rc ? rc : add_int(&b->arr[RDM_PB_PROB], float_bits(it->probability), 8);
    rc = rc ? rc : add_int(&b->arr[RDM_PB_DECISION], (uint16_t)decision, 2);
    rc = rc ? rc : add_int(&b->arr[RDM_PB_THRESHOLD], float_bits(it->threshold), 8);
    if (rc == RDM_OK) {
        note_elem(b, RDM_PB_VERSION, at_version);
        note_elem(b, RDM_PB_ALIAS, at_alias);
        note_elem(b, RDM_PB_THRESHOLD, at_threshold);
    }
    rc = rc ? rc : elem_int(b, RDM_PB_LATENCY, &latency, 4);
    if (rc == RDM_OK && b->nspans == b->capspans) {
        void *v = b->spans;
        rc = rdm_grow(&v, &b->capspans, b->nspans + 1, sizeof *b->spans);
        b->spans = v;
    }
    size_t stored = it->input_len;
    if (rc == RDM_OK) {
        rdm_pbspan sp = {it->input, 0, it->input_len};
        size_t at = b->inputs.len;
        int k = it->kl_vals ? add_keyless_given(b, it) : add_keyless(b, it->input, it->input_len);
        if (k == 1) {
            sp = (rdm_pbspan){NULL, at, b->inputs.len - at};
            stored = sp.len;
        } else if (k != 0) {
            rc = k;
        } else if (!it->input_stable) {
            sp.p = NULL;
            sp.off = at;
            rc = rdm_buf_add(&b->inputs, it->input, it->input_len);
        }
        b->spans[b->nspans] = sp;
    }
    const int32_t end = (int32_t)(b->input_len + stored);
    rc = rc ? rc : elem_int(b, RDM_PB_INPUT_END, &end, 4);
    if (rc == RDM_OK) {
        b->nspans++;
        b->input_len += stored;
    }
    if (rc == RDM_OK)
        b->n++;
    return rc;
}

int rdm_predbatch_flush(rdm_predbatch *b, rdm_buf *out)
{
    return flush(b, out);
}

int rdm_predbatch_end(rdm_predbatch *b, rdm_buf *out)
{
    int rc = flush(b, out);
    return rc ? rc : rdm_predbatch_frame(out, 1);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rdm_pbarray_open(rdm_pbarray *a, const unsigned char *data, size_t len, uint32_t oid)
{
    a->p = a->end = data;
    a->n = 0;
    if (!data)
        return 0;
    a->end = data + len;
    if (len < 12 || get32(data + 8) != oid)
        return -1;
    uint32_t ndim = get32(data);
    if (ndim == 0) {
        a->p = a->end;
        return 0;
    }
    if (ndim != 1 || len < 20)
        return -1;
    a->n = get32(data + 12);
    a->p = data + 20;
    return 0;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int rdm_predbatch_row_scan(const char *p, size_t avail, rdm_predbatch_row *r)
{
    const unsigned char *u = (const unsigned char *)p, *end = u + avail;
    memset(r, 0, sizeof *r);
    if (avail < 2)
        return -1;
    unsigned nf = (unsigned)(u[0] << 8 | u[1]);
    if (nf == 0xffff)
        return 0;
    r->aside =
        nf == RDM_PREDBATCH_ASIDE || nf == RDM_PREDBATCH_ASIDE_V2 || nf == RDM_PREDBATCH_ASIDE_V1;
    r->fields = nf == RDM_PREDBATCH_FIELDS || nf == RDM_PREDBATCH_ASIDE ? RDM_PREDBATCH_FIELDS
                : nf == RDM_PREDBATCH_FIELDS_V2 || nf == RDM_PREDBATCH_ASIDE_V2
                    ? RDM_PREDBATCH_FIELDS_V2
                : nf == RDM_PREDBATCH_FIELDS_V1 || nf == RDM_PREDBATCH_ASIDE_V1
                    ? RDM_PREDBATCH_FIELDS_V1
                    : 0;
    if (!r->fields)
        return -1;
    const unsigned char *q = u + 2;
    for (int i = 0; i < r->fields; i++) {
        if (end - q < 4)
            return -1;
        uint32_t n = get32(q);
        q += 4;
        if (n == UINT32_MAX && i >= 18 && i <= 23 && i != 21 && i != 22)
            continue; /* input_keys may be NULL, and race, gender, age (coded) */
        if (n == UINT32_MAX)
            return -1; /* no other field of a batch row is NULL */
        if ((size_t)(end - q) < n)
            return -1;
        if (i == 1 && n == 4)
            r->n = get32(q);
        else if (i == 4) {
            r->writer = (const char *)q;
            r->writer_len = n;
        } else if ((i == 5 || i == 6) && n == 8)
            *(i == 5 ? &r->seq_lo : &r->seq_hi) = get64(q);
        else if (i < 7 && i != 0 && i != 2 && i != 3)
            return -1;
        q += n;
    }
    r->len = (size_t)(q - u);
    return 1;
}

void rdm_predbatch_send_shape(const rdm_predbatch_row *r, unsigned char count[2],
                              const unsigned char **gap, size_t *gap_len)
{
    static const unsigned char null_fields[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    count[0] = 0;
    count[1] = (unsigned char)(RDM_PREDBATCH_FIELDS + 1);
    *gap = null_fields;
    *gap_len = 4 * (size_t)(RDM_PREDBATCH_FIELDS - r->fields);
}

unsigned rdm_predbatch_aside_mark(int fields)
{
    return fields == RDM_PREDBATCH_FIELDS_V1   ? RDM_PREDBATCH_ASIDE_V1
           : fields == RDM_PREDBATCH_FIELDS_V2 ? RDM_PREDBATCH_ASIDE_V2
                                               : RDM_PREDBATCH_ASIDE;
}

int rdm_predbatch_ids_field(rdm_buf *out, uint32_t n, int64_t first)
{
    if (rdm_buf_reserve(out, 4 + 20 + (size_t)n * 12) != RDM_OK)
        return RDM_ENOMEM;
    unsigned char *p = (unsigned char *)out->data + out->len;
    be(p, 20 + (uint64_t)n * 12, 4);
    be(p + 4, 1, 4); /* dimensions */
    be(p + 8, 0, 4); /* no NULL */
    be(p + 12, RDM_OID_INT8, 4);
    be(p + 16, n, 4);
    be(p + 20, 1, 4); /* lower bound */
    p += 24;
    for (uint32_t i = 0; i < n; i++, p += 12) {
        be(p, 8, 4);
        be(p + 4, (uint64_t)(first + (int64_t)i), 8);
    }
    out->len = (size_t)((char *)p - out->data);
    out->data[out->len] = '\0';
    return RDM_OK;
}

int rdm_predbatch_row_ids(rdm_buf *out, const char *row, size_t row_len, uint32_t n, int64_t first)
{
    rdm_predbatch_row r;
    unsigned char count[2];
    const unsigned char *gap;
    size_t gap_len;
    if (rdm_predbatch_row_scan(row, row_len, &r) != 1 || r.len != row_len)
        return RDM_EINVAL;
    rdm_predbatch_send_shape(&r, count, &gap, &gap_len);
    if (rdm_buf_add(out, count, 2) != RDM_OK || rdm_buf_add(out, row + 2, row_len - 2) != RDM_OK ||
        rdm_buf_add(out, gap, gap_len) != RDM_OK)
        return RDM_ENOMEM;
    return rdm_predbatch_ids_field(out, n, first);
}
