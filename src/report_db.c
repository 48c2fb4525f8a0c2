/* report_db.c - read what the report site shows from PostgreSQL: one JSON object plus decoded
 * curves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "registry.h"
#include "report.h"
#include "site.h"

static int set_new(json_t *o, const char *k, json_t *v, rdm_err *err)
{
    if (!v)
        return err && err->code ? err->code : rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    if (json_object_set_new(o, k, v))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    return RDM_OK;
}

/* Loading all curves: ROC and PR decoded into the site's arrays, calibration
 * and importance (small objects) into json {"<run_id>": {split: {kind: ..}}}. */
typedef struct curve_load {
    rdm_report_site *site;
    json_t *json;
    rdm_buf line;
} curve_load;

static json_t *child(json_t *o, const char *k)
{
    json_t *c = json_object_get(o, k);
    if (!c && json_object_set_new(o, k, c = json_object()))
        c = NULL;
    return c;
}

/* ROC and PR rows hold only numbers and punctuation: no COPY escapes, so the
 * points are decoded where libpq left them (NUL-terminated after the '\n'). */
static int pairs_row(curve_load *cl, const char *line, size_t len, int *done, rdm_err *err)
{
    *done = 0;
    const char *t[3], *p = line, *end = line + len;
    for (int k = 0; k < 3; k++) {
        t[k] = memchr(p, '\t', (size_t)(end - p));
        if (!t[k])
            return RDM_OK;
        p = t[k] + 1;
    }
    char run[32], split[16], kind[16];
    size_t lr = (size_t)(t[0] - line), ls = (size_t)(t[1] - t[0] - 1),
           lk = (size_t)(t[2] - t[1] - 1);
    if (lr >= sizeof run || ls >= sizeof split || lk >= sizeof kind)
        return RDM_OK;
    memcpy(kind, t[1] + 1, lk);
    kind[lk] = '\0';
    if (strcmp(kind, "roc") && strcmp(kind, "pr"))
        return RDM_OK;
    if (memchr(line, '\\', len))
        return RDM_OK;
    memcpy(run, line, lr);
    run[lr] = '\0';
    memcpy(split, t[0] + 1, ls);
    split[ls] = '\0';
    size_t lp = (size_t)(end - p);
    if (lp && p[lp - 1] == '\n')
        lp--;
    double *xy;
    int n;
    if (rdm_rpt_parse_pairs(p, lp, &xy, &n))
        return RDM_OK; /* another shape: the general path */
    *done = 1;
    return rdm_rpt_curve_add(cl->site, atoll(run), split, kind, xy, n, err);
}

static int curve_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    curve_load *cl = ud;
    int done = 0, rc = pairs_row(cl, line, len, &done, err);
    if (rc || done)
        return rc;
    rdm_buf_reset(&cl->line);
    if (rdm_buf_add(&cl->line, line, len))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    char *f[4];
    if (rdm_copy_split(cl->line.data, cl->line.len, f, 4) != 4 || !f[0] || !f[1] || !f[2] || !f[3])
        return rdm_errf(err, RDM_EPARSE, "registry.curves: unexpected COPY row");
    const char *run = f[0], *split = f[1], *kind = f[2], *pts = f[3];
    int pairs = !strcmp(kind, "roc") || !strcmp(kind, "pr");
    if (pairs) {
        double *xy;
        int n;
        if (rdm_rpt_parse_pairs(pts, strlen(pts), &xy, &n) == 0)
            return rdm_rpt_curve_add(cl->site, atoll(run), split, kind, xy, n, err);
    }
    json_error_t je;
    json_t *j = json_loads(pts, JSON_DECODE_ANY, &je);
    if (!j)
        return rdm_errf(err, RDM_EPARSE, "registry.curves run %s %s %s: JSON line %d column %d: %s",
                        run, split, kind, je.line, je.column, je.text);
    if (pairs) { /* another shape of [[x, y], ...], e.g. with nulls */
        double *xy;
        int n;
        int bad = rdm_rpt_json_pairs(j, &xy, &n);
        json_decref(j);
        if (bad)
            return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        return rdm_rpt_curve_add(cl->site, atoll(run), split, kind, xy, n, err);
    }
    json_t *sp = child(child(cl->json, run), split);
    if (!sp || json_object_set_new(sp, kind, j))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    return RDM_OK;
}

/* All curves of all runs in one COPY, decoded while the server streams them. */
static json_t *load_curves(rdm_db *db, rdm_report_site *site, rdm_err *err)
{
    curve_load cl = {site, json_object(), RDM_BUF_INIT};
    if (!cl.json) {
        rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        return NULL;
    }
    int rc = rdm_db_copy_out(db, RDM_SQL_REPORT_COPY_CURVES, curve_row, &cl, err);
    rdm_buf_release(&cl.line);
    if (rc) {
        json_decref(cl.json);
        return NULL;
    }
    rdm_rpt_curves_sort(site);
    return cl.json;
}

/* Importance from the model file for runs that stored none (best effort: a
 * model that cannot be read leaves the run without importance). */
static void importance_from_artifacts(rdm_db *db, const char *cache_dir, json_t *site)
{
    json_t *curves = json_object_get(site, "curves");
    size_t i;
    json_t *run;
    json_array_foreach(json_object_get(site, "runs"), i, run)
    {
        const char *sha = rdm_rpt_str(run, "artifact_sha256");
        const char *type = rdm_rpt_str(run, "model_type");
        if (!sha || !type || !strcmp(type, "baseline"))
            continue;
        char id[32];
        snprintf(id, sizeof id, "%lld", rdm_rpt_int(run, "run_id", 0));
        if (json_is_array(rdm_rpt_path(curves, id, "train", "importance")))
            continue;
        rdm_buf bytes = RDM_BUF_INIT;
        rdm_err e = {0};
        rdm_model *m = NULL;
        if (rdm_registry_get_artifact(db, cache_dir, sha, &bytes, &e) == RDM_OK)
            m = rdm_model_load_bytes(bytes.data, bytes.len, &e);
        rdm_buf_release(&bytes);
        if (!m) {
            rdm_log(RDM_LOG_DEBUG, "report run=%s importance unavailable: %s", id, e.msg);
            continue;
        }
        int total = rdm_model_feature_importance(m, NULL, NULL, 0);
        int cap = total < 20 ? total : 20;
        const char *names[20];
        double vals[20];
        int n = cap > 0 ? rdm_model_feature_importance(m, names, vals, cap) : 0;
        n = n < cap ? n : cap;
        json_t *arr = json_array();
        for (int k = 0; arr && k < n; k++)
            json_array_append_new(arr, json_pack("{s:s,s:f}", "feature", names[k] ? names[k] : "?",
                                                 "gain", isfinite(vals[k]) ? vals[k] : 0.0));
        rdm_model_free(m);
        if (!arr)
            continue;
        json_t *per = json_object_get(curves, id);
        if (!per) {
            per = json_object();
            json_object_set_new(curves, id, per);
        }
        json_t *tr = json_object_get(per, "train");
        if (!tr) {
            tr = json_object();
            json_object_set_new(per, "train", tr);
        }
        json_object_set_new(tr, "importance", arr);
    }
}

rdm_report_site *rdm_report_load(rdm_db *db, const rdm_config *cfg, rdm_err *err)
{
    const char *name = cfg->registry.model_name ? cfg->registry.model_name : "readmission";
    rdm_report_site *rs = rdm_report_site_new(json_object(), err);
    if (!rs)
        return NULL;
    json_t *site = rdm_report_site_json(rs);
    json_t *data = json_object();
    if (!data) {
        rdm_report_site_free(rs);
        rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        return NULL;
    }
    int rc = set_new(site, "model_name", json_string(name), err);
    if (!rc)
        rc = set_new(site, "runs", rdm_registry_runs_json(db, 0, err), err);
    if (!rc)
        rc = set_new(site, "versions", rdm_registry_versions_json(db, name, err), err);
    if (!rc)
        rc = set_new(site, "history", rdm_registry_history_json(db, name, err), err);
    if (!rc)
        rc = set_new(site, "curves", load_curves(db, rs, err), err);
    if (!rc)
        rc = set_new(data, "batches", rdm_db_json(db, RDM_SQL_REPORT_SELECT_BATCHES, 0, NULL, err),
                     err);
    if (!rc)
        rc = set_new(data, "snapshots",
                     rdm_db_json(db, RDM_SQL_REPORT_SELECT_SNAPSHOTS, 0, NULL, err), err);
    if (!rc)
        rc = set_new(data, "raw_rejects",
                     rdm_db_json(db, RDM_SQL_REPORT_SELECT_RAW_REJECTS, 0, NULL, err), err);
    if (!rc)
        rc = set_new(data, "clean_rejects",
                     rdm_db_json(db, RDM_SQL_REPORT_SELECT_CLEAN_REJECTS, 0, NULL, err), err);
    if (!rc)
        rc = set_new(data, "validation",
                     rdm_db_json(db, RDM_SQL_REPORT_SELECT_VALIDATION, 0, NULL, err), err);
    if (!rc)
        rc = set_new(data, "suspicious",
                     rdm_db_json(db, RDM_SQL_REPORT_SELECT_SUSPICIOUS, 0, NULL, err), err);
    if (!rc)
        rc = set_new(data, "profile", rdm_db_json(db, RDM_SQL_REPORT_SELECT_PROFILE, 0, NULL, err),
                     err);
    if (rc) {
        rdm_report_site_free(rs);
        json_decref(data);
        return NULL;
    }
    if (json_object_set_new(site, "data", data)) {
        rdm_report_site_free(rs);
        rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        return NULL;
    }
    importance_from_artifacts(db, cfg->registry.cache_dir, site);
    // the latest monitor document (monitor.html); none before the first monitor run
    rdm_err merr = {0};
    json_t *mon = rdm_db_json(db, RDM_SQL_MONITOR_SELECT_LATEST_REPORT, 0, NULL, &merr);
    json_object_set_new(site, "monitor", mon ? mon : json_null());
    return rs;
}
