/* registry.c - experiment tracking writes, model references, the promotion
 * gate, promote/rollback with an append-only history, and JSON read views. */
#include "registry.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "schema.h"
#include "train.h"

/* ---- small helpers ---- */

static void ll_text(char out[32], long long v)
{
    snprintf(out, 32, "%lld", v);
}

/* First column of the first row into out ("" when NULL); *found = rows > 0. */
static int query_one(rdm_db *db, const char *name, int n, const char *const *params, char *out,
                     size_t outsz, int *found, rdm_err *err)
{
    PGresult *r = rdm_db_query(db, name, n, params, err);
    if (!r)
        return RDM_EDB;
    *found = PQntuples(r) > 0 && PQnfields(r) > 0;
    if (out && outsz)
        snprintf(out, outsz, "%s", *found ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return RDM_OK;
}

int rdm_registry_experiment(rdm_db *db, const char *name, long long *id, rdm_err *err)
{
    const char *p[] = {name};
    char buf[32];
    int found = 0;
    if (query_one(db, "registry_upsert_experiment", 1, p, buf, sizeof buf, &found, err))
        return RDM_EDB;
    *id = atoll(buf);
    return RDM_OK;
}

/* ---- artifacts ---- */

const char *rdm_registry_cache_dir(void)
{
    const char *d = getenv("READMIT_MODEL_CACHE");
    return d && *d ? d : RDM_MODEL_CACHE_DIR;
}

static void cache_path(char out[4096], const char *sha)
{
    snprintf(out, 4096, "%s/%s.model", rdm_registry_cache_dir(), sha);
}

static void cache_write(const char *sha, const void *data, size_t n)
{
    char path[4096];
    rdm_err e = {0};
    cache_path(path, sha);
    if (access(path, R_OK) == 0)
        return;
    if (rdm_mkdirs(rdm_registry_cache_dir(), &e) || rdm_write_file_atomic(path, data, n, &e))
        rdm_log(RDM_LOG_WARN, "registry cache_write path=%s error=\"%s\"", path, e.msg);
}

int rdm_registry_put_artifact(rdm_db *db, const void *data, size_t n, char sha_out[65],
                              rdm_err *err)
{
    rdm_sha256_hex(data, n, sha_out);
    const char *sql = rdm_sql("registry_insert_artifact");
    if (!sql)
        return rdm_errf(err, RDM_EINVAL, "no SQL statement registry_insert_artifact");
    char size[32];
    ll_text(size, (long long)n);
    const char *vals[3] = {sha_out, (const char *)data, size};
    int lens[3] = {0, (int)n, 0};
    int fmts[3] = {0, 1, 0};
    PGresult *r = PQexecParams(rdm_db_conn(db), sql, 3, NULL, vals, lens, fmts, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rdm_errf(err, RDM_EDB, "sql registry_insert_artifact: %s", PQresultErrorMessage(r));
        PQclear(r);
        return RDM_EDB;
    }
    PQclear(r);
    cache_write(sha_out, data, n);
    return RDM_OK;
}

int rdm_registry_get_artifact(rdm_db *db, const char *sha256, rdm_buf *out, rdm_err *err)
{
    char path[4096], got[65];
    cache_path(path, sha256);
    rdm_buf file = RDM_BUF_INIT;
    rdm_err ignore = {0};
    if (rdm_read_file(path, &file, &ignore) == RDM_OK) {
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
    const char *sql = rdm_sql("registry_select_artifact");
    if (!sql)
        return rdm_errf(err, RDM_EINVAL, "no SQL statement registry_select_artifact");
    const char *vals[1] = {sha256};
    PGresult *r = PQexecParams(rdm_db_conn(db), sql, 1, NULL, vals, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rdm_errf(err, RDM_EDB, "sql registry_select_artifact: %s", PQresultErrorMessage(r));
        PQclear(r);
        return RDM_EDB;
    }
    if (PQntuples(r) < 1) {
        PQclear(r);
        return rdm_errf(err, RDM_ENOTFOUND, "artifact %s: not in registry.artifacts", sha256);
    }
    const char *b = PQgetvalue(r, 0, 0);
    size_t n = (size_t)PQgetlength(r, 0, 0);
    rdm_sha256_hex(b, n, got);
    if (strcmp(got, sha256)) {
        PQclear(r);
        return rdm_errf(err, RDM_EINVAL, "artifact %s: stored bytes have sha256 %s", sha256, got);
    }
    cache_write(sha256, b, n);
    int rc = rdm_buf_add(out, b, n);
    PQclear(r);
    return rc ? rdm_errf(err, rc, "out of memory") : RDM_OK;
}

/* ---- run records ---- */

int rdm_registry_put_metrics(rdm_db *db, long long run_id, const char *split, int n,
                             const char *const *keys, const double *values, rdm_err *err)
{
    rdm_buf k = RDM_BUF_INIT, v = RDM_BUF_INIT;
    int rc = rdm_buf_addc(&k, '{') | rdm_buf_addc(&v, '{');
    int first = 1;
    for (int i = 0; i < n && rc == RDM_OK; i++) {
        if (!isfinite(values[i]))
            continue;
        rc = rdm_buf_printf(&k, "%s\"%s\"", first ? "" : ",", keys[i]) |
             rdm_buf_printf(&v, "%s%.17g", first ? "" : ",", values[i]);
        first = 0;
    }
    rc |= rdm_buf_addc(&k, '}') | rdm_buf_addc(&v, '}');
    if (rc) {
        rdm_buf_release(&k);
        rdm_buf_release(&v);
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, split, k.data, v.data};
    rc = first ? RDM_OK : rdm_db_exec(db, "registry_insert_metrics", 4, p, err);
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
    return rdm_db_exec(db, "registry_insert_param", 3, p, err);
}

int rdm_registry_put_curve(rdm_db *db, long long run_id, const char *split, const char *kind,
                           const char *json, rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, split, kind, json};
    return rdm_db_exec(db, "registry_insert_curve", 4, p, err);
}

int rdm_registry_put_tag(rdm_db *db, long long run_id, const char *key, const char *value,
                         rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id, key, value};
    return rdm_db_exec(db, "registry_insert_tag", 3, p, err);
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
static int resolve(rdm_db *db, const char *name, const char *alias, int version,
                   rdm_model_info *info, rdm_err *err)
{
    char vbuf[32];
    snprintf(vbuf, sizeof vbuf, "%d", version);
    const char *p[] = {name, alias ? alias : vbuf};
    PGresult *r =
        rdm_db_query(db, alias ? "registry_select_alias" : "registry_select_version", 2, p, err);
    if (!r)
        return RDM_EDB;
    if (PQntuples(r) < 1) {
        PQclear(r);
        if (alias)
            return rdm_errf(err, RDM_ENOTFOUND, "model '%s' has no %s yet", name, alias);
        return rdm_errf(err, RDM_ENOTFOUND, "model '%s' has no version %d", name, version);
    }
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", name);
    info->version = atoi(PQgetvalue(r, 0, 0));
    snprintf(info->sha256, sizeof info->sha256, "%s", PQgetvalue(r, 0, 1));
    info->run_id = atoll(PQgetvalue(r, 0, 2));
    if (alias)
        snprintf(info->alias, sizeof info->alias, "%s", alias);
    PQclear(r);
    return RDM_OK;
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
    else if (all_digits(rest) && strlen(rest) < 9 && atoi(rest) > 0)
        version = atoi(rest);
    else
        return rdm_errf(err, RDM_EINVAL,
                        "model reference '%s': expected champion, challenger, NAME:VERSION, "
                        "NAME@ALIAS or a file path",
                        ref);
    int rc = resolve(db, name, alias, version, info, err);
    if (rc)
        return rc;
    rc = rdm_registry_get_artifact(db, info->sha256, out, err);
    if (rc)
        rdm_err_prefix(err, "%s version %d", name, info->version);
    return rc;
}

int rdm_registry_alias_get(rdm_db *db, const char *name, const char *alias, int *version,
                           char sha_out[65], rdm_err *err)
{
    const char *p[] = {name, alias};
    PGresult *r = rdm_db_query(db, "registry_select_alias", 2, p, err);
    if (!r)
        return RDM_EDB;
    *version = 0;
    sha_out[0] = '\0';
    if (PQntuples(r) > 0) {
        *version = atoi(PQgetvalue(r, 0, 0));
        snprintf(sha_out, 65, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return RDM_OK;
}

/* ---- aliases and history ---- */

const char *rdm_registry_actor(const char *cmd)
{
    static char buf[160];
    const char *user = getenv("USER");
    if (!user || !*user)
        user = getenv("LOGNAME");
    snprintf(buf, sizeof buf, "%s (readmit %s)", user && *user ? user : "unknown", cmd ? cmd : "?");
    return buf;
}

static int alias_version(rdm_db *db, const char *name, const char *alias, int *version,
                         rdm_err *err)
{
    char sha[65];
    return rdm_registry_alias_get(db, name, alias, version, sha, err);
}

/* Set (to > 0) or remove (to == 0) an alias and append the history row. */
static int set_alias(rdm_db *db, const char *name, const char *alias, int from, int to,
                     const char *action, const char *reason, const char *actor,
                     const char *gate_json, rdm_err *err)
{
    char fb[32], tb[32];
    snprintf(fb, sizeof fb, "%d", from);
    snprintf(tb, sizeof tb, "%d", to);
    int rc;
    if (to > 0) {
        const char *p[] = {name, alias, tb};
        rc = rdm_db_exec(db, "registry_upsert_alias", 3, p, err);
    } else {
        const char *p[] = {name, alias};
        rc = rdm_db_exec(db, "registry_delete_alias", 2, p, err);
    }
    if (rc)
        return rc;
    const char *h[] = {name,  alias,    from > 0 ? fb : NULL, to > 0 ? tb : NULL, action, reason,
                       actor, gate_json};
    return rdm_db_exec(db, "registry_insert_history", 8, h, err);
}

static int notify_champion(rdm_db *db, const char *name, int version, rdm_err *err)
{
    char payload[160];
    snprintf(payload, sizeof payload, "%s:%d", name, version);
    const char *p[] = {RDM_REGISTRY_CHANNEL, payload};
    return rdm_db_exec(db, "registry_notify", 2, p, err);
}

static int lock_name(rdm_db *db, const char *name, rdm_err *err)
{
    const char *p[] = {name};
    return rdm_db_exec(db, "registry_lock_name", 1, p, err);
}

/* ---- register and the gate ---- */

static rdm_model *load_model_sha(rdm_db *db, const char *sha, rdm_err *err)
{
    rdm_buf b = RDM_BUF_INIT;
    rdm_model *m = NULL;
    if (rdm_registry_get_artifact(db, sha, &b, err) == RDM_OK)
        m = rdm_model_load_bytes(b.data, b.len, err);
    rdm_buf_release(&b);
    return m;
}

/* Selection metric of `m` on the validation rows of ds. */
static int score_valid(const rdm_model *m, const rdm_dataset *ds, const rdm_config *cfg,
                       double *out, rdm_err *err)
{
    size_t n = ds->count[RDM_SPLIT_VALID];
    double *p = malloc(sizeof *p * (n ? n : 1));
    if (!p)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    int rc = rdm_score_rows(m, ds, ds->idx[RDM_SPLIT_VALID], n, cfg->train.threads, p, err);
    if (rc == RDM_OK)
        *out = rdm_metric_by_name(cfg->train.metric, p, ds->ys[RDM_SPLIT_VALID], n);
    free(p);
    return rc;
}

static json_t *input_schema_json(const rdm_model *m)
{
    json_t *fields = json_array();
    int n = rdm_model_input_count(m);
    for (int i = 0; i < n; i++) {
        const rdm_input_field *f = rdm_model_input(m, i);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(f->name));
        json_object_set_new(o, "column", json_integer(f->col));
        json_object_set_new(o, "type", json_string(f->categorical ? "categorical" : "integer"));
        if (f->categorical) {
            json_t *lv = json_array();
            for (const char *const *l = f->levels; l && *l; l++)
                json_array_append_new(lv, json_string(*l));
            json_object_set_new(o, "levels", lv);
        } else {
            json_object_set_new(o, "min", json_real(f->min));
            json_object_set_new(o, "max", json_real(f->max));
        }
        json_array_append_new(fields, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "model_type", json_string(rdm_model_type_name(m)));
    json_object_set_new(root, "threshold", json_real(rdm_model_threshold(m)));
    json_object_set_new(root, "fields", fields);
    return root;
}

static json_t *example_json(const rdm_model *m, const rdm_dataset *ds)
{
    json_t *o = json_object();
    if (!ds->count[RDM_SPLIT_VALID])
        return o;
    const char *const *row = ds->cells + ds->idx[RDM_SPLIT_VALID][0] * RDM_NCOLS;
    const rdm_column *cols = rdm_schema_columns();
    json_object_set_new(o, "encounter_id", json_string(row[RDM_C_ENCOUNTER_ID]));
    int n = rdm_model_input_count(m);
    for (int i = 0; i < n; i++) {
        const rdm_input_field *f = rdm_model_input(m, i);
        const char *v = row[f->col];
        json_object_set_new(o, cols[f->col].name, v ? json_string(v) : json_null());
    }
    return o;
}

static char *dump_json(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    return s;
}

static int better_or_equal_floor(const char *metric, double v, double floor)
{
    if (rdm_metric_higher_better(metric))
        return v >= floor;
    return floor <= 0 || v <= floor; /* loss: the floor is a ceiling; 0 disables it */
}

int rdm_registry_register(rdm_db *db, const rdm_config *cfg, rdm_gate_result *res, rdm_err *err)
{
    const char *name = cfg->registry.model_name, *metric = cfg->train.metric;
    memset(res, 0, sizeof *res);
    snprintf(res->metric, sizeof res->metric, "%s", metric);
    res->champion_score = NAN;
    res->new_score = NAN;
    res->min_metric = cfg->registry.min_metric;
    res->min_gain = cfg->registry.min_gain;
    rdm_dataset ds;
    memset(&ds, 0, sizeof ds);
    rdm_model *nm = NULL, *cm = NULL;
    char *schema = NULL, *example = NULL, *gate = NULL;
    int rc = RDM_OK, in_tx = 0;

    /* the selected run of the latest training */
    const char *pn[] = {name};
    PGresult *r = rdm_db_query(db, "registry_select_latest_training", 1, pn, err);
    if (!r)
        return RDM_EDB;
    if (PQntuples(r) < 1 || PQgetisnull(r, 0, 1) || PQgetisnull(r, 0, 2)) {
        int none = PQntuples(r) < 1;
        PQclear(r);
        return rdm_errf(err, RDM_ENOTFOUND,
                        none ? "no finished training of '%s': run readmit train first"
                             : "the latest training of '%s' has no finished run to register",
                        name);
    }
    long long run_id = atoll(PQgetvalue(r, 0, 1));
    char sha[65], run_txt[32];
    snprintf(sha, sizeof sha, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    ll_text(run_txt, run_id);

    rc = rdm_dataset_load(db, cfg, &ds, err);
    if (rc)
        goto done;
    if (!(nm = load_model_sha(db, sha, err))) {
        rc = err && err->code ? err->code : RDM_EPARSE;
        goto done;
    }
    if ((rc = score_valid(nm, &ds, cfg, &res->new_score, err)))
        goto done;

    if ((rc = rdm_db_begin(db, err)))
        goto done;
    in_tx = 1;
    if ((rc = lock_name(db, name, err)))
        goto done;
    {
        const char *p[] = {name, run_txt};
        char vb[32];
        int found = 0;
        if ((rc =
                 query_one(db, "registry_select_version_of_run", 2, p, vb, sizeof vb, &found, err)))
            goto done;
        if (found) {
            res->already = 1;
            res->version = atoi(vb);
            rc = alias_version(db, name, "champion", &res->champion, err);
            goto done;
        }
        int found2 = 0;
        if ((rc = query_one(db, "registry_next_version", 1, pn, vb, sizeof vb, &found2, err)))
            goto done;
        res->version = atoi(vb);
    }
    /* the current champion, re-scored on the same validation rows */
    char csha[65];
    if ((rc = rdm_registry_alias_get(db, name, "champion", &res->old_champion, csha, err)))
        goto done;
    res->had_champion = res->old_champion > 0;
    if (res->had_champion) {
        if (!(cm = load_model_sha(db, csha, err))) {
            rdm_err_prefix(err, "champion version %d", res->old_champion);
            rc = err && err->code ? err->code : RDM_EPARSE;
            goto done;
        }
        if ((rc = score_valid(cm, &ds, cfg, &res->champion_score, err)))
            goto done;
    }
    res->valid_rows = ds.count[RDM_SPLIT_VALID];
    int hb = rdm_metric_higher_better(metric);
    double gain = res->had_champion ? (hb ? res->new_score - res->champion_score
                                          : res->champion_score - res->new_score)
                                    : NAN;
    int floor_ok = better_or_equal_floor(metric, res->new_score, res->min_metric);
    int gain_ok = !res->had_champion || (isfinite(gain) && gain >= res->min_gain);
    res->passed = isfinite(res->new_score) && floor_ok && gain_ok;
    if (res->had_champion)
        snprintf(res->reason, sizeof res->reason,
                 "gate %s: validation %s %.4f %s floor %.4f; gain %+.4f over "
                 "champion v%d "
                 "(%.4f) %s min_gain %.4f; %zu validation rows of snapshot %lld",
                 res->passed ? "passed" : "failed", metric, res->new_score,
                 floor_ok ? "meets" : "misses", res->min_metric, gain, res->old_champion,
                 res->champion_score, gain_ok ? ">=" : "<", res->min_gain, res->valid_rows,
                 ds.snapshot_id);
    else
        snprintf(res->reason, sizeof res->reason,
                 "gate %s: validation %s %.4f %s floor %.4f; no champion; %zu "
                 "validation rows "
                 "of snapshot %lld",
                 res->passed ? "passed" : "failed", metric, res->new_score,
                 floor_ok ? "meets" : "misses", res->min_metric, res->valid_rows, ds.snapshot_id);
    {
        json_t *g = json_object();
        json_object_set_new(g, "metric", json_string(metric));
        json_object_set_new(g, "higher_is_better", json_boolean(hb));
        json_object_set_new(g, "new_version", json_integer(res->version));
        json_object_set_new(g, "new_score",
                            isfinite(res->new_score) ? json_real(res->new_score) : json_null());
        json_object_set_new(g, "champion_version",
                            res->had_champion ? json_integer(res->old_champion) : json_null());
        json_object_set_new(g, "champion_score",
                            isfinite(res->champion_score) ? json_real(res->champion_score)
                                                          : json_null());
        json_object_set_new(g, "gain", isfinite(gain) ? json_real(gain) : json_null());
        json_object_set_new(g, "min_metric", json_real(res->min_metric));
        json_object_set_new(g, "min_gain", json_real(res->min_gain));
        json_object_set_new(g, "floor_ok", json_boolean(floor_ok));
        json_object_set_new(g, "gain_ok", json_boolean(gain_ok));
        json_object_set_new(g, "passed", json_boolean(res->passed));
        json_object_set_new(g, "valid_rows", json_integer((json_int_t)res->valid_rows));
        json_object_set_new(g, "snapshot_id", json_integer(ds.snapshot_id));
        json_object_set_new(g, "data_fingerprint", json_string(ds.fingerprint));
        gate = dump_json(g);
    }
    schema = dump_json(input_schema_json(nm));
    example = dump_json(example_json(nm, &ds));
    if (!gate || !schema || !example) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    {
        char vb[32];
        snprintf(vb, sizeof vb, "%d", res->version);
        const char *p[] = {name, vb, run_txt, sha, schema, example};
        if ((rc = rdm_db_exec(db, "registry_insert_version", 6, p, err)))
            goto done;
    }
    const char *actor = rdm_registry_actor("register");
    if (res->passed) {
        rc = set_alias(db, name, "champion", res->old_champion, res->version, "register",
                       res->reason, actor, gate, err);
        if (rc == RDM_OK)
            rc = notify_champion(db, name, res->version, err);
        res->champion = res->version;
    } else {
        int old_ch = 0;
        rc = alias_version(db, name, "challenger", &old_ch, err);
        if (rc == RDM_OK)
            rc = set_alias(db, name, "challenger", old_ch, res->version, "register", res->reason,
                           actor, gate, err);
        res->champion = res->old_champion;
    }
    if (rc)
        goto done;
    rc = rdm_db_commit(db, err);
    in_tx = 0;
done:
    if (in_tx) {
        if (rc)
            rdm_db_rollback(db);
        else
            rc = rdm_db_commit(db, err);
    }
    free(gate);
    free(schema);
    free(example);
    rdm_model_free(nm);
    rdm_model_free(cm);
    rdm_dataset_release(&ds);
    return rc;
}

static void manual_reason(char *out, size_t n, const char *what, const char *reason)
{
    if (reason && *reason)
        snprintf(out, n, "manual %s: %s", what, reason);
    else
        snprintf(out, n, "manual %s", what);
}

/* Champion -> `to` with history (and challenger removed if it pointed there).
 */
static int move_champion(rdm_db *db, const char *name, int from, int to, const char *action,
                         const char *reason, const char *actor, rdm_err *err)
{
    json_t *g = json_object();
    json_object_set_new(g, "action", json_string(action));
    json_object_set_new(g, "from_version", from ? json_integer(from) : json_null());
    json_object_set_new(g, "to_version", json_integer(to));
    char *gate = dump_json(g);
    int rc = set_alias(db, name, "champion", from, to, action, reason, actor, gate, err);
    int ch = 0;
    if (rc == RDM_OK)
        rc = alias_version(db, name, "challenger", &ch, err);
    if (rc == RDM_OK && ch == to)
        rc = set_alias(db, name, "challenger", ch, 0, action, reason, actor, gate, err);
    if (rc == RDM_OK)
        rc = notify_champion(db, name, to, err);
    free(gate);
    return rc;
}

int rdm_registry_promote(rdm_db *db, const rdm_config *cfg, int version, const char *reason,
                         rdm_gate_result *res, rdm_err *err)
{
    const char *name = cfg->registry.model_name;
    memset(res, 0, sizeof *res);
    res->version = version;
    res->passed = 1;
    int rc = rdm_db_begin(db, err);
    if (rc)
        return rc;
    rdm_model_info info;
    if ((rc = lock_name(db, name, err)) || (rc = resolve(db, name, NULL, version, &info, err)) ||
        (rc = alias_version(db, name, "champion", &res->old_champion, err)))
        goto fail;
    res->had_champion = res->old_champion > 0;
    if (res->old_champion == version) {
        rc = rdm_errf(err, RDM_ESTATE, "version %d of '%s' is already the champion", version, name);
        goto fail;
    }
    manual_reason(res->reason, sizeof res->reason, "promote", reason);
    if ((rc = move_champion(db, name, res->old_champion, version, "promote", res->reason,
                            rdm_registry_actor("promote"), err)))
        goto fail;
    res->champion = version;
    return rdm_db_commit(db, err);
fail:
    rdm_db_rollback(db);
    return rc;
}

int rdm_registry_rollback(rdm_db *db, const rdm_config *cfg, const char *reason,
                          rdm_gate_result *res, rdm_err *err)
{
    const char *name = cfg->registry.model_name;
    memset(res, 0, sizeof *res);
    res->passed = 1;
    int rc = rdm_db_begin(db, err);
    if (rc)
        return rc;
    PGresult *r = NULL;
    int *stack = NULL;
    if ((rc = lock_name(db, name, err)) ||
        (rc = alias_version(db, name, "champion", &res->old_champion, err)))
        goto fail;
    res->had_champion = res->old_champion > 0;
    const char *pn[] = {name};
    if (!(r = rdm_db_query(db, "registry_select_champion_history", 1, pn, err))) {
        rc = RDM_EDB;
        goto fail;
    }
    /* replay: a promotion pushes the champion it replaced, a rollback pops */
    int nh = PQntuples(r), top = 0;
    stack = malloc(sizeof *stack * (size_t)(nh + 1));
    if (!stack) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nh; i++) {
        int from = PQgetisnull(r, i, 0) ? 0 : atoi(PQgetvalue(r, i, 0));
        if (!strcmp(PQgetvalue(r, i, 2), "rollback")) {
            if (top > 0)
                top--;
        } else if (from > 0) {
            stack[top++] = from;
        }
    }
    while (top > 0 && stack[top - 1] == res->old_champion)
        top--;
    if (!res->had_champion || top == 0) {
        rc = rdm_errf(err, RDM_ESTATE, "no previous champion of '%s' to roll back to%s", name,
                      res->had_champion ? "" : " (no champion)");
        goto fail;
    }
    res->version = stack[top - 1];
    manual_reason(res->reason, sizeof res->reason, "rollback", reason);
    if ((rc = move_champion(db, name, res->old_champion, res->version, "rollback", res->reason,
                            rdm_registry_actor("rollback"), err)))
        goto fail;
    res->champion = res->version;
    PQclear(r);
    free(stack);
    return rdm_db_commit(db, err);
fail:
    PQclear(r);
    free(stack);
    rdm_db_rollback(db);
    return rc;
}

/* ---- JSON read views ---- */

static json_t *json_query(rdm_db *db, const char *sql, int n, const char *const *p, rdm_err *err)
{
    PGresult *r = rdm_db_query(db, sql, n, p, err);
    if (!r)
        return NULL;
    json_t *j = NULL;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        json_error_t je;
        j = json_loads(PQgetvalue(r, 0, 0), 0, &je);
        if (!j)
            rdm_errf(err, RDM_EPARSE, "%s: invalid JSON from the database: %s", sql, je.text);
    } else {
        rdm_errf(err, RDM_EDB, "%s: no result", sql);
    }
    PQclear(r);
    return j;
}

json_t *rdm_registry_runs_json(rdm_db *db, long long training_id, rdm_err *err)
{
    char id[32];
    ll_text(id, training_id);
    const char *p[] = {id};
    return json_query(db, "registry_select_runs_json", 1, p, err);
}

json_t *rdm_registry_curves_json(rdm_db *db, long long run_id, rdm_err *err)
{
    char id[32];
    ll_text(id, run_id);
    const char *p[] = {id};
    return json_query(db, "registry_select_curves_json", 1, p, err);
}

json_t *rdm_registry_versions_json(rdm_db *db, const char *name, rdm_err *err)
{
    const char *p[] = {name};
    return json_query(db, "registry_select_versions_json", 1, p, err);
}

json_t *rdm_registry_history_json(rdm_db *db, const char *name, rdm_err *err)
{
    const char *p[] = {name};
    return json_query(db, "registry_select_history_json", 1, p, err);
}

int rdm_registry_status_json(rdm_db *db, const rdm_config *cfg, json_t *into, rdm_err *err)
{
    const char *p[] = {cfg->registry.model_name, cfg->train.metric};
    json_t *j = json_query(db, "registry_select_status_json", 2, p, err);
    if (!j)
        return err && err->code ? err->code : RDM_EDB;
    json_object_set_new(into, "registry", j);
    return RDM_OK;
}
