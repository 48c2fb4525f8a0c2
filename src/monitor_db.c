/* monitor_db.c - the monitor's reads and writes in PostgreSQL. */
#include "monitor_db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "predbatch.h"
#include "rawrec.h"

static int set_param(rdm_db *db, const char *name, const char *value, rdm_err *err)
{
    const char *p[2] = {name, value};
    return rdm_db_exec(db, RDM_SQL_MONITOR_SET_PARAM, 2, p, err);
}

int rdm_mondb_prepare(rdm_db *db, rdm_err *err)
{
    return set_param(db, "jit", "off", err);
}

/* A COPY-out line split into fields in a scratch buffer. */
typedef struct lines {
    rdm_buf scratch;
    char *f[16];
} lines;

static int split(lines *l, const char *line, size_t len, int want, rdm_err *err)
{
    rdm_buf_reset(&l->scratch);
    if (rdm_buf_add(&l->scratch, line, len) != RDM_OK)
        return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    int n = rdm_copy_split(l->scratch.data, len, l->f, 16);
    if (n != want)
        return rdm_errf(err, RDM_EDB, "monitor: expected %d columns from the database, got %d",
                        want, n);
    return RDM_OK;
}

/* ---- reference ---- */

typedef struct ref_ctx {
    lines l;
    int found;
    int version, snapshot;
    json_t *profile, *schema, *calib;
} ref_ctx;

static int ref_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    ref_ctx *c = ud;
    int rc = split(&c->l, line, len, 5, err);
    if (rc != RDM_OK)
        return rc;
    c->found = 1;
    c->version = atoi(c->l.f[0]);
    c->snapshot = c->l.f[1] ? atoi(c->l.f[1]) : -1;
    c->profile = c->l.f[2] ? json_loads(c->l.f[2], 0, NULL) : NULL;
    c->schema = c->l.f[3] ? json_loads(c->l.f[3], 0, NULL) : NULL;
    c->calib = c->l.f[4] ? json_loads(c->l.f[4], 0, NULL) : NULL;
    return RDM_OK;
}

int rdm_mondb_reference(rdm_db *db, const char *model_name, rdm_drift_ref *ref, int *version,
                        int *snapshot, rdm_err *err)
{
    ref_ctx c;
    memset(&c, 0, sizeof c);
    memset(ref, 0, sizeof *ref);
    int rc = set_param(db, "readmit.model_name", model_name, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_out(db, RDM_SQL_MONITOR_COPY_REFERENCE, ref_row, &c, err);
    if (rc == RDM_OK && !c.found)
        rc = rdm_errf(err, RDM_ENOTFOUND, "no champion of '%s' yet: nothing is served", model_name);
    if (rc == RDM_OK && !c.profile)
        rc = rdm_errf(err, RDM_ENOTFOUND,
                      "the champion's training snapshot %d has no profile (run readmit clean)",
                      c.snapshot);
    if (rc == RDM_OK)
        rc = rdm_drift_ref_from_profile(c.profile, c.schema, ref, err);
    if (rc == RDM_OK && json_is_array(c.calib) && json_array_size(c.calib) == 10) {
        for (size_t i = 0; i < 10; i++)
            ref->score_ref[i] = json_number_value(json_object_get(json_array_get(c.calib, i), "n"));
        ref->has_score_ref = 1;
    }
    *version = c.version;
    *snapshot = c.snapshot;
    json_decref(c.profile);
    json_decref(c.schema);
    json_decref(c.calib);
    rdm_buf_release(&c.l.scratch);
    return rc;
}

/* ---- predictions ---- */

/* Lookahead of the hash lookups: the slot of the key this many elements on
 * is fetched into the cache while the current one is looked up (each lookup
 * in a table of a million keys is otherwise a miss). */
#define AHEAD 16

/* Big-endian integers of binary COPY data. */
static inline uint64_t be64(const unsigned char *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | p[7];
}

static inline uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An array element of `len` bytes as the rdm_copy_* getters read it. */
static inline int64_t el_int(const unsigned char *d, size_t len, int64_t dflt)
{
    return !d         ? dflt
           : len == 8 ? (int64_t)be64(d)
           : len == 4 ? (int32_t)be32(d)
           : len == 2 ? (int16_t)(d[0] << 8 | d[1])
                      : dflt;
}

static inline double el_float8(const unsigned char *d, size_t len, double dflt)
{
    if (!d || len != 8)
        return dflt;
    uint64_t u = be64(d);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* timestamptz: microseconds since 2000-01-01 UTC, as rdm_copy_epoch. */
static inline double el_epoch(const unsigned char *d, size_t len, double dflt)
{
    return d && len == 8 ? (double)((int64_t)be64(d) + INT64_C(946684800000000)) / 1000000.0 : dflt;
}

static inline size_t home(int64_t k, size_t mask)
{
    uint64_t h = (uint64_t)k * UINT64_C(0x9e3779b97f4a7c15);
    return (size_t)(h >> 32) & mask;
}

static size_t capacity_for(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    return cap;
}

/* Zeroed memory for a hash table of `size` bytes, on huge pages where the
 * system has them: a lookup in tens of megabytes of 4 KiB pages misses the
 * TLB about every time. Free with table_free(). */
static void *table_alloc(size_t size)
{
#ifdef MADV_HUGEPAGE
    if (size >= (size_t)4 << 20) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            (void)madvise(p, size, MADV_HUGEPAGE); /* a hint: without it, small pages */
            return p;
        }
        return NULL;
    }
#endif
    return calloc(1, size);
}

static void table_free(void *p, size_t size)
{
    if (!p)
        return;
#ifdef MADV_HUGEPAGE
    if (size >= (size_t)4 << 20) {
        munmap(p, size);
        return;
    }
#endif
    free(p);
}

/* Open-addressing map of int64 keys to row numbers; a key and its row share
 * a cache line. */
typedef struct islot {
    int64_t key;
    size_t val; /* row + 1, 0 = empty */
} islot;

typedef struct imap {
    islot *s;
    size_t mask;
} imap;

static int imap_init(imap *m, size_t n)
{
    size_t cap = capacity_for(n);
    m->mask = cap - 1;
    m->s = table_alloc(cap * sizeof *m->s);
    return m->s ? 0 : -1;
}

static void imap_release(imap *m)
{
    table_free(m->s, m->s ? (m->mask + 1) * sizeof *m->s : 0);
}

static islot *imap_slot(const imap *m, int64_t k)
{
    size_t i = home(k, m->mask);
    while (m->s[i].val && m->s[i].key != k)
        i = (i + 1) & m->mask;
    return &m->s[i];
}

/* Insert keys[i] -> i for every i < n unless the key is there (the first
 * one stays). */
static void imap_put_all(imap *m, const int64_t *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            __builtin_prefetch(&m->s[home(keys[i + AHEAD], m->mask)], 1);
        islot *e = imap_slot(m, keys[i]);
        if (!e->val)
            *e = (islot){keys[i], i + 1};
    }
}

/* The row of k, or -1. */
static long imap_get(const imap *m, int64_t k)
{
    return (long)imap_slot(m, k)->val - 1;
}

/* The outcomes by encounter id: open addressing with the outcome in its key's
 * slot, so that a lookup reads one place. */
typedef struct oslot {
    int64_t key;
    double observed; /* unix seconds, NaN: not given */
    int32_t label;   /* 0/1 */
    int32_t used;
} oslot;

typedef struct omap {
    oslot *s;
    size_t mask;
} omap;

static inline const oslot *oslot_at(const omap *m, int64_t k)
{
    size_t i = home(k, m->mask);
    while (m->s[i].used && m->s[i].key != k)
        i = (i + 1) & m->mask;
    return &m->s[i];
}

static inline void oslot_prefetch(const omap *m, int64_t k)
{
    const oslot *s = &m->s[home(k, m->mask)];
    __builtin_prefetch(s);
    __builtin_prefetch((const char *)(s + 1) - 1); /* a slot may straddle two lines */
}

/* Growable arrays of one column each. */
typedef struct outcomes_ctx {
    int64_t *enc;
    int8_t *label;
    double *observed;
    size_t n, cap;
} outcomes_ctx;

static int outcome_row(const rdm_copy_field *f, void *ud, rdm_err *err)
{
    outcomes_ctx *c = ud;
    if (!f[0].data || !f[1].data)
        return RDM_OK; /* both NOT NULL in the schema */
    if (c->n == c->cap) {
        size_t cap = c->cap;
        void *a = c->enc, *b = c->label, *d = c->observed;
        if (rdm_grow(&a, &cap, c->n + 1, sizeof *c->enc))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        c->enc = a;
        cap = c->cap;
        if (rdm_grow(&b, &cap, c->n + 1, sizeof *c->label))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        c->label = b;
        cap = c->cap;
        if (rdm_grow(&d, &cap, c->n + 1, sizeof *c->observed))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        c->observed = d;
        c->cap = cap;
    }
    c->enc[c->n] = rdm_copy_int(&f[0], 0);
    c->label[c->n] = (int8_t)rdm_copy_int(&f[1], 0);
    c->observed[c->n] = rdm_copy_epoch(&f[2], NAN);
    c->n++;
    return RDM_OK;
}

/* The map of the outcomes read (the first of an encounter stays). */
static int omap_build(omap *m, const outcomes_ctx *oc)
{
    size_t cap = capacity_for(oc->n);
    m->mask = cap - 1;
    if (!(m->s = table_alloc(cap * sizeof *m->s)))
        return -1;
    for (size_t i = 0; i < oc->n; i++) {
        if (i + AHEAD < oc->n)
            __builtin_prefetch(&m->s[home(oc->enc[i + AHEAD], m->mask)], 1);
        oslot *e = (oslot *)oslot_at(m, oc->enc[i]);
        if (!e->used)
            *e = (oslot){oc->enc[i], oc->observed[i], oc->label[i], 1};
    }
    return 0;
}

typedef struct pred_ctx {
    lines l;
    omap outcomes; /* encounter_id -> outcome */
    int64_t *ids;  /* prediction_id of each row passed on, in order */
    size_t n, cap;
    imap rows; /* prediction_id -> row */
    rdm_mondb_fns fns;
    void *ud;
    int ordered;
    rdm_mon_row *held; /* ordered: every row, passed on once sorted */
    size_t nheld, capheld;
    rdm_mongroups *groups; /* the labelled rows go there too (NULL: not) */
    rdm_buf text;          /* a group row's attributes, each NUL-terminated */
} pred_ctx;

static int pass_row(pred_ctx *c, const rdm_mon_row *r, rdm_err *err)
{
    if (c->n == c->cap) {
        void *p = c->ids;
        if (rdm_grow(&p, &c->cap, c->n + 1, sizeof *c->ids))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        c->ids = p;
    }
    c->ids[c->n++] = r->id;
    return c->fns.row(r, c->ud, err);
}

/* A labelled prediction `r` with the threshold and the race, gender and age
 * elements of its batch to the groups. */
static int group_add(pred_ctx *c, const rdm_mon_row *r, double threshold,
                     const rdm_copy_field *attr, rdm_err *err)
{
    size_t at[RDM_MONGROUP_NATTR];
    rdm_buf_reset(&c->text);
    for (int a = 0; a < RDM_MONGROUP_NATTR; a++) {
        const rdm_copy_field *v = &attr[a];
        at[a] = c->text.len;
        if ((v->data && rdm_buf_add(&c->text, (const char *)v->data, v->len) != RDM_OK) ||
            rdm_buf_add(&c->text, "", 1) != RDM_OK)
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    }
    rdm_mongroup_row g = {r->id,     r->version, r->patient,        r->p,
                          threshold, r->label,   {NULL, NULL, NULL}};
    for (int a = 0; a < RDM_MONGROUP_NATTR; a++)
        g.attr[a] = attr[a].data ? c->text.data + at[a] : NULL;
    return rdm_mongroups_add(c->groups, &g, err);
}

/* The arrays of a log batch, in the order of monitor_copy_out_predictions. */
enum {
    LA_ID,
    LA_SERVED,
    LA_VERSION,
    LA_PATIENT,
    LA_PROB,
    LA_DECISION,
    LA_ENCOUNTER,
    LA_THRESHOLD,
    LA_RACE,
    LA_GENDER,
    LA_AGE,
    LA_GROUP_VALUES, /* migration 017: race, gender, age NULL, coded instead */
    LA_GROUP_CODES,
    LOG_FIELDS,
    LOG_ARRAYS = LA_GROUP_VALUES
};

/* Fetch the outcome slot of the next encounter of cursor `a`. */
static inline void prefetch_next(const omap *m, rdm_pbarray *a)
{
    const unsigned char *d;
    size_t len;
    if (rdm_pbarray_next(a, &d, &len) == 1 && d && len == 8)
        oslot_prefetch(m, (int64_t)be64(d));
}

/* One log batch: its arrays, element i of each the i-th prediction. */
static int log_batch_row(const rdm_copy_field *f, void *ud, rdm_err *err)
{
    static const uint32_t oid[LOG_ARRAYS] = {
        RDM_OID_INT8, RDM_OID_TIMESTAMPTZ, RDM_OID_INT4, RDM_OID_INT8, RDM_OID_FLOAT8, RDM_OID_INT2,
        RDM_OID_INT8, RDM_OID_FLOAT8,      RDM_OID_TEXT, RDM_OID_TEXT, RDM_OID_TEXT};
    pred_ctx *c = ud;
    /* the rest only for the groups; race, gender and age as arrays, or
     * codes into the batch's values (predbatch.h) */
    const int coded = c->groups && f[LA_GROUP_CODES].data;
    int na = !c->groups ? LA_THRESHOLD : coded ? LA_RACE : LOG_ARRAYS;
    rdm_pbarray a[LOG_ARRAYS];
    rdm_copy_field e[LOG_ARRAYS];
    rdm_copy_field vals[RDM_PREDBATCH_MAX_GROUP_VALUES];
    uint32_t nvals = 0;
    int once[LOG_ARRAYS] = {0}; /* one element for every prediction (predbatch.h) */
    for (int k = 0; k < na; k++) {
        if (rdm_pbarray_open(&a[k], f[k].data, f[k].len, oid[k]))
            return rdm_errf(err, RDM_EDB, "monitor: a log batch with malformed arrays");
        once[k] = (k == LA_VERSION || k == LA_THRESHOLD) && a[k].n == 1 && a[0].n != 1;
        if ((a[k].n != a[0].n && !once[k]) ||
            (once[k] && rdm_pbarray_next(&a[k], &e[k].data, &e[k].len) != 1))
            return rdm_errf(err, RDM_EDB, "monitor: a log batch with malformed arrays");
    }
    if (coded) {
        rdm_pbarray v;
        int k = rdm_pbarray_open(&v, f[LA_GROUP_VALUES].data, f[LA_GROUP_VALUES].len, RDM_OID_TEXT);
        while (k == 0 && nvals < RDM_PREDBATCH_MAX_GROUP_VALUES &&
               (k = rdm_pbarray_next(&v, &vals[nvals].data, &vals[nvals].len)) == 1) {
            k = vals[nvals++].data ? 0 : -1;
        }
        if (k != 0 || v.n != nvals || f[LA_GROUP_CODES].len != 3 * (size_t)a[0].n)
            return rdm_errf(err, RDM_EDB, "monitor: a log batch with malformed group codes");
    }
    if (c->ordered && c->nheld + a[0].n > c->capheld) {
        void *p = c->held;
        if (rdm_grow(&p, &c->capheld, c->nheld + a[0].n, sizeof *c->held))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        c->held = p;
    }
    rdm_pbarray ahead = a[LA_ENCOUNTER];
    for (int k = 0; k < AHEAD; k++)
        prefetch_next(&c->outcomes, &ahead);
    for (uint32_t i = 0; i < a[0].n; i++) {
        for (int k = 0; k < na; k++)
            if (!once[k] && rdm_pbarray_next(&a[k], &e[k].data, &e[k].len) != 1)
                return rdm_errf(err, RDM_EDB, "monitor: a log batch with malformed arrays");
        prefetch_next(&c->outcomes, &ahead);
        rdm_mon_row r;
        r.id = el_int(e[LA_ID].data, e[LA_ID].len, 0);
        r.served = el_epoch(e[LA_SERVED].data, e[LA_SERVED].len, NAN);
        r.version = (int32_t)el_int(e[LA_VERSION].data, e[LA_VERSION].len, -1);
        /* unknown patient: a group of its own */
        r.patient = el_int(e[LA_PATIENT].data, e[LA_PATIENT].len, -1 - r.id);
        r.p = el_float8(e[LA_PROB].data, e[LA_PROB].len, NAN);
        r.decision = (int)el_int(e[LA_DECISION].data, e[LA_DECISION].len, 0);
        const oslot *o = NULL;
        if (e[LA_ENCOUNTER].data) {
            o = oslot_at(&c->outcomes, el_int(e[LA_ENCOUNTER].data, e[LA_ENCOUNTER].len, 0));
            o = o->used ? o : NULL;
        }
        r.label = o ? o->label : -1;
        r.observed = o ? o->observed : NAN;
        int rc = RDM_OK;
        for (int g = 0; coded && o && g < 3; g++) {
            const unsigned code = f[LA_GROUP_CODES].data[3 * (size_t)i + (size_t)g];
            if (code > nvals)
                return rdm_errf(err, RDM_EDB, "monitor: a log batch with malformed group codes");
            e[LA_RACE + g] = code ? vals[code - 1] : (rdm_copy_field){NULL, 0};
        }
        if (c->groups && o)
            rc = group_add(c, &r, el_float8(e[LA_THRESHOLD].data, e[LA_THRESHOLD].len, NAN),
                           &e[LA_RACE], err);
        if (rc == RDM_OK && c->ordered)
            c->held[c->nheld++] = r;
        else if (rc == RDM_OK)
            rc = pass_row(c, &r, err);
        if (rc != RDM_OK)
            return rc;
    }
    return RDM_OK;
}

static int by_served(const void *a, const void *b)
{
    const rdm_mon_row *x = a, *y = b;
    if (x->served != y->served)
        return x->served < y->served ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Ordered: the held rows in serving order (workers' batches interleave). */
static int pass_held(pred_ctx *c, rdm_err *err)
{
    size_t i = 1;
    while (i < c->nheld && by_served(&c->held[i - 1], &c->held[i]) <= 0)
        i++;
    if (i < c->nheld)
        qsort(c->held, c->nheld, sizeof *c->held, by_served);
    int rc = RDM_OK;
    for (i = 0; rc == RDM_OK && i < c->nheld; i++)
        rc = pass_row(c, &c->held[i], err);
    free(c->held);
    c->held = NULL;
    c->nheld = c->capheld = 0;
    return rc;
}

static int input_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    pred_ctx *c = ud;
    int rc = split(&c->l, line, len, 2, err);
    if (rc != RDM_OK)
        return rc;
    long long id = strtoll(c->l.f[0], NULL, 10);
    long k = imap_get(&c->rows, (int64_t)id);
    if (k < 0 || !c->l.f[1])
        return RDM_OK; /* not among the rows read in this snapshot: cannot happen */
    const char *values[RDM_NCOLS];
    if (rdm_monitor_parse_input(c->l.f[1], values) != 0)
        return rdm_errf(err, RDM_EPARSE, "monitor: prediction %lld: input is not a flat object",
                        id);
    return c->fns.input((size_t)k, values, c->ud, err);
}

int rdm_mondb_predictions(rdm_db *db, const char *model_name, long input_rows, int ordered,
                          rdm_mongroups *groups, const rdm_mondb_fns *fns, void *ud, rdm_err *err)
{
    pred_ctx c;
    memset(&c, 0, sizeof c);
    outcomes_ctx oc;
    memset(&oc, 0, sizeof oc);
    c.fns = *fns;
    c.ud = ud;
    c.ordered = ordered;
    c.groups = groups;
    char share[32];
    int rc = rdm_db_exec(db, RDM_SQL_MONITOR_BEGIN_SNAPSHOT, 0, NULL, err);
    if (rc == RDM_OK)
        rc = set_param(db, "readmit.model_name", model_name, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_out_bin(db, RDM_SQL_MONITOR_COPY_OUT_OUTCOMES, 3, outcome_row, &oc, err);
    if (rc == RDM_OK && omap_build(&c.outcomes, &oc))
        rc = rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    free(oc.enc);
    free(oc.label);
    free(oc.observed);
    if (rc == RDM_OK)
        rc = rdm_db_copy_out_bin(db, RDM_SQL_MONITOR_COPY_OUT_PREDICTIONS, LOG_FIELDS,
                                 log_batch_row, &c, err);
    if (rc == RDM_OK && ordered)
        rc = pass_held(&c, err);
    // the sample of inputs: about input_rows of the c.n predictions
    snprintf(share, sizeof share, "%.17g",
             (long)c.n > input_rows ? (double)input_rows / (double)c.n : 1.0);
    if (rc == RDM_OK && input_rows > 0 && c.n) {
        if (imap_init(&c.rows, c.n))
            rc = rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        else
            imap_put_all(&c.rows, c.ids, c.n);
        if (rc == RDM_OK)
            rc = set_param(db, "readmit.input_share", share, err);
        if (rc == RDM_OK)
            rc = rdm_db_copy_out(db, RDM_SQL_MONITOR_COPY_OUT_INPUTS, input_row, &c, err);
    }
    if (rc == RDM_OK)
        rc = rdm_db_commit(db, err);
    else
        rdm_db_rollback(db);
    table_free(c.outcomes.s, c.outcomes.s ? (c.outcomes.mask + 1) * sizeof *c.outcomes.s : 0);
    imap_release(&c.rows);
    free(c.ids);
    free(c.held);
    rdm_buf_release(&c.l.scratch);
    rdm_buf_release(&c.text);
    return rc;
}

int rdm_mondb_outcomes_from_raw(rdm_db *db, long *inserted, rdm_err *err)
{
    *inserted = 0;
    rdm_res *r = rdm_db_query(db, RDM_SQL_MONITOR_INSERT_RAW_OUTCOMES, 0, NULL, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    *inserted = (long)rdm_res_ll(r, 0, "inserted");
    int rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}

/* ---- outcomes files ---- */

typedef struct load_ctx {
    lines l;
    rdm_mondb_load *out;
    int seen;
} load_ctx;

static int load_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    load_ctx *c = ud;
    int rc = split(&c->l, line, len, 6, err);
    if (rc != RDM_OK)
        return rc;
    c->seen = 1;
    snprintf(c->out->at, sizeof c->out->at, "%s", c->l.f[0]);
    c->out->read = atol(c->l.f[1]);
    c->out->inserted = atol(c->l.f[2]);
    c->out->duplicates = atol(c->l.f[3]);
    c->out->rejected = atol(c->l.f[4]);
    c->out->unmatched = atol(c->l.f[5]);
    return RDM_OK;
}

static int counts_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    load_ctx *c = ud;
    int rc = split(&c->l, line, len, 2, err);
    if (rc != RDM_OK)
        return rc;
    c->out->inserted = atol(c->l.f[0]);
    c->out->unmatched = atol(c->l.f[1]);
    return RDM_OK;
}

static int copy_in(rdm_db *db, rdm_sql_id stmt, const rdm_buf *data, rdm_err *err)
{
    int rc = rdm_db_copy_in_begin(db, stmt, err);
    if (rc == RDM_OK && data->len)
        rc = rdm_db_copy_put(db, data->data, data->len, err);
    if (rc == RDM_OK)
        return rdm_db_copy_end(db, NULL, err);
    rdm_db_copy_end(db, "aborted", NULL);
    return rc;
}

/* Prefix every reject row with the file's sha256 (the table's first column). */
static int rejects_with_sha(const rdm_buf *in, const char *sha, rdm_buf *out)
{
    int rc = RDM_OK;
    for (size_t i = 0; rc == RDM_OK && i < in->len;) {
        const char *nl = memchr(in->data + i, '\n', in->len - i);
        size_t end = nl ? (size_t)(nl - in->data) + 1 : in->len;
        rc = rdm_buf_printf(out, "%s\t", sha);
        if (rc == RDM_OK)
            rc = rdm_buf_add(out, in->data + i, end - i);
        i = end;
    }
    return rc;
}

int rdm_mondb_store_outcomes(rdm_db *db, const char *path, const char *sha256,
                             const rdm_outcomes_parsed *p, rdm_mondb_load *out, rdm_err *err)
{
    load_ctx c;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    c.out = out;
    char source[80];
    snprintf(source, sizeof source, "file %s", sha256);
    rdm_buf rej = RDM_BUF_INIT;
    int rc = rdm_db_begin(db, err);
    if (rc == RDM_OK)
        rc = set_param(db, "readmit.sha256", sha256, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_out(db, RDM_SQL_MONITOR_COPY_LOAD, load_row, &c, err);
    if (rc == RDM_OK && c.seen) {
        out->already = 1;
        rdm_db_rollback(db);
        rdm_buf_release(&c.l.scratch);
        return RDM_OK;
    }
    out->read = p->read;
    out->rejected = p->rejected;
    if (rc == RDM_OK)
        rc = set_param(db, "readmit.source", source, err);
    if (rc == RDM_OK)
        rc = rdm_db_exec(db, RDM_SQL_MONITOR_CREATE_OUTCOME_STAGE, 0, NULL, err);
    if (rc == RDM_OK)
        rc = copy_in(db, RDM_SQL_MONITOR_COPY_OUTCOME_STAGE, &p->rows, err);
    const char *src[1] = {source};
    if (rc == RDM_OK)
        rc = rdm_db_exec(db, RDM_SQL_MONITOR_INSERT_OUTCOMES, 1, src, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_out(db, RDM_SQL_MONITOR_COPY_OUTCOME_COUNTS, counts_row, &c, err);
    if (rc == RDM_OK && rejects_with_sha(&p->rejects, sha256, &rej) != RDM_OK)
        rc = rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    if (rc == RDM_OK && rej.len)
        rc = copy_in(db, RDM_SQL_MONITOR_COPY_OUTCOME_REJECTS, &rej, err);
    out->duplicates = p->valid - out->inserted;
    char n[5][24];
    long v[5] = {out->read, out->inserted, out->duplicates, out->rejected, out->unmatched};
    for (int i = 0; i < 5; i++)
        snprintf(n[i], sizeof n[i], "%ld", v[i]);
    const char *lp[7] = {path, sha256, n[0], n[1], n[2], n[3], n[4]};
    if (rc == RDM_OK)
        rc = rdm_db_exec(db, RDM_SQL_MONITOR_INSERT_LOAD, 7, lp, err);
    if (rc == RDM_OK)
        rc = rdm_db_commit(db, err);
    if (rc != RDM_OK)
        rdm_db_rollback(db);
    rdm_buf_release(&rej);
    rdm_buf_release(&c.l.scratch);
    return rc;
}

/* ---- batch drift ---- */

typedef struct ids_ctx {
    long *v;
    size_t n, cap;
} ids_ctx;

static int id_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    ids_ctx *c = ud;
    (void)len;
    if (c->n == c->cap) {
        void *p = c->v;
        if (rdm_grow(&p, &c->cap, c->n + 1, sizeof *c->v))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        c->v = p;
    }
    c->v[c->n++] = atol(line);
    return RDM_OK;
}

typedef struct batch_ctx {
    rdm_buf scratch;
    const rdm_drift_ref *ref;
    rdm_drift_counts *dc;
} batch_ctx;

/* One raw row: batch_id, line_no, then the record of the RDM_NCOLS source
 * columns (rawrec.h). */
static int batch_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    batch_ctx *c = ud;
    char *row[4], *f[RDM_NCOLS + 1];
    size_t flen[RDM_NCOLS + 1];
    rdm_buf_reset(&c->scratch);
    if (rdm_buf_add(&c->scratch, line, len) != RDM_OK)
        return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    int n = rdm_copy_split(c->scratch.data, len, row, 4);
    if (n == 3 && row[2])
        n = rdm_rawrec_split(row[2], strlen(row[2]), f, flen, RDM_NCOLS + 1);
    if (n != RDM_NCOLS)
        return rdm_errf(err, RDM_EDB, "monitor: a raw.records row has %d columns, expected %d", n,
                        RDM_NCOLS);
    rdm_drift_counts_add(c->dc, c->ref, (const char *const *)f);
    return RDM_OK;
}

static int measure_batch(rdm_db *db, const rdm_drift_ref *ref, int snapshot, long batch,
                         double warn, double alert, rdm_err *err)
{
    rdm_drift_counts dc;
    int rc = rdm_drift_counts_init(&dc, ref, err);
    if (rc != RDM_OK)
        return rc;
    batch_ctx c;
    memset(&c, 0, sizeof c);
    c.ref = ref;
    c.dc = &dc;
    char id[24], snap[24], rows[24], max[40];
    snprintf(id, sizeof id, "%ld", batch);
    snprintf(snap, sizeof snap, "%d", snapshot);
    rc = set_param(db, "readmit.batch_id", id, err);
    if (rc == RDM_OK)
        rc = rdm_db_copy_out(db, RDM_SQL_MONITOR_COPY_BATCH_ROWS, batch_row, &c, err);
    json_t *d = rc == RDM_OK ? rdm_monitor_drift_json(ref, &dc, warn, alert) : NULL;
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    if (rc == RDM_OK && !text)
        rc = rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    if (rc == RDM_OK) {
        snprintf(rows, sizeof rows, "%llu", (unsigned long long)dc.rows);
        const json_t *mp = json_object_get(d, "max_psi");
        snprintf(max, sizeof max, "%.17g", json_number_value(mp));
        const char *p[5] = {id, snap, rows, json_is_number(mp) ? max : NULL, text};
        rc = rdm_db_exec(db, RDM_SQL_MONITOR_INSERT_BATCH_DRIFT, 5, p, err);
    }
    free(text);
    json_decref(d);
    rdm_drift_counts_release(&dc);
    rdm_buf_release(&c.scratch);
    return rc;
}

typedef struct json_rows_ctx {
    lines l;
    json_t *arr;
    int nf;
    const char *const *names;
    const char *types; /* per field: i integer, n number, s string, j json */
} json_rows_ctx;

static int json_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    json_rows_ctx *c = ud;
    int rc = split(&c->l, line, len, c->nf, err);
    if (rc != RDM_OK)
        return rc;
    json_t *o = json_object();
    for (int i = 0; o && i < c->nf; i++) {
        const char *v = c->l.f[i];
        json_t *x = !v                   ? json_null()
                    : c->types[i] == 'i' ? json_integer(strtoll(v, NULL, 10))
                    : c->types[i] == 'n' ? json_real(strtod(v, NULL))
                    : c->types[i] == 'j' ? json_loads(v, 0, NULL)
                                         : json_string(v);
        json_object_set_new(o, c->names[i], x ? x : json_null());
    }
    if (!o || json_array_append_new(c->arr, o))
        return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    return RDM_OK;
}

/* Run a COPY-out statement into a JSON array of objects. */
static int copy_json(rdm_db *db, rdm_sql_id stmt, int nf, const char *const *names,
                     const char *types, json_t **out, rdm_err *err)
{
    json_rows_ctx c;
    memset(&c, 0, sizeof c);
    c.arr = json_array();
    c.nf = nf;
    c.names = names;
    c.types = types;
    int rc = c.arr ? rdm_db_copy_out(db, stmt, json_row, &c, err)
                   : rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    rdm_buf_release(&c.l.scratch);
    if (rc != RDM_OK) {
        json_decref(c.arr);
        c.arr = NULL;
    }
    *out = c.arr;
    return rc;
}

int rdm_mondb_batch_drift(rdm_db *db, const rdm_drift_ref *ref, int snapshot, double warn,
                          double alert, json_t **out, long *measured, rdm_err *err)
{
    ids_ctx ids = {NULL, 0, 0};
    *out = NULL;
    *measured = 0;
    int rc = rdm_db_copy_out(db, RDM_SQL_MONITOR_COPY_NEW_BATCHES, id_row, &ids, err);
    for (size_t i = 0; rc == RDM_OK && i < ids.n; i++) {
        rc = measure_batch(db, ref, snapshot, ids.v[i], warn, alert, err);
        if (rc == RDM_OK)
            (*measured)++;
    }
    free(ids.v);
    static const char *const names[] = {"batch_id", "snapshot_id", "rows", "max_psi", "drift"};
    if (rc == RDM_OK)
        rc = copy_json(db, RDM_SQL_MONITOR_COPY_BATCH_DRIFT, 5, names, "iiinj", out, err);
    return rc;
}

int rdm_mondb_triggers(rdm_db *db, json_t **out, rdm_err *err)
{
    static const char *const names[] = {"key", "at", "reason"};
    return copy_json(db, RDM_SQL_MONITOR_COPY_TRIGGERS, 3, names, "sss", out, err);
}

int rdm_mondb_add_trigger(rdm_db *db, const char *key, const char *reason, rdm_err *err)
{
    const char *p[2] = {key, reason};
    return rdm_db_exec(db, RDM_SQL_MONITOR_INSERT_TRIGGER, 2, p, err);
}

int rdm_mondb_store_report(rdm_db *db, const char *model_name, long long last_prediction,
                           const json_t *doc, rdm_err *err)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    char last[24], n[24], l[24];
    snprintf(last, sizeof last, "%lld", last_prediction);
    snprintf(n, sizeof n, "%lld",
             (long long)json_integer_value(json_object_get(doc, "predictions")));
    snprintf(l, sizeof l, "%lld", (long long)json_integer_value(json_object_get(doc, "labelled")));
    const char *p[5] = {model_name, last_prediction >= 0 ? last : NULL, n, l, text};
    int rc = rdm_db_exec(db, RDM_SQL_MONITOR_INSERT_REPORT, 5, p, err);
    free(text);
    return rc;
}
