/* profile.c - per-column statistics of the clean snapshot, as JSON (jansson). */
#include "profile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "schema.h"

enum { K_CAT, K_NUM, K_ID };

/* A value and its counts: text s[0..len), or the integer k when s is NULL
 * (the values of integer columns, written as their decimal text). */
typedef struct vent {
    char *s;
    size_t len;
    long k;
    long count, pos;
} vent;

/* Value -> counts, open addressing over indexes into `e`. */
typedef struct vmap {
    vent *e;
    size_t n, cap;
    uint32_t *slot; /* index + 1, 0 = empty */
    size_t nslot;
    size_t last; /* index + 1 of the entry last added to (0 = none): columns
                    mostly repeat one value */
} vmap;

/* Values 0..SMALL_INTS-1 of an integer column counted by number: in an
 * array indexed by the value (codes, counts and durations: nearly all of
 * them), not in the map. */
#define SMALL_INTS 256

typedef struct pcol {
    const char *name;
    int kind;
    int intval; /* an integer column (INT or CODE): values counted by number */
    long missing;
    vmap map;    /* K_CAT, K_NUM */
    long *small; /* intval: rows of each small value, then their positives (NULL: none yet) */
    long *nums;  /* K_NUM, K_ID */
    size_t nn, capn;
} pcol;

typedef struct pbatch {
    long id, rows, pos;
} pbatch;

#define NPCOLS (RDM_NCOLS + 4)

struct rdm_profile {
    pcol col[NPCOLS]; /* schema columns, then diag_1_group..3, target */
    long rows, pos;
    pbatch *b;
    size_t nb, capb;
};

static const char *const DERIVED[] = {"diag_1_group", "diag_2_group", "diag_3_group", "target"};

rdm_profile *rdm_profile_new(void)
{
    rdm_profile *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    const rdm_column *cols = rdm_schema_columns();
    for (int i = 0; i < RDM_NCOLS; i++) {
        p->col[i].name = cols[i].name;
        p->col[i].kind = cols[i].kind == RDM_COL_ID    ? K_ID
                         : cols[i].kind == RDM_COL_INT ? K_NUM
                                                       : K_CAT;
        p->col[i].intval = cols[i].kind == RDM_COL_INT || cols[i].kind == RDM_COL_CODE;
    }
    for (int i = 0; i < 4; i++) {
        p->col[RDM_NCOLS + i].name = DERIVED[i];
        p->col[RDM_NCOLS + i].kind = K_CAT;
    }
    return p;
}

void rdm_profile_free(rdm_profile *p)
{
    if (!p)
        return;
    for (int i = 0; i < NPCOLS; i++) {
        pcol *c = &p->col[i];
        for (size_t j = 0; j < c->map.n; j++)
            free(c->map.e[j].s);
        free(c->map.e);
        free(c->map.slot);
        free(c->small);
        free(c->nums);
    }
    free(p->b);
    free(p);
}

static size_t vent_hash(const vent *e)
{
    return e->s ? (size_t)rdm_hash_n(e->s, e->len) : (size_t)rdm_hash_u64((uint64_t)e->k);
}

static int vmap_rehash(vmap *m)
{
    size_t ns = m->nslot ? m->nslot * 2 : 64;
    uint32_t *sl = calloc(ns, sizeof *sl);
    if (!sl)
        return RDM_ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = vent_hash(&m->e[i]) & (ns - 1);
        while (sl[j])
            j = (j + 1) & (ns - 1);
        sl[j] = (uint32_t)(i + 1);
    }
    free(m->slot);
    m->slot = sl;
    m->nslot = ns;
    return RDM_OK;
}

static inline int same(const vent *e, const vent *v)
{
    if (!e->s || !v->s)
        return !e->s && !v->s && e->k == v->k;
    return e->len == v->len && rdm_eq_n(e->s, v->s, v->len);
}

/* Count the value `v` (its text borrowed: copied when it is new). */
static int vmap_add(vmap *m, const vent *v, int positive)
{
    vent *e = m->last ? &m->e[m->last - 1] : NULL;
    if (!e || !same(e, v)) {
        if ((m->n + 1) * 2 > m->nslot && vmap_rehash(m))
            return RDM_ENOMEM;
        size_t j = vent_hash(v) & (m->nslot - 1);
        while (m->slot[j] && !same(&m->e[m->slot[j] - 1], v))
            j = (j + 1) & (m->nslot - 1);
        if (!m->slot[j]) {
            void *ev = m->e;
            if (rdm_grow(&ev, &m->cap, m->n + 1, sizeof *m->e))
                return RDM_ENOMEM;
            m->e = ev;
            char *c = NULL;
            if (v->s && !(c = malloc(v->len + 1)))
                return RDM_ENOMEM;
            if (c) {
                memcpy(c, v->s, v->len);
                c[v->len] = '\0';
            }
            m->e[m->n++] = (vent){c, v->len, v->k, 0, 0};
            m->slot[j] = (uint32_t)m->n;
        }
        m->last = m->slot[j];
        e = &m->e[m->last - 1];
    }
    e->count++;
    e->pos += positive;
    return RDM_OK;
}

static int nums_add(pcol *c, long v)
{
    if (c->nn == c->capn) {
        void *p = c->nums;
        if (rdm_grow(&p, &c->capn, c->nn + 1, sizeof *c->nums))
            return RDM_ENOMEM;
        c->nums = p;
    }
    c->nums[c->nn++] = v;
    return RDM_OK;
}

/* Count the small value x of an integer column (0 <= x < SMALL_INTS). */
static int small_add(pcol *c, long x, int positive)
{
    if (!c->small && !(c->small = calloc(2 * SMALL_INTS, sizeof *c->small)))
        return RDM_ENOMEM;
    c->small[x]++;
    c->small[SMALL_INTS + x] += positive;
    return RDM_OK;
}

static int batch_add(rdm_profile *p, long id, int positive)
{
    for (size_t i = p->nb; i-- > 0;)
        if (p->b[i].id == id) {
            p->b[i].rows++;
            p->b[i].pos += positive;
            return RDM_OK;
        }
    void *b = p->b;
    if (rdm_grow(&b, &p->capb, p->nb + 1, sizeof *p->b))
        return RDM_ENOMEM;
    p->b = b;
    p->b[p->nb++] = (pbatch){id, 1, positive};
    return RDM_OK;
}

/* Add one row: the text values `f` (profile field order; `len` their
 * lengths, or NULL) and, when `num` is not NULL, the numbers of the integer
 * columns (num[i] for f[i] present, f[i] then not read) and the batch id.
 * An integer column's value is counted by number when it is given as one or
 * as its canonical decimal text, by text otherwise (the text it had). */
static int add_row(rdm_profile *p, const char *const *f, const size_t *len, const long *num,
                   long bid, rdm_err *err)
{
    const char *t = f[RDM_PROFILE_F_TARGET];
    int positive = t && t[0] == '1' && t[1] == '\0';
    p->rows++;
    p->pos += positive;
    if (!num && f[RDM_PROFILE_F_BATCH] && rdm_parse_long(f[RDM_PROFILE_F_BATCH], &bid))
        return rdm_errf(err, RDM_EINVAL, "profile: bad batch_id '%s'", f[RDM_PROFILE_F_BATCH]);
    if (batch_add(p, bid, positive))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    for (int i = 0; i < NPCOLS; i++) {
        int fi = i < RDM_NCOLS ? i : i + 1; /* skip batch_id */
        const char *v = f[fi];
        pcol *c = &p->col[i];
        if (v == NULL) {
            c->missing++;
            continue;
        }
        long x = 0;
        int by_num = 0;
        if (c->kind != K_CAT || c->intval) {
            if (num) {
                x = num[i];
                by_num = 1;
            } else if (rdm_parse_long(v, &x) == 0) {
                char d[24];
                rdm_fmt_long(x, d);
                by_num = strcmp(d, v) == 0;
            } else if (c->kind != K_CAT) {
                return rdm_errf(err, RDM_EINVAL, "profile: column %s: '%s' is not an integer",
                                c->name, v);
            }
            if (c->kind != K_CAT && nums_add(c, x))
                return rdm_errf(err, RDM_ENOMEM, "out of memory");
        }
        if (c->kind == K_ID)
            continue;
        if (by_num && c->intval && x >= 0 && x < SMALL_INTS) {
            if (small_add(c, x, positive))
                return rdm_errf(err, RDM_ENOMEM, "out of memory");
            continue;
        }
        vent key = {NULL, 0, x, 0, 0};
        if (!by_num || !c->intval) {
            key.s = (char *)v;
            key.len = len ? len[fi] : strlen(v);
        }
        if (vmap_add(&c->map, &key, positive))
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    return RDM_OK;
}

int rdm_profile_add(rdm_profile *p, const char *const *f, rdm_err *err)
{
    return add_row(p, f, NULL, NULL, 0, err);
}

int rdm_profile_add_typed(rdm_profile *p, const char *const *f, const size_t *len, const long *num,
                          long batch_id, rdm_err *err)
{
    return add_row(p, f, len, num, batch_id, err);
}

/* Sort `a` ascending: least significant byte first, passes over bytes that
 * are the same in every value skipped (counts and ids need two to four). */
static int sort_longs(long *a, size_t n)
{
    if (n < 2)
        return RDM_OK;
    long *tmp = malloc(sizeof *tmp * n);
    if (!tmp)
        return RDM_ENOMEM;
    uint64_t all_and = ~(uint64_t)0, all_or = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = (uint64_t)a[i] ^ ((uint64_t)1 << 63); /* signed order */
        all_and &= k;
        all_or |= k;
    }
    long *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        if ((((all_and ^ all_or) >> shift) & 0xff) == 0)
            continue; /* this byte is the same everywhere */
        size_t cnt[257] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[((((uint64_t)src[i] ^ ((uint64_t)1 << 63)) >> shift) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++)
            cnt[b + 1] += cnt[b];
        for (size_t i = 0; i < n; i++)
            dst[cnt[(((uint64_t)src[i] ^ ((uint64_t)1 << 63)) >> shift) & 0xff]++] = src[i];
        long *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, sizeof *a * n);
    free(tmp);
    return RDM_OK;
}

static int cmp_vent_ptr(const void *a, const void *b)
{
    const vent *x = *(const vent *const *)a, *y = *(const vent *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->s, y->s);
}

static int cmp_batch(const void *a, const void *b)
{
    const pbatch *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* json_object_set_new that remembers a failure in *bad. */
static void put(json_t *o, const char *k, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, k, v))
        *bad = 1;
}

static void push(json_t *a, json_t *v, int *bad)
{
    if (!v || json_array_append_new(a, v))
        *bad = 1;
}

static int numeric_stats(const pcol *c, json_t *o)
{
    int bad = 0;
    size_t n = c->nn;
    long *s = malloc(sizeof *s * (n ? n : 1));
    if (!s)
        return RDM_ENOMEM;
    memcpy(s, c->nums, sizeof *s * n);
    if (sort_longs(s, n)) {
        free(s);
        return RDM_ENOMEM;
    }
    if (c->kind == K_ID) {
        size_t d = n ? 1 : 0;
        for (size_t i = 1; i < n; i++)
            d += s[i] != s[i - 1];
        put(o, "distinct", json_integer((json_int_t)d), &bad);
    }
    if (n == 0 || c->kind == K_ID) {
        if (n) {
            put(o, "min", json_integer(s[0]), &bad);
            put(o, "max", json_integer(s[n - 1]), &bad);
        }
        free(s);
        return bad ? RDM_ENOMEM : RDM_OK;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)s[i];
    long lo = s[0], hi = s[n - 1];
    put(o, "min", json_integer(lo), &bad);
    put(o, "max", json_integer(hi), &bad);
    put(o, "mean", json_real(sum / (double)n), &bad);
    json_t *q = json_object();
    static const int QS[] = {5, 25, 50, 75, 95};
    for (int i = 0; i < 5 && q; i++) {
        size_t rank = (size_t)ceil((double)QS[i] / 100.0 * (double)n);
        if (rank < 1)
            rank = 1;
        char k[8];
        snprintf(k, sizeof k, "p%d", QS[i]);
        put(q, k, json_integer(s[rank - 1]), &bad);
    }
    put(o, "quantiles", q, &bad);

    json_t *h = json_object(), *edges = json_array(), *counts = json_array();
    long span = hi - lo + 1;
    int k = span <= 20 ? (int)span : 20;
    long cnt[20] = {0};
    double width = span <= 20 ? 1.0 : (double)(hi - lo) / 20.0;
    for (size_t i = 0; i < n; i++) {
        int b = (int)((double)(s[i] - lo) / width);
        if (b >= k)
            b = k - 1;
        cnt[b]++;
    }
    for (int i = 0; i <= k && edges; i++) {
        if (span <= 20)
            push(edges, json_integer(lo + i), &bad);
        else
            push(edges, json_real(i == k ? (double)hi : (double)lo + i * width), &bad);
    }
    for (int i = 0; i < k && counts; i++)
        push(counts, json_integer(cnt[i]), &bad);
    if (h) {
        put(h, "edges", edges, &bad);
        put(h, "counts", counts, &bad);
    } else {
        json_decref(edges);
        json_decref(counts);
    }
    put(o, "histogram", h, &bad);
    free(s);
    return bad ? RDM_ENOMEM : RDM_OK;
}

static json_t *column_json(const pcol *c, long rows, int *bad)
{
    static const char *const KIND[] = {"categorical", "numeric", "id"};
    json_t *o = json_object();
    if (!o) {
        *bad = 1;
        return NULL;
    }
    put(o, "name", json_string(c->name), bad);
    put(o, "kind", json_string(KIND[c->kind]), bad);
    put(o, "missing", json_integer(c->missing), bad);
    put(o, "missing_rate", json_real(rows ? (double)c->missing / (double)rows : 0.0), bad);
    if (c->kind != K_ID) {
        /* the map's values, then the small integers counted apart; integer
         * values as their decimal text */
        size_t n = c->map.n;
        for (int x = 0; c->small && x < SMALL_INTS; x++)
            n += c->small[x] > 0;
        put(o, "distinct", json_integer((json_int_t)n), bad);
        const vent **sorted = malloc(sizeof *sorted * (n ? n : 1));
        vent *ie = malloc(sizeof *ie * (n ? n : 1));
        char *digits = malloc(24 * (n ? n : 1));
        json_t *top = json_array();
        if (!sorted || !ie || !digits || !top) {
            *bad = 1;
        } else {
            size_t k = 0;
            for (; k < c->map.n; k++) {
                sorted[k] = &c->map.e[k];
                if (!c->map.e[k].s) {
                    ie[k] = c->map.e[k];
                    ie[k].s = digits + 24 * k;
                    ie[k].len = rdm_fmt_long(ie[k].k, ie[k].s);
                    sorted[k] = &ie[k];
                }
            }
            for (int x = 0; c->small && x < SMALL_INTS; x++) {
                if (!c->small[x])
                    continue;
                ie[k] = (vent){digits + 24 * k, 0, x, c->small[x], c->small[SMALL_INTS + x]};
                ie[k].len = rdm_fmt_long(x, ie[k].s);
                sorted[k] = &ie[k];
                k++;
            }
            qsort(sorted, n, sizeof *sorted, cmp_vent_ptr);
            for (size_t i = 0; i < n && i < 10; i++) {
                json_t *t = json_object();
                if (!t) {
                    *bad = 1;
                    break;
                }
                put(t, "value", json_string(sorted[i]->s), bad);
                put(t, "count", json_integer(sorted[i]->count), bad);
                put(t, "target_rate", json_real((double)sorted[i]->pos / (double)sorted[i]->count),
                    bad);
                push(top, t, bad);
            }
        }
        free(sorted);
        free(ie);
        free(digits);
        put(o, "top", top, bad);
    }
    if (c->kind != K_CAT && numeric_stats(c, o))
        *bad = 1;
    return o;
}

json_t *rdm_profile_json(const rdm_profile *p, rdm_err *err)
{
    int bad = 0;
    json_t *o = json_object();
    if (!o)
        goto oom;
    put(o, "rows", json_integer(p->rows), &bad);
    put(o, "positives", json_integer(p->pos), &bad);
    json_t *cb = json_object();
    if (cb) {
        put(cb, "negative", json_integer(p->rows - p->pos), &bad);
        put(cb, "positive", json_integer(p->pos), &bad);
        put(cb, "positive_rate", json_real(p->rows ? (double)p->pos / (double)p->rows : 0.0), &bad);
    }
    put(o, "class_balance", cb, &bad);
    pbatch *bs = malloc(sizeof *bs * (p->nb ? p->nb : 1));
    json_t *ba = json_array();
    if (bs && ba) {
        memcpy(bs, p->b, sizeof *bs * p->nb);
        qsort(bs, p->nb, sizeof *bs, cmp_batch);
        for (size_t i = 0; i < p->nb; i++) {
            json_t *b = json_object();
            if (b) {
                put(b, "batch_id", json_integer(bs[i].id), &bad);
                put(b, "rows", json_integer(bs[i].rows), &bad);
                put(b, "positives", json_integer(bs[i].pos), &bad);
            }
            push(ba, b, &bad);
        }
    }
    free(bs);
    put(o, "batches", ba, &bad);
    json_t *cols = json_array();
    for (int i = 0; i < NPCOLS && cols; i++)
        push(cols, column_json(&p->col[i], p->rows, &bad), &bad);
    put(o, "columns", cols, &bad);
    if (!bad)
        return o;
oom:
    json_decref(o);
    rdm_errf(err, RDM_ENOMEM, "profile: out of memory");
    return NULL;
}

typedef struct pctx {
    rdm_profile *p;
    rdm_buf line;
} pctx;

static int on_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    pctx *c = ud;
    rdm_buf_reset(&c->line);
    if (rdm_buf_add(&c->line, line, len))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    char *f[RDM_PROFILE_NFIELDS];
    int nf = rdm_copy_split(c->line.data, c->line.len, f, RDM_PROFILE_NFIELDS);
    if (nf != RDM_PROFILE_NFIELDS)
        return rdm_errf(err, RDM_EDB, "profile: unexpected row from clean.encounters (%d fields)",
                        nf);
    return rdm_profile_add(c->p, (const char *const *)f, err);
}

int rdm_profile_save(rdm_db *db, int snapshot_id, const rdm_profile *p, rdm_err *err)
{
    json_t *j = rdm_profile_json(p, err);
    if (!j)
        return RDM_ENOMEM;
    int rc = rdm_profile_save_json(db, snapshot_id, j, err);
    json_decref(j);
    return rc;
}

int rdm_profile_save_json(rdm_db *db, int snapshot_id, json_t *j, rdm_err *err)
{
    int rc = RDM_OK;
    char *text = NULL;
    json_object_set_new(j, "snapshot_id", json_integer(snapshot_id));
    if (!(text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    } else {
        char sid[16];
        snprintf(sid, sizeof sid, "%d", snapshot_id);
        const char *prm[] = {sid, text};
        rc = rdm_db_exec(db, RDM_SQL_CLEAN_INSERT_PROFILE, 2, prm, err);
    }
    free(text);
    return rc;
}

int rdm_profile_store(rdm_db *db, int snapshot_id, rdm_err *err)
{
    pctx c = {rdm_profile_new(), RDM_BUF_INIT};
    if (!c.p)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    int rc = rdm_db_copy_out(db, RDM_SQL_CLEAN_COPY_PROFILE, on_row, &c, err);
    rdm_buf_release(&c.line);
    if (rc == RDM_OK)
        rc = rdm_profile_save(db, snapshot_id, c.p, err);
    rdm_profile_free(c.p);
    return rc;
}
