/* config.c - the settings table and what is done with it as a whole.
 *
 * One table (rdm_cfg_keys) describes every setting: dotted key, type, where it
 * lives in rdm_config, default (as text, parsed by the same code as the file),
 * range. The table drives defaults, loading and -o overrides
 * (config_yaml.c), range checks, printing and the canonical section text used
 * for fingerprints (config_text.c). Here: the table, the default validation
 * rules, defaults, the environment variables that set a setting, the checks
 * across settings, release. */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "metrics.h"
#include "schema.h"

#define METRICS rdm_metric_names /* the one list, in metrics.c */
static const char *const DIAG_MODES[] = {"rank_chapter", "code", NULL};
static const char *const RETRAIN_WHEN[] = {"never", "drift", "auc", "drift_or_auc", NULL};

#define OFF(m) offsetof(rdm_config, m)
#define BIG    1e15

const key_def rdm_cfg_keys[] = {
    {"db.dsn", T_STR, OFF(db.dsn), 0, "null", 0, 0, F_NULLABLE | F_SECRET, NULL},
    {"db.socket_dir", T_STR, OFF(db.socket_dir), 0, "var/pg/run", 0, 0, F_NONEMPTY, NULL},
    {"db.name", T_STR, OFF(db.name), 0, "readmit", 0, 0, F_NONEMPTY, NULL},
    {"data.source", T_STR, OFF(data.source), 0, "data/dataset_diabetes.zip", 0, 0, F_NONEMPTY,
     NULL},
    {"data.batch_rows", T_LONG, OFF(data.batch_rows), 0, "15000", 1, 10000000, 0, NULL},
    {"data.max_field_bytes", T_LONG, OFF(data.max_field_bytes), 0, "1024", 1, 1048576, 0, NULL},
    {"data.max_source_bytes", T_LONG, OFF(data.max_source_bytes), 0, "1073741824", 1, BIG, 0, NULL},
    {"clean.exclude_discharge", T_LLIST, OFF(clean.exclude_discharge), OFF(clean.nexclude),
     "[11, 13, 14, 19, 20, 21]", 1, 99, 0, NULL},
    {"clean.min_rows", T_LONG, OFF(clean.min_rows), 0, "1", 0, 1e9, 0, NULL},
    {"clean.max_reject_rate", T_DBL, OFF(clean.max_reject_rate), 0, "0.05", 0, 1, 0, NULL},
    {"clean.rules", T_RULES, OFF(clean.rules), OFF(clean.nrules), NULL, 0, 0, 0, NULL},
    {"split.train_below", T_INT, OFF(split.train_below), 0, "70", 1, 99, 0, NULL},
    {"split.valid_below", T_INT, OFF(split.valid_below), 0, "85", 2, 100, 0, NULL},
    {"features.min_count", T_LONG, OFF(features.min_count), 0, "20", 0, 1e9, 0, NULL},
    {"features.diag", T_ENUM, OFF(features.diag_mode), 0, "rank_chapter", 0, 0, 0, DIAG_MODES},
    {"train.metric", T_ESTR, OFF(train.metric), 0, "roc_auc", 0, 0, 0, METRICS},
    {"train.threads", T_INT, OFF(train.threads), 0, "0", 0, 1024, F_NOFP, NULL},
    {"train.seed", T_LONG, OFF(train.seed), 0, "42", 0, 4294967295.0, 0, NULL},
    {"train.bootstrap", T_INT, OFF(train.bootstrap), 0, "200", 0, 100000, 0, NULL},
    {"train.baseline.enabled", T_BOOL, OFF(train.baseline_enabled), 0, "true", 0, 0, 0, NULL},
    {"train.logreg.enabled", T_BOOL, OFF(train.logreg_enabled), 0, "true", 0, 0, 0, NULL},
    {"train.logreg.l2", T_DLIST, OFF(train.logreg_l2), 0, "[10, 33.3, 100]", 0, 1e6, 0, NULL},
    {"train.logreg.max_iter", T_INT, OFF(train.logreg_max_iter), 0, "200", 1, 100000, 0, NULL},
    {"train.logreg.tol", T_DBL, OFF(train.logreg_tol), 0, "1.0e-6", 0, 1, 0, NULL},
    {"train.gbt.enabled", T_BOOL, OFF(train.gbt_enabled), 0, "true", 0, 0, 0, NULL},
    {"train.gbt.learning_rate", T_DLIST, OFF(train.gbt_learning_rate), 0, "[0.05, 0.1]", 0.0001, 1,
     0, NULL},
    {"train.gbt.max_leaves", T_DLIST, OFF(train.gbt_max_leaves), 0, "[31]", 2, 4096, F_INTEGRAL,
     NULL},
    {"train.gbt.max_depth", T_INT, OFF(train.gbt_max_depth), 0, "0", 0, 64, 0, NULL},
    {"train.gbt.max_iter", T_INT, OFF(train.gbt_max_iter), 0, "1000", 1, 100000, 0, NULL},
    {"train.gbt.max_bins", T_INT, OFF(train.gbt_max_bins), 0, "255", 2, 255, 0, NULL},
    {"train.gbt.min_child_weight", T_DBL, OFF(train.gbt_min_child_weight), 0, "20", 0, 1e9, 0,
     NULL},
    {"train.gbt.l2", T_DBL, OFF(train.gbt_l2), 0, "20", 0, 1e9, 0, NULL},
    {"train.gbt.subsample", T_DBL, OFF(train.gbt_subsample), 0, "1.0", 0.01, 1, 0, NULL},
    {"train.gbt.colsample", T_DBL, OFF(train.gbt_colsample), 0, "1.0", 0.01, 1, 0, NULL},
    {"train.gbt.early_stopping", T_INT, OFF(train.gbt_early_stopping), 0, "20", 0, 100000, 0, NULL},
    {"registry.model_name", T_STR, OFF(registry.model_name), 0, "readmission", 0, 0, F_NONEMPTY,
     NULL},
    {"registry.min_metric", T_DBL, OFF(registry.min_metric), 0, "0.55", 0, 1e9, 0, NULL},
    {"registry.min_gain", T_DBL, OFF(registry.min_gain), 0, "0.001", -1, 1, 0, NULL},
    {"registry.cache_dir", T_STR, OFF(registry.cache_dir), 0, "var/models", 0, 0,
     F_NONEMPTY | F_NOFP, NULL},
    {"serve.workers", T_INT, OFF(serve.workers), 0, "0", 0, 1024, 0, NULL},
    {"serve.socket", T_STR, OFF(serve.socket), 0, "var/run/readmit-fcgi.sock", 0, 0, F_NONEMPTY,
     NULL},
    {"serve.fcgi_port", T_INT, OFF(serve.fcgi_port), 0, "0", 0, 65535, 0, NULL},
    {"serve.http_port", T_INT, OFF(serve.http_port), 0, "8080", 1, 65535, 0, NULL},
    {"serve.max_instances", T_LONG, OFF(serve.max_instances), 0, "1000", 1, 10000000, 0, NULL},
    {"serve.max_body_bytes", T_LONG, OFF(serve.max_body_bytes), 0, "8388608", 1024, 1073741824, 0,
     NULL},
    {"serve.poll_seconds", T_INT, OFF(serve.poll_seconds), 0, "5", 1, 3600, 0, NULL},
    {"serve.model", T_STR, OFF(serve.model), 0, "champion", 0, 0, F_NONEMPTY, NULL},
    {"serve.threads", T_INT, OFF(serve.threads), 0, "1", 1, 256, 0, NULL},
    {"serve.user", T_STR, OFF(serve.user), 0, "\"\"", 0, 0, 0, NULL},
    {"serve.socket_group", T_STR, OFF(serve.socket_group), 0, "\"\"", 0, 0, 0, NULL},
    {"serve.read_timeout", T_DBL, OFF(serve.read_timeout), 0, "10", 0, 3600, 0, NULL},
    {"report.dir", T_STR, OFF(report.dir), 0, "reports", 0, 0, F_NONEMPTY, NULL},
    {"monitor.log_fraction", T_DBL, OFF(monitor.log_fraction), 0, "1.0", 0, 1, 0, NULL},
    {"monitor.spill_dir", T_STR, OFF(monitor.spill_dir), 0, "var/spill", 0, 0, F_NONEMPTY, NULL},
    {"monitor.spill_max_bytes", T_LONG, OFF(monitor.spill_max_bytes), 0, "268435456", 0, 1e12, 0,
     NULL},
    {"monitor.buffer_bytes", T_LONG, OFF(monitor.buffer_bytes), 0, "16777216", 65536, 1e10, 0,
     NULL},
    {"monitor.queue_memory_bytes", T_LONG, OFF(monitor.queue_memory_bytes), 0, "4194304", 0, 1e10,
     0, NULL},
    {"monitor.batch_records", T_INT, OFF(monitor.batch_records), 0, "1000", 1, 1000000, 0, NULL},
    {"monitor.flush_ms", T_INT, OFF(monitor.flush_ms), 0, "100", 1, 60000, 0, NULL},
    {"monitor.window_rows", T_LONG, OFF(monitor.window_rows), 0, "0", 0, 1e9, 0, NULL},
    {"monitor.window_seconds", T_LONG, OFF(monitor.window_seconds), 0, "86400", 1, 1e9, 0, NULL},
    {"monitor.min_rows", T_LONG, OFF(monitor.min_rows), 0, "200", 1, 1e9, 0, NULL},
    {"monitor.drift_rows", T_LONG, OFF(monitor.drift_rows), 0, "20000", 1, 1e12, 0, NULL},
    {"monitor.psi_warn", T_DBL, OFF(monitor.psi_warn), 0, "0.1", 0, 100, 0, NULL},
    {"monitor.psi_alert", T_DBL, OFF(monitor.psi_alert), 0, "0.25", 0, 100, 0, NULL},
    {"monitor.bootstrap", T_INT, OFF(monitor.bootstrap), 0, "100", 0, 100000, 0, NULL},
    {"monitor.estimate_draws", T_INT, OFF(monitor.estimate_draws), 0, "30", 0, 100000, 0, NULL},
    {"monitor.retrain_when", T_ENUM, OFF(monitor.retrain_when), 0, "drift_or_auc", 0, 0, 0,
     RETRAIN_WHEN},
    {"monitor.auc_floor", T_DBL, OFF(monitor.auc_floor), 0, "0.6", 0, 1, 0, NULL},
    {"monitor.min_labels", T_LONG, OFF(monitor.min_labels), 0, "500", 1, 1e9, 0, NULL},
};
const int rdm_cfg_nkeys = (int)(sizeof rdm_cfg_keys / sizeof rdm_cfg_keys[0]);

/* Default validation rules: none of them rejects a row of the UCI data set.
 * Row rules (allowed, min/max) look at present values only; missing values are
 * the business of not_null and max_missing. The allowed levels and the ranges
 * are the schema's (schema.c): a rule names its column and takes them from there. */
typedef struct rule_def {
    const char *name, *column;
    rdm_rule_kind kind;
    double max_missing; /* MISSING */
    int hard;
} rule_def;

#define R_ALLOWED(n, c)              \
    {                                \
        n, c, RDM_RULE_ALLOWED, 0, 1 \
    }
#define R_RANGE(n, c)              \
    {                              \
        n, c, RDM_RULE_RANGE, 0, 1 \
    }
#define R_NOTNULL(n, c)               \
    {                                 \
        n, c, RDM_RULE_NOT_NULL, 0, 1 \
    }
#define R_MISSING(n, c, m)           \
    {                                \
        n, c, RDM_RULE_MISSING, m, 0 \
    }

static const rule_def DEFAULT_RULES[] = {
    R_NOTNULL("encounter_id_present", "encounter_id"),
    R_NOTNULL("patient_nbr_present", "patient_nbr"),
    R_NOTNULL("readmitted_present", "readmitted"),
    R_ALLOWED("readmitted_allowed", "readmitted"),
    R_ALLOWED("race_allowed", "race"),
    R_ALLOWED("gender_allowed", "gender"),
    R_ALLOWED("age_allowed", "age"),
    R_ALLOWED("weight_allowed", "weight"),
    R_ALLOWED("payer_code_allowed", "payer_code"),
    R_ALLOWED("max_glu_serum_allowed", "max_glu_serum"),
    R_ALLOWED("A1Cresult_allowed", "A1Cresult"),
    R_ALLOWED("metformin_allowed", "metformin"),
    R_ALLOWED("insulin_allowed", "insulin"),
    R_ALLOWED("repaglinide_allowed", "repaglinide"),
    R_ALLOWED("nateglinide_allowed", "nateglinide"),
    R_ALLOWED("chlorpropamide_allowed", "chlorpropamide"),
    R_ALLOWED("glimepiride_allowed", "glimepiride"),
    R_ALLOWED("acetohexamide_allowed", "acetohexamide"),
    R_ALLOWED("glipizide_allowed", "glipizide"),
    R_ALLOWED("glyburide_allowed", "glyburide"),
    R_ALLOWED("tolbutamide_allowed", "tolbutamide"),
    R_ALLOWED("pioglitazone_allowed", "pioglitazone"),
    R_ALLOWED("rosiglitazone_allowed", "rosiglitazone"),
    R_ALLOWED("acarbose_allowed", "acarbose"),
    R_ALLOWED("miglitol_allowed", "miglitol"),
    R_ALLOWED("troglitazone_allowed", "troglitazone"),
    R_ALLOWED("tolazamide_allowed", "tolazamide"),
    R_ALLOWED("examide_allowed", "examide"),
    R_ALLOWED("citoglipton_allowed", "citoglipton"),
    R_ALLOWED("glyburide-metformin_allowed", "glyburide-metformin"),
    R_ALLOWED("glipizide-metformin_allowed", "glipizide-metformin"),
    R_ALLOWED("glimepiride-pioglitazone_allowed", "glimepiride-pioglitazone"),
    R_ALLOWED("metformin-rosiglitazone_allowed", "metformin-rosiglitazone"),
    R_ALLOWED("metformin-pioglitazone_allowed", "metformin-pioglitazone"),
    R_ALLOWED("change_allowed", "change"),
    R_ALLOWED("diabetesMed_allowed", "diabetesMed"),
    R_RANGE("admission_type_id_range", "admission_type_id"),
    R_RANGE("discharge_disposition_id_range", "discharge_disposition_id"),
    R_RANGE("admission_source_id_range", "admission_source_id"),
    R_RANGE("time_in_hospital_range", "time_in_hospital"),
    R_RANGE("num_lab_procedures_range", "num_lab_procedures"),
    R_RANGE("num_procedures_range", "num_procedures"),
    R_RANGE("num_medications_range", "num_medications"),
    R_RANGE("number_outpatient_range", "number_outpatient"),
    R_RANGE("number_emergency_range", "number_emergency"),
    R_RANGE("number_inpatient_range", "number_inpatient"),
    R_RANGE("number_diagnoses_range", "number_diagnoses"),
    R_MISSING("race_missing_rate", "race", 0.10),
    R_MISSING("diag_1_missing_rate", "diag_1", 0.01),
};
#define NDEFAULT_RULES ((int)(sizeof DEFAULT_RULES / sizeof DEFAULT_RULES[0]))

/* ------------------------------------------------------------------------ */
/* Looking keys up */

const key_def *rdm_cfg_find_key(const char *key)
{
    for (int i = 0; i < rdm_cfg_nkeys; i++)
        if (!strcmp(rdm_cfg_keys[i].key, key))
            return &rdm_cfg_keys[i];
    return NULL;
}

int rdm_cfg_is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (int i = 0; i < rdm_cfg_nkeys; i++)
        if (!strncmp(rdm_cfg_keys[i].key, prefix, n) && rdm_cfg_keys[i].key[n] == '.')
            return 1;
    return 0;
}

void rdm_cfg_allowed_children(const char *prefix, char *out, size_t outsz)
{
    size_t n = strlen(prefix), len = 0;
    out[0] = '\0';
    for (int i = 0; i < rdm_cfg_nkeys; i++) {
        const char *k = rdm_cfg_keys[i].key;
        if (n) {
            if (strncmp(k, prefix, n) || k[n] != '.')
                continue;
            k += n + 1;
        }
        size_t cl = strcspn(k, ".");
        /* skip names already listed (keys of one section are contiguous) */
        int dup = 0;
        for (const char *p = out; *p;) {
            size_t pl = strcspn(p, ",");
            if (pl == cl && !strncmp(p, k, cl))
                dup = 1;
            p += pl;
            while (*p == ',' || *p == ' ')
                p++;
        }
        if (dup)
            continue;
        if (len + cl + 3 >= outsz)
            break;
        if (len) {
            memcpy(out + len, ", ", 2);
            len += 2;
        }
        memcpy(out + len, k, cl);
        len += cl;
        out[len] = '\0';
    }
}

/* Shortest %g form that reads back as the same double. */
void rdm_cfg_fmt_double(double v, char *out, size_t outsz)
{
    if (isinf(v)) {
        snprintf(out, outsz, "%s", v > 0 ? ".inf" : "-.inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, outsz, "%.0f", v);
        return;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(out, outsz, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* ------------------------------------------------------------------------ */
/* Rules */

static void rule_free(rdm_rule *r)
{
    free(r->name);
    free(r->column);
    for (int i = 0; i < r->nallowed; i++)
        free(r->allowed[i]);
    free(r->allowed);
    memset(r, 0, sizeof *r);
}

void rdm_cfg_rules_free(rdm_rule *rules, int n)
{
    for (int i = 0; i < n; i++)
        rule_free(&rules[i]);
    free(rules);
}

static int rule_from_def(rdm_rule *r, const rule_def *d)
{
    memset(r, 0, sizeof *r);
    r->name = strdup(d->name);
    r->column = strdup(d->column);
    r->col = rdm_schema_find(d->column);
    r->kind = d->kind;
    r->hard = d->hard;
    if (!r->name || !r->column)
        return RDM_ENOMEM;
    const rdm_column *col = &rdm_schema_columns()[r->col]; /* every default names a column */
    switch (d->kind) {
    case RDM_RULE_ALLOWED: {
        int n = 0;
        while (col->levels[n])
            n++;
        r->allowed = calloc((size_t)n + 1, sizeof *r->allowed);
        if (!r->allowed)
            return RDM_ENOMEM;
        for (int i = 0; i < n; i++) {
            if (!(r->allowed[i] = strdup(col->levels[i])))
                return RDM_ENOMEM;
            r->nallowed++;
        }
        break;
    }
    case RDM_RULE_RANGE:
        r->min = (double)col->min;
        r->max = (double)col->max;
        break;
    case RDM_RULE_MISSING:
        r->max_missing = d->max_missing;
        break;
    case RDM_RULE_NOT_NULL:
        break;
    }
    return RDM_OK;
}

static int default_rules(rdm_config *c)
{
    rdm_rule *rules = calloc(NDEFAULT_RULES, sizeof *rules);
    if (!rules)
        return RDM_ENOMEM;
    for (int i = 0; i < NDEFAULT_RULES; i++) {
        if (rule_from_def(&rules[i], &DEFAULT_RULES[i])) {
            rdm_cfg_rules_free(rules, i + 1);
            return RDM_ENOMEM;
        }
    }
    rdm_cfg_rules_free(c->clean.rules, c->clean.nrules);
    c->clean.rules = rules;
    c->clean.nrules = NDEFAULT_RULES;
    return RDM_OK;
}

/* ------------------------------------------------------------------------ */
/* Public API */

int rdm_config_defaults(rdm_config *c, rdm_err *err)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < rdm_cfg_nkeys; i++) {
        const key_def *k = &rdm_cfg_keys[i];
        if (k->type == T_RULES)
            continue;
        int rc = rdm_cfg_set_default(c, k, err);
        if (rc) {
            rdm_config_release(c);
            return rc;
        }
    }
    if (default_rules(c)) {
        rdm_config_release(c);
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    }
    return RDM_OK;
}

static const struct {
    const char *env, *key;
} ENV_SETTINGS[] = {
    {"READMIT_DATA", "data.source"},
    {"READMIT_MODEL_CACHE", "registry.cache_dir"},
};

int rdm_config_apply_env(rdm_config *c, char *(*lookup)(const char *name), rdm_err *err)
{
    for (size_t i = 0; i < sizeof ENV_SETTINGS / sizeof ENV_SETTINGS[0]; i++) {
        const char *v = lookup(ENV_SETTINGS[i].env);
        if (!v || !*v)
            continue;
        rdm_buf kv = RDM_BUF_INIT;
        int rc = rdm_buf_printf(&kv, "%s=%s", ENV_SETTINGS[i].key, v);
        rc = rc ? rdm_errf(err, rc, "out of memory") : rdm_config_set(c, kv.data, err);
        rdm_buf_release(&kv);
        if (rc) {
            rdm_err_prefix(err, "environment %s", ENV_SETTINGS[i].env);
            return rc;
        }
    }
    return RDM_OK;
}

int rdm_config_validate(const rdm_config *c, rdm_err *err)
{
    if (!(0 < c->split.train_below && c->split.train_below < c->split.valid_below &&
          c->split.valid_below <= 100))
        return rdm_errf(err, RDM_EINVAL,
                        "split: need 0 < train_below < valid_below <= 100 (got train_below=%d, "
                        "valid_below=%d)",
                        c->split.train_below, c->split.valid_below);
    int known = 0;
    for (int i = 0; METRICS[i]; i++)
        known |= c->train.metric && !strcmp(c->train.metric, METRICS[i]);
    if (!known)
        return rdm_errf(err, RDM_EINVAL, "train.metric: unknown metric '%s'",
                        c->train.metric ? c->train.metric : "(null)");
    if (!c->train.logreg_enabled && !c->train.gbt_enabled && !c->train.baseline_enabled)
        return rdm_errf(err, RDM_EINVAL, "train: every model family is disabled");
    if (c->train.logreg_enabled && c->train.logreg_l2.n < 1)
        return rdm_errf(err, RDM_EINVAL, "train.logreg.l2: the grid is empty");
    if (c->train.gbt_enabled && (c->train.gbt_learning_rate.n < 1 || c->train.gbt_max_leaves.n < 1))
        return rdm_errf(err, RDM_EINVAL,
                        "train.gbt: the learning_rate and max_leaves grids "
                        "must not be empty");

    static const struct {
        const char *key;
        size_t off;
    } strs[] = {
        {"db.socket_dir", OFF(db.socket_dir)}, {"db.name", OFF(db.name)},
        {"data.source", OFF(data.source)},     {"registry.model_name", OFF(registry.model_name)},
        {"serve.socket", OFF(serve.socket)},   {"report.dir", OFF(report.dir)}};

    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *s = *(char *const *)rdm_cfg_cfield(c, strs[i].off);
        if (!s || !*s)
            return rdm_errf(err, RDM_EINVAL, "%s: must not be empty", strs[i].key);
    }
    for (int i = 0; i < c->clean.nrules; i++) {
        const rdm_rule *r = &c->clean.rules[i];
        if (!r->name || !r->column || r->col < 0 || r->col >= RDM_NCOLS)
            return rdm_errf(err, RDM_EINVAL, "clean.rules[%d]: invalid rule", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(c->clean.rules[j].name, r->name))
                return rdm_errf(err, RDM_EINVAL, "clean.rules: duplicate rule name '%s'", r->name);
    }
    return RDM_OK;
}

void rdm_config_release(rdm_config *c)
{
    free(c->path);
    for (int i = 0; i < rdm_cfg_nkeys; i++) {
        const key_def *k = &rdm_cfg_keys[i];
        switch (k->type) {
        case T_STR:
        case T_ESTR:
        case T_LLIST:
            free(*(void **)rdm_cfg_field(c, k->off));
            break;
        case T_DLIST:
            free(((rdm_dlist *)rdm_cfg_field(c, k->off))->v);
            break;
        case T_RULES:
            rdm_cfg_rules_free(c->clean.rules, c->clean.nrules);
            break;
        default:
            break;
        }
    }
    memset(c, 0, sizeof *c);
}
