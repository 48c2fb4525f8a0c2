/* predhook.c - the prediction log of one worker process (src/predlog.h):
 * started with the worker, fed by the predict route once a prediction is
 * answered, flushed when the worker stops (SIGTERM), and its counters in
 * /metrics. */
#include <stddef.h>
#include <stdio.h>
#include <sys/time.h>

#include "predlog.h"
#include "server.h"

static rdm_predlog *g_log;

void srv_log_start(const srv_opts *o, srv_slot *slot)
{
    if (!o->cfg || o->cfg->monitor.log_fraction <= 0)
        return;
    rdm_err err = {0};
    g_log = rdm_predlog_start(o->cfg, &slot->log, &err);
    if (!g_log)
        rdm_log(RDM_LOG_ERROR, "worker: prediction log not started: %s", err.msg);
}

void srv_log_served(const srv_request *rq, const char *name, const char *version, const char *alias,
                    double seconds)
{
    if (!g_log || !rq->out)
        return;
    rdm_predlog_served s = {name,         version,       alias,        rq->body,
                            rq->body_len, rq->out->data, rq->out->len, (uint32_t)(seconds * 1e6)};
    rdm_predlog_put(g_log, &s);
}

void srv_log_stop(void)
{
    rdm_predlog_stop(g_log);
    g_log = NULL;
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
        {"sampled_out", "not logged because of monitor.log_fraction",
         offsetof(rdm_predlog_counters, sampled)},
    };

    int rc = rdm_buf_adds(out, "# HELP readmit_prediction_log_records_total Prediction log "
                               "records by outcome (logged, spilled, replayed, dropped, "
                               "sampled_out).\n# TYPE readmit_prediction_log_records_total "
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
    return rc;
}
