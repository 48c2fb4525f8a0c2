/* gbt_hist.c - gradient/hessian histograms of a leaf's rows (exact
 * fixed-point sums, spread over threads, the sibling as parent minus leaf)
 * and the best numeric or categorical split of each feature. */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "gbt_int.h"

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

void rdm_gbt_split_init(split *s)
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
        rdm_gbt_split_init(&hj->ra[q]);
        rdm_gbt_split_init(&hj->rb[q]);
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
    rdm_gbt_split_init(best);
    for (int q = 0; q < c->nf; q++)
        if (r[q].feat >= 0 && r[q].gain > best->gain)
            *best = r[q];
}

void rdm_gbt_hist_build(fitctx *c, leaf *a, leaf *b, split *ra, split *rb)
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
