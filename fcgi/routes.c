/* routes.c - path -> handler for the real server: the prediction API, the
 * model description, the probes and /metrics. Every answer, errors
 * included, is JSON except /metrics (Prometheus text). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api.h"
#include "server.h"

static int error_body(srv_request *rq, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int error_body(srv_request *rq, int status, const char *code, const char *fmt, ...)
{
    rdm_api_error e;
    va_list ap;
    rdm_api_seterr(&e, status, code, NULL, "%s", "");
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    rdm_buf_reset(rq->out);
    if (rdm_api_error_json(&e, rq->out) != RDM_OK)
        rdm_buf_reset(rq->out);
    return status;
}

static int no_model(srv_request *rq)
{
    return error_body(rq, 503, "no_model",
                      "no model loaded yet: register and promote a champion (readmit register)");
}

static void api_model(const srv_loaded *l, rdm_api_model *am)
{
    am->model = l->model;
    am->name = l->ref.name;
    am->version = l->ref.version;
    am->alias = l->ref.alias;
    am->sha256 = l->ref.sha256;
    am->explainer = l->explainer;
    am->metrics = l->ref.metrics;
}

/* "application/json", any case, with or without parameters (charset=...). */
static int is_json(const char *ctype)
{
    static const char JSON[] = "application/json";
    size_t n = sizeof JSON - 1;
    if (strncasecmp(ctype, JSON, n) != 0)
        return 0;
    ctype += n;
    while (*ctype == ' ' || *ctype == '\t')
        ctype++;
    return *ctype == '\0' || *ctype == ';';
}

/* `named`: scored by a model the request named (testing): not logged for monitoring. */
static int handle_predict(srv_request *rq, const srv_opts *o, const srv_loaded *l, int named)
{
    if (!l)
        return no_model(rq);
    double t0 = rdm_now();
    rdm_api_model am;
    api_model(l, &am);
    rdm_api_request req;
    rdm_api_error e;
    // with the log on, the parser describes the body for it (no second scan)
    rdm_buf *lay = !named && srv_log_on() ? rq->layout : NULL;
    int st = rdm_api_parse_predict_layout(rq->body, rq->body_len, o->max_instances, &req, &e, lay);
    if (st == RDM_HTTP_OK) {
        st = rdm_api_score(&am, &req, rq->out, &e);
        if (st == RDM_HTTP_OK)
            rq->records = (long)req.n;
        if (st == RDM_HTTP_OK && !named)
            srv_log_served(rq, am.name, am.version, am.alias, rdm_now() - t0);
        rdm_api_request_release(&req);
    }
    if (st != RDM_HTTP_OK) {
        rdm_buf_reset(rq->out);
        if (rdm_api_error_json(&e, rq->out) != RDM_OK)
            rdm_buf_reset(rq->out);
    }
    return st;
}

/* The value of `key` in the query string, %-decoded into out; 0 when absent. */
static int query_param(const char *q, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = q; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) != 0 || p[kl] != '=')
            continue;
        size_t j = 0;
        for (const char *v = p + kl + 1; *v && *v != '&' && j + 1 < n; v++) {
            unsigned hi, lo;
            if (*v == '%' && sscanf(v + 1, "%1x%1x", &hi, &lo) == 2) {
                out[j++] = (char)(hi * 16 + lo);
                v += 2;
            } else {
                out[j++] = *v == '+' ? ' ' : *v;
            }
        }
        out[j] = '\0';
        return 1;
    }
    return 0;
}

/* The model of a prediction: the served one, or the one ?model= names.
 * NULL with rq->status set when the named one cannot be had. */
static srv_loaded *predict_model(srv_request *rq, const srv_opts *o)
{
    char ref[96];
    if (!query_param(rq->query, "model", ref, sizeof ref))
        return srv_served_acquire();
    if (!srv_named_ref_ok(ref)) {
        rq->status = error_body(rq, 400, "bad_model_reference",
                                "model '%.60s': a registry reference (champion, challenger, "
                                "NAME:VERSION or VERSION) is expected",
                                ref);
        return NULL;
    }
    int st = 0;
    rdm_err err = {0};
    srv_loaded *l = srv_named_acquire(o->cfg, ref, &st, &err);
    if (!l)
        rq->status = error_body(rq, st, st == 404 ? "model_not_found" : "registry_unavailable",
                                "model '%s': %.180s", ref, err.msg);
    return l;
}

static int handle_model(srv_request *rq, const srv_loaded *l)
{
    if (!l)
        return no_model(rq);
    rdm_api_model am;
    api_model(l, &am);
    return rdm_api_model_json(&am, rq->out) == RDM_OK
               ? 200
               : error_body(rq, 503, "out_of_memory", "out of memory");
}

static int handle_ready(srv_request *rq, srv_shared *sh, const srv_loaded *l)
{
    if (!l)
        return no_model(rq);
    int db = atomic_load(&sh->db_ok);
    int rc = rdm_buf_adds(rq->out, "{\"ready\":true,\"model_loaded\":true,\"model_version\":");
    if (rc == RDM_OK)
        rc = rdm_api_json_str(rq->out, l->ref.version, strlen(l->ref.version));
    if (rc == RDM_OK)
        rc = rdm_buf_printf(rq->out, ",\"database\":\"%s\",\"pid\":%d}\n",
                            db > 0    ? "reachable"
                            : db == 0 ? "unreachable"
                                      : "not used",
                            (int)getpid());
    return rc == RDM_OK ? 200 : error_body(rq, 503, "out_of_memory", "out of memory");
}

/* The routing table: path, route, method it takes. */
static const struct {
    const char *path;
    int route;
    int post;
} ROUTES[] = {
    {"/api/v1/predict", R_PREDICT, 1}, {"/api/v1/model", R_MODEL, 0}, {"/healthz", R_HEALTHZ, 0},
    {"/readyz", R_READYZ, 0},          {"/metrics", R_METRICS, 0},
};

static int find_route(const char *path, int *post)
{
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++)
        if (strcmp(path, ROUTES[i].path) == 0) {
            *post = ROUTES[i].post;
            return ROUTES[i].route;
        }
    *post = 0;
    return R_OTHER;
}

void srv_route(srv_request *rq, const srv_opts *o, srv_shared *sh)
{
    int want_post;
    rq->route = find_route(rq->path, &want_post);
    int is_get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
    int is_post = strcmp(rq->method, "POST") == 0;
    if (rq->route == R_OTHER) {
        rq->status = error_body(rq, 404, "not_found", "no such endpoint: %.200s", rq->path);
        return;
    }
    if ((want_post && !is_post) || (!want_post && !is_get)) {
        rq->status = error_body(rq, 405, "method_not_allowed", "%s needs %s", rq->path,
                                want_post ? "POST" : "GET");
        rq->headers = want_post ? "Allow: POST\r\n" : "Allow: GET, HEAD\r\n";
        return;
    }
    if (rq->route == R_HEALTHZ) {
        rq->status =
            rdm_buf_printf(rq->out, "{\"status\":\"ok\",\"pid\":%d}\n", (int)getpid()) == RDM_OK
                ? 200
                : 503;
        return;
    }
    if (rq->route == R_METRICS) {
        rq->ctype = "text/plain; version=0.0.4";
        rq->status = srv_metrics_text(sh, o->workers, rq->out) == RDM_OK ? 200 : 503;
        return;
    }
    srv_loaded *l = NULL;
    if (rq->route == R_PREDICT) {
        /* a cross-site form can post text/plain or a form encoding, never JSON */
        if (!is_json(rq->content_type)) {
            rq->headers = "Accept-Post: application/json\r\n";
            rq->status =
                error_body(rq, 415, "unsupported_media_type",
                           "the request body must be sent as Content-Type: application/json%s%.80s",
                           rq->content_type[0] ? ", not " : "", rq->content_type);
            return;
        }
        if (!(l = predict_model(rq, o)) && rq->status != 500)
            return;
    } else {
        l = srv_served_acquire();
    }
    if (l)
        snprintf(rq->model_version, sizeof rq->model_version, "%s", l->ref.version);
    switch (rq->route) {
    case R_PREDICT:
        rq->status = handle_predict(rq, o, l, rq->query[0] && strstr(rq->query, "model=") != NULL);
        break;
    case R_MODEL:
        rq->status = handle_model(rq, l);
        break;
    default: /* R_READYZ */
        rq->status = handle_ready(rq, sh, l);
        break;
    }
    srv_served_release(l);
}
