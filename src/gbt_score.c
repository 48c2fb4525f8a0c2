/* gbt_score.c - scoring boosted trees over blocks of rows.
 *
 * The main path is leaf-mask tables (QuickScorer's idea: Lucchese et al.,
 * SIGIR 2015), built once per model by rdm_gbt_score_prepare. The leaves of
 * a tree are numbered left to right; a node that sends a row right rules out
 * the leaves of its left subtree, and the row's leaf is the leftmost leaf not
 * ruled out. Which nodes send a row right depends only on the bin of each
 * feature's value among that feature's split points (numeric: the sorted
 * distinct thresholds of every tree, then missing; categorical: the codes,
 * then missing or unknown). So for each group of GROUP trees, each feature
 * those trees split on and each of its bins, a table holds one word per
 * tree: the leaves still possible (the AND of the masks of that tree's nodes
 * on the feature that send the bin right). A row's leaves in a group are the
 * AND, over the group's features, of the table rows its bins pick: a fixed
 * number of loads and ANDs that the compiler vectorises, no branches, the
 * same work for every row. A block of rows is binned once and goes through
 * the groups in turn, whose tables then stay in the cache.
 *
 * Models the tables do not fit (more than 32 leaves in a tree, too many
 * features or bins) are walked instead: the compact nodes (gbt_tree.h) by
 * eight independent (tree, row) lanes at a time, a block of rows one tree at
 * a time.
 *
 * Either way each row's leaf values are added to the base in tree order, so
 * every path and block size gives the same margins, bit for bit. One record
 * is a block of one. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gbt_tree.h"

#define GROUP     32         /* trees per table group */
#define QS_LEAVES 32         /* leaves per tree at most (one 32-bit word) */
#define QS_FEATS  256        /* features the trees split on, at most */
#define QS_BINS   65535      /* bins per feature, at most (uint16_t) */
#define QS_WORDS  (1u << 24) /* table words at most (64 MB) */
#define QS_ROWS   16         /* rows binned at a time */

/* GROUP words as vectors of VW (GCC and clang vector extension: SSE2 on
 * x86-64, NEON on arm64); the tables are aligned to 64 bytes */
#define VW 16
typedef uint32_t vmask __attribute__((vector_size(4 * VW)));

struct gbt_qs {
    int ngroups;
    int nf;         /* features the trees split on */
    int *feat;      /* nf: the model feature */
    int *ncode;     /* nf: categorical: its codes (= its missing bin); numeric: 0 */
    int *toff;      /* nf + 1: numeric thresholds thr[toff[u] .. toff[u + 1]) */
    float *thr;     /* sorted, distinct */
    int *gfoff;     /* ngroups + 1: group g's features are gfu[gfoff[g] .. gfoff[g + 1]) */
    int *gfu;       /* feature (0..nf) */
    size_t *moff;   /* per group feature: its first table word (bin 0, tree 0) */
    uint32_t *mask; /* per group, feature, bin: GROUP words (one per tree) */
    double *leafv;  /* ntrees * QS_LEAVES: leaf values, left to right */
};

/* ---------------------------------------------------------------- walking */

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

#define LANES 8
#define BLOCK 32 /* rows walked tree by tree: their features stay in the cache */

/* Lanes are (tree, row) pairs in tree-major order: lane L is tree L / n, row
 * L % n. Each row's leaf values are added in lane order, hence in tree order,
 * whatever n is: the sums are the same, bit for bit, for every block size. */
static void walk_block(const rdm_gbt *m, const float *X, size_t n, double *out)
{
    const cnode *cn = m->cn;
    const double *lval = m->lval;
    size_t d = (size_t)m->d, total = (size_t)m->ntrees * n, L = 0, r = 0;
    int t = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = m->base;
    for (; L + LANES <= total; L += LANES) {
        int k[LANES];
        const float *x[LANES];
        double *o[LANES];
        for (int i = 0; i < LANES; i++) {
            k[i] = m->ctstart[t];
            x[i] = X + r * d;
            o[i] = &out[r];
            if (++r == n) {
                r = 0;
                t++;
            }
        }
        /* a walk that has reached its leaf stays there */
        while (!(cn[k[0]].info & cn[k[1]].info & cn[k[2]].info & cn[k[3]].info & cn[k[4]].info &
                 cn[k[5]].info & cn[k[6]].info & cn[k[7]].info & CN_LEAF)) {
            k[0] = cn[k[0]].left + cn_right(m, &cn[k[0]], x[0]);
            k[1] = cn[k[1]].left + cn_right(m, &cn[k[1]], x[1]);
            k[2] = cn[k[2]].left + cn_right(m, &cn[k[2]], x[2]);
            k[3] = cn[k[3]].left + cn_right(m, &cn[k[3]], x[3]);
            k[4] = cn[k[4]].left + cn_right(m, &cn[k[4]], x[4]);
            k[5] = cn[k[5]].left + cn_right(m, &cn[k[5]], x[5]);
            k[6] = cn[k[6]].left + cn_right(m, &cn[k[6]], x[6]);
            k[7] = cn[k[7]].left + cn_right(m, &cn[k[7]], x[7]);
        }
        for (int i = 0; i < LANES; i++)
            *o[i] += lval[cn[k[i]].cat];
    }
    for (; L < total; L++) {
        out[r] += tree_value(m, t, X + r * d);
        if (++r == n) {
            r = 0;
            t++;
        }
    }
}

/* ---------------------------------------------------------------- tables */

static inline int nthr(const struct gbt_qs *q, int u)
{
    return q->toff[u + 1] - q->toff[u];
}

static inline int nbins(const struct gbt_qs *q, int u)
{
    return q->ncode[u] ? q->ncode[u] + 1 : nthr(q, u) + 2;
}

/* The bin of value v of feature u: categorical, its code when v is one (as
 * cn_right decides), else ncode (missing or unknown); numeric, the number of
 * thresholds below v (x <= thr[i] exactly when that number is <= i), and
 * nthr + 1 for NaN. */
static inline unsigned bin_of(const struct gbt_qs *q, int u, float v)
{
    int nc = q->ncode[u];
    if (nc) {
        if (v >= 0.0f && v < (float)nc) {
            int code = (int)v;
            if ((float)code == v)
                return (unsigned)code;
        }
        return (unsigned)nc;
    }
    const float *t = q->thr + q->toff[u];
    size_t len = (size_t)nthr(q, u), lo = 0;
    if (v != v)
        return (unsigned)len + 1;
    while (len > 1) { /* the answer is in [lo, lo + len] */
        size_t half = len / 2;
        lo = t[lo + half - 1] < v ? lo + half : lo;
        len -= half;
    }
    return (unsigned)(lo + (len == 1 && t[lo] < v));
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
qs_block(const rdm_gbt *m, const float *X, size_t n, double *out)
{
    const struct gbt_qs *q = m->qs;
    size_t d = (size_t)m->d;
    int nf = q->nf;
    uint16_t bins[QS_ROWS * QS_FEATS];
    uint32_t w[QS_ROWS * GROUP]; /* each row's leaf masks in the current group */
    for (size_t r = 0; r < n; r++) {
        out[r] = m->base;
        for (int u = 0; u < nf; u++)
            bins[r * (size_t)nf + (size_t)u] =
                (uint16_t)bin_of(q, u, X[r * d + (size_t)q->feat[u]]);
    }
    for (int g = 0; g < q->ngroups; g++) {
        const int *gu = q->gfu + q->gfoff[g];
        const size_t *mo = q->moff + q->gfoff[g];
        int ng = q->gfoff[g + 1] - q->gfoff[g], t0 = g * GROUP;
        int nt = m->ntrees - t0 < GROUP ? m->ntrees - t0 : GROUP;
        const double *lv = q->leafv + (size_t)t0 * QS_LEAVES;
        for (size_t r = 0; r < n; r++) {
            const uint16_t *br = bins + r * (size_t)nf;
            vmask acc[GROUP / VW];
#pragma GCC unroll 16
            for (int v = 0; v < GROUP / VW; v++)
                acc[v] = ~(vmask){0};
            for (int j = 0; j < ng; j++) {
                const vmask *mk = (const vmask *)(q->mask + mo[j] + (size_t)br[gu[j]] * GROUP);
#pragma GCC unroll 16
                for (int v = 0; v < GROUP / VW; v++)
                    acc[v] &= mk[v];
            }
            memcpy(w + r * GROUP, acc, sizeof acc);
        }
        /* leaf values in tree order; four rows at a time keep four sums in
         * flight (ctz: a mask is never 0, the row's own leaf is left) */
        size_t r = 0;
        for (; r + 4 <= n; r += 4) {
            const uint32_t *w0 = w + r * GROUP;
            double z0 = out[r], z1 = out[r + 1], z2 = out[r + 2], z3 = out[r + 3];
            for (int l = 0; l < nt; l++) {
                const double *v = lv + l * QS_LEAVES;
                z0 += v[__builtin_ctz(w0[l])];
                z1 += v[__builtin_ctz(w0[GROUP + l])];
                z2 += v[__builtin_ctz(w0[2 * GROUP + l])];
                z3 += v[__builtin_ctz(w0[3 * GROUP + l])];
            }
            out[r] = z0;
            out[r + 1] = z1;
            out[r + 2] = z2;
            out[r + 3] = z3;
        }
        for (; r < n; r++) {
            double z = out[r];
            for (int l = 0; l < nt; l++)
                z += lv[l * QS_LEAVES + __builtin_ctz(w[r * GROUP + (size_t)l])];
            out[r] = z;
        }
    }
}

void rdm_gbt_score_drop(rdm_gbt *m)
{
    struct gbt_qs *q = m->qs;
    if (!q)
        return;
    free(q->feat);
    free(q->ncode);
    free(q->toff);
    free(q->thr);
    free(q->gfoff);
    free(q->gfu);
    free(q->moff);
    free(q->mask);
    free(q->leafv);
    free(q);
    m->qs = NULL;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Which features the trees split on (uidx[j]: its number, or -1) and their
 * thresholds; 1 when the tables fit the model, 0 when it is to be walked, -1
 * when out of memory. */
static int qs_features(const rdm_gbt *m, struct gbt_qs *q, int *uidx)
{
    int ncn = m->ctstart[m->ntrees];
    for (int t = 0; t < m->ntrees; t++) {
        int leaves = 0;
        for (int k = m->ctstart[t]; k < m->ctstart[t + 1]; k++)
            leaves += (m->cn[k].info & CN_LEAF) != 0;
        if (leaves > QS_LEAVES)
            return 0;
    }
    for (int j = 0; j < m->d; j++)
        uidx[j] = -1;
    int *cnt = calloc((size_t)m->d, sizeof *cnt);
    if (!cnt)
        return -1;
    for (int k = 0; k < ncn; k++) {
        const cnode *c = &m->cn[k];
        if (c->info & CN_LEAF)
            continue;
        int j = (int)(c->info & CN_FEAT);
        if ((c->info & CN_CAT) ? m->ncat[j] == 0 : (m->ncat[j] != 0 || isnan(c->thr))) {
            free(cnt);
            return 0;
        }
        if (uidx[j] < 0)
            uidx[j] = q->nf++;
        cnt[j] += !(c->info & CN_CAT);
    }
    int rc = q->nf <= QS_FEATS;
    if (rc) {
        q->feat = malloc(((size_t)q->nf + 1) * sizeof *q->feat);
        q->ncode = malloc(((size_t)q->nf + 1) * sizeof *q->ncode);
        q->toff = calloc((size_t)q->nf + 1, sizeof *q->toff);
        q->thr = malloc(((size_t)ncn + 1) * sizeof *q->thr);
        rc = q->feat && q->ncode && q->toff && q->thr ? 1 : -1;
    }
    if (rc == 1) {
        for (int j = 0, u = 0; j < m->d; j++) /* numbered in feature order */
            if (uidx[j] >= 0) {
                uidx[j] = u;
                q->feat[u] = j;
                q->ncode[u] = m->ncat[j];
                q->toff[u + 1] = q->toff[u] + cnt[j];
                cnt[j] = q->toff[u]; /* next free slot */
                u++;
            }
        for (int k = 0; k < ncn; k++) {
            const cnode *c = &m->cn[k];
            if (!(c->info & (CN_LEAF | CN_CAT))) {
                int j = (int)(c->info & CN_FEAT);
                q->thr[cnt[j]++] = c->thr;
            }
        }
        int w = 0; /* sort each feature's thresholds, keep distinct ones */
        for (int u = 0; u < q->nf && rc == 1; u++) {
            float *t = q->thr + q->toff[u];
            int k = nthr(q, u), start = w;
            qsort(t, (size_t)k, sizeof *t, cmp_float);
            for (int i = 0; i < k; i++)
                if (w == start || q->thr[w - 1] != t[i])
                    q->thr[w++] = t[i];
            q->toff[u] = start; /* toff[u + 1] is still to be read as it was */
            if (w - start + 2 > QS_BINS)
                rc = 0;
        }
        q->toff[q->nf] = w;
    }
    free(cnt);
    return rc;
}

/* 1 when bin b of feature u goes right at internal node c. */
static int bin_right(const rdm_gbt *m, const struct gbt_qs *q, int u, const cnode *c, int b)
{
    int dleft = (c->info & CN_DLEFT) != 0;
    if (q->ncode[u]) {
        if (b == q->ncode[u])
            return !dleft;
        uint32_t bits = (c->info & CN_WIDE) ? m->cats[c->cat + b / 32] : (uint32_t)c->cat;
        return !((bits >> (b & 31)) & 1u);
    }
    const float *t = q->thr + q->toff[u];
    int n = nthr(q, u), i = 0;
    if (b == n + 1)
        return !dleft;
    while (t[i] != c->thr) /* the threshold is among them */
        i++;
    return b > i;
}

/* The group features of every group (gfoff, gfu, moff) and the table size
 * in words; 0 when too large. uidx: scratch of nf. */
static size_t qs_groups(const rdm_gbt *m, struct gbt_qs *q, const int *fidx, int *seen)
{
    size_t words = 0;
    int ne = 0;
    for (int u = 0; u < q->nf; u++)
        seen[u] = -1;
    for (int g = 0; g < q->ngroups; g++) {
        q->gfoff[g] = ne;
        int t1 = (g + 1) * GROUP < m->ntrees ? (g + 1) * GROUP : m->ntrees;
        for (int k = m->ctstart[g * GROUP]; k < m->ctstart[t1]; k++)
            if (!(m->cn[k].info & CN_LEAF))
                seen[fidx[m->cn[k].info & CN_FEAT]] = g;
        for (int u = 0; u < q->nf; u++)
            if (seen[u] == g) {
                q->gfu[ne] = u;
                q->moff[ne++] = words;
                words += (size_t)nbins(q, u) * GROUP;
                if (words > QS_WORDS)
                    return 0;
            }
    }
    q->gfoff[q->ngroups] = ne;
    return words;
}

/* Leaf numbers and masks of tree t (in group slot l); pos[u]: u's index in
 * the group's features. sub, first: scratch of the tree's node count. */
static void qs_tree(const rdm_gbt *m, struct gbt_qs *q, int t, const int *fidx, const int *pos,
                    int *sub, int *first)
{
    int r = m->ctstart[t], nn = m->ctstart[t + 1] - r, l = t % GROUP;
    const size_t *mo = q->moff + q->gfoff[t / GROUP];
    for (int k = nn - 1; k >= 0; k--) { /* children come after their parent */
        const cnode *c = &m->cn[r + k];
        sub[k] = (c->info & CN_LEAF) ? 1 : sub[c->left - r] + sub[c->left + 1 - r];
    }
    first[0] = 0;
    for (int k = 0; k < nn; k++) {
        const cnode *c = &m->cn[r + k];
        if (c->info & CN_LEAF) {
            q->leafv[(size_t)t * QS_LEAVES + (size_t)first[k]] = m->lval[c->cat];
            continue;
        }
        int a = c->left - r, u = fidx[c->info & CN_FEAT];
        first[a] = first[k];
        first[a + 1] = first[k] + sub[a];
        uint32_t keep = ~(uint32_t)((((uint64_t)1 << sub[a]) - 1) << first[k]);
        uint32_t *w = q->mask + mo[pos[u]] + (size_t)l;
        for (int b = 0; b < nbins(q, u); b++)
            if (bin_right(m, q, u, c, b))
                w[(size_t)b * GROUP] &= keep;
    }
}

int rdm_gbt_score_prepare(rdm_gbt *m)
{
    rdm_gbt_score_drop(m);
    if (m->ntrees == 0)
        return 0;
    struct gbt_qs *q = calloc(1, sizeof *q);
    int *fidx = malloc((size_t)m->d * sizeof *fidx), maxn = 1;
    for (int t = 0; t < m->ntrees; t++)
        if (m->ctstart[t + 1] - m->ctstart[t] > maxn)
            maxn = m->ctstart[t + 1] - m->ctstart[t];
    int *scratch = malloc(((size_t)2 * (size_t)maxn + QS_FEATS) * sizeof *scratch);
    int rc = q && fidx && scratch ? qs_features(m, q, fidx) : -1;
    if (rc == 1) {
        q->ngroups = (m->ntrees + GROUP - 1) / GROUP;
        size_t ge = (size_t)q->ngroups * (size_t)q->nf + 1;
        q->gfoff = malloc(((size_t)q->ngroups + 1) * sizeof *q->gfoff);
        q->gfu = malloc(ge * sizeof *q->gfu);
        q->moff = malloc(ge * sizeof *q->moff);
        q->leafv = calloc((size_t)q->ngroups * GROUP * QS_LEAVES, sizeof *q->leafv);
        rc = q->gfoff && q->gfu && q->moff && q->leafv ? 1 : -1;
    }
    size_t words = 0;
    if (rc == 1 && (words = qs_groups(m, q, fidx, scratch)) == 0)
        rc = 0;
    if (rc == 1 && !(q->mask = aligned_alloc(64, words * sizeof *q->mask)))
        rc = -1;
    if (rc == 1) {
        int *pos = scratch; /* a feature's index among its group's */
        memset(q->mask, 0xff, words * sizeof *q->mask);
        for (int t = 0; t < m->ntrees; t++) {
            int g = t / GROUP;
            if (t % GROUP == 0)
                for (int e = q->gfoff[g]; e < q->gfoff[g + 1]; e++)
                    pos[q->gfu[e]] = e - q->gfoff[g];
            qs_tree(m, q, t, fidx, pos, scratch + QS_FEATS, scratch + QS_FEATS + maxn);
        }
        m->qs = q;
        q = NULL;
    }
    if (q) {
        m->qs = q; /* freed by drop */
        rdm_gbt_score_drop(m);
    }
    free(fidx);
    free(scratch);
    return rc < 0 ? -1 : 0;
}

void rdm_gbt_margins(const rdm_gbt *m, const float *X, size_t n, double *out)
{
    size_t d = (size_t)m->d;
    if (m->qs) {
        for (size_t a = 0; a < n; a += QS_ROWS)
            qs_block(m, X + a * d, n - a < QS_ROWS ? n - a : QS_ROWS, out + a);
        return;
    }
    for (size_t a = 0; a < n; a += BLOCK)
        walk_block(m, X + a * d, n - a < BLOCK ? n - a : BLOCK, out + a);
}

void rdm_gbt_route(const rdm_gbt *m, const float *x, unsigned char *goes_left)
{
    for (int k = 0; k < m->ncn; k++)
        goes_left[k] = (unsigned char)!cn_right(m, &m->cn[k], x);
}

double rdm_gbt_margin(const rdm_gbt *m, const float *x)
{
    double z;
    rdm_gbt_margins(m, x, 1, &z);
    return z;
}
