/* metrics.c - the shared counters and their Prometheus text exposition. */
#include <stdio.h>
#include <string.h>

#include "readmit.h"
#include "server.h"

const double srv_buckets[SRV_NBUCKETS - 1] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
const char *const srv_route_names[R_N] = {"predict", "model",   "openapi", "healthz",
                                          "readyz",  "metrics", "other"};
const int srv_status_codes[S_N] = {200, 400, 404, 405, 408, 413, 415, 422, 500, 503};

int srv_status_index(int status)
{
    for (int i = 0; i < S_N; i++)
        if (srv_status_codes[i] == status)
            return i;
    return S_500;
}

const char *srv_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* Label-safe copy: drop quotes, backslashes and newlines. */
static void label(char *out, size_t n, const char *s)
{
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 1 < n; i++)
        if (s[i] != '"' && s[i] != '\\' && s[i] != '\n')
            out[j++] = s[i];
    out[j] = '\0';
}

int srv_metrics_text(srv_shared *sh, int nw, rdm_buf *out)
{
    int rc = RDM_OK;
#define P(...)                                     \
    do {                                           \
        if (rc == RDM_OK)                          \
            rc = rdm_buf_printf(out, __VA_ARGS__); \
    } while (0)
    P("# HELP readmit_http_requests_total HTTP requests by route and status code.\n"
      "# TYPE readmit_http_requests_total counter\n");
    for (int r = 0; r < R_N; r++)
        for (int s = 0; s < S_N; s++) {
            uint64_t v = 0;
            for (int w = 0; w < nw; w++)
                v += LD(sh->w[w].requests[r][s]);
            if (v || s == S_200)
                P("readmit_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                  srv_route_names[r], srv_status_codes[s], (unsigned long long)v);
        }
    P("# HELP readmit_http_request_duration_seconds Request latency in the worker.\n"
      "# TYPE readmit_http_request_duration_seconds histogram\n");
    for (int r = 0; r < R_N; r++) {
        uint64_t cum = 0, sum_us = 0;
        for (int w = 0; w < nw; w++)
            sum_us += LD(sh->w[w].latency_us[r]);
        for (int b = 0; b < SRV_NBUCKETS; b++) {
            for (int w = 0; w < nw; w++)
                cum += LD(sh->w[w].latency[r][b]);
            if (b < SRV_NBUCKETS - 1)
                P("readmit_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                  srv_route_names[r], srv_buckets[b], (unsigned long long)cum);
            else
                P("readmit_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                  srv_route_names[r], (unsigned long long)cum);
        }
        P("readmit_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", srv_route_names[r],
          (double)sum_us / 1e6);
        P("readmit_http_request_duration_seconds_count{route=\"%s\"} %llu\n", srv_route_names[r],
          (unsigned long long)cum);
    }
    int64_t inflight = 0;
    uint64_t preds = 0, loads = LD(sh->sup_loads), fails = LD(sh->sup_load_failures);
    uint64_t wloads = 0, wfails = 0;
    for (int w = 0; w < nw; w++) {
        inflight += LD(sh->w[w].inflight);
        preds += LD(sh->w[w].predictions);
        wloads += LD(sh->w[w].model_loads);
        wfails += LD(sh->w[w].model_load_failures);
    }
    P("# HELP readmit_http_requests_in_flight Requests being handled now.\n"
      "# TYPE readmit_http_requests_in_flight gauge\nreadmit_http_requests_in_flight %lld\n",
      (long long)inflight);
    P("# HELP readmit_predictions_total Records scored.\n"
      "# TYPE readmit_predictions_total counter\nreadmit_predictions_total %llu\n",
      (unsigned long long)preds);
    P("# HELP readmit_model_loads_total Model loads (fetches by the supervisor, loads by "
      "workers).\n# TYPE readmit_model_loads_total counter\n"
      "readmit_model_loads_total{by=\"supervisor\"} %llu\nreadmit_model_loads_total{by=\"worker\"} "
      "%llu\n",
      (unsigned long long)loads, (unsigned long long)wloads);
    P("# HELP readmit_model_load_failures_total Model loads that failed (the old model kept "
      "serving).\n# TYPE readmit_model_load_failures_total counter\n"
      "readmit_model_load_failures_total{by=\"supervisor\"} %llu\n"
      "readmit_model_load_failures_total{by=\"worker\"} %llu\n",
      (unsigned long long)fails, (unsigned long long)wfails);
    uint64_t timeouts = 0;
    for (int w = 0; w < nw; w++)
        timeouts += LD(sh->w[w].read_timeouts);
    P("# HELP readmit_read_timeouts_total Requests dropped: not arrived in full within "
      "serve.read_timeout.\n# TYPE readmit_read_timeouts_total counter\n"
      "readmit_read_timeouts_total %llu\n",
      (unsigned long long)timeouts);
    P("# HELP readmit_worker_restarts_total Worker processes restarted after dying.\n"
      "# TYPE readmit_worker_restarts_total counter\nreadmit_worker_restarts_total %llu\n",
      (unsigned long long)LD(sh->worker_restarts));
    P("# HELP readmit_workers Worker processes configured.\n# TYPE readmit_workers gauge\n"
      "readmit_workers %d\n",
      nw);
    P("# HELP readmit_database_up Whether the registry database answered the last check.\n"
      "# TYPE readmit_database_up gauge\nreadmit_database_up %d\n",
      LD(sh->db_ok));
    srv_model_ref ref;
    srv_model_ref_read(sh, &ref);
    char n[128], v[32], a[16], s[65];
    label(n, sizeof n, ref.name);
    label(v, sizeof v, ref.version);
    label(a, sizeof a, ref.alias);
    label(s, sizeof s, ref.sha256);
    P("# HELP readmit_model_info The model published to the workers.\n"
      "# TYPE readmit_model_info gauge\n"
      "readmit_model_info{name=\"%s\",version=\"%s\",alias=\"%s\",sha256=\"%s\"} %d\n",
      n, v, a, s, ref.path[0] ? 1 : 0);
    P("# HELP readmit_worker_model_info Model version served by each worker.\n"
      "# TYPE readmit_worker_model_info gauge\n");
    for (int w = 0; w < nw; w++) {
        char wv[32];
        memcpy(wv, sh->w[w].model_version, sizeof wv);
        wv[sizeof wv - 1] = '\0';
        label(v, sizeof v, wv);
        P("readmit_worker_model_info{worker=\"%d\",version=\"%s\"} 1\n", w, v);
    }
#undef P
    return rc == RDM_OK ? srv_log_metrics(sh, nw, out) : rc;
}
