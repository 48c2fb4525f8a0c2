/* predhook.c - the prediction log of one worker process (src/predlog.h):
 * started with the worker, fed by the predict route once a prediction is
 * answered, flushed when the worker stops (SIGTERM), and its counters in
 * /metrics. */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/time.h>

#include "db.h"
#include "predlog.h"
#include "server.h"

#define GAUGE_REFRESH 30.0 /* seconds between reads of the latest monitor document */

static rdm_predlog *g_log;
static const rdm_config *g_cfg;
/* /metrics gauges from the latest `readmit monitor` document, as text */
static pthread_mutex_t g_gauge_mu = PTHREAD_MUTEX_INITIALIZER;
static rdm_buf g_gauges = RDM_BUF_INIT;
static double g_gauge_at = -1e9;

void srv_log_start(const srv_opts *o, srv_slot *slot)
{
    if (!o->cfg || o->cfg->monitor.log_fraction <= 0)
        return;
    rdm_err err = {0};
    g_cfg = o->cfg;
    g_log = rdm_predlog_start(o->cfg, &slot->log, &err);
    if (!g_log)
        rdm_log(RDM_LOG_ERROR, "worker: prediction log not started: %s", err.msg);
}

void srv_log_served(const srv_request *rq, const char *name, const char *version, const char *alias,
                    double seconds)
{
    if (!g_log || !rq->out)
        return;
    rdm_predlog_served s = {name,
                            version,
                            alias,
                            rq->body,
                            rq->body_len,
                            rq->out->data,
                            rq->out->len,
                            (uint32_t)(seconds * 1e6),
                            rq->layout ? rq->layout->data : NULL,
                            rq->layout ? rq->layout->len : 0};
    rdm_predlog_put(g_log, &s);
}

int srv_log_on(void)
{
    return g_log != NULL;
}

void srv_log_stop(void)
{
    rdm_predlog_stop(g_log);
    g_log = NULL;
}

static void gauge(rdm_buf *b, const char *name, const char *help, const char *labels, double v)
{
    if (isnan(v))
        return;
    if (help && rdm_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name) != RDM_OK)
        return;
    if (rdm_buf_printf(b, "%s%s %.6g\n", name, labels, v) != RDM_OK)
        return;
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Gauges of the latest window of the latest monitor document. */
static void gauges_from(const json_t *doc, rdm_buf *b)
{
    const json_t *wins = json_object_get(doc, "windows");
    const json_t *li = json_object_get(json_object_get(doc, "latest"), "window");
    const json_t *w =
        json_is_integer(li) ? json_array_get(wins, (size_t)json_integer_value(li)) : NULL;
    if (!w)
        return;
    const json_t *fs = json_object_get(json_object_get(w, "drift"), "fields");
    for (size_t i = 0; i < json_array_size(fs); i++) {
        const json_t *f = json_array_get(fs, i);
        char l[128];
        snprintf(l, sizeof l, "{field=\"%s\"}", json_string_value(json_object_get(f, "field")));
        gauge(b, "readmit_monitor_feature_psi",
              i ? NULL : "PSI of each input field in the latest monitor window against training.",
              l, num(f, "psi"));
    }
    gauge(b, "readmit_monitor_score_psi", "PSI of the predicted scores in the latest window.", "",
          num(w, "score_psi"));
    const json_t *vs = json_object_get(w, "versions");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        const json_t *v = json_array_get(vs, i);
        char l[64];
        snprintf(l, sizeof l, "{version=\"%lld\"}",
                 (long long)json_integer_value(json_object_get(v, "version")));
        gauge(b, "readmit_monitor_estimated_roc_auc",
              i ? NULL
                : "ROC AUC expected from the latest window's probabilities (calibrated model).",
              l, num(json_object_get(v, "estimated"), "roc_auc"));
        gauge(b, "readmit_monitor_realized_roc_auc",
              i ? NULL : "ROC AUC on the latest window's predictions with outcomes.", l,
              num(json_object_get(v, "realized"), "roc_auc"));
    }
}

/* The cached gauges, read again from the database every GAUGE_REFRESH
 * seconds (on the /metrics request, never on a prediction). */
static int monitor_gauges(rdm_buf *out)
{
    pthread_mutex_lock(&g_gauge_mu);
    if (g_cfg && rdm_now() - g_gauge_at > GAUGE_REFRESH) {
        g_gauge_at = rdm_now();
        rdm_err err = {0};
        rdm_db *db = rdm_db_connect(g_cfg, &err);
        json_t *doc =
            db ? rdm_db_json(db, RDM_SQL_MONITOR_SELECT_LATEST_REPORT, 0, NULL, &err) : NULL;
        rdm_buf_reset(&g_gauges);
        if (doc)
            gauges_from(doc, &g_gauges);
        json_decref(doc);
        rdm_db_close(db);
    }
    int rc = g_gauges.len ? rdm_buf_add(out, g_gauges.data, g_gauges.len) : RDM_OK;
    pthread_mutex_unlock(&g_gauge_mu);
    return rc;
}

#define LD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

int srv_log_metrics(srv_shared *sh, int nw, rdm_buf *out)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } C[] = {
        {"logged", "stored by a live COPY", offsetof(rdm_predlog_counters, logged)},
        {"spilled", "written to the spill file while the database was away",
         offsetof(rdm_predlog_counters, spilled)},
        {"replayed", "stored later from a spill file", offsetof(rdm_predlog_counters, replayed)},
        {"dropped", "lost past monitor.spill_max_bytes (also logged)",
         offsetof(rdm_predlog_counters, dropped)},
        {"set_aside",
         "refused by the database for their data, kept in the spill directory's poison/",
         offsetof(rdm_predlog_counters, set_aside)},
        {"sampled_out", "not logged because of monitor.log_fraction",
         offsetof(rdm_predlog_counters, sampled)},
    };

    int rc =
        rdm_buf_adds(out, "# HELP readmit_prediction_log_records_total Prediction log "
                          "records by outcome (logged, spilled, replayed, dropped, "
                          "set_aside, sampled_out).\n# TYPE readmit_prediction_log_records_total "
                          "counter\n");
    for (size_t k = 0; rc == RDM_OK && k < sizeof C / sizeof C[0]; k++) {
        unsigned long long v = 0;
        for (int w = 0; w < nw; w++)
            v += LD(*(_Atomic uint64_t *)((char *)&sh->w[w].log + C[k].off));
        rc = rdm_buf_printf(out, "readmit_prediction_log_records_total{outcome=\"%s\"} %llu\n",
                            C[k].name, v);
    }
    // lag: age of the oldest record not stored yet, over the workers
    struct timeval tv;
    gettimeofday(&tv, NULL);
    double now = (double)tv.tv_sec + (double)tv.tv_usec / 1e6, lag = 0;
    for (int w = 0; w < nw; w++) {
        long long oldest = (long long)atomic_load(&sh->w[w].log.oldest_us);
        if (oldest > 0 && now - (double)oldest / 1e6 > lag)
            lag = now - (double)oldest / 1e6;
    }
    if (rc == RDM_OK)
        rc = rdm_buf_printf(out,
                            "# HELP readmit_prediction_log_lag_seconds Age of the oldest served "
                            "prediction not yet in the database.\n"
                            "# TYPE readmit_prediction_log_lag_seconds gauge\n"
                            "readmit_prediction_log_lag_seconds %.3f\n",
                            lag);
    return rc == RDM_OK ? monitor_gauges(out) : rc;
}
