/* gbt_tree.c - the boosted-trees model: building trees node by node, the
 * compact scoring copy (scored by gbt_score.c), importance, and the text
 * form. */
#include "gbt_tree.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

rdm_gbt *rdm_gbt_tree_new(int d, const int *ncat)
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
    free(m->ccover);
    rdm_gbt_score_drop(m);
    free(m);
}

/* Grow an array whose capacity the model keeps as an int. Returns 0, or -1
 * (capacity unchanged) when out of memory; *p is valid either way. */
static int grow_int_cap(void **p, int *cap, int need, size_t elem)
{
    size_t c = (size_t)*cap;
    if (rdm_grow(p, &c, (size_t)need, elem) || c > INT_MAX)
        return -1;
    *cap = (int)c;
    return 0;
}

int rdm_gbt_tree_add_nodes(rdm_gbt *m, int k)
{
    void *nodes = m->nodes;
    int rc = grow_int_cap(&nodes, &m->ncap, m->nn + k, sizeof *m->nodes);
    m->nodes = nodes;
    if (rc)
        return -1;
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

int rdm_gbt_tree_add_words(rdm_gbt *m, int k)
{
    void *cats = m->cats;
    int rc = grow_int_cap(&cats, &m->wcap, m->nw + k, sizeof *m->cats);
    m->cats = cats;
    if (rc)
        return -1;
    int first = m->nw;
    memset(m->cats + first, 0, (size_t)k * sizeof *m->cats);
    m->nw += k;
    return first;
}

int rdm_gbt_tree_begin(rdm_gbt *m)
{
    if (m->ntrees + 1 > m->tcap) { /* tcap + 1 entries each */
        void *a[3] = {m->tstart, m->ctstart, m->cdepth};
        const size_t esz[3] = {sizeof *m->tstart, sizeof *m->ctstart, sizeof *m->cdepth};
        size_t cap = (size_t)m->tcap + 1;
        int rc = rdm_grow_all(a, esz, 3, &cap, 2 * (size_t)m->tcap + 1);
        m->tstart = a[0];
        m->ctstart = a[1];
        m->cdepth = a[2];
        if (rc || cap - 1 > INT_MAX)
            return -1;
        m->tcap = (int)cap - 1;
    }
    m->tstart[m->ntrees] = m->nn;
    m->ctstart[m->ntrees] = m->ncn;
    return 0;
}

/* Breadth first, so siblings are adjacent. */
int rdm_gbt_tree_end(rdm_gbt *m)
{
    rdm_gbt_score_drop(m);
    int r = m->tstart[m->ntrees], e = m->nn, nn = e - r;
    if (m->ncn + nn > m->cncap) {
        void *a[2] = {m->cn, m->ccover};
        const size_t esz[2] = {sizeof *m->cn, sizeof *m->ccover};
        size_t cap = (size_t)m->cncap;
        int rc = rdm_grow_all(a, esz, 2, &cap, (size_t)(m->ncn + nn));
        m->cn = a[0];
        m->ccover = a[1];
        if (rc || cap > INT_MAX)
            return -1;
        m->cncap = (int)cap;
    }
    void *lv = m->lval;
    int rc = grow_int_cap(&lv, &m->lvcap, m->nlv + nn, sizeof *m->lval);
    m->lval = lv;
    if (rc)
        return -1;
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
        m->ccover[base + head] = q->cover;
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

void rdm_gbt_tree_keep(rdm_gbt *m, int ntrees)
{
    if (ntrees < 0 || ntrees >= m->ntrees)
        return;
    rdm_gbt_score_drop(m);
    m->ntrees = ntrees;
    m->nn = m->tstart[m->ntrees];
    m->ncn = m->ctstart[m->ntrees];
    /* the last node of a tree (breadth first) is its last leaf */
    m->nlv = m->ncn > 0 ? m->cn[m->ncn - 1].cat + 1 : 0;
    /* drop bitsets of removed trees: they were appended in order */
    int maxw = 0;
    for (int k = 0; k < m->nn; k++)
        if (m->nodes[k].cat >= 0) {
            int e = m->nodes[k].cat + ncat_words(m->ncat[m->nodes[k].feat]);
            if (e > maxw)
                maxw = e;
        }
    m->nw = maxw;
}

double rdm_gbt_base(const rdm_gbt *m)
{
    return m->base;
}

int rdm_gbt_node_count(const rdm_gbt *m)
{
    return m->ncn;
}

int rdm_gbt_tree_root(const rdm_gbt *m, int t)
{
    return m->ctstart[t];
}

void rdm_gbt_node(const rdm_gbt *m, int k, rdm_gbt_node_info *out)
{
    const cnode *c = &m->cn[k];
    int leaf = (c->info & CN_LEAF) != 0;
    out->feat = leaf ? -1 : (int)(c->info & CN_FEAT);
    out->left = leaf ? -1 : c->left;
    out->right = leaf ? -1 : c->left + 1;
    out->value = leaf ? m->lval[c->cat] : 0.0;
    out->cover = m->ccover[k];
}

int rdm_gbt_ntrees(const rdm_gbt *m)
{
    return m ? m->ntrees : 0;
}

int rdm_gbt_nleaves(const rdm_gbt *m)
{
    return m ? m->nlv : 0;
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

/* ---- text form ----
 *
 *   gbt 2          (format 1: the same without the covers)
 *   features D
 *   ncat c_0 ... c_{D-1}
 *   base <hex float>
 *   trees T
 *   tree <t> <nodes>
 *   leaf <value> <cover>
 *   num <feature> <threshold> <default_left> <left> <right> <gain> <cover>
 *   cat <feature> <default_left> <left> <right> <gain> <cover> <word_0> ...   (hex, 32 bits each)
 *   end
 *
 * Child indices are relative to the tree's first node and always greater than
 * the node's own index, so every path ends at a leaf. */

int rdm_gbt_save(const rdm_gbt *m, rdm_buf *out, rdm_err *err)
{
    if (!m || !out)
        return rdm_errf(err, RDM_EINVAL, "gbt: nothing to save");
    /* a model read from a format 1 file (no covers) is written back as it was */
    int ver = GBT_FORMAT;
    for (int k = 0; k < m->nn && ver > 1; k++)
        if (isnan(m->nodes[k].cover))
            ver = 1;
    int rc = rdm_buf_printf(out, "gbt %d\nfeatures %d\nncat", ver, m->d);
    for (int j = 0; rc == 0 && j < m->d; j++)
        rc = rdm_buf_printf(out, " %d", m->ncat[j]);
    if (rc == 0)
        rc = rdm_buf_printf(out, "\nbase %a\ntrees %d\n", m->base, m->ntrees);
    for (int t = 0; rc == 0 && t < m->ntrees; t++) {
        int r = m->tstart[t], e = m->tstart[t + 1];
        rc = rdm_buf_printf(out, "tree %d %d\n", t, e - r);
        for (int k = r; rc == 0 && k < e; k++) {
            const gnode *q = &m->nodes[k];
            if (q->feat < 0)
                rc = rdm_buf_printf(out, "leaf %a", q->value);
            else
                rc = rdm_buf_printf(out, "%s %d", q->cat < 0 ? "num" : "cat", q->feat);
            if (rc == 0 && q->feat >= 0 && q->cat < 0)
                rc = rdm_buf_printf(out, " %a", (double)q->thr);
            if (rc == 0 && q->feat >= 0)
                rc = rdm_buf_printf(out, " %d %d %d %a", q->dleft, q->left - r, q->right - r,
                                    q->gain);
            if (rc == 0 && ver >= 2)
                rc = rdm_buf_printf(out, " %a", q->cover);
            if (q->feat >= 0 && q->cat >= 0) {
                int nwd = ncat_words(m->ncat[q->feat]);
                for (int w = 0; rc == 0 && w < nwd; w++)
                    rc = rdm_buf_printf(out, " %x", (unsigned)m->cats[q->cat + w]);
            }
            if (rc == 0)
                rc = rdm_buf_addc(out, '\n');
        }
    }
    if (rc == 0)
        rc = rdm_buf_adds(out, "end\n");
    if (rc != 0)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory while saving");
    return RDM_OK;
}

/* One node line of tree `k` of nn nodes (root = absolute index of node 0). */
static int load_node(rdm_text *t, rdm_gbt *m, int ver, int root, int k, int nn, rdm_err *err)
{
    char kind[8];
    int rc = rdm_text_word(t, kind, sizeof kind, "a node (leaf, num or cat)", err);
    if (rc)
        return rc;
    int a = rdm_gbt_tree_add_nodes(m, 1);
    if (a < 0)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    gnode *q = &m->nodes[a];
    double v, gain;
    int l, r, is_cat = strcmp(kind, "cat") == 0;
    if (strcmp(kind, "leaf") == 0) {
        if ((rc = rdm_text_real(t, &v, 0, "leaf value", err)))
            return rc;
        q->value = v;
        q->cover = NAN;
        if (ver >= 2 && (rc = rdm_text_real(t, &q->cover, 0, "cover", err)))
            return rc;
        return rdm_text_eol(t, err);
    }
    if (!is_cat && strcmp(kind, "num") != 0)
        return rdm_text_fail(t, err, "unknown node kind '%s'", kind);
    if ((rc = rdm_text_int(t, &q->feat, 0, m->d - 1, "feature", err)))
        return rc;
    if ((m->ncat[q->feat] > 0) != is_cat)
        return rdm_text_fail(t, err, "%s",
                             is_cat ? "categorical split on a numeric feature"
                                    : "numeric split on a categorical feature");
    if (!is_cat) {
        if ((rc = rdm_text_real(t, &v, 1, "threshold", err)))
            return rc;
        q->thr = (float)v;
    }
    if ((rc = rdm_text_int(t, &q->dleft, 0, 1, "default_left", err)) ||
        (rc = rdm_text_int(t, &l, k + 1, nn - 1, "left child", err)) ||
        (rc = rdm_text_int(t, &r, k + 1, nn - 1, "right child", err)) ||
        (rc = rdm_text_real(t, &gain, 0, "gain", err)))
        return rc;
    q->left = root + l;
    q->right = root + r;
    q->gain = gain;
    q->cover = NAN;
    if (ver >= 2 && (rc = rdm_text_real(t, &q->cover, 0, "cover", err)))
        return rc;
    if (is_cat) {
        int nwd = ncat_words(m->ncat[q->feat]);
        int w = rdm_gbt_tree_add_words(m, nwd);
        if (w < 0)
            return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
        m->nodes[a].cat = w;
        for (int i = 0; i < nwd; i++)
            if ((rc = rdm_text_hex32(t, &m->cats[w + i], "category bitset", err)))
                return rc;
    }
    return rdm_text_eol(t, err);
}

/* Tree number `tn`: its header line and nodes. */
static int load_tree(rdm_text *t, rdm_gbt *m, int ver, int tn, rdm_err *err)
{
    int tt, nn, rc;
    if ((rc = rdm_text_expect(t, "tree", err)) ||
        (rc = rdm_text_int(t, &tt, tn, tn, "tree number", err)) ||
        (rc = rdm_text_int(t, &nn, 1, 10000000, "node count", err)) || (rc = rdm_text_eol(t, err)))
        return rc;
    if (rdm_gbt_tree_begin(m) != 0)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    int root = m->nn;
    for (int k = 0; k < nn; k++)
        if ((rc = load_node(t, m, ver, root, k, nn, err)))
            return rc;
    int erc = rdm_gbt_tree_end(m);
    if (erc == -1)
        return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    if (erc != 0)
        return rdm_text_fail(t, err, "tree: a node is the child of two nodes");
    return RDM_OK;
}

/* Header up to the "ncat" keyword: a new model of the stated features. */
static rdm_gbt *load_header(rdm_text *t, int *verp, rdm_err *err)
{
    int d, ver;
    if (rdm_text_expect(t, "gbt", err) || rdm_text_int(t, &ver, 0, 1000000, "format version", err))
        return NULL;
    *verp = ver;
    if (ver != GBT_FORMAT && ver != 1) {
        rdm_errf(err, RDM_EVERSION,
                 "line %d: format version %d not supported (this build reads %d)", t->line, ver,
                 GBT_FORMAT);
        return NULL;
    }
    if (rdm_text_eol(t, err) || rdm_text_expect(t, "features", err) ||
        rdm_text_int(t, &d, 1, MAX_FEATURES, "features", err) || rdm_text_eol(t, err) ||
        rdm_text_expect(t, "ncat", err))
        return NULL;
    rdm_gbt *m = rdm_gbt_tree_new(d, NULL);
    if (!m)
        rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    return m;
}

rdm_gbt *rdm_gbt_load(const char *text, size_t n, size_t *used, rdm_err *err)
{
    if (used)
        *used = 0;
    if (!text) {
        rdm_errf(err, RDM_EPARSE, "gbt model: no text");
        return NULL;
    }
    rdm_text t = {text, text + n, 1};
    int ver = 0;
    rdm_gbt *m = load_header(&t, &ver, err);
    if (!m)
        goto fail;
    int ntrees, rc = RDM_OK;
    for (int j = 0; j < m->d && !rc; j++)
        rc = rdm_text_int(&t, &m->ncat[j], 0, MAX_CODES, "category count", err);
    if (rc || (rc = rdm_text_eol(&t, err)) || (rc = rdm_text_expect(&t, "base", err)) ||
        (rc = rdm_text_real(&t, &m->base, 0, "base", err)) || (rc = rdm_text_eol(&t, err)) ||
        (rc = rdm_text_expect(&t, "trees", err)) ||
        (rc = rdm_text_int(&t, &ntrees, 0, 10000000, "trees", err)) || (rc = rdm_text_eol(&t, err)))
        goto fail;
    for (int k = 0; k < ntrees; k++)
        if ((rc = load_tree(&t, m, ver, k, err)))
            goto fail;
    if ((rc = rdm_text_expect(&t, "end", err)))
        goto fail;
    if (t.p < t.end && (rc = rdm_text_eol(&t, err))) /* "end" may close the text */
        goto fail;
    if (rdm_gbt_score_prepare(m) != 0) {
        rc = rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
        goto fail;
    }
    if (used)
        *used = (size_t)(t.p - text);
    return m;
fail:
    rdm_err_prefix(err, "gbt model");
    rdm_gbt_free(m);
    return NULL;
}
