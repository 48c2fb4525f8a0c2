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

static int handle_predict(srv_request *rq, const srv_opts *o, const srv_loaded *l)
{
    /* a cross-site form can post text/plain or a form encoding, never JSON */
    if (!is_json(rq->content_type)) {
        rq->headers = "Accept-Post: application/json\r\n";
        return error_body(rq, 415, "unsupported_media_type",
                          "the request body must be sent as Content-Type: application/json%s%.80s",
                          rq->content_type[0] ? ", not " : "", rq->content_type);
    }
    if (!l)
        return no_model(rq);
    double t0 = rdm_now();
    rdm_api_model am;
    api_model(l, &am);
    rdm_api_request req;
    rdm_api_error e;
    int st = rdm_api_parse_predict(rq->body, rq->body_len, o->max_instances, &req, &e);
    if (st == RDM_HTTP_OK) {
        st = rdm_api_score(&am, &req, rq->out, &e);
        if (st == RDM_HTTP_OK)
            rq->records = (long)req.n;
        if (st == RDM_HTTP_OK)
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
    srv_loaded *l = srv_served_acquire();
    if (l)
        snprintf(rq->model_version, sizeof rq->model_version, "%s", l->ref.version);
    switch (rq->route) {
    case R_PREDICT:
        rq->status = handle_predict(rq, o, l);
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
