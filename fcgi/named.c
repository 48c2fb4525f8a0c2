/* named.c - models named by a request (POST /api/v1/predict?model=REF, for
 * testing a challenger or an older version next to the served model). A
 * worker resolves REF in the registry on its own connection, opened on first
 * use, checks and loads the bytes, and keeps the last few models; an alias is
 * looked up again after serve.poll_seconds. Registry references only: a file
 * path is refused. One request at a time talks to the database. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "model.h"
#include "registry.h"
#include "server.h"

#define NAMED_MAX 4

typedef struct named {
    char ref[64];
    srv_loaded *l;
    double checked; /* when the reference was last resolved */
} named;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static named g_named[NAMED_MAX];
static rdm_db *g_db;

/* Registry references only: NAME:N, N, NAME@alias, an alias; no path. */
int srv_named_ref_ok(const char *ref)
{
    size_t n = strlen(ref);
    if (n == 0 || n >= sizeof g_named[0].ref || rdm_registry_ref_is_file(ref))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = ref[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ':' || c == '@'))
            return 0;
    }
    return 1;
}

/* Fetch and load `ref`; `have` (may be NULL) is kept when the bytes did not change. */
static srv_loaded *fetch(const rdm_config *cfg, const char *ref, srv_loaded *have, rdm_err *err)
{
    if (!g_db && !(g_db = rdm_db_connect(cfg, err)))
        return NULL;
    rdm_buf b = RDM_BUF_INIT;
    rdm_model_info info;
    memset(&info, 0, sizeof info);
    if (rdm_registry_fetch(g_db, cfg, ref, &b, &info, err) != RDM_OK) {
        if (!rdm_db_ok(g_db)) {
            rdm_db_close(g_db);
            g_db = NULL;
        }
        rdm_buf_release(&b);
        return NULL;
    }
    if (have && strcmp(have->ref.sha256, info.sha256) == 0) {
        rdm_buf_release(&b);
        return have;
    }
    rdm_model *m = rdm_model_load_bytes(b.data, b.len, err);
    rdm_buf_release(&b);
    srv_loaded *l = m ? calloc(1, sizeof *l) : NULL;
    if (!l) {
        rdm_model_free(m);
        if (m)
            rdm_errf(err, RDM_ENOMEM, "out of memory");
        return NULL;
    }
    l->model = m;
    l->refs = 1;
    snprintf(l->ref.name, sizeof l->ref.name, "%s", info.name);
    snprintf(l->ref.version, sizeof l->ref.version, "%d", info.version);
    snprintf(l->ref.alias, sizeof l->ref.alias, "%s", info.alias);
    snprintf(l->ref.sha256, sizeof l->ref.sha256, "%s", info.sha256);
    return l;
}

srv_loaded *srv_named_acquire(const rdm_config *cfg, const char *ref, int *status, rdm_err *err)
{
    pthread_mutex_lock(&g_mu);
    named *slot = NULL, *oldest = &g_named[0];
    for (int i = 0; i < NAMED_MAX; i++) {
        if (g_named[i].l && strcmp(g_named[i].ref, ref) == 0)
            slot = &g_named[i];
        if (g_named[i].checked < oldest->checked)
            oldest = &g_named[i];
    }
    double now = rdm_now();
    srv_loaded *l = slot ? slot->l : NULL;
    if (!slot || now - slot->checked >= cfg->serve.poll_seconds) {
        srv_loaded *got = fetch(cfg, ref, l, err);
        if (!got) {
            pthread_mutex_unlock(&g_mu);
            *status = err->code == RDM_ENOTFOUND || err->code == RDM_EINVAL ? 404 : 503;
            return NULL;
        }
        if (!slot) {
            slot = oldest;
            snprintf(slot->ref, sizeof slot->ref, "%s", ref);
        }
        if (got != slot->l) {
            srv_served_release(slot->l);
            slot->l = got;
        }
        slot->checked = now;
        l = got;
    }
    srv_served_hold(l);
    pthread_mutex_unlock(&g_mu);
    *status = 200;
    return l;
}
