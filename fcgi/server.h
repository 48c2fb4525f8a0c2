/* server.h - readmit-fcgi internals and the interfaces between its files:
 *   main.c        the command's edge: options, config, environment -> srv_opts
 *   listen.c      the FastCGI socket, its permissions, dropping root
 *   supervisor.c  prefork, restart with back-off, signals, draining
 *   follower.c    the model follower (supervisor side): the registry champion
 *                 through LISTEN/NOTIFY and polling, fetch, checksum, cache,
 *                 publish to the workers
 *   served.c      the model a worker serves: load on a new generation, swap,
 *                 reference counts for requests in flight
 *   worker.c      the worker loop: threads, epoll, accept, read, respond, count
 *   fastcgi.c     the FastCGI record layer: assemble a request, frame a response
 *   routes.c      path -> handler (the API, the probes, /metrics)
 *   metrics.c     the counters in Prometheus text
 *   shared.c      the block shared by all processes: create, seqlock
 * fcgi/bench/ builds readmit-fcgi-bench (the empty responder and the scoring
 * micro-benchmark) from the same files. */
#ifndef RDM_FCGI_SERVER_H
#define RDM_FCGI_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "predlog.h"
#include "readmit.h"

#define SRV_MAX_WORKERS 64
#define SRV_MAX_THREADS 256

/* Routes, as labelled in /metrics. */
enum { R_PREDICT, R_MODEL, R_OPENAPI, R_HEALTHZ, R_READYZ, R_METRICS, R_OTHER, R_N };

/* Status codes counted in /metrics. */
enum { S_200, S_400, S_404, S_405, S_408, S_413, S_415, S_422, S_500, S_503, S_N };

/* Latency histogram upper bounds (seconds); the last bucket is +Inf. */
#define SRV_NBUCKETS 13
extern const double srv_buckets[SRV_NBUCKETS - 1];
extern const char *const srv_route_names[R_N];
extern const int srv_status_codes[S_N];

/* Counters of one worker process, written only by that process. Aligned to
 * a cache line so that neighbouring workers' slots never share one. */
typedef struct srv_slot {
    _Alignas(64) _Atomic uint64_t requests[R_N][S_N];
    _Atomic uint64_t latency[R_N][SRV_NBUCKETS];
    _Atomic uint64_t latency_us[R_N]; /* sum, microseconds */
    _Atomic int64_t inflight;
    _Atomic uint64_t predictions; /* records scored */
    _Atomic uint64_t model_loads;
    _Atomic uint64_t model_load_failures;
    _Atomic uint64_t read_timeouts; /* requests dropped: not in full within serve.read_timeout */
    _Atomic uint64_t model_gen;     /* generation of the model it serves */
    _Atomic int pid;
    char model_version[32];   /* version it serves ("" = none) */
    rdm_predlog_counters log; /* its prediction log (predhook.c) */
} srv_slot;

/* The block shared by the supervisor and all workers (anonymous MAP_SHARED). */
typedef struct srv_shared {
    _Atomic uint64_t worker_restarts;
    _Atomic int db_ok;          /* supervisor: the registry database answered lately */
    _Atomic uint64_t model_gen; /* bumped after the fields below change */
    _Atomic uint64_t model_seq; /* seqlock over the fields below (odd = writing) */
    char model_path[512];       /* artifact file to load */
    char model_name[128];
    char model_version[32];
    char model_alias[16];
    char model_sha256[65];
    char model_metrics[2048];           /* the run's metrics, JSON ("" = not known yet) */
    _Atomic uint64_t sup_loads;         /* supervisor-side fetches of a new champion */
    _Atomic uint64_t sup_load_failures; /* fetches or checks that failed */
    srv_slot w[SRV_MAX_WORKERS];
} srv_shared;

/* A consistent copy of the published model fields. */
typedef struct srv_model_ref {
    uint64_t gen;
    char path[512];
    char name[128];
    char version[32];
    char alias[16];
    char sha256[65];
    char metrics[2048]; /* JSON object by split and name, "" = not known yet */
} srv_model_ref;

/* shared.c: map a zeroed block (NULL on failure, errno set); unmap. */
srv_shared *srv_shared_create(void);
void srv_shared_free(srv_shared *sh);
/* Read the published model under the seqlock. */
void srv_model_ref_read(srv_shared *sh, srv_model_ref *out);
/* Publish (supervisor only). */
void srv_model_publish(srv_shared *sh, const srv_model_ref *ref);

/* ---- fastcgi.c: the FastCGI records of one connection ---- */

/* Bytes kept free at the start of a response buffer for its first record
 * header (srv_fcgi_frame). */
#define SRV_FCGI_HEAD 8

/* A connection's request being assembled. The caller appends what it
 * receives to raw and calls srv_fcgi_feed. */
typedef struct srv_fcgi {
    rdm_buf raw;       /* received, not yet taken apart: at most a partial record */
    rdm_buf params;    /* FCGI_PARAMS content */
    rdm_buf env;       /* the parameters as name\0value\0 pairs, once they ended */
    rdm_buf body;      /* FCGI_STDIN content, up to body_limit bytes */
    rdm_buf reply;     /* replies to management records, for the caller to send */
    size_t body_limit; /* keep at most this many body bytes (set by the caller) */
    size_t body_seen;  /* FCGI_STDIN bytes received, kept or not */
    int id;            /* the request's id; 0 = none begun */
    int keep;          /* the web server keeps the connection (FCGI_KEEP_CONN) */
    int params_done, complete;
} srv_fcgi;

void srv_fcgi_init(srv_fcgi *c);
void srv_fcgi_release(srv_fcgi *c);
/* Take apart the whole records in c->raw: 1 when the request is complete
 * (its empty FCGI_STDIN record arrived), 0 when more bytes are needed, -1 on
 * a protocol error (*why says which; the connection is to be closed). */
int srv_fcgi_feed(srv_fcgi *c, const char **why);
/* A parameter of the request (after its parameters ended), or NULL. */
const char *srv_fcgi_param(const srv_fcgi *c, const char *name);
/* How many bytes to ask the socket for next (the rest of a large body at once). */
size_t srv_fcgi_want(const srv_fcgi *c);
/* Ready for the next request on the connection; buffers over keep_cap are freed. */
void srv_fcgi_next(srv_fcgi *c, size_t keep_cap);
/* Frame out (SRV_FCGI_HEAD free bytes, then the CGI response: header lines
 * and body) as the whole response to request `id`: FCGI_STDOUT records, the
 * end of the stream and FCGI_END_REQUEST, ready for one write. 0 or -1 (no memory). */
int srv_fcgi_frame(rdm_buf *out, int id);

/* ---- one request, as the worker loop hands it to a handler ---- */

/* What the worker loop read (all borrowed, valid during the call) and what
 * the handler answers. The body has been read in full before the call. */
typedef struct srv_request {
    /* in */
    const char *method, *path, *query, *content_type;
    const char *body;
    size_t body_len;
    /* out, filled by the handler */
    int route;  /* R_* for /metrics */
    int status; /* HTTP status */
    const char *ctype;
    const char *headers;    /* extra header lines, each ending in \r\n, or NULL */
    rdm_buf *out;           /* response body */
    rdm_buf *layout;        /* scratch for the body's layout (the prediction log), or NULL */
    long records;           /* records scored (0 unless a prediction) */
    char model_version[32]; /* model that answered ("" = none) */
} srv_request;

struct srv_opts;
typedef void (*srv_handler_fn)(srv_request *rq, const struct srv_opts *o, srv_shared *sh);

/* Settings of one server run, filled at the command's edge. */
typedef struct srv_opts {
    int listen_fd;
    int workers;
    int threads; /* per worker */
    long max_instances;
    long max_body_bytes;
    double read_timeout; /* seconds for a whole request to arrive (0 = no limit) */
    srv_handler_fn handler;
    int follow_model;      /* workers load the published model (the real server) */
    const rdm_config *cfg; /* the real server's config: prediction log (monitor.*), models
                            * named by a request (named.c); NULL: neither */
} srv_opts;

/* predhook.c: the worker's prediction log: start (no-op without o->cfg),
 * one answered prediction (rq->body and rq->out), flush and stop, and its
 * counters and lag in /metrics. */
void srv_log_start(const srv_opts *o, srv_slot *slot);
void srv_log_served(const srv_request *rq, const char *name, const char *version, const char *alias,
                    double seconds);
void srv_log_stop(void);
/* 1 while the log runs (the predict route then has the body's layout made). */
int srv_log_on(void);
int srv_log_metrics(srv_shared *sh, int nw, rdm_buf *out);

/* worker.c: run one worker process (never returns): slot `idx` of `sh`. */
void srv_worker_main(const srv_opts *o, srv_shared *sh, int idx) __attribute__((noreturn));

/* ---- the supervisor and what it drives ---- */

/* The model source the supervisor follows (follower.c); opaque. */
typedef struct srv_follower srv_follower;

/* supervisor.c: fork the workers, restart them with back-off, drive the
 * follower (may be NULL), SIGHUP = reload, SIGTERM/SIGINT = drain and
 * return. Returns 0, or -1 with a message in err when it cannot start. */
int srv_supervise(const srv_opts *o, srv_shared *sh, srv_follower *f, rdm_err *err);

/* ---- follower.c ---- */

/* What the follower needs (borrowed for its life). */
typedef struct srv_follow_opts {
    const rdm_config *cfg;
    const char *model_ref; /* "champion", "challenger", "3", "NAME:3" or a .model file */
    const char *cache_dir; /* model cache directory (var/models) */
} srv_follow_opts;

srv_follower *srv_follower_new(const srv_follow_opts *fo, srv_shared *sh, rdm_err *err);
void srv_follower_free(srv_follower *f);
/* First look: fetch what to serve; with the database down, the cached champion. */
void srv_follower_start(srv_follower *f);
/* The socket to poll for notifications (-1 = none). */
int srv_follower_fd(const srv_follower *f);
/* When the follower wants to run next (absolute rdm_now() time). */
double srv_follower_wake(const srv_follower *f);
/* Run: `readable` the fd polled readable, `force` reload (SIGHUP). */
void srv_follower_step(srv_follower *f, int readable, int force);
/* In a freshly forked child: close the database socket without telling the server. */
void srv_follower_forget(srv_follower *f);

/* ---- served.c: the model in a worker ---- */

/* A loaded model with its registry identity; freed when the last request
 * holding it finishes (requests in flight keep the old one across a swap). */
typedef struct srv_loaded {
    struct rdm_model *model;
    struct rdm_explainer *explainer; /* NULL when the model cannot be explained */
    int refs;
    srv_model_ref ref; /* what was published when it was loaded */
} srv_loaded;

srv_loaded *srv_served_acquire(void);
/* One more reference to `l` (any srv_loaded, named ones included). */
void srv_served_hold(srv_loaded *l);
void srv_served_release(srv_loaded *l);
/* Load the published model when its generation changed (or `force`). Runs
 * in the worker's main thread, never in a request. */
void srv_served_refresh(srv_shared *sh, srv_slot *slot, int force);

/* ---- named.c: models named by a request (?model=REF) ---- */

/* 1 when `ref` is a registry reference a request may name (never a file). */
int srv_named_ref_ok(const char *ref);
/* The model `ref` names, with a reference for the caller (srv_served_release),
 * or NULL with *status 404 (no such model) or 503 (registry unreachable). */
srv_loaded *srv_named_acquire(const rdm_config *cfg, const char *ref, int *status, rdm_err *err);

/* ---- routes.c ---- */

/* The handler of the real server. */
void srv_route(srv_request *rq, const srv_opts *o, srv_shared *sh);

/* ---- cmdline.c: the command's edge, shared by readmit-fcgi and readmit-fcgi-bench ---- */

typedef struct srv_cmd {
    rdm_config cfg;
    const char *model_ref; /* --model, else serve.model (default "champion") */
    const char *sock_opt, *pidfile, *bench_file;
    const char *bind_addr; /* --bind: IPv4 address of the TCP listener (default 127.0.0.1) */
    const char *cache_dir; /* registry.cache_dir (env READMIT_MODEL_CACHE wins) */
    int port, workers, threads, print_config, empty;
} srv_cmd;

/* Parse the command line (the config file first, then -o overrides in
 * order, then the options). `bench`: accept --empty and --bench-score.
 * Returns -1 to go on, else the exit status (usage and --help printed). */
int srv_cmd_parse(srv_cmd *c, int argc, char **argv, const char *usage, int bench);
/* --print-config: the serve settings as shell variables. */
void srv_cmd_print_config(const srv_cmd *c);
/* Listen, drop root, fork the pool and supervise it until SIGTERM; `follow`
 * runs the model follower. Returns the exit status. */
int srv_cmd_serve(srv_cmd *c, srv_handler_fn handler, int follow);
void srv_cmd_release(srv_cmd *c);

/* ---- listen.c ---- */

typedef struct srv_listen_opts {
    const char *socket_path;  /* Unix socket, when port == 0 */
    const char *bind_addr;    /* TCP address when port > 0 */
    int port;                 /* TCP bind_addr:port when > 0 */
    const char *socket_group; /* group that may connect (nginx's), "" = the owner's */
    const char *user;         /* drop to this user after binding ("" = stay) */
} srv_listen_opts;

/* Bind and listen; fills `bind_text` with what it listens on. */
int srv_listen_open(const srv_listen_opts *lo, char *bind_text, size_t n, rdm_err *err);
/* Drop root to lo->user (no-op when not root or no user). */
int srv_drop_privileges(const srv_listen_opts *lo, rdm_err *err);

/* ---- metrics.c ---- */

int srv_metrics_text(srv_shared *sh, int nworkers, rdm_buf *out);
/* Map a status code to its S_ index. */
int srv_status_index(int status);
/* Reason phrase of a status code. */
const char *srv_status_text(int status);

#endif
