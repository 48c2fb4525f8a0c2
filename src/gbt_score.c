/* gbt_score.c - scoring boosted trees over blocks of rows: the compact nodes
 * (gbt_tree.h) are walked by eight independent (tree, row) lanes at a time,
 * so the walks overlap in the pipeline; a block of rows visits one tree at a
 * time, whose nodes then stay in the first-level cache. One record is a block
 * of one (its eight lanes are eight trees). */
#include <stddef.h>

#include "gbt_tree.h"

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
static void margins_block(const rdm_gbt *m, const float *X, size_t n, double *out)
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

void rdm_gbt_margins(const rdm_gbt *m, const float *X, size_t n, double *out)
{
    for (size_t a = 0; a < n; a += BLOCK)
        margins_block(m, X + a * (size_t)m->d, n - a < BLOCK ? n - a : BLOCK, out + a);
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
