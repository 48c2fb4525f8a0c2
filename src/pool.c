/* pool.c - persistent thread pool: workers wait for a job (spinning briefly,
 * then on a condition variable), claim its items from a shared counter, and
 * the caller's thread always takes part. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct wstart {
    rdm_pool *p;
    int tid;
} wstart;

struct rdm_pool {
    int nt;
    pthread_t *th;
    wstart *ws;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_ulong gen;
    atomic_int inside; /* workers running the current job */
    atomic_int quit;
    atomic_size_t next; /* next item of the current job */
    rdm_pool_job_fn fn; /* NULL between jobs */
    void *arg;
};

int rdm_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > RDM_POOL_MAX ? RDM_POOL_MAX : (int)n;
}

size_t rdm_pool_next(rdm_pool *p)
{
    return atomic_fetch_add(&p->next, 1);
}

int rdm_pool_threads(const rdm_pool *p)
{
    return p ? p->nt : 1;
}

/* Yield rather than pause: when the machine is busy, the thread being waited
 * for may need this core. With nothing else runnable, sched_yield returns at
 * once and this is a spin. */
static inline void cpu_relax(void)
{
    sched_yield();
}

/* Spin (yielding) up to ~100 us for *v to differ from `old` (jobs are often
 * only tens of microseconds long: sleeping on a condition variable each time
 * would cost more). */
static void spin_while_eq(atomic_ulong *v, unsigned long old, atomic_int *quit)
{
    double t0 = 0;
    for (unsigned k = 1;; k++) {
        if (atomic_load(v) != old || atomic_load(quit))
            return;
        cpu_relax();
        if ((k & 15u) == 0) {
            double t = rdm_now();
            if (t0 == 0)
                t0 = t;
            else if (t - t0 > 100e-6)
                return;
        }
    }
}

static void *worker_main(void *a)
{
    wstart *w = a;
    rdm_pool *p = w->p;
    unsigned long seen = 0;
    for (;;) {
        spin_while_eq(&p->gen, seen, &p->quit);
        pthread_mutex_lock(&p->mu);
        while (p->gen == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->gen;
        rdm_pool_job_fn fn = p->fn;
        void *arg = p->arg;
        if (fn)
            p->inside++;
        pthread_mutex_unlock(&p->mu);
        if (!fn)
            continue; /* woke after the job had ended */
        fn(arg, w->tid, p);
        pthread_mutex_lock(&p->mu);
        if (--p->inside == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

void rdm_pool_free(rdm_pool *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->quit = 1;
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
    rdm_pool *p = calloc(1, sizeof *p);
    if (!p) {
        rdm_errf(err, RDM_ENOMEM, "pool: out of memory");
        return NULL;
    }
    p->nt = nt;
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
    atomic_store(&p->next, 0);
    if (p->nt <= 1) {
        fn(arg, 0, p);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p);
    /* every item is claimed: close the job to latecomers, wait for the rest */
    pthread_mutex_lock(&p->mu);
    p->fn = NULL;
    p->arg = NULL;
    if (p->inside > 0) {
        /* an item in flight usually ends within microseconds */
        pthread_mutex_unlock(&p->mu);
        double t0 = rdm_now();
        while (atomic_load(&p->inside) > 0 && rdm_now() - t0 < 300e-6)
            cpu_relax();
        pthread_mutex_lock(&p->mu);
        while (p->inside > 0)
            pthread_cond_wait(&p->done, &p->mu);
    }
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
