/* worker.c - one FastCGI worker process: threads accepting on the shared
 * socket (FCGX_Accept_r), routing, and the hot swap of the served model. */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "model.h"
#include "readmit.h"
#include "server.h"

/* A loaded model with its registry identity; freed when the last request
 * holding it finishes (requests in flight keep the old one across a swap). */
typedef struct loaded {
    rdm_model *model;
    int refs;
    uint64_t gen;
    char path[512];
    char name[128];
    char version[32];
    char alias[16];
    char sha256[65];
} loaded;

static const srv_opts *g_opts;
static srv_shared *g_sh;
static srv_slot *g_slot;
static pthread_mutex_t g_model_mu = PTHREAD_MUTEX_INITIALIZER;
static loaded *g_cur;
static pthread_mutex_t g_accept_mu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t g_stop;
static _Atomic int g_done;
static int g_unix_listen; /* the listening socket is AF_UNIX */

static loaded *model_acquire(void)
{
    pthread_mutex_lock(&g_model_mu);
    loaded *l = g_cur;
    if (l)
        l->refs++;
    pthread_mutex_unlock(&g_model_mu);
    return l;
}

static void model_release(loaded *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&g_model_mu);
    int last = --l->refs == 0;
    pthread_mutex_unlock(&g_model_mu);
    if (last) {
        rdm_model_free(l->model);
        free(l);
    }
}

/* Load the published model if its generation changed. Runs in the worker's
 * main thread, never in a request. */
static void model_refresh(int force)
{
    srv_model_ref ref;
    srv_model_ref_read(g_sh, &ref);
    uint64_t have = atomic_load(&g_slot->model_gen);
    if (!ref.path[0] || (ref.gen == have && !force))
        return;
    pthread_mutex_lock(&g_model_mu);
    int same = g_cur && strcmp(g_cur->path, ref.path) == 0 &&
               strcmp(g_cur->sha256, ref.sha256) == 0 && !force;
    pthread_mutex_unlock(&g_model_mu);
    if (same && ref.sha256[0]) {
        atomic_store(&g_slot->model_gen, ref.gen);
        return;
    }
    rdm_err err = {0};
    double t0 = rdm_now();
    rdm_model *m = rdm_model_load_file(ref.path, &err);
    atomic_store(&g_slot->model_gen, ref.gen);
    if (!m) {
        atomic_fetch_add(&g_slot->model_load_failures, 1);
        rdm_log(RDM_LOG_ERROR, "worker pid=%d model load failed path=%s version=%s: %s",
                (int)getpid(), ref.path, ref.version, err.msg);
        return;
    }
    loaded *l = calloc(1, sizeof *l);
    if (!l) {
        rdm_model_free(m);
        atomic_fetch_add(&g_slot->model_load_failures, 1);
        return;
    }
    l->model = m;
    l->refs = 1;
    l->gen = ref.gen;
    memcpy(l->path, ref.path, sizeof l->path);
    memcpy(l->name, ref.name, sizeof l->name);
    memcpy(l->version, ref.version, sizeof l->version);
    memcpy(l->alias, ref.alias, sizeof l->alias);
    memcpy(l->sha256, ref.sha256, sizeof l->sha256);
    pthread_mutex_lock(&g_model_mu);
    loaded *old = g_cur;
    g_cur = l;
    pthread_mutex_unlock(&g_model_mu);
    model_release(old);
    memset(g_slot->model_version, 0, sizeof g_slot->model_version);
    snprintf(g_slot->model_version, sizeof g_slot->model_version, "%s", l->version);
    atomic_fetch_add(&g_slot->model_loads, 1);
    rdm_log(RDM_LOG_INFO, "worker pid=%d model loaded name=%s version=%s ms=%.1f", (int)getpid(),
            l->name, l->version, (rdm_now() - t0) * 1e3);
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* Per-thread buffers, reused across requests. */
typedef struct tstate {
    rdm_buf in;
    rdm_buf body;
    rdm_buf out;
} tstate;

/* Append the decimal digits of v. */
static int add_uint(rdm_buf *b, size_t v)
{
    char tmp[24], *q = tmp + sizeof tmp;
    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return rdm_buf_add(b, q, (size_t)(tmp + sizeof tmp - q));
}

/* Headers and body in one buffer, written with one FCGX_PutStr. */
static int send_response(FCGX_Request *r, tstate *ts, int status, const char *ctype,
                         const char *extra_headers)
{
    rdm_buf *o = &ts->out;
    rdm_buf_reset(o);
    int rc = rdm_buf_adds(o, "Status: ");
    if (rc == RDM_OK)
        rc = add_uint(o, (size_t)status);
    if (rc == RDM_OK)
        rc = rdm_buf_addc(o, ' ');
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, status_text(status));
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\nContent-Type: ");
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, ctype);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\nContent-Length: ");
    if (rc == RDM_OK)
        rc = add_uint(o, ts->body.len);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\nCache-Control: no-store\r\n");
    if (rc == RDM_OK && extra_headers)
        rc = rdm_buf_adds(o, extra_headers);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\n");
    if (rc == RDM_OK)
        rc = rdm_buf_add(o, ts->body.data, ts->body.len);
    if (rc != RDM_OK)
        return -1;
    return FCGX_PutStr(o->data, (int)o->len, r->out) < 0 ? -1 : 0;
}

static int error_body(tstate *ts, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int error_body(tstate *ts, int status, const char *code, const char *fmt, ...)
{
    rdm_api_error e;
    va_list ap;
    va_start(ap, fmt);
    rdm_api_seterr(&e, status, code, NULL, "%s", "");
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    rdm_buf_reset(&ts->body);
    if (rdm_api_error_json(&e, &ts->body) != RDM_OK)
        rdm_buf_reset(&ts->body);
    return status;
}

/* Read the request body into ts->in. Returns 0, or an HTTP status. */
static int read_body(FCGX_Request *r, tstate *ts)
{
    rdm_buf_reset(&ts->in);
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
    long n = 0;
    if (cl && *cl && (rdm_parse_long(cl, &n) != 0 || n < 0))
        return error_body(ts, 400, "bad_content_length", "invalid Content-Length");
    if (n > g_opts->max_body_bytes) {
        /* nginx enforces the limit first; drain what was sent anyway */
        char tmp[8192];
        while (FCGX_GetStr(tmp, sizeof tmp, r->in) > 0) {
        }
        return error_body(ts, 413, "body_too_large",
                          "request body of %ld bytes is over the limit of %ld", n,
                          g_opts->max_body_bytes);
    }
    if (rdm_buf_reserve(&ts->in, (size_t)n + 1) != RDM_OK)
        return error_body(ts, 503, "out_of_memory", "out of memory");
    long got = 0;
    while (got < n) {
        int k = FCGX_GetStr(ts->in.data + got, (int)(n - got), r->in);
        if (k <= 0)
            break;
        got += k;
    }
    ts->in.len = (size_t)got;
    ts->in.data[got] = '\0';
    return 0;
}

static int handle_predict(FCGX_Request *r, tstate *ts, loaded *l, long *nrec)
{
    int st = read_body(r, ts);
    if (st)
        return st;
    rdm_buf_reset(&ts->body);
    if (!l)
        return rdm_api_predict(NULL, ts->in.data, ts->in.len, g_opts->max_instances, &ts->body);
    rdm_api_model am = {l->model, l->name, l->version, l->alias, l->sha256};
    rdm_api_request req;
    rdm_api_error e;
    st = rdm_api_parse_predict(ts->in.data, ts->in.len, g_opts->max_instances, &req, &e);
    if (st == RDM_HTTP_OK) {
        st = rdm_api_score(&am, &req, &ts->body, &e);
        if (st == RDM_HTTP_OK)
            *nrec = (long)req.n;
        rdm_api_request_release(&req);
    }
    if (st != RDM_HTTP_OK) {
        rdm_buf_reset(&ts->body);
        if (rdm_api_error_json(&e, &ts->body) != RDM_OK)
            rdm_buf_reset(&ts->body);
    }
    return st;
}

static int handle_ready(tstate *ts, loaded *l)
{
    int db = atomic_load(&g_sh->db_ok);
    rdm_buf_reset(&ts->body);
    int rc = rdm_buf_printf(&ts->body, "{\"ready\":%s,\"model_loaded\":%s,\"model_version\":",
                            l ? "true" : "false", l ? "true" : "false");
    if (rc == RDM_OK)
        rc = l ? rdm_api_json_str(&ts->body, l->version, strlen(l->version))
               : rdm_buf_adds(&ts->body, "null");
    if (rc == RDM_OK)
        rc = rdm_buf_printf(&ts->body, ",\"database\":\"%s\",\"pid\":%d}\n",
                            db > 0    ? "reachable"
                            : db == 0 ? "unreachable"
                                      : "not used",
                            (int)getpid());
    if (rc != RDM_OK)
        return error_body(ts, 503, "out_of_memory", "out of memory");
    if (!l) {
        rdm_buf_reset(&ts->body);
        return error_body(
            ts, 503, "no_model",
            "no model loaded yet: register and promote a champion (readmit register)");
    }
    return 200;
}

static int route_of(const char *path)
{
    if (strcmp(path, "/api/v1/predict") == 0)
        return R_PREDICT;
    if (strcmp(path, "/api/v1/model") == 0)
        return R_MODEL;
    if (strcmp(path, "/healthz") == 0)
        return R_HEALTHZ;
    if (strcmp(path, "/readyz") == 0)
        return R_READYZ;
    if (strcmp(path, "/metrics") == 0)
        return R_METRICS;
    return R_OTHER;
}

static void handle(FCGX_Request *r, tstate *ts)
{
    double t0 = rdm_now();
    atomic_fetch_add_explicit(&g_slot->inflight, 1, memory_order_relaxed);
    const char *method = FCGX_GetParam("REQUEST_METHOD", r->envp);
    const char *path = FCGX_GetParam("DOCUMENT_URI", r->envp);
    if (!path)
        path = FCGX_GetParam("SCRIPT_NAME", r->envp);
    if (!method)
        method = "GET";
    if (!path)
        path = "/";
    int route = route_of(path);
    int want_post = route == R_PREDICT;
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int is_post = strcmp(method, "POST") == 0;
    const char *ctype = "application/json";
    const char *extra = NULL;
    long nrec = 0;
    int status;
    loaded *l = NULL;

    if (g_opts->empty) {
        rdm_buf_reset(&ts->body);
        status = read_body(r, ts);
        if (!status) {
            status = 200;
            rdm_buf_reset(&ts->body);
            if (rdm_buf_adds(&ts->body, g_opts->empty_body) != RDM_OK)
                status = 503;
        }
    } else if (route == R_OTHER) {
        status = error_body(ts, 404, "not_found", "no such endpoint: %.200s", path);
    } else if ((want_post && !is_post) || (!want_post && !is_get)) {
        status = error_body(ts, 405, "method_not_allowed", "%s needs %s", path,
                            want_post ? "POST" : "GET");
        extra = want_post ? "Allow: POST\r\n" : "Allow: GET, HEAD\r\n";
    } else {
        l = model_acquire();
        rdm_buf_reset(&ts->body);
        switch (route) {
        case R_PREDICT:
            status = handle_predict(r, ts, l, &nrec);
            break;
        case R_MODEL:
            if (!l) {
                status = error_body(ts, 503, "no_model",
                                    "no model loaded yet: register and promote a champion");
            } else {
                rdm_api_model am = {l->model, l->name, l->version, l->alias, l->sha256};
                status = rdm_api_model_json(&am, &ts->body) == RDM_OK
                             ? 200
                             : error_body(ts, 503, "out_of_memory", "out of memory");
            }
            break;
        case R_HEALTHZ:
            status = rdm_buf_printf(&ts->body, "{\"status\":\"ok\",\"pid\":%d}\n", (int)getpid()) ==
                             RDM_OK
                         ? 200
                         : 503;
            break;
        case R_READYZ:
            status = handle_ready(ts, l);
            break;
        default: /* R_METRICS */
            ctype = "text/plain; version=0.0.4";
            status = srv_metrics_text(g_sh, g_opts->workers, &ts->body) == RDM_OK ? 200 : 503;
            break;
        }
    }
    model_release(l);
    send_response(r, ts, status, ctype, extra);
    /* On a Unix socket, close without libfcgi's lingering shutdown (half
     * close, then wait up to 2 s for the web server to close its end), so the
     * thread is free for the next request at once instead of waiting for
     * nginx to be scheduled. That is safe only once the whole request has been
     * read, up to the end of its stdin stream (the web server may send that
     * last empty record separately): a close with unread input resets the
     * connection and nginx would lose the response. */
    if (g_unix_listen) {
        char tmp[4096];
        while (FCGX_GetStr(tmp, sizeof tmp, r->in) > 0) {
        }
        if (!FCGX_GetError(r->in))
            FCGX_Detach(r);
    }
    FCGX_Finish_r(r);

    double dt = rdm_now() - t0;
    int b = 0;
    while (b < SRV_NBUCKETS - 1 && dt > srv_buckets[b])
        b++;
    atomic_fetch_add_explicit(&g_slot->requests[route][srv_status_index(status)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&g_slot->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_slot->latency_us[route], (uint64_t)(dt * 1e6),
                              memory_order_relaxed);
    if (nrec)
        atomic_fetch_add_explicit(&g_slot->predictions, (uint64_t)nrec, memory_order_relaxed);
    atomic_fetch_sub_explicit(&g_slot->inflight, 1, memory_order_relaxed);
    /* keep a huge request from pinning memory */
    if (ts->in.cap > (1u << 20))
        rdm_buf_release(&ts->in);
    if (ts->body.cap > (1u << 20))
        rdm_buf_release(&ts->body);
    if (ts->out.cap > (1u << 20))
        rdm_buf_release(&ts->out);
}

static void *thread_main(void *arg)
{
    (void)arg;
    FCGX_Request req;
    tstate ts = {RDM_BUF_INIT, RDM_BUF_INIT, RDM_BUF_INIT};
    if (FCGX_InitRequest(&req, g_opts->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
        return NULL;
    while (!g_stop) {
        pthread_mutex_lock(&g_accept_mu);
        int rc = g_stop ? -1 : FCGX_Accept_r(&req);
        pthread_mutex_unlock(&g_accept_mu);
        if (rc < 0) {
            if (g_stop)
                break;
            continue;
        }
        handle(&req, &ts);
    }
    FCGX_Free(&req, 1);
    rdm_buf_release(&ts.in);
    rdm_buf_release(&ts.body);
    rdm_buf_release(&ts.out);
    atomic_fetch_add(&g_done, 1);
    return NULL;
}

static void on_wake(int sig)
{
    (void)sig;
    if (g_stop)
        FCGX_ShutdownPending();
}

void srv_worker_main(const srv_opts *o, srv_shared *sh, int idx)
{
    g_opts = o;
    g_sh = sh;
    g_slot = &sh->w[idx];
    atomic_store(&g_slot->pid, (int)getpid());
    atomic_store(&g_slot->inflight, 0);
    atomic_store(&g_slot->model_gen, 0);
    memset(g_slot->model_version, 0, sizeof g_slot->model_version);

    /* SIGTERM/SIGINT/SIGHUP are taken by sigtimedwait in this thread; SIGUSR1
     * interrupts accept() in the request threads when stopping. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_wake;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct sockaddr_storage sa_listen;
    socklen_t sl = sizeof sa_listen;
    g_unix_listen = getsockname(o->listen_fd, (struct sockaddr *)&sa_listen, &sl) == 0 &&
                    sa_listen.ss_family == AF_UNIX;

    if (!o->empty)
        model_refresh(0);

    int nt = o->threads > 0 ? o->threads : 1;
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    int started = 0;
    for (int i = 0; th && i < nt; i++)
        if (pthread_create(&th[i], NULL, thread_main, NULL) == 0)
            started++;
    if (started == 0) {
        rdm_log(RDM_LOG_ERROR, "worker pid=%d: cannot start threads", (int)getpid());
        _exit(1);
    }
    pid_t ppid = getppid();
    for (;;) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (getppid() != ppid) /* the supervisor died: do not linger */
            break;
        if (!o->empty)
            model_refresh(sig == SIGHUP);
    }
    /* drain: request threads finish what they are doing, then stop accepting */
    g_stop = 1;
    FCGX_ShutdownPending();
    double deadline = rdm_now() + 10.0;
    while (atomic_load(&g_done) < started && rdm_now() < deadline) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        for (int i = 0; i < started; i++)
            pthread_kill(th[i], SIGUSR1);
        nanosleep(&ts, NULL);
    }
    _exit(0);
}
