/* clean.c - the clean stage: type, validate, deduplicate and filter raw batches. */
#include "clean.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "profile.h"
#include "rawrec.h"
#include "utf8.h"

/* ------------------------------------------------------------------------ */
/* Pure functions */

static int is_int_kind(rdm_col_kind k)
{
    return k == RDM_COL_ID || k == RDM_COL_INT || k == RDM_COL_CODE;
}

/* Copy at most 60 bytes of `v` for a message, on a UTF-8 boundary. */
static const char *shorten(const char *v, char out[64])
{
    snprintf(out, 64, "%.60s", v ? v : "");
    out[rdm_utf8_cut(out, strlen(out))] = '\0';
    return out;
}

static void issue_set(rdm_clean_issue *is, const char *rule_prefix, const char *rule,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void issue_set(rdm_clean_issue *is, const char *rule_prefix, const char *rule,
                      const char *fmt, ...)
{
    if (!is)
        return;
    snprintf(is->rule, sizeof is->rule, "%s%s", rule_prefix, rule);
    is->rule[rdm_utf8_cut(is->rule, strlen(is->rule))] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is->detail, sizeof is->detail, fmt, ap);
    va_end(ap);
    is->detail[rdm_utf8_cut(is->detail, strlen(is->detail))] = '\0';
}

int rdm_clean_parse_int(const char *v, rdm_col_kind kind, long *out)
{
    if (rdm_value_is_missing(v))
        return 1;
    long x;
    if (rdm_parse_long(v, &x))
        return -1;
    if (kind != RDM_COL_ID && (x < INT_MIN || x > INT_MAX))
        return -1;
    *out = x;
    return 0;
}

size_t rdm_clean_scratch_size(const char *const raw[RDM_NCOLS])
{
    size_t n = 0;
    for (int i = 0; i < RDM_NCOLS; i++)
        n += (raw[i] ? strlen(raw[i]) : 0) + 1;
    return n;
}

/* ICD-9 chapters of the codes seen, direct-mapped by hash (rdm_icd9_chapter
 * is a pure function of the code; a run sees a few hundred codes). */
#define CHAPTER_SLOTS 4096

typedef struct chapter_memo {
    struct {
        char code[15];
        unsigned char len; /* 0: empty */
        const char *chapter;
    } slot[CHAPTER_SLOTS];
} chapter_memo;

static const char *chapter_of(chapter_memo *m, const char *v, size_t n)
{
    if (!m || !v || n >= sizeof m->slot[0].code)
        return rdm_icd9_chapter(v);
    size_t j = rdm_hash_n(v, n) & (CHAPTER_SLOTS - 1);
    if (m->slot[j].len == n && rdm_eq_n(m->slot[j].code, v, n))
        return m->slot[j].chapter;
    const char *c = rdm_icd9_chapter(v);
    if (n > 0) {
        memcpy(m->slot[j].code, v, n);
        m->slot[j].len = (unsigned char)n;
        m->slot[j].chapter = c;
    }
    return c;
}

/* Type a row whose values f[i] (NULL = SQL NULL, n[i] bytes, NUL-terminated,
 * writable) are trimmed where they lie: row->val[i] points into them and
 * len[i] is the length of the value kept (0 when missing). */
static int type_fields(char *const f[RDM_NCOLS], const size_t n[RDM_NCOLS], rdm_clean_row *row,
                       size_t len[RDM_NCOLS], chapter_memo *memo, rdm_clean_issue *issue)
{
    const rdm_column *cols = rdm_schema_columns();
    for (int i = 0; i < RDM_NCOLS; i++) {
        row->num[i] = 0;
        row->val[i] = NULL;
        len[i] = 0;
        if (!f[i])
            continue;
        size_t at, k = rdm_value_trim(f[i], n[i], &at);
        char *v = f[i] + at;
        v[k] = '\0';
        if (rdm_value_is_missing(v))
            continue;
        row->val[i] = v;
        len[i] = k;
        if (is_int_kind(cols[i].kind)) {
            int rc = rdm_clean_parse_int(v, cols[i].kind, &row->num[i]);
            if (rc < 0) {
                char s[64];
                issue_set(issue, "type:", cols[i].name, "%s='%s' is not an integer%s", cols[i].name,
                          shorten(v, s),
                          cols[i].kind == RDM_COL_ID ? "" : " (or out of the integer range)");
                return -1;
            }
        }
    }
    row->target = rdm_target_from(row->val[RDM_C_READMITTED]);
    static const int DIAG[3] = {RDM_C_DIAG_1, RDM_C_DIAG_2, RDM_C_DIAG_3};
    for (int g = 0; g < 3; g++)
        row->group[g] = chapter_of(memo, row->val[DIAG[g]], len[DIAG[g]]);
    return 0;
}

int rdm_clean_type_row(const char *const raw[RDM_NCOLS], char *scratch, rdm_clean_row *row,
                       rdm_clean_issue *issue)
{
    char *f[RDM_NCOLS];
    size_t n[RDM_NCOLS], len[RDM_NCOLS];
    char *p = scratch;
    for (int i = 0; i < RDM_NCOLS; i++) {
        f[i] = NULL;
        n[i] = 0;
        if (!raw[i])
            continue;
        n[i] = strlen(raw[i]);
        memcpy(p, raw[i], n[i] + 1);
        f[i] = p;
        p += n[i] + 1;
    }
    return type_fields(f, n, row, len, NULL, issue);
}

static int rule_col(const rdm_rule *r)
{
    if (r->col >= 0 && r->col < RDM_NCOLS)
        return r->col;
    return r->column ? rdm_schema_find(r->column) : -1;
}

int rdm_clean_rule_violated(const rdm_rule *r, const rdm_clean_row *row, rdm_clean_issue *issue)
{
    int c = rule_col(r);
    if (c < 0)
        return 0;
    const rdm_column *col = &rdm_schema_columns()[c];
    const char *v = row->val[c];
    char s[64];
    switch (r->kind) {
    case RDM_RULE_NOT_NULL:
        if (v)
            return 0;
        issue_set(issue, "", r->name, "%s is missing", col->name);
        return 1;
    case RDM_RULE_ALLOWED:
        if (!v)
            return 0;
        for (int i = 0; i < r->nallowed; i++) {
            if (is_int_kind(col->kind)) {
                long a;
                if (rdm_parse_long(r->allowed[i], &a) == 0 && a == row->num[c])
                    return 0;
            } else if (strcmp(r->allowed[i], v) == 0) {
                return 0;
            }
        }
        issue_set(issue, "", r->name, "%s='%s' is not an allowed value", col->name, shorten(v, s));
        return 1;
    case RDM_RULE_RANGE: {
        if (!v)
            return 0;
        double x;
        if (is_int_kind(col->kind)) {
            x = (double)row->num[c];
        } else {
            char *end;
            errno = 0;
            x = strtod(v, &end);
            if (end == v || *end != '\0' || errno || isnan(x)) {
                issue_set(issue, "", r->name, "%s='%s' is not a number", col->name, shorten(v, s));
                return 1;
            }
        }
        if (x >= r->min && x <= r->max)
            return 0;
        issue_set(issue, "", r->name, "%s=%s outside [%g, %g]", col->name, shorten(v, s), r->min,
                  r->max);
        return 1;
    }
    case RDM_RULE_MISSING:
        return 0;
    }
    return 0;
}

int rdm_clean_required_missing(const rdm_clean_row *row, rdm_clean_issue *issue)
{
    if (!row->val[RDM_C_ENCOUNTER_ID]) {
        issue_set(issue, "required:", "encounter_id", "encounter_id is missing");
        return 1;
    }
    if (!row->val[RDM_C_PATIENT_NBR]) {
        issue_set(issue, "required:", "patient_nbr", "patient_nbr is missing");
        return 1;
    }
    if (row->target < 0) {
        char s[64];
        if (row->val[RDM_C_READMITTED])
            issue_set(issue, "required:", "readmitted", "readmitted='%s' is not NO, >30 or <30",
                      shorten(row->val[RDM_C_READMITTED], s));
        else
            issue_set(issue, "required:", "readmitted", "readmitted is missing");
        return 1;
    }
    return 0;
}

int rdm_clean_filtered(const rdm_config *cfg, const rdm_clean_row *row)
{
    if (!row->val[RDM_C_DISCHARGE])
        return 0;
    for (int i = 0; i < cfg->clean.nexclude; i++)
        if (cfg->clean.exclude_discharge[i] == row->num[RDM_C_DISCHARGE])
            return 1;
    return 0;
}

int rdm_clean_missing_exceeds(const rdm_rule *r, long missing, long rows)
{
    return rows > 0 && (double)missing / (double)rows > r->max_missing;
}

/* ------------------------------------------------------------------------ */
/* An ALLOWED rule's values as a set: numbers for an integer column, strings
 * by hash for the others, so that a row's value is found without a pass over
 * the list. A value not in the set goes to rdm_clean_rule_violated, which
 * decides (the same way) and words the issue. */

typedef struct allowed_set {
    int col; /* -1: not an ALLOWED rule on a known column */
    int numeric;
    long *nums; /* numeric: the values that parse as integers */
    int nnums;
    const char **slot; /* strings: open addressing, NULL = empty */
    size_t *slen;      /* their lengths */
    size_t mask;
    size_t last; /* the slot last found (columns mostly repeat one value) */
} allowed_set;

static int aset_build(allowed_set *a, const rdm_rule *r)
{
    memset(a, 0, sizeof *a);
    a->col = r->kind == RDM_RULE_ALLOWED ? rule_col(r) : -1;
    if (a->col < 0)
        return RDM_OK;
    a->numeric = is_int_kind(rdm_schema_columns()[a->col].kind);
    if (a->numeric) {
        a->nums = malloc(sizeof *a->nums * (size_t)(r->nallowed ? r->nallowed : 1));
        if (!a->nums)
            return RDM_ENOMEM;
        for (int i = 0; i < r->nallowed; i++)
            if (rdm_parse_long(r->allowed[i], &a->nums[a->nnums]) == 0)
                a->nnums++;
        return RDM_OK;
    }
    size_t cap = 8;
    while (cap < (size_t)r->nallowed * 2)
        cap *= 2;
    if (!(a->slot = calloc(cap, sizeof *a->slot)) || !(a->slen = calloc(cap, sizeof *a->slen)))
        return RDM_ENOMEM;
    a->mask = cap - 1;
    for (int i = 0; i < r->nallowed; i++) {
        size_t n = strlen(r->allowed[i]);
        size_t j = rdm_hash_n(r->allowed[i], n) & a->mask;
        while (a->slot[j] && strcmp(a->slot[j], r->allowed[i]) != 0)
            j = (j + 1) & a->mask;
        a->slot[j] = r->allowed[i];
        a->slen[j] = n;
    }
    return RDM_OK;
}

/* 1 when the row's (present) value of the rule's column, `n` bytes, is in the set. */
static int aset_has(allowed_set *a, const rdm_clean_row *row, size_t n)
{
    if (a->numeric) {
        for (int i = 0; i < a->nnums; i++)
            if (a->nums[i] == row->num[a->col])
                return 1;
        return 0;
    }
    const char *v = row->val[a->col];
    if (a->slot[a->last] && a->slen[a->last] == n && rdm_eq_n(a->slot[a->last], v, n))
        return 1;
    for (size_t j = rdm_hash_n(v, n) & a->mask; a->slot[j]; j = (j + 1) & a->mask)
        if (a->slen[j] == n && rdm_eq_n(a->slot[j], v, n)) {
            a->last = j;
            return 1;
        }
    return 0;
}

static void aset_release(allowed_set *a)
{
    free(a->nums);
    free(a->slot);
    free(a->slen);
}

/* ------------------------------------------------------------------------ */
/* Set of encounter ids: the ids that came in ascending order in a sorted
 * array (a source sorted by encounter id, as the UCI file nearly is, adds
 * each id with one comparison and an append), the others in a hash table
 * (open addressing). Every id of the table is below the array's last. */

typedef struct idset {
    long *asc; /* ascending */
    size_t nasc, capasc;
    uint64_t *keys; /* 0 = empty slot; key k stored as k + 1 (k = UINT64_MAX kept apart) */
    size_t cap, n;
    int has_max;
} idset;

static int idset_grow(idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *k = calloc(cap, sizeof *k);
    if (!k)
        return RDM_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->keys[i])
            continue;
        size_t j = rdm_hash_u64(s->keys[i]) & (cap - 1);
        while (k[j])
            j = (j + 1) & (cap - 1);
        k[j] = s->keys[i];
    }
    free(s->keys);
    s->keys = k;
    s->cap = cap;
    return RDM_OK;
}

/* Add `id` to the hash table; returns 1 if it was already there, 0 if added, <0 on ENOMEM. */
static int idset_hash_add(idset *s, long id)
{
    uint64_t k = (uint64_t)id + 1;
    if (k == 0) {
        int had = s->has_max;
        s->has_max = 1;
        return had;
    }
    if ((s->n + 1) * 2 > s->cap && idset_grow(s))
        return RDM_ENOMEM;
    size_t j = rdm_hash_u64(k) & (s->cap - 1);
    while (s->keys[j]) {
        if (s->keys[j] == k)
            return 1;
        j = (j + 1) & (s->cap - 1);
    }
    s->keys[j] = k;
    s->n++;
    return 0;
}

/* Add `id`; returns 1 if it was already there, 0 if added, <0 on ENOMEM. */
static int idset_add(idset *s, long id)
{
    if (!s->nasc || id > s->asc[s->nasc - 1]) { /* above every id of the set */
        if (s->nasc == s->capasc) {
            void *p = s->asc;
            if (rdm_grow(&p, &s->capasc, s->nasc + 1, sizeof *s->asc))
                return RDM_ENOMEM;
            s->asc = p;
        }
        s->asc[s->nasc++] = id;
        return 0;
    }
    size_t lo = 0, hi = s->nasc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->asc[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (s->asc[lo] == id)
        return 1;
    return idset_hash_add(s, id);
}

static void idset_release(idset *s)
{
    free(s->asc);
    free(s->keys);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* The stage */

typedef struct batch_acc {
    long batch_id;
    long expected; /* raw.batches.rows_accepted */
    long rows_in, clean, filtered, dup, rejected, type_rej, required_rej, positives;
    long *viol;    /* per rule: violating rows (row rules) or missing values (MISSING) */
    long *checked; /* per rule: rows looked at */
    /* the batch's raw rows as the one scan of every batch delivers them
     * (scan_all, on the scanning thread), kept until the batch is complete
     * and the ones before it are too (then handed to the cleaning thread) */
    rdm_buf raw;
    long raw_rows, raw_last; /* rows in `raw`, line_no of the last one */
    int raw_unsorted;        /* a row came after one with a higher line_no */
} batch_acc;

typedef struct run {
    const rdm_config *cfg;
    rdm_db *db;
    idset seen;
    batch_acc *b;
    int nb;
    batch_acc *cur;
    int next;           /* clean_all: the first batch not cleaned yet */
    allowed_set *aset;  /* per rule of cfg->clean.rules */
    int *mrule, nmrule; /* the MISSING rules (batch rules), by index */
    int *rrule, nrrule; /* the row rules, by index */
    chapter_memo *memo;
    rdm_buf enc, rej, line, scratch, row;
    rdm_profile *prof; /* the snapshot's profile, built from its rows as they are
                          written (when the run starts from an empty snapshot) */
    json_t *prof_json; /* its document, made by the reader after its last row */
    int fresh;         /* clean.* emptied in this transaction: rows copied in frozen */
    /* reading raw rows on a second connection while this one writes clean
     * rows: the reader hands R->enc over through `slot` (guarded by mu) */
    rdm_db *rdb;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rdm_buf slot;           /* clean rows to send; empty when the writer took them */
    size_t handoff;         /* R->enc handed over when it holds this much */
    atomic_int writer_idle; /* the writer waits for clean rows (a hint to the reader) */
    int reader_done, writer_failed, reader_rc;
    rdm_err reader_err;
    /* the scanning thread hands the batches it has all the rows of to the
     * cleaning one (the reader above): released and the fields after it
     * guarded by scan_mu */
    int scan_next;        /* scanning thread's own: the first batch not released */
    atomic_int scan_stop; /* the cleaning thread failed: the scan ends */
    pthread_mutex_t scan_mu;
    pthread_cond_t scan_cv;
    int released; /* batches [0, released) have all their rows in `raw` */
    int scan_done, scan_rc;
    rdm_err scan_err;
    long done, total;
    rdm_clean_progress progress;
    void *ud;
    double last_progress;
    double t0, t_rows; /* start, end of the row pass (for the log) */
} run;

static int put_long(rdm_buf *b, long v)
{
    char tmp[24];
    return rdm_buf_add(b, tmp, rdm_fmt_long(v, tmp));
}

/* Text that is only whitespace around "" or "?" counts as missing. */
static int raw_missing(const char *v)
{
    if (!v)
        return 1;
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    if (*v == '?')
        v++;
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    return *v == '\0';
}

static int add_reject(run *R, const char *batch, const char *line_no, const char *enc_id,
                      const rdm_clean_issue *is)
{
    rdm_buf *b = &R->rej;
    int rc = rdm_buf_adds(b, batch);
    rc = rc ? rc : rdm_buf_addc(b, '\t');
    rc = rc ? rc : rdm_buf_adds(b, line_no);
    rc = rc ? rc : rdm_buf_addc(b, '\t');
    rc = rc ? rc : rdm_copy_escape(b, enc_id);
    rc = rc ? rc : rdm_buf_addc(b, '\t');
    rc = rc ? rc : rdm_copy_escape(b, is->rule);
    rc = rc ? rc : rdm_buf_adds(b, "\thard\t");
    rc = rc ? rc : rdm_copy_escape(b, is->detail);
    rc = rc ? rc : rdm_buf_addc(b, '\n');
    R->cur->rejected++;
    return rc;
}

/* The clean row as a line of COPY text, written straight into R->enc: `batch`
 * and `line_no` as read (nb and nl bytes), the values with their lengths. */
static int add_clean(run *R, const char *batch, size_t nb, const char *line_no, size_t nl,
                     const rdm_clean_row *row, const size_t len[RDM_NCOLS])
{
    const rdm_column *cols = rdm_schema_columns();
    rdm_buf *b = &R->enc;
    size_t need = nb + nl + 3 * 32 + 8;
    for (int i = 0; i < RDM_NCOLS; i++)
        need += 2 * len[i] + 24;
    if (rdm_buf_reserve(b, need))
        return RDM_ENOMEM;
    char *w = b->data + b->len;
    w += rdm_fmt_long(row->num[RDM_C_ENCOUNTER_ID], w);
    *w++ = '\t';
    w += rdm_fmt_long(row->num[RDM_C_PATIENT_NBR], w);
    *w++ = '\t';
    memcpy(w, batch, nb);
    w += nb;
    *w++ = '\t';
    memcpy(w, line_no, nl);
    w += nl;
    for (int i = 2; i < RDM_NCOLS; i++) {
        *w++ = '\t';
        if (!row->val[i]) {
            /* NULL: the empty field (clean_copy_in_encounters*.sql) */
        } else if (is_int_kind(cols[i].kind)) {
            w += rdm_fmt_long(row->num[i], w);
        } else {
            w = rdm_copy_escape_to(w, row->val[i], len[i]);
        }
    }
    for (int g = 0; g < 3; g++) {
        size_t n = strlen(row->group[g]);
        *w++ = '\t';
        memcpy(w, row->group[g], n);
        w += n;
    }
    memcpy(w, row->target ? "\t1\n" : "\t0\n", 3);
    w += 3;
    b->len = (size_t)(w - b->data);
    b->data[b->len] = '\0';
    return RDM_OK;
}

/* Add the clean row just written to the profile, with the values it was
 * written with: what rdm_profile_store would read back from clean.encounters. */
static int profile_row(run *R, const rdm_clean_row *row, const size_t len[RDM_NCOLS], rdm_err *err)
{
    const char *f[RDM_PROFILE_NFIELDS];
    size_t n[RDM_PROFILE_NFIELDS];
    for (int i = 0; i < RDM_NCOLS; i++) {
        f[i] = row->val[i];
        n[i] = len[i];
    }
    f[RDM_PROFILE_F_BATCH] = NULL;
    n[RDM_PROFILE_F_BATCH] = 0;
    for (int g = 0; g < 3; g++) {
        f[RDM_PROFILE_F_GROUP1 + g] = row->group[g];
        n[RDM_PROFILE_F_GROUP1 + g] = strlen(row->group[g]);
    }
    f[RDM_PROFILE_F_TARGET] = row->target ? "1" : "0";
    n[RDM_PROFILE_F_TARGET] = 1;
    return rdm_profile_add_typed(R->prof, f, n, row->num, R->cur->batch_id, err);
}

/* Clean rows passed from the reader to the writer at a time: 1 MB, but the
 * first hand-overs smaller (64 KB, doubling), so that the server starts on
 * the first rows of the first batch instead of waiting for a megabyte; and
 * 64 KB or more whenever the writer waits for rows (the server stores them
 * about as fast as the reader cleans them: it would wait for a megabyte). */
#define HANDOFF       (1u << 20)
#define HANDOFF_FIRST (1u << 16)

/* Reader: give R->enc to the writer (waiting for it to take the last one). */
static int hand_over(run *R, rdm_err *err)
{
    pthread_mutex_lock(&R->mu);
    while (R->slot.len && !R->writer_failed)
        pthread_cond_wait(&R->cv, &R->mu);
    int failed = R->writer_failed;
    if (!failed) {
        rdm_buf t = R->slot;
        R->slot = R->enc;
        R->enc = t;
        rdm_buf_reset(&R->enc);
        pthread_cond_broadcast(&R->cv);
    }
    pthread_mutex_unlock(&R->mu);
    if (R->handoff < HANDOFF)
        R->handoff *= 2;
    return failed ? rdm_errf(err, RDM_EDB, "clean: writing clean rows failed") : RDM_OK;
}

/* Index of batch `id` in R->b (ascending batch ids), or -1. */
static int batch_index(const run *R, long id)
{
    int lo = 0, hi = R->nb - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (R->b[mid].batch_id == id)
            return mid;
        if (R->b[mid].batch_id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int find_batch(run *R, long id)
{
    if (R->cur && R->cur->batch_id == id)
        return RDM_OK;
    int i = batch_index(R, id);
    if (i < 0)
        return RDM_ENOTFOUND;
    R->cur = &R->b[i];
    return RDM_OK;
}

#define RAW_FIELDS (RDM_NCOLS + 2)

/* A raw row as buffered, "batch_id\tline_no\trecord" (NUL at line[len]),
 * split in place into f[] with the lengths n[]: the two numbers, then the
 * record's fields. Returns the field count (-1: malformed). */
static int split_raw(char *line, size_t len, char *f[RAW_FIELDS], size_t n[RAW_FIELDS])
{
    char *p = line, *end = line + len;
    for (int i = 0; i < 2; i++) {
        char *q = memchr(p, '\t', (size_t)(end - p));
        if (!q)
            return -1;
        *q = '\0';
        f[i] = p;
        n[i] = (size_t)(q - p);
        p = q + 1;
    }
    int nf = rdm_rawrec_split(p, (size_t)(end - p), f + 2, n + 2, RDM_NCOLS);
    return nf < 0 ? -1 : nf + 2;
}

/* Append a row of the binary COPY of raw.records (batch_id, line_no,
 * record) to b as split_raw reads it, NUL-terminated. */
static int put_raw(rdm_buf *b, const rdm_copy_field *f, rdm_err *err)
{
    if (!f[0].data || !f[1].data || !f[2].data || f[0].len != 8 || f[1].len != 8)
        return rdm_errf(err, RDM_EDB, "clean: unexpected row from raw.records");
    if (rdm_buf_reserve(b, 2 * 24 + f[2].len + 1))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    char *w = b->data + b->len;
    w += rdm_fmt_long((long)rdm_copy_int(&f[0], 0), w);
    *w++ = '\t';
    w += rdm_fmt_long((long)rdm_copy_int(&f[1], 0), w);
    *w++ = '\t';
    memcpy(w, f[2].data, f[2].len);
    w += f[2].len;
    *w++ = '\0';
    b->len = (size_t)(w - b->data);
    *w = '\0';
    return RDM_OK;
}

/* A rejected row: its encounter_id as in the source (the row's values
 * were trimmed in place while being typed: taken again from `line`). */
static int reject_row(run *R, const char *line, size_t len, const char *batch, const char *line_no,
                      const rdm_clean_issue *is, rdm_err *err)
{
    char *f[RAW_FIELDS];
    size_t n[RAW_FIELDS];
    rdm_buf_reset(&R->scratch);
    if (rdm_buf_add(&R->scratch, line, len) ||
        split_raw(R->scratch.data, R->scratch.len, f, n) != RAW_FIELDS ||
        add_reject(R, batch, line_no, f[2], is))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    return RDM_OK;
}

static int on_raw_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    run *R = ud;
    const rdm_config *cfg = R->cfg;
    rdm_buf_reset(&R->line);
    if (rdm_buf_add(&R->line, line, len))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    char *f[RAW_FIELDS];
    size_t n[RAW_FIELDS];
    int nf = split_raw(R->line.data, R->line.len, f, n);
    if (nf != RAW_FIELDS || !f[0] || !f[1])
        return rdm_errf(err, RDM_EDB, "clean: unexpected row from raw.records (%d fields)", nf);
    long bid;
    if (rdm_parse_long(f[0], &bid) || find_batch(R, bid))
        return rdm_errf(err, RDM_EDB, "clean: row of unexpected batch %s", f[0]);
    batch_acc *B = R->cur;
    B->rows_in++;
    R->done++;

    for (int m = 0; m < R->nmrule; m++) {
        int k = R->mrule[m];
        int c = rule_col(&cfg->clean.rules[k]);
        B->checked[k]++;
        if (c >= 0 && raw_missing(f[2 + c]))
            B->viol[k]++;
    }

    rdm_clean_row row;
    rdm_clean_issue is;
    size_t vlen[RDM_NCOLS];
    if (type_fields(f + 2, n + 2, &row, vlen, R->memo, &is)) {
        B->type_rej++;
        return reject_row(R, line, len, f[0], f[1], &is, err);
    }
    int hard = 0;
    for (int m = 0; m < R->nrrule; m++) {
        int k = R->rrule[m];
        const rdm_rule *r = &cfg->clean.rules[k];
        B->checked[k]++;
        allowed_set *a = &R->aset[k];
        if (a->col >= 0 && (!row.val[a->col] || aset_has(a, &row, vlen[a->col])))
            continue; /* present and allowed, or missing: not violated */
        if (rdm_clean_rule_violated(r, &row, (r->hard && !hard) ? &is : NULL)) {
            B->viol[k]++;
            if (r->hard)
                hard = 1;
        }
    }
    if (!hard && rdm_clean_required_missing(&row, &is)) {
        B->required_rej++;
        hard = 1;
    }
    if (hard)
        return reject_row(R, line, len, f[0], f[1], &is, err);
    int d = idset_add(&R->seen, row.num[RDM_C_ENCOUNTER_ID]);
    if (d < 0)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (d) {
        B->dup++;
        return 0;
    }
    if (rdm_clean_filtered(cfg, &row)) {
        B->filtered++;
        return 0;
    }
    B->clean++;
    B->positives += row.target == 1;
    if (add_clean(R, f[0], n[0], f[1], n[1], &row, vlen))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (R->prof && profile_row(R, &row, vlen, err))
        return err->code;
    if (R->rdb &&
        (R->enc.len >= R->handoff ||
         (R->enc.len >= HANDOFF_FIRST &&
          atomic_load_explicit(&R->writer_idle, memory_order_relaxed))) &&
        hand_over(R, err))
        return err->code;
    if (R->progress && (R->done & 4095) == 0) {
        double now = rdm_now();
        if (now - R->last_progress >= 0.5) {
            R->last_progress = now;
            R->progress(R->done, R->total, R->ud);
        }
    }
    return 0;
}

static int on_id(const char *line, size_t len, void *ud, rdm_err *err)
{
    run *R = ud;
    char tmp[32];
    if (len && line[len - 1] == '\n')
        len--;
    if (len == 0 || len >= sizeof tmp)
        return rdm_errf(err, RDM_EDB, "clean: bad encounter id in clean.encounters");
    memcpy(tmp, line, len);
    tmp[len] = '\0';
    long id;
    if (rdm_parse_long(tmp, &id))
        return rdm_errf(err, RDM_EDB, "clean: bad encounter id '%s' in clean.encounters", tmp);
    return idset_add(&R->seen, id) < 0 ? rdm_errf(err, RDM_ENOMEM, "out of memory") : 0;
}

static int copy_in(rdm_db *db, rdm_sql_id name, const rdm_buf *b, rdm_err *err)
{
    if (b->len == 0)
        return RDM_OK;
    int rc = rdm_db_copy_in_begin(db, name, err);
    if (rc)
        return rc;
    rc = rdm_db_copy_put(db, b->data, b->len, err);
    if (rc) {
        rdm_db_copy_end(db, "clean: copy failed", NULL);
        return rc;
    }
    return rdm_db_copy_end(db, NULL, err);
}

/* One validation result (kept for the failure message and clean.validation). */
typedef struct vres {
    long batch_id; /* 0 = run level */
    const char *rule;
    int hard;
    long violations, checked;
    int passed;
    int fails_stage; /* hard batch/run check that failed */
    char what[200];  /* human description for a failure */
} vres;

typedef struct vlist {
    vres *v;
    int n, cap;
} vlist;

static vres *vadd(vlist *l, long batch, const char *rule, int hard, long viol, long checked,
                  int passed)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        vres *p = realloc(l->v, sizeof *p * (size_t)cap);
        if (!p)
            return NULL;
        l->v = p;
        l->cap = cap;
    }
    vres *r = &l->v[l->n++];
    memset(r, 0, sizeof *r);
    r->batch_id = batch;
    r->rule = rule;
    r->hard = hard;
    r->violations = viol;
    r->checked = checked;
    r->passed = passed;
    return r;
}

/* Evaluate the batch and run checks; returns the number of failed hard checks. */
static int evaluate(run *R, vlist *V, long *soft, rdm_err *err)
{
    const rdm_config *cfg = R->cfg;
    int fails = 0;
    long in = 0, rej = 0;
    for (int i = 0; i < R->nb; i++) {
        batch_acc *B = &R->b[i];
        in += B->rows_in;
        rej += B->rejected;
        vres *x = vadd(V, B->batch_id, "type", 1, B->type_rej, B->rows_in, B->type_rej == 0);
        if (!x)
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
        if (!vadd(V, B->batch_id, "required", 1, B->required_rej, B->rows_in - B->type_rej,
                  B->required_rej == 0))
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
        for (int k = 0; k < cfg->clean.nrules; k++) {
            const rdm_rule *r = &cfg->clean.rules[k];
            int passed = r->kind == RDM_RULE_MISSING
                             ? !rdm_clean_missing_exceeds(r, B->viol[k], B->checked[k])
                             : B->viol[k] == 0;
            x = vadd(V, B->batch_id, r->name, r->hard, B->viol[k], B->checked[k], passed);
            if (!x)
                return rdm_errf(err, RDM_ENOMEM, "out of memory");
            if (r->kind != RDM_RULE_MISSING) {
                if (!r->hard)
                    *soft += B->viol[k];
            } else if (!passed && !r->hard) {
                (*soft)++;
            } else if (!passed) {
                x->fails_stage = 1;
                fails++;
                snprintf(x->what, sizeof x->what,
                         "%s is missing in %ld of %ld rows (%.1f%%), max_missing is %.1f%%",
                         r->column, B->viol[k], B->checked[k],
                         100.0 * (double)B->viol[k] / (double)B->checked[k],
                         100.0 * r->max_missing);
            }
        }
        /* rows that passed validation; duplicates of rows already clean
         * count, so a re-sent batch cannot block the stage for good */
        long valid_rows = B->clean + B->dup;
        int ok = valid_rows >= cfg->clean.min_rows;
        x = vadd(V, B->batch_id, "min_rows", 1, ok ? 0 : 1, valid_rows, ok);
        if (!x)
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
        if (!ok) {
            x->fails_stage = 1;
            fails++;
            snprintf(x->what, sizeof x->what,
                     "%ld valid rows (clean or duplicate), min_rows is %ld", valid_rows,
                     cfg->clean.min_rows);
        }
    }
    int ok = in == 0 || (double)rej / (double)in <= cfg->clean.max_reject_rate;
    vres *x = vadd(V, 0, "max_reject_rate", 1, rej, in, ok);
    if (!x)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (!ok) {
        x->fails_stage = 1;
        fails++;
        snprintf(x->what, sizeof x->what,
                 "%ld of %ld rows rejected (%.2f%%), max_reject_rate is %.2f%%", rej, in,
                 100.0 * (double)rej / (double)in, 100.0 * cfg->clean.max_reject_rate);
    }
    return fails;
}

static int validation_copy(const vlist *V, int snapshot_id, rdm_buf *b)
{
    int rc = 0;
    for (int i = 0; i < V->n && !rc; i++) {
        const vres *x = &V->v[i];
        rc = put_long(b, snapshot_id);
        rc = rc ? rc : rdm_buf_addc(b, '\t');
        if (x->batch_id)
            rc = rc ? rc : put_long(b, x->batch_id);
        else
            rc = rc ? rc : rdm_buf_adds(b, "\\N");
        rc = rc ? rc : rdm_buf_addc(b, '\t');
        rc = rc ? rc : rdm_copy_escape(b, x->rule);
        rc = rc ? rc
                : rdm_buf_printf(b, "\t%s\t%ld\t%ld\t%s\n", x->hard ? "hard" : "soft",
                                 x->violations, x->checked, x->passed ? "t" : "f");
    }
    return rc;
}

static int batch_ids_text(const run *R, rdm_buf *b)
{
    int rc = rdm_buf_addc(b, '{');
    for (int i = 0; i < R->nb && !rc; i++) {
        if (i)
            rc = rdm_buf_addc(b, ',');
        rc = rc ? rc : put_long(b, R->b[i].batch_id);
    }
    return rc ? rc : rdm_buf_addc(b, '}');
}

/* Record a failed run in its own transaction. */
static void record_failure(run *R, const vlist *V, const char *cfg_sha, const char *msg, long rows,
                           long positives)
{
    rdm_err e2 = {0};
    rdm_buf ids = RDM_BUF_INIT, vb = RDM_BUF_INIT, fp = RDM_BUF_INIT;
    char rows_s[24], pos_s[24], fp_hex[65];
    snprintf(rows_s, sizeof rows_s, "%ld", rows);
    snprintf(pos_s, sizeof pos_s, "%ld", positives);
    if (batch_ids_text(R, &ids) ||
        rdm_buf_printf(&fp, "failed %s %s %s", cfg_sha, ids.data, rows_s))
        goto out;
    rdm_sha256_hex(fp.data, fp.len, fp_hex);
    const char *p[] = {fp_hex, cfg_sha, rows_s, pos_s, ids.data, "failed", msg};
    if (rdm_db_begin(R->db, &e2))
        goto out;
    rdm_res *res = rdm_db_query(R->db, RDM_SQL_CLEAN_INSERT_SNAPSHOT, 7, p, &e2);
    if (!res)
        goto out;
    int sid = rdm_res_int(res, 0, "snapshot_id");
    int src = rdm_res_check(res, &e2);
    rdm_res_free(res);
    if (src || validation_copy(V, sid, &vb) ||
        copy_in(R->db, RDM_SQL_CLEAN_COPY_IN_VALIDATION, &vb, &e2) || rdm_db_commit(R->db, &e2))
        goto out;
out:
    if (e2.msg[0])
        rdm_log(RDM_LOG_WARN, "clean could not record the failed run: %s", e2.msg);
    rdm_db_rollback(R->db);
    rdm_buf_release(&ids);
    rdm_buf_release(&vb);
    rdm_buf_release(&fp);
}

static int batch_rows_copy(const run *R, int snapshot_id, rdm_buf *b)
{
    int rc = 0;
    for (int i = 0; i < R->nb && !rc; i++) {
        const batch_acc *B = &R->b[i];
        rc = rdm_buf_printf(b, "%ld\t%d\t%ld\t%ld\t%ld\t%ld\t%ld\n", B->batch_id, snapshot_id,
                            B->rows_in, B->clean, B->filtered, B->dup, B->rejected);
    }
    return rc;
}

static void run_release(run *R)
{
    for (int i = 0; i < R->nb; i++) {
        free(R->b[i].viol);
        free(R->b[i].checked);
        rdm_buf_release(&R->b[i].raw);
    }
    free(R->b);
    for (int k = 0; R->aset && k < R->cfg->clean.nrules; k++)
        aset_release(&R->aset[k]);
    free(R->aset);
    free(R->mrule);
    free(R->rrule);
    free(R->memo);
    idset_release(&R->seen);
    rdm_buf_release(&R->enc);
    rdm_buf_release(&R->rej);
    rdm_buf_release(&R->line);
    rdm_buf_release(&R->scratch);
    rdm_buf_release(&R->row);
    rdm_buf_release(&R->slot);
    rdm_profile_free(R->prof);
    json_decref(R->prof_json);
}

/* Read the current snapshot into `st`; when the clean config changed since it
 * was made, empty clean.* so that every batch is cleaned again. */
static int read_snapshot(rdm_db *db, const char *cfg_sha, rdm_clean_stats *st, int *have_snap,
                         rdm_err *err)
{
    rdm_res *res = rdm_db_query(db, RDM_SQL_CLEAN_SELECT_LATEST_SNAPSHOT, 0, NULL, err);
    if (!res)
        return RDM_EDB;
    *have_snap = rdm_res_rows(res) > 0;
    if (*have_snap) {
        const char *snap_cfg = rdm_res_text(res, 0, "config_sha256");
        st->snapshot_id = rdm_res_int(res, 0, "snapshot_id");
        rdm_res_copy(res, 0, "fingerprint", st->fingerprint, sizeof st->fingerprint);
        st->recleaned = !snap_cfg || strcmp(snap_cfg, cfg_sha) != 0;
        st->snapshot_rows = (long)rdm_res_ll(res, 0, "rows");
        st->snapshot_positives = (long)rdm_res_ll(res, 0, "positives");
    }
    int rc = rdm_res_check(res, err);
    rdm_res_free(res);
    if (rc)
        return rc;
    if (st->recleaned) {
        rdm_log(RDM_LOG_INFO, "clean config changed since snapshot %d: cleaning all batches again",
                st->snapshot_id);
        rc = rdm_db_exec(db, RDM_SQL_CLEAN_TRUNCATE, 0, NULL, err);
    }
    return rc;
}

/* Read the batches to clean into R->b (R->nb of them, possibly none). */
static int read_batches(run *R, rdm_err *err)
{
    rdm_res *res = rdm_db_query(R->db, RDM_SQL_CLEAN_SELECT_NEW_BATCHES, 0, NULL, err);
    if (!res)
        return RDM_EDB;
    int rc = RDM_OK;
    R->nb = rdm_res_rows(res);
    R->b = calloc((size_t)(R->nb ? R->nb : 1), sizeof *R->b);
    if (!R->b) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto out;
    }
    int nr = R->cfg->clean.nrules;
    for (int i = 0; i < R->nb; i++) {
        R->b[i].batch_id = (long)rdm_res_ll(res, i, "batch_id");
        R->b[i].expected = (long)rdm_res_ll(res, i, "rows_accepted");
        R->total += R->b[i].expected;
        R->b[i].viol = calloc((size_t)(nr ? nr : 1), sizeof(long));
        R->b[i].checked = calloc((size_t)(nr ? nr : 1), sizeof(long));
        if (!R->b[i].viol || !R->b[i].checked) {
            rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
            goto out;
        }
    }
    rc = rdm_res_check(res, err);
out:
    rdm_res_free(res);
    return rc;
}

static void warn_rows(const batch_acc *B)
{
    if (B->rows_in != B->expected)
        rdm_log(RDM_LOG_WARN, "clean batch=%ld raw_rows=%ld ledger_rows_accepted=%ld", B->batch_id,
                B->rows_in, B->expected);
}

/* A row of the read of one batch, cleaned at once. */
static int on_batch_row(const rdm_copy_field *f, void *ud, rdm_err *err)
{
    run *R = ud;
    rdm_buf_reset(&R->row);
    int rc = put_raw(&R->row, f, err);
    return rc ? rc : on_raw_row(R->row.data, R->row.len - 1, R, err);
}

/* Read, type, validate, deduplicate and filter the rows of batch `B` (on
 * connection `db`); the clean and rejected rows go to R->enc and R->rej. */
static int read_batch(run *R, rdm_db *db, batch_acc *B, rdm_err *err)
{
    char bid[24];
    snprintf(bid, sizeof bid, "%ld", B->batch_id);
    const char *p[] = {bid};
    R->cur = B;
    int rc = rdm_db_exec(db, RDM_SQL_CLEAN_SET_BATCH, 1, p, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_out_bin(db, RDM_SQL_CLEAN_COPY_RAW_BATCH, 3, on_batch_row, R, err);
    if (rc == RDM_OK)
        warn_rows(B);
    return rc;
}

/* A buffered raw row: its line number and where it is in its batch's text. */
typedef struct raw_line {
    long line_no;
    size_t at, len;
} raw_line;

static int raw_line_cmp(const void *a, const void *b)
{
    long x = ((const raw_line *)a)->line_no, y = ((const raw_line *)b)->line_no;
    return (x > y) - (x < y);
}

/* Put ix[0..n) in line order: by place when the line numbers are distinct
 * and span at most 4n (a batch's lines, some of them elsewhere: rejected by
 * ingest or continued over several lines), else by a stable sort. */
static int order_lines(raw_line *ix, long n)
{
    long lo = n ? ix[0].line_no : 0, hi = lo;
    for (long i = 1; i < n; i++) {
        lo = ix[i].line_no < lo ? ix[i].line_no : lo;
        hi = ix[i].line_no > hi ? ix[i].line_no : hi;
    }
    if (n > 1 && hi - lo < 4 * n) {
        size_t span = (size_t)(hi - lo) + 1;
        long *at = malloc(sizeof *at * span);
        raw_line *out = malloc(sizeof *out * (size_t)n);
        if (!at || !out) {
            free(at);
            free(out);
            return RDM_ENOMEM;
        }
        for (size_t k = 0; k < span; k++)
            at[k] = -1;
        int distinct = 1;
        for (long i = 0; i < n && distinct; i++) {
            long *a = &at[ix[i].line_no - lo];
            distinct = *a < 0;
            *a = i;
        }
        long m = 0;
        for (size_t k = 0; k < span && distinct; k++)
            if (at[k] >= 0)
                out[m++] = ix[at[k]];
        if (distinct)
            memcpy(ix, out, sizeof *ix * (size_t)n);
        free(at);
        free(out);
        if (distinct)
            return RDM_OK;
    }
    qsort(ix, (size_t)n, sizeof *ix, raw_line_cmp);
    return RDM_OK;
}

/* The decimal number at the start of `s` (up to a tab), or -1. */
static long lead_number(const char *s, const char *end, const char **after)
{
    long v = 0;
    const char *p = s;
    while (p < end && *p >= '0' && *p <= '9' && p - s < 18)
        v = v * 10 + (*p++ - '0');
    if (p == s || p == end || *p != '\t')
        return -1;
    *after = p + 1;
    return v;
}

/* Put the buffered rows of B through on_raw_row in line order, then free them. */
static int clean_buffered(run *R, batch_acc *B, rdm_err *err)
{
    int rc = RDM_OK;
    char *p = B->raw.data, *end = p + B->raw.len;
    R->cur = B;
    if (!B->raw_unsorted) {
        while (p < end && rc == RDM_OK) {
            size_t n = strlen(p);
            rc = on_raw_row(p, n, R, err);
            p += n + 1;
        }
    } else { /* rows stored out of line order: sort them by line number */
        raw_line *ix = malloc(sizeof *ix * (size_t)B->raw_rows);
        if (!ix)
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
        long n = 0;
        while (p < end && n < B->raw_rows) {
            char *nul = p + strlen(p);
            const char *q;
            lead_number(p, nul, &q);
            ix[n].line_no = lead_number(q, nul, &q);
            ix[n].at = (size_t)(p - B->raw.data);
            ix[n].len = (size_t)(nul - p);
            n++;
            p = nul + 1;
        }
        if (order_lines(ix, n)) {
            free(ix);
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
        }
        for (long i = 0; i < n && rc == RDM_OK; i++)
            rc = on_raw_row(B->raw.data + ix[i].at, ix[i].len, R, err);
        free(ix);
    }
    if (rc == RDM_OK)
        warn_rows(B);
    rdm_buf_release(&B->raw);
    return rc;
}

/* Scanning thread: hand the batches from R->scan_next on that have all
 * their rows (every one left when `all`) to the cleaning thread. */
static void release_ready(run *R, int all)
{
    int r = R->scan_next;
    while (r < R->nb && (all || R->b[r].raw_rows >= R->b[r].expected))
        r++;
    if (r == R->scan_next)
        return;
    R->scan_next = r;
    pthread_mutex_lock(&R->scan_mu);
    R->released = r;
    pthread_cond_broadcast(&R->scan_cv);
    pthread_mutex_unlock(&R->scan_mu);
}

/* A row of the scan of every batch: kept with its batch until that batch
 * can be cleaned. The table holds a batch's rows in line order and batches
 * mostly one after the other (two loaders interleave neighbours), so a batch
 * is usually complete, and cleaned, a batch or two after it started. The
 * scan goes on while the cleaning thread cleans the batches released. */
static int on_scan_row(const rdm_copy_field *f, void *ud, rdm_err *err)
{
    run *R = ud;
    if (!f[0].data || f[0].len != 8 || !f[1].data || f[1].len != 8)
        return rdm_errf(err, RDM_EDB, "clean: unexpected row from raw.records");
    if (atomic_load_explicit(&R->scan_stop, memory_order_relaxed))
        return rdm_errf(err, RDM_EDB, "clean: cleaning failed");
    long bid = (long)rdm_copy_int(&f[0], 0), ln = (long)rdm_copy_int(&f[1], 0);
    int i = batch_index(R, bid);
    if (i < 0)
        return RDM_OK; /* a batch in the id range that this run does not clean */
    batch_acc *B = &R->b[i];
    if (i < R->scan_next)
        return rdm_errf(err, RDM_EDB,
                        "clean: raw batch %ld has more rows than its ledger's rows_accepted (%ld)",
                        B->batch_id, B->expected);
    if (B->raw_rows && ln <= B->raw_last)
        B->raw_unsorted = 1;
    B->raw_last = ln;
    B->raw_rows++;
    int rc = put_raw(&B->raw, f, err);
    if (rc)
        return rc;
    if (i == R->scan_next && B->raw_rows >= B->expected)
        release_ready(R, 0);
    return RDM_OK;
}

/* Every batch in R->b on connection `db` in one scan of raw.encounters (the
 * ids from the first to the last), released batch by batch in batch order. */
static int scan_all(run *R, rdm_db *db, rdm_err *err)
{
    char first[24], last[24];
    snprintf(first, sizeof first, "%ld", R->b[0].batch_id);
    snprintf(last, sizeof last, "%ld", R->b[R->nb - 1].batch_id);
    const char *p[] = {first, last};
    int rc = rdm_db_exec(db, RDM_SQL_CLEAN_SET_BATCHES, 2, p, err);
    if (rc == RDM_OK)
        release_ready(R, 0); /* batches with no rows */
    rc = rc ? rc : rdm_db_copy_out_bin(db, RDM_SQL_CLEAN_COPY_RAW_BATCHES, 3, on_scan_row, R, err);
    if (rc == RDM_OK)
        release_ready(R, 1);
    return rc;
}

/* The scanning thread: every batch in R->b on R->rdb, in one read-only
 * transaction (raw batches are committed and never change). */
static void *scan_main(void *arg)
{
    run *R = arg;
    rdm_err e = {0};
    int rc = rdm_db_begin(R->rdb, &e);
    if (rc == RDM_OK)
        rc = scan_all(R, R->rdb, &e);
    rdm_db_rollback(R->rdb);
    pthread_mutex_lock(&R->scan_mu);
    R->scan_done = 1;
    R->scan_rc = rc;
    R->scan_err = e;
    pthread_cond_broadcast(&R->scan_cv);
    pthread_mutex_unlock(&R->scan_mu);
    return NULL;
}

/* Cleaning thread: clean the batches as the scanning thread releases them,
 * in batch order. */
static int clean_all(run *R, rdm_err *err)
{
    R->next = 0;
    for (;;) {
        pthread_mutex_lock(&R->scan_mu);
        while (R->released == R->next && !R->scan_done)
            pthread_cond_wait(&R->scan_cv, &R->scan_mu);
        int rel = R->released, done = R->scan_done, rc = R->scan_rc;
        if (done && rc)
            *err = R->scan_err;
        pthread_mutex_unlock(&R->scan_mu);
        if (done && rc)
            return rc;
        while (R->next < rel)
            if ((rc = clean_buffered(R, &R->b[R->next++], err)))
                return rc;
        if (done)
            return RDM_OK;
    }
}

/* The reader thread: the batches' rows scanned on R->rdb by a thread of its
 * own while this one cleans the batches it has all the rows of. */
static void *reader_main(void *arg)
{
    run *R = arg;
    rdm_err e = {0};
    pthread_t th;
    int rc = RDM_OK;
    pthread_mutex_init(&R->scan_mu, NULL);
    pthread_cond_init(&R->scan_cv, NULL);
    atomic_init(&R->scan_stop, 0);
    if (pthread_create(&th, NULL, scan_main, R) != 0) {
        rc = rdm_errf(&e, RDM_ENOMEM, "clean: cannot start the scanning thread");
    } else {
        rc = clean_all(R, &e);
        if (rc)
            atomic_store_explicit(&R->scan_stop, 1, memory_order_relaxed);
        pthread_join(th, NULL);
    }
    pthread_cond_destroy(&R->scan_cv);
    pthread_mutex_destroy(&R->scan_mu);
    if (rc == RDM_OK && R->enc.len)
        rc = hand_over(R, &e);
    /* the profile's document while the server stores the last rows */
    if (rc == RDM_OK && R->prof && !(R->prof_json = rdm_profile_json(R->prof, &e)))
        rc = e.code ? e.code : RDM_ENOMEM;
    pthread_mutex_lock(&R->mu);
    R->reader_done = 1;
    R->reader_rc = rc;
    R->reader_err = e;
    pthread_cond_broadcast(&R->cv);
    pthread_mutex_unlock(&R->mu);
    return NULL;
}

/* The COPY of clean rows: frozen into a clean.encounters emptied in this
 * transaction (its rows are then seen by every later reader without a hint
 * bit set or a freeze by vacuum; no other transaction sees the table before
 * the commit: TRUNCATE holds it). */
static rdm_sql_id enc_copy(const run *R)
{
    return R->fresh ? RDM_SQL_CLEAN_COPY_IN_ENCOUNTERS_FROZEN : RDM_SQL_CLEAN_COPY_IN_ENCOUNTERS;
}

/* Writer side of the two-connection path: one COPY into clean.encounters fed
 * by the reader's hand-overs, then the rejects. */
static int write_rows(run *R, rdm_err *err)
{
    rdm_buf out = RDM_BUF_INIT;
    pthread_t th;
    R->handoff = HANDOFF_FIRST;
    atomic_init(&R->writer_idle, 0);
    int rc = rdm_db_copy_in_begin(R->db, enc_copy(R), err), in_copy = !rc;
    if (rc == RDM_OK && pthread_create(&th, NULL, reader_main, R) != 0) {
        rc = rdm_errf(err, RDM_ENOMEM, "clean: cannot start the reader thread");
        rdm_db_copy_end(R->db, "clean: no reader", NULL);
        return rc;
    }
    if (rc)
        return rc;
    for (;;) {
        pthread_mutex_lock(&R->mu);
        while (!R->slot.len && !R->reader_done) {
            atomic_store_explicit(&R->writer_idle, 1, memory_order_relaxed);
            pthread_cond_wait(&R->cv, &R->mu);
        }
        atomic_store_explicit(&R->writer_idle, 0, memory_order_relaxed);
        int last = !R->slot.len; /* the reader is done and nothing is left */
        rdm_buf t = R->slot;
        R->slot = out;
        out = t;
        rdm_buf_reset(&R->slot);
        pthread_cond_broadcast(&R->cv);
        pthread_mutex_unlock(&R->mu);
        if (last)
            break;
        if (rc == RDM_OK && (rc = rdm_db_copy_put(R->db, out.data, out.len, err)) != RDM_OK) {
            pthread_mutex_lock(&R->mu);
            R->writer_failed = 1;
            pthread_cond_broadcast(&R->cv);
            pthread_mutex_unlock(&R->mu);
        }
    }
    pthread_join(th, NULL);
    rdm_buf_release(&out);
    if (rc == RDM_OK && R->reader_rc != RDM_OK) {
        *err = R->reader_err;
        rc = R->reader_rc;
    }
    if (in_copy) {
        if (rc)
            rdm_db_copy_end(R->db, "clean failed", NULL);
        else
            rc = rdm_db_copy_end(R->db, NULL, err);
    }
    if (rc == RDM_OK)
        rc = copy_in(R->db, RDM_SQL_CLEAN_COPY_IN_REJECTS, &R->rej, err);
    return rc;
}

/* Type, validate, deduplicate and filter the rows of every batch in R->b and
 * copy the clean and rejected rows into clean.*: read on a second connection
 * while this one writes, or batch by batch on this one when there is no
 * second connection. */
static int clean_batches(run *R, int have_snap, rdm_clean_stats *st, rdm_err *err)
{
    rdm_db *db = R->db;
    int rc;
    /* encounter ids already in the snapshot (duplicates across runs) */
    if (!st->recleaned && have_snap &&
        (rc = rdm_db_copy_out(db, RDM_SQL_CLEAN_COPY_IDS, on_id, R, err)))
        return rc;
    rdm_err e2 = {0};
    int two = 0;
    if (R->nb > 0 && (R->rdb = rdm_db_connect(R->cfg, &e2)) != NULL) {
        two = 1;
        pthread_mutex_init(&R->mu, NULL);
        pthread_cond_init(&R->cv, NULL);
        rc = write_rows(R, err);
        pthread_cond_destroy(&R->cv);
        pthread_mutex_destroy(&R->mu);
        rdm_db_close(R->rdb);
        R->rdb = NULL;
        if (rc)
            return rc;
    } else if (R->nb > 0) {
        rdm_log(RDM_LOG_WARN, "clean: one connection only: %s", e2.msg);
    }
    for (int i = 0; i < R->nb; i++) {
        batch_acc *B = &R->b[i];
        if (!two) { /* one connection: batch by batch */
            if ((rc = read_batch(R, db, B, err)) || (rc = copy_in(db, enc_copy(R), &R->enc, err)) ||
                (rc = copy_in(db, RDM_SQL_CLEAN_COPY_IN_REJECTS, &R->rej, err)))
                return rc;
            rdm_buf_reset(&R->enc);
            rdm_buf_reset(&R->rej);
        }
        st->batches++;
        st->rows_in += B->rows_in;
        st->rows_clean += B->clean;
        st->rows_filtered += B->filtered;
        st->rows_duplicate += B->dup;
        st->rows_rejected += B->rejected;
        rdm_log(RDM_LOG_DEBUG,
                "clean batch=%ld rows=%ld clean=%ld filtered=%ld duplicate=%ld rejected=%ld",
                B->batch_id, B->rows_in, B->clean, B->filtered, B->dup, B->rejected);
    }
    if (R->progress)
        R->progress(R->done, R->total, R->ud);
    return RDM_OK;
}

/* `fails` hard checks failed: roll back, record the failed run in its own
 * transaction and report the first failed check. Returns RDM_EVALID. */
static int fail_validation(run *R, const vlist *V, int fails, const char *cfg_sha,
                           rdm_clean_stats *st, rdm_err *err)
{
    const vres *first = NULL;
    for (int i = 0; i < V->n && !first; i++)
        if (V->v[i].fails_stage)
            first = &V->v[i];
    char where[48];
    if (first->batch_id)
        snprintf(where, sizeof where, "batch %ld", first->batch_id);
    else
        snprintf(where, sizeof where, "this run");
    char more[48] = "";
    if (fails > 1)
        snprintf(more, sizeof more, " (and %d more failed check%s)", fails - 1,
                 fails > 2 ? "s" : "");
    char msg[RDM_ERR_MSG];
    snprintf(msg, sizeof msg,
             "validation failed: rule '%s' (hard) in %s: %s%s; clean snapshot %d kept", first->rule,
             where, first->what, more, st->snapshot_id);
    msg[rdm_utf8_cut(msg, strlen(msg))] = '\0';
    rdm_errf(err, RDM_EVALID, "%s", msg);
    st->validation_failures = fails;
    rdm_db_rollback(R->db);
    long pos = 0;
    for (int i = 0; i < R->nb; i++)
        pos += R->b[i].positives;
    record_failure(R, V, cfg_sha, msg, st->rows_clean, pos);
    return RDM_EVALID;
}

/* The snapshot's fingerprint: the ledger of every batch in it, its counts
 * and the clean config. Sets st->snapshot_rows/positives/fingerprint and
 * records them on snapshot `sid`. */
static int seal_snapshot(const run *R, int sid, const rdm_buf *cfgtext, rdm_clean_stats *st,
                         rdm_err *err)
{
    rdm_db *db = R->db;
    rdm_buf tmp = RDM_BUF_INIT;
    int rc;
    rdm_res *res;
    if (R->fresh) { /* clean.encounters holds this run's clean rows only */
        st->snapshot_rows = st->snapshot_positives = 0;
        for (int i = 0; i < R->nb; i++) {
            st->snapshot_rows += R->b[i].clean;
            st->snapshot_positives += R->b[i].positives;
        }
    } else {
        if (!(res = rdm_db_query(db, RDM_SQL_CLEAN_SELECT_COUNTS, 0, NULL, err)))
            return RDM_EDB;
        st->snapshot_rows = (long)rdm_res_ll(res, 0, "rows");
        st->snapshot_positives = (long)rdm_res_ll(res, 0, "positives");
        rc = rdm_res_check(res, err);
        rdm_res_free(res);
        if (rc)
            return rc;
    }
    if (!(res = rdm_db_query(db, RDM_SQL_CLEAN_SELECT_LEDGER, 0, NULL, err)))
        return RDM_EDB;
    const char *ledger = rdm_res_text(res, 0, "ledger");
    const char *ledger_ids = rdm_res_text(res, 0, "batch_ids");
    if ((rc = rdm_res_check(res, err)))
        goto out;
    if (rdm_buf_printf(&tmp, "readmit-clean 1\n%s\nrows=%ld positives=%ld\n", ledger ? ledger : "",
                       st->snapshot_rows, st->snapshot_positives) ||
        rdm_buf_add(&tmp, cfgtext->data ? cfgtext->data : "", cfgtext->len)) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto out;
    }
    rdm_sha256_hex(tmp.data, tmp.len, st->fingerprint);
    char sid_s[16], rows_s[24], pos_s[24];
    snprintf(sid_s, sizeof sid_s, "%d", sid);
    snprintf(rows_s, sizeof rows_s, "%ld", st->snapshot_rows);
    snprintf(pos_s, sizeof pos_s, "%ld", st->snapshot_positives);
    const char *u[] = {sid_s, st->fingerprint, rows_s, pos_s, ledger_ids};
    rc = rdm_db_exec(db, RDM_SQL_CLEAN_UPDATE_SNAPSHOT, 5, u, err);
out:
    rdm_res_free(res);
    rdm_buf_release(&tmp);
    return rc;
}

/* Insert the new snapshot with its batch rows and validation results, seal
 * it, store its profile and commit. */
static int write_snapshot(run *R, const vlist *V, const char *cfg_sha, const rdm_buf *cfgtext,
                          rdm_clean_stats *st, rdm_err *err)
{
    rdm_db *db = R->db;
    rdm_buf tmp = RDM_BUF_INIT, vb = RDM_BUF_INIT;
    int rc;
    char zero[] = "0";
    if ((rc = batch_ids_text(R, &tmp))) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto out;
    }
    const char *p[] = {"pending", cfg_sha, zero, zero, tmp.data, "ok", NULL};
    rdm_res *res = rdm_db_query(db, RDM_SQL_CLEAN_INSERT_SNAPSHOT, 7, p, err);
    if (!res) {
        rc = RDM_EDB;
        goto out;
    }
    int sid = rdm_res_int(res, 0, "snapshot_id");
    rc = rdm_res_check(res, err);
    rdm_res_free(res);
    if (rc)
        goto out;
    rdm_buf_reset(&tmp);
    if (batch_rows_copy(R, sid, &tmp) || validation_copy(V, sid, &vb)) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = copy_in(db, RDM_SQL_CLEAN_COPY_IN_BATCHES, &tmp, err)) ||
        (rc = copy_in(db, RDM_SQL_CLEAN_COPY_IN_VALIDATION, &vb, err)))
        goto out;
    if ((rc = seal_snapshot(R, sid, cfgtext, st, err)))
        goto out;
    double t_prof = rdm_now();
    if ((rc = R->prof_json ? rdm_profile_save_json(db, sid, R->prof_json, err)
              : R->prof    ? rdm_profile_save(db, sid, R->prof, err)
                           : rdm_profile_store(db, sid, err))) {
        rdm_err_prefix(err, "profile");
        goto out;
    }
    double t_commit = rdm_now();
    if ((rc = rdm_db_commit(db, err)))
        goto out;
    rdm_log(RDM_LOG_INFO,
            "clean snapshot=%d rows_seconds=%.2f profile_seconds=%.2f commit_seconds=%.2f", sid,
            R->t_rows - R->t0, t_commit - t_prof, rdm_now() - t_commit);
    st->snapshot_id = sid;
    st->changed = 1;
out:
    rdm_buf_release(&tmp);
    rdm_buf_release(&vb);
    return rc;
}

int rdm_clean(const rdm_config *cfg, rdm_db *db, rdm_clean_progress progress, void *ud,
              rdm_clean_stats *st, rdm_err *err)
{
    memset(st, 0, sizeof *st);
    run R;
    memset(&R, 0, sizeof R);
    R.t0 = rdm_now();
    R.cfg = cfg;
    R.db = db;
    R.progress = progress;
    R.ud = ud;
    vlist V = {0};
    rdm_buf cfgtext = RDM_BUF_INIT;
    int rc = RDM_OK, in_tx = 0, have_snap = 0;
    char cfg_sha[65];

    if ((rc = rdm_config_section_text(cfg, "clean", &cfgtext)))
        goto out;
    rdm_sha256_hex(cfgtext.data ? cfgtext.data : "", cfgtext.len, cfg_sha);

    if (!(R.aset = calloc((size_t)(cfg->clean.nrules ? cfg->clean.nrules : 1), sizeof *R.aset))) {
        rc = RDM_ENOMEM;
        goto out;
    }
    for (int k = 0; k < cfg->clean.nrules && rc == RDM_OK; k++)
        rc = aset_build(&R.aset[k], &cfg->clean.rules[k]);
    if (rc)
        goto out;
    size_t nr = (size_t)(cfg->clean.nrules ? cfg->clean.nrules : 1);
    if (!(R.mrule = malloc(sizeof *R.mrule * nr)) || !(R.rrule = malloc(sizeof *R.rrule * nr)) ||
        !(R.memo = calloc(1, sizeof *R.memo))) {
        rc = RDM_ENOMEM;
        goto out;
    }
    for (int k = 0; k < cfg->clean.nrules; k++) {
        if (cfg->clean.rules[k].kind == RDM_RULE_MISSING)
            R.mrule[R.nmrule++] = k;
        else
            R.rrule[R.nrrule++] = k;
    }

    if ((rc = rdm_db_begin(db, err)))
        goto out;
    in_tx = 1;
    if ((rc = rdm_db_exec(db, RDM_SQL_CLEAN_LOCK, 0, NULL, err)) ||
        (rc = rdm_db_exec(db, RDM_SQL_CLEAN_SET_FLUSH, 0, NULL, err)) ||
        (rc = read_snapshot(db, cfg_sha, st, &have_snap, err)) || (rc = read_batches(&R, err)))
        goto out;
    if (R.nb == 0 && !st->recleaned)
        goto out; /* nothing new: rolled back below */
    /* from an empty snapshot: clean.* emptied in this transaction (as when
     * the config changed) so that the clean rows go in frozen */
    if (!have_snap && (rc = rdm_db_exec(db, RDM_SQL_CLEAN_TRUNCATE, 0, NULL, err)))
        goto out;
    R.fresh = !have_snap || st->recleaned;
    /* into an empty table: the primary key is built after the load */
    if (R.fresh && R.nb > 0 && (rc = rdm_db_exec(db, RDM_SQL_CLEAN_DROP_KEY, 0, NULL, err)))
        goto out;
    /* clean.encounters starts empty: the profile is built as rows are written */
    if ((!have_snap || st->recleaned) && !(R.prof = rdm_profile_new())) {
        rc = RDM_ENOMEM;
        goto out;
    }
    if ((rc = clean_batches(&R, have_snap, st, err)))
        goto out;
    R.t_rows = rdm_now();

    /* validation */
    int fails = evaluate(&R, &V, &st->soft_violations, err);
    if (fails < 0) {
        rc = fails;
        goto out;
    }
    if (fails > 0) {
        in_tx = 0; /* rolled back by fail_validation */
        rc = fail_validation(&R, &V, fails, cfg_sha, st, err);
        goto out;
    }
    if (R.fresh && R.nb > 0 && (rc = rdm_db_exec(db, RDM_SQL_CLEAN_ADD_KEY, 0, NULL, err)))
        goto out;
    if ((rc = write_snapshot(&R, &V, cfg_sha, &cfgtext, st, err)))
        goto out;
    in_tx = 0;

out:
    if (rc == RDM_ENOMEM)
        rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (in_tx)
        rdm_db_rollback(db);
    st->seconds = rdm_now() - R.t0;
    run_release(&R);
    free(V.v);
    rdm_buf_release(&cfgtext);
    return rc;
}
