/* follower.c - the model follower, in the supervisor: which model to serve.
 * A registry reference ("champion", "challenger", "3", "NAME:3") is followed
 * through LISTEN/NOTIFY with polling as the fallback; a new version is
 * fetched, its checksum and loadability checked, written to the model cache
 * and published to the workers through the shared block. A .model file is
 * read once and again on SIGHUP. The served version is remembered in the
 * cache so that a cold start with the database down still serves. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "model.h"
#include "registry.h"
#include "server.h"

struct srv_follower {
    srv_follow_opts o;
    srv_shared *sh;
    int file_mode;
    int pinned; /* a fixed version: fetched once */
    rdm_db *db;
    double next_connect, connect_backoff, next_poll;
    char failed_sha[65]; /* last champion that failed to load: not retried until it changes */
    long long run_id;    /* run of the published version (0 = not known) */
};

/* ---- the database connection ---- */

static void log_notification(const char *channel, const char *payload, void *ud)
{
    (void)ud;
    rdm_log(RDM_LOG_INFO, "registry: notification %s '%s'", channel, payload);
}

static void db_drop(srv_follower *f, const char *why)
{
    if (f->db) {
        rdm_log(RDM_LOG_WARN, "registry database lost (%s); serving the loaded model, reconnecting",
                why);
        rdm_db_close(f->db);
        f->db = NULL;
    }
    atomic_store(&f->sh->db_ok, 0);
    f->next_connect = rdm_now() + f->connect_backoff;
    f->connect_backoff = f->connect_backoff < 15 ? f->connect_backoff * 2 : 30;
}

static void db_try_connect(srv_follower *f)
{
    if (f->db || rdm_now() < f->next_connect)
        return;
    rdm_err err = {0};
    f->db = rdm_db_connect(f->o.cfg, &err);
    if (!f->db) {
        if (atomic_load(&f->sh->db_ok) != 0 || f->connect_backoff <= 1.0)
            rdm_log(RDM_LOG_WARN, "registry: %s", err.msg);
        atomic_store(&f->sh->db_ok, 0);
        f->next_connect = rdm_now() + f->connect_backoff;
        f->connect_backoff = f->connect_backoff < 15 ? f->connect_backoff * 2 : 30;
        return;
    }
    /* a channel name, not a value: no parameter is involved */
    if (rdm_db_exec(f->db, RDM_SQL_REGISTRY_LISTEN, 0, NULL, &err) != RDM_OK) {
        rdm_log(RDM_LOG_WARN, "registry: LISTEN failed: %s", err.msg);
        db_drop(f, "LISTEN failed");
        return;
    }
    f->connect_backoff = 1.0;
    atomic_store(&f->sh->db_ok, 1);
    rdm_log(RDM_LOG_INFO, "registry database connected; listening on %s", RDM_REGISTRY_CHANNEL);
}

/* The run's validation and test metrics as compact JSON into out ("" when
 * they cannot be read now: tried again on the next check). */
static void run_metrics(srv_follower *f, long long run_id, char *out, size_t n)
{
    out[0] = '\0';
    if (!f->db || run_id <= 0)
        return;
    char id[32];
    snprintf(id, sizeof id, "%lld", run_id);
    const char *p[1] = {id};
    rdm_err err = {0};
    json_t *j = rdm_db_json(f->db, RDM_SQL_REGISTRY_SELECT_RUN_METRICS_JSON, 1, p, &err);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    if (text && strlen(text) < n)
        memcpy(out, text, strlen(text) + 1);
    else
        rdm_log(RDM_LOG_WARN, "registry: metrics of run %lld: %s", run_id,
                j ? "too long to publish" : err.msg);
    free(text);
    json_decref(j);
}

/* ---- the model cache ---- */

static void serving_path(const srv_follower *f, char *out, size_t n)
{
    snprintf(out, n, "%s/serving-%s.txt", f->o.cache_dir, f->o.cfg->registry.model_name);
}

/* Remember what is served, for a cold start while the database is down. */
static void save_serving(srv_follower *f, const srv_model_ref *ref)
{
    char path[1100], text[800];
    serving_path(f, path, sizeof path);
    int n = snprintf(text, sizeof text, "%s %s %s\n", ref->version, ref->sha256, ref->path);
    rdm_err err = {0};
    if (rdm_write_file_atomic(path, text, (size_t)n, &err) != RDM_OK)
        rdm_log(RDM_LOG_WARN, "cannot save %s: %s", path, err.msg);
}

static void load_serving(srv_follower *f)
{
    char path[1100];
    serving_path(f, path, sizeof path);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    srv_model_ref ref;
    memset(&ref, 0, sizeof ref);
    if (fscanf(fp, "%31s %64s %511s", ref.version, ref.sha256, ref.path) == 3 &&
        access(ref.path, R_OK) == 0) {
        snprintf(ref.name, sizeof ref.name, "%s", f->o.cfg->registry.model_name);
        snprintf(ref.alias, sizeof ref.alias, "champion");
        srv_model_publish(f->sh, &ref);
        rdm_log(RDM_LOG_INFO, "database unreachable: serving the cached champion version %s",
                ref.version);
    }
    fclose(fp);
}

/* ---- what to serve ---- */

/* A .model file: read, checksum, publish. */
static void refresh_file(srv_follower *f, int force)
{
    srv_model_ref ref;
    srv_model_ref_read(f->sh, &ref);
    if (!force && ref.path[0])
        return;
    rdm_err err = {0};
    rdm_buf b = RDM_BUF_INIT;
    memset(&ref, 0, sizeof ref);
    if (rdm_read_file(f->o.model_ref, &b, &err) != RDM_OK) {
        atomic_fetch_add(&f->sh->sup_load_failures, 1);
        rdm_log(RDM_LOG_ERROR, "model %s: %s", f->o.model_ref, err.msg);
        rdm_buf_release(&b);
        return;
    }
    rdm_sha256_hex(b.data, b.len, ref.sha256);
    rdm_buf_release(&b);
    snprintf(ref.path, sizeof ref.path, "%s", f->o.model_ref);
    snprintf(ref.name, sizeof ref.name, "%s", f->o.cfg->registry.model_name);
    snprintf(ref.version, sizeof ref.version, "file:%.12s", ref.sha256);
    snprintf(ref.metrics, sizeof ref.metrics, "{}"); /* a file carries none */
    srv_model_publish(f->sh, &ref);
    atomic_fetch_add(&f->sh->sup_loads, 1);
}

/* Fetch the referenced version, check that it loads, cache and publish it. */
static void fetch_publish(srv_follower *f, const srv_model_ref *cur)
{
    rdm_err err = {0};
    rdm_buf b = RDM_BUF_INIT;
    rdm_model_info info;
    memset(&info, 0, sizeof info);
    double t0 = rdm_now();
    if (rdm_registry_fetch(f->db, f->o.cfg, f->o.model_ref, &b, &info, &err) != RDM_OK) {
        atomic_fetch_add(&f->sh->sup_load_failures, 1);
        rdm_log(RDM_LOG_ERROR, "registry: fetching %s failed: %s", f->o.model_ref, err.msg);
        if (!rdm_db_ok(f->db))
            db_drop(f, err.msg);
        rdm_buf_release(&b);
        return;
    }
    /* check it loads before any worker tries it */
    rdm_model *m = rdm_model_load_bytes(b.data, b.len, &err);
    srv_model_ref ref;
    memset(&ref, 0, sizeof ref);
    if (m && !rdm_registry_cache_path(ref.path, sizeof ref.path, f->o.cache_dir, info.sha256))
        rdm_errf(&err, RDM_EINVAL, "no usable model cache path (cache dir \"%s\")", f->o.cache_dir);
    if (!m || !ref.path[0] || rdm_mkdirs(f->o.cache_dir, &err) != RDM_OK ||
        rdm_write_file_atomic(ref.path, b.data, b.len, &err) != RDM_OK) {
        atomic_fetch_add(&f->sh->sup_load_failures, 1);
        snprintf(f->failed_sha, sizeof f->failed_sha, "%s", info.sha256);
        rdm_log(RDM_LOG_ERROR, "model %s version %d does not load (%s); still serving version %s",
                info.name, info.version, err.msg, cur->version[0] ? cur->version : "(none)");
        rdm_model_free(m);
        rdm_buf_release(&b);
        return;
    }
    rdm_model_free(m);
    rdm_buf_release(&b);
    snprintf(ref.name, sizeof ref.name, "%s", info.name);
    snprintf(ref.version, sizeof ref.version, "%d", info.version);
    snprintf(ref.alias, sizeof ref.alias, "%s", info.alias);
    snprintf(ref.sha256, sizeof ref.sha256, "%s", info.sha256);
    f->run_id = info.run_id;
    run_metrics(f, info.run_id, ref.metrics, sizeof ref.metrics);
    srv_model_publish(f->sh, &ref);
    atomic_fetch_add(&f->sh->sup_loads, 1);
    f->failed_sha[0] = '\0';
    save_serving(f, &ref);
    rdm_log(RDM_LOG_INFO, "serving %s version %d sha256=%.12s (fetched in %.1f ms)", info.name,
            info.version, info.sha256, (rdm_now() - t0) * 1e3);
}

/* Check the followed alias; fetch, verify and publish it when it changed. */
static void refresh_registry(srv_follower *f, int force)
{
    db_try_connect(f);
    if (!f->db)
        return;
    rdm_err err = {0};
    int version = 0;
    char sha[65] = "";
    const char *name = f->o.cfg->registry.model_name;
    if (rdm_registry_alias_get(f->db, name, "champion", &version, sha, &err) != RDM_OK) {
        if (!rdm_db_ok(f->db))
            db_drop(f, err.msg);
        else
            rdm_log(RDM_LOG_WARN, "registry: %s", err.msg);
        return;
    }
    atomic_store(&f->sh->db_ok, 1);
    srv_model_ref cur;
    srv_model_ref_read(f->sh, &cur);
    if (cur.path[0] && !cur.metrics[0] && !force && (f->pinned || strcmp(cur.sha256, sha) == 0)) {
        /* served from the cache at a cold start: the metrics, now that the database answers */
        fetch_publish(f, &cur);
        return;
    }
    if (f->pinned) {
        if (cur.path[0] && !force)
            return;
    } else {
        char vtext[32];
        snprintf(vtext, sizeof vtext, "%d", version);
        if (version == 0)
            return; /* no champion yet: workers answer 503 (or keep a cached one) */
        if (!force && strcmp(cur.version, vtext) == 0 && strcmp(cur.sha256, sha) == 0)
            return;
        if (!force && strcmp(f->failed_sha, sha) == 0)
            return;
    }
    fetch_publish(f, &cur);
}

/* ---- the interface ---- */

srv_follower *srv_follower_new(const srv_follow_opts *fo, srv_shared *sh, rdm_err *err)
{
    srv_follower *f = calloc(1, sizeof *f);
    if (!f) {
        rdm_errf(err, RDM_ENOMEM, "out of memory");
        return NULL;
    }
    f->o = *fo;
    f->sh = sh;
    f->file_mode = rdm_registry_ref_is_file(fo->model_ref);
    f->pinned =
        !f->file_mode && !strstr(fo->model_ref, "champion") && !strstr(fo->model_ref, "challenger");
    f->connect_backoff = 1.0;
    atomic_store(&sh->db_ok, f->file_mode ? -1 : 0);
    return f;
}

void srv_follower_free(srv_follower *f)
{
    if (!f)
        return;
    rdm_db_close(f->db);
    free(f);
}

void srv_follower_start(srv_follower *f)
{
    srv_follower_step(f, 0, 0);
    if (!f->file_mode && !f->db)
        load_serving(f);
}

int srv_follower_fd(const srv_follower *f)
{
    return f->db ? rdm_db_socket(f->db) : -1;
}

double srv_follower_wake(const srv_follower *f)
{
    double w = f->next_poll;
    if (!f->file_mode && !f->db && f->next_connect < w)
        w = f->next_connect;
    return w;
}

void srv_follower_step(srv_follower *f, int readable, int force)
{
    int note = 0;
    if (readable && f->db) {
        rdm_err err = {0};
        note = rdm_db_notifications(f->db, log_notification, NULL, &err);
        if (note < 0) {
            db_drop(f, err.msg);
            note = 0;
        }
    }
    double now = rdm_now();
    int due = now >= f->next_poll || (!f->file_mode && !f->db && now >= f->next_connect);
    if (!force && !note && !due && f->next_poll > 0)
        return;
    if (force)
        rdm_log(RDM_LOG_INFO, "SIGHUP: reloading the model");
    if (f->file_mode)
        refresh_file(f, force);
    else
        refresh_registry(f, force);
    f->next_poll = rdm_now() + f->o.cfg->serve.poll_seconds;
}

void srv_follower_forget(srv_follower *f)
{
    if (f && f->db)
        close(rdm_db_socket(f->db));
}
