/* pool.h - a persistent thread pool for fan-outs over independent items, and
 * the one "how many cores" helper.
 *
 * A job is a function run by the caller's thread (thread 0) and by the
 * workers that join in time. Its items (row chunks, features, files...) are
 * claimed one at a time from a shared counter with rdm_pool_next(), so a
 * worker the scheduler is late to start does not hold the job up: the
 * caller's thread may end up doing every item. Results are deterministic when
 * each item writes only its own outputs and the caller combines them in item
 * order afterwards (never in the order threads finished).
 *
 * Typical use:
 *
 *     static void job(void *arg, size_t item, int tid) { ... item's work ... }
 *     rdm_pool *p = rdm_pool_create(0, err);       // 0 = every core
 *     rdm_pool_for(p, nitems, job, &ctx);          // returns when all are done
 *     rdm_pool_free(p);
 *
 * A pool runs one job at a time: rdm_pool_for / rdm_pool_run may only be
 * called by the thread that created the pool, never from inside a job.
 * Create a pool once per task (a fit, a batch) and reuse it for every job of
 * that task: a job costs microseconds, creating the pool costs thread starts. */
#ifndef RDM_POOL_H
#define RDM_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

#define RDM_POOL_MAX 64 /* threads per pool, the caller's thread included */

typedef struct rdm_pool rdm_pool;

/* Online cores, clamped to 1..RDM_POOL_MAX. */
int rdm_ncpu(void);

/* A pool of `threads` threads in all (the caller's thread is one of them, so
 * threads - 1 workers are started); 0 means rdm_ncpu(); values above
 * RDM_POOL_MAX are clamped. Returns a pool owned by the caller (free with
 * rdm_pool_free), or NULL with err: RDM_EINVAL (threads < 0), RDM_ENOMEM (out
 * of memory or a thread could not be started). */
rdm_pool *rdm_pool_create(int threads, rdm_err *err);
/* Stops and joins the workers. NULL is a no-op. */
void rdm_pool_free(rdm_pool *p);
/* Threads in the pool (thread ids passed to jobs are 0 .. threads - 1). */
int rdm_pool_threads(const rdm_pool *p);

/* Run fn(arg, item, tid) once for every item 0 .. n - 1, spread over the
 * pool's threads; returns when every call has returned. tid (0 .. threads-1)
 * identifies the calling thread, for per-thread scratch buffers; which thread
 * runs which item is not fixed. p may be NULL: every item then runs on the
 * caller's thread (tid 0). */
typedef void (*rdm_pool_item_fn)(void *arg, size_t item, int tid);
void rdm_pool_for(rdm_pool *p, size_t n, rdm_pool_item_fn fn, void *arg);

/* Lower level: run fn(arg, tid, p) on the caller's thread and on every
 * worker that joins before the job ends; fn claims items with
 * rdm_pool_next(p) until it returns an item >= its count. Returns when no
 * thread is inside fn any more. For loops whose items are cheaper than a
 * function call each. */
typedef void (*rdm_pool_job_fn)(void *arg, int tid, rdm_pool *p);
void rdm_pool_run(rdm_pool *p, rdm_pool_job_fn fn, void *arg);
/* The next unclaimed item of the running job (0, 1, 2, ...). */
size_t rdm_pool_next(rdm_pool *p);

/* Items 0 .. n - 1 of one phase of a job, in one contiguous block per
 * thread: thread t claims the items of block t first, then those left in
 * the other blocks (t + 1, t + 2, ... wrapping), so a thread the scheduler is
 * late to start holds nothing up, while on time every thread gets the same
 * block job after job: the data of its items (rows of a range, features of
 * a range) stays in its core's cache, and the claims touch no line another
 * thread is writing. Each block's counter has a cache line of its own. The
 * caller initialises it (rdm_pool_share_init) before the job or phase that
 * uses it; only the first `threads` blocks are touched. */
typedef struct rdm_pool_share {
    struct {
        _Alignas(64) atomic_size_t next;
        size_t end;
    } b[RDM_POOL_MAX];

    int nb;
} rdm_pool_share;

/* n items over `threads` blocks (clamped to 1 .. RDM_POOL_MAX). */
void rdm_pool_share_init(rdm_pool_share *s, size_t n, int threads);
/* The same with blocks of the caller's sizes: block t holds items
 * ends[t - 1] .. ends[t] - 1 (block 0 from item 0); ends ascending, one per
 * block (threads clamped as above). For items of unequal work, blocks of
 * about equal work. */
void rdm_pool_share_init_ends(rdm_pool_share *s, const size_t *ends, int threads);
/* The next item for thread tid, or SIZE_MAX when every item is claimed. */
size_t rdm_pool_share_next(rdm_pool_share *s, int tid);

/* Inside a job: wait until *flag is nonzero (set, with release order, by
 * another thread of the same job), spinning, then yielding the core. For a
 * job in phases: the thread that completes the last item of a phase does
 * the step between phases and sets the flag; the others wait here instead of
 * the job ending and a new one starting. */
void rdm_pool_await(atomic_int *flag);

#endif
