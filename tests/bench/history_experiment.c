/* history_experiment.c - the patient-history experiment (make
 * experiment-history): the current clean snapshot of the database named by
 * the config, split by patient, the boosted trees of train.gbt's grid fitted
 * with the same seed on the encoder's tree features alone and with the three
 * history features of history.h appended (computed over the whole snapshot
 * from each patient's earlier encounters only); prints the validation ROC AUC
 * of each fit, the selected fit of each arm (best validation AUC, as training
 * selects), the difference with a patient-resampled 95% interval, and the
 * decision rule's verdict (adopt when the difference is at least 0.005 and
 * the interval excludes zero). Usage: history-experiment -c CONF [-o k=v]... */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "config.h"
#include "dataset.h"
#include "db.h"
#include "encode.h"
#include "gbt.h"
#include "history.h"

static int fail(const char *what, const rdm_err *err)
{
    fprintf(stderr, "history-experiment: %s: %s\n", what, err->msg);
    return 1;
}

/* Rows idx[0..n) of the tree matrix X (d columns), with the history features
 * of those rows appended when hist is not NULL. */
static float *with_history(const float *X, int d, const size_t *idx, size_t n, const float *hist)
{
    int dd = d + RDM_NHIST;
    float *o = malloc((n ? n : 1) * (size_t)dd * sizeof *o);
    for (size_t i = 0; o && i < n; i++) {
        memcpy(o + i * (size_t)dd, X + i * (size_t)d, (size_t)d * sizeof *o);
        memcpy(o + i * (size_t)dd + d, hist + idx[i] * RDM_NHIST, RDM_NHIST * sizeof *o);
    }
    return o;
}

int main(int argc, char **argv)
{
    rdm_config cfg;
    rdm_err err = {0};
    const char *conf = "conf/readmit.yaml";
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "-c"))
            conf = argv[++i];
    if (rdm_config_load(&cfg, conf, &err))
        return fail(conf, &err);
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "-o") && rdm_config_set(&cfg, argv[++i], &err))
            return fail("-o", &err);
    rdm_db *db = rdm_db_connect(&cfg, &err);
    if (!db)
        return fail("database", &err);
    rdm_dataset ds;
    if (rdm_dataset_load(db, &cfg, &ds, &err))
        return fail("clean snapshot", &err);
    rdm_db_close(db);
    size_t n = ds.n, nt = ds.count[RDM_SPLIT_TRAIN], nv = ds.count[RDM_SPLIT_VALID];
    rdm_hist_row *hr = malloc((n ? n : 1) * sizeof *hr);
    float *hist = malloc((n ? n : 1) * RDM_NHIST * sizeof *hist);
    if (!hr || !hist)
        return fprintf(stderr, "history-experiment: out of memory\n"), 1;
    for (size_t i = 0; i < n; i++)
        if (rdm_history_row(ds.cells + i * RDM_NCOLS, &hr[i]))
            return fprintf(stderr, "history-experiment: row %zu has no patient or encounter id\n",
                           i),
                   1;
    if (rdm_history_compute(hr, n, hist, &err))
        return fail("history", &err);
    size_t with_prior = 0;
    for (size_t i = 0; i < n; i++)
        with_prior += hist[i * RDM_NHIST + RDM_HIST_ENCOUNTERS] > 0;
    rdm_encoder_params ep;
    rdm_encoder_params_default(&ep);
    ep.min_count = cfg.features.min_count;
    ep.diag_mode = cfg.features.diag_mode;
    rdm_encoder *enc = rdm_encoder_fit(ds.cells, ds.idx[RDM_SPLIT_TRAIN], nt, &ep, &err);
    if (!enc)
        return fail("encoder", &err);
    int d = rdm_encoder_tree_dim(enc);
    float *Xt = malloc(nt * (size_t)d * sizeof *Xt), *Xv = malloc(nv * (size_t)d * sizeof *Xv);
    if (!Xt || !Xv ||
        rdm_encoder_tree_matrix(enc, ds.cells, ds.idx[RDM_SPLIT_TRAIN], nt, Xt, &err) ||
        rdm_encoder_tree_matrix(enc, ds.cells, ds.idx[RDM_SPLIT_VALID], nv, Xv, &err))
        return fail("features", &err);
    float *Ht = with_history(Xt, d, ds.idx[RDM_SPLIT_TRAIN], nt, hist);
    float *Hv = with_history(Xv, d, ds.idx[RDM_SPLIT_VALID], nv, hist);
    int *ncat = malloc((size_t)(d + RDM_NHIST) * sizeof *ncat);
    double *pv[2], best[2] = {-1, -1};
    pv[0] = malloc(nv * sizeof **pv);
    pv[1] = malloc(nv * sizeof **pv);
    double *tmp = malloc(nv * sizeof *tmp);
    int64_t *pat = malloc(nv * sizeof *pat);
    if (!Ht || !Hv || !ncat || !pv[0] || !pv[1] || !tmp || !pat)
        return fprintf(stderr, "history-experiment: out of memory\n"), 1;
    memcpy(ncat, rdm_encoder_tree_ncat(enc), (size_t)d * sizeof *ncat);
    for (int k = 0; k < RDM_NHIST; k++)
        ncat[d + k] = 0;
    for (size_t i = 0; i < nv; i++)
        pat[i] = hr[ds.idx[RDM_SPLIT_VALID][i]].patient;
    printf("clean snapshot %lld: %zu encounters (train %zu, validation %zu, test %zu); %zu "
           "(%.1f%%) have an earlier encounter of the same patient\n",
           ds.snapshot_id, n, nt, nv, ds.count[RDM_SPLIT_TEST], with_prior,
           100.0 * (double)with_prior / (double)(n ? n : 1));
    printf("%-8s %6s %7s %6s %14s\n", "history", "lr", "leaves", "trees", "valid ROC AUC");
    for (int a = 0; a < cfg.train.gbt_learning_rate.n; a++)
        for (int b = 0; b < cfg.train.gbt_max_leaves.n; b++)
            for (int h = 0; h < 2; h++) {
                rdm_gbt_params p;
                rdm_gbt_params_default(&p);
                p.learning_rate = cfg.train.gbt_learning_rate.v[a];
                p.max_leaves = (int)cfg.train.gbt_max_leaves.v[b];
                p.max_iter = cfg.train.gbt_max_iter;
                p.max_depth = cfg.train.gbt_max_depth;
                p.max_bins = cfg.train.gbt_max_bins;
                p.min_child_weight = cfg.train.gbt_min_child_weight;
                p.l2 = cfg.train.gbt_l2;
                p.subsample = cfg.train.gbt_subsample;
                p.colsample = cfg.train.gbt_colsample;
                p.early_stopping = cfg.train.gbt_early_stopping;
                p.threads = cfg.train.threads;
                p.seed = (uint64_t)cfg.train.seed;
                int dd = h ? d + RDM_NHIST : d;
                rdm_gbt *m =
                    rdm_gbt_fit(h ? Ht : Xt, ds.ys[RDM_SPLIT_TRAIN], nt, dd, ncat, h ? Hv : Xv,
                                ds.ys[RDM_SPLIT_VALID], nv, &p, NULL, NULL, &err);
                if (!m)
                    return fail("fit", &err);
                rdm_gbt_margins(m, h ? Hv : Xv, nv, tmp);
                double auc = rdm_auc_weighted(tmp, ds.ys[RDM_SPLIT_VALID], NULL, nv);
                printf("%-8s %6g %7d %6d %14.4f\n", h ? "with" : "without", p.learning_rate,
                       p.max_leaves, rdm_gbt_ntrees(m), auc);
                fflush(stdout);
                if (auc > best[h]) {
                    best[h] = auc;
                    memcpy(pv[h], tmp, nv * sizeof *tmp);
                }
                rdm_gbt_free(m);
            }
    double lo, hi;
    int B = cfg.train.bootstrap > 0 ? cfg.train.bootstrap : 1000;
    if (rdm_auc_diff_bootstrap_grouped(pv[0], pv[1], ds.ys[RDM_SPLIT_VALID], pat, nv, B,
                                       (uint64_t)cfg.train.seed, &lo, &hi, &err))
        return fail("bootstrap", &err);
    double diff = best[1] - best[0];
    int adopt = diff >= 0.005 && lo > 0;
    printf("selected: validation ROC AUC without %.4f, with %.4f; difference %+.4f, 95%% "
           "interval [%+.4f, %+.4f] (%d resamples of patients)\n",
           best[0], best[1], diff, lo, hi, B);
    printf("decision rule (difference >= 0.005 and interval excluding 0): %s\n",
           adopt ? "met: adopt" : "not met: do not adopt");
    free(hr);
    free(hist);
    free(Xt);
    free(Xv);
    free(Ht);
    free(Hv);
    free(ncat);
    free(pv[0]);
    free(pv[1]);
    free(tmp);
    free(pat);
    rdm_encoder_free(enc);
    rdm_dataset_release(&ds);
    rdm_config_release(&cfg);
    return 0;
}
