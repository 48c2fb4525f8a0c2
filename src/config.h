/* config.h - typed configuration loaded from conf/readmit.yaml (libyaml). */
#ifndef RDM_CONFIG_H
#define RDM_CONFIG_H

#include "readmit.h"

/* A list of numbers: a YAML scalar or sequence (grids take several values). */
typedef struct rdm_dlist {
    double *v;
    int n;
} rdm_dlist;

typedef enum {
    RDM_RULE_ALLOWED,
    RDM_RULE_RANGE,
    RDM_RULE_MISSING,
    RDM_RULE_NOT_NULL
} rdm_rule_kind;

/* One validation rule from clean.rules. Row rules (ALLOWED, RANGE,
 * NOT_NULL) reject the row when `hard`, else only count; MISSING is a batch
 * rule on the missing rate of a column: hard fails the stage, soft counts. */
typedef struct rdm_rule {
    char *name;
    char *column;
    int col; /* schema column index */
    rdm_rule_kind kind;
    char **allowed; /* ALLOWED: values (NULL-terminated) */
    int nallowed;
    double min, max;    /* RANGE */
    double max_missing; /* MISSING: fraction in [0,1] */
    int hard;           /* severity: hard (1) or soft (0) */
} rdm_rule;

typedef struct rdm_config {
    char *path; /* file it was loaded from, or NULL for defaults */

    struct {
        char *dsn; /* libpq conninfo; env DATABASE_URL or PGHOST wins; NULL = private cluster */
        char *socket_dir; /* private cluster socket dir (default var/pg/run) */
        char *name;       /* database name of the private cluster (default "readmit") */
    } db;

    struct {
        char *source;          /* CSV or UCI zip; the commands let env READMIT_DATA win */
        long batch_rows;       /* rows per batch, default 15000 */
        long max_field_bytes;  /* longer fields are rejected, default 1024 */
        long max_source_bytes; /* CSV bytes one source may hold (a zip member
                                  may expand to), default 1 GiB */
    } data;

    struct {
        long *exclude_discharge; /* discharge_disposition_id values dropped (expired/hospice) */
        int nexclude;
        long min_rows; /* a batch with fewer valid (clean or duplicate) rows fails validation
                          (default 1) */
        double
            max_reject_rate; /* stage fails if more hard-rejected rows than this (default 0.05) */
        rdm_rule *rules;
        int nrules;
    } clean;

    struct {
        int train_below; /* patient_nbr mod 100 < train_below -> train (70) */
        int valid_below; /* < valid_below -> validation (85), else test */
    } split;

    struct {
        long min_count; /* categorical level needs this many training rows, else "other" (default
                           20) */
        int diag_mode;  /* 0 = frequency rank + chapter (default), 1 = raw code as category */
    } features;

    struct {
        char *metric; /* selection metric on validation: roc_auc (default), pr_auc, log_loss,
                         accuracy */
        int threads;  /* 0 = all cores */
        long seed;
        int logreg_enabled;
        rdm_dlist logreg_l2; /* grid over the L2 penalty */
        int logreg_max_iter;
        double logreg_tol;
        int gbt_enabled;
        rdm_dlist gbt_learning_rate; /* grids */
        rdm_dlist gbt_max_leaves;
        int gbt_max_depth;
        int gbt_max_iter;
        int gbt_max_bins;
        double gbt_min_child_weight;
        double gbt_l2;
        double gbt_subsample;
        double gbt_colsample;
        int gbt_early_stopping;
        int baseline_enabled;
        int bootstrap; /* bootstrap resamples for the test AUC interval (default 200) */
    } train;

    struct {
        char *model_name;  /* registered model name (default "readmission") */
        double min_metric; /* absolute floor on the selection metric */
        double min_gain;   /* required gain over the champion, same validation split */
        char *cache_dir;   /* file cache of model artifacts (default var/models); the
                              commands let env READMIT_MODEL_CACHE win */
    } registry;

    struct {
        int workers;         /* 0 = cores */
        char *socket;        /* FastCGI Unix socket (default var/run/readmit-fcgi.sock) */
        int fcgi_port;       /* TCP instead of the socket when > 0 */
        int http_port;       /* nginx listen port (default 8080) */
        long max_instances;  /* per request (default 1000) */
        long max_body_bytes; /* nginx client_max_body_size (default 8 MiB) */
        int poll_seconds;    /* registry polling fallback (default 5) */
        char *model;         /* what the pool serves: champion, challenger, N, NAME:N or a file */
        int threads;         /* request threads per worker process (default 1) */
        char *user;          /* the pool drops root to this user ("" = stays) */
        char *socket_group;  /* group that may connect to the socket ("" = owner only) */
        double read_timeout; /* seconds for a whole request to arrive (0 = no limit) */
    } serve;

    struct {
        char *dir; /* output directory (default reports) */
    } report;

    struct {
        double log_fraction;  /* share of served predictions logged (default 1.0) */
        char *spill_dir;      /* log records wait here while the database is away (var/spill) */
        long spill_max_bytes; /* per worker; past it records are dropped and counted */
        long buffer_bytes;    /* in-memory log buffer per worker */
        int batch_records;    /* COPY batch size */
        int flush_ms;         /* longest wait before a partial batch is sent */
        long window_rows;     /* > 0: monitor windows of this many predictions */
        long window_seconds;  /* else windows of this length (default one day) */
        long min_rows;        /* windows smaller than this are shown but never alert */
        long drift_rows;      /* logged inputs read per run for drift (a uniform sample) */
        double psi_warn;      /* drift thresholds (0.1 / 0.25) */
        double psi_alert;
        int bootstrap;      /* patient bootstrap resamples of the live AUC */
        int estimate_draws; /* label draws for the estimated-AUC interval */
        int retrain_when;   /* 0 never, 1 drift, 2 auc, 3 drift or auc */
        double auc_floor;   /* realized AUC below this (with min_labels) triggers */
        long min_labels;

        /* formatted log batches waiting in memory; more wait in the queue file */
        long queue_memory_bytes;
    } monitor;
} rdm_config;

/* Deepest nesting of mappings and sequences a config file may have. */
#define RDM_CONFIG_MAX_DEPTH 16

/* Fill `c` with defaults (allocates strings; call rdm_config_release()). */
int rdm_config_defaults(rdm_config *c, rdm_err *err);
/* Load `path` over the current values of `c`. Unknown keys, wrong types and
 * out-of-range values fail with "file:line:column: ..." in err. Reads no
 * environment variable: the command applies READMIT_DATA (and db.c
 * DATABASE_URL/PGHOST). */
int rdm_config_load(rdm_config *c, const char *path, rdm_err *err);
/* Cross-field checks (e.g. split bounds ordered); message in err. */
int rdm_config_validate(const rdm_config *c, rdm_err *err);
/* Set one value by dotted key ("train.gbt.learning_rate=0.05"), as from -o. */
int rdm_config_set(rdm_config *c, const char *key_eq_value, rdm_err *err);
/* The environment variables that set a setting, applied through `lookup`
 * (the command passes getenv; the library reads no environment itself):
 * READMIT_DATA -> data.source, READMIT_MODEL_CACHE -> registry.cache_dir.
 * Unset or empty variables leave the setting alone. Apply before -o. */
int rdm_config_apply_env(rdm_config *c, char *(*lookup)(const char *name), rdm_err *err);
/* Canonical text of one section ("clean", "train", ...), for fingerprints:
 * the same settings always give the same text. Appends to out. */
int rdm_config_section_text(const rdm_config *c, const char *section, rdm_buf *out);
/* The value of one setting appended to out: a string as it is (a conninfo
 * with its password masked), anything else as in rdm_config_yaml().
 * RDM_EINVAL for an unknown key. */
int rdm_config_get(const rdm_config *c, const char *key, rdm_buf *out, rdm_err *err);
/* Name of pipeline stage i (0 = ingest, then clean, train, register, report),
 * or NULL past the last. */
const char *rdm_config_stage(int i);
/* Fingerprint of the settings pipeline stage `stage` reads ("train": the split,
 * features and train sections): 64 hex chars of the SHA-256 of their canonical
 * text. The same settings always give the same fingerprint; training records it
 * with each run, the pipeline re-runs a stage when it changes. RDM_EINVAL for an
 * unknown stage. */
int rdm_config_fingerprint(const rdm_config *c, const char *stage, char out[65], rdm_err *err);
/* The whole configuration as YAML that rdm_config_load() reads back (nested
 * mappings, flow sequences, the rules list). Appends to out. */
int rdm_config_yaml(const rdm_config *c, rdm_buf *out);
/* Free everything the config owns. */
void rdm_config_release(rdm_config *c);

#endif
