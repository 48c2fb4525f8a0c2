/* gbt_fit.c - the boosted-trees fit: boosting rounds of leaf-wise tree
 * growth (row partitions, leaf values), gradients and losses, sampling,
 * early stopping. Binning is gbt_bin.c, histograms and splits gbt_hist.c. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gbt_int.h"
#include "rng.h"

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

/* One round's pass over the rows, one pool job of one phase: per chunk of
 * validation rows, their leaves' values added to their margins, then (vloss)
 * the chunk's validation loss, which needs no other chunk's margins, so no
 * thread waits for another between the two; then per chunk of training rows,
 * the last tree's leaf values added to the margins (leaves mode) and the next
 * gradients (and loss sums). The validation chunks, the larger items, come
 * first: the last items claimed are the smaller training ones. */
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
    /* validation: the values vw of the nvleaf leaves of vl added to their
     * rows (vidx[vbegin..vend)), then
     * with vloss the loss of the yv labels per chunk in vpart */
    const leaf *vl;
    const double *vw;
    int nvleaf, vloss;
    const float *yv;
    /* items by thread: a thread's block of rows is the same round after
     * round, as are its rows of the split jobs (gbt_hist.c) */
    rdm_pool_share shv, sht;
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

/* Rows lo..hi-1's leaf values into wl[0 .. hi-lo): per leaf, the range of
 * its positions in idx holding those rows (within each leaf the positions
 * hold ascending rows: stable partitions of 0..n-1); the validation ranges
 * of the leaves with `valid`. Items of rows, not of positions: threads then
 * write disjoint parts of the margins and gradients. */
static void leaf_values(const uint32_t *idx, const leaf *lv, const double *lw, int nl, int valid,
                        size_t lo, size_t hi, double *wl)
{
    for (int l = 0; l < nl; l++) {
        size_t a =
            lower_row(idx, valid ? lv[l].vbegin : lv[l].begin, valid ? lv[l].vend : lv[l].end, lo);
        size_t b = lower_row(idx, a, valid ? lv[l].vend : lv[l].end, hi);
        double w = lw[l];
        for (size_t k = a; k < b; k++)
            wl[idx[k] - lo] = w;
    }
}

/* Training rows of chunk ch: the last tree's leaf values added to their
 * margins (leaves mode), then the gradients in order. */
static void grad_chunk(gradjob *gj, int tid, size_t ch)
{
    fitctx *c = gj->c;
    size_t lo = ch * CHUNK, hi = lo + CHUNK < gj->npos ? lo + CHUNK : gj->npos;
    double *wl = c->wlv[tid];
    logprod lp = {1.0, 0, 0};
    double s = 0;
    if (gj->lv) {
        leaf_values(c->idx, gj->lv, gj->lw, gj->nleaves, 0, lo, hi, wl);
        for (size_t i = lo; i < hi; i++)
            gj->margin[i] += wl[i - lo];
    }
    for (size_t i = lo; i < hi; i++) {
        double z = gj->margin[i], yi = gj->y[i];
        double e = row_grad(c, z, yi, &c->gh[i]);
        if (gj->want_loss) {
            lp_mul(&lp, 1.0 + e);
            s += (z > 0 ? z : 0) - yi * z;
        }
    }
    if (gj->want_loss)
        gj->part[ch] = s + lp_log(&lp);
}

/* Validation rows of chunk ch: their leaves' values added to their
 * margins, then (vloss) the chunk's loss. */
static void valid_chunk(gradjob *gj, int tid, size_t ch)
{
    fitctx *c = gj->c;
    size_t lo = ch * CHUNK, hi = lo + CHUNK < c->nv ? lo + CHUNK : c->nv;
    double *wl = c->wlv[tid];
    leaf_values(c->vidx, gj->vl, gj->vw, gj->nvleaf, 1, lo, hi, wl);
    for (size_t i = lo; i < hi; i++)
        c->vmargin[i] += wl[i - lo];
    if (!gj->vloss)
        return;
    logprod lp = {1.0, 0, 0};
    double s = 0;
    for (size_t i = lo; i < hi; i++) {
        double z = c->vmargin[i], yi = gj->yv[i];
        lp_mul(&lp, 1.0 + exp(-fabs(z)));
        s += (z > 0 ? z : 0) - yi * z;
    }
    c->vpart[ch] = s + lp_log(&lp);
}

static void grad_job(void *arg, int tid, rdm_pool *pl)
{
    gradjob *gj = arg;
    (void)pl;
    for (size_t it; (it = rdm_pool_share_next(&gj->shv, tid)) != SIZE_MAX;)
        valid_chunk(gj, tid, it);
    for (size_t it; (it = rdm_pool_share_next(&gj->sht, tid)) != SIZE_MAX;)
        grad_chunk(gj, tid, it);
}

static void run_grad(fitctx *c, gradjob *gj)
{
    size_t nvch = gj->nvleaf > 0 ? (c->nv + CHUNK - 1) / CHUNK : 0;
    rdm_pool_share_init(&gj->shv, nvch, c->nt);
    rdm_pool_share_init(&gj->sht, (gj->npos + CHUNK - 1) / CHUNK, c->nt);
    rdm_pool_run(c->pool, grad_job, gj);
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
    size_t lo, hi;
    (void)tid;
    while (next_chunk(pl, c->n, &lo, &hi) >= 0) {
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

/* ---- the fit ---- */

static void fit_release(fitctx *c)
{
    rdm_pool_free(c->pool);
    for (int t = 0; t < c->nt; t++) {
        free(c->wbuf ? c->wbuf[t] : NULL);
        free(c->wkey ? c->wkey[t] : NULL);
        free(c->thist ? c->thist[t] : NULL);
        free(c->wlv ? c->wlv[t] : NULL);
    }
    void *owned[] = {c->pol,      c->wbuf,       c->wkey,   c->thist,   c->nb,   c->off,
                     c->defb,     c->splittable, c->edges,  c->cbins,   c->rowp, c->fix,
                     c->ovf,      c->gh,         c->idx,    c->tmpl,    c->tmpr, c->pnl,
                     c->pnr,      c->por,        c->vbins,  c->vidx,    c->vtmp, c->fl,
                     c->ncat_own, c->tbin,       c->margin, c->vmargin, c->part, c->vpart,
                     c->histmem,  c->freeh,      c->leaves, c->sorted,  c->lw,   c->ra,
                     c->rb,       c->wlv,        c->fitem,  c->fstart,  c->fsort};
    for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++)
        free(owned[k]);
    memset(c, 0, sizeof *c);
}

/* The fixed-point scale: n rows of |g| <= 1 must sum within 2^62. */
static void fixed_point(fitctx *c, size_t n)
{
    int sh = 62;
    while (sh > 20 && ldexp(1.0, sh) * (double)n >= 4611686018427387904.0)
        sh--;
    if (sh > 40)
        sh = 40;
    c->scale = ldexp(1.0, sh);
    c->inv = ldexp(1.0, -sh);
}

/* Everything the fit needs before binning. Returns 0 or -1 (out of memory). */
static int fit_alloc(fitctx *c, size_t n, int d, const int *ncat_in, size_t nv,
                     const rdm_gbt_params *p, int nt)
{
    size_t L = (size_t)p->max_leaves;
    c->nt = nt;
    c->ncat_own = calloc((size_t)d, sizeof *c->ncat_own);
    if (!c->ncat_own)
        return -1;
    if (ncat_in)
        memcpy(c->ncat_own, ncat_in, (size_t)d * sizeof *c->ncat_own);
    c->ncat = c->ncat_own;
    c->pool = rdm_pool_create(nt, NULL);
    c->nb = calloc((size_t)d, sizeof *c->nb);
    c->off = calloc((size_t)d + 1, sizeof *c->off);
    c->defb = calloc((size_t)d, sizeof *c->defb);
    c->splittable = calloc((size_t)d, 1);
    c->edges = malloc((size_t)d * MAX_CODES * sizeof *c->edges);
    c->cbins = malloc(n * (size_t)d);
    c->rowp = malloc((n + 1) * sizeof *c->rowp);
    c->gh = malloc(n * sizeof *c->gh);
    c->idx = malloc(n * sizeof *c->idx);
    c->tmpl = malloc(n * sizeof *c->tmpl);
    c->tmpr = malloc(n * sizeof *c->tmpr);
    c->pnl = malloc((n / SCHUNK_MIN + 2) * sizeof *c->pnl);
    c->pnr = malloc((n / SCHUNK_MIN + 2) * sizeof *c->pnr);
    c->pol = malloc((n / SCHUNK_MIN + 2) * sizeof *c->pol);
    c->por = malloc((n / SCHUNK_MIN + 2) * sizeof *c->por);
    c->fl = malloc((size_t)d * sizeof *c->fl);
    c->fitem = malloc((size_t)d * sizeof *c->fitem);
    c->fstart = malloc(((size_t)d + 1) * sizeof *c->fstart);
    c->fsort = malloc((size_t)d * sizeof *c->fsort);
    c->wbuf = calloc((size_t)nt, sizeof *c->wbuf);
    c->wkey = calloc((size_t)nt, sizeof *c->wkey);
    c->thist = calloc((size_t)nt, sizeof *c->thist);
    c->wlv = calloc((size_t)nt, sizeof *c->wlv);
    c->margin = malloc(n * sizeof *c->margin);
    c->part = malloc(((n + CHUNK - 1) / CHUNK) * sizeof *c->part);
    c->freeh = malloc(L * sizeof *c->freeh);
    c->leaves = malloc(L * sizeof *c->leaves);
    c->sorted = malloc(L * sizeof *c->sorted);
    c->lw = malloc(L * sizeof *c->lw);
    c->tbin = malloc(2 * L * sizeof *c->tbin);
    c->ra = malloc((size_t)d * sizeof *c->ra);
    c->rb = malloc((size_t)d * sizeof *c->rb);
    if (!c->pool || !c->nb || !c->off || !c->defb || !c->splittable || !c->edges || !c->cbins ||
        !c->rowp || !c->gh || !c->idx || !c->tmpl || !c->tmpr || !c->pnl || !c->pnr || !c->fl ||
        !c->fitem || !c->fstart || !c->fsort || !c->pol || !c->por || !c->wbuf || !c->wkey ||
        !c->thist || !c->wlv || !c->margin || !c->part || !c->freeh || !c->leaves || !c->sorted ||
        !c->lw || !c->tbin || !c->ra || !c->rb)
        return -1;
    if (nv) {
        c->vmargin = malloc(nv * sizeof *c->vmargin);
        c->vpart = malloc(((nv + CHUNK - 1) / CHUNK) * sizeof *c->vpart);
        c->vbins = malloc(nv * (size_t)d);
        c->vidx = malloc(nv * sizeof *c->vidx);
        c->vtmp = malloc(nv * sizeof *c->vtmp);
        if (!c->vmargin || !c->vpart || !c->vbins || !c->vidx || !c->vtmp)
            return -1;
    }
    return 0;
}

/* Histogram memory, once the bins are known (htb entries each). */
static int alloc_hists(fitctx *c, int max_leaves)
{
    for (int t = 0; t < c->nt; t++)
        if (!(c->thist[t] = malloc((size_t)c->htb * sizeof **c->thist)) ||
            !(c->wlv[t] = malloc(CHUNK * sizeof **c->wlv)))
            return -1;
    c->histmem = malloc((size_t)max_leaves * (size_t)c->htb * sizeof *c->histmem);
    return c->histmem ? 0 : -1;
}

/* Base margin: the log-odds of the training label rate. */
static double base_margin(const float *y, size_t n)
{
    double pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y[i];
    double rate = pos / (double)n;
    if (rate < 1e-6)
        rate = 1e-6;
    if (rate > 1 - 1e-6)
        rate = 1 - 1e-6;
    return log(rate / (1 - rate));
}

/* Features for this tree in c->fl[0..c->nf), ascending. */
static void sample_features(fitctx *c, const rdm_gbt_params *p, uint64_t *rng)
{
    int d = c->d, nf = d;
    for (int j = 0; j < d; j++)
        c->fl[j] = j;
    if (p->colsample < 1.0) {
        nf = (int)(p->colsample * d + 0.5);
        if (nf < 1)
            nf = 1;
        for (int q = 0; q < nf; q++) {
            int r = q + (int)(rdm_splitmix64(rng) % (uint64_t)(d - q));
            int t = c->fl[q];
            c->fl[q] = c->fl[r];
            c->fl[r] = t;
        }
        /* ascending order keeps memory access sequential */
        for (int q = 1; q < nf; q++)
            for (int r = q; r > 0 && c->fl[r - 1] > c->fl[r]; r--) {
                int t = c->fl[r];
                c->fl[r] = c->fl[r - 1];
                c->fl[r - 1] = t;
            }
    }
    c->nf = nf;
}

/* Rows for this tree in c->idx (ascending); returns their number. Every
 * row (no subsampling): the root's job writes them, chunk by chunk
 * (c->idx_all). */
static uint32_t sample_rows(fitctx *c, const rdm_gbt_params *p, uint64_t *rng)
{
    uint32_t nin = 0;
    size_t n = c->n;
    c->idx_all = p->subsample >= 1.0;
    if (c->idx_all)
        return (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        if (rdm_splitmix64_uniform(rng) < p->subsample)
            c->idx[nin++] = (uint32_t)i;
    if (nin == 0)
        c->idx[nin++] = (uint32_t)(rdm_splitmix64(rng) % n);
    return nin;
}

/* The root leaf over idx[0..nin) and every validation row, with its
 * histogram and best split. */
static void root_leaf(fitctx *c, int node, uint32_t nin, int *nfree)
{
    leaf *L = &c->leaves[0];
    memset(L, 0, sizeof *L);
    L->node = node;
    L->end = nin;
    L->vend = (uint32_t)c->nv;
    L->hist = c->freeh[--*nfree];
    rdm_gbt_root_hist(c, L);
}

/* Turn P's node into its best split; 0 or -1 (out of memory). */
static int set_split(fitctx *c, rdm_gbt *m, const leaf *P, int root, int kids)
{
    gnode *q = &m->nodes[P->node];
    q->feat = P->best.feat;
    q->dleft = P->best.dleft;
    q->gain = P->best.gain;
    q->left = kids;
    q->right = kids + 1;
    if (c->ncat[q->feat] > 0) {
        int nwd = ncat_words(c->ncat[q->feat]);
        int w = rdm_gbt_tree_add_words(m, nwd);
        if (w < 0)
            return -1;
        q = &m->nodes[P->node];
        q->cat = w;
        memcpy(m->cats + w, P->best.set, (size_t)nwd * sizeof *m->cats);
        q->thr = 0;
    } else {
        q->thr = c->edges[(size_t)q->feat * MAX_CODES + (size_t)P->best.tbin];
    }
    c->tbin[P->node - root] = P->best.tbin;
    return 0;
}

/* Split leaf bl into itself (left child) and a new last leaf (right child),
 * with the histograms and best splits of both unless no further split can
 * happen. Returns 0 or -1 (out of memory). */
static int split_leaf(fitctx *c, rdm_gbt *m, int root, int bl, int *nleaves, int *nfree,
                      int max_leaves)
{
    leaf P = c->leaves[bl];
    int kids = rdm_gbt_tree_add_nodes(m, 2);
    if (kids < 0 || set_split(c, m, &P, root, kids) != 0)
        return -1;
    leaf A, B;
    memset(&A, 0, sizeof A);
    memset(&B, 0, sizeof B);
    A.node = kids;
    A.g = P.best.gl;
    A.h = P.best.hl;
    B.node = kids + 1;
    B.g = P.best.gr;
    B.h = P.best.hr;
    A.depth = B.depth = P.depth + 1;
    /* the histogram is built for the side of smaller hessian (about the fewer
     * rows; either gives the same result) */
    int large = A.h <= B.h; /* 1: B is the larger */
    leaf *big = large ? &B : &A;
    big->hist = P.hist;
    (large ? &A : &B)->hist = c->freeh[--*nfree];
    /* no histograms when neither child may split (their rows are known after
     * the partition: P's are an upper bound), nor for the children of the
     * last split */
    uint32_t rows = P.end - P.begin;
    int hist =
        (rdm_gbt_can_split(c, A.depth, rows, A.h) || rdm_gbt_can_split(c, B.depth, rows, B.h)) &&
        *nleaves + 1 < max_leaves;
    rdm_gbt_split_rows(c, &P, &A, &B, large, hist);
    m->nodes[kids].cover = (double)(A.end - A.begin);
    m->nodes[kids + 1].cover = (double)(B.end - B.begin);
    c->leaves[bl] = A;
    c->leaves[(*nleaves)++] = B;
    return 0;
}

/* Grow one tree, leaf-wise (best gain first), over idx[0..nin); sets the
 * leaf values. Returns the number of leaves, or -1 (out of memory). */
static int grow_tree(fitctx *c, rdm_gbt *m, const rdm_gbt_params *p, uint32_t nin)
{
    if (rdm_gbt_tree_begin(m) != 0)
        return -1;
    int root = rdm_gbt_tree_add_nodes(m, 1);
    if (root < 0)
        return -1;
    m->nodes[root].cover = (double)nin; /* rows, for explanations */
    int nfree = p->max_leaves;
    for (int k = 0; k < p->max_leaves; k++)
        c->freeh[k] = c->histmem + (size_t)(p->max_leaves - 1 - k) * (size_t)c->htb;
    root_leaf(c, root, nin, &nfree);
    int nleaves = 1;
    while (nleaves < p->max_leaves) {
        int bl = -1;
        double bg = MIN_GAIN;
        for (int l = 0; l < nleaves; l++)
            if (c->leaves[l].best.feat >= 0 && c->leaves[l].best.gain > bg) {
                bg = c->leaves[l].best.gain;
                bl = l;
            }
        if (bl < 0)
            break;
        if (split_leaf(c, m, root, bl, &nleaves, &nfree, p->max_leaves) != 0)
            return -1;
    }
    for (int l = 0; l < nleaves; l++) {
        leaf *lf = &c->leaves[l];
        double w = -((double)lf->g * c->inv) / ((double)lf->h * c->inv + c->l2) * p->learning_rate;
        m->nodes[lf->node].value = w;
    }
    if (rdm_gbt_tree_end(m) != 0)
        return -1;
    return nleaves;
}

/* Training and validation margins of the last tree and the next gradients;
 * with want_loss, the per-chunk training losses in c->part; with validation
 * rows (labels yv), the per-chunk validation losses in c->vpart. */
static void update_train(fitctx *c, const rdm_gbt *m, const rdm_gbt_params *p, const float *y,
                         const float *yv, int nleaves, int want_loss)
{
    size_t n = c->n;
    memcpy(c->sorted, c->leaves, (size_t)nleaves * sizeof *c->sorted);
    qsort(c->sorted, (size_t)nleaves, sizeof *c->sorted, cmp_leaf_begin);
    for (int l = 0; l < nleaves; l++)
        c->lw[l] = m->nodes[c->sorted[l].node].value;
    int nvl = c->nv ? nleaves : 0;
    gradjob gj = {.c = c,
                  .y = y,
                  .margin = c->margin,
                  .part = c->part,
                  .want_loss = want_loss,
                  .lv = c->sorted,
                  .lw = c->lw,
                  .nleaves = nleaves,
                  .npos = n,
                  .vl = c->sorted,
                  .vw = c->lw,
                  .nvleaf = nvl,
                  .vloss = nvl > 0,
                  .yv = yv};
    if (p->subsample < 1.0) {
        binjob bj = {c, m, m->ntrees - 1, c->tbin, c->margin};
        rdm_pool_run(c->pool, bintrav_job, &bj);
        gj.lv = NULL;
        gj.lw = NULL;
        gj.nleaves = 0;
    }
    run_grad(c, &gj);
}

/* Early stopping on the validation loss. */
typedef struct stopper {
    double best_vloss;
    int best_iter, since_best;
} stopper;

/* 1 when the fit should stop after round `it` with validation loss vloss. */
static int stop_now(stopper *s, int it, double vloss, int patience)
{
    if (s->best_iter < 0 || vloss < s->best_vloss - 1e-12 * fabs(s->best_vloss)) {
        s->best_vloss = vloss;
        s->best_iter = it;
        s->since_best = 0;
        return 0;
    }
    return ++s->since_best >= patience;
}

/* Set up the context, bin, allocate histograms; RDM_OK or an error. */
static int fit_prepare(fitctx *c, const float *X, size_t n, int d, const int *ncat_in,
                       const float *Xv, size_t nv, const rdm_gbt_params *p, rdm_err *err)
{
    int nt = p->threads == 0 ? rdm_ncpu() : p->threads > RDM_POOL_MAX ? RDM_POOL_MAX : p->threads;
    c->n = n;
    c->d = d;
    c->X = X;
    c->l2 = p->l2;
    c->mcw = p->min_child_weight > 1e-9 ? p->min_child_weight : 1e-9;
    c->max_depth = p->max_depth;
    fixed_point(c, n);
    if (fit_alloc(c, n, d, ncat_in, nv, p, nt) != 0)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    c->nv = nv;
    c->Xv = nv ? Xv : NULL;
    int rc = rdm_gbt_bin_build(c, p->max_bins, err);
    if (rc == RDM_OK && alloc_hists(c, p->max_leaves) != 0)
        rc = rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    return rc;
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
    if (fit_prepare(&c, X, n, d, ncat_in, Xv, nv, p, err) != RDM_OK)
        goto fail;
    if (!(m = rdm_gbt_tree_new(d, c.ncat)))
        goto nomem;
    m->base = base_margin(y, n);
    for (size_t i = 0; i < n; i++)
        c.margin[i] = m->base;
    for (size_t i = 0; i < nv; i++)
        c.vmargin[i] = m->base;
    uint64_t rng = p->seed ^ 0x5851f42d4c957f2dULL;
    stopper st = {INFINITY, -1, 0};
    gradjob gj = {.c = &c, .y = y, .margin = c.margin, .part = c.part, .npos = n};
    run_grad(&c, &gj);
    for (int it = 0; it < p->max_iter; it++) {
        sample_features(&c, p, &rng);
        uint32_t nin = sample_rows(&c, p, &rng);
        int nleaves = grow_tree(&c, m, p, nin);
        if (nleaves < 0)
            goto nomem;
        update_train(&c, m, p, y, yv, nleaves, cb != NULL);
        double tloss = cb ? sum_parts(c.part, n) / (double)n : NAN, vloss = NAN;
        if (nv)
            vloss = sum_parts(c.vpart, nv) / (double)nv;
        if (cb)
            cb(it, tloss, vloss, ud);
        if (nv && p->early_stopping > 0 && stop_now(&st, it, vloss, p->early_stopping))
            break;
    }
    if (nv && p->early_stopping > 0 && st.best_iter >= 0)
        rdm_gbt_tree_keep(m, st.best_iter + 1);
    if (rdm_gbt_score_prepare(m) != 0)
        goto nomem;
    fit_release(&c);
    return m;
nomem:
    rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
fail:
    rdm_gbt_free(m);
    fit_release(&c);
    return NULL;
}
