/* gbt.c - histogram gradient-boosted trees for binary log loss: quantile
 * binning, leaf-wise growth with histogram subtraction, native categorical
 * splits, learned missing direction, pthreads, text form.
 *
 * Fitting: bins are stored sparsely, one list per row of the (feature, bin)
 * pairs that differ from the feature's most frequent bin; a histogram sums
 * those and recovers the most frequent bin from the node total. Gradients
 * and hessians are fixed-point integers, so histogram sums are exact and do
 * not depend on how rows are divided between threads: the model is the same
 * for every thread count. Scoring: a compact copy of each tree (16-byte nodes,
 * children adjacent) is built at fit and load time; the full nodes are kept
 * for the text form and importance. */
#include "gbt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pool.h"
#include "rng.h"

#define GBT_FORMAT   1
#define MAX_CODES    255     /* categories per categorical feature (codes 0..254) */
#define MAX_FEATURES 1000000 /* as the text form accepts; < 2^24 (compact node) */
#define CHUNK                                                                                    \
    8192                   /* rows per chunk in loss reductions: fixed, so sums do not depend on \
                              threads */
#define EDGE_SAMPLE 200000 /* rows used to compute the quantile bin edges */
#define CAT_SMOOTH  50.0   /* hessian added to each category when ordering categories */
#define MIN_GAIN    1e-10
#define PAR_HIST    8192  /* rows from which a histogram is built by all threads */
#define PAR_SPLIT   16384 /* rows from which a partition uses all threads */

/* ---- model
 * ----------------------------------------------------------------------------
 */

typedef struct gnode {
    int feat; /* -1 = leaf */
    int left; /* absolute node index */
    int right;
    int cat;      /* word offset of the left-category bitset in m->cats; -1 = numeric
                     split */
    float thr;    /* numeric: x <= thr goes left */
    int dleft;    /* missing (and unknown categories) go left */
    double value; /* leaf value (learning rate applied) */
    double gain;  /* split gain (internal nodes) */
} gnode;

/* Compact scoring node (16 bytes). thr is the numeric threshold (categorical:
 * the number of categories), `info` holds the feature (low 24 bits), CN_DLEFT
 * and CN_CAT; the children are left and left + 1. For a categorical split cat
 * is the left-category bitset itself when there are at most 32 categories,
 * else (CN_WIDE) the word offset of the bitset in m->cats. A leaf is a numeric node on feature 0
 * with threshold +inf, missing left, and left = itself, so stepping from it stays there (a walk can
 * take a fixed number of steps without testing for leaves); its cat is the index of its value in
 * lval. */
#define CN_FEAT  0xffffffu
#define CN_DLEFT (1u << 24)
#define CN_CAT   (1u << 25)
#define CN_LEAF  (1u << 26)
#define CN_WIDE  (1u << 27)

typedef struct cnode {
    float thr;
    uint32_t info;
    int32_t left;
    int32_t cat;
} cnode;

struct rdm_gbt {
    int d;
    int *ncat;
    double base;
    int ntrees;
    int *tstart; /* ntrees + 1 entries: first node of each tree */
    int tcap;
    gnode *nodes;
    int nn, ncap;
    uint32_t *cats;
    int nw, wcap;
    /* compact form: tree t starts at cn[ctstart[t]] (tcap + 1 entries) and
     * reaches every leaf within cdepth[t] steps; leaf values in lval */
    cnode *cn;
    int ncn, cncap;
    int *ctstart;
    int *cdepth;
    double *lval;
    int nlv, lvcap;
};

static int ncat_words(int k)
{
    return (k + 31) / 32;
}

void rdm_gbt_params_default(rdm_gbt_params *p)
{
    p->learning_rate = 0.05;
    p->max_iter = 1000;
    p->max_leaves = 31;
    p->max_depth = 0;
    p->max_bins = 255;
    p->min_child_weight = 20.0;
    p->l2 = 20.0;
    p->subsample = 1.0;
    p->colsample = 1.0;
    p->early_stopping = 20;
    p->threads = 0;
    p->seed = 1;
}

static rdm_gbt *model_new(int d, const int *ncat)
{
    rdm_gbt *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->d = d;
    m->ncat = calloc((size_t)d, sizeof *m->ncat);
    m->tcap = 64;
    m->tstart = calloc((size_t)m->tcap + 1, sizeof *m->tstart);
    m->ctstart = calloc((size_t)m->tcap + 1, sizeof *m->ctstart);
    m->cdepth = calloc((size_t)m->tcap + 1, sizeof *m->cdepth);
    if (!m->ncat || !m->tstart || !m->ctstart || !m->cdepth) {
        rdm_gbt_free(m);
        return NULL;
    }
    if (ncat)
        memcpy(m->ncat, ncat, (size_t)d * sizeof *ncat);
    return m;
}

void rdm_gbt_free(rdm_gbt *m)
{
    if (!m)
        return;
    free(m->ncat);
    free(m->tstart);
    free(m->ctstart);
    free(m->cdepth);
    free(m->lval);
    free(m->nodes);
    free(m->cats);
    free(m->cn);
    free(m);
}

/* Grow *p (of *cap elements of `elem` bytes) to hold at least `need`,
 * doubling from `initial`. Returns 0, or -1 (unchanged) when out of memory. */
static int grow_array(void **p, int *cap, int need, size_t elem, int initial)
{
    if (need <= *cap)
        return 0;
    int c = *cap ? *cap : initial;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Append `k` nodes; returns the index of the first, or -1. */
static int model_add_nodes(rdm_gbt *m, int k)
{
    void *nodes = m->nodes;
    if (grow_array(&nodes, &m->ncap, m->nn + k, sizeof *m->nodes, 256))
        return -1;
    m->nodes = nodes;
    int first = m->nn;
    for (int i = 0; i < k; i++) {
        gnode *q = &m->nodes[first + i];
        memset(q, 0, sizeof *q);
        q->feat = -1;
        q->left = q->right = q->cat = -1;
    }
    m->nn += k;
    return first;
}

static int model_add_words(rdm_gbt *m, int k)
{
    void *cats = m->cats;
    if (grow_array(&cats, &m->wcap, m->nw + k, sizeof *m->cats, 64))
        return -1;
    m->cats = cats;
    int first = m->nw;
    memset(m->cats + first, 0, (size_t)k * sizeof *m->cats);
    m->nw += k;
    return first;
}

/* Open a new tree at the end of the node array. */
static int model_begin_tree(rdm_gbt *m)
{
    if (m->ntrees + 1 > m->tcap) {
        int cap = m->tcap * 2;
        int *t = realloc(m->tstart, ((size_t)cap + 1) * sizeof *t);
        if (!t)
            return -1;
        m->tstart = t;
        int *ct = realloc(m->ctstart, ((size_t)cap + 1) * sizeof *ct);
        if (!ct)
            return -1;
        m->ctstart = ct;
        int *cd = realloc(m->cdepth, ((size_t)cap + 1) * sizeof *cd);
        if (!cd)
            return -1;
        m->cdepth = cd;
        m->tcap = cap;
    }
    m->tstart[m->ntrees] = m->nn;
    m->ctstart[m->ntrees] = m->ncn;
    return 0;
}

/* Close the tree opened last and append its compact form (breadth first, so
 * siblings are adjacent). Returns 0, -1 (out of memory) or -2 (a node is the
 * child of two nodes); on failure the model is only fit to be freed. */
static int model_end_tree(rdm_gbt *m)
{
    int r = m->tstart[m->ntrees], e = m->nn, nn = e - r;
    if (m->ncn + nn > m->cncap) {
        int cap = m->cncap ? m->cncap : 256;
        while (cap < m->ncn + nn)
            cap *= 2;
        cnode *c = realloc(m->cn, (size_t)cap * sizeof *c);
        if (!c)
            return -1;
        m->cn = c;
        m->cncap = cap;
    }
    if (m->nlv + nn > m->lvcap) {
        int cap = m->lvcap ? m->lvcap : 256;
        while (cap < m->nlv + nn)
            cap *= 2;
        double *v = realloc(m->lval, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        m->lval = v;
        m->lvcap = cap;
    }
    /* queue of source nodes in compact order: cn slot s holds node src[s] */
    int *src = malloc(2 * (size_t)nn * sizeof *src), *dep = src + nn;
    if (!src)
        return -1;
    int base = m->ncn, head = 0, tail = 0, depth = 0;
    src[tail] = r;
    dep[tail++] = 0;
    while (head < tail) {
        int k = src[head];
        const gnode *q = &m->nodes[k];
        cnode *c = &m->cn[base + head];
        memset(c, 0, sizeof *c);
        if (dep[head] > depth)
            depth = dep[head];
        if (q->feat < 0) {
            c->thr = INFINITY;
            c->info = CN_DLEFT | CN_LEAF;
            c->left = base + head;
            c->cat = m->nlv;
            m->lval[m->nlv++] = q->value;
        } else {
            uint32_t info = (uint32_t)q->feat | (q->dleft ? CN_DLEFT : 0u);
            if (q->cat >= 0) {
                info |= CN_CAT;
                c->thr = (float)m->ncat[q->feat];
                if (m->ncat[q->feat] <= 32) {
                    c->cat = (int32_t)m->cats[q->cat];
                } else {
                    info |= CN_WIDE;
                    c->cat = q->cat;
                }
            } else {
                c->thr = q->thr;
                c->cat = -1;
            }
            c->info = info;
            if (tail + 2 > nn) { /* a node reached twice: not a tree */
                free(src);
                return -2;
            }
            c->left = base + tail;
            src[tail] = q->left;
            dep[tail++] = dep[head] + 1;
            src[tail] = q->right;
            dep[tail++] = dep[head] + 1;
        }
        head++;
    }
    free(src);
    m->cdepth[m->ntrees] = depth;
    m->ncn += tail; /* nodes no path reaches are left out */
    m->ntrees++;
    m->tstart[m->ntrees] = m->nn;
    m->ctstart[m->ntrees] = m->ncn;
    return 0;
}

/* 1 when x goes to the right child of compact node c (0 for a leaf). */
static inline int cn_right(const rdm_gbt *m, const cnode *c, const float *x)
{
    uint32_t info = c->info;
    float v = x[info & CN_FEAT];
    if (!(info & CN_CAT)) /* NaN: right unless missing goes left */
        return (!(v <= c->thr)) ^ ((v != v) & (int)((info >> 24) & 1u));
    if (v >= 0.0f && v < c->thr) {
        int code = (int)v;
        if ((float)code == v) {
            uint32_t bits = (info & CN_WIDE) ? m->cats[c->cat + code / 32] : (uint32_t)c->cat;
            return (int)(((bits >> (code & 31)) & 1u) ^ 1u);
        }
    }
    return !(info & CN_DLEFT);
}

static inline double tree_value(const rdm_gbt *m, int t, const float *x)
{
    const cnode *cn = m->cn;
    int k = m->ctstart[t];
    for (int s = m->cdepth[t]; s > 0; s--)
        k = cn[k].left + cn_right(m, &cn[k], x);
    return m->lval[cn[k].cat];
}

double rdm_gbt_margin(const rdm_gbt *m, const float *x)
{
    double s = m->base;
    const cnode *cn = m->cn;
    const int *ts = m->ctstart;
    int t = 0, nt = m->ntrees;
    /* four trees at a time: independent walks overlap in the pipeline (a walk
     * that has reached its leaf stays there); the sum is still taken in tree
     * order */
    for (; t + 8 <= nt; t += 8) {
        int k0 = ts[t], k1 = ts[t + 1], k2 = ts[t + 2], k3 = ts[t + 3];
        int k4 = ts[t + 4], k5 = ts[t + 5], k6 = ts[t + 6], k7 = ts[t + 7];
        while (!(cn[k0].info & cn[k1].info & cn[k2].info & cn[k3].info & cn[k4].info & cn[k5].info &
                 cn[k6].info & cn[k7].info & CN_LEAF)) {
            k0 = cn[k0].left + cn_right(m, &cn[k0], x);
            k1 = cn[k1].left + cn_right(m, &cn[k1], x);
            k2 = cn[k2].left + cn_right(m, &cn[k2], x);
            k3 = cn[k3].left + cn_right(m, &cn[k3], x);
            k4 = cn[k4].left + cn_right(m, &cn[k4], x);
            k5 = cn[k5].left + cn_right(m, &cn[k5], x);
            k6 = cn[k6].left + cn_right(m, &cn[k6], x);
            k7 = cn[k7].left + cn_right(m, &cn[k7], x);
        }
        s += m->lval[cn[k0].cat];
        s += m->lval[cn[k1].cat];
        s += m->lval[cn[k2].cat];
        s += m->lval[cn[k3].cat];
        s += m->lval[cn[k4].cat];
        s += m->lval[cn[k5].cat];
        s += m->lval[cn[k6].cat];
        s += m->lval[cn[k7].cat];
    }
    for (; t < nt; t++)
        s += tree_value(m, t, x);
    return s;
}

int rdm_gbt_ntrees(const rdm_gbt *m)
{
    return m ? m->ntrees : 0;
}

int rdm_gbt_nfeatures(const rdm_gbt *m)
{
    return m ? m->d : 0;
}

void rdm_gbt_importance(const rdm_gbt *m, double *gain)
{
    for (int j = 0; j < m->d; j++)
        gain[j] = 0.0;
    int end = m->tstart[m->ntrees];
    for (int k = 0; k < end; k++)
        if (m->nodes[k].feat >= 0)
            gain[m->nodes[k].feat] += m->nodes[k].gain;
}

/* ---- fitting
 * -------------------------------------------------------------------------- */

/* Fixed-point gradient and hessian of a row, and histogram entries: sums of
 * these are exact, so they do not depend on the order of the additions. */
typedef struct ghq {
    int64_t g, h;
} ghq;

typedef struct split {
    double gain;
    int feat;
    int tbin; /* numeric: bins <= tbin go left */
    int dleft;
    int64_t gl, hl, gr, hr;
    uint32_t set[8]; /* categorical: bins (= codes) going left */
} split;

typedef struct leaf {
    int node;              /* absolute node index in the model */
    uint32_t begin, end;   /* training rows idx[begin..end) */
    uint32_t vbegin, vend; /* validation rows vidx[vbegin..vend) */
    int depth;
    int64_t g, h;
    ghq *hist;
    int can_split;
    split best;
} leaf;

typedef struct fitctx {
    size_t n;
    int d;
    const int *ncat;
    const float *X;
    int *nb;             /* non-missing bins per feature; the missing bin is nb[j] */
    float *edges;        /* upper edges, MAX_CODES per feature (numeric only) */
    int *off;            /* histogram offset per feature */
    int tb;              /* histogram entries in all */
    int *defb;           /* most frequent bin per feature (absolute entry) */
    uint8_t *splittable; /* per feature: at least two bins hold rows */
    uint8_t *cbins;      /* column-major d x n */
    /* Histogram entries of each row's non-default bins: the first fixw in
     * fix[i * fixw ..] (padded with the unused entries tb + s, s = slot), the
     * rest in ovf[rowp[i] .. rowp[i+1]). A fixed width with a rare overflow
     * keeps the inner loop free of unpredictable branches. */
    int fixw;
    int htb; /* histogram entries allocated: tb + fixw */
    uint16_t *fix;
    uint32_t *rowp; /* n + 1 */
    uint32_t *ovf;
    ghq *gh;
    double scale, inv; /* fixed point: value = integer * inv */
    uint32_t *idx, *tmpl, *tmpr;
    uint32_t *pnl, *pnr; /* per partition chunk: rows going left / right */
    /* validation rows, binned with the training edges and partitioned with the
     * training rows (the same route as the float thresholds give) */
    size_t nv;
    const float *Xv;
    uint8_t *vbins; /* column-major d x nv */
    uint32_t *vidx, *vtmp;
    int *fl, nf; /* features used by the current tree */
    double l2, mcw;
    int max_depth;
    rdm_pool *pool;
    int nt;
    ghq **thist;  /* per-thread partial histograms (thread 0: unused) */
    ghq **thist2; /* per-thread second histograms for odd rows */
    float **wbuf; /* per-thread scratch for edges */
    uint32_t **wkey;
} fitctx;

/* ---- bin edges ---- */

static void radix_sort_u32(uint32_t *a, uint32_t *tmp, size_t n)
{
    size_t cnt[2048];
    uint32_t *src = a, *dst = tmp;
    for (int pass = 0; pass < 3; pass++) {
        int shift = pass * 11;
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(src[i] >> shift) & 2047u]++;
        size_t s = 0;
        for (int b = 0; b < 2048; b++) {
            size_t c = cnt[b];
            cnt[b] = s;
            s += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[(src[i] >> shift) & 2047u]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

static uint32_t f2key(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static float key2f(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static float midpoint(float a, float b)
{
    float f = (float)(((double)a + (double)b) * 0.5);
    if (!(f < b) || f < a)
        f = a;
    return f;
}

/* Quantile edges of numeric feature j from the (sampled) rows. */
static void feature_edges(fitctx *c, int j, int maxb, uint32_t *key, uint32_t *tmp)
{
    size_t n = c->n, step_n = n > EDGE_SAMPLE ? EDGE_SAMPLE : n, cnt = 0;
    float *e = c->edges + (size_t)j * MAX_CODES;
    for (size_t s = 0; s < step_n; s++) {
        size_t i = n > EDGE_SAMPLE ? (size_t)((double)s * (double)n / (double)step_n) : s;
        float v = c->X[i * (size_t)c->d + (size_t)j];
        if (isnan(v))
            continue;
        if (v == 0.0f)
            v = 0.0f; /* -0 -> +0 */
        key[cnt++] = f2key(v);
    }
    if (cnt == 0) {
        c->nb[j] = 1;
        e[0] = INFINITY;
        return;
    }
    radix_sort_u32(key, tmp, cnt);
    /* distinct values and counts, compacted in place: key[] distinct, tmp[]
     * counts */
    size_t nu = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (nu > 0 && key[nu - 1] == key[i]) {
            tmp[nu - 1]++;
        } else {
            key[nu] = key[i];
            tmp[nu] = 1;
            nu++;
        }
    }
    int nbins = 0;
    if (nu <= (size_t)maxb) {
        for (size_t u = 0; u + 1 < nu; u++)
            e[nbins++] = midpoint(key2f(key[u]), key2f(key[u + 1]));
    } else {
        size_t remaining = cnt, acc = 0;
        for (size_t u = 0; u + 1 < nu && nbins < maxb - 1; u++) {
            acc += tmp[u];
            double target = (double)remaining / (double)(maxb - nbins);
            if ((double)acc >= target) {
                e[nbins++] = midpoint(key2f(key[u]), key2f(key[u + 1]));
                remaining -= acc;
                acc = 0;
            }
        }
    }
    e[nbins++] = INFINITY;
    c->nb[j] = nbins;
}

typedef struct edgejob {
    fitctx *c;
    int maxb;
} edgejob;

static void edge_job(void *arg, int tid, rdm_pool *pl)
{
    edgejob *ej = arg;
    fitctx *c = ej->c;
    for (int j; (j = (int)rdm_pool_next(pl)) < c->d;)
        if (c->ncat[j] == 0)
            feature_edges(c, j, ej->maxb, c->wkey[tid], (uint32_t *)c->wbuf[tid]);
}

static inline int value_bin(const fitctx *c, int j, float v)
{
    int k = c->ncat[j];
    if (k > 0) {
        if (v >= 0.0f && v < (float)k && v == floorf(v))
            return (int)v;
        return k;
    }
    if (isnan(v))
        return c->nb[j];
    const float *e = c->edges + (size_t)j * MAX_CODES;
    int lo = 0, hi = c->nb[j] - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (v <= e[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Bin n rows of X (row-major, d features) into column-major out[j * n + i],
 * chunks handed out by the pool. */
static void bin_rows(const fitctx *c, rdm_pool *pl, const float *X, size_t n, uint8_t *out)
{
    size_t nch = (n + CHUNK - 1) / CHUNK;
    for (int it; (size_t)(it = (int)rdm_pool_next(pl)) < nch;) {
        size_t lo = (size_t)it * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
        for (size_t i = lo; i < hi; i++) {
            const float *x = X + i * (size_t)c->d;
            for (int j = 0; j < c->d; j++)
                out[(size_t)j * n + i] = (uint8_t)value_bin(c, j, x[j]);
        }
    }
}

static void bin_job(void *arg, int tid, rdm_pool *pl)
{
    fitctx *c = arg;
    (void)tid;
    bin_rows(c, pl, c->X, c->n, c->cbins);
}

static void vbin_job(void *arg, int tid, rdm_pool *pl)
{
    fitctx *c = arg;
    (void)tid;
    bin_rows(c, pl, c->Xv, c->nv, c->vbins);
}

/* Most frequent bin of each feature, and whether it can split at all. */
static void mode_job(void *arg, int tid, rdm_pool *pl)
{
    fitctx *c = arg;
    size_t cnt[MAX_CODES + 1];
    (void)tid;
    for (int j; (j = (int)rdm_pool_next(pl)) < c->d;) {
        int nbj = c->ncat[j] > 0 ? c->ncat[j] : c->nb[j];
        memset(cnt, 0, sizeof cnt);
        const uint8_t *col = c->cbins + (size_t)j * c->n;
        for (size_t i = 0; i < c->n; i++)
            cnt[col[i]]++;
        int best = 0, used = 0;
        for (int b = 0; b <= nbj; b++) {
            used += cnt[b] > 0;
            if (cnt[b] > cnt[best])
                best = b;
        }
        c->defb[j] = c->off[j] + best;
        c->splittable[j] = used >= 2;
    }
}

/* Row lists of non-default entries: count (pass 0) or fill (pass 1). */
typedef struct rowjob {
    fitctx *c;
    int pass;
} rowjob;

static void rows_job(void *arg, int tid, rdm_pool *pl)
{
    rowjob *rj = arg;
    fitctx *c = rj->c;
    size_t nch = (c->n + CHUNK - 1) / CHUNK;
    (void)tid;
    for (int it; (size_t)(it = (int)rdm_pool_next(pl)) < nch;) {
        size_t ch = (size_t)it;
        size_t lo = ch * CHUNK, hi = lo + CHUNK < c->n ? lo + CHUNK : c->n;
        for (size_t i = lo; i < hi; i++) {
            uint32_t k = 0, w = (uint32_t)c->fixw, o = rj->pass ? c->rowp[i] : 0;
            uint16_t *f = c->fix + i * (size_t)w;
            for (int j = 0; j < c->d; j++) {
                if (!c->splittable[j])
                    continue;
                int e = c->off[j] + c->cbins[(size_t)j * c->n + i];
                if (e == c->defb[j])
                    continue;
                if (rj->pass) {
                    if (k < w)
                        f[k] = (uint16_t)e;
                    else
                        c->ovf[o++] = (uint32_t)e;
                }
                k++;
            }
            if (rj->pass)
                for (; k < w; k++)
                    f[k] = (uint16_t)(c->tb + (int)k);
            else
                c->rowp[i + 1] = k; /* all entries for now */
        }
    }
}

/* ---- split finding ---- */

static inline double score(double g, double h, double l2)
{
    return g * g / (h + l2);
}

/* Consider the split that sends (gl, hl) left, the missing bin (gm, hm) to
 * either side when present; keep it in *s when it beats the best so far.
 * Returns 1 when *s was replaced. */
static int try_split(const fitctx *c, int j, int tbin, int64_t gl, int64_t hl, int64_t gm,
                     int64_t hm, int64_t G, int64_t H, double parent, split *s)
{
    double l2 = c->l2, mcw = c->mcw, inv = c->inv;
    int has_missing = hm > 0, better = 0;
    for (int dl = 0; dl <= has_missing; dl++) {
        int64_t lg = gl + (dl ? gm : 0), lh = hl + (dl ? hm : 0);
        int64_t rg = G - lg, rh = H - lh;
        double dlh = (double)lh * inv, drh = (double)rh * inv;
        if (dlh < mcw || drh < mcw)
            continue;
        double gain = score((double)lg * inv, dlh, l2) + score((double)rg * inv, drh, l2) - parent;
        if (gain > s->gain) {
            s->gain = gain;
            s->feat = j;
            s->tbin = tbin;
            s->dleft = has_missing ? dl : lh >= rh;
            s->gl = lg;
            s->hl = lh;
            s->gr = rg;
            s->hr = rh;
            better = 1;
        }
    }
    return better;
}

static void split_numeric(const fitctx *c, int j, const ghq *hj, int64_t G, int64_t H, split *s)
{
    int nb = c->nb[j];
    int64_t gm = hj[nb].g, hm = hj[nb].h;
    double inv = c->inv;
    double parent = score((double)G * inv, (double)H * inv, c->l2);
    int64_t gl = 0, hl = 0;
    for (int t = 0; t < nb; t++) {
        if (t > 0 && hj[t].h == 0)
            continue; /* empty bin: the same split as bin t - 1, which won ties */
        gl += hj[t].g;
        hl += hj[t].h;
        try_split(c, j, t, gl, hl, gm, hm, G, H, parent, s);
    }
}

typedef struct catord {
    double key;
    int code;
} catord;

static inline int catord_less(const catord *x, const catord *y)
{
    return x->key < y->key || (x->key == y->key && x->code < y->code);
}

/* Insertion sort: a few dozen categories at most in practice. */
static void catord_sort(catord *a, int m)
{
    for (int i = 1; i < m; i++) {
        catord t = a[i];
        int k = i;
        while (k > 0 && catord_less(&t, &a[k - 1])) {
            a[k] = a[k - 1];
            k--;
        }
        a[k] = t;
    }
}

static void split_categorical(const fitctx *c, int j, const ghq *hj, int64_t G, int64_t H, split *s)
{
    int k = c->ncat[j];
    int64_t gm = hj[k].g, hm = hj[k].h;
    double inv = c->inv;
    double parent = score((double)G * inv, (double)H * inv, c->l2);
    catord ord[MAX_CODES];
    int m = 0;
    for (int b = 0; b < k; b++) {
        if (hj[b].h > 0) {
            ord[m].key = (double)hj[b].g * inv / ((double)hj[b].h * inv + CAT_SMOOTH);
            ord[m].code = b;
            m++;
        }
    }
    if (m == 0)
        return;
    catord_sort(ord, m);
    int64_t gl = 0, hl = 0;
    int best_p = -1;
    for (int p = 0; p < m; p++) {
        gl += hj[ord[p].code].g;
        hl += hj[ord[p].code].h;
        if (try_split(c, j, -1, gl, hl, gm, hm, G, H, parent, s))
            best_p = p;
    }
    if (best_p >= 0) {
        memset(s->set, 0, sizeof s->set);
        for (int p = 0; p <= best_p; p++)
            s->set[ord[p].code / 32] |= 1u << (ord[p].code % 32);
    }
}

static void split_init(split *s)
{
    memset(s, 0, sizeof *s);
    s->gain = MIN_GAIN;
    s->feat = -1;
}

/* ---- histograms ---- */

static inline void hadd(ghq *e, ghq v)
{
#if defined(__SSE2__)
    __m128i a = _mm_loadu_si128((const __m128i *)(void *)e);
    a = _mm_add_epi64(a, _mm_set_epi64x(v.h, v.g));
    _mm_storeu_si128((__m128i *)(void *)e, a);
#else
    e->g += v.g;
    e->h += v.h;
#endif
}

/* Add row i into H. */
static inline void hist_row(const fitctx *c, ghq *H, uint32_t i)
{
    size_t w = (size_t)c->fixw;
    const uint16_t *f = c->fix + i * w;
    const uint32_t *ovf = c->ovf;
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)&c->gh[i]);
    for (size_t s = 0; s < w; s++) {
        __m128i *p = (__m128i *)(void *)&H[f[s]];
        _mm_storeu_si128(p, _mm_add_epi64(_mm_loadu_si128(p), v));
    }
    for (uint32_t e = c->rowp[i], ee = c->rowp[i + 1]; e < ee; e++) {
        __m128i *p = (__m128i *)(void *)&H[ovf[e]];
        _mm_storeu_si128(p, _mm_add_epi64(_mm_loadu_si128(p), v));
    }
#else
    ghq v = c->gh[i];
    for (size_t s = 0; s < w; s++)
        hadd(&H[f[s]], v);
    for (uint32_t e = c->rowp[i], ee = c->rowp[i + 1]; e < ee; e++)
        hadd(&H[ovf[e]], v);
#endif
}

/* Add rows idx[a..b) into H. Large ranges alternate rows between H and the
 * scratch histogram H2, then add H2 to H (exact): updates of the same bin by
 * consecutive rows then do not wait for each other. */
static void hist_rows(const fitctx *c, ghq *H, ghq *H2, uint32_t a, uint32_t b)
{
    const uint32_t *idx = c->idx;
    if (b - a < 512) {
        for (uint32_t k = a; k < b; k++)
            hist_row(c, H, idx[k]);
        return;
    }
    memset(H2, 0, (size_t)c->htb * sizeof *H2);
    uint32_t k = a;
    for (; k + 2 <= b; k += 2) {
        hist_row(c, H, idx[k]);
        hist_row(c, H2, idx[k + 1]);
    }
    if (k < b)
        hist_row(c, H, idx[k]);
    for (int e = 0; e < c->tb; e++)
        hadd(&H[e], H2[e]);
}

#define HCHUNK 2048 /* rows per item of a histogram job */

typedef struct histjob {
    fitctx *c;
    leaf *a, *b;
    uint8_t used[RDM_POOL_MAX]; /* thread t > 0 added rows into c->thist[t] */
    split *ra, *rb;             /* per active feature: best split of a and b */
} histjob;

/* Rows of leaf a in chunks: thread 0 into a->hist (cleared by the caller),
 * thread t into c->thist[t] (cleared at its first chunk). */
static void hist_job(void *arg, int tid, rdm_pool *pl)
{
    histjob *hj = arg;
    fitctx *c = hj->c;
    uint32_t len = hj->a->end - hj->a->begin;
    int nch = (int)((len + HCHUNK - 1) / HCHUNK);
    ghq *H = tid == 0 ? hj->a->hist : c->thist[tid];
    for (int ch; (ch = (int)rdm_pool_next(pl)) < nch;) {
        if (tid > 0 && !hj->used[tid]) {
            memset(H, 0, (size_t)c->htb * sizeof *H);
            hj->used[tid] = 1;
        }
        uint32_t lo = hj->a->begin + (uint32_t)ch * HCHUNK;
        uint32_t hi = lo + HCHUNK < hj->a->end ? lo + HCHUNK : hj->a->end;
        hist_rows(c, H, c->thist2[tid], lo, hi);
    }
}

/* Per active feature: add the threads' partial histograms, recover the most
 * frequent bin from the leaf total, b = parent - a, and the best split of each
 * leaf on that feature. (On one thread: a few microseconds per leaf, less
 * than handing the work to another thread costs on a busy machine.) */
static void feat_all(histjob *hj)
{
    fitctx *c = hj->c;
    leaf *a = hj->a, *b = hj->b;
    for (int q = 0; q < c->nf; q++) {
        int j = c->fl[q];
        split_init(&hj->ra[q]);
        split_init(&hj->rb[q]);
        if (!c->splittable[j])
            continue;
        int nbj = c->ncat[j] > 0 ? c->ncat[j] : c->nb[j];
        ghq *ha = a->hist + c->off[j], *hd = a->hist + c->defb[j];
        for (int t = 1; t < c->nt; t++)
            if (hj->used[t]) {
                const ghq *P = c->thist[t] + c->off[j];
                for (int u = 0; u <= nbj; u++)
                    hadd(&ha[u], P[u]);
            }
        int64_t g = 0, h = 0;
        for (int u = 0; u <= nbj; u++) {
            g += ha[u].g;
            h += ha[u].h;
        }
        hd->g += a->g - g; /* the rows' sums hold no entry of the default bin */
        hd->h += a->h - h;
        if (b) {
            ghq *pb = b->hist + c->off[j];
            for (int u = 0; u <= nbj; u++) {
                pb[u].g -= ha[u].g;
                pb[u].h -= ha[u].h;
            }
        }
        for (int side = 0; side < 2; side++) {
            leaf *lf = side ? b : a;
            if (!lf || !lf->can_split)
                continue;
            split *s = side ? &hj->rb[q] : &hj->ra[q];
            const ghq *hl = lf->hist + c->off[j];
            if (c->ncat[j] > 0)
                split_categorical(c, j, hl, lf->g, lf->h, s);
            else
                split_numeric(c, j, hl, lf->g, lf->h, s);
        }
    }
}

/* The best of the per-feature splits, first feature on ties (the same for
 * every thread count). */
static void reduce_best(const fitctx *c, const split *r, split *best)
{
    split_init(best);
    for (int q = 0; q < c->nf; q++)
        if (r[q].feat >= 0 && r[q].gain > best->gain)
            *best = r[q];
}

/* Histogram of leaf `a` (rows divided between the threads when it is large)
 * with its most frequent bins recovered from the leaf totals; b = parent - a
 * when b is given (b->hist holds the parent's histogram on entry); the best
 * split of each. */
static void build_hist(fitctx *c, leaf *a, leaf *b, split *ra, split *rb)
{
    uint32_t len = a->end - a->begin;
    histjob hj;
    memset(&hj, 0, sizeof hj);
    hj.c = c;
    hj.a = a;
    hj.b = b;
    hj.ra = ra;
    hj.rb = rb;
    memset(a->hist, 0, (size_t)c->htb * sizeof *a->hist);
    if (c->nt > 1 && len >= PAR_HIST)
        rdm_pool_run(c->pool, hist_job, &hj);
    else
        hist_rows(c, a->hist, c->thist2[0], a->begin, a->end);
    feat_all(&hj);
    reduce_best(c, ra, &a->best);
    if (b)
        reduce_best(c, rb, &b->best);
}

/* ---- partition ---- */

#define PCHUNK 8192 /* rows per item of a partition job */

typedef struct partjob {
    fitctx *c;
    const uint8_t *col;
    const uint8_t *lut; /* per bin: 1 = left */
    uint32_t begin, end;
} partjob;

/* Chunk ch of the range into c->tmpl / c->tmpr at the chunk's offset; counts
 * in c->pnl[ch], c->pnr[ch]. */
static void part_chunk(const partjob *pj, int ch)
{
    fitctx *c = pj->c;
    uint32_t lo = pj->begin + (uint32_t)ch * PCHUNK;
    uint32_t hi = lo + PCHUNK < pj->end ? lo + PCHUNK : pj->end;
    const uint32_t *idx = c->idx;
    const uint8_t *col = pj->col, *lut = pj->lut;
    uint32_t *l = c->tmpl + lo, *r = c->tmpr + lo, a = 0, b = 0;
    for (uint32_t k = lo; k < hi; k++) {
        uint32_t i = idx[k];
        uint32_t left = lut[col[i]];
        l[a] = i;
        r[b] = i;
        a += left;
        b += 1u - left;
    }
    c->pnl[ch] = a;
    c->pnr[ch] = b;
}

static void part_job(void *arg, int tid, rdm_pool *pl)
{
    partjob *pj = arg;
    (void)tid;
    int nch = (int)((pj->end - pj->begin + PCHUNK - 1) / PCHUNK);
    for (int ch; (ch = (int)rdm_pool_next(pl)) < nch;)
        part_chunk(pj, ch);
}

/* Stable partition of the validation rows vidx[begin,end); returns the first
 * right index. */
static uint32_t partition_valid(fitctx *c, int j, const uint8_t *lut, uint32_t begin, uint32_t end)
{
    const uint8_t *col = c->vbins + (size_t)j * c->nv;
    uint32_t *idx = c->vidx, *r = c->vtmp, a = begin, b = 0;
    for (uint32_t k = begin; k < end; k++) {
        uint32_t i = idx[k];
        uint32_t left = lut[col[i]];
        idx[a] = i; /* a <= k: idx[k] is already read */
        r[b] = i;
        a += left;
        b += 1u - left;
    }
    memcpy(idx + a, r, (size_t)b * sizeof *idx);
    return a;
}

/* Stable partition of idx[begin,end) by the split `s` (and of the validation
 * rows vidx[vbegin,vend): first right index in *vmid); returns the first
 * right index. The result is the same however the range is divided. */
static uint32_t partition_rows(fitctx *c, const split *s, uint32_t begin, uint32_t end,
                               uint32_t vbegin, uint32_t vend, uint32_t *vmid)
{
    int j = s->feat, miss = c->ncat[j] > 0 ? c->ncat[j] : c->nb[j];
    uint8_t lut[256];
    memset(lut, 0, sizeof lut);
    for (int b = 0; b < miss; b++)
        lut[b] =
            c->ncat[j] > 0 ? (uint8_t)((s->set[b / 32] >> (b % 32)) & 1u) : (uint8_t)(b <= s->tbin);
    lut[miss] = (uint8_t)s->dleft;
    *vmid = c->nv ? partition_valid(c, j, lut, vbegin, vend) : vbegin;
    partjob pj;
    pj.c = c;
    pj.col = c->cbins + (size_t)j * c->n;
    pj.lut = lut;
    pj.begin = begin;
    pj.end = end;
    int nch = (int)((end - begin + PCHUNK - 1) / PCHUNK);
    if (c->nt > 1 && end - begin >= PAR_SPLIT)
        rdm_pool_run(c->pool, part_job, &pj);
    else
        for (int ch = 0; ch < nch; ch++)
            part_chunk(&pj, ch);
    uint32_t at = begin;
    for (int ch = 0; ch < nch; ch++) {
        uint32_t lo = begin + (uint32_t)ch * PCHUNK;
        memcpy(c->idx + at, c->tmpl + lo, (size_t)c->pnl[ch] * sizeof *c->idx);
        at += c->pnl[ch];
    }
    uint32_t mid = at;
    for (int ch = 0; ch < nch; ch++) {
        uint32_t lo = begin + (uint32_t)ch * PCHUNK;
        memcpy(c->idx + at, c->tmpr + lo, (size_t)c->pnr[ch] * sizeof *c->idx);
        at += c->pnr[ch];
    }
    return mid;
}

/* ---- gradients, loss, prediction updates ---- */

/* Sum of log(1 + e_i) over a run of e_i in [0, 1] as the log of a product
 * (one log per run, not per row); renormalised so it cannot overflow. */
typedef struct logprod {
    double m;
    long ex;
    int k;
} logprod;

static inline void lp_mul(logprod *lp, double f)
{
    lp->m *= f;
    if (++lp->k == 256) {
        int e;
        lp->m = frexp(lp->m, &e);
        lp->ex += e;
        lp->k = 0;
    }
}

static inline double lp_log(const logprod *lp)
{
    return log(lp->m) + (double)lp->ex * 0.69314718055994530942;
}

/* Gradient of one row into fixed point; returns e = exp(-|z|). */
static inline double row_grad(const fitctx *c, double z, double y, ghq *out)
{
    double e = exp(-fabs(z));
    double p = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    double h = p * (1.0 - p);
    double gs = (p - y) * c->scale, hs = h * c->scale;
    out->g = (int64_t)(gs + (gs >= 0 ? 0.5 : -0.5));
    int64_t hq = (int64_t)(hs + 0.5);
    out->h = hq > 0 ? hq : 1;
    return e;
}

typedef struct gradjob {
    fitctx *c;
    const float *y;
    double *margin;
    double *part; /* per chunk: loss sum (when want_loss) */
    int want_loss;
    /* leaves mode: add each leaf's value to its rows (idx[begin..end)) */
    const leaf *lv;
    const double *lw;
    int nleaves;
    size_t npos; /* rows in idx (positions mode) or n */
} gradjob;

/* First position in idx[a..b) (ascending rows) whose row is >= r. */
static size_t lower_row(const uint32_t *idx, size_t a, size_t b, size_t r)
{
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (idx[mid] < r)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

static void grad_job(void *arg, int tid, rdm_pool *pl)
{
    gradjob *gj = arg;
    fitctx *c = gj->c;
    size_t nch = (gj->npos + CHUNK - 1) / CHUNK;
    (void)tid;
    for (int it; (size_t)(it = (int)rdm_pool_next(pl)) < nch;) {
        size_t ch = (size_t)it;
        size_t lo = ch * CHUNK, hi = lo + CHUNK < gj->npos ? lo + CHUNK : gj->npos;
        logprod lp = {1.0, 0, 0};
        double s = 0;
        if (gj->lv) {
            /* rows lo..hi-1 (a chunk of rows, not of positions: threads then
             * write disjoint parts of margin and gh); within each leaf the
             * positions hold ascending rows (stable partitions of 0..n-1) */
            for (int l = 0; l < gj->nleaves; l++) {
                size_t a = lower_row(c->idx, gj->lv[l].begin, gj->lv[l].end, lo);
                size_t b = lower_row(c->idx, a, gj->lv[l].end, hi);
                double w = gj->lw[l];
                for (size_t k = a; k < b; k++) {
                    uint32_t i = c->idx[k];
                    double z = gj->margin[i] + w, yi = gj->y[i];
                    gj->margin[i] = z;
                    double e = row_grad(c, z, yi, &c->gh[i]);
                    if (gj->want_loss) {
                        lp_mul(&lp, 1.0 + e);
                        s += (z > 0 ? z : 0) - yi * z;
                    }
                }
            }
        } else {
            for (size_t i = lo; i < hi; i++) {
                double z = gj->margin[i], yi = gj->y[i];
                double e = row_grad(c, z, yi, &c->gh[i]);
                if (gj->want_loss) {
                    lp_mul(&lp, 1.0 + e);
                    s += (z > 0 ? z : 0) - yi * z;
                }
            }
        }
        if (gj->want_loss)
            gj->part[ch] = s + lp_log(&lp);
    }
}

typedef struct validjob {
    const float *y;
    size_t n;
    const double *margin;
    double *part;
} validjob;

/* Validation loss per chunk (margins already updated). */
static void valid_job(void *arg, int tid, rdm_pool *pl)
{
    validjob *vj = arg;
    size_t nch = (vj->n + CHUNK - 1) / CHUNK;
    (void)tid;
    for (int it; (size_t)(it = (int)rdm_pool_next(pl)) < nch;) {
        size_t ch = (size_t)it;
        size_t lo = ch * CHUNK, hi = lo + CHUNK < vj->n ? lo + CHUNK : vj->n;
        logprod lp = {1.0, 0, 0};
        double s = 0;
        for (size_t i = lo; i < hi; i++) {
            double z = vj->margin[i], yi = vj->y[i];
            lp_mul(&lp, 1.0 + exp(-fabs(z)));
            s += (z > 0 ? z : 0) - yi * z;
        }
        vj->part[ch] = s + lp_log(&lp);
    }
}

/* Binned traversal of the training rows (used with row subsampling). */
typedef struct binjob {
    fitctx *c;
    const rdm_gbt *m;
    int tree;
    const int *tbin; /* per node of the tree (relative) */
    double *margin;
} binjob;

static void bintrav_job(void *arg, int tid, rdm_pool *pl)
{
    binjob *bj = arg;
    fitctx *c = bj->c;
    const rdm_gbt *m = bj->m;
    int root = m->tstart[bj->tree];
    size_t nch = (c->n + CHUNK - 1) / CHUNK;
    (void)tid;
    for (int it; (size_t)(it = (int)rdm_pool_next(pl)) < nch;) {
        size_t ch = (size_t)it;
        size_t lo = ch * CHUNK, hi = lo + CHUNK < c->n ? lo + CHUNK : c->n;
        for (size_t i = lo; i < hi; i++) {
            int k = root;
            while (m->nodes[k].feat >= 0) {
                const gnode *q = &m->nodes[k];
                int b = c->cbins[(size_t)q->feat * c->n + i], left;
                if (q->cat >= 0)
                    left = b >= m->ncat[q->feat]
                               ? q->dleft
                               : (int)((m->cats[q->cat + b / 32] >> (b % 32)) & 1u);
                else
                    left = b == c->nb[q->feat] ? q->dleft : b <= bj->tbin[k - root];
                k = left ? q->left : q->right;
            }
            bj->margin[i] += m->nodes[k].value;
        }
    }
}

static double sum_parts(const double *part, size_t n)
{
    double s = 0;
    size_t nch = (n + CHUNK - 1) / CHUNK;
    for (size_t ch = 0; ch < nch; ch++)
        s += part[ch];
    return s;
}

static int check_params(size_t n, int d, const int *ncat, const float *y, const rdm_gbt_params *p,
                        rdm_err *err)
{
    if (n < 2 || n > 0xffffffffu)
        return rdm_errf(err, RDM_EINVAL, "gbt: %zu training rows (need 2 .. 2^32-1)", n);
    if (d < 1 || d > MAX_FEATURES)
        return rdm_errf(err, RDM_EINVAL, "gbt: %d features (need 1 .. %d)", d, MAX_FEATURES);
    if (!(p->learning_rate > 0 && p->learning_rate <= 10))
        return rdm_errf(err, RDM_EINVAL, "gbt: learning_rate %g not in (0, 10]", p->learning_rate);
    if (p->max_iter < 1)
        return rdm_errf(err, RDM_EINVAL, "gbt: max_iter %d < 1", p->max_iter);
    if (p->max_leaves < 2 || p->max_leaves > 65536)
        return rdm_errf(err, RDM_EINVAL, "gbt: max_leaves %d not in 2..65536", p->max_leaves);
    if (p->max_depth < 0)
        return rdm_errf(err, RDM_EINVAL, "gbt: max_depth %d < 0", p->max_depth);
    if (p->max_bins < 2 || p->max_bins > 255)
        return rdm_errf(err, RDM_EINVAL, "gbt: max_bins %d not in 2..255", p->max_bins);
    if (!(p->min_child_weight >= 0) || !(p->l2 >= 0))
        return rdm_errf(err, RDM_EINVAL, "gbt: min_child_weight and l2 must be >= 0");
    if (!(p->subsample > 0 && p->subsample <= 1) || !(p->colsample > 0 && p->colsample <= 1))
        return rdm_errf(err, RDM_EINVAL, "gbt: subsample and colsample must be in (0, 1]");
    if (p->early_stopping < 0 || p->threads < 0)
        return rdm_errf(err, RDM_EINVAL, "gbt: early_stopping and threads must be >= 0");
    for (int j = 0; ncat && j < d; j++)
        if (ncat[j] < 0 || ncat[j] > MAX_CODES)
            return rdm_errf(err, RDM_EINVAL, "gbt: feature %d: %d categories (at most %d)", j,
                            ncat[j], MAX_CODES);
    for (size_t i = 0; i < n; i++)
        if (y[i] != 0.0f && y[i] != 1.0f)
            return rdm_errf(err, RDM_EINVAL, "gbt: row %zu: label %g is not 0 or 1", i,
                            (double)y[i]);
    return RDM_OK;
}

static int cmp_leaf_begin(const void *a, const void *b)
{
    const leaf *x = a, *y = b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

rdm_gbt *rdm_gbt_fit(const float *X, const float *y, size_t n, int d, const int *ncat_in,
                     const float *Xv, const float *yv, size_t nv, const rdm_gbt_params *p,
                     rdm_gbt_progress cb, void *ud, rdm_err *err)
{
    if (!X || !y || !p) {
        rdm_errf(err, RDM_EINVAL, "gbt: missing training data or parameters");
        return NULL;
    }
    if (check_params(n, d, ncat_in, y, p, err) != RDM_OK)
        return NULL;
    if (!Xv || !yv)
        nv = 0;

    fitctx c;
    memset(&c, 0, sizeof c);
    rdm_gbt *m = NULL;
    int *ncat = NULL, *tbin = NULL;
    double *margin = NULL, *vmargin = NULL, *part = NULL, *vpart = NULL;
    double *lw = NULL;
    ghq *histmem = NULL;
    ghq **freeh = NULL;
    leaf *leaves = NULL, *sorted = NULL;
    split *ra = NULL, *rb = NULL;
    int nt = p->threads == 0 ? rdm_ncpu() : p->threads > RDM_POOL_MAX ? RDM_POOL_MAX : p->threads;

    ncat = calloc((size_t)d, sizeof *ncat);
    if (!ncat)
        goto nomem;
    if (ncat_in)
        memcpy(ncat, ncat_in, (size_t)d * sizeof *ncat);
    c.n = n;
    c.d = d;
    c.ncat = ncat;
    c.X = X;
    c.l2 = p->l2;
    c.mcw = p->min_child_weight > 1e-9 ? p->min_child_weight : 1e-9;
    c.max_depth = p->max_depth;
    c.nt = nt;
    /* fixed point: n rows of |g| <= 1 must sum within 2^62 */
    {
        int sh = 62;
        while (sh > 20 && ldexp(1.0, sh) * (double)n >= 4611686018427387904.0)
            sh--;
        if (sh > 40)
            sh = 40;
        c.scale = ldexp(1.0, sh);
        c.inv = ldexp(1.0, -sh);
    }
    c.pool = rdm_pool_create(nt, NULL);
    c.nb = calloc((size_t)d, sizeof *c.nb);
    c.off = calloc((size_t)d + 1, sizeof *c.off);
    c.defb = calloc((size_t)d, sizeof *c.defb);
    c.splittable = calloc((size_t)d, 1);
    c.edges = malloc((size_t)d * MAX_CODES * sizeof *c.edges);
    c.cbins = malloc(n * (size_t)d);
    c.rowp = malloc((n + 1) * sizeof *c.rowp);
    c.gh = malloc(n * sizeof *c.gh);
    c.idx = malloc(n * sizeof *c.idx);
    c.tmpl = malloc(n * sizeof *c.tmpl);
    c.tmpr = malloc(n * sizeof *c.tmpr);
    c.pnl = malloc((n / PCHUNK + 2) * sizeof *c.pnl);
    c.pnr = malloc((n / PCHUNK + 2) * sizeof *c.pnr);
    c.fl = malloc((size_t)d * sizeof *c.fl);
    c.wbuf = calloc((size_t)nt, sizeof *c.wbuf);
    c.wkey = calloc((size_t)nt, sizeof *c.wkey);
    c.thist = calloc((size_t)nt, sizeof *c.thist);
    c.thist2 = calloc((size_t)nt, sizeof *c.thist2);
    margin = malloc(n * sizeof *margin);
    part = malloc(((n + CHUNK - 1) / CHUNK) * sizeof *part);
    if (!c.pool || !c.nb || !c.off || !c.defb || !c.splittable || !c.edges || !c.cbins || !c.rowp ||
        !c.gh || !c.idx || !c.tmpl || !c.tmpr || !c.pnl || !c.pnr || !c.fl || !c.wbuf || !c.wkey ||
        !c.thist || !c.thist2 || !margin || !part)
        goto nomem;
    if (nv) {
        vmargin = malloc(nv * sizeof *vmargin);
        vpart = malloc(((nv + CHUNK - 1) / CHUNK) * sizeof *vpart);
        c.vbins = malloc(nv * (size_t)d);
        c.vidx = malloc(nv * sizeof *c.vidx);
        c.vtmp = malloc(nv * sizeof *c.vtmp);
        if (!vmargin || !vpart || !c.vbins || !c.vidx || !c.vtmp)
            goto nomem;
        c.nv = nv;
        c.Xv = Xv;
    }

    /* bins */
    {
        size_t ns = n > EDGE_SAMPLE ? EDGE_SAMPLE : n;
        for (int t = 0; t < nt; t++) {
            c.wbuf[t] = malloc(ns * sizeof(uint32_t));
            c.wkey[t] = malloc(ns * sizeof(uint32_t));
            if (!c.wbuf[t] || !c.wkey[t])
                goto nomem;
        }
        edgejob ej = {&c, p->max_bins};
        rdm_pool_run(c.pool, edge_job, &ej);
        for (int j = 0; j < d; j++) {
            if (ncat[j] > 0)
                c.nb[j] = ncat[j];
            c.off[j + 1] = c.off[j] + c.nb[j] + 1;
        }
        c.tb = c.off[d];
        rdm_pool_run(c.pool, bin_job, &c);
        if (nv)
            rdm_pool_run(c.pool, vbin_job, &c);
        rdm_pool_run(c.pool, mode_job, &c);
        rowjob rj = {&c, 0};
        c.rowp[0] = 0;
        rdm_pool_run(c.pool, rows_job, &rj);
        /* fixed width: at most ~2% of rows overflow it */
        {
            size_t *cnt = calloc((size_t)d + 1, sizeof *cnt);
            if (!cnt)
                goto nomem;
            for (size_t i = 0; i < n; i++)
                cnt[c.rowp[i + 1]]++;
            size_t acc = 0;
            int w = 0;
            while (w < d && n - (acc + cnt[w]) > n / 50)
                acc += cnt[w++];
            free(cnt);
            if (c.tb + w > 65536)
                w = 0;
            c.fixw = w;
            c.htb = c.tb + w;
        }
        uint64_t tot = 0; /* overflow counts -> offsets */
        for (size_t i = 0; i < n; i++) {
            uint32_t k = c.rowp[i + 1];
            k = k > (uint32_t)c.fixw ? k - (uint32_t)c.fixw : 0;
            c.rowp[i] = (uint32_t)tot;
            tot += k;
        }
        if (tot > 0xffffffffu) {
            rdm_errf(err, RDM_EINVAL, "gbt: %zu rows x %d features is too large", n, d);
            goto fail;
        }
        c.rowp[n] = (uint32_t)tot;
        c.ovf = malloc((tot ? tot : 1) * sizeof *c.ovf);
        c.fix = malloc((n * (size_t)c.fixw + 1) * sizeof *c.fix);
        if (!c.ovf || !c.fix)
            goto nomem;
        rj.pass = 1;
        rdm_pool_run(c.pool, rows_job, &rj);
        for (int t = 0; t < nt; t++) {
            c.thist[t] = t ? malloc((size_t)c.htb * sizeof **c.thist) : NULL;
            c.thist2[t] = malloc((size_t)c.htb * sizeof **c.thist2);
            if ((t && !c.thist[t]) || !c.thist2[t])
                goto nomem;
        }
    }

    m = model_new(d, ncat);
    histmem = malloc((size_t)p->max_leaves * (size_t)c.htb * sizeof *histmem);
    freeh = malloc((size_t)p->max_leaves * sizeof *freeh);
    leaves = malloc((size_t)p->max_leaves * sizeof *leaves);
    sorted = malloc((size_t)p->max_leaves * sizeof *sorted);
    lw = malloc((size_t)p->max_leaves * sizeof *lw);
    tbin = malloc(2 * (size_t)p->max_leaves * sizeof *tbin);
    ra = malloc((size_t)d * sizeof *ra);
    rb = malloc((size_t)d * sizeof *rb);
    if (!m || !histmem || !freeh || !leaves || !sorted || !lw || !tbin || !ra || !rb)
        goto nomem;

    /* base score */
    double pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y[i];
    double rate = pos / (double)n;
    if (rate < 1e-6)
        rate = 1e-6;
    if (rate > 1 - 1e-6)
        rate = 1 - 1e-6;
    m->base = log(rate / (1 - rate));
    for (size_t i = 0; i < n; i++)
        margin[i] = m->base;
    for (size_t i = 0; i < nv; i++)
        vmargin[i] = m->base;

    uint64_t rng = p->seed ^ 0x5851f42d4c957f2dULL;
    double best_vloss = INFINITY;
    int best_iter = -1, since_best = 0;
    {
        gradjob gj = {&c, y, margin, part, 0, NULL, NULL, 0, n};
        rdm_pool_run(c.pool, grad_job, &gj);
    }

    for (int it = 0; it < p->max_iter; it++) {
        /* feature subsample */
        int nf = d;
        for (int j = 0; j < d; j++)
            c.fl[j] = j;
        if (p->colsample < 1.0) {
            nf = (int)(p->colsample * d + 0.5);
            if (nf < 1)
                nf = 1;
            for (int q = 0; q < nf; q++) {
                int r = q + (int)(rdm_splitmix64(&rng) % (uint64_t)(d - q));
                int t = c.fl[q];
                c.fl[q] = c.fl[r];
                c.fl[r] = t;
            }
            /* ascending order keeps memory access sequential */
            for (int q = 1; q < nf; q++)
                for (int r = q; r > 0 && c.fl[r - 1] > c.fl[r]; r--) {
                    int t = c.fl[r];
                    c.fl[r] = c.fl[r - 1];
                    c.fl[r - 1] = t;
                }
        }
        c.nf = nf;
        /* row subsample */
        uint32_t nin = 0;
        if (p->subsample < 1.0) {
            for (size_t i = 0; i < n; i++)
                if (rdm_splitmix64_uniform(&rng) < p->subsample)
                    c.idx[nin++] = (uint32_t)i;
            if (nin == 0)
                c.idx[nin++] = (uint32_t)(rdm_splitmix64(&rng) % n);
        } else {
            for (size_t i = 0; i < n; i++)
                c.idx[i] = (uint32_t)i;
            nin = (uint32_t)n;
        }

        /* grow one tree */
        if (model_begin_tree(m) != 0)
            goto nomem;
        int root = model_add_nodes(m, 1);
        if (root < 0)
            goto nomem;
        int nfree = p->max_leaves;
        for (int k = 0; k < p->max_leaves; k++)
            freeh[k] = histmem + (size_t)(p->max_leaves - 1 - k) * (size_t)c.htb;
        leaf *L = &leaves[0];
        memset(L, 0, sizeof *L);
        L->node = root;
        L->begin = 0;
        L->end = nin;
        L->vbegin = 0;
        L->vend = (uint32_t)nv;
        for (size_t i = 0; i < nv; i++)
            c.vidx[i] = (uint32_t)i;
        L->depth = 0;
        {
            int64_t G = 0, Hs = 0;
            for (uint32_t k = 0; k < nin; k++) {
                G += c.gh[c.idx[k]].g;
                Hs += c.gh[c.idx[k]].h;
            }
            L->g = G;
            L->h = Hs;
        }
        L->hist = freeh[--nfree];
        L->can_split = nin >= 2 && (double)L->h * c.inv >= 2 * c.mcw;
        build_hist(&c, L, NULL, ra, rb);
        int nleaves = 1;
        while (nleaves < p->max_leaves) {
            int bl = -1;
            double bg = MIN_GAIN;
            for (int l = 0; l < nleaves; l++)
                if (leaves[l].best.feat >= 0 && leaves[l].best.gain > bg) {
                    bg = leaves[l].best.gain;
                    bl = l;
                }
            if (bl < 0)
                break;
            leaf P = leaves[bl];
            int kids = model_add_nodes(m, 2);
            if (kids < 0)
                goto nomem;
            gnode *q = &m->nodes[P.node];
            q->feat = P.best.feat;
            q->dleft = P.best.dleft;
            q->gain = P.best.gain;
            q->left = kids;
            q->right = kids + 1;
            if (ncat[q->feat] > 0) {
                int nwd = ncat_words(ncat[q->feat]);
                int w = model_add_words(m, nwd);
                if (w < 0)
                    goto nomem;
                q = &m->nodes[P.node];
                q->cat = w;
                memcpy(m->cats + w, P.best.set, (size_t)nwd * sizeof *m->cats);
                q->thr = 0;
            } else {
                q->thr = c.edges[(size_t)q->feat * MAX_CODES + (size_t)P.best.tbin];
            }
            tbin[P.node - root] = P.best.tbin;
            uint32_t vmid;
            uint32_t mid = partition_rows(&c, &P.best, P.begin, P.end, P.vbegin, P.vend, &vmid);
            leaf A, B;
            memset(&A, 0, sizeof A);
            memset(&B, 0, sizeof B);
            A.node = kids;
            A.begin = P.begin;
            A.end = mid;
            A.vbegin = P.vbegin;
            A.vend = vmid;
            A.g = P.best.gl;
            A.h = P.best.hl;
            B.node = kids + 1;
            B.begin = mid;
            B.end = P.end;
            B.vbegin = vmid;
            B.vend = P.vend;
            B.g = P.best.gr;
            B.h = P.best.hr;
            A.depth = B.depth = P.depth + 1;
            int dep_ok = c.max_depth == 0 || A.depth < c.max_depth;
            A.can_split = dep_ok && A.end - A.begin >= 2 && (double)A.h * c.inv >= 2 * c.mcw;
            B.can_split = dep_ok && B.end - B.begin >= 2 && (double)B.h * c.inv >= 2 * c.mcw;
            leaf *small = A.end - A.begin <= B.end - B.begin ? &A : &B;
            leaf *large = small == &A ? &B : &A;
            large->hist = P.hist;
            small->hist = freeh[--nfree];
            /* the children of the last split are never split: no histograms */
            if ((small->can_split || large->can_split) && nleaves + 1 < p->max_leaves) {
                build_hist(&c, small, large, ra, rb);
            } else {
                split_init(&small->best);
                split_init(&large->best);
            }
            leaves[bl] = A;
            leaves[nleaves++] = B;
        }
        /* leaf values */
        for (int l = 0; l < nleaves; l++) {
            leaf *lf = &leaves[l];
            double w = -((double)lf->g * c.inv) / ((double)lf->h * c.inv + c.l2) * p->learning_rate;
            m->nodes[lf->node].value = w;
            for (uint32_t k = lf->vbegin; k < lf->vend; k++)
                vmargin[c.vidx[k]] += w;
        }
        if (model_end_tree(m) != 0)
            goto nomem;
        /* training margins and the next gradients (one pass) */
        if (p->subsample >= 1.0) {
            memcpy(sorted, leaves, (size_t)nleaves * sizeof *sorted);
            qsort(sorted, (size_t)nleaves, sizeof *sorted, cmp_leaf_begin);
            for (int l = 0; l < nleaves; l++)
                lw[l] = m->nodes[sorted[l].node].value;
            gradjob gj = {&c, y, margin, part, cb != NULL, sorted, lw, nleaves, n};
            rdm_pool_run(c.pool, grad_job, &gj);
        } else {
            binjob bj = {&c, m, m->ntrees - 1, tbin, margin};
            rdm_pool_run(c.pool, bintrav_job, &bj);
            gradjob gj = {&c, y, margin, part, cb != NULL, NULL, NULL, 0, n};
            rdm_pool_run(c.pool, grad_job, &gj);
        }
        double tloss = cb ? sum_parts(part, n) / (double)n : NAN, vloss = NAN;
        if (nv) {
            validjob vj = {yv, nv, vmargin, vpart};
            rdm_pool_run(c.pool, valid_job, &vj);
            vloss = sum_parts(vpart, nv) / (double)nv;
        }
        if (cb)
            cb(it, tloss, vloss, ud);
        if (nv && p->early_stopping > 0) {
            if (best_iter < 0 || vloss < best_vloss - 1e-12 * fabs(best_vloss)) {
                best_vloss = vloss;
                best_iter = it;
                since_best = 0;
            } else if (++since_best >= p->early_stopping) {
                break;
            }
        }
    }
    if (nv && p->early_stopping > 0 && best_iter >= 0 && best_iter + 1 < m->ntrees) {
        m->ntrees = best_iter + 1;
        m->nn = m->tstart[m->ntrees];
        m->ncn = m->ctstart[m->ntrees];
        /* the last node of a tree (breadth first) is its last leaf */
        m->nlv = m->ncn > 0 ? m->cn[m->ncn - 1].cat + 1 : 0;
        /* drop bitsets of removed trees: they were appended in order */
        int maxw = 0;
        for (int k = 0; k < m->nn; k++)
            if (m->nodes[k].cat >= 0) {
                int e = m->nodes[k].cat + ncat_words(ncat[m->nodes[k].feat]);
                if (e > maxw)
                    maxw = e;
            }
        m->nw = maxw;
    }
    goto done;

nomem:
    rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
fail:
    rdm_gbt_free(m);
    m = NULL;
done:
    if (c.pool)
        rdm_pool_free(c.pool);
    for (int t = 0; t < nt && c.wbuf; t++)
        free(c.wbuf[t]);
    for (int t = 0; t < nt && c.wkey; t++)
        free(c.wkey[t]);
    for (int t = 0; t < nt && c.thist; t++)
        free(c.thist[t]);
    for (int t = 0; t < nt && c.thist2; t++)
        free(c.thist2[t]);
    free(c.thist2);
    free(c.wbuf);
    free(c.wkey);
    free(c.thist);
    free(c.nb);
    free(c.off);
    free(c.defb);
    free(c.splittable);
    free(c.edges);
    free(c.cbins);
    free(c.rowp);
    free(c.fix);
    free(c.ovf);
    free(c.gh);
    free(c.idx);
    free(c.tmpl);
    free(c.tmpr);
    free(c.pnl);
    free(c.pnr);
    free(c.vbins);
    free(c.vidx);
    free(c.vtmp);
    free(c.fl);
    free(ncat);
    free(tbin);
    free(margin);
    free(vmargin);
    free(part);
    free(vpart);
    free(histmem);
    free(freeh);
    free(leaves);
    free(sorted);
    free(lw);
    free(ra);
    free(rb);
    return m;
}

/* ---- text form
 * ------------------------------------------------------------------------
 *
 *   gbt 1
 *   features D
 *   ncat c_0 ... c_{D-1}
 *   base <hex float>
 *   trees T
 *   tree <t> <nodes>
 *   leaf <value>
 *   num <feature> <threshold> <default_left> <left> <right> <gain>
 *   cat <feature> <default_left> <left> <right> <gain> <word_0> ... (hex, 32
 * bits each) end
 *
 * Child indices are relative to the tree's first node and always greater than
 * the node's own index, so every path ends at a leaf. */

int rdm_gbt_save(const rdm_gbt *m, rdm_buf *out, rdm_err *err)
{
    if (!m || !out)
        return rdm_errf(err, RDM_EINVAL, "gbt: nothing to save");
    int rc = rdm_buf_printf(out, "gbt %d\nfeatures %d\nncat", GBT_FORMAT, m->d);
    for (int j = 0; rc == 0 && j < m->d; j++)
        rc = rdm_buf_printf(out, " %d", m->ncat[j]);
    if (rc == 0)
        rc = rdm_buf_printf(out, "\nbase %a\ntrees %d\n", m->base, m->ntrees);
    for (int t = 0; rc == 0 && t < m->ntrees; t++) {
        int r = m->tstart[t], e = m->tstart[t + 1];
        rc = rdm_buf_printf(out, "tree %d %d\n", t, e - r);
        for (int k = r; rc == 0 && k < e; k++) {
            const gnode *q = &m->nodes[k];
            if (q->feat < 0) {
                rc = rdm_buf_printf(out, "leaf %a\n", q->value);
            } else if (q->cat < 0) {
                rc = rdm_buf_printf(out, "num %d %a %d %d %d %a\n", q->feat, (double)q->thr,
                                    q->dleft, q->left - r, q->right - r, q->gain);
            } else {
                rc = rdm_buf_printf(out, "cat %d %d %d %d %a", q->feat, q->dleft, q->left - r,
                                    q->right - r, q->gain);
                int nwd = ncat_words(m->ncat[q->feat]);
                for (int w = 0; rc == 0 && w < nwd; w++)
                    rc = rdm_buf_printf(out, " %x", (unsigned)m->cats[q->cat + w]);
                if (rc == 0)
                    rc = rdm_buf_addc(out, '\n');
            }
        }
    }
    if (rc == 0)
        rc = rdm_buf_adds(out, "end\n");
    if (rc != 0)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory while saving");
    return RDM_OK;
}

typedef struct rd {
    const char *s;
    size_t n, pos;
    int line;
    rdm_err *err;
} rd;

/* Next whitespace-separated token on the current line into tok; 0 when the line
 * has ended. */
static int rd_tok(rd *r, char *tok, size_t cap)
{
    while (r->pos < r->n && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t'))
        r->pos++;
    size_t k = 0;
    while (r->pos < r->n && r->s[r->pos] != ' ' && r->s[r->pos] != '\t' && r->s[r->pos] != '\n' &&
           r->s[r->pos] != '\r') {
        if (k + 1 >= cap)
            return -1;
        tok[k++] = r->s[r->pos++];
    }
    tok[k] = '\0';
    return k > 0;
}

static int rd_fail(rd *r, const char *what)
{
    return rdm_errf(r->err, RDM_EPARSE, "gbt model line %d: %s", r->line, what);
}

static int rd_eol(rd *r)
{
    char tok[8];
    if (rd_tok(r, tok, sizeof tok) != 0)
        return rd_fail(r, "unexpected extra text at end of line");
    if (r->pos < r->n && r->s[r->pos] == '\r')
        r->pos++;
    if (r->pos >= r->n)
        return rd_fail(r, "truncated (line does not end)");
    if (r->s[r->pos] != '\n')
        return rd_fail(r, "bad character");
    r->pos++;
    r->line++;
    return RDM_OK;
}

static int rd_word(rd *r, const char *want)
{
    char tok[32];
    if (rd_tok(r, tok, sizeof tok) != 1 || strcmp(tok, want) != 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "expected '%s'", want);
        return rd_fail(r, msg);
    }
    return RDM_OK;
}

static int rd_long(rd *r, long lo, long hi, long *out, const char *what)
{
    char tok[32], msg[96];
    if (rd_tok(r, tok, sizeof tok) == 1) {
        char *end;
        long v = strtol(tok, &end, 10);
        if (*end == '\0' && end != tok && v >= lo && v <= hi) {
            *out = v;
            return RDM_OK;
        }
    }
    snprintf(msg, sizeof msg, "%s: expected an integer in %ld..%ld", what, lo, hi);
    return rd_fail(r, msg);
}

static int rd_int(rd *r, int lo, int hi, int *out, const char *what)
{
    long v = 0;
    int rc = rd_long(r, lo, hi, &v, what);
    if (rc == RDM_OK)
        *out = (int)v;
    return rc;
}

static int rd_double(rd *r, double *out, int allow_inf, const char *what)
{
    char tok[64], msg[96];
    if (rd_tok(r, tok, sizeof tok) == 1) {
        char *end;
        double v = strtod(tok, &end);
        if (*end == '\0' && end != tok && !isnan(v) && (allow_inf || isfinite(v))) {
            *out = v;
            return RDM_OK;
        }
    }
    snprintf(msg, sizeof msg, "%s: expected a number", what);
    return rd_fail(r, msg);
}

static int rd_hex32(rd *r, uint32_t *out)
{
    char tok[16];
    if (rd_tok(r, tok, sizeof tok) == 1) {
        char *end;
        unsigned long v = strtoul(tok, &end, 16);
        if (*end == '\0' && tok[0] != '-' && tok[0] != '+' && v <= 0xffffffffUL) {
            *out = (uint32_t)v;
            return RDM_OK;
        }
    }
    return rd_fail(r, "category bitset: expected a 32-bit hex word");
}

rdm_gbt *rdm_gbt_load(const char *text, size_t n, size_t *used, rdm_err *err)
{
    rd r = {text, n, 0, 1, err};
    rdm_gbt *m = NULL;
    int d, ver, ntrees;
    if (used)
        *used = 0;
    if (!text) {
        rdm_errf(err, RDM_EPARSE, "gbt model: no text");
        return NULL;
    }
    if (rd_word(&r, "gbt") || rd_int(&r, 0, 1000000, &ver, "format version"))
        return NULL;
    if (ver != GBT_FORMAT) {
        rdm_errf(err, RDM_EVERSION,
                 "gbt model line %d: format version %d not supported (this build "
                 "reads %d)",
                 r.line, ver, GBT_FORMAT);
        return NULL;
    }
    if (rd_eol(&r) || rd_word(&r, "features") || rd_int(&r, 1, MAX_FEATURES, &d, "features") ||
        rd_eol(&r) || rd_word(&r, "ncat"))
        return NULL;
    m = model_new(d, NULL);
    if (!m) {
        rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
        return NULL;
    }
    double base;
    for (int j = 0; j < d; j++)
        if (rd_int(&r, 0, MAX_CODES, &m->ncat[j], "category count"))
            goto fail;
    if (rd_eol(&r) || rd_word(&r, "base") || rd_double(&r, &base, 0, "base") || rd_eol(&r) ||
        rd_word(&r, "trees") || rd_int(&r, 0, 10000000, &ntrees, "trees") || rd_eol(&r))
        goto fail;
    m->base = base;
    for (int t = 0; t < ntrees; t++) {
        int tt, nn;
        if (rd_word(&r, "tree") || rd_int(&r, t, t, &tt, "tree number") ||
            rd_int(&r, 1, 10000000, &nn, "node count") || rd_eol(&r))
            goto fail;
        if (model_begin_tree(m) != 0)
            goto nomem;
        int root = m->nn;
        for (int k = 0; k < nn; k++) {
            char kind[8];
            if (rd_tok(&r, kind, sizeof kind) != 1) {
                rd_fail(&r, "expected a node (leaf, num or cat)");
                goto fail;
            }
            int a = model_add_nodes(m, 1);
            if (a < 0)
                goto nomem;
            gnode *q = &m->nodes[a];
            double v, gain;
            int l, rr;
            if (strcmp(kind, "leaf") == 0) {
                if (rd_double(&r, &v, 0, "leaf value"))
                    goto fail;
                q->value = v;
            } else if (strcmp(kind, "num") == 0 || strcmp(kind, "cat") == 0) {
                int is_cat = kind[0] == 'c';
                if (rd_int(&r, 0, d - 1, &q->feat, "feature"))
                    goto fail;
                if ((m->ncat[q->feat] > 0) != is_cat) {
                    rd_fail(&r, is_cat ? "categorical split on a numeric feature"
                                       : "numeric split on a categorical feature");
                    goto fail;
                }
                if (!is_cat) {
                    if (rd_double(&r, &v, 1, "threshold"))
                        goto fail;
                    q->thr = (float)v;
                }
                if (rd_int(&r, 0, 1, &q->dleft, "default_left") ||
                    rd_int(&r, k + 1, nn - 1, &l, "left child") ||
                    rd_int(&r, k + 1, nn - 1, &rr, "right child") ||
                    rd_double(&r, &gain, 0, "gain"))
                    goto fail;
                q->left = root + l;
                q->right = root + rr;
                q->gain = gain;
                if (is_cat) {
                    int nwd = ncat_words(m->ncat[q->feat]);
                    int w = model_add_words(m, nwd);
                    if (w < 0)
                        goto nomem;
                    m->nodes[a].cat = w;
                    for (int i = 0; i < nwd; i++)
                        if (rd_hex32(&r, &m->cats[w + i]))
                            goto fail;
                }
            } else {
                rd_fail(&r, "unknown node kind");
                goto fail;
            }
            if (rd_eol(&r))
                goto fail;
        }
        int erc = model_end_tree(m);
        if (erc == -1)
            goto nomem;
        if (erc != 0) {
            rd_fail(&r, "tree: a node is the child of two nodes");
            goto fail;
        }
    }
    if (rd_word(&r, "end"))
        goto fail;
    {
        char tok[8];
        if (rd_tok(&r, tok, sizeof tok) != 0) {
            rd_fail(&r, "unexpected text after 'end'");
            goto fail;
        }
        if (r.pos < r.n && r.s[r.pos] == '\r')
            r.pos++;
        if (r.pos < r.n && r.s[r.pos] == '\n')
            r.pos++;
    }
    if (used)
        *used = r.pos;
    return m;
nomem:
    rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
fail:
    rdm_gbt_free(m);
    return NULL;
}
