/* gbt_int.h - what the parts of the boosted-trees fit share (internal to
 * gbt_bin.c, gbt_hist.c and gbt_fit.c): the fit context, leaves, splits,
 * fixed-point gradient sums.
 *
 * Flow of one fit (gbt_fit.c): bin the features once (gbt_bin.c), then per
 * tree: histograms of the leaves being split and their best splits
 * (gbt_hist.c), partition the rows of the chosen leaf, set leaf values,
 * update margins and gradients. */
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
#define PAR_HIST    8192  /* rows from which a histogram is built by all threads */
#define PAR_SPLIT   16384 /* rows from which a partition uses all threads */
#define PCHUNK      8192  /* rows per item of a partition job */

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
/* Histogram of leaf `a` (rows divided between the threads when it is large)
 * with its most frequent bins recovered from the leaf totals; b = parent - a
 * when b is given (b->hist holds the parent's histogram on entry); the best
 * split of each, in a->best and b->best. ra, rb: scratch of c->nf splits. */
void rdm_gbt_hist_build(fitctx *c, leaf *a, leaf *b, split *ra, split *rb);

#endif
