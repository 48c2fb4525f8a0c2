/* gbt.c - histogram gradient-boosted trees for binary log loss (stub; full version follows). */
#include "gbt.h"

#include <math.h>
#include <stdlib.h>

struct rdm_gbt {
    int d;
};

void rdm_gbt_params_default(rdm_gbt_params *p)
{
    p->learning_rate = 0.1;
    p->max_iter = 500;
    p->max_leaves = 31;
    p->max_depth = 0;
    p->max_bins = 255;
    p->min_child_weight = 1e-3;
    p->l2 = 1.0;
    p->subsample = 1.0;
    p->colsample = 1.0;
    p->early_stopping = 20;
    p->threads = 0;
    p->seed = 1;
}

rdm_gbt *rdm_gbt_fit(const float *X, const float *y, size_t n, int d, const int *ncat,
                     const float *Xv, const float *yv, size_t nv, const rdm_gbt_params *p,
                     rdm_gbt_progress cb, void *ud, rdm_err *err)
{
    (void)X, (void)y, (void)n, (void)d, (void)ncat, (void)Xv, (void)yv, (void)nv, (void)p;
    (void)cb, (void)ud;
    rdm_errf(err, RDM_ESTATE, "gbt: not implemented yet");
    return NULL;
}

void rdm_gbt_free(rdm_gbt *m)
{
    free(m);
}

double rdm_gbt_margin(const rdm_gbt *m, const float *x)
{
    (void)m, (void)x;
    return 0.0;
}

int rdm_gbt_ntrees(const rdm_gbt *m)
{
    (void)m;
    return 0;
}

int rdm_gbt_nfeatures(const rdm_gbt *m)
{
    return m ? m->d : 0;
}

void rdm_gbt_importance(const rdm_gbt *m, double *gain)
{
    for (int j = 0; m && j < m->d; j++)
        gain[j] = 0.0;
}

int rdm_gbt_save(const rdm_gbt *m, rdm_buf *out, rdm_err *err)
{
    (void)m, (void)out;
    return rdm_errf(err, RDM_ESTATE, "gbt: save not implemented yet");
}

rdm_gbt *rdm_gbt_load(const char *text, size_t n, size_t *used, rdm_err *err)
{
    (void)text, (void)n;
    if (used)
        *used = 0;
    rdm_errf(err, RDM_ESTATE, "gbt: load not implemented yet");
    return NULL;
}
