/* worker.c - the worker loop of one FastCGI worker process: request threads
 * accept on the shared socket, read each request in full, hand it to the
 * handler (routes.c in the server), send the response and count it. The
 * process's main thread waits for signals, picks up new models and is the
 * watchdog of serve.read_timeout: a request that has not arrived in full
 * within it has its connection shut down, which frees the thread.
 *
 * The threads accept connections themselves and give libfcgi a duplicate of
 * each (FCGX_Request.ipcFd with keepConnection set, a listening socket of -1
 * so that libfcgi never accepts on its own): the thread's own descriptor
 * stays open until the thread is done with the connection, so the watchdog
 * can shut it down without racing a close and a reuse of the number. */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "schema.h"
#include "server.h"

static const srv_opts *g_opts;
static srv_shared *g_sh;
static srv_slot *g_slot;
static pthread_mutex_t g_accept_mu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t g_stop;
static _Atomic int g_done;
static int g_unix_listen; /* the listening socket is AF_UNIX */

/* What the watchdog sees of one request thread. */
typedef struct watch {
    pthread_mutex_t mu;
    int fd;          /* the thread's descriptor of its connection, or -1 */
    double deadline; /* > 0: the request must have arrived in full by then */
    int fired;       /* the watchdog shut the connection down */
} watch;

static watch g_watch[SRV_MAX_THREADS];

/* Start the clock on the request arriving on `fd`. */
static void watch_arm(watch *w, int fd)
{
    pthread_mutex_lock(&w->mu);
    w->fd = fd;
    w->deadline = g_opts->read_timeout > 0 ? rdm_now() + g_opts->read_timeout : 0;
    w->fired = 0;
    pthread_mutex_unlock(&w->mu);
}

/* Stop the clock; returns 1 when the watchdog fired since watch_arm. */
static int watch_disarm(watch *w)
{
    pthread_mutex_lock(&w->mu);
    w->deadline = 0;
    int fired = w->fired;
    pthread_mutex_unlock(&w->mu);
    return fired;
}

/* The thread is about to close its descriptor. */
static void watch_forget(watch *w)
{
    pthread_mutex_lock(&w->mu);
    w->fd = -1;
    w->deadline = 0;
    pthread_mutex_unlock(&w->mu);
}

/* The watchdog (main thread): shut down connections past their deadline. */
static void watch_scan(int nthreads)
{
    double now = rdm_now();
    for (int i = 0; i < nthreads; i++) {
        watch *w = &g_watch[i];
        pthread_mutex_lock(&w->mu);
        if (w->fd >= 0 && w->deadline > 0 && now > w->deadline) {
            shutdown(w->fd, SHUT_RDWR);
            w->deadline = 0;
            w->fired = 1;
            atomic_fetch_add_explicit(&g_slot->read_timeouts, 1, memory_order_relaxed);
        }
        pthread_mutex_unlock(&w->mu);
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
static int send_response(FCGX_Request *r, tstate *ts, const srv_request *rq)
{
    rdm_buf *o = &ts->out;
    rdm_buf_reset(o);
    int rc = rdm_buf_adds(o, "Status: ");
    if (rc == RDM_OK)
        rc = add_uint(o, (size_t)rq->status);
    if (rc == RDM_OK)
        rc = rdm_buf_addc(o, ' ');
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, srv_status_text(rq->status));
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\nContent-Type: ");
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, rq->ctype ? rq->ctype : "application/json");
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\nContent-Length: ");
    if (rc == RDM_OK)
        rc = add_uint(o, ts->body.len);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\nCache-Control: no-store\r\n");
    if (rc == RDM_OK && rq->headers)
        rc = rdm_buf_adds(o, rq->headers);
    if (rc == RDM_OK)
        rc = rdm_buf_adds(o, "\r\n");
    if (rc == RDM_OK)
        rc = rdm_buf_add(o, ts->body.data, ts->body.len);
    if (rc != RDM_OK)
        return -1;
    return FCGX_PutStr(o->data, (int)o->len, r->out) < 0 ? -1 : 0;
}

/* A JSON error answered by the loop itself (before any handler). */
static void loop_error(srv_request *rq, int status, const char *code, const char *msg)
{
    rdm_buf_reset(rq->out);
    int rc = rdm_buf_printf(rq->out,
                            "{\"error\":{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\","
                            "\"field\":null}}\n",
                            status, code, msg);
    if (rc != RDM_OK)
        rdm_buf_reset(rq->out);
    rq->status = status;
}

/* Read the request body into ts->in. Returns 0, or an HTTP status with the
 * error body in rq->out. */
static int read_body(FCGX_Request *r, tstate *ts, srv_request *rq)
{
    rdm_buf_reset(&ts->in);
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
    long n = 0;
    if (cl && *cl && (rdm_parse_long(cl, &n) != 0 || n < 0)) {
        loop_error(rq, 400, "bad_content_length", "invalid Content-Length");
        return 400;
    }
    if (n > g_opts->max_body_bytes) {
        /* nginx enforces the limit first; drain what was sent anyway */
        char tmp[8192];
        while (FCGX_GetStr(tmp, sizeof tmp, r->in) > 0) {
        }
        char msg[128];
        snprintf(msg, sizeof msg, "request body of %ld bytes is over the limit of %ld", n,
                 g_opts->max_body_bytes);
        loop_error(rq, 413, "body_too_large", msg);
        return 413;
    }
    if (rdm_buf_reserve(&ts->in, (size_t)n + 1) != RDM_OK) {
        loop_error(rq, 503, "out_of_memory", "out of memory");
        return 503;
    }
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

/* The request's parameters (nginx's fastcgi_param lines). */
static void request_params(FCGX_Request *r, srv_request *rq)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", r->envp);
    const char *path = FCGX_GetParam("DOCUMENT_URI", r->envp);
    if (!path)
        path = FCGX_GetParam("SCRIPT_NAME", r->envp);
    const char *query = FCGX_GetParam("QUERY_STRING", r->envp);
    const char *ctype = FCGX_GetParam("CONTENT_TYPE", r->envp);
    const char *id = FCGX_GetParam("REQUEST_ID", r->envp);
    rq->method = method ? method : "GET";
    rq->path = path ? path : "/";
    rq->query = query ? query : "";
    rq->content_type = ctype ? ctype : "";
    rq->request_id = id ? id : "";
}

/* Count one finished request. A served request is complete here: `rq` holds
 * the request id, the input body, the route and status, the model version
 * that answered and the records scored; the response body (the
 * probabilities) is still in rq->out; `seconds` is the latency measured in
 * the worker. */
static void account(const srv_request *rq, double seconds)
{
    int b = 0;
    while (b < SRV_NBUCKETS - 1 && seconds > srv_buckets[b])
        b++;
    atomic_fetch_add_explicit(&g_slot->requests[rq->route][srv_status_index(rq->status)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&g_slot->latency[rq->route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_slot->latency_us[rq->route], (uint64_t)(seconds * 1e6),
                              memory_order_relaxed);
    if (rq->records)
        atomic_fetch_add_explicit(&g_slot->predictions, (uint64_t)rq->records,
                                  memory_order_relaxed);
}

/* On a Unix socket, close without libfcgi's lingering shutdown (half close,
 * then wait up to 2 s for the web server to close its end), so the thread is
 * free for the next request at once instead of waiting for nginx to be
 * scheduled. That is safe only once the whole request has been read, up to
 * the end of its stdin stream (the web server may send that last empty
 * record separately): a close with unread input resets the connection and
 * nginx would lose the response. */
static void finish(FCGX_Request *r)
{
    if (g_unix_listen) {
        char tmp[4096];
        while (FCGX_GetStr(tmp, sizeof tmp, r->in) > 0) {
        }
        if (!FCGX_GetError(r->in))
            FCGX_Detach(r);
    }
    FCGX_Finish_r(r);
}

static void handle(FCGX_Request *r, tstate *ts, watch *w)
{
    double t0 = rdm_now();
    atomic_fetch_add_explicit(&g_slot->inflight, 1, memory_order_relaxed);
    srv_request rq;
    memset(&rq, 0, sizeof rq);
    request_params(r, &rq);
    rq.route = R_OTHER;
    rq.ctype = "application/json";
    rq.out = &ts->body;
    rdm_buf_reset(&ts->body);
    int bad = read_body(r, ts, &rq);
    if (watch_disarm(w)) {
        /* not in full within serve.read_timeout: the connection is gone */
        rq.status = 408;
        r->keepConnection = 0;
        FCGX_Finish_r(r);
    } else {
        if (!bad) {
            rq.body = ts->in.data;
            rq.body_len = ts->in.len;
            rq.status = 500;
            g_opts->handler(&rq, g_opts, g_sh);
        }
        send_response(r, ts, &rq);
        watch_arm(w, w->fd);
        finish(r);
        watch_disarm(w);
    }
    account(&rq, rdm_now() - t0);
    atomic_fetch_sub_explicit(&g_slot->inflight, 1, memory_order_relaxed);
    /* keep a huge request from pinning memory */
    if (ts->in.cap > (1u << 20))
        rdm_buf_release(&ts->in);
    if (ts->body.cap > (1u << 20))
        rdm_buf_release(&ts->body);
    if (ts->out.cap > (1u << 20))
        rdm_buf_release(&ts->out);
}

/* Accept one connection (one thread per process waits at a time; the
 * listening socket is non-blocking, shared with the other processes).
 * Returns the descriptor, or -1 when stopping. */
static int accept_one(void)
{
    int fd = -1;
    pthread_mutex_lock(&g_accept_mu);
    while (!g_stop && fd < 0) {
        struct pollfd p = {g_opts->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        fd = accept(g_opts->listen_fd, NULL, NULL);
        if (fd >= 0)
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                 errno != ECONNABORTED && errno != EPROTO) {
            char msg[128];
            rdm_log(RDM_LOG_ERROR, "worker pid=%d: accept: %s", (int)getpid(),
                    rdm_errno_text(errno, msg, sizeof msg));
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    pthread_mutex_unlock(&g_accept_mu);
    return fd;
}

/* Wait for the next request on a kept connection (no deadline while idle:
 * the web server holds it open between requests). 0 when stopping. */
static int wait_next(int fd)
{
    while (!g_stop) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) > 0)
            return 1;
    }
    return 0;
}

/* Give libfcgi a connection of its own: a duplicate of the thread's. */
static int adopt(FCGX_Request *req, int conn)
{
    int lib = fcntl(conn, F_DUPFD_CLOEXEC, 0);
    if (lib < 0)
        return -1;
    req->ipcFd = lib;
    req->keepConnection = 1; /* FCGX_Accept_r must not close it before reading */
    return 0;
}

static void *thread_main(void *arg)
{
    watch *w = arg;
    FCGX_Request req;
    tstate ts = {RDM_BUF_INIT, RDM_BUF_INIT, RDM_BUF_INIT};
    /* no listening socket: libfcgi reads only the connections given to it */
    if (FCGX_InitRequest(&req, -1, 0) != 0)
        return NULL;
    int conn = -1;
    while (!g_stop) {
        if (req.ipcFd < 0) {
            if (conn >= 0) {
                watch_forget(w);
                close(conn);
            }
            conn = accept_one();
            if (conn < 0)
                continue;
            if (adopt(&req, conn) != 0) {
                close(conn);
                conn = -1;
                continue;
            }
        } else if (!wait_next(conn)) {
            break;
        }
        watch_arm(w, conn);
        if (FCGX_Accept_r(&req) < 0) {
            /* a broken or timed-out request: libfcgi closed its duplicate */
            watch_disarm(w);
            continue;
        }
        handle(&req, &ts, w);
    }
    FCGX_Free(&req, 1);
    if (conn >= 0) {
        watch_forget(w);
        close(conn);
    }
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

/* SIGTERM/SIGINT/SIGHUP are taken by sigtimedwait in the main thread;
 * SIGUSR1 interrupts accept() in the request threads when stopping. */
static void worker_signals(sigset_t *set)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_wake;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Drain: request threads finish what they are doing, then stop accepting. */
static void drain(pthread_t *th, int started)
{
    g_stop = 1;
    FCGX_ShutdownPending();
    double deadline = rdm_now() + 10.0;
    while (atomic_load(&g_done) < started && rdm_now() < deadline) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        for (int i = 0; i < started; i++)
            pthread_kill(th[i], SIGUSR1);
        nanosleep(&ts, NULL);
    }
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
    sigset_t set;
    worker_signals(&set);

    struct sockaddr_storage sa_listen;
    socklen_t sl = sizeof sa_listen;
    g_unix_listen = getsockname(o->listen_fd, (struct sockaddr *)&sa_listen, &sl) == 0 &&
                    sa_listen.ss_family == AF_UNIX;
    if (o->follow_model)
        srv_served_refresh(sh, g_slot, 0);

    srv_log_start(o, g_slot);
    int nt = o->threads > 0 ? o->threads : 1;
    if (nt > SRV_MAX_THREADS)
        nt = SRV_MAX_THREADS;
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    int started = 0;
    for (int i = 0; th && i < nt; i++) {
        pthread_mutex_init(&g_watch[i].mu, NULL);
        g_watch[i].fd = -1;
        if (pthread_create(&th[started], NULL, thread_main, &g_watch[i]) == 0)
            started++;
    }
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
        watch_scan(nt);
        if (o->follow_model)
            srv_served_refresh(sh, g_slot, sig == SIGHUP);
    }
    drain(th, started);
    srv_log_stop(); /* everything logged, or in the spill file */
    _exit(0);
}
