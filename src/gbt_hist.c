/* gbt_hist.c - the data work of growing a tree: partitions of a leaf's rows,
 * gradient/hessian histograms (exact fixed-point sums, rows spread over
 * threads, the larger child as parent minus the smaller), and the best
 * numeric or categorical split of each feature (features spread over
 * threads). */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
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
static inline int try_split(const fitctx *c, int j, int tbin, int64_t gl, int64_t hl, int64_t gm,
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
    double parent = score((double)G * c->inv, (double)H * c->inv, c->l2);
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

/* Add row i into H: its gradient to the entry of each of its non-default
 * bins. */
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

#define PREFETCH 16 /* rows ahead */

/* Add rows[0..m) into thread tid's partial histogram (cleared at its first
 * use in a job): thread 0's is h0, the smaller child's own histogram, so that
 * on one thread nothing is to be added up afterwards. One partial per
 * thread, not one per thread and row parity: the feature items then read
 * half as much of the other threads' memory, which costs more than the waits
 * of consecutive rows updating the same entry. */
static void hist_add(fitctx *c, int tid, ghq *h0, const uint32_t *rows, uint32_t m)
{
    ghq *H = tid == 0 ? h0 : c->thist[tid];
    if (!c->tused[tid]) {
        memset(H, 0, (size_t)c->htb * sizeof *H);
        c->tused[tid] = 1;
    }
    uint32_t k = 0;
    size_t w = (size_t)c->fixw;
    for (; k + 2 <= m; k += 2) {
        if (k + PREFETCH + 2 <= m) { /* a leaf's rows are scattered: fetch ahead */
            uint32_t a = rows[k + PREFETCH], b = rows[k + PREFETCH + 1];
            __builtin_prefetch(c->fix + a * w);
            __builtin_prefetch(c->fix + a * w + w - 1);
            __builtin_prefetch(c->fix + b * w);
            __builtin_prefetch(c->fix + b * w + w - 1);
            __builtin_prefetch(&c->gh[a]);
            __builtin_prefetch(&c->gh[b]);
        }
        hist_row(c, H, rows[k]);
        hist_row(c, H, rows[k + 1]);
    }
    if (k < m)
        hist_row(c, H, rows[k]);
}

/* One split of a leaf P (or the root's histogram: P NULL) in one job of two
 * phases. Phase 1 partitions P's rows chunk by chunk and adds the smaller
 * side's rows to the threads' partial histograms (the validation rows are one
 * more item, the first); the thread that completes its last item sets the
 * children's row ranges (mid_step) and opens phase 2, for which the other
 * threads wait inside the job. Phase 2 moves the partitioned rows back into
 * idx, then per feature item adds the partials into the smaller child's
 * histogram, derives the other child's and finds both children's best
 * splits. */
typedef struct splitjob {
    fitctx *c;
    const leaf *P;
    leaf *A, *B;      /* children: A left, B right (root: A only) */
    leaf *S, *L;      /* smaller child (histogram from rows) and larger (parent - S) */
    int small;        /* rows of this side go to the histogram: 0 left, 1 right, -1 none */
    int large;        /* the child holding P's histogram: 0 = A, 1 = B */
    int hist;         /* children's histograms and best splits wanted */
    uint8_t lut[256]; /* per bin of the split feature: 1 = left */
    const uint8_t *col;
    ghq *h0;        /* thread 0's partial histogram: the smaller child's */
    uint32_t begin; /* P's rows: idx[begin .. end), chunks of `chunk` rows */
    uint32_t end, chunk;
    size_t nch, vitem; /* chunks; 1 when the validation rows are an item */
    int nfeat;         /* children's best splits wanted (feature items) */
    uint32_t vmid;
    _Alignas(64) atomic_size_t done1;    /* phase-1 items completed */
    atomic_int open2;                    /* phase 2 may start */
    _Alignas(64) ghq tsum[RDM_POOL_MAX]; /* root: per thread, the sum of its rows */
    /* Items by thread (run_split initialises them; the memset of a new job
     * stops here): phase 1 the validation rows then the chunks, phase 2
     * the chunks' moves back into idx and the feature items. Thread t's
     * block of chunks is about the same range of positions (so of rows: a
     * leaf's rows are ascending) split after split, and its block of
     * features the same features: their rows' lists, gradients and
     * histogram entries stay in its cache. */
    rdm_pool_share sh1, shc, shf;
} splitjob;

static void chunk_range(const splitjob *sj, size_t ch, uint32_t *lo, uint32_t *hi)
{
    *lo = sj->begin + (uint32_t)ch * sj->chunk;
    *hi = *lo + sj->chunk < sj->end ? *lo + sj->chunk : sj->end;
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

/* Chunk ch of P's rows into c->tmpl / c->tmpr at the chunk's offset (counts
 * in c->pnl[ch], c->pnr[ch]), the smaller side's rows into the histogram. */
static void part_chunk(splitjob *sj, int tid, size_t ch)
{
    fitctx *c = sj->c;
    uint32_t lo, hi;
    chunk_range(sj, ch, &lo, &hi);
    const uint32_t *idx = c->idx;
    const uint8_t *col = sj->col, *lut = sj->lut;
    uint32_t *l = c->tmpl + lo, *r = c->tmpr + lo, a = 0, b = 0;
    for (uint32_t k = lo; k < hi; k++) {
        uint32_t i = idx[k];
        if (k + PREFETCH < hi)
            __builtin_prefetch(col + idx[k + PREFETCH]);
        uint32_t left = lut[col[i]];
        l[a] = i;
        r[b] = i;
        a += left;
        b += 1u - left;
    }
    c->pnl[ch] = a;
    c->pnr[ch] = b;
    if (sj->small == 0)
        hist_add(c, tid, sj->h0, l, a);
    else if (sj->small == 1)
        hist_add(c, tid, sj->h0, r, b);
}

/* Phase 1's items: the validation rows (when an item; the largest, so
 * first, not the last claimed: their partition, or at the root their list
 * 0, 1, ...), then the chunks. */
static void phase1_item(splitjob *sj, int tid, size_t it)
{
    fitctx *c = sj->c;
    if (it < sj->vitem && !sj->P) { /* the root's validation rows: all, in order */
        for (size_t i = 0; i < c->nv; i++)
            c->vidx[i] = (uint32_t)i;
    } else if (it < sj->vitem) {
        sj->vmid = partition_valid(c, sj->P->best.feat, sj->lut, sj->P->vbegin, sj->P->vend);
    } else if (sj->P) {
        part_chunk(sj, tid, it - sj->vitem);
    } else { /* the root */
        uint32_t lo, hi;
        chunk_range(sj, it - sj->vitem, &lo, &hi);
        if (c->idx_all)
            for (uint32_t q = lo; q < hi; q++)
                c->idx[q] = q;
        hist_add(c, tid, sj->h0, c->idx + lo, hi - lo);
        ghq t = {0, 0};
        for (uint32_t q = lo; q < hi; q++)
            hadd(&t, c->gh[c->idx[q]]);
        hadd(&sj->tsum[tid], t);
    }
}

/* Feature q of the tree: S's histogram from the partials (thread 0's is in
 * place already; S's most frequent
 * bin from S's totals: the rows' lists leave it out), L's as parent - S, and
 * the best split of each that can split, in *sa (A) and *sb (B), which the
 * caller initialised. */
static void finish_feature(splitjob *sj, size_t q, split *sa, split *sb)
{
    fitctx *c = sj->c;
    int j = c->fl[q];
    if (!c->splittable[j])
        return;
    int nbj = c->ncat[j] > 0 ? c->ncat[j] : c->nb[j];
    size_t off = (size_t)c->off[j];
    ghq *hs = sj->S->hist + off, sum = {0, 0};
    for (int u = 0; u <= nbj; u++) {
        ghq v = {0, 0};
        if (c->tused[0])
            v = hs[u];
        for (int t = 1; t < c->nt; t++)
            if (c->tused[t])
                hadd(&v, c->thist[t][off + (size_t)u]);
        hs[u] = v;
        hadd(&sum, v);
    }
    ghq *hd = sj->S->hist + c->defb[j];
    hd->g += sj->S->g - sum.g; /* the rows' lists hold no entry of the default bin */
    hd->h += sj->S->h - sum.h;
    if (sj->L) {
        ghq *hl = sj->L->hist + off;
        for (int u = 0; u <= nbj; u++) {
            hl[u].g -= hs[u].g;
            hl[u].h -= hs[u].h;
        }
    }
    for (int side = 0; side < 2; side++) {
        leaf *lf = side ? sj->B : sj->A;
        if (!lf || !lf->can_split)
            continue;
        split *s = side ? sb : sa;
        const ghq *h = lf->hist + off;
        if (c->ncat[j] > 0)
            split_categorical(c, j, h, lf->g, lf->h, s);
        else
            split_numeric(c, j, h, lf->g, lf->h, s);
    }
}

/* Phase 2's feature items (none without children's histograms). */
static size_t feat_items(const splitjob *sj)
{
    return sj->nfeat ? (size_t)sj->c->nfi : 0;
}

/* *r into *best when it is a split of higher gain, or of the same gain on a
 * feature before best's: of all features, the first of the highest gain,
 * whichever features an item holds and in whichever order (features of a
 * tree are ascending). */
static void keep_better(split *best, const split *r)
{
    if (r->feat >= 0 && (r->gain > best->gain || (r->gain == best->gain && r->feat < best->feat)))
        *best = *r;
}

/* Feature item it, its best splits for A and B in c->ra[it] and c->rb[it]:
 * the caller's thread then reads a few items' results, not one per feature,
 * from the other threads' lines. */
static void feature_item(splitjob *sj, size_t it)
{
    fitctx *c = sj->c;
    split ga, gb, sa, sb;
    rdm_gbt_split_init(&ga);
    rdm_gbt_split_init(&gb);
    for (int k = c->fstart[it]; k < c->fstart[it + 1]; k++) {
        rdm_gbt_split_init(&sa);
        rdm_gbt_split_init(&sb);
        finish_feature(sj, (size_t)c->fitem[k], &sa, &sb);
        keep_better(&ga, &sa);
        keep_better(&gb, &sb);
    }
    c->ra[it] = ga;
    c->rb[it] = gb;
}

/* Chunk ch's partitioned rows back into idx. */
static void move_item(splitjob *sj, size_t ch)
{
    fitctx *c = sj->c;
    uint32_t lo, hi;
    chunk_range(sj, ch, &lo, &hi);
    memcpy(c->idx + c->pol[ch], c->tmpl + lo, (size_t)c->pnl[ch] * sizeof *c->idx);
    memcpy(c->idx + c->por[ch], c->tmpr + lo, (size_t)c->pnr[ch] * sizeof *c->idx);
}

/* Between the phases, once: the root's totals, or where the children's rows
 * go (chunk offsets), their ranges and whether they can split; the items of
 * phase 2. */
static void mid_step(splitjob *sj)
{
    fitctx *c = sj->c;
    if (!sj->P) {
        leaf *a = sj->A;
        ghq t = {0, 0};
        for (int k = 0; k < c->nt; k++)
            hadd(&t, sj->tsum[k]);
        a->g = t.g;
        a->h = t.h;
        a->can_split = rdm_gbt_can_split(c, a->depth, a->end - a->begin, a->h);
        return;
    }
    const leaf *P = sj->P;
    leaf *A = sj->A, *B = sj->B;
    uint32_t at = P->begin;
    for (size_t ch = 0; ch < sj->nch; ch++) {
        c->pol[ch] = at;
        at += c->pnl[ch];
    }
    uint32_t mid = at;
    for (size_t ch = 0; ch < sj->nch; ch++) {
        c->por[ch] = at;
        at += c->pnr[ch];
    }
    A->begin = P->begin;
    A->end = mid;
    B->begin = mid;
    B->end = P->end;
    A->vbegin = P->vbegin;
    A->vend = sj->vmid;
    B->vbegin = sj->vmid;
    B->vend = P->vend;
    A->can_split = rdm_gbt_can_split(c, A->depth, A->end - A->begin, A->h);
    B->can_split = rdm_gbt_can_split(c, B->depth, B->end - B->begin, B->h);
    if (sj->hist) {
        sj->S = sj->large ? A : B;
        sj->L = sj->large ? B : A;
    }
}

/* The job (pl NULL: everything on the caller's thread, in item order). */
static void split_job(void *arg, int tid, rdm_pool *pl)
{
    splitjob *sj = arg;
    size_t n1 = sj->nch + sj->vitem, nm = sj->P ? sj->nch : 0, it;
    if (!pl) {
        for (it = 0; it < n1; it++)
            phase1_item(sj, tid, it);
        mid_step(sj);
        for (it = 0; it < nm; it++)
            move_item(sj, it);
        for (it = 0; it < feat_items(sj); it++)
            feature_item(sj, it);
        return;
    }
    while ((it = rdm_pool_share_next(&sj->sh1, tid)) != SIZE_MAX) {
        phase1_item(sj, tid, it);
        if (atomic_fetch_add_explicit(&sj->done1, 1, memory_order_acq_rel) + 1 == n1) {
            mid_step(sj);
            atomic_store_explicit(&sj->open2, 1, memory_order_release);
        }
    }
    rdm_pool_await(&sj->open2);
    while ((it = rdm_pool_share_next(&sj->shc, tid)) != SIZE_MAX)
        move_item(sj, it);
    while ((it = rdm_pool_share_next(&sj->shf, tid)) != SIZE_MAX)
        feature_item(sj, it);
}

/* The best of the feature items' splits, first feature on ties (the same
 * for every thread count). */
static void reduce_best(const fitctx *c, const split *r, split *best)
{
    rdm_gbt_split_init(best);
    for (int k = 0; k < c->nfi; k++)
        keep_better(best, &r[k]);
}

#define FCOST0     6 /* work of a feature's split finding besides its bins, in bins */
#define FITEMS_PER 6 /* feature items per thread, about */

static int fcost_cmp(const void *a, const void *b)
{
    const fcost *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return (x->q > y->q) - (x->q < y->q);
}

/* The tree's feature items. A feature's work is about its bins (entries
 * added up, subtracted and scanned for splits) plus FCOST0; features by
 * decreasing work go to the thread of least work so far, then each
 * thread's features, in that order, are cut into items of about
 * 1/FITEMS_PER of its work: the large features make items of their own at
 * the front of its block, the small ones share the last items, so a thread
 * done with its block takes small items from the other's. The same features
 * go to the same threads split after split (their histogram entries stay in
 * that core's cache). */
static void feature_items(fitctx *c)
{
    int nf = c->nf, nt = c->nt, nfi = 0, k = 0;
    long load[RDM_POOL_MAX] = {0}, total = 0;
    for (int q = 0; q < nf; q++) {
        int j = c->fl[q];
        c->fsort[q].q = q;
        c->fsort[q].cost =
            c->splittable[j] ? (c->ncat[j] > 0 ? c->ncat[j] : c->nb[j]) + 1 + FCOST0 : 1;
        total += c->fsort[q].cost;
    }
    qsort(c->fsort, (size_t)nf, sizeof *c->fsort, fcost_cmp);
    for (int r = 0; r < nf; r++) {
        int t = 0;
        for (int u = 1; u < nt; u++)
            if (load[u] < load[t])
                t = u;
        load[t] += c->fsort[r].cost;
        c->fsort[r].t = t;
    }
    long target = total / ((long)nt * FITEMS_PER) + 1;
    for (int t = 0; t < nt; t++) {
        long acc = 0;
        for (int r = 0; r < nf; r++) {
            if (c->fsort[r].t != t)
                continue;
            if (acc == 0)
                c->fstart[nfi++] = k; /* a new item from this feature on */
            c->fitem[k++] = c->fsort[r].q;
            if ((acc += c->fsort[r].cost) >= target)
                acc = 0;
        }
        c->fend[t] = (size_t)nfi;
    }
    c->fstart[nfi] = nf;
    c->nfi = nfi;
}

/* Rows per chunk of a split job: about eight chunks per thread (the last
 * chunks claimed, which one thread may do while the other waits at the
 * phase's end, small), SCHUNK_MIN to SCHUNK rows (the partition is stable
 * and the histogram sums exact, so the chunks change nothing in the
 * result). One thread: chunks of SCHUNK. */
static uint32_t chunk_rows(const fitctx *c, uint32_t rows, int parallel)
{
    if (!parallel || c->nt <= 1)
        return SCHUNK;
    uint32_t k = rows / (8u * (uint32_t)c->nt) + 1;
    return k < SCHUNK_MIN ? SCHUNK_MIN : k > SCHUNK ? SCHUNK : k;
}

static void run_split(fitctx *c, splitjob *sj, int parallel)
{
    sj->chunk = chunk_rows(c, sj->end - sj->begin, parallel);
    sj->nch = (sj->end - sj->begin + sj->chunk - 1) / sj->chunk;
    sj->nfeat = !sj->P || sj->hist;
    atomic_init(&sj->done1, 0);
    atomic_init(&sj->open2, 0);
    memset(c->tused, 0, sizeof c->tused);
    if (parallel && c->nt > 1) {
        rdm_pool_share_init(&sj->sh1, sj->nch + sj->vitem, c->nt);
        rdm_pool_share_init(&sj->shc, sj->P ? sj->nch : 0, c->nt);
        if (feat_items(sj))
            rdm_pool_share_init_ends(&sj->shf, c->fend, c->nt);
        else
            rdm_pool_share_init(&sj->shf, 0, c->nt);
        rdm_pool_run(c->pool, split_job, sj);
    } else {
        split_job(sj, 0, NULL);
    }
}

void rdm_gbt_root_hist(fitctx *c, leaf *a)
{
    splitjob sj;
    memset(&sj, 0, offsetof(splitjob, sh1));
    sj.c = c;
    sj.A = sj.S = a;
    sj.h0 = a->hist;
    sj.begin = a->begin;
    sj.end = a->end;
    sj.vitem = c->nv > 0;
    feature_items(c);
    run_split(c, &sj, a->end - a->begin >= PAR_SPLIT);
    reduce_best(c, c->ra, &a->best);
}

void rdm_gbt_split_rows(fitctx *c, const leaf *P, leaf *A, leaf *B, int large, int hist)
{
    const split *s = &P->best;
    int j = s->feat, miss = c->ncat[j] > 0 ? c->ncat[j] : c->nb[j];
    splitjob sj;
    memset(&sj, 0, offsetof(splitjob, sh1));
    sj.c = c;
    sj.P = P;
    sj.A = A;
    sj.B = B;
    for (int b = 0; b < miss; b++)
        sj.lut[b] =
            c->ncat[j] > 0 ? (uint8_t)((s->set[b / 32] >> (b % 32)) & 1u) : (uint8_t)(b <= s->tbin);
    sj.lut[miss] = (uint8_t)s->dleft;
    sj.col = c->cbins + (size_t)j * c->n;
    sj.begin = P->begin;
    sj.end = P->end;
    sj.vitem = c->nv && P->vend > P->vbegin;
    sj.vmid = P->vbegin;
    sj.small = hist ? 1 - large : -1; /* the side that does not hold P's histogram */
    sj.h0 = large ? A->hist : B->hist;
    sj.large = large;
    sj.hist = hist;
    run_split(c, &sj, hist || P->end - P->begin >= PAR_SPLIT);
    if (hist && A->can_split)
        reduce_best(c, c->ra, &A->best);
    else
        rdm_gbt_split_init(&A->best);
    if (hist && B->can_split)
        reduce_best(c, c->rb, &B->best);
    else
        rdm_gbt_split_init(&B->best);
}
