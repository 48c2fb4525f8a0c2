/* server.h - readmit-fcgi internals shared by the supervisor (main.c), the
 * workers (worker.c) and the metrics (metrics.c): the shared-memory block the
 * supervisor creates before forking, and the server settings. */
#ifndef RDM_FCGI_SERVER_H
#define RDM_FCGI_SERVER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define SRV_MAX_WORKERS 64

/* Routes, as labelled in /metrics. */
enum { R_PREDICT, R_MODEL, R_HEALTHZ, R_READYZ, R_METRICS, R_OTHER, R_N };

/* Status codes counted in /metrics. */
enum { S_200, S_400, S_404, S_405, S_413, S_422, S_500, S_503, S_N };

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
    _Atomic uint64_t model_gen; /* generation of the model it serves */
    _Atomic int pid;
    char model_version[32]; /* version it serves ("" = none) */
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
} srv_model_ref;

/* Read the published model under the seqlock. */
void srv_model_ref_read(srv_shared *sh, srv_model_ref *out);
/* Publish (supervisor only). */
void srv_model_publish(srv_shared *sh, const srv_model_ref *ref);

/* Settings of one server run. */
typedef struct srv_opts {
    int listen_fd;
    int workers;
    int threads; /* per worker */
    long max_instances;
    long max_body_bytes;
    int empty; /* benchmark ceiling: answer a constant body without parsing */
    const char *empty_body;
} srv_opts;

/* Run one worker process (never returns): slot `idx` of `sh`. */
void srv_worker_main(const srv_opts *o, srv_shared *sh, int idx) __attribute__((noreturn));

/* Append the Prometheus text of all counters to out (a rdm_buf). */
struct rdm_buf;
int srv_metrics_text(srv_shared *sh, int nworkers, struct rdm_buf *out);

/* --bench-score: time the handler and the model on the bodies in a file
 * (one JSON body per line) for about `seconds` each; prints one line. */
int srv_bench_score(const char *model_path, const char *bodies_path, double seconds);

/* Map a status code to its S_ index. */
int srv_status_index(int status);

#endif
