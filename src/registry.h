/* registry.h - experiment tracking and the model registry (schema `registry`,
 * sql/schema/003_registry.sql): trainings, runs, params, metrics, curves,
 * artifacts, model versions, the aliases champion/challenger and the
 * append-only alias history.
 *
 * Model references (for predict and the FastCGI server):
 *   "champion", "challenger"           alias of cfg->registry.model_name
 *   "NAME@champion", "NAME@challenger" alias of another registered name
 *   "NAME:N", "N"                      version N of NAME / of the configured
 * name anything containing '/' or ending in ".model", or an existing file: a
 * file
 */
#ifndef RDM_REGISTRY_H
#define RDM_REGISTRY_H

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "readmit.h"

/* NOTIFY channel sent after every champion change; payload "NAME:VERSION". */
#define RDM_REGISTRY_CHANNEL "readmit_model" /* also in sql/registry_listen.sql */
/* File cache of artifacts: <dir>/<sha256>.model, dir = $READMIT_MODEL_CACHE
 * or var/models (relative to the working directory). */
#define RDM_MODEL_CACHE_DIR "var/models"
const char *rdm_registry_cache_dir(void);

/* ---- tracking (used by train) ---- */

/* Id of the experiment `name`, created if missing. */
int rdm_registry_experiment(rdm_db *db, const char *name, long long *id, rdm_err *err);

/* Store model bytes (content-addressed; a no-op if present) and write the file
 * cache var/models/<sha256>.model. sha_out gets the hex sha256. */
int rdm_registry_put_artifact(rdm_db *db, const void *data, size_t n, char sha_out[65],
                              rdm_err *err);

/* Fetch artifact bytes by sha256 (appended to out): the file cache when its
 * content matches, else the database (then the cache is refreshed). The
 * sha256 of what is returned is always verified. RDM_ENOTFOUND if absent. */
int rdm_registry_get_artifact(rdm_db *db, const char *sha256, rdm_buf *out, rdm_err *err);

/* Insert several metrics of one run/split at once: keys[i] = values[i]. NaN
 * values are skipped. */
int rdm_registry_put_metrics(rdm_db *db, long long run_id, const char *split, int n,
                             const char *const *keys, const double *values, rdm_err *err);
int rdm_registry_put_param(rdm_db *db, long long run_id, const char *key, const char *value,
                           rdm_err *err);
/* `json` is the points array as JSON text. */
int rdm_registry_put_curve(rdm_db *db, long long run_id, const char *split, const char *kind,
                           const char *json, rdm_err *err);
int rdm_registry_put_tag(rdm_db *db, long long run_id, const char *key, const char *value,
                         rdm_err *err);

/* ---- model references ---- */

/* What a reference resolved to. */
typedef struct rdm_model_info {
    char name[128];   /* registered name ("" for a file) */
    int version;      /* 0 for a file */
    char alias[16];   /* "champion"/"challenger" when resolved through an alias,
                         else "" */
    long long run_id; /* 0 for a file */
    char sha256[65];  /* of the bytes */
} rdm_model_info;

/* 1 when `ref` names a file rather than a registry entry (no database needed).
 */
int rdm_registry_ref_is_file(const char *ref);

/* Resolve `ref` (see the top of this file) and append the model bytes to
 * `out`; `info` (may be NULL) describes what was found. `db` may be NULL for a
 * file reference. Bytes are verified against the registry's sha256. Errors:
 * RDM_ENOTFOUND (no such alias/version/file), RDM_EDB, RDM_EIO, RDM_EINVAL
 * (checksum mismatch or malformed reference). */
int rdm_registry_fetch(rdm_db *db, const rdm_config *cfg, const char *ref, rdm_buf *out,
                       rdm_model_info *info, rdm_err *err);

/* Cheap poll for servers: current version and sha256 of alias `alias` of
 * `name`. *version = 0 (and RDM_OK) when the alias is not set. */
int rdm_registry_alias_get(rdm_db *db, const char *name, const char *alias, int *version,
                           char sha_out[65], rdm_err *err);

/* ---- registry operations (readmit register / promote / rollback) ---- */

/* Outcome of register / promote / rollback, for printing. */
typedef struct rdm_gate_result {
    int version;           /* the new (register) or target (promote/rollback) version */
    int already;           /* register: the selected run was already this version */
    int passed;            /* gate outcome (register), 1 for promote/rollback */
    int had_champion;      /* a champion existed before */
    int old_champion;      /* its version (0 if none) */
    int champion;          /* champion version after the operation */
    char metric[32];       /* selection metric */
    double new_score;      /* new version on the current validation split */
    double champion_score; /* old champion on the same split (NaN if none) */
    double min_metric, min_gain;
    size_t valid_rows;
    char reason[512]; /* as stored in the history */
} rdm_gate_result;

/* Register the selected run of the latest training of cfg->registry.model_name
 * as version N+1 (input schema + an example validation record), then apply the
 * promotion gate: re-score the current champion and the new version on the
 * current validation split (rebuilt from the current clean snapshot). Pass iff
 * new >= min_metric and new - champion >= min_gain (for log_loss: lower is
 * better, so the floor is a ceiling and the gain is champion - new); no
 * champion: the floor only. Pass: champion -> new (the previous champion keeps
 * no alias); fail: challenger -> new. Each alias change is appended to the
 * history; a champion change sends NOTIFY readmit_model 'NAME:VERSION'.
 * Re-running with no new training registers nothing (res->already = 1). */
int rdm_registry_register(rdm_db *db, const rdm_config *cfg, rdm_gate_result *res, rdm_err *err);

/* Make `version` the champion (manual). reason may be NULL ("manual"). */
int rdm_registry_promote(rdm_db *db, const rdm_config *cfg, int version, const char *reason,
                         rdm_gate_result *res, rdm_err *err);

/* Champion back to the previous champion according to the history (promotions
 * push, rollbacks pop). RDM_ESTATE when there is none. */
int rdm_registry_rollback(rdm_db *db, const rdm_config *cfg, const char *reason,
                          rdm_gate_result *res, rdm_err *err);

/* Actor recorded in the history: "$USER (readmit CMD)". Static buffer. */
const char *rdm_registry_actor(const char *cmd);

/* ---- read side (status, reports, serving) ----
 * Each returns a new jansson value owned by the caller (json_decref), or NULL
 * with err. */

/* Runs of `training_id` (0 = all runs), newest first, each:
 * {run_id, training_id, model_type, name, status, error, started_at, ended_at,
 *  duration_s, fit_s, config_hash, code_version, snapshot_id, data_fingerprint,
 *  batch_ids, rows_train, rows_valid, rows_test, threshold, artifact_sha256,
 *  selected, params:{k:v}, valid:{metric:value}, test:{metric:value}} */
json_t *rdm_registry_runs_json(rdm_db *db, long long training_id, rdm_err *err);
/* Curves of one run: {"valid": {"roc": [...], "pr": [...], "calibration":
 * [...]}, "test": {...}, "train": {"importance": [...]}}. */
json_t *rdm_registry_curves_json(rdm_db *db, long long run_id, rdm_err *err);
/* Versions of `name`, newest first: [{version, run_id, sha256, created_at,
 * aliases:[...], input_schema, example_input}]. */
json_t *rdm_registry_versions_json(rdm_db *db, const char *name, rdm_err *err);
/* Alias history of `name`, oldest first: [{history_id, at, alias,
 * from_version, to_version, action, reason, actor, gate}]. */
json_t *rdm_registry_history_json(rdm_db *db, const char *name, rdm_err *err);

/* Add "registry" to the object `into` (borrowed; the key is set with
 * json_object_set_new): {model_name, champion, challenger, versions: n,
 * latest_training: {training_id, started_at, runs, finished, failed,
 * selected_run_id}, runs: [last training's runs: run_id, model_type, name,
 * status, valid metric, test metric]}. For `readmit status`. */
int rdm_registry_status_json(rdm_db *db, const rdm_config *cfg, json_t *into, rdm_err *err);

#endif
