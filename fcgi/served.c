/* served.c - the model one worker process serves: loaded when the supervisor
 * publishes a new generation, swapped under a mutex, reference-counted so
 * that requests in flight finish on the model they started with. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explain.h"
#include "model.h"
#include "server.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static srv_loaded *g_cur;

srv_loaded *srv_served_acquire(void)
{
    pthread_mutex_lock(&g_mu);
    srv_loaded *l = g_cur;
    if (l)
        l->refs++;
    pthread_mutex_unlock(&g_mu);
    return l;
}

void srv_served_hold(srv_loaded *l)
{
    pthread_mutex_lock(&g_mu);
    l->refs++;
    pthread_mutex_unlock(&g_mu);
}

void srv_served_release(srv_loaded *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&g_mu);
    int last = --l->refs == 0;
    pthread_mutex_unlock(&g_mu);
    if (last) {
        rdm_explainer_free(l->explainer);
        rdm_model_free(l->model);
        free(l);
    }
}

/* Make `l` the served model; the previous one goes when its last request ends. */
static void swap_in(srv_loaded *l)
{
    pthread_mutex_lock(&g_mu);
    srv_loaded *old = g_cur;
    g_cur = l;
    pthread_mutex_unlock(&g_mu);
    srv_served_release(old);
}

void srv_served_refresh(srv_shared *sh, srv_slot *slot, int force)
{
    srv_model_ref ref;
    srv_model_ref_read(sh, &ref);
    uint64_t have = atomic_load(&slot->model_gen);
    if (!ref.path[0] || (ref.gen == have && !force))
        return;
    pthread_mutex_lock(&g_mu);
    int same = g_cur && strcmp(g_cur->ref.path, ref.path) == 0 &&
               strcmp(g_cur->ref.sha256, ref.sha256) == 0 &&
               strcmp(g_cur->ref.metrics, ref.metrics) == 0 && !force;
    pthread_mutex_unlock(&g_mu);
    if (same && ref.sha256[0]) {
        atomic_store(&slot->model_gen, ref.gen);
        return;
    }
    rdm_err err = {0};
    double t0 = rdm_now();
    rdm_model *m = rdm_model_load_file(ref.path, &err);
    atomic_store(&slot->model_gen, ref.gen);
    srv_loaded *l = m ? calloc(1, sizeof *l) : NULL;
    if (!l) {
        atomic_fetch_add(&slot->model_load_failures, 1);
        rdm_log(RDM_LOG_ERROR, "worker pid=%d model load failed path=%s version=%s: %s",
                (int)getpid(), ref.path, ref.version, m ? "out of memory" : err.msg);
        rdm_model_free(m);
        return;
    }
    l->model = m;
    l->explainer =
        rdm_explainer_create(m, NULL); /* "explain": true builds one per request without */
    l->refs = 1;
    l->ref = ref;
    swap_in(l);
    memset(slot->model_version, 0, sizeof slot->model_version);
    memcpy(slot->model_version, l->ref.version, sizeof slot->model_version - 1);
    atomic_fetch_add(&slot->model_loads, 1);
    rdm_log(RDM_LOG_INFO, "worker pid=%d model loaded name=%s version=%s ms=%.1f", (int)getpid(),
            l->ref.name, l->ref.version, (rdm_now() - t0) * 1e3);
}
