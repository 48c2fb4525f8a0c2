/* encode.c - fitted feature encoder (vocabularies, frequency ranks, scaling) and its text form. */
#include "encode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pool.h"

#define VALBUF 512

enum { K_NUM = 0, K_CAT = 1, K_RANK = 2 };

typedef struct level {
    char *s;
    int code;  /* vocabulary code (0..K-1), K = other (seen but rare); for ranks: the rank */
    int vcode; /* ranks: vocabulary code of the diagnosis for the linear one-hot */
    int chap;  /* ranks: ICD-9 chapter index (cached: scoring skips the parse) */
} level;

/* A slot of a column's level index: the level's hash and index in seen[]
 * (-1: empty), and the level itself when it is short (else ""), so that a
 * lookup usually reads one cache line. */
#define HSLOT_CHARS 24

typedef struct hslot {
    uint32_t h;
    int32_t k;
    char s[HSLOT_CHARS];
} hslot;

typedef struct enc_col {
    int col;  /* schema column */
    int kind; /* K_NUM, K_CAT, K_RANK */
    /* K_NUM and K_RANK (log rank): standardisation */
    double mean, sd;
    int has_ind; /* linear missing indicator */
    /* K_CAT: all seen levels sorted by string; vocab[0..K) by code, NULL-terminated */
    /* K_RANK: all seen codes sorted by string with their rank */
    level *seen;
    int nseen;
    int K;
    char **vocab;
    int unseen_rank;   /* K_RANK */
    int tree_j, lin_j; /* first tree feature and first linear column */
    const rdm_column *sc;
    /* K_CAT, K_RANK: open-addressing index of seen[] by level_hash, hmask +
     * 1 slots, built once the levels are known */
    struct hslot *hidx;
    uint32_t hmask;
    /* K_CAT, K_RANK, when the levels differ in their first dlen (1..4) bytes:
     * a collision-free table of seen[] by those bytes (dtab[(key * dmul) >>
     * dshift], -1: none), so that a lookup is one load and one comparison;
     * dlen 0: the hashed index only */
    int dlen, dshift;
    uint32_t dmul;
    int32_t *dtab;
} enc_col;

struct rdm_encoder {
    rdm_encoder_params params;
    int ncol;
    enc_col cols[RDM_NCOLS];
    int tree_dim;
    int ncat[RDM_ENC_MAX_TREE];
    char *tree_names[RDM_ENC_MAX_TREE];
    int lin_dim, lin_nnz;
    int nch; /* number of ICD-9 chapters */
    char **lin_names;
    double *lin_scale;
};

static int nchapters(void)
{
    int k = 0;
    while (rdm_icd9_chapters()[k])
        k++;
    return k;
}

static int chapter_index(const char *name)
{
    const char *const *ch = rdm_icd9_chapters();
    for (int i = 0; ch[i]; i++)
        if (strcmp(ch[i], name) == 0)
            return i;
    return -1;
}

/* Chapter index of a (non-missing) diagnosis code; "other" if unknown. */
static int code_chapter(const char *code)
{
    int k = chapter_index(rdm_icd9_chapter(code));
    return k >= 0 ? k : chapter_index("other");
}

void rdm_encoder_params_default(rdm_encoder_params *p)
{
    p->min_count = 20;
    p->diag_mode = RDM_DIAG_RANK_CHAPTER;
}

static int cmp_level(const void *a, const void *b)
{
    return strcmp(((const level *)a)->s, ((const level *)b)->s);
}

/* strcmp's order (bytes as unsigned char), inline: level strings are short
 * and this runs for every categorical field of every scored record. */
static inline int scmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && *x == *y) {
        x++;
        y++;
    }
    return (int)*x - (int)*y;
}

/* FNV-1a of a level string, and its length in *n: scoring hashes each value
 * once while finding its end. */
static inline uint32_t level_hash(const char *s, size_t *n)
{
    uint32_t h = 2166136261u;
    size_t k = 0;
    for (; s[k]; k++)
        h = (h ^ (unsigned char)s[k]) * 16777619u;
    *n = k;
    return h;
}

/* The level of string s (hash h, length n), or NULL when it was not seen. */
static const level *find_level(const enc_col *c, const char *s, uint32_t h, size_t n)
{
    for (uint32_t i = h & c->hmask;; i = (i + 1) & c->hmask) {
        const hslot *e = &c->hidx[i];
        if (e->k < 0)
            return NULL;
        if (e->h == h && scmp(n < HSLOT_CHARS ? e->s : c->seen[e->k].s, s) == 0)
            return &c->seen[e->k];
    }
}

/* The first len (1..4) bytes of s as a number, not reading past its NUL. */
static inline uint32_t prefix_key(const char *s, int len)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t k = u[0];
    for (int i = 1; i < len && u[i - 1]; i++)
        k |= (uint32_t)u[i] << (8 * i);
    return k;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The dispatch table of c (dlen, dmul, dshift, dtab) when some prefix of 1
 * to 4 bytes tells its levels apart and a multiplier spreads those keys
 * over a small table without collisions; else dlen stays 0. */
static int build_dispatch(enc_col *c)
{
    static const uint32_t MUL[] = {0x9E3779B1u, 0x85EBCA6Bu,      0xC2B2AE35u, 0x27D4EB2Fu,
                                   0x165667B1u, 0xD3A2646Cu | 1u, 0xFD7046C5u, 0xB55A4F09u};
    int n = c->nseen;
    if (n < 1 || n > 1024)
        return RDM_OK;
    uint32_t *keys = malloc((size_t)n * sizeof *keys);
    if (!keys)
        return RDM_ENOMEM;
    int len = 1;
    for (; len <= 4; len++) {
        for (int k = 0; k < n; k++)
            keys[k] = prefix_key(c->seen[k].s, len);
        qsort(keys, (size_t)n, sizeof *keys, cmp_u32);
        int dup = 0;
        for (int k = 1; k < n && !dup; k++)
            dup = keys[k] == keys[k - 1];
        if (!dup)
            break;
    }
    int bits = 1;
    while ((1 << bits) < 2 * n)
        bits++;
    int32_t *tab = NULL;
    for (int b = bits; len <= 4 && b <= bits + 3 && !c->dlen; b++) {
        int32_t *t = realloc(tab, ((size_t)1 << b) * sizeof *t);
        if (!t) {
            free(tab);
            free(keys);
            return RDM_ENOMEM;
        }
        tab = t;
        for (size_t m = 0; m < sizeof MUL / sizeof *MUL && !c->dlen; m++) {
            int ok = 1;
            for (size_t i = 0; i < (size_t)1 << b; i++)
                tab[i] = -1;
            for (int k = 0; k < n && ok; k++) {
                uint32_t i = (prefix_key(c->seen[k].s, len) * MUL[m]) >> (32 - b);
                ok = tab[i] < 0;
                tab[i] = k;
            }
            if (ok) {
                c->dlen = len;
                c->dmul = MUL[m];
                c->dshift = 32 - b;
                c->dtab = tab;
            }
        }
    }
    if (!c->dlen)
        free(tab);
    free(keys);
    return RDM_OK;
}

/* The index of a categorical column's levels (after fit or load). */
static int build_index(enc_col *c)
{
    uint32_t slots = 8;
    while (slots < 2u * (uint32_t)c->nseen)
        slots *= 2;
    c->hidx = calloc(slots, sizeof *c->hidx);
    if (!c->hidx)
        return RDM_ENOMEM;
    c->hmask = slots - 1;
    for (uint32_t i = 0; i < slots; i++)
        c->hidx[i].k = -1;
    for (int k = 0; k < c->nseen; k++) {
        size_t n;
        uint32_t h = level_hash(c->seen[k].s, &n), i = h & c->hmask;
        while (c->hidx[i].k >= 0)
            i = (i + 1) & c->hmask;
        c->hidx[i].h = h;
        c->hidx[i].k = k;
        if (n < HSLOT_CHARS)
            memcpy(c->hidx[i].s, c->seen[k].s, n + 1);
    }
    return build_dispatch(c);
}

void rdm_encoder_free(rdm_encoder *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->ncol; i++) {
        enc_col *c = &e->cols[i];
        for (int k = 0; k < c->nseen; k++)
            free(c->seen[k].s);
        free(c->seen);
        free(c->vocab); /* strings belong to seen[] */
        free(c->hidx);
        free(c->dtab);
    }
    for (int j = 0; j < e->tree_dim; j++)
        free(e->tree_names[j]);
    if (e->lin_names)
        for (int j = 0; j < e->lin_dim; j++)
            free(e->lin_names[j]);
    free(e->lin_names);
    free(e->lin_scale);
    free(e);
}

/* ---------------------------------------------------------------- fitting */

typedef struct hent {
    char *s;
    long count;
} hent;

typedef struct htab {
    hent *t;
    size_t cap, n;
} htab;

static int htab_add(htab *h, const char *s)
{
    if ((h->n + 1) * 2 > h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        hent *nt = calloc(ncap, sizeof *nt);
        if (!nt)
            return RDM_ENOMEM;
        for (size_t i = 0; i < h->cap; i++) {
            if (!h->t[i].s)
                continue;
            size_t k = rdm_hash_str(h->t[i].s) & (ncap - 1);
            while (nt[k].s)
                k = (k + 1) & (ncap - 1);
            nt[k] = h->t[i];
        }
        free(h->t);
        h->t = nt;
        h->cap = ncap;
    }
    size_t k = rdm_hash_str(s) & (h->cap - 1);
    while (h->t[k].s) {
        if (strcmp(h->t[k].s, s) == 0) {
            h->t[k].count++;
            return RDM_OK;
        }
        k = (k + 1) & (h->cap - 1);
    }
    h->t[k].s = strdup(s);
    if (!h->t[k].s)
        return RDM_ENOMEM;
    h->t[k].count = 1;
    h->n++;
    return RDM_OK;
}

static void htab_free(htab *h)
{
    for (size_t i = 0; i < h->cap; i++)
        free(h->t[i].s);
    free(h->t);
    h->t = NULL;
    h->cap = h->n = 0;
}

static int cmp_count_desc(const void *a, const void *b)
{
    const hent *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->s, y->s);
}

/* Normalised value into buf; returns 1 when missing. */
static int norm_value(const char *v, char buf[VALBUF])
{
    if (rdm_value_is_missing(v))
        return 1;
    rdm_value_normalize(v, buf, VALBUF);
    return rdm_value_is_missing(buf);
}

static const char *cell(const char *const *cells, const size_t *idx, size_t r, int col)
{
    size_t row = idx ? idx[r] : r;
    return cells[row * RDM_NCOLS + (size_t)col];
}

/* rdm_value_is_missing, inline: it runs for every field of every scored
 * record. */
static inline int missing(const char *v)
{
    return v == NULL || v[0] == '\0' || (v[0] == '?' && v[1] == '\0');
}

/* Normalised view of a value for scoring: *s is v itself when it needs no
 * trimming (the usual case: no copy), else buf as norm_value fills it.
 * Returns 1 when missing, like norm_value. */
static int norm_view(const char *v, char buf[VALBUF], const char **s)
{
    if (missing(v))
        return 1;
    size_t n = strlen(v);
    unsigned char a = (unsigned char)v[0], z = (unsigned char)v[n - 1];
    if (n < VALBUF && a != ' ' && a != '\t' && a != '\r' && a != '\n' && z != ' ' && z != '\t' &&
        z != '\r' && z != '\n') {
        *s = v; /* not "" or "?" (checked above), so not missing */
        return 0;
    }
    *s = buf;
    return norm_value(v, buf);
}

static int parse_int(const rdm_column *sc, const char *v, double *out, rdm_err *err)
{
    long x;
    if (rdm_parse_long(v, &x) != 0)
        return rdm_errf(err, RDM_EINVAL, "field '%s': not an integer: '%.40s'", sc->name, v);
    if (x < sc->min || x > sc->max)
        return rdm_errf(err, RDM_EINVAL, "field '%s': %ld is out of range [%ld, %ld]", sc->name, x,
                        sc->min, sc->max);
    *out = (double)x;
    return RDM_OK;
}

static char *xstrdup(const char *s)
{
    return strdup(s);
}

static char *fmt_name(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

/* Names of a one-hot block at linear column l: "name=level" for each
 * vocabulary level, then "name=<other>" and "name=<missing>". */
static void onehot_names(rdm_encoder *e, int l, const char *name, const enc_col *c)
{
    char pre[128];
    snprintf(pre, sizeof pre, "%s=", name);
    for (int k = 0; k < c->K; k++)
        e->lin_names[l + k] = fmt_name(pre, c->vocab[k]);
    e->lin_names[l + c->K] = fmt_name(pre, "<other>");
    e->lin_names[l + c->K + 1] = fmt_name(pre, "<missing>");
    for (int k = 0; k < c->K + 2; k++)
        e->lin_scale[l + k] = 1;
}

/* Build tree/linear layouts and names from the fitted columns. */
static int build_layout(rdm_encoder *e, rdm_err *err)
{
    for (int i = 0; i < e->ncol; i++)
        if (e->cols[i].kind != K_NUM && build_index(&e->cols[i]) != RDM_OK)
            return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    const rdm_column *sc = rdm_schema_columns();
    int nch = e->nch = nchapters();
    int tj = 0, lj = 0, nnz = 0;
    for (int i = 0; i < e->ncol; i++) {
        enc_col *c = &e->cols[i];
        c->tree_j = tj;
        c->lin_j = lj;
        if (c->kind == K_NUM) {
            tj += 1;
            lj += 1 + c->has_ind;
            nnz += 1 + c->has_ind;
        } else if (c->kind == K_CAT) {
            tj += 1;
            lj += c->K + 2;
            nnz += 1;
        } else {
            tj += 2;
            lj += c->K + 2 + nch + 1 + c->has_ind;
            nnz += 3 + c->has_ind;
        }
    }
    if (tj > RDM_ENC_MAX_TREE || nnz > RDM_ENC_MAX_NNZ)
        return rdm_errf(err, RDM_EINVAL, "encoder: too many features");
    e->tree_dim = tj;
    e->lin_dim = lj;
    e->lin_nnz = nnz;
    e->lin_names = calloc((size_t)lj, sizeof *e->lin_names);
    e->lin_scale = malloc((size_t)lj * sizeof *e->lin_scale);
    if (!e->lin_names || !e->lin_scale)
        return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    int ok = 1;
    for (int i = 0; i < e->ncol; i++) {
        enc_col *c = &e->cols[i];
        const char *name = sc[c->col].name;
        int t = c->tree_j, l = c->lin_j;
        if (c->kind == K_NUM) {
            e->ncat[t] = 0;
            e->tree_names[t] = xstrdup(name);
            e->lin_names[l] = xstrdup(name);
            e->lin_scale[l] = c->sd;
            if (c->has_ind) {
                e->lin_names[l + 1] = fmt_name(name, "=<missing>");
                e->lin_scale[l + 1] = 1;
            }
        } else if (c->kind == K_CAT) {
            e->ncat[t] = c->K + 1;
            e->tree_names[t] = xstrdup(name);
            onehot_names(e, l, name, c);
        } else {
            e->ncat[t] = 0;
            e->ncat[t + 1] = nch;
            e->tree_names[t] = fmt_name(name, "_rank");
            e->tree_names[t + 1] = fmt_name(name, "_group");
            onehot_names(e, l, name, c);
            l += c->K + 2;
            char pre[128];
            snprintf(pre, sizeof pre, "%s_group=", name);
            for (int k = 0; k < nch; k++) {
                e->lin_names[l + k] = fmt_name(pre, rdm_icd9_chapters()[k]);
                e->lin_scale[l + k] = 1;
            }
            e->lin_names[l + nch] = fmt_name(name, "_logrank");
            e->lin_scale[l + nch] = c->sd;
            if (c->has_ind) {
                e->lin_names[l + nch + 1] = fmt_name(name, "_logrank=<missing>");
                e->lin_scale[l + nch + 1] = 1;
            }
        }
    }
    for (int j = 0; j < e->tree_dim; j++)
        ok &= e->tree_names[j] != NULL;
    for (int j = 0; j < e->lin_dim; j++)
        ok &= e->lin_names[j] != NULL;
    if (!ok)
        return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    return RDM_OK;
}

/* Set up the feature columns (schema order) for the given diag mode. */
static void init_cols(rdm_encoder *e)
{
    const rdm_column *sc = rdm_schema_columns();
    e->ncol = 0;
    for (int c = 0; c < RDM_NCOLS; c++) {
        int kind;
        switch (sc[c].kind) {
        case RDM_COL_INT:
            kind = K_NUM;
            break;
        case RDM_COL_CODE:
        case RDM_COL_CAT:
            kind = K_CAT;
            break;
        case RDM_COL_DIAG:
            kind = e->params.diag_mode == RDM_DIAG_RAW ? K_CAT : K_RANK;
            break;
        default:
            continue;
        }
        enc_col *ec = &e->cols[e->ncol++];
        memset(ec, 0, sizeof *ec);
        ec->col = c;
        ec->kind = kind;
        ec->sd = 1;
        ec->sc = &sc[c];
    }
}

static int fit_col(rdm_encoder *e, enc_col *c, const char *const *cells, const size_t *idx,
                   size_t n, rdm_err *err)
{
    const rdm_column *sc = &rdm_schema_columns()[c->col];
    char buf[VALBUF];
    if (c->kind == K_NUM) {
        double sum = 0, sumsq = 0, cnt = 0;
        size_t miss = 0;
        for (size_t r = 0; r < n; r++) {
            const char *v = cell(cells, idx, r, c->col), *nv;
            double x;
            if (norm_view(v, buf, &nv)) {
                miss++;
                continue;
            }
            int rc = parse_int(sc, nv, &x, err);
            if (rc) {
                rdm_err_prefix(err, "training row %zu", r + 1);
                return rc;
            }
            sum += x;
            sumsq += x * x;
            cnt++;
        }
        c->mean = cnt ? sum / cnt : 0;
        double var = cnt > 0 ? sumsq / cnt - c->mean * c->mean : 0;
        c->sd = var > 1e-12 ? sqrt(var) : 1;
        c->has_ind = miss > 0;
        return RDM_OK;
    }
    htab h = {NULL, 0, 0};
    int rc = RDM_OK;
    for (size_t r = 0; r < n && rc == RDM_OK; r++) {
        const char *v = cell(cells, idx, r, c->col), *nv;
        if (!norm_view(v, buf, &nv))
            rc = htab_add(&h, nv);
    }
    if (rc) {
        htab_free(&h);
        return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    }
    /* compact + sort by count desc, string asc */
    hent *all = malloc((h.n ? h.n : 1) * sizeof *all);
    c->seen = malloc((h.n ? h.n : 1) * sizeof *c->seen);
    if (!all || !c->seen) {
        free(all);
        htab_free(&h);
        return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < h.cap; i++)
        if (h.t[i].s) {
            all[m++] = h.t[i];
            h.t[i].s = NULL; /* moved */
        }
    htab_free(&h);
    qsort(all, m, sizeof *all, cmp_count_desc);
    long minc = e->params.min_count > 0 ? e->params.min_count : 1;
    int K = 0;
    while ((size_t)K < m && all[K].count >= minc)
        K++;
    c->K = K;
    if (c->kind == K_CAT) {
        for (size_t i = 0; i < m; i++) {
            c->seen[i].s = all[i].s;
            c->seen[i].code = (int)i < K ? (int)i : K;
        }
    } else {
        // competition rank: 1 + number of codes with a strictly larger count
        double sum = 0, sumsq = 0, cnt = 0;
        for (size_t i = 0; i < m; i++) {
            int rank =
                (i > 0 && all[i].count == all[i - 1].count) ? c->seen[i - 1].code : (int)i + 1;
            c->seen[i].s = all[i].s;
            c->seen[i].code = rank;
            c->seen[i].vcode = (int)i < K ? (int)i : K;
            c->seen[i].chap = code_chapter(all[i].s);
            double lr = log((double)rank);
            sum += lr * (double)all[i].count;
            sumsq += lr * lr * (double)all[i].count;
            cnt += (double)all[i].count;
        }
        c->unseen_rank = (int)m + 1;
        c->mean = cnt ? sum / cnt : 0;
        double var = cnt ? sumsq / cnt - c->mean * c->mean : 0;
        c->sd = var > 1e-12 ? sqrt(var) : 1;
        c->has_ind = cnt < (double)n;
    }
    c->nseen = (int)m;
    free(all);
    c->vocab = calloc((size_t)c->K + 1, sizeof *c->vocab);
    if (!c->vocab)
        return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    for (int k = 0; k < c->K; k++)
        c->vocab[k] = c->seen[k].s;
    qsort(c->seen, (size_t)c->nseen, sizeof *c->seen, cmp_level);
    return RDM_OK;
}

/* One column's fit per pool item (each writes only its own column). */
typedef struct fit_job {
    rdm_encoder *e;
    const char *const *cells;
    const size_t *idx;
    size_t n;
    int *rc;
    rdm_err *err;
} fit_job;

static void fit_item(void *arg, size_t item, int tid)
{
    fit_job *j = arg;
    (void)tid;
    j->rc[item] = fit_col(j->e, &j->e->cols[item], j->cells, j->idx, j->n, &j->err[item]);
}

rdm_encoder *rdm_encoder_fit(const char *const *cells, const size_t *idx, size_t n,
                             const rdm_encoder_params *p, rdm_err *err)
{
    return rdm_encoder_fit_on(cells, idx, n, p, NULL, err);
}

rdm_encoder *rdm_encoder_fit_on(const char *const *cells, const size_t *idx, size_t n,
                                const rdm_encoder_params *p, rdm_pool *pool, rdm_err *err)
{
    rdm_encoder *e = calloc(1, sizeof *e);
    if (!e) {
        rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
        return NULL;
    }
    if (p)
        e->params = *p;
    else
        rdm_encoder_params_default(&e->params);
    if (e->params.diag_mode != RDM_DIAG_RAW)
        e->params.diag_mode = RDM_DIAG_RANK_CHAPTER;
    init_cols(e);
    fit_job j = {e,
                 cells,
                 idx,
                 n,
                 calloc((size_t)e->ncol + 1, sizeof(int)),
                 calloc((size_t)e->ncol + 1, sizeof(rdm_err))};
    if (!j.rc || !j.err) {
        free(j.rc);
        free(j.err);
        rdm_encoder_free(e);
        rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
        return NULL;
    }
    rdm_pool_for(pool, (size_t)e->ncol, fit_item, &j);
    int bad = 0; /* the first failing column, as fitting them in order finds it */
    while (bad < e->ncol && j.rc[bad] == RDM_OK)
        bad++;
    if (bad < e->ncol && err)
        *err = j.err[bad];
    free(j.rc);
    free(j.err);
    if (bad < e->ncol) {
        rdm_encoder_free(e);
        return NULL;
    }
    if (build_layout(e, err) != RDM_OK) {
        rdm_encoder_free(e);
        return NULL;
    }
    return e;
}

/* ---------------------------------------------------------------- apply */

int rdm_encoder_tree_dim(const rdm_encoder *e)
{
    return e->tree_dim;
}

const int *rdm_encoder_tree_ncat(const rdm_encoder *e)
{
    return e->ncat;
}

const char *rdm_encoder_tree_name(const rdm_encoder *e, int j)
{
    return j >= 0 && j < e->tree_dim ? e->tree_names[j] : NULL;
}

int rdm_encoder_lin_dim(const rdm_encoder *e)
{
    return e->lin_dim;
}

int rdm_encoder_lin_nnz(const rdm_encoder *e)
{
    return e->lin_nnz;
}

const char *rdm_encoder_lin_name(const rdm_encoder *e, int j)
{
    return j >= 0 && j < e->lin_dim ? e->lin_names[j] : NULL;
}

double rdm_encoder_lin_scale(const rdm_encoder *e, int j)
{
    return j >= 0 && j < e->lin_dim ? e->lin_scale[j] : NAN;
}

/* Schema column of the encoded feature j (tree or linear layout); columns are
 * laid out in order, so it is the last column starting at or before j. */
int rdm_encoder_feature_col(const rdm_encoder *e, int linear, int j)
{
    if (j < 0 || j >= (linear ? e->lin_dim : e->tree_dim))
        return -1;
    int col = -1;
    for (int i = 0; i < e->ncol && (linear ? e->cols[i].lin_j : e->cols[i].tree_j) <= j; i++)
        col = e->cols[i].col;
    return col;
}

const rdm_encoder_params *rdm_encoder_get_params(const rdm_encoder *e)
{
    return &e->params;
}

const char *const *rdm_encoder_levels(const rdm_encoder *e, int col)
{
    for (int i = 0; i < e->ncol; i++)
        if (e->cols[i].col == col)
            return e->cols[i].kind != K_NUM ? (const char *const *)e->cols[i].vocab : NULL;
    return NULL;
}

int rdm_encoder_uses(const rdm_encoder *e, int col)
{
    for (int i = 0; i < e->ncol; i++)
        if (e->cols[i].col == col)
            return 1;
    return 0;
}

static void warn(rdm_warnings *w, const char *field, const char *v)
{
    if (!w || w->n >= RDM_MAX_WARNINGS)
        return;
    snprintf(w->msg[w->n++], sizeof w->msg[0], "field '%s': unseen value '%.40s' scored as other",
             field, v);
}

/* One column's encoded view: numeric value (NaN missing), or category code (-1
 * missing), rank and chapter for diag. */
typedef struct colval {
    double x;  /* K_NUM: value; K_RANK: rank (NaN when missing) */
    int code;  /* K_CAT: code, -1 missing; K_RANK: chapter index */
    int vcode; /* K_RANK: vocabulary code, -1 missing */
} colval;

static inline int is_ws(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* An integer value written as an optional '-' and 1..18 digits (no
 * whitespace: the usual case) into *x when in range; 0 when v is anything
 * else, for the general path (norm_view, parse_int: the same value). */
static inline int plain_int(const rdm_column *sc, const char *v, double *x)
{
    if (!v)
        return 0;
    const char *p = v + (v[0] == '-');
    long a = 0;
    int k = 0;
    while (p[k] >= '0' && p[k] <= '9' && k < 18) {
        a = a * 10 + (p[k] - '0');
        k++;
    }
    if (k == 0 || p[k] != '\0')
        return 0;
    a = v[0] == '-' ? -a : a;
    if (a < sc->min || a > sc->max)
        return 0;
    *x = (double)a;
    return 1;
}

static int eval_col(const enc_col *c, const char *v, colval *out, rdm_warnings *w, rdm_err *err)
{
    const rdm_column *sc = c->sc;
    char buf[VALBUF];
    const char *s = buf;
    if (c->kind == K_NUM) {
        out->code = -1;
        if (plain_int(sc, v, &out->x))
            return RDM_OK;
        out->x = NAN;
        if (!norm_view(v, buf, &s))
            return parse_int(sc, s, &out->x, err);
        return RDM_OK;
    }
    /* norm_view's decision, with the hash computed on the way */
    int miss = missing(v);
    size_t n = 0;
    uint32_t h = 0;
    if (!miss) {
        h = level_hash(v, &n);
        if (n < VALBUF && !is_ws((unsigned char)v[0]) && !is_ws((unsigned char)v[n - 1])) {
            s = v;
        } else if (!(miss = norm_value(v, buf))) {
            h = level_hash(buf, &n);
        }
    }
    if (c->kind == K_CAT) {
        out->x = NAN;
        if (miss) {
            out->code = -1;
            return RDM_OK;
        }
        const level *l = find_level(c, s, h, n);
        if (!l) {
            warn(w, sc->name, s);
            out->code = c->K;
        } else {
            out->code = l->code;
        }
        return RDM_OK;
    }
    if (miss) {
        out->code = chapter_index("missing");
        out->x = NAN;
        out->vcode = -1;
        return RDM_OK;
    }
    const level *l = find_level(c, s, h, n);
    if (!l) {
        warn(w, sc->name, s);
        out->x = c->unseen_rank;
        out->vcode = c->K;
        out->code = code_chapter(s);
    } else {
        out->x = l->code;
        out->vcode = l->vcode;
        out->code = l->chap;
    }
    return RDM_OK;
}

/* A column's tree output from its encoded view (as rdm_encoder_tree_row). */
static inline void tree_out(const enc_col *c, const colval *cv, float *o)
{
    if (c->kind == K_NUM) {
        o[0] = (float)cv->x;
    } else if (c->kind == K_CAT) {
        o[0] = cv->code < 0 ? NAN : (float)cv->code;
    } else {
        o[0] = (float)cv->x;
        o[1] = isnan(cv->x) ? NAN : (float)cv->code;
    }
}

/* The level that is exactly s (no trimming), or NULL: the usual case of a
 * value already in its normal form. NULL sends the value to eval_col, which
 * also finds levels written with surrounding whitespace. */
static inline const level *exact_level(const enc_col *c, const char *s)
{
    if (c->dlen) {
        int32_t k = c->dtab[(prefix_key(s, c->dlen) * c->dmul) >> c->dshift];
        return k >= 0 && scmp(c->seen[k].s, s) == 0 ? &c->seen[k] : NULL;
    }
    size_t n;
    uint32_t h = level_hash(s, &n);
    return find_level(c, s, h, n);
}

/* One column over a block, rows[0..lim): the common cases inline, anything
 * else through eval_col (the row path's own code, so the same values and
 * warnings). Returns the first failing row, or lim. */
static size_t tree_block_col(const enc_col *c, const char *const *const *rows, size_t lim, size_t d,
                             float *X, rdm_warnings *w)
{
    float *o = X + c->tree_j;
    int col = c->col;
    for (size_t r = 0; r < lim; r++) {
        const char *v = rows[r][col];
        float *orow = o + r * d;
        if (r + 8 < lim) /* the value's bytes: usually a cache miss of its own */
            __builtin_prefetch(rows[r + 8][col]);
        if (c->kind == K_NUM) {
            double x;
            if (plain_int(c->sc, v, &x)) {
                orow[0] = (float)x;
                continue;
            }
        } else if (missing(v)) {
            orow[0] = NAN;
            if (c->kind == K_RANK)
                orow[1] = NAN;
            continue;
        } else {
            const level *l = exact_level(c, v);
            if (l) {
                orow[0] = (float)l->code;
                if (c->kind == K_RANK)
                    orow[1] = (float)l->chap;
                continue;
            }
        }
        colval cv;
        if (eval_col(c, v, &cv, w ? &w[r] : NULL, NULL) != RDM_OK)
            return r;
        tree_out(c, &cv, orow);
    }
    return lim;
}

int rdm_encoder_tree_block(const rdm_encoder *e, const char *const *const *rows, size_t n, float *X,
                           rdm_warnings *w, size_t *nok, rdm_err *err)
{
    size_t d = (size_t)e->tree_dim, lim = n;
    for (size_t r = 0; w && r < n; r++)
        w[r].n = 0;
    /* column by column: one column's levels and branches stay hot; rows from
     * the first failing one on are not needed */
    for (int i = 0; i < e->ncol && lim > 0; i++)
        lim = tree_block_col(&e->cols[i], rows, lim, d, X, w);
    *nok = lim;
    if (lim == n)
        return RDM_OK;
    /* the failing row once more through the row path, for its message */
    if (w)
        w[lim].n = 0;
    int rc = rdm_encoder_tree_row(e, rows[lim], X + lim * d, w ? &w[lim] : NULL, err);
    return rc ? rc : rdm_errf(err, RDM_EINVAL, "encoder: block and row disagree");
}

int rdm_encoder_tree_row(const rdm_encoder *e, const char *const values[RDM_NCOLS], float *out,
                         rdm_warnings *w, rdm_err *err)
{
    for (int i = 0; i < e->ncol; i++) {
        const enc_col *c = &e->cols[i];
        colval cv;
        int rc = eval_col(c, values[c->col], &cv, w, err);
        if (rc)
            return rc;
        tree_out(c, &cv, out + c->tree_j);
    }
    return RDM_OK;
}

int rdm_encoder_lin_row(const rdm_encoder *e, const char *const values[RDM_NCOLS], int32_t *idx,
                        float *val, rdm_warnings *w, rdm_err *err)
{
    int k = 0, nch = e->nch;
    for (int i = 0; i < e->ncol; i++) {
        const enc_col *c = &e->cols[i];
        colval cv;
        int rc = eval_col(c, values[c->col], &cv, w, err);
        if (rc)
            return rc;
        int l = c->lin_j;
        if (c->kind == K_NUM) {
            idx[k] = l;
            val[k++] = isnan(cv.x) ? 0.0f : (float)((cv.x - c->mean) / c->sd);
            if (c->has_ind) {
                idx[k] = l + 1;
                val[k++] = isnan(cv.x) ? 1.0f : 0.0f;
            }
        } else if (c->kind == K_CAT) {
            idx[k] = l + (cv.code < 0 ? c->K + 1 : cv.code);
            val[k++] = 1.0f;
        } else {
            idx[k] = l + (cv.vcode < 0 ? c->K + 1 : cv.vcode);
            val[k++] = 1.0f;
            l += c->K + 2;
            idx[k] = l + cv.code;
            val[k++] = 1.0f;
            idx[k] = l + nch;
            val[k++] = isnan(cv.x) ? 0.0f : (float)((log(cv.x) - c->mean) / c->sd);
            if (c->has_ind) {
                idx[k] = l + nch + 1;
                val[k++] = isnan(cv.x) ? 1.0f : 0.0f;
            }
        }
    }
    return RDM_OK;
}

int rdm_encoder_tree_matrix(const rdm_encoder *e, const char *const *cells, const size_t *idx,
                            size_t n, float *X, rdm_err *err)
{
    for (size_t r = 0; r < n; r++) {
        size_t row = idx ? idx[r] : r;
        int rc = rdm_encoder_tree_row(e, cells + row * RDM_NCOLS, X + r * (size_t)e->tree_dim, NULL,
                                      err);
        if (rc) {
            rdm_err_prefix(err, "row %zu", r + 1);
            return rc;
        }
    }
    return RDM_OK;
}

int rdm_encoder_lin_matrix(const rdm_encoder *e, const char *const *cells, const size_t *idx,
                           size_t n, int32_t *cols, float *val, rdm_err *err)
{
    size_t nnz = (size_t)e->lin_nnz;
    for (size_t r = 0; r < n; r++) {
        size_t row = idx ? idx[r] : r;
        int rc = rdm_encoder_lin_row(e, cells + row * RDM_NCOLS, cols + r * nnz, val + r * nnz,
                                     NULL, err);
        if (rc) {
            rdm_err_prefix(err, "row %zu", r + 1);
            return rc;
        }
    }
    return RDM_OK;
}

/* ---------------------------------------------------------------- save / load */

static const char *kind_name(int k)
{
    return k == K_NUM ? "num" : k == K_CAT ? "cat" : "rank";
}

int rdm_encoder_save(const rdm_encoder *e, rdm_buf *out, rdm_err *err)
{
    const rdm_column *sc = rdm_schema_columns();
    int rc = rdm_buf_printf(out, "encoder %d %ld %d\n", e->ncol, e->params.min_count,
                            e->params.diag_mode);
    for (int i = 0; i < e->ncol && !rc; i++) {
        const enc_col *c = &e->cols[i];
        rc = rdm_buf_printf(out, "%s %s", kind_name(c->kind), sc[c->col].name);
        if (rc)
            break;
        if (c->kind == K_NUM)
            rc = rdm_buf_printf(out, " %.17g %.17g %d\n", c->mean, c->sd, c->has_ind);
        else if (c->kind == K_CAT)
            rc = rdm_buf_printf(out, " %d %d\n", c->K, c->nseen);
        else
            rc = rdm_buf_printf(out, " %d %.17g %.17g %d %d %d\n", c->unseen_rank, c->mean, c->sd,
                                c->has_ind, c->K, c->nseen);
        for (int k = 0; k < c->nseen && !rc; k++) {
            rc = rdm_text_put(out, c->seen[k].s);
            if (!rc)
                rc = rdm_buf_printf(out, " %d", c->seen[k].code);
            if (!rc && c->kind == K_RANK)
                rc = rdm_buf_printf(out, " %d", c->seen[k].vcode);
            if (!rc)
                rc = rdm_buf_addc(out, '\n');
        }
    }
    if (!rc)
        rc = rdm_buf_adds(out, "end encoder\n");
    if (rc)
        return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    return RDM_OK;
}

static int load_col(rdm_text *t, rdm_encoder *e, enc_col *c, rdm_err *err)
{
    const rdm_column *sc = &rdm_schema_columns()[c->col];
    char buf[VALBUF];
    long v;
    int rc = rdm_text_expect(t, kind_name(c->kind), err);
    if (!rc)
        rc = rdm_text_expect(t, sc->name, err);
    if (rc)
        return rc;
    long nseen = 0;
    if (c->kind == K_NUM) {
        if ((rc = rdm_text_double(t, &c->mean, "mean", err)) ||
            (rc = rdm_text_double(t, &c->sd, "sd", err)) ||
            (rc = rdm_text_long(t, &v, 0, 1, "indicator", err)))
            return rc;
        c->has_ind = (int)v;
        if (!isfinite(c->mean) || !(c->sd > 0) || !isfinite(c->sd))
            return rdm_errf(err, RDM_EPARSE, "line %d: bad mean/sd", t->line);
        return rdm_text_eol(t, err);
    }
    long maxseen = (long)(t->end - t->p) / 3 + 1;
    if (c->kind == K_CAT) {
        long K;
        if ((rc = rdm_text_long(t, &K, 0, maxseen, "vocabulary size", err)) ||
            (rc = rdm_text_long(t, &nseen, K, maxseen, "level count", err)))
            return rc;
        c->K = (int)K;
    } else {
        if ((rc = rdm_text_long(t, &v, 1, maxseen + 1, "unseen rank", err)) ||
            (rc = rdm_text_double(t, &c->mean, "mean", err)) ||
            (rc = rdm_text_double(t, &c->sd, "sd", err)))
            return rc;
        c->unseen_rank = (int)v;
        long K;
        if ((rc = rdm_text_long(t, &v, 0, 1, "indicator", err)) ||
            (rc = rdm_text_long(t, &K, 0, maxseen, "vocabulary size", err)) ||
            (rc = rdm_text_long(t, &nseen, K, maxseen, "code count", err)))
            return rc;
        c->has_ind = (int)v;
        c->K = (int)K;
        if (!isfinite(c->mean) || !(c->sd > 0) || !isfinite(c->sd))
            return rdm_errf(err, RDM_EPARSE, "line %d: bad mean/sd", t->line);
    }
    if ((rc = rdm_text_eol(t, err)))
        return rc;
    c->seen = calloc((size_t)nseen + 1, sizeof *c->seen);
    c->vocab = calloc((size_t)c->K + 1, sizeof *c->vocab);
    if (!c->seen || !c->vocab)
        return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
    for (long k = 0; k < nseen; k++) {
        if ((rc = rdm_text_word(t, buf, sizeof buf, "level", err)))
            return rc;
        if (rdm_value_is_missing(buf))
            return rdm_errf(err, RDM_EPARSE, "line %d: empty level", t->line);
        c->seen[k].s = strdup(buf);
        if (!c->seen[k].s)
            return rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
        c->nseen = (int)k + 1;
        if (k > 0 && strcmp(c->seen[k - 1].s, buf) >= 0)
            return rdm_errf(err, RDM_EPARSE, "line %d: levels not sorted", t->line);
        long vc;
        if (c->kind == K_CAT) {
            if ((rc = rdm_text_long(t, &vc, 0, c->K, "code", err)))
                return rc;
            v = vc;
        } else if ((rc = rdm_text_long(t, &v, 1, c->unseen_rank - 1, "rank", err)) ||
                   (rc = rdm_text_long(t, &vc, 0, c->K, "code", err))) {
            return rc;
        }
        if (vc < c->K) {
            if (c->vocab[vc])
                return rdm_errf(err, RDM_EPARSE, "line %d: duplicate code %ld", t->line, vc);
            c->vocab[vc] = c->seen[k].s;
        }
        c->seen[k].code = (int)v;
        c->seen[k].vcode = (int)vc;
        c->seen[k].chap = c->kind == K_RANK ? code_chapter(c->seen[k].s) : 0;
        if ((rc = rdm_text_eol(t, err)))
            return rc;
    }
    for (int k = 0; k < c->K; k++)
        if (!c->vocab[k])
            return rdm_errf(err, RDM_EPARSE, "line %d: column '%s': code %d has no level", t->line,
                            sc->name, k);
    (void)e;
    return RDM_OK;
}

rdm_encoder *rdm_encoder_load(const char *text, size_t n, size_t *used, rdm_err *err)
{
    rdm_text t = {text, text + n, 1};
    long ncol, minc, mode;
    rdm_encoder *e = calloc(1, sizeof *e);
    if (!e) {
        rdm_errf(err, RDM_ENOMEM, "encoder: out of memory");
        return NULL;
    }
    int rc = rdm_text_expect(&t, "encoder", err);
    if (!rc)
        rc = rdm_text_long(&t, &ncol, 0, RDM_NCOLS, "column count", err);
    if (!rc)
        rc = rdm_text_long(&t, &minc, 0, 1L << 40, "min_count", err);
    if (!rc)
        rc = rdm_text_long(&t, &mode, 0, 1, "diag mode", err);
    if (!rc)
        rc = rdm_text_eol(&t, err);
    if (rc)
        goto fail;
    e->params.min_count = minc;
    e->params.diag_mode = (int)mode;
    init_cols(e);
    if (ncol != e->ncol) {
        rc = rdm_errf(err, RDM_EPARSE, "line %d: encoder has %ld columns, this schema %d", t.line,
                      ncol, e->ncol);
        goto fail;
    }
    for (int i = 0; i < e->ncol; i++)
        if ((rc = load_col(&t, e, &e->cols[i], err)))
            goto fail;
    if ((rc = rdm_text_expect(&t, "end", err)) || (rc = rdm_text_expect(&t, "encoder", err)) ||
        (rc = rdm_text_eol(&t, err)))
        goto fail;
    if ((rc = build_layout(e, err)))
        goto fail;
    if (used)
        *used = (size_t)(t.p - text);
    return e;
fail:
    rdm_err_prefix(err, "encoder");
    rdm_encoder_free(e);
    return NULL;
}
