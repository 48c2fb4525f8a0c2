/* csv.c - streaming RFC 4180 reader: one growing read buffer, one field buffer,
 * no allocation per record or field once the buffers have their size. */
#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_CHUNK (1u << 20) /* bytes asked from the source per read */
#define CSV_RAW_KEEP \
    65536u /* raw bytes kept for a record over the hard cap \
            */

struct rdm_csv {
    rdm_csv_read_fn read;
    void *ud;
    const char *label;
    size_t max_field;
    size_t rec_cap;

    char *buf; /* source bytes; the current record starts at pos */
    size_t cap, len, pos;
    int eof;
    int bom_checked;
    int skipping; /* after an over-long record: drop bytes up to the next newline
                   */
    long line;    /* line number of the next record's first line */
    unsigned long long consumed;

    rdm_buf fb; /* decoded fields, each NUL-terminated */
    size_t *offs;
    size_t *lens;
    char **ptrs;
    size_t fcap;
    int nf;

    int nexp; /* expected field count (from the header), 0 = unchecked */
    char **names;

    rdm_csv_problem problem;
    int prob_field;
    int unterm_eof; /* the unterminated quote reached the end of input */
    int skip_rest;  /* the record returned ended before its line did (an
                       over-long quoted field past the buffer): drop the rest
                       of that line before the next record */
    char reason[512];

    /* memory source */
    const char *mem;
    size_t mem_len, mem_pos;
};

const char *rdm_csv_problem_name(rdm_csv_problem p)
{
    switch (p) {
    case RDM_CSV_OK:
        return "ok";
    case RDM_CSV_FIELD_COUNT:
        return "field count";
    case RDM_CSV_UTF8:
        return "invalid utf-8";
    case RDM_CSV_NUL:
        return "nul byte";
    case RDM_CSV_TOO_LONG:
        return "field too long";
    case RDM_CSV_UNTERMINATED:
        return "unterminated quote";
    case RDM_CSV_STRAY_QUOTE:
        return "stray quote";
    case RDM_CSV_RECORD_TOO_LONG:
        return "record too long";
    }
    return "unknown";
}

static long mem_read(void *ud, char *buf, size_t n, rdm_err *err)
{
    (void)err;
    rdm_csv *c = ud;
    size_t left = c->mem_len - c->mem_pos;
    if (n > left)
        n = left;
    memcpy(buf, c->mem + c->mem_pos, n);
    c->mem_pos += n;
    return (long)n;
}

rdm_csv *rdm_csv_create(rdm_csv_read_fn read, void *ud, size_t max_field_bytes, const char *label,
                        rdm_err *err)
{
    rdm_csv *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->read = read;
    c->ud = ud;
    c->label = label;
    c->max_field = max_field_bytes ? max_field_bytes : 1024;
    c->rec_cap = 1u << 20;
    c->line = 1;
    c->cap = CSV_CHUNK;
    c->buf = malloc(c->cap);
    if (!c->buf)
        goto oom;
    if (rdm_buf_reserve(&c->fb, 4096))
        goto oom;
    return c;
oom:
    rdm_csv_free(c);
    rdm_errf(err, RDM_ENOMEM, "csv: out of memory");
    return NULL;
}

rdm_csv *rdm_csv_open_mem(const char *data, size_t n, size_t max_field_bytes, rdm_err *err)
{
    rdm_csv *c = rdm_csv_create(mem_read, NULL, max_field_bytes, NULL, err);
    if (!c)
        return NULL;
    c->ud = c;
    c->mem = data;
    c->mem_len = n;
    return c;
}

void rdm_csv_free(rdm_csv *c)
{
    if (!c)
        return;
    if (c->names)
        for (int i = 0; i < c->nexp; i++)
            free(c->names[i]);
    free(c->names);
    free(c->buf);
    rdm_buf_release(&c->fb);
    free(c->offs);
    free(c->lens);
    free(c->ptrs);
    free(c);
}

unsigned long long rdm_csv_bytes(const rdm_csv *c)
{
    return c->consumed;
}

int rdm_csv_header(const rdm_csv *c, const char *const **names)
{
    if (names)
        *names = (const char *const *)c->names;
    return c->names ? c->nexp : 0;
}

/* Read more bytes after compacting the buffer. */
static int refill(rdm_csv *c, rdm_err *err)
{
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    void *nb = c->buf;
    if (rdm_grow(&nb, &c->cap, c->len + CSV_CHUNK / 4, 1))
        return rdm_errf(err, RDM_ENOMEM, "csv: out of memory");
    c->buf = nb;
    size_t want = c->cap - c->len;
    if (want > CSV_CHUNK)
        want = CSV_CHUNK;
    long n = c->read(c->ud, c->buf + c->len, want, err);
    if (n < 0)
        return (int)n;
    if (n == 0)
        c->eof = 1;
    c->len += (size_t)n;
    return RDM_OK;
}

static int grow_fields(rdm_csv *c)
{
    void *a[3] = {c->offs, c->lens, c->ptrs};
    const size_t e[3] = {sizeof *c->offs, sizeof *c->lens, sizeof *c->ptrs};
    int rc = rdm_grow_all(a, e, 3, &c->fcap, c->fcap ? 2 * c->fcap : 64);
    c->offs = a[0];
    c->lens = a[1];
    c->ptrs = a[2];
    return rc;
}

static void problem(rdm_csv *c, rdm_csv_problem kind, int field)
{
    if (c->problem == RDM_CSV_OK) {
        c->problem = kind;
        c->prob_field = field;
    }
}

/* Byte classes for the unquoted scan: 0 = plain, 1 = stops or needs a look. */
static unsigned char CLS[256];

static void init_cls(void)
{
    if (CLS[','])
        return;
    for (int i = 0x80; i < 256; i++)
        CLS[i] = 1;
    CLS[','] = CLS['\n'] = CLS['\r'] = CLS['"'] = CLS[0] = 1;
}

enum { P_MORE = 0, P_RECORD = 1, P_EMPTY = 2, P_EOF = 3, P_ENOMEM = -1 };

/* what a quoted field's scan ends with, besides P_MORE and P_RECORD */
enum { Q_DONE = 10, Q_UNQUOTED = 11 };

/* The scan of one record over the buffered bytes. */
typedef struct scan {
    const unsigned char *b;
    size_t p, end;
    int at_eof;
    char *fw;    /* decoded field bytes (c->fb.data) */
    int hi, nul; /* the field holds bytes >= 0x80 / a NUL */
} scan;

/* An empty line at c->pos: P_EMPTY, P_MORE, P_EOF, or -2 when a record starts there. */
static int empty_line(const rdm_csv *c, size_t *raw_end, size_t *next)
{
    const unsigned char *b = (const unsigned char *)c->buf;
    size_t p = c->pos, end = c->len;
    if (p >= end)
        return c->eof ? P_EOF : P_MORE;
    if (b[p] == '\n') {
        *raw_end = p;
        *next = p + 1;
        return P_EMPTY;
    }
    if (b[p] == '\r') {
        if (p + 1 >= end && !c->eof)
            return P_MORE;
        if (p + 1 >= end || b[p + 1] == '\n') {
            *raw_end = p;
            *next = p + 1 < end ? p + 2 : end;
            return P_EMPTY;
        }
    }
    return -2;
}

/* A quote opened at qopen is not closed (by the end of input, or before the
 * field grew over the limit): the record ends with the line the quote opened
 * on and its last field is empty. */
static int unterminated(rdm_csv *c, scan *s, size_t qopen, int over, size_t *raw_end, size_t *next)
{
    const unsigned char *b = s->b;
    const unsigned char *nl = memchr(b + qopen, '\n', s->end - qopen);
    size_t e = nl ? (size_t)(nl - b) : s->end;
    *next = nl ? e + 1 : s->end;
    if (e > c->pos && b[e - 1] == '\r' && nl)
        e--;
    *raw_end = e;
    /* the line goes on past what is buffered: it is one record, whatever its
     * length (else the rest of it would come back as a second record with
     * the same line) */
    c->skip_rest = !nl && !s->at_eof;
    c->problem = RDM_CSV_UNTERMINATED;
    c->prob_field = c->nf;
    c->unterm_eof = !over;
    c->lens[c->nf] = 0;
    c->offs[c->nf] = c->fb.len;
    s->fw[c->fb.len++] = '\0';
    c->nf++;
    return P_RECORD;
}

/* A quoted field at s->p (the opening quote): Q_DONE at its end, Q_UNQUOTED
 * after a stray quote (the rest is read as unquoted), P_MORE, or P_RECORD
 * for an unterminated quote. */
static int quoted_field(rdm_csv *c, scan *s, size_t fstart, size_t *raw_end, size_t *next)
{
    const unsigned char *b = s->b;
    size_t end = s->end, qopen = s->p;
    s->p++;
    for (;;) {
        const unsigned char *q = memchr(b + s->p, '"', end - s->p);
        size_t seg = q ? (size_t)(q - (b + s->p)) : end - s->p;
        int over = (c->fb.len - fstart) + seg > c->max_field;
        if (over || (!q && s->at_eof))
            return unterminated(c, s, qopen, over, raw_end, next);
        if (!q)
            return P_MORE;
        for (size_t i = 0; i < seg; i++) {
            if (b[s->p + i] >= 0x80)
                s->hi = 1;
            else if (b[s->p + i] == 0)
                s->nul = 1;
        }
        memcpy(s->fw + c->fb.len, b + s->p, seg);
        c->fb.len += seg;
        s->p += seg + 1;
        if (s->p >= end && !s->at_eof)
            return P_MORE;
        if (s->p < end && b[s->p] == '"') {
            s->fw[c->fb.len++] = '"';
            s->p++;
            continue;
        }
        break;
    }
    size_t p = s->p;
    if (p < end && b[p] != ',' && b[p] != '\n') {
        if (b[p] == '\r') {
            if (p + 1 >= end && !s->at_eof)
                return P_MORE;
            if (p + 1 >= end || b[p + 1] == '\n')
                return Q_DONE;
        }
        problem(c, RDM_CSV_STRAY_QUOTE, c->nf);
        return Q_UNQUOTED;
    }
    return Q_DONE;
}

/* Unquoted bytes at s->p up to the field's end: Q_DONE, or P_MORE. */
static int unquoted_field(rdm_csv *c, scan *s)
{
    const unsigned char *b = s->b;
    size_t p = s->p, end = s->end, start = p;
    for (;;) {
        while (p < end && !CLS[b[p]])
            p++;
        if (p >= end)
            break;
        unsigned ch = b[p];
        if (ch == ',' || ch == '\n')
            break;
        if (ch == '\r') {
            if (p + 1 >= end) {
                if (!s->at_eof)
                    return P_MORE;
                break;
            }
            if (b[p + 1] == '\n')
                break;
        } else if (ch == '"') {
            problem(c, RDM_CSV_STRAY_QUOTE, c->nf);
        } else if (ch == 0) {
            s->nul = 1;
        } else {
            s->hi = 1;
        }
        p++;
    }
    if (p >= end && !s->at_eof)
        return P_MORE;
    memcpy(s->fw + c->fb.len, b + start, p - start);
    c->fb.len += p - start;
    s->p = p;
    return Q_DONE;
}

/* Close the field that started at fstart: its NUL, offset, length, problem. */
static void field_end(rdm_csv *c, scan *s, size_t fstart)
{
    size_t flen = c->fb.len - fstart;
    s->fw[c->fb.len++] = '\0';
    c->offs[c->nf] = fstart;
    c->lens[c->nf] = flen;
    if (flen > c->max_field)
        problem(c, RDM_CSV_TOO_LONG, c->nf);
    else if (s->nul)
        problem(c, RDM_CSV_NUL, c->nf);
    else if (s->hi && !rdm_utf8_valid(c->fb.data + fstart, flen))
        problem(c, RDM_CSV_UTF8, c->nf);
    c->nf++;
}

/* Parse one record starting at c->pos. Restartable: on P_MORE nothing is kept
 * and the caller refills and calls again. On P_RECORD / P_EMPTY, *raw_end is
 * the end of the record's bytes (before the line end) and *next the start of
 * the next record. */
static int parse(rdm_csv *c, size_t *raw_end, size_t *next)
{
    int e = empty_line(c, raw_end, next);
    if (e != -2)
        return e;
    scan s = {(const unsigned char *)c->buf, c->pos, c->len, c->eof, NULL, 0, 0};
    /* decoded bytes + one NUL per field never exceed twice the buffered bytes */
    c->fb.len = 0;
    if (rdm_buf_reserve(&c->fb, 2 * (s.end - s.p) + 2))
        return P_ENOMEM;
    s.fw = c->fb.data;
    c->nf = 0;
    c->problem = RDM_CSV_OK;
    c->prob_field = 0;
    for (;;) {
        if ((size_t)c->nf == c->fcap && grow_fields(c))
            return P_ENOMEM;
        size_t fstart = c->fb.len;
        s.hi = s.nul = 0;
        int q = Q_UNQUOTED;
        if (s.p < s.end && s.b[s.p] == '"') {
            q = quoted_field(c, &s, fstart, raw_end, next);
            if (q == P_MORE || q == P_RECORD)
                return q;
        }
        if (q == Q_UNQUOTED && unquoted_field(c, &s) == P_MORE)
            return P_MORE;
        field_end(c, &s, fstart);
        size_t p = s.p, end = s.end;
        if (p < end && s.b[p] == ',') {
            s.p++;
            continue;
        }
        /* end of record: p is at '\n', at "\r\n", at a final '\r' or at the end */
        *raw_end = p;
        if (p < end && s.b[p] == '\r')
            p++;
        if (p < end && s.b[p] == '\n')
            p++;
        *next = p;
        return P_RECORD;
    }
}

static long count_newlines(const char *s, size_t n)
{
    long k = 0;
    const char *e = s + n;
    while (s < e && (s = memchr(s, '\n', (size_t)(e - s))) != NULL) {
        k++;
        s++;
    }
    return k;
}

static void column_name(const rdm_csv *c, int field, char *out, size_t n)
{
    if (c->names && field < c->nexp)
        snprintf(out, n, "column '%s'", c->names[field]);
    else
        snprintf(out, n, "field %d", field + 1);
}

static void make_reason(rdm_csv *c, long line)
{
    char col[160];
    if (c->problem == RDM_CSV_OK) { /* the usual case: no column name to format */
        c->reason[0] = '\0';
        return;
    }
    column_name(c, c->prob_field, col, sizeof col);
    switch (c->problem) {
    case RDM_CSV_OK:
        c->reason[0] = '\0';
        break;
    case RDM_CSV_FIELD_COUNT:
        snprintf(c->reason, sizeof c->reason, "line %ld: %d fields, expected %d", line, c->nf,
                 c->nexp);
        break;
    case RDM_CSV_UTF8:
        snprintf(c->reason, sizeof c->reason, "line %ld, %s: invalid UTF-8", line, col);
        break;
    case RDM_CSV_NUL:
        snprintf(c->reason, sizeof c->reason, "line %ld, %s: NUL byte in field", line, col);
        break;
    case RDM_CSV_TOO_LONG:
        snprintf(c->reason, sizeof c->reason, "line %ld, %s: field of %zu bytes, longer than %zu",
                 line, col, c->lens[c->prob_field], c->max_field);
        break;
    case RDM_CSV_UNTERMINATED:
        if (c->unterm_eof)
            snprintf(c->reason, sizeof c->reason, "line %ld, %s: unterminated quote at end of file",
                     line, col);
        else
            snprintf(c->reason, sizeof c->reason,
                     "line %ld, %s: unterminated quote (not closed within %zu bytes)", line, col,
                     c->max_field);
        break;
    case RDM_CSV_STRAY_QUOTE:
        snprintf(c->reason, sizeof c->reason, "line %ld, %s: stray quote in unquoted field", line,
                 col);
        break;
    case RDM_CSV_RECORD_TOO_LONG:
        snprintf(c->reason, sizeof c->reason, "line %ld: record longer than %zu bytes", line,
                 c->rec_cap);
        break;
    }
}

int rdm_csv_next(rdm_csv *c, rdm_csv_record *rec, rdm_err *err)
{
    init_cls();
    int rc;
    if (!c->bom_checked) {
        while (c->len - c->pos < 3 && !c->eof)
            if ((rc = refill(c, err)) != RDM_OK)
                return rc;
        if (c->len - c->pos >= 3 && memcmp(c->buf + c->pos, "\xEF\xBB\xBF", 3) == 0)
            c->pos += 3;
        c->bom_checked = 1;
    }
    for (;;) {
        if (c->skipping) {
            char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
            if (nl) {
                c->consumed += (unsigned long long)(nl + 1 - (c->buf + c->pos));
                c->pos = (size_t)(nl + 1 - c->buf);
                c->line++;
                c->skipping = 0;
            } else {
                c->consumed += c->len - c->pos;
                c->pos = c->len;
                if (c->eof)
                    return 0;
                if ((rc = refill(c, err)) != RDM_OK)
                    return rc;
                continue;
            }
        }
        size_t raw_end = 0, next = 0;
        int r = parse(c, &raw_end, &next);
        if (r == P_ENOMEM)
            return rdm_errf(err, RDM_ENOMEM, "csv: out of memory");
        if (r == P_EOF)
            return 0;
        if (r == P_MORE) {
            if (c->len - c->pos >= c->rec_cap) {
                /* Over the hard cap: reject with the first bytes, skip to the next
                 * line. */
                size_t keep = c->len - c->pos;
                if (keep > CSV_RAW_KEEP)
                    keep = CSV_RAW_KEEP;
                memset(rec, 0, sizeof *rec);
                rec->line = c->line;
                long nl = count_newlines(c->buf + c->pos, c->len - c->pos);
                rec->last_line = c->line + nl;
                c->line += nl;
                c->problem = RDM_CSV_RECORD_TOO_LONG;
                make_reason(c, rec->line);
                rec->problem = c->problem;
                rec->reason = c->reason;
                rec->raw = c->buf + c->pos;
                rec->raw_len = keep;
                rec->nfields = 0;
                rec->fields = c->ptrs;
                rec->lens = c->lens;
                c->consumed += c->len - c->pos;
                /* keep the bytes readable until the next call: skip from len */
                c->skipping = 1;
                c->pos = c->len;
                return 1;
            }
            if (c->eof) /* cannot happen: parse decides at EOF */
                return rdm_errf(err, RDM_EPARSE, "csv: internal error at end of input");
            if ((rc = refill(c, err)) != RDM_OK)
                return rc;
            continue;
        }
        long nl = count_newlines(c->buf + c->pos, next - c->pos);
        if (r == P_EMPTY) {
            c->line += nl ? nl : 1;
            c->consumed += next - c->pos;
            c->pos = next;
            continue;
        }
        rec->line = c->line;
        rec->last_line = c->line + count_newlines(c->buf + c->pos, raw_end - c->pos);
        if (c->problem == RDM_CSV_OK && c->nexp > 0 && c->nf != c->nexp)
            c->problem = RDM_CSV_FIELD_COUNT;
        make_reason(c, rec->line);
        for (int i = 0; i < c->nf; i++)
            c->ptrs[i] = c->fb.data + c->offs[i];
        rec->nfields = c->nf;
        rec->fields = c->ptrs;
        rec->lens = c->lens;
        rec->raw = c->buf + c->pos;
        rec->raw_len = raw_end - c->pos;
        rec->problem = c->problem;
        rec->reason = c->problem ? c->reason : NULL;
        c->line += nl;
        c->consumed += next - c->pos;
        c->pos = next;
        if (c->skip_rest) {
            c->skip_rest = 0;
            c->skipping = 1;
        }
        return 1;
    }
}

int rdm_csv_read_header(rdm_csv *c, rdm_err *err)
{
    rdm_csv_record rec;
    const char *label = c->label ? c->label : "csv";
    int rc = rdm_csv_next(c, &rec, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return rdm_errf(err, RDM_EPARSE, "%s: empty input: no header line", label);
    /* a carriage return inside the header line (not before its newline): the
     * file ends its lines with CR alone, and the whole file reads as one line */
    const char *cr = memchr(rec.raw, '\r', rec.raw_len);
    if (cr && (size_t)(cr - rec.raw) + 1 < rec.raw_len && cr[1] != '\n')
        return rdm_errf(err, RDM_EPARSE,
                        "%s: line 1: carriage return inside the line: the file uses CR-only (old "
                        "Mac) line endings; convert them to LF or CRLF (e.g. tr '\\r' '\\n')",
                        label);
    if (rec.problem)
        return rdm_errf(err, RDM_EPARSE, "%s: header: %s", label, rec.reason);
    char **names = calloc((size_t)rec.nfields, sizeof *names);
    if (!names)
        return rdm_errf(err, RDM_ENOMEM, "csv: out of memory");
    for (int i = 0; i < rec.nfields; i++) {
        names[i] = strdup(rec.fields[i]);
        if (!names[i]) {
            for (int j = 0; j < i; j++)
                free(names[j]);
            free(names);
            return rdm_errf(err, RDM_ENOMEM, "csv: out of memory");
        }
    }
    c->names = names;
    c->nexp = rec.nfields;
    size_t cap = 2 * ((size_t)rec.nfields + 1) * c->max_field;
    if (cap > c->rec_cap)
        c->rec_cap = cap;
    return RDM_OK;
}
