/* gbt_route.c - the direction of one record at every split of a model, from
 * a copy of its split tests laid out numeric and categorical apart. */
#include "gbt_route.h"

#include <stdint.h>
#include <stdlib.h>

#include "gbt_tree.h"

struct rdm_gbt_router {
    /* numeric splits: node, feature, threshold, missing goes left */
    int nnum;
    int32_t *num_node, *num_feat;
    float *num_thr;
    unsigned char *num_dleft;
    /* categorical features split on: the model feature, its number of codes */
    int ncf;
    int32_t *cf_feat, *cf_ncode;
    /* categorical splits: node, feature (0..ncf), first word of its left-going
     * slots (bit b < n: code b; bit n: missing or unknown; n codes) */
    int ncat;
    int32_t *cat_node, *cat_cf, *cat_off;
    uint32_t *words;
};

void rdm_gbt_router_free(rdm_gbt_router *r)
{
    if (!r)
        return;
    free(r->num_node);
    free(r->num_feat);
    free(r->num_thr);
    free(r->num_dleft);
    free(r->cf_feat);
    free(r->cf_ncode);
    free(r->cat_node);
    free(r->cat_cf);
    free(r->cat_off);
    free(r->words);
    free(r);
}

rdm_gbt_router *rdm_gbt_router_create(const rdm_gbt *m, rdm_err *err)
{
    rdm_gbt_router *r = calloc(1, sizeof *r);
    int *cfi = malloc(((size_t)m->d + 1) * sizeof *cfi);
    if (!r || !cfi)
        goto nomem;
    size_t nw = 0, ncn = (size_t)m->ncn + 1;
    for (int j = 0; j < m->d; j++)
        cfi[j] = -1;
    for (int k = 0; k < m->ncn; k++) {
        const cnode *c = &m->cn[k];
        if (c->info & CN_LEAF)
            continue;
        int j = (int)(c->info & CN_FEAT);
        if (!(c->info & CN_CAT)) {
            r->nnum++;
            continue;
        }
        r->ncat++;
        nw += (size_t)ncat_words(m->ncat[j] + 1);
        if (cfi[j] < 0)
            cfi[j] = r->ncf++;
    }
    r->num_node = malloc(ncn * sizeof *r->num_node);
    r->num_feat = malloc(ncn * sizeof *r->num_feat);
    r->num_thr = malloc(ncn * sizeof *r->num_thr);
    r->num_dleft = malloc(ncn);
    r->cf_feat = malloc(((size_t)r->ncf + 1) * sizeof *r->cf_feat);
    r->cf_ncode = malloc(((size_t)r->ncf + 1) * sizeof *r->cf_ncode);
    r->cat_node = malloc(ncn * sizeof *r->cat_node);
    r->cat_cf = malloc(ncn * sizeof *r->cat_cf);
    r->cat_off = malloc(ncn * sizeof *r->cat_off);
    r->words = calloc(nw + 1, sizeof *r->words);
    if (!r->num_node || !r->num_feat || !r->num_thr || !r->num_dleft || !r->cf_feat ||
        !r->cf_ncode || !r->cat_node || !r->cat_cf || !r->cat_off || !r->words)
        goto nomem;
    for (int j = 0; j < m->d; j++)
        if (cfi[j] >= 0) {
            r->cf_feat[cfi[j]] = j;
            r->cf_ncode[cfi[j]] = m->ncat[j];
        }
    int a = 0, b = 0;
    size_t w = 0;
    for (int k = 0; k < m->ncn; k++) {
        const cnode *c = &m->cn[k];
        if (c->info & CN_LEAF)
            continue;
        int j = (int)(c->info & CN_FEAT), dleft = (c->info & CN_DLEFT) != 0;
        if (!(c->info & CN_CAT)) {
            r->num_node[a] = k;
            r->num_feat[a] = j;
            r->num_thr[a] = c->thr;
            r->num_dleft[a++] = (unsigned char)dleft;
            continue;
        }
        /* the codes that go left (as cn_right in gbt_score.c reads them),
         * then one slot for missing and unknown values */
        int n = m->ncat[j];
        r->cat_node[b] = k;
        r->cat_cf[b] = cfi[j];
        r->cat_off[b++] = (int32_t)w;
        for (int code = 0; code < n; code++) {
            uint32_t bits = (c->info & CN_WIDE) ? m->cats[c->cat + code / 32] : (uint32_t)c->cat;
            r->words[w + (size_t)code / 32] |= ((bits >> (code & 31)) & 1u) << (code & 31);
        }
        r->words[w + (size_t)n / 32] |= (uint32_t)dleft << (n & 31);
        w += (size_t)ncat_words(n + 1);
    }
    free(cfi);
    return r;
nomem:
    free(cfi);
    rdm_gbt_router_free(r);
    rdm_errf(err, RDM_ENOMEM, "gbt: out of memory laying out the splits");
    return NULL;
}

/* The slot of value v of a feature of n codes: its code when it is one (an
 * integer in 0..n-1, as cn_right in gbt_score.c reads it), else n. */
static inline int slot_of(float v, int n)
{
    if (v >= 0.0f && v < (float)n) {
        int code = (int)v;
        if ((float)code == v)
            return code;
    }
    return n;
}

size_t rdm_gbt_router_scratch_size(const rdm_gbt_router *r)
{
    return ((size_t)r->ncf + 1) * sizeof(int32_t);
}

void rdm_gbt_router_route(const rdm_gbt_router *r, const float *x, unsigned char *goes_left,
                          void *scratch)
{
    /* locals: stores through goes_left may alias anything */
    unsigned char *restrict gl = goes_left;
    const int32_t *restrict nnode = r->num_node, *restrict nfeat = r->num_feat;
    const float *restrict nthr = r->num_thr;
    const unsigned char *restrict ndl = r->num_dleft;
    for (int i = 0, n = r->nnum; i < n; i++) {
        float v = x[nfeat[i]];
        gl[nnode[i]] = (unsigned char)((v <= nthr[i]) | ((v != v) & ndl[i]));
    }
    const int32_t *restrict cnode_ = r->cat_node, *restrict ccf = r->cat_cf,
                            *restrict coff = r->cat_off;
    const uint32_t *restrict words = r->words;
    int32_t *restrict slot = scratch;
    for (int u = 0; u < r->ncf; u++)
        slot[u] = slot_of(x[r->cf_feat[u]], r->cf_ncode[u]);
    for (int i = 0, n = r->ncat; i < n; i++) {
        int s = slot[ccf[i]];
        gl[cnode_[i]] = (unsigned char)((words[coff[i] + (s >> 5)] >> (s & 31)) & 1u);
    }
}
