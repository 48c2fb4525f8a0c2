/* predentry.c - the prediction log's entries: their format, and the COPY
 * rows they become. */
#include "predentry.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "db.h"
#include "predfields.h"
#include "schema.h"

size_t rdm_predentry_size(const rdm_predentry_hdr *h)
{
    return sizeof *h + (size_t)h->name_len + h->version_len + h->alias_len + h->body_len +
           h->resp_len + 5 + (h->flags & RDM_PREDENTRY_LAYOUT ? h->layout_len : 0);
}

_Static_assert(sizeof(rdm_predentry_hdr) == 64, "the entries' header is as spill files hold it");

static void put_str(char **q, const char *s, size_t n)
{
    memcpy(*q, s, n);
    (*q)[n] = '\0';
    *q += n + 1;
}

void rdm_predentry_write(char *q, const rdm_predentry_hdr *h, const char *name, const char *version,
                         const char *alias, const char *body, const char *resp, const char *layout)
{
    memcpy(q, h, sizeof *h);
    q += sizeof *h;
    put_str(&q, name, h->name_len);
    put_str(&q, version, h->version_len);
    put_str(&q, alias, h->alias_len);
    put_str(&q, body, h->body_len);
    put_str(&q, resp, h->resp_len);
    if (h->flags & RDM_PREDENTRY_LAYOUT)
        memcpy(q, layout, h->layout_len);
}

int rdm_predentry_parse(const char *p, size_t avail, rdm_predentry *v)
{
    if (avail < sizeof(rdm_predentry_hdr))
        return 0;
    memcpy(&v->h, p, sizeof v->h);
    const rdm_predentry_hdr *h = &v->h;
    if ((h->magic != RDM_PREDENTRY_MAGIC && h->magic != RDM_PREDENTRY_ASIDE) ||
        h->len != rdm_predentry_size(h) || h->len > avail)
        return 0;
    v->aside = h->magic == RDM_PREDENTRY_ASIDE;
    const char *q = p + sizeof(rdm_predentry_hdr);
    v->name = q;
    q += h->name_len + 1;
    v->version = q;
    q += h->version_len + 1;
    v->alias = q;
    q += h->alias_len + 1;
    v->body = q;
    q += h->body_len + 1;
    v->resp = q;
    q += h->resp_len + 1;
    v->layout = h->flags & RDM_PREDENTRY_LAYOUT ? q : NULL;
    v->layout_len = v->layout ? h->layout_len : 0;
    return 1;
}

/* ---- COPY rows ---- */

static int add_field(rdm_buf *out, const char *v, int last)
{
    int rc = rdm_copy_escape(out, v);
    return rc ? rc : rdm_buf_addc(out, last ? '\n' : '\t');
}

/* Integer text of a JSON scalar (number or string of digits), or NULL. */
static const char *int_text(const char *v, char *buf, size_t n)
{
    if (!v)
        return NULL;
    size_t k = 0;
    if (*v == '"')
        v++;
    if (*v == '-' && k + 1 < n)
        buf[k++] = *v++;
    while (*v >= '0' && *v <= '9' && k + 1 < n)
        buf[k++] = *v++;
    buf[k] = '\0';
    if (k == 0 || (k == 1 && buf[0] == '-') || (*v && *v != '"' && *v != '.'))
        return NULL;
    if (*v == '.') // 12.0 is an integer written as a float; anything else is not
        for (v++; *v == '0'; v++)
            ;
    return (*v == '\0' || *v == '"') ? buf : NULL;
}

static void format_time(int64_t us, char out[40])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t k = strftime(out, 40, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + k, 40 - k, ".%06ld+00", (long)(us % 1000000));
}

/* jsonb refuses \u0000 in strings: such an input (json[0..n)) is logged
 * without its text. Only an escape counts (an escaped backslash followed by
 * "u0000" is text); a body without a backslash is one memchr. */
static const char *loggable(const char *json, size_t n)
{
    const char *end = json + n;
    for (const char *p = json; (p = memchr(p, '\\', (size_t)(end - p))) != NULL && end - p >= 2;
         p += 2)
        if (end - p >= 6 && !memcmp(p, "\\u0000", 6))
            return "{\"unloggable\": \"\\\\u0000 in a string\"}";
    return json;
}

/* One prediction of an entry, as decoded for either way of sending it. */
typedef struct pred {
    const rdm_predentry *v;
    const char *writer;  /* request id = writer "-" seq */
    const char *version; /* registry version text, NULL for a model file */
    const char *rid;
    size_t item;
    const char *enc, *pat; /* integer text, or NULL */
    const char *input;
    size_t input_len;
    double p, thr;
    int d;
    const char *race, *gender, *age;
    const rdm_predfields *f; /* the fields scanned, with the keyless form (NULL: none) */
    const rdm_predkeyless *kl;
} pred;

/* Where decoded predictions go: text rows of the replay staging table, or
 * binary batch rows of monitor.prediction_batches. */
typedef struct sink {
    rdm_buf *out;
    rdm_predbatch *batch; /* NULL: text rows */
    char writer[64];      /* the writer of the entry formatted last ("" before) */
    uint64_t boot_us;
    int32_t pid;
    char why[200];      /* why an entry cannot be stored (RDM_EINVAL) */
    rdm_predkeyless kl; /* the keyless forms of the entry's records (batch rows only) */
} sink;

static int emit_text(const pred *x, rdm_buf *out)
{
    char when[40], item[24], lat[16], prob[32], thr[32];
    format_time(x->v->h.served_us, when);
    snprintf(lat, sizeof lat, "%u", x->v->h.latency_us);
    snprintf(item, sizeof item, "%zu", x->item);
    snprintf(prob, sizeof prob, "%.17g", x->p);
    snprintf(thr, sizeof thr, "%.17g", x->thr);
    const char *fields[] = {
        when,        x->rid,   item, x->enc,           x->pat, x->v->name, x->version,
        x->v->alias, x->input, prob, x->d ? "1" : "0", thr,    lat,
    };
    int nf = (int)(sizeof fields / sizeof fields[0]), rc = RDM_OK;
    for (int f = 0; rc == RDM_OK && f < nf; f++)
        rc = add_field(out, fields[f], f == nf - 1);
    return rc;
}

/* The integer text `t` (int_text) as a bigint; 0 when past its range, with
 * the reason in why. */
/* The integer text `t` ("-" and digits, int_text) as strtoll reads it: 1, or
 * 0 past the range of a bigint. */
static int text_bigint(const char *t, int64_t *v)
{
    int neg = *t == '-';
    uint64_t m = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (t += neg; *t >= '0' && *t <= '9'; t++) {
        uint64_t d = (uint64_t)(*t - '0');
        if (m > (lim - d) / 10)
            return 0;
        m = m * 10 + d;
    }
    *v = neg && m ? -(int64_t)(m - 1) - 1 : (int64_t)m;
    return 1;
}

static int bigint_of(const char *t, const char *field, int64_t *v, char *why, size_t n)
{
    *v = 0;
    if (!t || text_bigint(t, v))
        return 1;
    snprintf(why, n, "%s %.40s is out of range for type bigint", field, t);
    return 0;
}

static int emit_batch(const pred *x, int stable, sink *to)
{
    rdm_predbatch *b = to->batch;
    rdm_buf *out = to->out;
    int64_t enc = 0, pat = 0; // in range: checked before (bigint_of)
    if (x->enc)
        text_bigint(x->enc, &enc);
    if (x->pat)
        text_bigint(x->pat, &pat);
    int32_t ver = x->version ? (int32_t)atoi(x->version) : 0;
    rdm_predbatch_item it = {x->v->h.served_us,
                             x->rid,
                             (int32_t)x->item,
                             x->enc ? &enc : NULL,
                             x->pat ? &pat : NULL,
                             x->version ? &ver : NULL,
                             x->v->alias,
                             x->p,
                             x->d,
                             x->thr,
                             x->v->h.latency_us,
                             x->race,
                             x->gender,
                             x->age,
                             x->input,
                             x->input_len,
                             stable,
                             NULL,
                             0,
                             NULL,
                             0,
                             0};
    if (x->f && x->f->keyless && x->kl) {
        it.kl_vals = x->kl->vals.data + x->f->vals_off;
        it.kl_vals_len = x->f->vals_len;
        it.kl_keys = x->kl->keys.data + x->f->keys_off;
        it.kl_keys_len = x->f->keys_len;
        it.kl_nkeys = x->f->nkeys;
    }
    return rdm_predbatch_add(b, x->v->name, x->writer, x->v->h.seq, &it, out);
}

/* The schema columns patient groups are formed on. */
static int col_race, col_gender, col_age;
static pthread_once_t cols_once = PTHREAD_ONCE_INIT;

static void cols_init(void)
{
    col_race = rdm_schema_find("race");
    col_gender = rdm_schema_find("gender");
    col_age = rdm_schema_find("age");
}

/* "<boot>-<pid>", the writer of an entry's request ids, formatted once per
 * writer (a format_all call sees one or a few). */
static const char *writer_of(const rdm_predentry *v, sink *to)
{
    if (!to->writer[0] || to->boot_us != v->h.boot_us || to->pid != v->h.pid) {
        to->boot_us = v->h.boot_us;
        to->pid = v->h.pid;
        snprintf(to->writer, sizeof to->writer, "%llx-%d", (unsigned long long)v->h.boot_us,
                 (int)v->h.pid);
    }
    return to->writer;
}

/* The request id "<writer>-<seq>" in `out` (96 bytes). */
static void request_id(const char *writer, uint64_t seq, char *out)
{
    char digits[24];
    int k = 0;
    do
        digits[k++] = (char)('0' + seq % 10);
    while ((seq /= 10) && k < (int)sizeof digits);
    size_t n = strlen(writer);
    memcpy(out, writer, n);
    out[n++] = '-';
    while (k)
        out[n++] = digits[--k];
    out[n] = '\0';
}

/* Append the predictions of one entry to `to`; *rows gets how many. A single
 * record's logged fields are scanned for (predfields.h); other bodies are
 * parsed in full. */
/* ---- the records of a batch body, as the bytes they were sent as ---- */

static size_t skip_ws(const char *b, size_t n, size_t i)
{
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* b[i] is '"': the index after the closing quote, or 0. */
static size_t skip_string(const char *b, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (b[i] == '\\')
            i++;
        else if (b[i] == '"')
            return i + 1;
    }
    return 0;
}

/* The index after the JSON value that starts at b[i], or 0. */
static size_t skip_value(const char *b, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    if (b[i] == '"')
        return skip_string(b, n, i);
    if (b[i] == '{' || b[i] == '[') {
        int depth = 0;
        while (i < n) {
            if (b[i] == '"') {
                if (!(i = skip_string(b, n, i)))
                    return 0;
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
    while (i < n && !strchr(",}] \t\r\n", b[i]))
        i++;
    return i > s ? i : 0;
}

/* Where each of the `want` records of a batch body ({"instances": [...]})
 * lies in it: at[k], len[k]. The body was validated when it was served, so
 * this only finds the bytes; 1 when it found exactly `want` objects, else 0
 * (the caller then takes the records from a full parse). */
static int instance_spans(const char *b, size_t n, size_t want, size_t *at, size_t *len)
{
    if (memchr(b, '\0', n))
        return 0;
    size_t i = skip_ws(b, n, 0);
    if (i >= n || b[i] != '{')
        return 0;
    i = skip_ws(b, n, i + 1);
    while (i < n && b[i] == '"') {
        size_t k = skip_string(b, n, i);
        if (!k)
            return 0;
        int instances = k - i == 11 && memcmp(b + i, "\"instances\"", 11) == 0;
        i = skip_ws(b, n, k);
        if (i >= n || b[i] != ':')
            return 0;
        i = skip_ws(b, n, i + 1);
        if (instances) {
            if (i >= n || b[i] != '[')
                return 0;
            size_t m = 0;
            for (i = skip_ws(b, n, i + 1); i < n && b[i] == '{';) {
                size_t e = skip_value(b, n, i);
                if (!e || m == want)
                    return 0;
                at[m] = i;
                len[m++] = e - i;
                i = skip_ws(b, n, e);
                if (i < n && b[i] == ',')
                    i = skip_ws(b, n, i + 1);
                else
                    break;
            }
            return i < n && b[i] == ']' && m == want;
        }
        if (!(i = skip_value(b, n, i)))
            return 0;
        i = skip_ws(b, n, i);
        if (i >= n || b[i] != ',')
            return 0;
        i = skip_ws(b, n, i + 1);
    }
    return 0;
}

/* The logged fields of each of the n records of a batch body at
 * b + at[k] (len[k] bytes), each scanned as a single record's body; NULL
 * when the scan declines one (or out of memory): the body is parsed then. */
static rdm_predfields *scan_records(const char *b, const size_t *at, const size_t *len, size_t n)
{
    rdm_predfields *f = malloc(n * sizeof *f);
    rdm_buf one = RDM_BUF_INIT;
    for (size_t k = 0; f && k < n; k++) {
        rdm_buf_reset(&one);
        if (rdm_buf_add(&one, b + at[k], len[k]) != RDM_OK || rdm_buf_addc(&one, '\0') != RDM_OK ||
            !rdm_predfields_scan(one.data, len[k], &f[k])) {
            free(f);
            f = NULL;
        }
    }
    rdm_buf_release(&one);
    return f;
}

static int format_entry(const rdm_predentry *v, sink *to, uint64_t *rows)
{
    pthread_once(&cols_once, cols_init);
    rdm_api_request req = RDM_API_REQUEST_INIT;
    rdm_api_error e;
    rdm_predfields pf;
    json_t *root = NULL;
    char rid[96], enc[32], pat[32], ver[16];
    *rows = 0;
    rdm_predkeyless *kl = to->batch ? &to->kl : NULL;
    if (kl)
        rdm_buf_reset(&kl->vals), rdm_buf_reset(&kl->keys);
    size_t *at = NULL, *len = NULL;
    rdm_predfields *pfs = NULL;
    int spans = 0;
    int plain = 0; // the body has no backslash (found by the one pass, or the parser's layout)
    int scanned = 0;
    // the body as the parser described it when it served it: no scan (a
    // single record, else a batch; a layout declined leaves kl as it was)
    size_t at1, len1;
    if (v->layout && v->h.rows == 1)
        scanned = rdm_predfields_layout(v->body, v->h.body_len, v->layout, v->layout_len, 1, 0,
                                        &at1, &len1, &pf, kl);
    if (v->layout && !scanned && v->h.rows > 0 &&
        (at = malloc(2 * v->h.rows * sizeof *at)) != NULL) {
        len = at + v->h.rows;
        if ((pfs = malloc(v->h.rows * sizeof *pfs)) != NULL &&
            rdm_predfields_layout(v->body, v->h.body_len, v->layout, v->layout_len, v->h.rows, 1,
                                  at, len, pfs, kl)) {
            spans = plain = 1;
        } else {
            free(pfs);
            free(at);
            pfs = NULL;
            at = len = NULL;
        }
    }
    // a single record answers one prediction; a batch's body (rows > 1) is
    // not scanned as one (the scan would look for every key in vain)
    if (!scanned && !pfs && v->h.rows == 1)
        scanned = rdm_predfields_scan_keyless(v->body, v->h.body_len, &pf, kl);
    // a batch whose records are found (instance_spans) and each scanned as a
    // single record's body would be: no parse at all
    if (!scanned && !pfs && v->h.rows > 0 && (at = malloc(2 * v->h.rows * sizeof *at)) != NULL) {
        len = at + v->h.rows;
        // one pass for the records and their fields, else each record found,
        // then scanned
        if ((pfs = malloc(v->h.rows * sizeof *pfs)) != NULL &&
            rdm_predfields_batch(v->body, v->h.body_len, v->h.rows, at, len, pfs, kl)) {
            spans = plain = 1;
        } else {
            free(pfs);
            pfs = NULL;
            spans = instance_spans(v->body, v->h.body_len, v->h.rows, at, len) &&
                    (pfs = scan_records(v->body, at, len, v->h.rows)) != NULL;
        }
        if (!spans) {
            free(at);
            at = NULL;
        }
    }
    if (!scanned && !pfs &&
        rdm_api_parse_predict(v->body, v->h.body_len, 1000000000L, &req, &e) != RDM_HTTP_OK)
        return RDM_EPARSE;
    if (pfs)
        req.batch = 1;
    size_t n = scanned ? 1 : pfs ? v->h.rows : req.n;
    // a batch's records are stored as the bytes they were sent as (a single
    // record's body is); only a body the scan cannot take apart is parsed
    // again with jansson, its records re-serialised
    if (!pfs && req.batch && v->h.rows >= n && (at = malloc(2 * n * sizeof *at)) != NULL) {
        len = at + n;
        spans = instance_spans(v->body, v->h.body_len, n, at, len);
    }
    // a response with fewer predictions than records is refused before any is
    // added (added ones cannot be taken back from a batch)
    if (v->h.rows < n ||
        (req.batch && !spans && !(root = json_loadb(v->body, v->h.body_len, 0, NULL)))) {
        free(at);
        free(pfs);
        rdm_api_request_release(&req);
        return RDM_EPARSE;
    }
    // a value the database cannot take sets the whole entry aside before any
    // of its predictions is added (the text path sends it and the database
    // refuses it for its data, 22003: the same outcome)
    for (size_t i = 0; to->batch && i < n; i++) {
        const rdm_api_record *r = scanned || pfs ? NULL : &req.recs[i];
        const rdm_predfields *f = pfs ? &pfs[i] : &pf;
        const char *id = r ? r->id : f->id;
        int64_t x;
        if (!bigint_of(int_text(id[0] ? id : NULL, enc, sizeof enc), "encounter_id", &x, to->why,
                       sizeof to->why) ||
            !bigint_of(int_text(r ? r->values[RDM_C_PATIENT_NBR] : f->patient, pat, sizeof pat),
                       "patient_nbr", &x, to->why, sizeof to->why)) {
            free(at);
            free(pfs);
            json_decref(root);
            rdm_api_request_release(&req);
            return RDM_EINVAL;
        }
    }
    rdm_buf one = RDM_BUF_INIT; // a batch record, NUL-terminated
    const json_t *inst = root ? json_object_get(root, "instances") : NULL;
    // a model file's version ("file:<sha>") is no registry version: NULL
    const char *version = int_text(v->version[0] ? v->version : NULL, ver, sizeof ver);
    const char *writer = writer_of(v, to);
    request_id(writer, v->h.seq, rid);
    size_t pos = 0;
    int rc = RDM_OK;
    for (size_t i = 0; rc == RDM_OK && i < n; i++) {
        double p, t;
        int d;
        if (!rdm_predresp_next(v->resp, v->h.resp_len, &pos, &p, &d, &t)) {
            rc = RDM_EPARSE;
            break;
        }
        char *dumped = NULL;
        const char *input = v->body;
        size_t input_len = v->h.body_len;
        if (spans && to->batch) { // in place: the batch row copies it (input_stable)
            input = v->body + at[i];
            input_len = len[i];
        } else if (spans) { // the text rows need it NUL-terminated
            rdm_buf_reset(&one);
            if (rdm_buf_add(&one, v->body + at[i], len[i]) != RDM_OK ||
                rdm_buf_addc(&one, '\0') != RDM_OK) {
                rc = RDM_ENOMEM;
                break;
            }
            input = one.data;
            input_len = len[i];
        } else if (req.batch) {
            dumped = json_dumps(json_array_get(inst, i), JSON_COMPACT);
            if (!dumped) {
                rc = RDM_ENOMEM;
                break;
            }
            input = dumped;
            input_len = strlen(dumped);
        }
        const rdm_api_record *r = scanned || pfs ? NULL : &req.recs[i];
        const rdm_predfields *f = pfs ? &pfs[i] : &pf;
        const char *id = r ? r->id : f->id;
        const char *logged = plain ? input : loggable(input, input_len);
        pred x = {v, writer, version, rid, i, int_text(id[0] ? id : NULL, enc, sizeof enc),
                  int_text(r ? r->values[RDM_C_PATIENT_NBR] : f->patient, pat, sizeof pat), logged,
                  logged == input ? input_len : strlen(logged),
                  p < 0   ? 0
                  : p > 1 ? 1
                          : p,
                  t, d,
                  !r              ? f->race
                  : col_race >= 0 ? r->values[col_race]
                                  : NULL,
                  !r                ? f->gender
                  : col_gender >= 0 ? r->values[col_gender]
                                    : NULL,
                  !r             ? f->age
                  : col_age >= 0 ? r->values[col_age]
                                 : NULL,
                  // the keyless form is of the input as sent
                  !r && logged == input ? f : NULL, kl};
        // the entry (or the set-aside text) outlives the batch row; a
        // re-serialised record is freed below
        rc = to->batch ? emit_batch(&x, !dumped || logged != input, to) : emit_text(&x, to->out);
        free(dumped);
        if (rc == RDM_OK)
            (*rows)++;
    }
    rdm_buf_release(&one);
    free(at);
    free(pfs);
    json_decref(root);
    rdm_api_request_release(&req);
    return rc;
}

static int format_entries(const char *data, size_t n, rdm_predbatch *batch, rdm_buf *out,
                          uint64_t *rows, uint64_t *bad, rdm_predentry_aside_fn aside, void *ctx)
{
    *rows = *bad = 0;
    sink to = {out, batch, "", 0, 0, "", RDM_PREDKEYLESS_INIT};
    for (size_t off = 0; off < n;) {
        rdm_predentry v;
        if (!rdm_predentry_parse(data + off, n - off, &v)) {
            rdm_predkeyless_release(&to.kl);
            return RDM_EPARSE;
        }
        if (v.aside) {
            off += v.h.len;
            continue;
        }
        uint64_t r = 0;
        size_t mark = out->len;
        int rc = format_entry(&v, &to, &r);
        if (rc == RDM_ENOMEM) {
            rdm_predkeyless_release(&to.kl);
            return rc;
        }
        if (rc != RDM_OK) {
            out->len = mark;
            if (out->data)
                out->data[mark] = '\0';
            if (!(rc == RDM_EINVAL && aside && aside(ctx, data + off, v.h.len, v.h.rows, to.why)))
                *bad += v.h.rows;
        } else {
            *rows += r;
        }
        off += v.h.len;
    }
    rdm_predkeyless_release(&to.kl);
    if (batch && rdm_predbatch_flush(batch, out) != RDM_OK)
        return RDM_ENOMEM;
    return RDM_OK;
}

int rdm_predentry_format(const char *data, size_t n, rdm_predbatch *batch, rdm_buf *out,
                         uint64_t *rows, uint64_t *bad, rdm_predentry_aside_fn aside, void *ctx)
{
    int rc = format_entries(data, n, batch, out, rows, bad, aside, ctx);
    // the open batch borrows inputs from data (input_stable): after a
    // failure nothing of it may outlive the call
    if (rc != RDM_OK && batch)
        rdm_predbatch_release(batch);
    return rc;
}
