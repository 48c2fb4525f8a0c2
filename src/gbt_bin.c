/* gbt_bin.c - feature binning for the boosted-trees fit: quantile edges of
 * numeric features (radix-sorted samples), bins of every training and
 * validation row, each feature's most frequent bin, and each row's sparse
 * list of its other bins. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gbt_int.h"

/* LSD radix sort, 11-bit digits; a digit that is the same in every key is
 * not sorted on (small integer values vary in few bits). */
static void radix_sort_u32(uint32_t *a, uint32_t *tmp, size_t n)
{
    size_t cnt[2048];
    uint32_t *src = a, *dst = tmp, all = ~0u, any = 0;
    for (size_t i = 0; i < n; i++) {
        all &= a[i];
        any |= a[i];
    }
    for (int pass = 0; pass < 3; pass++) {
        int shift = pass * 11;
        if ((((all ^ any) >> shift) & 2047u) == 0)
            continue;
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
        if (n <= EDGE_SAMPLE && i + 32 < n) /* rows d floats apart: fetch ahead */
            __builtin_prefetch(c->X + (i + 32) * (size_t)c->d + (size_t)j);
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
    /* the first edge >= v (the last is +inf), without data-dependent
     * branches: the loop runs the same number of times for every value */
    const float *e = c->edges + (size_t)j * MAX_CODES;
    int lo = 0;
    for (int len = c->nb[j]; len > 1;) {
        int half = len / 2;
        lo += e[lo + half - 1] < v ? half : 0;
        len -= half;
    }
    return lo;
}

#define RBLOCK 64 /* rows per block of the row lists' passes */

/* Bin n rows of X (row-major, d features) into column-major out[j * n + i],
 * chunks handed out by the pool. */
static void bin_rows(const fitctx *c, rdm_pool *pl, const float *X, size_t n, uint8_t *out)
{
    size_t lo, hi;
    while (next_chunk(pl, n, &lo, &hi) >= 0) {
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

/* Rows a..b-1 (at most RBLOCK), feature by feature (the columns are read in
 * order, and whether a bin is the default one decides no branch): pass 0
 * counts each row's entries into rowp[i + 1], pass 1 writes them, in feature
 * order, into the row's fixed slots, then its overflow, and pads the fixed
 * slots. */
static void rows_block(fitctx *c, int pass, size_t a, size_t b)
{
    uint32_t k[RBLOCK] = {0}, w = (uint32_t)c->fixw;
    uint16_t sink = 0;
    for (int j = 0; j < c->d; j++) {
        if (!c->splittable[j])
            continue;
        const uint8_t *col = c->cbins + (size_t)j * c->n;
        int off = c->off[j], def = c->defb[j] - off;
        for (size_t i = a; i < b; i++) {
            uint32_t nd = col[i] != def, kk = k[i - a];
            if (pass) {
                uint32_t in = nd & (kk < w);
                uint16_t *slot = in ? &c->fix[i * w + kk] : &sink;
                *slot = (uint16_t)(off + col[i]);
                if (nd & (kk >= w)) /* rare: beyond the fixed slots */
                    c->ovf[c->rowp[i] + kk - w] = (uint32_t)(off + col[i]);
            }
            k[i - a] = kk + nd;
        }
    }
    for (size_t i = a; i < b; i++) {
        if (pass)
            for (uint32_t s = k[i - a]; s < w; s++)
                c->fix[i * w + s] = (uint16_t)(c->tb + (int)s);
        else
            c->rowp[i + 1] = k[i - a]; /* all entries for now */
    }
}

static void rows_job(void *arg, int tid, rdm_pool *pl)
{
    rowjob *rj = arg;
    size_t lo, hi;
    (void)tid;
    while (next_chunk(pl, rj->c->n, &lo, &hi) >= 0)
        for (size_t a = lo; a < hi; a += RBLOCK)
            rows_block(rj->c, rj->pass, a, a + RBLOCK < hi ? a + RBLOCK : hi);
}

/* Width of the fixed part of the row lists: at most ~2% of rows overflow it
 * (rowp[i + 1] holds row i's entry count). -1 when out of memory. */
static int fixed_width(const fitctx *c)
{
    size_t n = c->n, *cnt = calloc((size_t)c->d + 1, sizeof *cnt);
    if (!cnt)
        return -1;
    for (size_t i = 0; i < n; i++)
        cnt[c->rowp[i + 1]]++;
    size_t acc = 0;
    int w = 0;
    while (w < c->d && n - (acc + cnt[w]) > n / 50)
        acc += cnt[w++];
    free(cnt);
    return c->tb + w > 65536 ? 0 : w;
}

/* The rows' lists of non-default entries: count, size, fill. */
static int build_rows(fitctx *c, rdm_err *err)
{
    size_t n = c->n;
    rowjob rj = {c, 0};
    c->rowp[0] = 0;
    rdm_pool_run(c->pool, rows_job, &rj);
    int w = fixed_width(c);
    if (w < 0)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    c->fixw = w;
    c->htb = c->tb + w;
    uint64_t tot = 0; /* overflow counts -> offsets */
    for (size_t i = 0; i < n; i++) {
        uint32_t k = c->rowp[i + 1];
        k = k > (uint32_t)c->fixw ? k - (uint32_t)c->fixw : 0;
        c->rowp[i] = (uint32_t)tot;
        tot += k;
    }
    if (tot > 0xffffffffu)
        return rdm_errf(err, RDM_EINVAL, "gbt: %zu rows x %d features is too large", n, c->d);
    c->rowp[n] = (uint32_t)tot;
    c->ovf = malloc((tot ? tot : 1) * sizeof *c->ovf);
    c->fix = malloc((n * (size_t)c->fixw + 1) * sizeof *c->fix);
    if (!c->ovf || !c->fix)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    rj.pass = 1;
    rdm_pool_run(c->pool, rows_job, &rj);
    return RDM_OK;
}

int rdm_gbt_bin_build(fitctx *c, int max_bins, rdm_err *err)
{
    size_t ns = c->n > EDGE_SAMPLE ? EDGE_SAMPLE : c->n;
    for (int t = 0; t < c->nt; t++) {
        c->wbuf[t] = malloc(ns * sizeof(uint32_t));
        c->wkey[t] = malloc(ns * sizeof(uint32_t));
        if (!c->wbuf[t] || !c->wkey[t])
            return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    }
    edgejob ej = {c, max_bins};
    rdm_pool_run(c->pool, edge_job, &ej);
    for (int j = 0; j < c->d; j++) {
        if (c->ncat[j] > 0)
            c->nb[j] = c->ncat[j];
        c->off[j + 1] = c->off[j] + c->nb[j] + 1;
    }
    c->tb = c->off[c->d];
    rdm_pool_run(c->pool, bin_job, c);
    if (c->nv)
        rdm_pool_run(c->pool, vbin_job, c);
    rdm_pool_run(c->pool, mode_job, c);
    return build_rows(c, err);
}
