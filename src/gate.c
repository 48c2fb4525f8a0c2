/* gate.c - register / promote / rollback and the promotion gate's decision. */
#include "gate.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "metrics.h"
#include "model.h"
#include "registry.h"
#include "schema.h"

/* ---- the decision ---- */

void rdm_gate_decide(const rdm_gate_input *in, rdm_gate_decision *out)
{
    memset(out, 0, sizeof *out);
    int hb = rdm_metric_higher_better(in->metric);
    int has_ch = in->champion > 0;
    double v = in->new_score;
    out->higher_better = hb;
    out->gain = has_ch ? (hb ? v - in->champion_score : in->champion_score - v) : NAN;
    /* a loss: the floor is a ceiling, and 0 disables it */
    out->floor_ok = hb ? v >= in->min_metric : (in->min_metric <= 0 || v <= in->min_metric);
    out->gain_ok = !has_ch || (isfinite(out->gain) && out->gain >= in->min_gain);
    out->passed = isfinite(v) && out->floor_ok && out->gain_ok;
    out->move = out->passed ? RDM_GATE_TO_CHAMPION : RDM_GATE_TO_CHALLENGER;
    const char *verdict = out->passed ? "passed" : "failed";
    const char *floor = out->floor_ok ? "meets" : "misses";
    if (has_ch)
        snprintf(out->reason, sizeof out->reason,
                 "gate %s: validation %s %.4f %s floor %.4f; gain %+.4f over champion v%d "
                 "(%.4f) %s min_gain %.4f; %zu validation rows of snapshot %lld",
                 verdict, in->metric, v, floor, in->min_metric, out->gain, in->champion,
                 in->champion_score, out->gain_ok ? ">=" : "<", in->min_gain, in->valid_rows,
                 in->snapshot_id);
    else
        snprintf(out->reason, sizeof out->reason,
                 "gate %s: validation %s %.4f %s floor %.4f; no champion; %zu validation rows "
                 "of snapshot %lld",
                 verdict, in->metric, v, floor, in->min_metric, in->valid_rows, in->snapshot_id);
}

int rdm_gate_rollback_target(const rdm_alias_move *h, int n, int champion)
{
    int *stack = malloc(sizeof *stack * (size_t)(n > 0 ? n : 1));
    if (!stack)
        return 0;
    int top = 0;
    for (int i = 0; i < n; i++) {
        if (h[i].rollback) {
            if (top > 0)
                top--;
        } else if (h[i].from_version > 0) {
            stack[top++] = h[i].from_version;
        }
    }
    while (top > 0 && stack[top - 1] == champion)
        top--;
    int v = champion > 0 && top > 0 ? stack[top - 1] : 0;
    free(stack);
    return v;
}

/* ---- register ---- */

static rdm_model *load_model_sha(rdm_db *db, const char *cache_dir, const char *sha, rdm_err *err)
{
    rdm_buf b = RDM_BUF_INIT;
    rdm_model *m = NULL;
    if (rdm_registry_get_artifact(db, cache_dir, sha, &b, err) == RDM_OK)
        m = rdm_model_load_bytes(b.data, b.len, err);
    rdm_buf_release(&b);
    return m;
}

/* Selection metric of `m` on the validation rows of ds. */
static int score_valid(const rdm_model *m, const rdm_dataset *ds, const rdm_config *cfg,
                       rdm_pool *pool, double *out, rdm_err *err)
{
    size_t n = ds->count[RDM_SPLIT_VALID];
    double *p = malloc(sizeof *p * (n ? n : 1));
    if (!p)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    int rc = rdm_score_rows(m, ds, ds->idx[RDM_SPLIT_VALID], n, pool, p, err);
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

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static char *gate_json(const rdm_gate_input *in, const rdm_gate_decision *d, const rdm_dataset *ds)
{
    json_t *g = json_object();
    json_object_set_new(g, "metric", json_string(in->metric));
    json_object_set_new(g, "higher_is_better", json_boolean(d->higher_better));
    json_object_set_new(g, "new_version", json_integer(in->new_version));
    json_object_set_new(g, "new_score", num_or_null(in->new_score));
    json_object_set_new(g, "champion_version",
                        in->champion > 0 ? json_integer(in->champion) : json_null());
    json_object_set_new(g, "champion_score",
                        in->champion > 0 ? num_or_null(in->champion_score) : json_null());
    json_object_set_new(g, "gain", num_or_null(d->gain));
    json_object_set_new(g, "min_metric", json_real(in->min_metric));
    json_object_set_new(g, "min_gain", json_real(in->min_gain));
    json_object_set_new(g, "floor_ok", json_boolean(d->floor_ok));
    json_object_set_new(g, "gain_ok", json_boolean(d->gain_ok));
    json_object_set_new(g, "passed", json_boolean(d->passed));
    json_object_set_new(g, "valid_rows", json_integer((json_int_t)in->valid_rows));
    json_object_set_new(g, "snapshot_id", json_integer(ds->snapshot_id));
    json_object_set_new(g, "data_fingerprint", json_string(ds->fingerprint));
    return dump_json(g);
}

int rdm_gate_register(rdm_db *db, const rdm_config *cfg, const char *actor, rdm_gate_result *res,
                      rdm_err *err)
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
    rdm_pool *pool = NULL;
    char *schema = NULL, *example = NULL, *gate = NULL;
    int in_tx = 0;
    long long run_id = 0;
    char sha[65];

    /* the selected run of the latest training */
    int rc = rdm_registry_latest_selected(db, name, &run_id, sha, err);
    if (rc)
        goto done;
    if ((rc = rdm_dataset_load_split(db, cfg, RDM_SPLIT_VALID, &ds, err)))
        goto done;
    if (!(nm = load_model_sha(db, cfg->registry.cache_dir, sha, err))) {
        rc = err && err->code ? err->code : RDM_EPARSE;
        goto done;
    }
    if (!(pool = rdm_pool_create(cfg->train.threads, err))) {
        rc = err && err->code ? err->code : RDM_ENOMEM;
        goto done;
    }
    if ((rc = score_valid(nm, &ds, cfg, pool, &res->new_score, err)))
        goto done;

    if ((rc = rdm_db_begin(db, err)))
        goto done;
    in_tx = 1;
    int existing = 0;
    if ((rc = rdm_registry_lock(db, name, err)) ||
        (rc = rdm_registry_version_of_run(db, name, run_id, &existing, err)))
        goto done;
    if (existing > 0) {
        res->already = 1;
        res->version = existing;
        rc = rdm_registry_alias_version(db, name, "champion", &res->champion, err);
        goto done;
    }
    if ((rc = rdm_registry_next_version(db, name, &res->version, err)))
        goto done;
    /* the current champion, re-scored on the same validation rows */
    char csha[65];
    if ((rc = rdm_registry_alias_get(db, name, "champion", &res->old_champion, csha, err)))
        goto done;
    res->had_champion = res->old_champion > 0;
    if (res->had_champion) {
        if (!(cm = load_model_sha(db, cfg->registry.cache_dir, csha, err))) {
            rdm_err_prefix(err, "champion version %d", res->old_champion);
            rc = err && err->code ? err->code : RDM_EPARSE;
            goto done;
        }
        if ((rc = score_valid(cm, &ds, cfg, pool, &res->champion_score, err)))
            goto done;
    }
    res->valid_rows = ds.count[RDM_SPLIT_VALID];
    rdm_gate_input in = {
        metric,          res->version,  res->new_score,  res->old_champion, res->champion_score,
        res->min_metric, res->min_gain, res->valid_rows, ds.snapshot_id};
    rdm_gate_decision d;
    rdm_gate_decide(&in, &d);
    res->passed = d.passed;
    snprintf(res->reason, sizeof res->reason, "%s", d.reason);
    gate = gate_json(&in, &d, &ds);
    schema = dump_json(input_schema_json(nm));
    example = dump_json(example_json(nm, &ds));
    if (!gate || !schema || !example) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = rdm_registry_insert_version(db, name, res->version, run_id, sha, schema, example,
                                          err)))
        goto done;
    if (d.move == RDM_GATE_TO_CHAMPION) {
        rc = rdm_registry_set_alias(db, name, "champion", res->old_champion, res->version,
                                    "register", res->reason, actor, gate, err);
        if (rc == RDM_OK)
            rc = rdm_registry_notify(db, name, res->version, err);
        res->champion = res->version;
    } else {
        int old_ch = 0;
        rc = rdm_registry_alias_version(db, name, "challenger", &old_ch, err);
        if (rc == RDM_OK)
            rc = rdm_registry_set_alias(db, name, "challenger", old_ch, res->version, "register",
                                        res->reason, actor, gate, err);
        res->champion = res->old_champion;
    }
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
    rdm_pool_free(pool);
    rdm_dataset_release(&ds);
    return rc;
}

/* ---- promote / rollback ---- */

static void manual_reason(char *out, size_t n, const char *what, const char *reason)
{
    if (reason && *reason)
        snprintf(out, n, "manual %s: %s", what, reason);
    else
        snprintf(out, n, "manual %s", what);
}

/* Champion -> `to` with history (and challenger removed if it pointed there). */
static int move_champion(rdm_db *db, const char *name, int from, int to, const char *action,
                         const char *reason, const char *actor, rdm_err *err)
{
    json_t *g = json_object();
    json_object_set_new(g, "action", json_string(action));
    json_object_set_new(g, "from_version", from ? json_integer(from) : json_null());
    json_object_set_new(g, "to_version", json_integer(to));
    char *gate = dump_json(g);
    int ch = 0;
    int rc = gate ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (rc == RDM_OK)
        rc = rdm_registry_set_alias(db, name, "champion", from, to, action, reason, actor, gate,
                                    err);
    if (rc == RDM_OK)
        rc = rdm_registry_alias_version(db, name, "challenger", &ch, err);
    if (rc == RDM_OK && ch == to)
        rc =
            rdm_registry_set_alias(db, name, "challenger", ch, 0, action, reason, actor, gate, err);
    if (rc == RDM_OK)
        rc = rdm_registry_notify(db, name, to, err);
    free(gate);
    return rc;
}

int rdm_gate_promote(rdm_db *db, const rdm_config *cfg, int version, const char *reason,
                     const char *actor, rdm_gate_result *res, rdm_err *err)
{
    const char *name = cfg->registry.model_name;
    memset(res, 0, sizeof *res);
    res->version = version;
    res->passed = 1;
    rdm_model_info info;
    int rc = rdm_db_begin(db, err);
    if (rc)
        return rc;
    if ((rc = rdm_registry_lock(db, name, err)) ||
        (rc = rdm_registry_lookup(db, name, NULL, version, &info, err)) ||
        (rc = rdm_registry_alias_version(db, name, "champion", &res->old_champion, err)))
        goto done;
    res->had_champion = res->old_champion > 0;
    res->champion = version;
    if (res->old_champion == version) {
        res->already = 1; /* nothing to move: no history row, no notification */
        goto done;
    }
    manual_reason(res->reason, sizeof res->reason, "promote", reason);
    rc = move_champion(db, name, res->old_champion, version, "promote", res->reason, actor, err);
done:
    if (rc)
        rdm_db_rollback(db);
    else
        rc = rdm_db_commit(db, err);
    return rc;
}

int rdm_gate_rollback(rdm_db *db, const rdm_config *cfg, const char *reason, const char *actor,
                      rdm_gate_result *res, rdm_err *err)
{
    const char *name = cfg->registry.model_name;
    memset(res, 0, sizeof *res);
    res->passed = 1;
    rdm_alias_move *hist = NULL;
    int nh = 0;
    int rc = rdm_db_begin(db, err);
    if (rc)
        return rc;
    if ((rc = rdm_registry_lock(db, name, err)) ||
        (rc = rdm_registry_alias_version(db, name, "champion", &res->old_champion, err)) ||
        (rc = rdm_registry_champion_history(db, name, &hist, &nh, err)))
        goto done;
    res->had_champion = res->old_champion > 0;
    res->version = rdm_gate_rollback_target(hist, nh, res->old_champion);
    if (res->version == 0) {
        rc = rdm_errf(err, RDM_ESTATE, "no previous champion of '%s' to roll back to%s", name,
                      res->had_champion ? "" : " (no champion)");
        goto done;
    }
    manual_reason(res->reason, sizeof res->reason, "rollback", reason);
    if ((rc = move_champion(db, name, res->old_champion, res->version, "rollback", res->reason,
                            actor, err)))
        goto done;
    res->champion = res->version;
done:
    free(hist);
    if (rc)
        rdm_db_rollback(db);
    else
        rc = rdm_db_commit(db, err);
    return rc;
}
