/* transfer.c - model export and import between installations: the lineage
 * query, the envelope file (envelope.c) and the registry rows an import
 * makes (registry.c and sql/transfer_*.sql). */
#include "transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "model.h"
#include "registry.h"

/* ---- export ---- */

int rdm_transfer_export(rdm_db *db, const rdm_config *cfg, const char *ref, const char *actor,
                        const char *path, rdm_transfer_result *res, rdm_err *err)
{
    memset(res, 0, sizeof *res);
    if (rdm_registry_ref_is_file(ref))
        return rdm_errf(err, RDM_EINVAL,
                        "'%s' is not a registry version (VERSION, NAME:VERSION, champion, "
                        "challenger)",
                        ref);
    rdm_buf model = RDM_BUF_INIT, env = RDM_BUF_INIT;
    rdm_model_info info;
    json_t *lin = NULL;
    int rc = rdm_registry_fetch(db, cfg, ref, &model, &info, err);
    if (rc)
        goto done;
    char vb[32];
    snprintf(vb, sizeof vb, "%d", info.version);
    const char *p[] = {info.name, vb};
    if (!(lin = rdm_db_json(db, RDM_SQL_TRANSFER_SELECT_LINEAGE, 2, p, err))) {
        rc = err && err->code ? err->code : RDM_EDB;
        goto done;
    }
    if (json_object_set_new(lin, "exported_by", json_string(actor ? actor : "unknown")) ||
        json_object_set_new(lin, "exported_with", json_string("readmit " RDM_VERSION))) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = rdm_envelope_pack(lin, model.data, model.len, &env, err)) ||
        (rc = rdm_write_file_atomic(path, env.data, env.len, err)))
        goto done;
    snprintf(res->name, sizeof res->name, "%s", info.name);
    res->version = info.version;
    snprintf(res->sha256, sizeof res->sha256, "%s", info.sha256);
    const char *inst = json_string_value(json_object_get(lin, "installation"));
    snprintf(res->source, sizeof res->source, "%s", inst ? inst : "");
    res->bytes = env.len;
done:
    json_decref(lin);
    rdm_buf_release(&model);
    rdm_buf_release(&env);
    return rc;
}

/* ---- reading an export ---- */

/* The lineage fields an import needs, checked; res gets the source. */
static int check_lineage(const json_t *l, const char *path, const char *sha,
                         rdm_transfer_result *res, rdm_err *err)
{
    static const char *const strings[] = {"installation", "name", "sha256", NULL};
    static const char *const run_strings[] = {"model_type", "config_hash", "code_version", NULL};
    const json_t *run = json_object_get(l, "run");
    for (int i = 0; strings[i]; i++)
        if (!json_is_string(json_object_get(l, strings[i])))
            return rdm_errf(err, RDM_EPARSE, "%s: lineage: field '%s' missing or not text", path,
                            strings[i]);
    if (!json_is_integer(json_object_get(l, "version")) ||
        json_integer_value(json_object_get(l, "version")) < 1 ||
        json_integer_value(json_object_get(l, "version")) > 999999999)
        return rdm_errf(err, RDM_EPARSE, "%s: lineage: field 'version' is not a version number",
                        path);
    if (!json_is_object(json_object_get(l, "input_schema")) ||
        !json_is_object(json_object_get(l, "example_input")) || !json_is_object(run))
        return rdm_errf(err, RDM_EPARSE,
                        "%s: lineage: input_schema, example_input and run must be objects", path);
    for (int i = 0; run_strings[i]; i++)
        if (!json_is_string(json_object_get(run, run_strings[i])))
            return rdm_errf(err, RDM_EPARSE, "%s: lineage: field 'run.%s' missing or not text",
                            path, run_strings[i]);
    if (strcmp(json_string_value(json_object_get(l, "sha256")), sha) != 0)
        return rdm_errf(err, RDM_EINVAL,
                        "%s: the lineage describes model %.12s, the file holds %.12s", path,
                        json_string_value(json_object_get(l, "sha256")), sha);
    snprintf(res->source, sizeof res->source, "%s",
             json_string_value(json_object_get(l, "installation")));
    snprintf(res->source_name, sizeof res->source_name, "%s",
             json_string_value(json_object_get(l, "name")));
    res->source_version = (int)json_integer_value(json_object_get(l, "version"));
    snprintf(res->sha256, sizeof res->sha256, "%s", sha);
    return RDM_OK;
}

/* Read, unpack and check the export at `path`: its lineage and model bytes. */
static int read_export(const char *path, json_t **lineage, rdm_buf *model, rdm_transfer_result *res,
                       rdm_err *err)
{
    rdm_buf file = RDM_BUF_INIT;
    int rc = rdm_read_file(path, &file, err);
    if (rc == RDM_OK)
        rc = rdm_envelope_unpack(file.data, file.len, path, lineage, model, err);
    rdm_buf_release(&file);
    if (rc)
        return rc;
    char sha[65];
    rdm_sha256_hex(model->data, model->len, sha);
    if ((rc = check_lineage(*lineage, path, sha, res, err))) {
        json_decref(*lineage);
        *lineage = NULL;
    }
    return rc;
}

int rdm_transfer_read(const char *path, json_t **lineage, rdm_transfer_result *res, rdm_err *err)
{
    memset(res, 0, sizeof *res);
    rdm_buf model = RDM_BUF_INIT;
    int rc = read_export(path, lineage, &model, res, err);
    rdm_buf_release(&model);
    return rc;
}

/* ---- import ---- */

/* The rows of an import, inside the caller's transaction. */
static int insert_rows(rdm_db *db, const rdm_config *cfg, const json_t *l, const rdm_model *m,
                       const rdm_buf *model, const char *actor, rdm_transfer_result *res,
                       rdm_err *err)
{
    const char *name = cfg->registry.model_name;
    char *text = json_dumps(l, JSON_COMPACT);
    char *schema = json_dumps(json_object_get(l, "input_schema"), JSON_COMPACT);
    char *example = json_dumps(json_object_get(l, "example_input"), JSON_COMPACT);
    char ename[160], eid[32], rid[32], thr[40], vb[32], sha[65];
    long long experiment = 0;
    int rc = text && schema && example ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "out of memory");
    snprintf(ename, sizeof ename, "%s (imported)", name);
    if (rc == RDM_OK)
        rc = rdm_registry_experiment(db, ename, &experiment, err);
    if (rc == RDM_OK)
        rc = rdm_registry_put_artifact(db, cfg->registry.cache_dir, model->data, model->len, sha,
                                       err);
    if (rc == RDM_OK) {
        snprintf(eid, sizeof eid, "%lld", experiment);
        snprintf(thr, sizeof thr, "%.17g", rdm_model_threshold(m));
        const char *p[] = {eid, text, rdm_model_type_name(m), thr, sha};
        rdm_res *r = rdm_db_query(db, RDM_SQL_TRANSFER_INSERT_RUN, 5, p, err);
        if (!r)
            rc = err && err->code ? err->code : RDM_EDB;
        else {
            res->run_id = rdm_res_ll(r, 0, "run_id");
            rc = rdm_res_check(r, err);
            rdm_res_free(r);
        }
    }
    if (rc == RDM_OK) {
        snprintf(rid, sizeof rid, "%lld", res->run_id);
        const char *p[] = {rid, text};
        rdm_res *r = rdm_db_query(db, RDM_SQL_TRANSFER_INSERT_RUN_DETAILS, 2, p, err);
        rc = r ? RDM_OK : err && err->code ? err->code : RDM_EDB;
        rdm_res_free(r);
    }
    if (rc == RDM_OK)
        rc = rdm_registry_put_run_artifact(db, res->run_id, sha, err);
    if (rc == RDM_OK)
        rc = rdm_registry_next_version(db, name, &res->version, err);
    if (rc == RDM_OK)
        rc = rdm_registry_insert_version(db, name, res->version, res->run_id, sha, schema, example,
                                         err);
    if (rc == RDM_OK) {
        snprintf(vb, sizeof vb, "%d", res->version);
        const char *p[] = {name, vb, text, actor ? actor : "unknown"};
        rc = rdm_db_exec(db, RDM_SQL_TRANSFER_INSERT_IMPORT, 4, p, err);
    }
    free(text);
    free(schema);
    free(example);
    return rc;
}

/* The version of `name` holding the model `sha`, 0 when none. */
static int same_model(rdm_db *db, const char *name, const char *sha, int *version, rdm_err *err)
{
    const char *p[] = {name, sha};
    *version = 0;
    rdm_res *r = rdm_db_query(db, RDM_SQL_TRANSFER_SELECT_SAME_MODEL, 2, p, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    if (rdm_res_rows(r) > 0)
        *version = rdm_res_int(r, 0, "version");
    int rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}

int rdm_transfer_import(rdm_db *db, const rdm_config *cfg, const char *path, const char *actor,
                        rdm_transfer_result *res, rdm_err *err)
{
    memset(res, 0, sizeof *res);
    const char *name = cfg->registry.model_name;
    snprintf(res->name, sizeof res->name, "%s", name);
    json_t *l = NULL;
    rdm_buf model = RDM_BUF_INIT;
    rdm_model *m = NULL;
    int rc = read_export(path, &l, &model, res, err);
    if (rc)
        goto done;
    /* a model this readmit cannot load is refused before anything is written */
    if (!(m = rdm_model_load_bytes(model.data, model.len, err))) {
        rc = err && err->code ? err->code : RDM_EPARSE;
        rdm_err_prefix(err, "%s: %s", path, "model.model");
        goto done;
    }
    if ((rc = rdm_db_begin(db, err)))
        goto done;
    int version = 0;
    rc = rdm_registry_lock(db, name, err);
    if (rc == RDM_OK)
        rc = same_model(db, name, res->sha256, &version, err);
    if (rc == RDM_OK && version > 0) {
        res->already = 1;
        res->version = version;
        rdm_db_rollback(db);
        goto done;
    }
    if (rc == RDM_OK)
        rc = insert_rows(db, cfg, l, m, &model, actor, res, err);
    if (rc == RDM_OK)
        rc = rdm_db_commit(db, err);
    if (rc) {
        rdm_db_rollback(db);
        res->version = 0;
        res->run_id = 0;
        rdm_err_prefix(err, "%s", path);
    }
done:
    rdm_model_free(m);
    rdm_buf_release(&model);
    json_decref(l);
    return rc;
}
