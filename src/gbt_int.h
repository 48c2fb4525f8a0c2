/* gbt_int.h - what the parts of the boosted-trees fit share (internal to
 * gbt_bin.c, gbt_hist.c and gbt_fit.c): the fit context, leaves, splits,
 * fixed-point gradient sums.
 *
 * Flow of one fit (gbt_fit.c): bin the features once (gbt_bin.c), then per
 * tree: the root's histogram and best split, then per split of the leaf of
 * best gain the partition of its rows with the histograms and best splits of
 * both children, in one pool job of two phases (gbt_hist.c), then leaf
 * values, margins and gradients. */
#ifndef RDM_GBT_INT_H
#define RDM_GBT_INT_H

#include <stdint.h>

#include "gbt_tree.h"
#include "pool.h"

/* rows per chunk in loss reductions and row jobs: fixed, so sums do not
 * depend on threads */
#define CHUNK       8192
#define EDGE_SAMPLE 200000 /* rows used to compute the quantile bin edges */
#define CAT_SMOOTH  50.0   /* hessian added to each category when ordering categories */
#define MIN_GAIN    1e-10
#define SCHUNK      2048 /* rows of a leaf per item of a split job, at most */
#define SCHUNK_MIN  256  /* ... and at least (but the last) */
#define PAR_SPLIT   1024 /* rows from which a leaf's partition alone uses all threads */

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

/* A feature's share of the split finding (gbt_hist.c): its work, its
 * position in the tree's features and the thread it goes to. */
typedef struct fcost {
    int cost, q, t;
} fcost;

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
    int idx_all;         /* the tree has every row: the root's job sets idx[i] = i */
    uint32_t *pnl, *pnr; /* per split chunk: rows going left / right */
    uint32_t *pol, *por; /* per split chunk: where its left / right rows go in idx */
    /* validation rows, binned with the training edges and partitioned with the
     * training rows (the same route as the float thresholds give) */
    size_t nv;
    const float *Xv;
    uint8_t *vbins; /* column-major d x nv */
    uint32_t *vidx, *vtmp;
    int *fl, nf; /* features used by the current tree */
    /* The tree's feature items of a split (gbt_hist.c), of about equal work
     * and in one block of about equal work per thread: item k holds the
     * features at positions fitem[fstart[k] .. fstart[k + 1]) of fl, thread
     * t's block ends before item fend[t]. */
    int *fitem, *fstart, nfi;
    size_t fend[RDM_POOL_MAX];
    fcost *fsort; /* scratch: the features by work */
    double l2, mcw;
    int max_depth;
    rdm_pool *pool;
    int nt;
    ghq **thist;                 /* per thread: a partial histogram of a job's rows */
    uint8_t tused[RDM_POOL_MAX]; /* thread t added rows to thist[t] in this job */
    float **wbuf;                /* per-thread scratch for edges */
    double **wlv;                /* per thread: CHUNK rows' leaf values */
    uint32_t **wkey;
    /* boosting state (gbt_fit.c) */
    int *ncat_own;        /* copy of the caller's ncat (c->ncat points here) */
    double *margin;       /* n training margins */
    double *vmargin;      /* nv validation margins */
    double *part, *vpart; /* per CHUNK of rows: loss sums */
    ghq *histmem;         /* max_leaves histograms of htb entries */
    ghq **freeh;          /* histograms not held by a leaf */
    leaf *leaves;         /* leaves of the tree being grown */
    leaf *sorted;         /* the same, by first row */
    double *lw;           /* leaf values, in `sorted` order */
    int *tbin;            /* per node of the current tree (relative): numeric split bin */
    split *ra, *rb;       /* per active feature: best splits of two leaves */
} fitctx;

/* The next chunk of CHUNK rows of 0..n-1 claimed from the running pool job:
 * its index (for per-chunk results) and its rows [*lo, *hi); -1 when every
 * chunk is taken. */
static inline long next_chunk(rdm_pool *pl, size_t n, size_t *lo, size_t *hi)
{
    size_t ch = rdm_pool_next(pl);
    if (ch >= (n + CHUNK - 1) / CHUNK)
        return -1;
    *lo = ch * CHUNK;
    *hi = *lo + CHUNK < n ? *lo + CHUNK : n;
    return (long)ch;
}

/* Whether a leaf at `depth` of `rows` rows and hessian sum h may be split. */
static inline int rdm_gbt_can_split(const fitctx *c, int depth, uint32_t rows, int64_t h)
{
    int dep_ok = c->max_depth == 0 || depth < c->max_depth;
    return dep_ok && rows >= 2 && (double)h * c->inv >= 2 * c->mcw;
}

/* ---- gbt_bin.c ---- */

/* Quantile bin edges of the numeric features (categorical features: one bin
 * per code), the binned training and validation columns, the most frequent
 * bin of each feature and the rows' lists of other bins (fix, rowp, ovf).
 * Needs n, d, ncat, X, Xv, nv, nt, pool and the per-thread wbuf/wkey
 * scratch. Returns RDM_OK, RDM_ENOMEM or RDM_EINVAL (too many entries), with
 * err. */
int rdm_gbt_bin_build(fitctx *c, int max_bins, rdm_err *err);

/* ---- gbt_hist.c ---- */

/* No split yet (gain MIN_GAIN, feature -1). */
void rdm_gbt_split_init(split *s);
/* The root leaf's histogram (rows idx[a->begin..a->end), which it first sets
 * to 0, 1, ... with c->idx_all; the validation rows' list vidx too), its
 * totals a->g, a->h, a->can_split and its best split in a->best; first the
 * tree's feature items (c->fitem ...) for the features c->fl[0 .. c->nf). */
void rdm_gbt_root_hist(fitctx *c, leaf *a);
/* Stable partition of P's training rows (idx) and validation rows (vidx) by
 * P->best into the children A (left) and B (right): sets their begin/end and
 * vbegin/vend and can_split (g, h and depth are the caller's). With hist,
 * A->hist and B->hist given (the larger child's holds P's histogram on entry:
 * large 0 = A, 1 = B), the histograms of both (the smaller child's from its
 * rows, the larger's as parent minus smaller) and their best splits in
 * A->best, B->best; without, no best splits. The result is the same for every
 * thread count. */
void rdm_gbt_split_rows(fitctx *c, const leaf *P, leaf *A, leaf *B, int large, int hist);

#endif
