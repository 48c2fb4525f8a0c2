/* train.c - training orchestration: snapshot -> raw records -> split ->
 * encoder (train only) -> every configured model and grid point as a run ->
 * evaluation through rdm_model_score -> registry records and artifacts. */
#include "train.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codes.h"
#include "encode.h"
#include "explain.h"
#include "explain_summary.h"
#include "gbt.h"
#include "logreg.h"
#include "metrics.h"
#include "monitor_groups.h"
#include "registry.h"

void rdm_code_version(char out[RDM_CODE_VERSION_MAX], const char *extra)
{
    if (extra && *extra)
        snprintf(out, RDM_CODE_VERSION_MAX, "%s+%s", RDM_VERSION, extra);
    else
        snprintf(out, RDM_CODE_VERSION_MAX, "%s", RDM_VERSION);
}

/* CPU time of the calling thread (a lane; the workers of its pool are not
 * counted), seconds: the log lines give it beside the wall time, which on a
 * shared machine counts others' work too */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- one run ---- */

typedef struct trainer {
    const rdm_config *cfg;
    rdm_db *db;
    rdm_train_progress progress;
    void *ud;
    const char *code_version;
    rdm_dataset ds;
    rdm_encoder *enc;
    rdm_buf enc_text;
    int threads;
    /* the runs go on lanes (threads) of their own: the database, the
     * progress lines and the claim of the next job are taken under these */
    pthread_mutex_t db_mu, say_mu;
    long long experiment_id, training_id;
    char config_hash[65];
    /* encoded training/validation data */
    int tdim, ldim, lnnz;
    float *Xt, *Xv;
    int32_t *Lc;
    float *Lv;
    /* the validation and test rows encoded once for every run's evaluation,
     * by an encoder loaded from enc_text (what each model holds); NULL when
     * a row does not encode (the runs then score raw records) */
    rdm_encoder *eval_enc;
    float *eval_x[RDM_NSPLITS];
    int32_t *eval_c[RDM_NSPLITS];
    float *eval_v[RDM_NSPLITS];
    rdm_code_labels labels; /* the meaning of the code columns (raw.code_labels) */
    int defer_details;      /* the test split's details are left to rdm_train_details */
} trainer;

static void say(trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(trainer *t, const char *fmt, ...)
{
    if (!t->progress)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&t->say_mu);
    t->progress(line, t->ud);
    pthread_mutex_unlock(&t->say_mu);
}

static rdm_encoder *encoder_copy(trainer *t, rdm_err *err)
{
    size_t used = 0;
    return rdm_encoder_load(t->enc_text.data, t->enc_text.len, &used, err);
}

/* A run's description: model type, label, params. */
typedef struct run_spec {
    rdm_model_type type;
    char name[128];
    int nparams;
    char pkey[16][32];
    char pval[16][64];
    double l2;  /* logreg */
    double lr;  /* gbt */
    int leaves; /* gbt */
} run_spec;

static void spec_param(run_spec *s, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void spec_param(run_spec *s, const char *k, const char *fmt, ...)
{
    if (s->nparams >= 16)
        return;
    snprintf(s->pkey[s->nparams], sizeof s->pkey[0], "%s", k);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->pval[s->nparams], sizeof s->pval[0], fmt, ap);
    va_end(ap);
    s->nparams++;
}

typedef struct gbt_progress_ctx {
    trainer *t;
    const char *name;
    double start;
    size_t rows;
} gbt_progress_ctx;

static void gbt_cb(int iter, double train_loss, double valid_loss, void *ud)
{
    gbt_progress_ctx *g = ud;
    if (iter % 25 != 0)
        return;
    double el = rdm_now() - g->start;
    say(g->t,
        "train model=\"%s\" iter=%d train_logloss=%.5f valid_logloss=%.5f "
        "rows_per_s=%.0f",
        g->name, iter, train_loss, valid_loss, el > 0 ? (double)g->rows * iter / el : 0.0);
}

static void logreg_cb(int iter, double objective, double grad_norm, void *ud)
{
    gbt_progress_ctx *g = ud;
    say(g->t, "train model=\"%s\" iter=%d objective=%.6f grad=%.2e", g->name, iter, objective,
        grad_norm);
}

/* Fit the model of `s` on `threads` threads. Returns the model (owned by
 * caller) or NULL. */
static rdm_model *fit_model(trainer *t, const run_spec *s, int threads, double *fit_s, rdm_err *err)
{
    const rdm_dataset *ds = &t->ds;
    size_t nt = ds->count[RDM_SPLIT_TRAIN], nv = ds->count[RDM_SPLIT_VALID];
    double t0 = rdm_now();
    rdm_model *m = NULL;
    if (s->type == RDM_MODEL_BASELINE) {
        double pos = 0;
        for (size_t i = 0; i < nt; i++)
            pos += ds->ys[RDM_SPLIT_TRAIN][i];
        m = rdm_model_create(RDM_MODEL_BASELINE, NULL, NULL, nt ? pos / (double)nt : 0.5, 0.5, err);
    } else if (s->type == RDM_MODEL_LOGREG) {
        rdm_csr X = {nt, t->ldim, t->lnnz, t->Lc, t->Lv};
        rdm_logreg_params p;
        rdm_logreg_params_default(&p);
        p.l2 = s->l2;
        p.max_iter = t->cfg->train.logreg_max_iter;
        p.tol = t->cfg->train.logreg_tol;
        p.threads = threads;
        gbt_progress_ctx g = {t, s->name, t0, nt};
        p.progress = logreg_cb;
        p.progress_ud = &g;
        rdm_logreg_info info = {0};
        rdm_logreg *lr = rdm_logreg_fit(&X, ds->ys[RDM_SPLIT_TRAIN], &p, &info, err);
        if (!lr)
            return NULL;
        say(t,
            "train model=\"%s\" iterations=%d converged=%d objective=%.6f "
            "grad=%.2e",
            s->name, info.iterations, info.converged, info.objective, info.grad_norm);
        rdm_encoder *e = encoder_copy(t, err);
        if (!e) {
            rdm_logreg_free(lr);
            return NULL;
        }
        m = rdm_model_create(RDM_MODEL_LOGREG, e, lr, 0, 0.5, err);
        if (m) {
            char b[64];
            snprintf(b, sizeof b, "%d", info.iterations);
            rdm_model_set_meta(m, "fit.iterations", b, NULL);
            rdm_model_set_meta(m, "fit.converged", info.converged ? "1" : "0", NULL);
        }
    } else {
        const rdm_config *c = t->cfg;
        rdm_gbt_params p;
        rdm_gbt_params_default(&p);
        p.learning_rate = s->lr;
        p.max_leaves = s->leaves;
        p.max_iter = c->train.gbt_max_iter;
        p.max_depth = c->train.gbt_max_depth;
        p.max_bins = c->train.gbt_max_bins;
        p.min_child_weight = c->train.gbt_min_child_weight;
        p.l2 = c->train.gbt_l2;
        p.subsample = c->train.gbt_subsample;
        p.colsample = c->train.gbt_colsample;
        p.early_stopping = c->train.gbt_early_stopping;
        p.threads = threads;
        p.seed = (uint64_t)c->train.seed;
        gbt_progress_ctx g = {t, s->name, t0, nt};
        rdm_gbt *gb =
            rdm_gbt_fit(t->Xt, ds->ys[RDM_SPLIT_TRAIN], nt, t->tdim, rdm_encoder_tree_ncat(t->enc),
                        t->Xv, ds->ys[RDM_SPLIT_VALID], nv, &p, gbt_cb, &g, err);
        if (!gb)
            return NULL;
        int ntrees = rdm_gbt_ntrees(gb);
        say(t, "train model=\"%s\" trees=%d", s->name, ntrees);
        rdm_encoder *e = encoder_copy(t, err);
        if (!e) {
            rdm_gbt_free(gb);
            return NULL;
        }
        m = rdm_model_create(RDM_MODEL_GBT, e, gb, 0, 0.5, err);
        if (m) {
            char b[64];
            snprintf(b, sizeof b, "%d", ntrees);
            rdm_model_set_meta(m, "fit.trees", b, NULL);
        }
    }
    *fit_s = rdm_now() - t0;
    return m;
}

static json_t *curve_json(const rdm_curve *c)
{
    json_t *a = json_array();
    for (int i = 0; i < c->n; i++) {
        json_t *pt = json_array();
        json_array_append_new(pt, json_real(c->x[i]));
        json_array_append_new(pt, json_real(c->y[i]));
        json_array_append_new(pt, isfinite(c->thr[i]) ? json_real(c->thr[i]) : json_null());
        json_array_append_new(a, pt);
    }
    return a;
}

static json_t *calib_json(const double *p, const float *y, size_t n)
{
    rdm_calib_bin bins[RDM_CALIB_BINS];
    rdm_calibration(p, y, n, bins);
    json_t *a = json_array();
    for (int i = 0; i < RDM_CALIB_BINS; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "bin", json_integer(i));
        json_object_set_new(o, "lo", json_real(bins[i].lo));
        json_object_set_new(o, "hi", json_real(bins[i].hi));
        json_object_set_new(o, "n", json_integer((json_int_t)bins[i].count));
        json_object_set_new(o, "mean_pred",
                            isfinite(bins[i].mean_pred) ? json_real(bins[i].mean_pred)
                                                        : json_null());
        json_object_set_new(o, "frac_pos",
                            isfinite(bins[i].observed) ? json_real(bins[i].observed) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* A JSON value as stored (compact, 10 digits); takes the reference. NULL
 * when j is NULL or out of memory (*oom set then). */
static char *json_text(json_t *j, int *oom)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    if (j && !s)
        *oom = 1;
    json_decref(j);
    return s;
}

/* One split's metrics, curves and calibration, measured before the database
 * is touched (the runs of other lanes write meanwhile). */
enum { SPLIT_KEYS = 18, SPLIT_CURVES = 3 };

static const char *const SPLIT_KEY_NAMES[SPLIT_KEYS] = {"n",
                                                        "positive_rate",
                                                        "roc_auc",
                                                        "pr_auc",
                                                        "log_loss",
                                                        "brier",
                                                        "accuracy",
                                                        "threshold",
                                                        "accuracy_at_threshold",
                                                        "precision",
                                                        "recall",
                                                        "f1",
                                                        "tp",
                                                        "fp",
                                                        "tn",
                                                        "fn",
                                                        "roc_auc_ci_low",
                                                        "roc_auc_ci_high"};
static const char *const SPLIT_CURVE_KINDS[SPLIT_CURVES] = {"roc", "pr", "calibration"};

typedef struct split_rec {
    int nk;
    double vals[SPLIT_KEYS];
    double metric;
    char *curve[SPLIT_CURVES]; /* JSON texts; NULL: not stored */
} split_rec;

static void split_rec_release(split_rec *r)
{
    for (int i = 0; i < SPLIT_CURVES; i++)
        free(r->curve[i]);
    memset(r, 0, sizeof *r);
}

/* `rk`: p and the split's targets, sorted once (rdm_ranked_create) */
static int measure_split(trainer *t, int split, const double *p, const rdm_ranked *rk, double thr,
                         split_rec *r, rdm_err *err)
{
    const rdm_dataset *ds = &t->ds;
    size_t n = ds->count[split];
    const float *y = ds->ys[split];
    rdm_metrics m;
    rdm_ranked_metrics(rk, p, y, thr, &m);
    double vals[SPLIT_KEYS] = {
        (double)n,       m.positive_rate, m.roc_auc,       m.pr_auc,        m.log_loss, m.brier,
        m.accuracy,      m.threshold,     m.accuracy_thr,  m.precision,     m.recall,   m.f1,
        (double)m.cm.tp, (double)m.cm.fp, (double)m.cm.tn, (double)m.cm.fn, NAN,        NAN};
    memcpy(r->vals, vals, sizeof vals);
    r->nk = 16;
    if (split == RDM_SPLIT_TEST && t->cfg->train.bootstrap > 0) {
        double lo = NAN, hi = NAN;
        rdm_err ignore = {0};
        if (rdm_ranked_auc_bootstrap(rk, t->cfg->train.bootstrap, (uint64_t)t->cfg->train.seed, &lo,
                                     &hi, &ignore) == RDM_OK) {
            r->vals[16] = lo;
            r->vals[17] = hi;
        }
        r->nk = 18;
    }
    r->metric = rdm_ranked_metric_by_name(t->cfg->train.metric, rk, p, y);
    rdm_curve *c = malloc(sizeof *c);
    if (!c)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    rdm_err ignore = {0};
    int oom = 0;
    if (rdm_ranked_roc_curve(rk, c, &ignore) == RDM_OK)
        r->curve[0] = json_text(curve_json(c), &oom);
    if (rdm_ranked_pr_curve(rk, c, &ignore) == RDM_OK)
        r->curve[1] = json_text(curve_json(c), &oom);
    free(c);
    r->curve[2] = json_text(calib_json(p, y, n), &oom);
    return oom ? rdm_errf(err, RDM_ENOMEM, "out of memory") : RDM_OK;
}

static int put_split(trainer *t, long long run_id, int split, const split_rec *r, rdm_err *err)
{
    const char *sname = rdm_split_name(split);
    int rc = rdm_registry_put_metrics(t->db, run_id, sname, r->nk, SPLIT_KEY_NAMES, r->vals, err);
    for (int i = 0; i < SPLIT_CURVES && rc == RDM_OK; i++)
        if (r->curve[i])
            rc = rdm_registry_put_curve(t->db, run_id, sname, SPLIT_CURVE_KINDS[i], r->curve[i],
                                        err);
    return rc;
}

/* The model's own feature importance as stored JSON (NULL: none, or *oom). */
static char *importance_text(const rdm_model *m, int *oom)
{
    int total = rdm_model_feature_importance(m, NULL, NULL, 0);
    if (total <= 0)
        return NULL;
    const char **names = malloc(sizeof *names * (size_t)total);
    double *vals = malloc(sizeof *vals * (size_t)total);
    if (!names || !vals) {
        free(names);
        free(vals);
        *oom = 1;
        return NULL;
    }
    int k = rdm_model_feature_importance(m, names, vals, total);
    json_t *a = json_array();
    for (int i = 0; i < k && i < total; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "feature", json_string(names[i]));
        json_object_set_new(o, "gain", json_real(isfinite(vals[i]) ? vals[i] : 0));
        json_array_append_new(a, o);
    }
    free(names);
    free(vals);
    return json_text(a, oom);
}

/* Global importance and dependence data from the explanations of the test
 * split, for the run page (stored as the test split's "importance"): every
 * k-th test encounter, at most EXPLAIN_ROWS of them (about a second of CPU
 * per boosted-trees run on the real data). NULL for a baseline, or with a
 * warning when the model cannot be explained. */
enum { EXPLAIN_ROWS = 5000 };

static json_t *explain_test(trainer *t, const rdm_model *m, rdm_pool *pool)
{
    const rdm_dataset *ds = &t->ds;
    size_t n = ds->count[RDM_SPLIT_TEST], k = (n + EXPLAIN_ROWS - 1) / EXPLAIN_ROWS, ns = 0;
    if (rdm_model_get_type(m) == RDM_MODEL_BASELINE || !n)
        return NULL;
    size_t *idx = malloc(n * sizeof *idx);
    rdm_err e = {0};
    rdm_explainer *x = idx ? rdm_explainer_create(m, &e) : NULL;
    for (size_t i = 0; x && i < n; i += k)
        idx[ns++] = ds->idx[RDM_SPLIT_TEST][i];
    json_t *j = x ? rdm_explain_summary(x, ds->cells, idx, ns, pool, NULL, &e) : NULL;
    if (j) {
        json_object_set_new(j, "split_rows", json_integer((json_int_t)n));
        json_object_set_new(j, "every", json_integer((json_int_t)k));
    } else {
        rdm_log(RDM_LOG_WARN, "train: no explanations of the test split: %s",
                idx ? e.msg : "out of memory");
    }
    rdm_explainer_free(x);
    free(idx);
    return j;
}

/* Performance by patient group on the test split (the model card's
 * disaggregated evaluation, stored as the test split's "subgroups"): the
 * probabilities `ps` of every test encounter at threshold `thr`, by race,
 * gender and age band, with cfg->train.bootstrap patient resamples. NULL for
 * a baseline, or with a warning when it cannot be measured. */
static json_t *groups_test(trainer *t, const rdm_model *m, const double *ps, double thr,
                           rdm_pool *pool)
{
    const rdm_dataset *ds = &t->ds;
    size_t n = ds->count[RDM_SPLIT_TEST];
    if (rdm_model_get_type(m) == RDM_MODEL_BASELINE || !n)
        return NULL;
    static const char *const COLS[RDM_MONGROUP_NATTR] = {"race", "gender", "age"};
    int col[RDM_MONGROUP_NATTR];
    for (int a = 0; a < RDM_MONGROUP_NATTR; a++)
        col[a] = rdm_schema_find(COLS[a]);
    rdm_err e = {0};
    rdm_mongroups *g = rdm_mongroups_create(t->cfg->train.bootstrap, &e);
    int rc = g ? RDM_OK : RDM_ENOMEM;
    for (size_t i = 0; rc == RDM_OK && i < n; i++) {
        const char **row = ds->cells + ds->idx[RDM_SPLIT_TEST][i] * RDM_NCOLS;
        rdm_mongroup_row r = {(int64_t)i,
                              -1,
                              atoll(row[RDM_C_PATIENT_NBR]),
                              ps[i],
                              thr,
                              ds->ys[RDM_SPLIT_TEST][i] > 0.5f,
                              {NULL, NULL, NULL}};
        for (int a = 0; a < RDM_MONGROUP_NATTR; a++)
            r.attr[a] = row[col[a]];
        rc = rdm_mongroups_add(g, &r, &e);
    }
    json_t *j = rc == RDM_OK ? rdm_mongroups_measure_all(g, pool, &e) : NULL;
    if (!j)
        rdm_log(RDM_LOG_WARN, "train: no performance by group of the test split: %s", e.msg);
    rdm_mongroups_free(g);
    return j;
}

typedef struct run_outcome {
    long long run_id;
    int ok;
    double valid_metric, test_metric;
} run_outcome;

/* Evaluate and record a fitted model. Takes ownership of m. */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* For readers of a prediction (the web form): the validation base rate and
 * the probability above which the top tenth of validation encounters lie. */
static int set_valid_meta(rdm_model *m, const double *pv, const float *y, size_t nv, rdm_err *err)
{
    double *s = nv ? malloc(nv * sizeof *s) : NULL, pos = 0;
    if (!s)
        return nv ? rdm_errf(err, RDM_ENOMEM, "out of memory") : RDM_OK;
    for (size_t i = 0; i < nv; i++) {
        s[i] = pv[i];
        pos += y[i] > 0.5f;
    }
    qsort(s, nv, sizeof *s, cmp_double);
    char b[64];
    snprintf(b, sizeof b, "%.6g", pos / (double)nv);
    int rc = rdm_model_set_meta(m, "valid.base_rate", b, err);
    snprintf(b, sizeof b, "%.6g", s[(size_t)(0.9 * (double)(nv - 1))]);
    if (rc == RDM_OK)
        rc = rdm_model_set_meta(m, "valid.top_decile", b, err);
    free(s);
    return rc;
}

/* The evaluation's scores of `split` by m: from the rows encoded once
 * (trainer's eval_*) when m holds the training's encoder (its saved text),
 * with the first SPOT_ROWS also scored from the raw records and required to
 * be the same bits; else, and for a baseline, from the raw records. */
enum { SPOT_ROWS = 64, EVAL_CHUNK = 2048 };

typedef struct eval_job {
    const rdm_model *m;
    const float *x;
    const int32_t *c;
    const float *v;
    size_t n, tdim, nnz;
    double *p;
} eval_job;

static void eval_chunk(void *arg, size_t item, int tid)
{
    eval_job *j = arg;
    (void)tid;
    size_t a = item * EVAL_CHUNK, k = j->n - a < EVAL_CHUNK ? j->n - a : EVAL_CHUNK;
    (void)rdm_model_score_encoded(j->m, j->x ? j->x + a * j->tdim : NULL,
                                  j->c ? j->c + a * j->nnz : NULL, j->v ? j->v + a * j->nnz : NULL,
                                  k, j->p + a, NULL);
}

static int score_split(trainer *t, const rdm_model *m, int split, rdm_pool *pool, double *p,
                       rdm_err *err)
{
    const rdm_dataset *ds = &t->ds;
    size_t n = ds->count[split];
    rdm_model_type ty = rdm_model_get_type(m);
    if (!t->eval_enc || ty == RDM_MODEL_BASELINE ||
        !rdm_model_encoder_text_is(m, t->enc_text.data, t->enc_text.len))
        return rdm_score_rows(m, ds, ds->idx[split], n, pool, p, err);
    eval_job j = {m,
                  ty == RDM_MODEL_GBT ? t->eval_x[split] : NULL,
                  ty == RDM_MODEL_LOGREG ? t->eval_c[split] : NULL,
                  ty == RDM_MODEL_LOGREG ? t->eval_v[split] : NULL,
                  n,
                  (size_t)t->tdim,
                  (size_t)t->lnnz,
                  p};
    if ((ty == RDM_MODEL_GBT && !j.x) || (ty == RDM_MODEL_LOGREG && !j.c))
        return rdm_score_rows(m, ds, ds->idx[split], n, pool, p, err);
    rdm_pool_for(pool, (n + EVAL_CHUNK - 1) / EVAL_CHUNK, eval_chunk, &j);
    double spot[SPOT_ROWS];
    size_t ns = n < SPOT_ROWS ? n : SPOT_ROWS;
    int rc = rdm_model_score_rows(m, ds->cells, ds->idx[split], ns, spot, err);
    for (size_t i = 0; rc == RDM_OK && i < ns; i++)
        if (spot[i] != p[i] && !(isnan(spot[i]) && isnan(p[i])))
            rc = rdm_errf(err, RDM_ESTATE,
                          "%s row %zu scores %.17g from its record, %.17g encoded beforehand",
                          rdm_split_name(split), i + 1, spot[i], p[i]);
    return rc;
}

static int evaluate_and_record(trainer *t, const run_spec *s, long long run_id, rdm_model *m,
                               double fit_s, double t0, rdm_pool *pool, run_outcome *out,
                               rdm_err *err)
{
    const rdm_dataset *ds = &t->ds;
    size_t nv = ds->count[RDM_SPLIT_VALID], ns = ds->count[RDM_SPLIT_TEST];
    double *pv = malloc(sizeof *pv * (nv ? nv : 1)), *pv2 = malloc(sizeof *pv2 * (nv ? nv : 1));
    double *ps = malloc(sizeof *ps * (ns ? ns : 1));
    rdm_buf bytes = RDM_BUF_INIT;
    rdm_model *loaded = NULL;
    rdm_ranked *rkv = NULL, *rkt = NULL;
    split_rec sv = {0}, st = {0};
    char *imp = NULL, *xj = NULL, *gj = NULL;
    int rc = RDM_OK, in_tx = 0, locked = 0, oom = 0;
    double ts0 = rdm_now(), ts_score = 0, ts_explain = 0, ts_groups = 0, ts_rec = 0;
    double cs0 = cpu_now(), cs_score = 0, cs_explain = 0, cs_groups = 0, cs_rec = 0;
    if (!pv || !pv2 || !ps) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    /* threshold from validation, through the scoring path; the validation
     * rows sorted by score once, for it and the validation metrics (of the
     * saved model's scores, checked equal below) */
    if ((rc = score_split(t, m, RDM_SPLIT_VALID, pool, pv, err)))
        goto done;
    if (!(rkv = rdm_ranked_create(pv, ds->ys[RDM_SPLIT_VALID], nv))) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    double thr = rdm_ranked_best_f1_threshold(rkv, NULL);
    rdm_model_set_threshold(m, thr);
    char b[64], now[32];
    if ((rc = set_valid_meta(m, pv, ds->ys[RDM_SPLIT_VALID], nv, err)))
        goto done;
    snprintf(b, sizeof b, "%lld", run_id);
    rdm_utc_now(now);

    const struct {
        const char *k, *v;
    } meta[] = {{"run_id", b},
                {"run_name", s->name},
                {"trained_at", now},
                {"snapshot_fingerprint", ds->fingerprint},
                {"config_hash", t->config_hash},
                {"code_version", t->code_version},
                {"selection_metric", t->cfg->train.metric}};

    for (size_t i = 0; i < sizeof meta / sizeof meta[0] && rc == RDM_OK; i++)
        rc = rdm_model_set_meta(m, meta[i].k, meta[i].v, err);
    snprintf(b, sizeof b, "%lld", ds->snapshot_id);
    if (rc == RDM_OK)
        rc = rdm_model_set_meta(m, "snapshot_id", b, err);
    for (size_t i = 0; i < t->labels.n && rc == RDM_OK; i++)
        rc = rdm_model_set_label(m, t->labels.v[i].col, t->labels.v[i].code, t->labels.v[i].label,
                                 err);
    if (rc || (rc = rdm_model_save_bytes(m, &bytes, err)))
        goto done;
    /* evaluate what serving will load: the saved bytes */
    if (!(loaded = rdm_model_load_bytes(bytes.data, bytes.len, err))) {
        rc = err && err->code ? err->code : RDM_EPARSE;
        rdm_err_prefix(err, "reloading the saved model");
        goto done;
    }
    if ((rc = score_split(t, loaded, RDM_SPLIT_VALID, pool, pv2, err)) ||
        (rc = score_split(t, loaded, RDM_SPLIT_TEST, pool, ps, err)))
        goto done;
    for (size_t i = 0; i < nv; i++)
        if (pv[i] != pv2[i] && !(isnan(pv[i]) && isnan(pv2[i]))) {
            rc = rdm_errf(err, RDM_ESTATE,
                          "saved model scores validation row %zu as %.17g, in memory %.17g", i,
                          pv2[i], pv[i]);
            goto done;
        }
    ts_score = rdm_now();
    cs_score = cpu_now();
    /* the test split's details (for the report) now, or after the training
     * (rdm_train_details) */
    if (!t->defer_details)
        xj = json_text(explain_test(t, loaded, pool), &oom);
    ts_explain = rdm_now();
    cs_explain = cpu_now();
    if (!t->defer_details)
        gj = json_text(groups_test(t, loaded, ps, thr, pool), &oom);
    ts_groups = rdm_now();
    cs_groups = cpu_now();
    if (!(rkt = rdm_ranked_create(ps, ds->ys[RDM_SPLIT_TEST], ns))) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = measure_split(t, RDM_SPLIT_VALID, pv2, rkv, thr, &sv, err)) ||
        (rc = measure_split(t, RDM_SPLIT_TEST, ps, rkt, thr, &st, err)))
        goto done;
    imp = importance_text(loaded, &oom);
    if (oom) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    out->valid_metric = sv.metric;
    out->test_metric = st.metric;
    ts_rec = rdm_now();
    cs_rec = cpu_now();

    /* the records, in one transaction on the one connection */
    pthread_mutex_lock(&t->db_mu);
    locked = 1;
    if ((rc = rdm_db_begin(t->db, err)))
        goto done;
    in_tx = 1;
    char sha[65];
    if ((rc = rdm_registry_put_artifact(t->db, t->cfg->registry.cache_dir, bytes.data, bytes.len,
                                        sha, err)))
        goto done;
    if ((rc = rdm_registry_put_run_artifact(t->db, run_id, sha, err)) ||
        (rc = put_split(t, run_id, RDM_SPLIT_VALID, &sv, err)) ||
        (rc = put_split(t, run_id, RDM_SPLIT_TEST, &st, err)) ||
        (imp && (rc = rdm_registry_put_curve(t->db, run_id, "train", "importance", imp, err))) ||
        (xj && (rc = rdm_registry_put_curve(t->db, run_id, "test", "importance", xj, err))) ||
        (gj && (rc = rdm_registry_put_curve(t->db, run_id, "test", "subgroups", gj, err))))
        goto done;
    {
        const char *keys[] = {"fit_seconds", "trees", "iterations"};
        const char *tr = rdm_model_meta(loaded, "fit.trees");
        const char *it = rdm_model_meta(loaded, "fit.iterations");
        double vals[] = {fit_s, tr ? atof(tr) : NAN, it ? atof(it) : NAN};
        if ((rc = rdm_registry_put_metrics(t->db, run_id, "train", 3, keys, vals, err)))
            goto done;
    }
    if ((rc = rdm_registry_finish_run(t->db, run_id, rdm_now() - t0, fit_s, thr, sha, err)))
        goto done;
    rc = rdm_db_commit(t->db, err);
    in_tx = 0;
    if (rc == RDM_OK)
        out->ok = 1;
    rdm_log(RDM_LOG_INFO,
            "train run=%lld seconds (wall/cpu): fit=%.3f score=%.3f/%.3f explain=%.3f/%.3f "
            "groups=%.3f/%.3f metrics=%.3f/%.3f record=%.3f",
            run_id, fit_s, ts_score - ts0, cs_score - cs0, ts_explain - ts_score,
            cs_explain - cs_score, ts_groups - ts_explain, cs_groups - cs_explain,
            ts_rec - ts_groups, cs_rec - cs_groups, rdm_now() - ts_rec);
done:
    if (in_tx)
        rdm_db_rollback(t->db);
    if (locked)
        pthread_mutex_unlock(&t->db_mu);
    free(pv);
    free(pv2);
    free(ps);
    rdm_ranked_free(rkv);
    rdm_ranked_free(rkt);
    rdm_buf_release(&bytes);
    split_rec_release(&sv);
    split_rec_release(&st);
    free(imp);
    free(xj);
    free(gj);
    rdm_model_free(loaded);
    rdm_model_free(m);
    return rc;
}

/* Fit, evaluate and record the run of spec `s` (its registry row exists:
 * out->run_id). A run that fails is recorded as failed and the others go
 * on; only a failing database returns an error. */
static int run_one(trainer *t, const run_spec *s, int threads, rdm_pool *pool, run_outcome *out,
                   rdm_err *err)
{
    say(t, "train run=%lld model=\"%s\" start", out->run_id, s->name);
    double t0 = rdm_now(), fit_s = 0, c0 = cpu_now();
    rdm_err rerr = {0};
    rdm_model *m = fit_model(t, s, threads, &fit_s, &rerr);
    rdm_log(RDM_LOG_INFO, "train run=%lld model=\"%s\" fit seconds (wall/cpu) %.3f/%.3f",
            out->run_id, s->name, fit_s, cpu_now() - c0);
    int rc = m ? evaluate_and_record(t, s, out->run_id, m, fit_s, t0, pool, out, &rerr)
               : (rerr.code ? rerr.code : RDM_EINVAL);
    if (rc == RDM_OK) {
        say(t,
            "train run=%lld model=\"%s\" finished fit_s=%.2f valid_%s=%.4f "
            "test_%s=%.4f",
            out->run_id, s->name, fit_s, t->cfg->train.metric, out->valid_metric,
            t->cfg->train.metric, out->test_metric);
        return RDM_OK;
    }
    out->ok = 0;
    /* record the failure; the other runs go on */
    const char *msg = rerr.msg[0] ? rerr.msg : rdm_strerror(rc);
    say(t, "train run=%lld model=\"%s\" failed: %s", out->run_id, s->name, msg);
    /* a failing database stops the training */
    pthread_mutex_lock(&t->db_mu);
    rc = rdm_registry_fail_run(t->db, out->run_id, rdm_now() - t0, msg, err);
    pthread_mutex_unlock(&t->db_mu);
    return rc;
}

/* ---- the runs on lanes ----
 *
 * The runs are independent: lanes (threads) take them one at a time, the
 * boosted trees first (the longest), then the logistic regressions and the
 * baseline, each fitting and scoring on threads / lanes threads of its own,
 * and write their records under the connection's lock. A run's model and
 * metrics do not depend on the lane or on the number of threads (the fits
 * and the scoring are deterministic for any thread count); only the order in
 * which runs finish does. */
typedef struct lanes {
    trainer *t;
    const run_spec *specs;
    run_outcome *outs;
    const int *order; /* specs in the order lanes take them */
    int n, next, threads_each;
    int rc;      /* the first database failure (the others then stop) */
    rdm_err err; /* its message */
    pthread_mutex_t mu;
} lanes;

static void *lane_main(void *arg)
{
    lanes *L = arg;
    rdm_pool *pool = L->threads_each > 1 ? rdm_pool_create(L->threads_each, NULL) : NULL;
    for (;;) {
        pthread_mutex_lock(&L->mu);
        int k = L->rc == RDM_OK && L->next < L->n ? L->order[L->next++] : -1;
        pthread_mutex_unlock(&L->mu);
        if (k < 0)
            break;
        rdm_err err = {0};
        int rc = run_one(L->t, &L->specs[k], L->threads_each, pool, &L->outs[k], &err);
        if (rc) {
            pthread_mutex_lock(&L->mu);
            if (L->rc == RDM_OK) {
                L->rc = rc;
                L->err = err;
            }
            pthread_mutex_unlock(&L->mu);
        }
    }
    rdm_pool_free(pool);
    return NULL;
}

/* Run every spec (their registry rows exist) on min(threads, specs) lanes,
 * the caller's thread being one of them. */
static int run_lanes(trainer *t, const run_spec *specs, int nspecs, run_outcome *outs, rdm_err *err)
{
    int *order = malloc(sizeof *order * (size_t)(nspecs ? nspecs : 1)), n = 0;
    if (!order)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    static const rdm_model_type BY_COST[] = {RDM_MODEL_GBT, RDM_MODEL_LOGREG, RDM_MODEL_BASELINE};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < nspecs; i++)
            if (specs[i].type == BY_COST[c])
                order[n++] = i;
    /* jansson seeds its hash function with the first object created: here,
     * before the lanes start, not racing in them */
    json_decref(json_object());
    lanes L = {.t = t, .specs = specs, .outs = outs, .order = order, .n = n};
    int nl = t->threads < n ? t->threads : n;
    if (nl < 1)
        nl = 1;
    L.threads_each = t->threads / nl > 0 ? t->threads / nl : 1;
    pthread_mutex_init(&L.mu, NULL);
    pthread_t tid[RDM_POOL_MAX];
    int started = 0;
    for (int i = 1; i < nl && i < RDM_POOL_MAX; i++) {
        if (pthread_create(&tid[started], NULL, lane_main, &L) != 0)
            break; /* fewer lanes: the caller's thread takes the rest */
        started++;
    }
    lane_main(&L);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&L.mu);
    free(order);
    if (L.rc != RDM_OK && err)
        *err = L.err;
    return L.rc;
}

/* ---- the whole training ---- */

/* Encoded matrices in chunks of rows spread over a pool: each chunk writes
 * its own rows, so the matrices are the same for any thread count. A target
 * is one split's rows encoded by one encoder, as tree or linear features. */
enum { ENCODE_CHUNK = 4096, MAX_TARGETS = 8 };

typedef struct enc_target {
    const rdm_encoder *enc;
    int split, linear;
    float *X;   /* tree features */
    int32_t *C; /* linear: columns and values */
    float *V;
} enc_target;

typedef struct encode_job {
    const rdm_dataset *ds;
    const enc_target *tg;
    int ntg;
    size_t nchunks[MAX_TARGETS], total;
    int *rc; /* per chunk */
} encode_job;

static int encode_rows(const enc_target *g, const rdm_dataset *ds, size_t lo, size_t n,
                       rdm_err *err)
{
    const size_t *idx = ds->idx[g->split] + lo;
    if (!g->linear)
        return rdm_encoder_tree_matrix(g->enc, ds->cells, idx, n,
                                       g->X + lo * (size_t)rdm_encoder_tree_dim(g->enc), err);
    size_t nnz = (size_t)rdm_encoder_lin_nnz(g->enc);
    return rdm_encoder_lin_matrix(g->enc, ds->cells, idx, n, g->C + lo * nnz, g->V + lo * nnz, err);
}

static void encode_item(void *arg, size_t item, int tid)
{
    encode_job *j = arg;
    (void)tid;
    size_t k = item;
    int m = 0;
    while (k >= j->nchunks[m])
        k -= j->nchunks[m++];
    size_t lo = k * ENCODE_CHUNK, n = j->ds->count[j->tg[m].split] - lo;
    j->rc[item] = encode_rows(&j->tg[m], j->ds, lo, n > ENCODE_CHUNK ? ENCODE_CHUNK : n, NULL);
}

/* Every target's rows; the first row that does not encode is named in err
 * (its matrix encoded again from its first row, on this thread). */
static int encode_targets(const rdm_dataset *ds, const enc_target *tg, int ntg, rdm_pool *pool,
                          rdm_err *err)
{
    encode_job j = {.ds = ds, .tg = tg, .ntg = ntg};
    for (int i = 0; i < ntg; i++) {
        j.nchunks[i] = (ds->count[tg[i].split] + ENCODE_CHUNK - 1) / ENCODE_CHUNK;
        j.total += j.nchunks[i];
    }
    j.rc = calloc(j.total + 1, sizeof *j.rc);
    if (!j.rc)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    rdm_pool_for(pool, j.total, encode_item, &j);
    size_t bad = 0;
    while (bad < j.total && j.rc[bad] == RDM_OK)
        bad++;
    free(j.rc);
    if (bad == j.total)
        return RDM_OK;
    int m = 0;
    for (size_t k = bad; k >= j.nchunks[m]; m++)
        k -= j.nchunks[m];
    int rc = encode_rows(&tg[m], ds, 0, ds->count[tg[m].split], err);
    return rc ? rc : rdm_errf(err, RDM_ESTATE, "encoding failed on a thread, not on its own");
}

/* The validation and test rows for the runs' evaluation (see trainer): on
 * any failure the runs score raw records instead. */
static void encode_eval(trainer *t, rdm_pool *pool)
{
    const rdm_dataset *ds = &t->ds;
    rdm_err e = {0};
    enc_target tg[4];
    int n = 0, ok = (t->eval_enc = encoder_copy(t, &e)) != NULL;
    static const int SPLITS[] = {RDM_SPLIT_VALID, RDM_SPLIT_TEST};
    for (int i = 0; ok && i < 2; i++) {
        int s = SPLITS[i];
        size_t rows = ds->count[s] ? ds->count[s] : 1;
        if (t->Xt) {
            ok = (t->eval_x[s] = malloc(sizeof(float) * rows * (size_t)t->tdim)) != NULL;
            tg[n++] = (enc_target){t->eval_enc, s, 0, t->eval_x[s], NULL, NULL};
        }
        if (ok && t->Lc) {
            ok = (t->eval_c[s] = malloc(sizeof(int32_t) * rows * (size_t)t->lnnz)) &&
                 (t->eval_v[s] = malloc(sizeof(float) * rows * (size_t)t->lnnz));
            tg[n++] = (enc_target){t->eval_enc, s, 1, NULL, t->eval_c[s], t->eval_v[s]};
        }
    }
    if (ok && encode_targets(ds, tg, n, pool, &e) == RDM_OK)
        return;
    rdm_log(RDM_LOG_INFO, "train: the runs score raw records (%s)",
            e.msg[0] ? e.msg : "out of memory");
    rdm_encoder_free(t->eval_enc);
    t->eval_enc = NULL;
    for (int s = 0; s < RDM_NSPLITS; s++) {
        free(t->eval_x[s]);
        free(t->eval_c[s]);
        free(t->eval_v[s]);
        t->eval_x[s] = NULL;
        t->eval_c[s] = NULL;
        t->eval_v[s] = NULL;
    }
}

static int prepare_on(trainer *t, rdm_pool *pool, rdm_err *err)
{
    const rdm_dataset *ds = &t->ds;
    const rdm_config *c = t->cfg;
    rdm_encoder_params ep;
    rdm_encoder_params_default(&ep);
    ep.min_count = c->features.min_count;
    ep.diag_mode = c->features.diag_mode;
    double t0 = rdm_now(), c0 = cpu_now();
    size_t nt = ds->count[RDM_SPLIT_TRAIN], nv = ds->count[RDM_SPLIT_VALID];
    t->enc = rdm_encoder_fit_on(ds->cells, ds->idx[RDM_SPLIT_TRAIN], nt, &ep, pool, err);
    if (!t->enc)
        return err && err->code ? err->code : RDM_EINVAL;
    double t_fit = rdm_now(), c_fit = cpu_now();
    int rc = rdm_encoder_save(t->enc, &t->enc_text, err);
    if (rc)
        return rc;
    t->tdim = rdm_encoder_tree_dim(t->enc);
    t->ldim = rdm_encoder_lin_dim(t->enc);
    t->lnnz = rdm_encoder_lin_nnz(t->enc);
    if (c->train.gbt_enabled) {
        t->Xt = malloc(sizeof(float) * (nt ? nt : 1) * (size_t)t->tdim);
        t->Xv = malloc(sizeof(float) * (nv ? nv : 1) * (size_t)t->tdim);
        if (!t->Xt || !t->Xv)
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    if (c->train.logreg_enabled) {
        t->Lc = malloc(sizeof(int32_t) * (nt ? nt : 1) * (size_t)t->lnnz);
        t->Lv = malloc(sizeof(float) * (nt ? nt : 1) * (size_t)t->lnnz);
        if (!t->Lc || !t->Lv)
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    enc_target tg[3];
    int ntg = 0;
    if (t->Xt) {
        tg[ntg++] = (enc_target){t->enc, RDM_SPLIT_TRAIN, 0, t->Xt, NULL, NULL};
        tg[ntg++] = (enc_target){t->enc, RDM_SPLIT_VALID, 0, t->Xv, NULL, NULL};
    }
    if (t->Lc)
        tg[ntg++] = (enc_target){t->enc, RDM_SPLIT_TRAIN, 1, NULL, t->Lc, t->Lv};
    if ((rc = encode_targets(ds, tg, ntg, pool, err)))
        return rc;
    encode_eval(t, pool);
    say(t, "train encoder tree_features=%d linear_features=%d seconds=%.2f", t->tdim, t->ldim,
        rdm_now() - t0);
    rdm_log(RDM_LOG_INFO,
            "train encoder tree_features=%d linear_features=%d nnz=%d seconds (wall/cpu): "
            "fit=%.3f/%.3f matrices=%.3f",
            t->tdim, t->ldim, t->lnnz, t_fit - t0, c_fit - c0, rdm_now() - t_fit);
    rdm_log(RDM_LOG_INFO, "train cpu so far %.3f", cpu_now());
    return RDM_OK;
}

/* The encoder (fitted on the training rows) and the encoded matrices, on a
 * pool of the training's threads. */
static int prepare_features(trainer *t, rdm_err *err)
{
    rdm_pool *pool = NULL;
    if (t->threads > 1 && !(pool = rdm_pool_create(t->threads, err)))
        return err && err->code ? err->code : RDM_ENOMEM;
    int rc = prepare_on(t, pool, err);
    rdm_pool_free(pool);
    return rc;
}

static int build_specs(const rdm_config *c, run_spec **out, int *n)
{
    int cap = 1 + c->train.logreg_l2.n + c->train.gbt_learning_rate.n * c->train.gbt_max_leaves.n;
    run_spec *s = calloc((size_t)cap, sizeof *s);
    if (!s)
        return RDM_ENOMEM;
    int k = 0;
    if (c->train.baseline_enabled) {
        s[k].type = RDM_MODEL_BASELINE;
        snprintf(s[k].name, sizeof s[k].name, "baseline majority");
        spec_param(&s[k], "strategy", "prior");
        k++;
    }
    if (c->train.logreg_enabled)
        for (int i = 0; i < c->train.logreg_l2.n; i++) {
            run_spec *r = &s[k++];
            r->type = RDM_MODEL_LOGREG;
            r->l2 = c->train.logreg_l2.v[i];
            snprintf(r->name, sizeof r->name, "logreg l2=%g", r->l2);
            spec_param(r, "l2", "%.17g", r->l2);
            spec_param(r, "max_iter", "%d", c->train.logreg_max_iter);
            spec_param(r, "tol", "%.17g", c->train.logreg_tol);
            spec_param(r, "min_count", "%ld", c->features.min_count);
            spec_param(r, "diag", "%s", c->features.diag_mode ? "code" : "rank_chapter");
        }
    if (c->train.gbt_enabled)
        for (int i = 0; i < c->train.gbt_learning_rate.n; i++)
            for (int j = 0; j < c->train.gbt_max_leaves.n; j++) {
                run_spec *r = &s[k++];
                r->type = RDM_MODEL_GBT;
                r->lr = c->train.gbt_learning_rate.v[i];
                r->leaves = (int)c->train.gbt_max_leaves.v[j];
                snprintf(r->name, sizeof r->name, "gbt lr=%g leaves=%d", r->lr, r->leaves);
                spec_param(r, "learning_rate", "%.17g", r->lr);
                spec_param(r, "max_leaves", "%d", r->leaves);
                spec_param(r, "max_depth", "%d", c->train.gbt_max_depth);
                spec_param(r, "max_iter", "%d", c->train.gbt_max_iter);
                spec_param(r, "max_bins", "%d", c->train.gbt_max_bins);
                spec_param(r, "min_child_weight", "%.17g", c->train.gbt_min_child_weight);
                spec_param(r, "l2", "%.17g", c->train.gbt_l2);
                spec_param(r, "subsample", "%.17g", c->train.gbt_subsample);
                spec_param(r, "colsample", "%.17g", c->train.gbt_colsample);
                spec_param(r, "early_stopping", "%d", c->train.gbt_early_stopping);
                spec_param(r, "seed", "%ld", c->train.seed);
                spec_param(r, "min_count", "%ld", c->features.min_count);
                spec_param(r, "diag", "%s", c->features.diag_mode ? "code" : "rank_chapter");
            }
    *out = s;
    *n = k;
    return RDM_OK;
}

static void trainer_release(trainer *t)
{
    rdm_dataset_release(&t->ds);
    rdm_code_labels_release(&t->labels);
    rdm_encoder_free(t->enc);
    rdm_buf_release(&t->enc_text);
    free(t->Xt);
    free(t->Xv);
    free(t->Lc);
    free(t->Lv);
    rdm_encoder_free(t->eval_enc);
    for (int s = 0; s < RDM_NSPLITS; s++) {
        free(t->eval_x[s]);
        free(t->eval_c[s]);
        free(t->eval_v[s]);
    }
    pthread_mutex_destroy(&t->db_mu);
    pthread_mutex_destroy(&t->say_mu);
}

/* The parts of a trainer both entry points set the same way. */
static void trainer_init(trainer *t, const rdm_config *cfg, rdm_db *db, const rdm_train_opts *opts)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->db = db;
    t->progress = opts ? opts->progress : NULL;
    t->ud = opts ? opts->ud : NULL;
    t->threads = cfg->train.threads > 0 ? cfg->train.threads : rdm_ncpu();
    pthread_mutex_init(&t->db_mu, NULL);
    pthread_mutex_init(&t->say_mu, NULL);
}

int rdm_train(const rdm_config *cfg, rdm_db *db, const rdm_train_opts *opts, rdm_train_result *res,
              rdm_err *err)
{
    memset(res, 0, sizeof *res);
    trainer t;
    trainer_init(&t, cfg, db, opts);
    t.code_version = opts && opts->code_version ? opts->code_version : RDM_VERSION;
    t.defer_details = opts ? opts->defer_details : 0;
    double t0 = rdm_now();
    run_spec *specs = NULL;
    run_outcome *outs = NULL;
    int nspecs = 0, rc, locked = 0;
    /* one training at a time: a run left 'running' is then a dead one */
    if ((rc = rdm_registry_lock_training(db, err)))
        goto done;
    locked = 1;
    if ((rc = rdm_config_fingerprint(cfg, "train", t.config_hash, err)))
        goto done;
    if ((rc = rdm_dataset_load(db, cfg, &t.ds, err)))
        goto done;
    if ((rc = rdm_code_labels_load(db, &t.labels, err)))
        goto done;
    rdm_log(RDM_LOG_INFO, "train snapshot=%lld rows=%zu load_s=%.3f", t.ds.snapshot_id, t.ds.n,
            rdm_now() - t0);
    for (int s = 0; s < RDM_NSPLITS; s++)
        res->rows[s] = t.ds.count[s];
    res->snapshot_id = t.ds.snapshot_id;
    snprintf(res->fingerprint, sizeof res->fingerprint, "%s", t.ds.fingerprint);
    say(&t,
        "train snapshot=%lld rows=%zu train=%zu valid=%zu test=%zu load_s=%.2f "
        "threads=%d",
        t.ds.snapshot_id, t.ds.n, t.ds.count[0], t.ds.count[1], t.ds.count[2], rdm_now() - t0,
        t.threads);
    if (t.ds.count[RDM_SPLIT_TRAIN] == 0 || t.ds.count[RDM_SPLIT_VALID] == 0) {
        rc = rdm_errf(err, RDM_ESTATE,
                      "snapshot %lld: the training or validation split is empty "
                      "(%zu train, %zu validation rows)",
                      t.ds.snapshot_id, t.ds.count[0], t.ds.count[1]);
        goto done;
    }
    if ((rc = prepare_features(&t, err)))
        goto done;
    if ((rc = rdm_registry_experiment(db, cfg->registry.model_name, &t.experiment_id, err)))
        goto done;
    {
        rdm_run_rec rec = {t.experiment_id,
                           0,
                           t.ds.snapshot_id,
                           NULL,
                           NULL,
                           t.config_hash,
                           t.code_version,
                           t.ds.fingerprint,
                           NULL,
                           cfg->train.metric,
                           {t.ds.count[0], t.ds.count[1], t.ds.count[2]}};
        if ((rc = rdm_registry_insert_training(db, &rec, &t.training_id, err)) ||
            (rc = rdm_registry_fail_stale_runs(db, t.training_id, &res->stale_runs, err)))
            goto done;
        res->training_id = t.training_id;
        if (res->stale_runs)
            say(&t, "train marked %d run(s) of interrupted trainings failed", res->stale_runs);
    }
    if ((rc = build_specs(cfg, &specs, &nspecs))) {
        rdm_errf(err, rc, "out of memory");
        goto done;
    }
    outs = calloc((size_t)(nspecs ? nspecs : 1), sizeof *outs);
    if (!outs) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    /* every run's row first, in grid order (run ids do not depend on which
     * lane finishes first) */
    for (int i = 0; i < nspecs; i++) {
        const run_spec *sp = &specs[i];
        outs[i].valid_metric = outs[i].test_metric = NAN;
        rdm_run_rec rec = {t.experiment_id,
                           t.training_id,
                           t.ds.snapshot_id,
                           sp->type == RDM_MODEL_BASELINE ? "baseline"
                           : sp->type == RDM_MODEL_LOGREG ? "logreg"
                                                          : "gbt",
                           sp->name,
                           t.config_hash,
                           t.code_version,
                           t.ds.fingerprint,
                           t.ds.batch_ids,
                           NULL,
                           {t.ds.count[0], t.ds.count[1], t.ds.count[2]}};
        if ((rc = rdm_registry_insert_run(db, &rec, &outs[i].run_id, err)))
            goto done;
        for (int k = 0; k < sp->nparams; k++)
            if ((rc = rdm_registry_put_param(db, outs[i].run_id, sp->pkey[k], sp->pval[k], err)))
                goto done;
    }
    if ((rc = run_lanes(&t, specs, nspecs, outs, err)))
        goto done;
    int hb = rdm_metric_higher_better(cfg->train.metric), best = -1;
    for (int i = 0; i < nspecs; i++) {
        res->runs++;
        if (!outs[i].ok) {
            res->failed++;
            continue;
        }
        res->finished++;
        double v = outs[i].valid_metric;
        if (!isfinite(v))
            continue;
        if (best < 0 || (hb ? v > outs[best].valid_metric : v < outs[best].valid_metric))
            best = i;
    }
    if ((rc = rdm_registry_finish_training(db, t.training_id, best >= 0 ? outs[best].run_id : 0,
                                           err)))
        goto done;
    if (best >= 0) {
        res->selected_run_id = outs[best].run_id;
        snprintf(res->selected_name, sizeof res->selected_name, "%s", specs[best].name);
        res->selected_valid = outs[best].valid_metric;
        res->selected_test = outs[best].test_metric;
    } else {
        rc = rdm_errf(err, RDM_ESTATE, "training %lld: no run finished (%d failed)", t.training_id,
                      res->failed);
    }
done:
    if (locked)
        rdm_registry_unlock_training(db);
    res->seconds = rdm_now() - t0;
    free(specs);
    free(outs);
    trainer_release(&t);
    return rc;
}

/* ---- the details of a training's runs, after it ---- */

/* The test split's explanations and performance by group of run `run_id`
 * (its model file `sha` from the registry), stored as its test curves; *both
 * set when both were. t->ds holds the training's test split. */
static int details_of_run(trainer *t, long long run_id, const char *sha, rdm_pool *pool, int *both,
                          rdm_err *err)
{
    const rdm_dataset *ds = &t->ds;
    size_t ns = ds->count[RDM_SPLIT_TEST];
    double *ps = malloc(sizeof *ps * (ns ? ns : 1));
    rdm_buf bytes = RDM_BUF_INIT;
    rdm_model *m = NULL;
    char *xj = NULL, *gj = NULL;
    int rc, oom = 0;
    double t0 = rdm_now(), c0 = cpu_now();
    *both = 0;
    if (!ps) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = rdm_registry_get_artifact(t->db, t->cfg->registry.cache_dir, sha, &bytes, err)))
        goto done;
    if (!(m = rdm_model_load_bytes(bytes.data, bytes.len, err))) {
        rc = err && err->code ? err->code : RDM_EPARSE;
        rdm_err_prefix(err, "run %lld: its model", run_id);
        goto done;
    }
    /* the probabilities and the threshold its training measured the test
     * split with: the same bytes, through the same scoring path */
    if ((rc = rdm_score_rows(m, ds, ds->idx[RDM_SPLIT_TEST], ns, pool, ps, err)))
        goto done;
    xj = json_text(explain_test(t, m, pool), &oom);
    gj = json_text(groups_test(t, m, ps, rdm_model_threshold(m), pool), &oom);
    if (oom) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = rdm_db_begin(t->db, err)))
        goto done;
    if ((xj && (rc = rdm_registry_put_curve(t->db, run_id, "test", "importance", xj, err))) ||
        (gj && (rc = rdm_registry_put_curve(t->db, run_id, "test", "subgroups", gj, err)))) {
        rdm_db_rollback(t->db);
        goto done;
    }
    if ((rc = rdm_db_commit(t->db, err)))
        goto done;
    *both = xj && gj;
    rdm_log(RDM_LOG_INFO, "train details run=%lld seconds (wall/cpu) %.3f/%.3f", run_id,
            rdm_now() - t0, cpu_now() - c0);
done:
    free(ps);
    free(xj);
    free(gj);
    rdm_buf_release(&bytes);
    rdm_model_free(m);
    return rc;
}

int rdm_train_details(const rdm_config *cfg, rdm_db *db, const rdm_train_opts *opts,
                      rdm_train_details_result *res, rdm_err *err)
{
    memset(res, 0, sizeof *res);
    trainer t;
    trainer_init(&t, cfg, db, opts);
    double t0 = rdm_now();
    rdm_pool *pool = NULL;
    const char *pn[] = {cfg->registry.model_name};
    rdm_res *r = rdm_db_query(db, RDM_SQL_TRAIN_SELECT_DETAILS_RUNS, 1, pn, err);
    int rc = r ? RDM_OK : err && err->code ? err->code : RDM_EDB, nr = r ? rdm_res_rows(r) : 0;
    if (rc == RDM_OK && nr < 1)
        rc = rdm_errf(err, RDM_ENOTFOUND, "no finished training of '%s': run readmit train first",
                      cfg->registry.model_name);
    if (rc)
        goto done;
    res->training_id = rdm_res_ll(r, 0, "training_id");
    long long snapshot_id = rdm_res_ll(r, 0, "snapshot_id");
    char fp[160];
    rdm_res_copy(r, 0, "data_fingerprint", fp, sizeof fp);
    for (int i = 0; i < nr; i++)
        if (!rdm_res_isnull(r, i, "run_id")) {
            if (rdm_res_bool(r, i, "has_details"))
                res->already++;
            else
                res->missing++;
        }
    if ((rc = rdm_res_check(r, err)) || res->missing == 0)
        goto done;
    /* the test split of the snapshot the training was on */
    if ((rc = rdm_dataset_load_split(db, cfg, RDM_SPLIT_TEST, &t.ds, err)))
        goto done;
    if (t.ds.snapshot_id != snapshot_id || strcmp(t.ds.fingerprint, fp)) {
        rc = rdm_errf(err, RDM_ESTATE,
                      "training %lld was on clean snapshot %lld, the current one is %lld: run "
                      "readmit train",
                      res->training_id, snapshot_id, t.ds.snapshot_id);
        goto done;
    }
    if (t.threads > 1 && !(pool = rdm_pool_create(t.threads, err))) {
        rc = err && err->code ? err->code : RDM_ENOMEM;
        goto done;
    }
    json_decref(json_object()); /* jansson's hash seed, before the pool's threads */
    for (int i = 0; i < nr && rc == RDM_OK; i++) {
        if (rdm_res_isnull(r, i, "run_id") || rdm_res_bool(r, i, "has_details"))
            continue;
        long long run_id = rdm_res_ll(r, i, "run_id");
        char sha[65];
        rdm_res_copy(r, i, "artifact_sha256", sha, sizeof sha);
        int both = 0;
        rc = details_of_run(&t, run_id, sha, pool, &both, err);
        if (rc == RDM_OK) {
            res->done += both;
            say(&t, "train details run=%lld %s", run_id,
                both ? "explanations and groups stored" : "not all details could be measured");
        }
    }
done:
    res->seconds = rdm_now() - t0;
    rdm_res_free(r);
    rdm_pool_free(pool);
    trainer_release(&t);
    return rc;
}
