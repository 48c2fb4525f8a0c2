/* pool.c - persistent thread pool. A job is published by bumping a
 * generation in one atomic state word (generation, open flag, threads
 * inside); workers wait for it spinning on that word (a busy spin,
 * then yielding, then asleep on a condition variable), join it with a
 * compare-and-swap while it is open, and the caller's thread always takes
 * part. The caller closes the job when every item is claimed and waits for the
 * threads still inside (spinning, then asleep): no lock is taken on the way
 * while every thread is awake. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* state word: generation << GEN_SHIFT | OPEN | threads inside */
#define INSIDE_MASK 0x7fffUL
#define OPEN        0x8000UL
#define GEN_SHIFT   16
/* How long a waiting thread spins (seconds): first on the CPU, then
 * yielding to other runnable threads, then it sleeps. Jobs and the
 * serial steps between them are often a few microseconds long: a sleep and
 * a wake-up cost more than that. */
#define SPIN_BUSY  40e-6
#define SPIN_YIELD 200e-6

typedef struct wstart {
    rdm_pool *p;
    int tid;
} wstart;

struct rdm_pool {
    int nt;
    pthread_t *th;
    wstart *ws;
    int started;
    rdm_pool_job_fn fn; /* the current job (written before it is opened) */
    void *arg;
    _Alignas(64) atomic_ulong state;
    atomic_int sleepers; /* workers asleep (or about to be) on `go` */
    atomic_int waiting;  /* the caller asleep (or about to be) on `done` */
    atomic_int quit;
    _Alignas(64) atomic_size_t next; /* next item of the current job */
    _Alignas(64) pthread_mutex_t mu;
    pthread_cond_t go, done;
};

int rdm_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > RDM_POOL_MAX ? RDM_POOL_MAX : (int)n;
}

size_t rdm_pool_next(rdm_pool *p)
{
    return atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
}

void rdm_pool_share_init(rdm_pool_share *s, size_t n, int threads)
{
    int nb = threads < 1 ? 1 : threads > RDM_POOL_MAX ? RDM_POOL_MAX : threads;
    s->nb = nb;
    for (int t = 0; t < nb; t++) {
        atomic_init(&s->b[t].next, n * (size_t)t / (size_t)nb);
        s->b[t].end = n * (size_t)(t + 1) / (size_t)nb;
    }
}

void rdm_pool_share_init_ends(rdm_pool_share *s, const size_t *ends, int threads)
{
    int nb = threads < 1 ? 1 : threads > RDM_POOL_MAX ? RDM_POOL_MAX : threads;
    s->nb = nb;
    for (int t = 0; t < nb; t++) {
        atomic_init(&s->b[t].next, t > 0 ? ends[t - 1] : 0);
        s->b[t].end = ends[t];
    }
}

size_t rdm_pool_share_next(rdm_pool_share *s, int tid)
{
    int nb = s->nb, t = tid % nb;
    for (int k = 0; k < nb; k++, t = t + 1 == nb ? 0 : t + 1) {
        /* a block already taken costs a load, not a write to its line */
        if (atomic_load_explicit(&s->b[t].next, memory_order_relaxed) >= s->b[t].end)
            continue;
        size_t i = atomic_fetch_add_explicit(&s->b[t].next, 1, memory_order_relaxed);
        if (i < s->b[t].end)
            return i;
    }
    return SIZE_MAX;
}

int rdm_pool_threads(const rdm_pool *p)
{
    return p ? p->nt : 1;
}

/* Spin until done(obj, v) or the spin time is over: a plain loop first
 * (the other thread is usually about to finish; no pause instruction, which
 * under a hypervisor can make the virtual CPU exit and lose its turn), then
 * yielding (when the machine is busy, the thread being waited for may need
 * this core). Returns 1 when done. */
typedef int (*spin_cond)(void *obj, unsigned long v);

static int spin_until(void *obj, spin_cond done, unsigned long v)
{
    double t0 = 0;
    int yielding = 0;
    for (unsigned k = 1;; k++) {
        if (done(obj, v))
            return 1;
        if (yielding)
            sched_yield();
        if ((k & 31u) == 0) {
            double t = rdm_now();
            if (t0 == 0)
                t0 = t;
            else if (t - t0 > SPIN_YIELD)
                return 0;
            else if (t - t0 > SPIN_BUSY)
                yielding = 1;
        }
    }
}

/* A new generation (other than v), or quit. The loads here and in
 * none_inside are sequentially consistent: a thread about to sleep counts
 * itself (sleepers, waiting) and then checks, the other side changes the
 * state and then checks the count, so one of them sees the other. */
static int new_gen(void *obj, unsigned long v)
{
    rdm_pool *p = obj;
    return (atomic_load(&p->state) >> GEN_SHIFT) != v || atomic_load(&p->quit);
}

/* no thread inside the (closed) job */
static int none_inside(void *obj, unsigned long v)
{
    rdm_pool *p = obj;
    (void)v;
    return (atomic_load(&p->state) & INSIDE_MASK) == 0;
}

static int flag_set(void *obj, unsigned long v)
{
    (void)v;
    return atomic_load_explicit((atomic_int *)obj, memory_order_acquire) != 0;
}

void rdm_pool_await(atomic_int *flag)
{
    while (!spin_until(flag, flag_set, 0))
        ;
}

/* Join generation g if it is still open: 1 when joined. */
static int join(rdm_pool *p, unsigned long g)
{
    unsigned long s = atomic_load(&p->state);
    while ((s >> GEN_SHIFT) == g && (s & OPEN))
        if (atomic_compare_exchange_weak(&p->state, &s, s + 1))
            return 1;
    return 0;
}

static void leave(rdm_pool *p)
{
    unsigned long s = atomic_fetch_sub(&p->state, 1);
    if ((s & INSIDE_MASK) == 1 && atomic_load(&p->waiting)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

static void *worker_main(void *a)
{
    wstart *w = a;
    rdm_pool *p = w->p;
    unsigned long seen = 0;
    for (;;) {
        if (!spin_until(p, new_gen, seen)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (!new_gen(p, seen))
                pthread_cond_wait(&p->go, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = atomic_load(&p->state) >> GEN_SHIFT;
        if (!join(p, seen))
            continue; /* the job ended before this thread came */
        p->fn(p->arg, w->tid, p);
        leave(p);
    }
}

void rdm_pool_free(rdm_pool *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->quit, 1);
        atomic_fetch_add(&p->state, 1UL << GEN_SHIFT);
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->started; i++)
            pthread_join(p->th[i], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->th);
    free(p->ws);
    free(p);
}

rdm_pool *rdm_pool_create(int threads, rdm_err *err)
{
    if (threads < 0) {
        rdm_errf(err, RDM_EINVAL, "pool: %d threads", threads);
        return NULL;
    }
    int nt = threads == 0 ? rdm_ncpu() : threads > RDM_POOL_MAX ? RDM_POOL_MAX : threads;
    rdm_pool *p = aligned_alloc(64, (sizeof *p + 63) / 64 * 64);
    if (!p) {
        rdm_errf(err, RDM_ENOMEM, "pool: out of memory");
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->nt = nt;
    atomic_init(&p->state, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->waiting, 0);
    atomic_init(&p->quit, 0);
    atomic_init(&p->next, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (nt > 1) {
        p->th = calloc((size_t)nt, sizeof *p->th);
        p->ws = calloc((size_t)nt, sizeof *p->ws);
        if (!p->th || !p->ws)
            goto fail;
        for (int i = 1; i < nt; i++) {
            p->ws[i].p = p;
            p->ws[i].tid = i;
            if (pthread_create(&p->th[p->started], NULL, worker_main, &p->ws[i]) != 0)
                goto fail;
            p->started++;
        }
    }
    return p;
fail:
    rdm_pool_free(p);
    rdm_errf(err, RDM_ENOMEM, "pool: cannot start %d threads", nt);
    return NULL;
}

void rdm_pool_run(rdm_pool *p, rdm_pool_job_fn fn, void *arg)
{
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    if (p->nt <= 1) {
        fn(arg, 0, p);
        return;
    }
    /* no thread is inside: the previous job was closed with none left */
    p->fn = fn;
    p->arg = arg;
    unsigned long g = (atomic_load(&p->state) >> GEN_SHIFT) + 1;
    atomic_store(&p->state, g << GEN_SHIFT | OPEN);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, p);
    /* every item is claimed: close the job to latecomers, wait for the rest */
    unsigned long s = atomic_fetch_and(&p->state, ~OPEN);
    if ((s & INSIDE_MASK) == 0 || spin_until(p, none_inside, 0))
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->waiting, 1);
    while (!none_inside(p, 0))
        pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->waiting, 0);
    pthread_mutex_unlock(&p->mu);
}

typedef struct forjob {
    size_t n;
    rdm_pool_item_fn fn;
    void *arg;
} forjob;

static void for_main(void *arg, int tid, rdm_pool *p)
{
    forjob *fj = arg;
    for (size_t i; (i = rdm_pool_next(p)) < fj->n;)
        fj->fn(fj->arg, i, tid);
}

void rdm_pool_for(rdm_pool *p, size_t n, rdm_pool_item_fn fn, void *arg)
{
    if (n == 0)
        return;
    forjob fj = {n, fn, arg};
    if (!p || n == 1 || p->nt <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i, 0);
        return;
    }
    rdm_pool_run(p, for_main, &fj);
}
