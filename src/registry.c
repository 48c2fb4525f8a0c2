/* registry.c - the registry's storage: experiments, trainings, runs, params,
 * metrics, curves, artifacts, versions, aliases and their history; model
 * references; JSON read views. It stores and reads: the decisions are gate.c's. */
#include "registry.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "schema.h"

/* ---- small helpers ---- */

static void ll_text(char out[32], long long v)
{
    snprintf(out, 32, "%lld", v);
}

/* Integer column `col` of the first row of statement `id` into *out (0 when
 * there is no row); *found (may be NULL) = rows > 0. */
static int query_ll(rdm_db *db, rdm_sql_id id, int n, const char *const *params, const char *col,
                    long long *out, int *found, rdm_err *err)
{
    rdm_res *r = rdm_db_query(db, id, n, params, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    int any = rdm_res_rows(r) > 0;
    *out = any ? rdm_res_ll(r, 0, col) : 0;
    if (found)
        *found = any;
    int rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}

int rdm_registry_experiment(rdm_db *db, const char *name, long long *id, rdm_err *err)
{
    const char *p[] = {name};
    return query_ll(db, RDM_SQL_REGISTRY_UPSERT_EXPERIMENT, 1, p, "experiment_id", id, NULL, err);
}

/* ---- artifacts ---- */

int rdm_registry_cache_path(char *out, size_t n, const char *dir, const char *sha)
{
    if (!dir || !*dir)
        return 0;
    int w = snprintf(out, n, "%s/%s.model", dir, sha);
    if (w > 0 && (size_t)w < n)
        return 1;
    if (n)
        out[0] = '\0';
    return 0;
}

static void cache_write(const char *dir, const char *sha, const void *data, size_t n)
{
    char path[4096];
    rdm_err e = {0};
    if (!rdm_registry_cache_path(path, sizeof path, dir, sha) || access(path, R_OK) == 0)
        return;
    if (rdm_mkdirs(dir, &e) || rdm_write_file_atomic(path, data, n, &e))
        rdm_log(RDM_LOG_WARN, "registry cache_write path=%s error=\"%s\"", path, e.msg);
}

int rdm_registry_put_artifact(rdm_db *db, const char *cache_dir, const void *data, size_t n,
                              char sha_out[65], rdm_err *err)
{
    rdm_sha256_hex(data, n, sha_out);
    if (n > INT_MAX)
        return rdm_errf(err, RDM_EINVAL, "model of %zu bytes is too large to store", n);
    char size[32];
    ll_text(size, (long long)n);
    const char *vals[3] = {sha_out, (const char *)data, size};
    const int lens[3] = {-1, (int)n, -1}; /* the bytes as a binary parameter */
    rdm_res *r = rdm_db_query_bin(db, RDM_SQL_REGISTRY_INSERT_ARTIFACT, 3, vals, lens, 0, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    rdm_res_free(r);
    cache_write(cache_dir, sha_out, data, n);
    return RDM_OK;
}

int rdm_registry_get_artifact(rdm_db *db, const char *cache_dir, const char *sha256, rdm_buf *out,
                              rdm_err *err)
{
    char path[4096], got[65];
    rdm_buf file = RDM_BUF_INIT;
    rdm_err ignore = {0};
    if (rdm_registry_cache_path(path, sizeof path, cache_dir, sha256) &&
        rdm_read_file(path, &file, &ignore) == RDM_OK) {
        rdm_sha256_hex(file.data, file.len, got);
        if (!strcmp(got, sha256)) {
            int rc = rdm_buf_add(out, file.data, file.len);
            rdm_buf_release(&file);
            return rc ? rdm_errf(err, rc, "out of memory") : RDM_OK;
        }
        rdm_log(RDM_LOG_WARN, "registry cache_mismatch path=%s", path);
    }
    rdm_buf_release(&file);
    if (!db)
        return rdm_errf(err, RDM_ENOTFOUND, "artifact %s: not in the file cache", sha256);
    const char *vals[1] = {sha256};
    rdm_res *r = rdm_db_query_bin(db, RDM_SQL_REGISTRY_SELECT_ARTIFACT, 1, vals, NULL, 1, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    int rc = RDM_OK;
    size_t n = 0;
    const char *b = rdm_res_rows(r) > 0 ? rdm_res_bytes(r, 0, "bytes", &n) : NULL;
    if ((rc = rdm_res_check(r, err)))
        goto done;
    if (!b) {
        rc = rdm_errf(err, RDM_ENOTFOUND, "artifact %s: not in registry.artifacts", sha256);
        goto done;
    }
    rdm_sha256_hex(b, n, got);
    if (strcmp(got, sha256)) {
        rc = rdm_errf(err, RDM_EINVAL, "artifact %s: stored bytes have sha256 %s", sha256, got);
        goto done;
    }
    cache_write(cache_dir, sha256, b, n);
    if (rdm_buf_add(out, b, n))
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
done:
    rdm_res_free(r);
    return rc;
}

/* ---- run records ---- */

int rdm_registry_put_metrics(rdm_db *db, long long run_id, const char *split, int n,
                             const char *const *keys, const double *values, rdm_err *err)
{
    rdm_buf k = RDM_BUF_INIT, v = RDM_BUF_INIT;
    int rc = rdm_buf_addc(&k, '{');
    if (rc == RDM_OK)
        rc = rdm_buf_addc(&v, '{');
    int first = 1;
    for (int i = 0; i < n && rc == RDM_OK; i++) {
        if (!isfinite(values[i]))
            continue;
        rc = rdm_buf_printf(&k, "%s\"%s\"", first ? "" : ",", keys[i]);
        if (rc == RDM_OK)
            rc = rdm_buf_printf(&v, "%s%.17g", first ? "" : ",", values[i]);
        first = 0;
    }
    if (rc == RDM_OK)
        rc = rdm_buf_addc(&k, '}');
    if (rc == RDM_OK)
        rc = rdm_buf_addc(&v, '}');
    if (rc) {
        rdm_buf_release(&k);
        rdm_buf_release(&v);
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, split, k.data, v.data};
    rc = first ? RDM_OK : rdm_db_exec(db, RDM_SQL_REGISTRY_INSERT_METRICS, 4, p, err);
    rdm_buf_release(&k);
    rdm_buf_release(&v);
    return rc;
}

int rdm_registry_put_param(rdm_db *db, long long run_id, const char *key, const char *value,
                           rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, key, value};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_INSERT_PARAM, 3, p, err);
}

int rdm_registry_put_curve(rdm_db *db, long long run_id, const char *split, const char *kind,
                           const char *json, rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, split, kind, json};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_INSERT_CURVE, 4, p, err);
}

int rdm_registry_put_tag(rdm_db *db, long long run_id, const char *key, const char *value,
                         rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, key, value};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_INSERT_TAG, 3, p, err);
}

static void size_text(char out[32], size_t v)
{
    snprintf(out, 32, "%zu", v);
}

int rdm_registry_insert_training(rdm_db *db, const rdm_run_rec *t, long long *training_id,
                                 rdm_err *err)
{
    char eid[32], sid[32], r0[32], r1[32], r2[32];
    ll_text(eid, t->experiment_id);
    ll_text(sid, t->snapshot_id);
    size_text(r0, t->rows[0]);
    size_text(r1, t->rows[1]);
    size_text(r2, t->rows[2]);
    const char *p[] = {
        eid, t->config_hash, t->code_version, sid, t->data_fingerprint, t->selection_metric, r0, r1,
        r2};
    return query_ll(db, RDM_SQL_REGISTRY_INSERT_TRAINING, 9, p, "training_id", training_id, NULL,
                    err);
}

int rdm_registry_insert_run(rdm_db *db, const rdm_run_rec *r, long long *run_id, rdm_err *err)
{
    char eid[32], tid[32], sid[32], r0[32], r1[32], r2[32];
    ll_text(eid, r->experiment_id);
    ll_text(tid, r->training_id);
    ll_text(sid, r->snapshot_id);
    size_text(r0, r->rows[0]);
    size_text(r1, r->rows[1]);
    size_text(r2, r->rows[2]);
    const char *p[] = {eid,
                       tid,
                       r->model_type,
                       r->name,
                       r->config_hash,
                       r->code_version,
                       sid,
                       r->data_fingerprint,
                       r->batch_ids,
                       r0,
                       r1,
                       r2};
    return query_ll(db, RDM_SQL_REGISTRY_INSERT_RUN, 12, p, "run_id", run_id, NULL, err);
}

int rdm_registry_put_run_artifact(rdm_db *db, long long run_id, const char *sha256, rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, sha256};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_INSERT_RUN_ARTIFACT, 2, p, err);
}

int rdm_registry_finish_run(rdm_db *db, long long run_id, double seconds, double fit_seconds,
                            double threshold, const char *sha256, rdm_err *err)
{
    char id[32], d[32], f[32], th[32];
    ll_text(id, run_id);
    snprintf(d, sizeof d, "%.6f", seconds);
    snprintf(f, sizeof f, "%.6f", fit_seconds);
    snprintf(th, sizeof th, "%.17g", threshold);
    const char *p[] = {id, d, f, th, sha256};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_FINISH_RUN, 5, p, err);
}

int rdm_registry_fail_run(rdm_db *db, long long run_id, double seconds, const char *error,
                          rdm_err *err)
{
    char id[32], d[32];
    ll_text(id, run_id);
    snprintf(d, sizeof d, "%.6f", seconds);
    const char *p[] = {id, d, error};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_FAIL_RUN, 3, p, err);
}

int rdm_registry_lock_training(rdm_db *db, rdm_err *err)
{
    return rdm_db_exec(db, RDM_SQL_REGISTRY_LOCK_TRAIN, 0, NULL, err);
}

void rdm_registry_unlock_training(rdm_db *db)
{
    rdm_err ignore = {0};
    if (rdm_db_exec(db, RDM_SQL_REGISTRY_UNLOCK_TRAIN, 0, NULL, &ignore))
        rdm_log(RDM_LOG_WARN, "registry: %s", ignore.msg);
}

int rdm_registry_fail_stale_runs(rdm_db *db, long long training_id, int *n, rdm_err *err)
{
    char id[32];
    ll_text(id, training_id);
    const char *p[] = {id};
    *n = 0;
    rdm_res *r = rdm_db_query(db, RDM_SQL_REGISTRY_FAIL_STALE_RUNS, 1, p, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    *n = rdm_res_rows(r);
    for (int i = 0; i < *n; i++)
        rdm_log(RDM_LOG_WARN,
                "registry: run %lld was left running by an interrupted training: marked failed",
                rdm_res_ll(r, i, "run_id"));
    int rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}

int rdm_registry_finish_training(rdm_db *db, long long training_id, long long selected_run_id,
                                 rdm_err *err)
{
    char tid[32], sel[32];
    ll_text(tid, training_id);
    ll_text(sel, selected_run_id);
    const char *p[] = {tid, selected_run_id > 0 ? sel : NULL};
    int rc = rdm_db_exec(db, RDM_SQL_REGISTRY_UPDATE_SELECTED, 2, p, err);
    return rc ? rc : rdm_db_exec(db, RDM_SQL_REGISTRY_FINISH_TRAINING, 2, p, err);
}

/* ---- references ---- */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

int rdm_registry_parse_version(const char *s, int *version)
{
    *version = 0;
    size_t n = strlen(s);
    if (!all_digits(s) || n > 9)
        return RDM_EINVAL;
    int v = atoi(s);
    if (v < 1)
        return RDM_EINVAL;
    *version = v;
    return RDM_OK;
}

int rdm_registry_ref_is_file(const char *ref)
{
    size_t n = strlen(ref);
    if (strchr(ref, '/') || (n > 6 && !strcmp(ref + n - 6, ".model")))
        return 1;
    if (!strcmp(ref, "champion") || !strcmp(ref, "challenger") || all_digits(ref) ||
        strchr(ref, ':') || strchr(ref, '@'))
        return 0;
    return 1; /* anything else can only be a file */
}

/* Lookup by alias or version: fills info (name, version, run_id, sha256). */
int rdm_registry_lookup(rdm_db *db, const char *name, const char *alias, int version,
                        rdm_model_info *info, rdm_err *err)
{
    char vbuf[32];
    snprintf(vbuf, sizeof vbuf, "%d", version);
    const char *p[] = {name, alias ? alias : vbuf};
    rdm_res *r = rdm_db_query(
        db, alias ? RDM_SQL_REGISTRY_SELECT_ALIAS : RDM_SQL_REGISTRY_SELECT_VERSION, 2, p, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    int rc = RDM_OK;
    if (rdm_res_rows(r) < 1) {
        if (alias)
            rc = rdm_errf(err, RDM_ENOTFOUND, "model '%s' has no %s yet", name, alias);
        else
            rc = rdm_errf(err, RDM_ENOTFOUND, "model '%s' has no version %d", name, version);
        goto done;
    }
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", name);
    info->version = rdm_res_int(r, 0, "version");
    rdm_res_copy(r, 0, "sha256", info->sha256, sizeof info->sha256);
    info->run_id = rdm_res_ll(r, 0, "run_id");
    if (alias)
        snprintf(info->alias, sizeof info->alias, "%s", alias);
    rc = rdm_res_check(r, err);
done:
    rdm_res_free(r);
    return rc;
}

int rdm_registry_fetch(rdm_db *db, const rdm_config *cfg, const char *ref, rdm_buf *out,
                       rdm_model_info *info, rdm_err *err)
{
    rdm_model_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    if (!ref || !*ref)
        return rdm_errf(err, RDM_EINVAL, "empty model reference");
    if (rdm_registry_ref_is_file(ref)) {
        size_t before = out->len;
        rdm_err ferr = {0};
        int rc = rdm_read_file(ref, out, &ferr);
        if (rc && !strchr(ref, '/') && access(ref, F_OK) != 0)
            return rdm_errf(err, rc,
                            "'%s' is neither a model file nor a registry reference "
                            "(champion, challenger, VERSION, NAME:VERSION, "
                            "NAME@ALIAS)",
                            ref);
        if (rc)
            return rdm_errf(err, rc, "%s", ferr.msg);
        rdm_sha256_hex(out->data + before, out->len - before, info->sha256);
        return RDM_OK;
    }
    if (!db)
        return rdm_errf(err, RDM_EINVAL, "model reference '%s' needs the database", ref);
    char name[128];
    const char *alias = NULL;
    int version = 0;
    const char *at = strchr(ref, '@'), *colon = strchr(ref, ':');
    snprintf(name, sizeof name, "%s", cfg->registry.model_name);
    const char *rest = ref;
    if (at || colon) {
        const char *sep = at ? at : colon;
        size_t nl = (size_t)(sep - ref);
        if (nl == 0 || nl >= sizeof name)
            return rdm_errf(err, RDM_EINVAL, "model reference '%s': bad model name", ref);
        memcpy(name, ref, nl);
        name[nl] = '\0';
        rest = sep + 1;
    }
    if (!strcmp(rest, "champion") || !strcmp(rest, "challenger"))
        alias = !strcmp(rest, "champion") ? "champion" : "challenger";
    else if (rdm_registry_parse_version(rest, &version) != RDM_OK)
        return rdm_errf(err, RDM_EINVAL,
                        "model reference '%s': expected champion, challenger, NAME:VERSION, "
                        "NAME@ALIAS or a file path",
                        ref);
    int rc = rdm_registry_lookup(db, name, alias, version, info, err);
    if (rc)
        return rc;
    rc = rdm_registry_get_artifact(db, cfg->registry.cache_dir, info->sha256, out, err);
    if (rc)
        rdm_err_prefix(err, "%s version %d", name, info->version);
    return rc;
}

int rdm_registry_alias_get(rdm_db *db, const char *name, const char *alias, int *version,
                           char sha_out[65], rdm_err *err)
{
    const char *p[] = {name, alias};
    *version = 0;
    sha_out[0] = '\0';
    rdm_res *r = rdm_db_query(db, RDM_SQL_REGISTRY_SELECT_ALIAS, 2, p, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    if (rdm_res_rows(r) > 0) {
        *version = rdm_res_int(r, 0, "version");
        rdm_res_copy(r, 0, "sha256", sha_out, 65);
    }
    int rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}

/* ---- aliases and history ---- */

void rdm_registry_actor(char *out, size_t n, const char *who, const char *cmd)
{
    snprintf(out, n, "%s (readmit %s)", who && *who ? who : "unknown", cmd ? cmd : "?");
}

int rdm_registry_alias_version(rdm_db *db, const char *name, const char *alias, int *version,
                               rdm_err *err)
{
    char sha[65];
    return rdm_registry_alias_get(db, name, alias, version, sha, err);
}

int rdm_registry_set_alias(rdm_db *db, const char *name, const char *alias, int from, int to,
                           const char *action, const char *reason, const char *actor,
                           const char *gate_json, rdm_err *err)
{
    char fb[32], tb[32];
    snprintf(fb, sizeof fb, "%d", from);
    snprintf(tb, sizeof tb, "%d", to);
    int rc;
    if (to > 0) {
        const char *p[] = {name, alias, tb};
        rc = rdm_db_exec(db, RDM_SQL_REGISTRY_UPSERT_ALIAS, 3, p, err);
    } else {
        const char *p[] = {name, alias};
        rc = rdm_db_exec(db, RDM_SQL_REGISTRY_DELETE_ALIAS, 2, p, err);
    }
    if (rc)
        return rc;
    const char *h[] = {name,  alias,    from > 0 ? fb : NULL, to > 0 ? tb : NULL, action, reason,
                       actor, gate_json};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_INSERT_HISTORY, 8, h, err);
}

int rdm_registry_notify(rdm_db *db, const char *name, int version, rdm_err *err)
{
    char payload[160];
    snprintf(payload, sizeof payload, "%s:%d", name, version);
    const char *p[] = {RDM_REGISTRY_CHANNEL, payload};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_NOTIFY, 2, p, err);
}

int rdm_registry_lock(rdm_db *db, const char *name, rdm_err *err)
{
    const char *p[] = {name};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_LOCK_NAME, 1, p, err);
}

int rdm_registry_champion_history(rdm_db *db, const char *name, rdm_alias_move **out, int *n,
                                  rdm_err *err)
{
    *out = NULL;
    *n = 0;
    const char *pn[] = {name};
    rdm_res *r = rdm_db_query(db, RDM_SQL_REGISTRY_SELECT_CHAMPION_HISTORY, 1, pn, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    int rows = rdm_res_rows(r), rc = RDM_OK;
    rdm_alias_move *h = calloc((size_t)(rows > 0 ? rows : 1), sizeof *h);
    if (!h) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < rows; i++) {
        h[i].from_version = rdm_res_int(r, i, "from_version"); /* NULL -> 0 */
        h[i].to_version = rdm_res_int(r, i, "to_version");
        const char *action = rdm_res_text(r, i, "action");
        h[i].rollback = action && !strcmp(action, "rollback");
    }
    if ((rc = rdm_res_check(r, err))) {
        free(h);
        goto done;
    }
    *out = h;
    *n = rows;
done:
    rdm_res_free(r);
    return rc;
}

/* ---- versions ---- */

int rdm_registry_latest_selected(rdm_db *db, const char *name, long long *run_id, char sha[65],
                                 rdm_err *err)
{
    *run_id = 0;
    sha[0] = '\0';
    const char *pn[] = {name};
    rdm_res *r = rdm_db_query(db, RDM_SQL_REGISTRY_SELECT_LATEST_TRAINING, 1, pn, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    int rc = RDM_OK;
    if (rdm_res_rows(r) < 1)
        rc = rdm_errf(err, RDM_ENOTFOUND, "no finished training of '%s': run readmit train first",
                      name);
    else if (rdm_res_isnull(r, 0, "selected_run_id") || rdm_res_isnull(r, 0, "artifact_sha256"))
        rc = rdm_errf(err, RDM_ENOTFOUND,
                      "the latest training of '%s' has no finished run to register", name);
    else {
        *run_id = rdm_res_ll(r, 0, "selected_run_id");
        rdm_res_copy(r, 0, "artifact_sha256", sha, 65);
    }
    if (rc == RDM_OK)
        rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}

int rdm_registry_version_of_run(rdm_db *db, const char *name, long long run_id, int *version,
                                rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {name, id};
    long long v = 0;
    int rc = query_ll(db, RDM_SQL_REGISTRY_SELECT_VERSION_OF_RUN, 2, p, "version", &v, NULL, err);
    *version = (int)v;
    return rc;
}

int rdm_registry_next_version(rdm_db *db, const char *name, int *version, rdm_err *err)
{
    const char *p[] = {name};
    long long v = 0;
    int rc = query_ll(db, RDM_SQL_REGISTRY_NEXT_VERSION, 1, p, "version", &v, NULL, err);
    *version = (int)v;
    return rc;
}

int rdm_registry_insert_version(rdm_db *db, const char *name, int version, long long run_id,
                                const char *sha256, const char *input_schema_json,
                                const char *example_json, rdm_err *err)
{
    char vb[32], rb[32];
    snprintf(vb, sizeof vb, "%d", version);
    ll_text(rb, run_id);
    const char *p[] = {name, vb, rb, sha256, input_schema_json, example_json};
    return rdm_db_exec(db, RDM_SQL_REGISTRY_INSERT_VERSION, 6, p, err);
}

/* ---- JSON read views ---- */

json_t *rdm_registry_runs_json(rdm_db *db, long long training_id, rdm_err *err)
{
    char id[32];
    ll_text(id, training_id);
    const char *p[] = {id};
    return rdm_db_json(db, RDM_SQL_REGISTRY_SELECT_RUNS_JSON, 1, p, err);
}

json_t *rdm_registry_curves_json(rdm_db *db, long long run_id, rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id};
    return rdm_db_json(db, RDM_SQL_REGISTRY_SELECT_CURVES_JSON, 1, p, err);
}

json_t *rdm_registry_versions_json(rdm_db *db, const char *name, rdm_err *err)
{
    const char *p[] = {name};
    return rdm_db_json(db, RDM_SQL_REGISTRY_SELECT_VERSIONS_JSON, 1, p, err);
}

json_t *rdm_registry_history_json(rdm_db *db, const char *name, rdm_err *err)
{
    const char *p[] = {name};
    return rdm_db_json(db, RDM_SQL_REGISTRY_SELECT_HISTORY_JSON, 1, p, err);
}

int rdm_registry_status_json(rdm_db *db, const rdm_config *cfg, json_t *into, rdm_err *err)
{
    const char *p[] = {cfg->registry.model_name, cfg->train.metric};
    json_t *j = rdm_db_json(db, RDM_SQL_REGISTRY_SELECT_STATUS_JSON, 2, p, err);
    if (!j)
        return err && err->code ? err->code : RDM_EDB;
    json_object_set_new(into, "registry", j);
    return RDM_OK;
}
