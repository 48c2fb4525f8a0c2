/* worker.c - the worker loop of one FastCGI worker process: request threads
 * wait on the process's epoll set, assemble each request from what arrives
 * (fastcgi.c), hand it to the handler (routes.c in the server), send the
 * response and count it. The process's main thread waits for signals, picks
 * up new models and is the watchdog of serve.read_timeout: a connection
 * whose request has not arrived in full within it (or whose response has not
 * gone out within it) is shut down.
 *
 * The epoll set holds the shared listening socket and every connection of
 * this process, each armed for one event at a time: the thread that gets it
 * reads what has arrived without waiting, serves the request once it is
 * complete, and puts the connection back. nginx keeps its connections open
 * between requests (fastcgi_keep_conn and an upstream keepalive pool); an
 * idle one, or one whose request is still on its way, holds no thread, so a
 * few threads serve any number of connections and a slow or stuck client
 * delays nobody else. Per request on a kept connection: one read, one write,
 * one epoll_ctl and one epoll_wait. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "schema.h"
#include "server.h"

static const srv_opts *g_opts;
static srv_shared *g_sh;
static srv_slot *g_slot;
static volatile sig_atomic_t g_stop;
static _Atomic int g_done;
static int g_epoll = -1; /* the listening socket and the connections */

/* Buffers kept per connection between requests; larger ones are freed. */
#define KEEP_CAP (256u << 10)

/* One connection. Its thread (the one that took its event) owns everything
 * but `deadline` and `fired`, which the watchdog reads and sets under g_conns_mu;
 * the watchdog may shut the descriptor down, never close it. */
typedef struct conn {
    int fd;
    srv_fcgi rq;
    double deadline; /* > 0: the request (or the response) must be through by then */
    int fired;       /* the watchdog shut it down */
    struct conn *prev, *next;
} conn;

static pthread_mutex_t g_conns_mu = PTHREAD_MUTEX_INITIALIZER;
static conn *g_conns; /* every connection of this process */

static void conn_deadline(conn *c, int on)
{
    pthread_mutex_lock(&g_conns_mu);
    c->deadline = on && g_opts->read_timeout > 0 ? rdm_now() + g_opts->read_timeout : 0;
    pthread_mutex_unlock(&g_conns_mu);
}

/* The watchdog (main thread): shut down connections past their deadline. */
static void watch_scan(void)
{
    double now = rdm_now();
    pthread_mutex_lock(&g_conns_mu);
    for (conn *c = g_conns; c; c = c->next) {
        if (c->deadline > 0 && now > c->deadline) {
            shutdown(c->fd, SHUT_RDWR);
            c->deadline = 0;
            c->fired = 1;
            atomic_fetch_add_explicit(&g_slot->read_timeouts, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&g_conns_mu);
}

/* Per-thread buffers, reused across requests. */
typedef struct tstate {
    rdm_buf body;
    rdm_buf out;
    rdm_buf layout; /* a prediction body's layout, for the log (srv_request.layout) */
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

/* Headers and body in one buffer after room for the first record header,
 * framed as FastCGI records (fastcgi.c) and sent with one write. */
static int send_response(conn *c, tstate *ts, const srv_request *rq)
{
    rdm_buf *o = &ts->out;
    rdm_buf_reset(o);
    int rc = rdm_buf_reserve(o, SRV_FCGI_HEAD + 256 + ts->body.len);
    if (rc == RDM_OK) {
        o->len = SRV_FCGI_HEAD;
        rc = rdm_buf_adds(o, "Status: ");
    }
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
    if (rc != RDM_OK || srv_fcgi_frame(o, c->rq.id) != 0)
        return -1;
    /* the watchdog bounds a write to a peer that does not read */
    conn_deadline(c, 1);
    size_t done = 0;
    while (done < o->len) {
        ssize_t k = send(c->fd, o->data + done, o->len - done, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    conn_deadline(c, 0);
    return done == o->len ? 0 : -1;
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

/* The request's parameters (nginx's fastcgi_param lines). */
static void request_params(const srv_fcgi *f, srv_request *rq)
{
    const char *method = srv_fcgi_param(f, "REQUEST_METHOD");
    const char *path = srv_fcgi_param(f, "DOCUMENT_URI");
    if (!path)
        path = srv_fcgi_param(f, "SCRIPT_NAME");
    const char *query = srv_fcgi_param(f, "QUERY_STRING");
    const char *ctype = srv_fcgi_param(f, "CONTENT_TYPE");
    rq->method = method ? method : "GET";
    rq->path = path ? path : "/";
    rq->query = query ? query : "";
    rq->content_type = ctype ? ctype : "";
}

/* The request body, as much of it as CONTENT_LENGTH says. Returns 0, or an
 * HTTP status with the error body in rq->out. */
static int request_body(srv_fcgi *f, srv_request *rq)
{
    const char *cl = srv_fcgi_param(f, "CONTENT_LENGTH");
    long n = 0;
    if (cl && *cl && (rdm_parse_long(cl, &n) != 0 || n < 0)) {
        loop_error(rq, 400, "bad_content_length", "invalid Content-Length");
        return 400;
    }
    if (n > g_opts->max_body_bytes || f->body_seen > (size_t)g_opts->max_body_bytes) {
        /* nginx enforces the limit first */
        char msg[128];
        snprintf(msg, sizeof msg, "request body of %ld bytes is over the limit of %ld",
                 n > 0 ? n : (long)f->body_seen, g_opts->max_body_bytes);
        loop_error(rq, 413, "body_too_large", msg);
        return 413;
    }
    if (rdm_buf_reserve(&f->body, 1) != RDM_OK) {
        loop_error(rq, 503, "out_of_memory", "out of memory");
        return 503;
    }
    if (f->body.len > (size_t)n)
        f->body.len = (size_t)n;
    f->body.data[f->body.len] = '\0';
    rq->body = f->body.data;
    rq->body_len = f->body.len;
    return 0;
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

/* Serve the complete request of `c`; 0 when the connection may be kept. */
static int handle(conn *c, tstate *ts)
{
    double t0 = rdm_now();
    atomic_fetch_add_explicit(&g_slot->inflight, 1, memory_order_relaxed);
    srv_request rq;
    memset(&rq, 0, sizeof rq);
    request_params(&c->rq, &rq);
    rq.route = R_OTHER;
    rq.ctype = "application/json";
    rq.out = &ts->body;
    rq.layout = &ts->layout;
    rdm_buf_reset(&ts->body);
    rdm_buf_reset(&ts->layout);
    if (!request_body(&c->rq, &rq)) {
        rq.status = 500;
        g_opts->handler(&rq, g_opts, g_sh);
    }
    int rc = send_response(c, ts, &rq);
    account(&rq, rdm_now() - t0);
    atomic_fetch_sub_explicit(&g_slot->inflight, 1, memory_order_relaxed);
    /* keep a huge request from pinning memory */
    if (ts->body.cap > (1u << 20))
        rdm_buf_release(&ts->body);
    if (ts->out.cap > (1u << 20))
        rdm_buf_release(&ts->out);
    if (ts->layout.cap > (1u << 20))
        rdm_buf_release(&ts->layout);
    return rc;
}

/* A request cut off by the watchdog, counted as a 408. */
static void account_timeout(void)
{
    srv_request rq;
    memset(&rq, 0, sizeof rq);
    rq.route = R_OTHER;
    rq.status = 408;
    account(&rq, g_opts->read_timeout);
}

/* epoll data of the listening socket; a connection's is its conn. */
static char g_listen_tag;

/* Put a connection (back) in the set, armed for one event. */
static int conn_arm(conn *c, int op)
{
    struct epoll_event ev = {EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, {.ptr = c}};
    return epoll_ctl(g_epoll, op, c->fd, &ev);
}

static void conn_close(conn *c)
{
    pthread_mutex_lock(&g_conns_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        g_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g_conns_mu);
    close(c->fd);
    srv_fcgi_release(&c->rq);
    free(c);
}

/* Accept what is pending on the listening socket (non-blocking, shared with
 * the other processes: another may have taken it) into the set. */
static void accept_some(void)
{
    for (int k = 0; k < 16 && !g_stop; k++) {
        int fd = accept(g_opts->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED && errno != EPROTO) {
                char msg[128];
                rdm_log(RDM_LOG_ERROR, "worker pid=%d: accept: %s", (int)getpid(),
                        rdm_errno_text(errno, msg, sizeof msg));
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            return;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        srv_fcgi_init(&c->rq);
        c->rq.body_limit = (size_t)g_opts->max_body_bytes;
        pthread_mutex_lock(&g_conns_mu);
        c->next = g_conns;
        if (g_conns)
            g_conns->prev = c;
        g_conns = c;
        pthread_mutex_unlock(&g_conns_mu);
        if (conn_arm(c, EPOLL_CTL_ADD) != 0)
            conn_close(c);
    }
}

/* Send the replies to management records, if any. */
static int send_replies(conn *c)
{
    rdm_buf *r = &c->rq.reply;
    int ok = r->len == 0 || send(c->fd, r->data, r->len, MSG_NOSIGNAL) == (ssize_t)r->len;
    rdm_buf_reset(r);
    return ok ? 0 : -1;
}

/* Back to the set until more arrives; a request begun starts the clock
 * (it must be complete within serve.read_timeout). 0, or -1 to close. */
static int wait_more(conn *c)
{
    if (c->rq.raw.len || c->rq.id) {
        pthread_mutex_lock(&g_conns_mu);
        if (c->deadline == 0 && g_opts->read_timeout > 0)
            c->deadline = rdm_now() + g_opts->read_timeout;
        pthread_mutex_unlock(&g_conns_mu);
    }
    return g_stop || conn_arm(c, EPOLL_CTL_MOD) != 0 ? -1 : 0;
}

/* The connection became readable: take what has arrived (without waiting),
 * serve the request once it is complete, then put the connection back in
 * the set or close it (closed by the web server, not to be kept, broken,
 * timed out). */
static void serve_conn(conn *c, tstate *ts)
{
    srv_fcgi *f = &c->rq;
    int fresh = 0; /* bytes arrived since the last srv_fcgi_feed */
    for (;;) {
        if (fresh) {
            fresh = 0;
            const char *why = NULL;
            int st = srv_fcgi_feed(f, &why);
            if (st < 0) {
                rdm_log(RDM_LOG_WARN, "worker pid=%d: connection closed: %s", (int)getpid(), why);
                break;
            }
            if (send_replies(c) != 0)
                break;
            if (st == 1) {
                conn_deadline(c, 0);
                if (handle(c, ts) != 0 || !f->keep || g_stop)
                    break;
                srv_fcgi_next(f, KEEP_CAP);
                /* bytes after the request (nginx sends none before the response) */
                fresh = f->raw.len > 0;
                if (!fresh && wait_more(c) == 0)
                    return;
                if (!fresh)
                    break;
                continue;
            }
        }
        if (rdm_buf_reserve(&f->raw, srv_fcgi_want(f)) != RDM_OK)
            break;
        size_t room = f->raw.cap - f->raw.len;
        ssize_t k = recv(c->fd, f->raw.data + f->raw.len, room, MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_more(c) == 0)
                return;
            break;
        }
        if (k <= 0) /* closed by the web server (an idle kept connection), or broken */
            break;
        f->raw.len += (size_t)k;
        fresh = 1;
    }
    pthread_mutex_lock(&g_conns_mu);
    int fired = c->fired && (f->raw.len || f->id);
    pthread_mutex_unlock(&g_conns_mu);
    if (fired)
        account_timeout();
    conn_close(c);
}

static void *thread_main(void *arg)
{
    (void)arg;
    tstate ts = {RDM_BUF_INIT, RDM_BUF_INIT, RDM_BUF_INIT};
    /* a few events per wait: under load one wakeup serves several
     * connections (each is this thread's until it is armed again) */
    int max = g_opts->threads > 1 ? 1 : 4;
    while (!g_stop) {
        struct epoll_event ev[4];
        int n = epoll_wait(g_epoll, ev, max, 200);
        for (int i = 0; i < n && !g_stop; i++) {
            if (ev[i].data.ptr == &g_listen_tag)
                accept_some();
            else
                serve_conn(ev[i].data.ptr, &ts);
        }
    }
    rdm_buf_release(&ts.body);
    rdm_buf_release(&ts.out);
    rdm_buf_release(&ts.layout);
    atomic_fetch_add(&g_done, 1);
    return NULL;
}

/* SIGTERM/SIGINT/SIGHUP are taken by sigtimedwait in the main thread. */
static void worker_signals(sigset_t *set)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Drain: request threads finish the request they are serving (none waits
 * on an idle connection: each leaves epoll_wait within 200 ms), then the
 * connections close with the process. */
static void drain(int started)
{
    g_stop = 1;
    double deadline = rdm_now() + 10.0;
    while (atomic_load(&g_done) < started && rdm_now() < deadline) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        watch_scan();
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

    if (o->follow_model)
        srv_served_refresh(sh, g_slot, 0);

    g_epoll = epoll_create1(EPOLL_CLOEXEC);
    /* exclusive: a new connection wakes one process, not every one */
    struct epoll_event lev = {EPOLLIN | EPOLLEXCLUSIVE, {.ptr = &g_listen_tag}};
    if (g_epoll < 0 || epoll_ctl(g_epoll, EPOLL_CTL_ADD, o->listen_fd, &lev) != 0) {
        char msg[128];
        rdm_log(RDM_LOG_ERROR, "worker pid=%d: epoll: %s", (int)getpid(),
                rdm_errno_text(errno, msg, sizeof msg));
        _exit(1);
    }

    srv_log_start(o, g_slot);
    int nt = o->threads > 0 ? o->threads : 1;
    if (nt > SRV_MAX_THREADS)
        nt = SRV_MAX_THREADS;
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    int started = 0;
    for (int i = 0; th && i < nt; i++)
        if (pthread_create(&th[started], NULL, thread_main, NULL) == 0)
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
        watch_scan();
        if (o->follow_model)
            srv_served_refresh(sh, g_slot, sig == SIGHUP);
    }
    drain(started);
    srv_log_stop(); /* everything logged, or in the spill file */
    _exit(0);
}
