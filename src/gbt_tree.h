/* gbt_tree.h - inside the boosted-trees model: how the trees are stored
 * (internal to src/gbt_*.c; other modules use gbt.h).
 *
 * The model holds two forms of the same trees:
 *
 * 1. Full nodes (`gnode`, m->nodes), the form that is fitted, saved, loaded
 *    and explained. Tree t owns nodes[tstart[t] .. tstart[t + 1]); its root
 *    is nodes[tstart[t]]. Children (`left`, `right`) are absolute indices
 *    into m->nodes and always greater than the parent's own index. A node
 *    with feat < 0 is a leaf with `value` (margin contribution, learning rate
 *    applied). An internal node splits on feature `feat`:
 *      - numeric (cat < 0): x <= thr goes left, x > thr right;
 *      - categorical (cat >= 0): code k goes left when bit k of the bitset
 *        m->cats[cat .. cat + ncat_words(ncat[feat])) is set;
 *      - missing (NaN), and categorical values that are not a known code,
 *        go left when dleft, else right;
 *    `gain` is the split's gain (feature importance); `cover` the number of
 *    training rows that reached the node (for explanations; NaN in a model
 *    read from a format 1 file, which has no field for it).
 *
 * 2. Compact scoring nodes (`cnode`, m->cn, 16 bytes), derived from the
 *    full nodes by rdm_gbt_tree_end() at fit and load time (never saved):
 *    breadth first, so the two children of a node are adjacent. */
#ifndef RDM_GBT_TREE_H
#define RDM_GBT_TREE_H

#include <stdint.h>

#include "gbt.h"

#define GBT_FORMAT   2       /* text form version (2: node covers; 1 still loads) */
#define MAX_CODES    255     /* categories per categorical feature (codes 0..254) */
#define MAX_FEATURES 1000000 /* as the text form accepts; < 2^24 (compact node) */

typedef struct gnode {
    int feat;     /* split feature; -1 = leaf */
    int left;     /* absolute node index of the left child (-1 for a leaf) */
    int right;    /* absolute node index of the right child */
    int cat;      /* word offset of the left-category bitset in m->cats; -1 = numeric split */
    float thr;    /* numeric: x <= thr goes left */
    int dleft;    /* missing (and unknown categories) go left */
    double value; /* leaf value (learning rate applied) */
    double gain;  /* split gain (internal nodes) */
    double cover; /* training rows that reached the node (NaN: unknown) */
} gnode;

/* Compact scoring node (16 bytes). thr is the numeric threshold (categorical:
 * the number of categories), `info` holds the feature (low 24 bits), CN_DLEFT
 * and CN_CAT; the children are left and left + 1. For a categorical split cat
 * is the left-category bitset itself when there are at most 32 categories,
 * else (CN_WIDE) the word offset of the bitset in m->cats. A leaf (CN_LEAF)
 * is a numeric node on feature 0 with threshold +inf, missing left, and left
 * = itself, so stepping from it stays there (a walk can take a fixed number
 * of steps without testing for leaves); its cat is the index of its value in
 * lval. */
#define CN_FEAT  0xffffffu
#define CN_DLEFT (1u << 24)
#define CN_CAT   (1u << 25)
#define CN_LEAF  (1u << 26)
#define CN_WIDE  (1u << 27)

typedef struct cnode {
    float thr;
    uint32_t info;
    int32_t left;
    int32_t cat;
} cnode;

struct rdm_gbt {
    int d;       /* features */
    int *ncat;   /* per feature: 0 = numeric, else the number of category codes */
    double base; /* margin before the first tree */
    int ntrees;
    int *tstart; /* ntrees + 1 entries: first node of each tree */
    int tcap;
    gnode *nodes; /* full nodes of every tree */
    int nn, ncap;
    uint32_t *cats; /* category bitsets of categorical splits */
    int nw, wcap;
    /* compact form: tree t starts at cn[ctstart[t]] (tcap + 1 entries) and
     * reaches every leaf within cdepth[t] steps; leaf values in lval */
    cnode *cn;
    int ncn, cncap;
    int *ctstart;
    int *cdepth;
    double *lval;
    int nlv, lvcap;
    double *ccover; /* cover of each compact node (cncap entries) */
    /* leaf-mask tables of the scorer (gbt_score.c), built from the compact
     * form by rdm_gbt_score_prepare; NULL: the compact nodes are walked */
    struct gbt_qs *qs;
};

/* 32-bit words in the bitset of a categorical feature with k codes. */
static inline int ncat_words(int k)
{
    return (k + 31) / 32;
}

/* An empty model of d features (ncat copied; NULL = all numeric), or NULL
 * when out of memory. */
rdm_gbt *rdm_gbt_tree_new(int d, const int *ncat);
/* Append k blank nodes (leaves) to the node array; the index of the first,
 * or -1 when out of memory. */
int rdm_gbt_tree_add_nodes(rdm_gbt *m, int k);
/* Append k zeroed bitset words; the offset of the first, or -1. */
int rdm_gbt_tree_add_words(rdm_gbt *m, int k);
/* Open a new tree at the end of the node array: 0, or -1 (out of memory). */
int rdm_gbt_tree_begin(rdm_gbt *m);
/* Close the tree opened last and append its compact form. Returns 0, -1 (out
 * of memory) or -2 (a node is the child of two nodes); on failure the model
 * is only fit to be freed. */
int rdm_gbt_tree_end(rdm_gbt *m);
/* Keep only the first `ntrees` trees (and their nodes, leaf values and
 * bitsets). */
void rdm_gbt_tree_keep(rdm_gbt *m, int ntrees);

/* ---- gbt_score.c ---- */

/* Build the scorer's tables for the trees as they are now (after the last
 * tree is added or trees are dropped; until then scoring walks the compact
 * nodes, with the same results). A model the tables do not fit is walked.
 * Returns 0, or -1 when out of memory (the model still scores, walked). */
int rdm_gbt_score_prepare(rdm_gbt *m);
/* Free the tables (scoring walks again). */
void rdm_gbt_score_drop(rdm_gbt *m);

#endif
