/* registry.h - storage of experiment tracking and the model registry (schema
 * `registry`, sql/schema/003_registry.sql): trainings, runs, params, metrics,
 * curves, artifacts, model versions, the aliases champion/challenger and the
 * append-only alias history. It stores and reads; gate.h decides.
 *
 * Model references (for predict and the FastCGI server):
 *   "champion", "challenger"           alias of cfg->registry.model_name
 *   "NAME@champion", "NAME@challenger" alias of another registered name
 *   "NAME:N", "N"                      version N of NAME / of the configured name
 *   anything containing '/' or ending in ".model", or an existing file:
 *                                      a file
 */
#ifndef RDM_REGISTRY_H
#define RDM_REGISTRY_H

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "readmit.h"

/* NOTIFY channel sent after every champion change; payload "NAME:VERSION". */
#define RDM_REGISTRY_CHANNEL "readmit_model" /* also in sql/registry_listen.sql */
/* File cache of artifacts: <cache_dir>/<sha256>.model, cache_dir being
 * registry.cache_dir (default var/models, relative to the working directory;
 * the commands let $READMIT_MODEL_CACHE win). NULL: no file cache. */

/* The file cache's path of artifact `sha` in `dir` (written to out, n bytes);
 * 0 (and out empty) when there is no cache (dir NULL or empty) or the path
 * does not fit. */
int rdm_registry_cache_path(char *out, size_t n, const char *dir, const char *sha);

/* ---- tracking (used by train) ---- */

/* Id of the experiment `name`, created if missing. */
int rdm_registry_experiment(rdm_db *db, const char *name, long long *id, rdm_err *err);

/* Store model bytes (content-addressed; a no-op if present) and write the file
 * cache <cache_dir>/<sha256>.model. sha_out gets the hex sha256. */
int rdm_registry_put_artifact(rdm_db *db, const char *cache_dir, const void *data, size_t n,
                              char sha_out[65], rdm_err *err);

/* Fetch artifact bytes by sha256 (appended to out): the file cache when its
 * content matches, else the database (then the cache is refreshed). The
 * sha256 of what is returned is always verified. RDM_ENOTFOUND if absent. */
int rdm_registry_get_artifact(rdm_db *db, const char *cache_dir, const char *sha256, rdm_buf *out,
                              rdm_err *err);

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

/* A version number: decimal digits only (no sign, no spaces), 1 to
 * 999999999. RDM_EINVAL otherwise. */
int rdm_registry_parse_version(const char *s, int *version);

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

/* ---- runs (written by train) ---- */

/* A training (one `readmit train`) and a run (one grid point) as recorded. */
typedef struct rdm_run_rec {
    long long experiment_id, training_id, snapshot_id;
    const char *model_type, *name; /* run only */
    const char *config_hash, *code_version, *data_fingerprint;
    const char *batch_ids;        /* run only: "1,2,3" */
    const char *selection_metric; /* training only */
    size_t rows[3];               /* train, valid, test */
} rdm_run_rec;

int rdm_registry_insert_training(rdm_db *db, const rdm_run_rec *t, long long *training_id,
                                 rdm_err *err);
/* A run in status 'running'. */
int rdm_registry_insert_run(rdm_db *db, const rdm_run_rec *r, long long *run_id, rdm_err *err);
/* The run's model artifact (already stored with rdm_registry_put_artifact). */
int rdm_registry_put_run_artifact(rdm_db *db, long long run_id, const char *sha256, rdm_err *err);
int rdm_registry_finish_run(rdm_db *db, long long run_id, double seconds, double fit_seconds,
                            double threshold, const char *sha256, rdm_err *err);
int rdm_registry_fail_run(rdm_db *db, long long run_id, double seconds, const char *error,
                          rdm_err *err);
/* One training at a time per database: a session lock held from the start of
 * a training to its end (dropped by the server if the process dies). */
int rdm_registry_lock_training(rdm_db *db, rdm_err *err);
void rdm_registry_unlock_training(rdm_db *db);
/* Runs still 'running' that belong to another training than `training_id`
 * (their process died: trainings hold the lock above) become 'failed' with
 * the reason; *n gets how many. Call with the lock held. */
int rdm_registry_fail_stale_runs(rdm_db *db, long long training_id, int *n, rdm_err *err);
/* Mark the selected run (0: none) and end the training. */
int rdm_registry_finish_training(rdm_db *db, long long training_id, long long selected_run_id,
                                 rdm_err *err);

/* ---- versions, aliases, history (moved by gate.c) ---- */

/* Selected run of the latest finished training of `name` and its artifact.
 * RDM_ENOTFOUND (with a message saying what to run) when there is none. */
int rdm_registry_latest_selected(rdm_db *db, const char *name, long long *run_id, char sha[65],
                                 rdm_err *err);
/* Version of `name` made from `run_id`; 0 when none. */
int rdm_registry_version_of_run(rdm_db *db, const char *name, long long run_id, int *version,
                                rdm_err *err);
int rdm_registry_next_version(rdm_db *db, const char *name, int *version, rdm_err *err);
int rdm_registry_insert_version(rdm_db *db, const char *name, int version, long long run_id,
                                const char *sha256, const char *input_schema_json,
                                const char *example_json, rdm_err *err);
/* Version `version` (alias NULL) or alias `alias` of `name`; RDM_ENOTFOUND. */
int rdm_registry_lookup(rdm_db *db, const char *name, const char *alias, int version,
                        rdm_model_info *info, rdm_err *err);
/* Version behind an alias, 0 when unset. */
int rdm_registry_alias_version(rdm_db *db, const char *name, const char *alias, int *version,
                               rdm_err *err);
/* Set (to > 0) or remove (to == 0) an alias and append its history row. */
int rdm_registry_set_alias(rdm_db *db, const char *name, const char *alias, int from, int to,
                           const char *action, const char *reason, const char *actor,
                           const char *gate_json, rdm_err *err);
/* NOTIFY readmit_model 'NAME:VERSION' (delivered at commit). */
int rdm_registry_notify(rdm_db *db, const char *name, int version, rdm_err *err);
/* Serialise alias changes of `name` until the end of the transaction. */
int rdm_registry_lock(rdm_db *db, const char *name, rdm_err *err);

/* One row of the champion's alias history. */
typedef struct rdm_alias_move {
    int from_version; /* 0 when there was no champion */
    int to_version;
    int rollback; /* the move was a rollback */
} rdm_alias_move;

/* The champion's history of `name`, oldest first: *out (free() it), *n rows. */
int rdm_registry_champion_history(rdm_db *db, const char *name, rdm_alias_move **out, int *n,
                                  rdm_err *err);

/* Actor recorded in the history: "WHO (readmit CMD)" into out (n bytes);
 * WHO is what the command names (user@host), "unknown" when NULL or empty. */
void rdm_registry_actor(char *out, size_t n, const char *who, const char *cmd);

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
 * [...]}, "test": {..., "importance": {the explanations of the test split, as
 * rdm_explain_summary gives them}, "subgroups": {performance by patient group,
 * as rdm_mongroups_measure_all gives it}}, "train": {"importance": [...]}}. */
json_t *rdm_registry_curves_json(rdm_db *db, long long run_id, rdm_err *err);
/* Versions of `name`, newest first: [{version, run_id, sha256, created_at,
 * aliases:[...], input_schema, example_input, imported_from: null or
 * {installation, name, version, at, by} (readmit model import)}]. */
json_t *rdm_registry_versions_json(rdm_db *db, const char *name, rdm_err *err);
/* Alias history of `name`, oldest first: [{history_id, at, alias,
 * from_version, to_version, action, reason, actor, gate}]. */
json_t *rdm_registry_history_json(rdm_db *db, const char *name, rdm_err *err);

/* Add "registry" to the object `into` (borrowed; the key is set with
 * json_object_set_new): {model_name, champion, challenger, versions: n,
 * latest_training: {training_id, started_at, runs, finished, failed,
 * selected_run_id}, runs: [last training's runs: run_id, model_type, name,
 * status, valid metric, test metric]}; "latest" is the latest training that
 * ended (one still running, or killed, is never shown as current). For
 * `readmit status`. */
int rdm_registry_status_json(rdm_db *db, const rdm_config *cfg, json_t *into, rdm_err *err);

#endif
