/* config.c - typed configuration from YAML (libyaml document API).
 *
 * One table (KEYS) describes every setting: dotted key, type, where it lives in
 * rdm_config, default (as text, parsed by the same code as the file), range.
 * The table drives defaults, loading, -o overrides, range checks, printing and
 * the canonical section text used for fingerprints. The validation rules list
 * (clean.rules) is the one structured value and has its own parser. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "metrics.h"
#include "schema.h"
#include "secret.h"

typedef enum {
    T_STR,   /* char *; F_NULLABLE allows null */
    T_INT,   /* int */
    T_LONG,  /* long */
    T_DBL,   /* double */
    T_BOOL,  /* int 0/1 */
    T_ENUM,  /* int index into `names` */
    T_ESTR,  /* char * restricted to `names` */
    T_DLIST, /* rdm_dlist: scalar or sequence of numbers */
    T_LLIST, /* long * + int count at off2: scalar or sequence of integers */
    T_RULES, /* clean.rules */
} key_type;

enum { F_NULLABLE = 1, F_INTEGRAL = 2, F_NOFP = 4, F_NONEMPTY = 8, F_SECRET = 16 };

typedef struct key_def {
    const char *key;
    key_type type;
    size_t off;
    size_t off2;
    const char *def; /* default value as YAML text (NULL for T_RULES) */
    double min, max;
    int flags;
    const char *const *names; /* T_ENUM / T_ESTR */
} key_def;

#define METRICS rdm_metric_names /* the one list, in metrics.c */
static const char *const DIAG_MODES[] = {"rank_chapter", "code", NULL};
static const char *const RETRAIN_WHEN[] = {"never", "drift", "auc", "drift_or_auc", NULL};

#define OFF(m) offsetof(rdm_config, m)
#define BIG    1e15

static const key_def KEYS[] = {
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
#define NKEYS ((int)(sizeof KEYS / sizeof KEYS[0]))

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
/* Small helpers */

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void *field(rdm_config *c, size_t off)
{
    return (char *)c + off;
}

static const void *cfield(const rdm_config *c, size_t off)
{
    return (const char *)c + off;
}

static const key_def *find_key(const char *key)
{
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(KEYS[i].key, key))
            return &KEYS[i];
    return NULL;
}

/* True when some key lies under the section `prefix` (no trailing dot). */
static int is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (int i = 0; i < NKEYS; i++)
        if (!strncmp(KEYS[i].key, prefix, n) && KEYS[i].key[n] == '.')
            return 1;
    return 0;
}

/* Comma-separated names allowed directly under `prefix` ("" = top level). */
static void allowed_children(const char *prefix, char *out, size_t outsz)
{
    size_t n = strlen(prefix), len = 0;
    out[0] = '\0';
    for (int i = 0; i < NKEYS; i++) {
        const char *k = KEYS[i].key;
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
static void fmt_double(double v, char *out, size_t outsz)
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
/* Value context: where a value came from, for error messages. */

typedef struct vctx {
    const char *file; /* file name, or NULL for an -o override */
    rdm_err *err;
} vctx;

__attribute__((format(printf, 4, 5))) static int verr(const vctx *v, const yaml_node_t *node,
                                                      const char *key, const char *fmt, ...)
{
    char msg[RDM_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->file && node)
        return rdm_errf(v->err, RDM_EINVAL, "%s:%lu:%lu: %s: %s", v->file,
                        (unsigned long)node->start_mark.line + 1,
                        (unsigned long)node->start_mark.column + 1, key, msg);
    if (v->file)
        return rdm_errf(v->err, RDM_EINVAL, "%s: %s: %s", v->file, key, msg);
    return rdm_errf(v->err, RDM_EINVAL, "-o %s: %s", key, msg);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    default:
        return "a scalar";
    }
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE)
        return 0;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int parse_number(const yaml_node_t *n, double *out)
{
    if (n->type != YAML_SCALAR_NODE)
        return -1;
    const char *s = scalar(n);
    if (!*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_integer(const yaml_node_t *n, long *out)
{
    if (n->type != YAML_SCALAR_NODE)
        return -1;
    return rdm_parse_long(scalar(n), out) ? -1 : 0;
}

static int parse_bool(const yaml_node_t *n, int *out)
{
    static const char *const T[] = {"true", "True", "TRUE", "yes", "Yes",
                                    "YES",  "on",   "On",   "ON",  NULL};
    static const char *const F[] = {"false", "False", "FALSE", "no",  "No",
                                    "NO",    "off",   "Off",   "OFF", NULL};
    if (n->type != YAML_SCALAR_NODE)
        return -1;
    for (int i = 0; T[i]; i++) {
        if (!strcmp(scalar(n), T[i])) {
            *out = 1;
            return 0;
        }
        if (!strcmp(scalar(n), F[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int check_range(const vctx *v, const yaml_node_t *n, const key_def *k, double x)
{
    if ((k->flags & F_INTEGRAL) && x != floor(x))
        return verr(v, n, k->key, "expected an integer, got %s", scalar(n));
    if (x < k->min || x > k->max) {
        char lo[40], hi[40];
        fmt_double(k->min, lo, sizeof lo);
        fmt_double(k->max, hi, sizeof hi);
        return verr(v, n, k->key, "must be between %s and %s (got %s)", lo, hi, scalar(n));
    }
    return RDM_OK;
}

/* Items of a scalar-or-sequence node: fills items/nitems (a scalar is one item). */
static int list_items(yaml_document_t *doc, yaml_node_t *n, yaml_node_t ***items, int *nitems)
{
    if (n->type == YAML_SCALAR_NODE) {
        *items = malloc(sizeof **items);
        if (!*items)
            return RDM_ENOMEM;
        (*items)[0] = n;
        *nitems = 1;
        return RDM_OK;
    }
    int cnt = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    *items = malloc(sizeof **items * (size_t)(cnt ? cnt : 1));
    if (!*items)
        return RDM_ENOMEM;
    for (int i = 0; i < cnt; i++)
        (*items)[i] = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
    *nitems = cnt;
    return RDM_OK;
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

static void rules_free(rdm_rule *rules, int n)
{
    for (int i = 0; i < n; i++)
        rule_free(&rules[i]);
    free(rules);
}

static int rule_from_def(rdm_rule *r, const rule_def *d)
{
    memset(r, 0, sizeof *r);
    r->name = xstrdup(d->name);
    r->column = xstrdup(d->column);
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
            if (!(r->allowed[i] = xstrdup(col->levels[i])))
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

static int rule_parse(const vctx *v, yaml_document_t *doc, yaml_node_t *m, rdm_rule *r)
{
    static const char *const RKEYS =
        "name, column, allowed, min, max, max_missing, not_null, severity";
    memset(r, 0, sizeof *r);
    r->hard = 1;
    r->col = -1;
    r->min = -HUGE_VAL;
    r->max = HUGE_VAL;
    if (m->type != YAML_MAPPING_NODE)
        return verr(v, m, "clean.rules", "expected a mapping (a rule), got %s", node_kind(m));
    int has_allowed = 0, has_range = 0, has_missing = 0, has_notnull = 0;
    yaml_node_t *colnode = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (kn->type != YAML_SCALAR_NODE)
            return verr(v, kn, "clean.rules", "expected a scalar key, got %s", node_kind(kn));
        const char *k = scalar(kn);
        double d;
        if (!strcmp(k, "name") || !strcmp(k, "column") || !strcmp(k, "severity")) {
            if (vn->type != YAML_SCALAR_NODE || is_null(vn))
                return verr(v, vn, "clean.rules", "%s: expected a string", k);
            if (!strcmp(k, "severity")) {
                if (!strcmp(scalar(vn), "hard"))
                    r->hard = 1;
                else if (!strcmp(scalar(vn), "soft"))
                    r->hard = 0;
                else
                    return verr(v, vn, "clean.rules", "severity must be hard or soft (got '%s')",
                                scalar(vn));
                continue;
            }
            char **dst = !strcmp(k, "name") ? &r->name : &r->column;
            if (*dst)
                return verr(v, kn, "clean.rules", "duplicate key '%s'", k);
            if (!(*dst = xstrdup(scalar(vn))))
                return RDM_ENOMEM;
            if (dst == &r->column)
                colnode = vn;
        } else if (!strcmp(k, "allowed")) {
            if (has_allowed)
                return verr(v, kn, "clean.rules", "duplicate key 'allowed'");
            has_allowed = 1;
            if (vn->type != YAML_SEQUENCE_NODE)
                return verr(v, vn, "clean.rules", "allowed: expected a sequence of strings, got %s",
                            node_kind(vn));
            yaml_node_item_t *it = vn->data.sequence.items.start;
            int n = (int)(vn->data.sequence.items.top - it);
            if (n == 0)
                return verr(v, vn, "clean.rules", "allowed: must not be empty");
            r->allowed = calloc((size_t)n + 1, sizeof *r->allowed);
            if (!r->allowed)
                return RDM_ENOMEM;
            for (int i = 0; i < n; i++) {
                yaml_node_t *in = yaml_document_get_node(doc, it[i]);
                if (in->type != YAML_SCALAR_NODE)
                    return verr(v, in, "clean.rules", "allowed: expected a string, got %s",
                                node_kind(in));
                if (!(r->allowed[i] = xstrdup(scalar(in))))
                    return RDM_ENOMEM;
                r->nallowed++;
            }
        } else if (!strcmp(k, "min") || !strcmp(k, "max") || !strcmp(k, "max_missing")) {
            if (parse_number(vn, &d))
                return verr(v, vn, "clean.rules", "%s: expected a number, got %s", k,
                            vn->type == YAML_SCALAR_NODE ? scalar(vn) : node_kind(vn));
            if (!strcmp(k, "max_missing")) {
                if (d < 0 || d > 1)
                    return verr(v, vn, "clean.rules",
                                "max_missing must be between 0 and 1 (got %s)", scalar(vn));
                has_missing = 1;
                r->max_missing = d;
            } else {
                has_range = 1;
                if (k[1] == 'i')
                    r->min = d;
                else
                    r->max = d;
            }
        } else if (!strcmp(k, "not_null")) {
            int b;
            if (parse_bool(vn, &b))
                return verr(v, vn, "clean.rules", "not_null: expected true");
            if (!b)
                return verr(v, vn, "clean.rules", "not_null: only 'not_null: true' is meaningful");
            has_notnull = 1;
        } else {
            return verr(v, kn, "clean.rules", "unknown rule key '%s' (allowed: %s)", k, RKEYS);
        }
    }
    if (!r->name)
        return verr(v, m, "clean.rules", "rule without a name");
    if (!r->column)
        return verr(v, m, "clean.rules", "rule '%s' has no column", r->name);
    r->col = rdm_schema_find(r->column);
    if (r->col < 0)
        return verr(v, colnode, "clean.rules", "rule '%s': unknown column '%s'", r->name,
                    r->column);
    int kinds = has_allowed + has_range + has_missing + has_notnull;
    if (kinds != 1)
        return verr(v, m, "clean.rules",
                    "rule '%s': needs exactly one of allowed, min/max, max_missing, not_null",
                    r->name);
    if (has_allowed)
        r->kind = RDM_RULE_ALLOWED;
    else if (has_range) {
        r->kind = RDM_RULE_RANGE;
        if (r->min > r->max)
            return verr(v, m, "clean.rules", "rule '%s': min is greater than max", r->name);
    } else if (has_missing)
        r->kind = RDM_RULE_MISSING;
    else
        r->kind = RDM_RULE_NOT_NULL;
    return RDM_OK;
}

static int set_rules(rdm_config *c, const vctx *v, yaml_document_t *doc, yaml_node_t *n)
{
    if (is_null(n)) { /* "rules: null" or "rules:" = no rules */
        rules_free(c->clean.rules, c->clean.nrules);
        c->clean.rules = NULL;
        c->clean.nrules = 0;
        return RDM_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return verr(v, n, "clean.rules", "expected a sequence of rules, got %s", node_kind(n));
    yaml_node_item_t *it = n->data.sequence.items.start;
    int cnt = (int)(n->data.sequence.items.top - it);
    rdm_rule *rules = calloc((size_t)(cnt ? cnt : 1), sizeof *rules);
    if (!rules)
        return RDM_ENOMEM;
    int rc = RDM_OK, done = 0;
    for (; done < cnt; done++) {
        rc = rule_parse(v, doc, yaml_document_get_node(doc, it[done]), &rules[done]);
        if (rc) {
            done++;
            break;
        }
        for (int j = 0; j < done; j++)
            if (!strcmp(rules[j].name, rules[done].name)) {
                rc = verr(v, yaml_document_get_node(doc, it[done]), "clean.rules",
                          "duplicate rule name '%s'", rules[done].name);
                done++;
                goto out;
            }
    }
out:
    if (rc) {
        rules_free(rules, done);
        if (rc == RDM_ENOMEM)
            return rdm_errf(v->err, rc, "config: out of memory");
        return rc;
    }
    rules_free(c->clean.rules, c->clean.nrules);
    c->clean.rules = rules;
    c->clean.nrules = cnt;
    return RDM_OK;
}

static int default_rules(rdm_config *c)
{
    rdm_rule *rules = calloc(NDEFAULT_RULES, sizeof *rules);
    if (!rules)
        return RDM_ENOMEM;
    for (int i = 0; i < NDEFAULT_RULES; i++) {
        if (rule_from_def(&rules[i], &DEFAULT_RULES[i])) {
            rules_free(rules, i + 1);
            return RDM_ENOMEM;
        }
    }
    rules_free(c->clean.rules, c->clean.nrules);
    c->clean.rules = rules;
    c->clean.nrules = NDEFAULT_RULES;
    return RDM_OK;
}

/* ------------------------------------------------------------------------ */
/* Setting one key from a YAML node */

static int set_value(rdm_config *c, const key_def *k, const vctx *v, yaml_document_t *doc,
                     yaml_node_t *n)
{
    void *p = field(c, k->off);
    double d;
    long l;
    int b;
    if (k->type == T_RULES)
        return set_rules(c, v, doc, n);
    if (k->type != T_DLIST && k->type != T_LLIST && n->type != YAML_SCALAR_NODE) {
        static const char *const what[] = {"a string",      "an integer", "an integer", "a number",
                                           "true or false", "one of",     "one of"};
        return verr(v, n, k->key, "expected %s, got %s", what[k->type], node_kind(n));
    }
    switch (k->type) {
    case T_STR:
    case T_ESTR: {
        char *s = NULL;
        if (is_null(n)) {
            if (!(k->flags & F_NULLABLE))
                return verr(v, n, k->key, "must not be empty");
        } else {
            if ((k->flags & F_NONEMPTY) && !*scalar(n))
                return verr(v, n, k->key, "must not be empty");
            if (k->type == T_ESTR) {
                int i = 0;
                while (k->names[i] && strcmp(k->names[i], scalar(n)))
                    i++;
                if (!k->names[i]) {
                    char list[200] = "";
                    for (int j = 0; k->names[j]; j++)
                        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                                 j ? ", " : "", k->names[j]);
                    return verr(v, n, k->key, "unknown value '%s' (expected one of: %s)", scalar(n),
                                list);
                }
            }
            if (!(s = xstrdup(scalar(n))))
                return rdm_errf(v->err, RDM_ENOMEM, "config: out of memory");
        }
        free(*(char **)p);
        *(char **)p = s;
        return RDM_OK;
    }
    case T_ENUM: {
        int i = 0;
        while (k->names[i] && strcmp(k->names[i], scalar(n)))
            i++;
        if (!k->names[i]) {
            char list[200] = "";
            for (int j = 0; k->names[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                         k->names[j]);
            return verr(v, n, k->key, "unknown value '%s' (expected one of: %s)", scalar(n), list);
        }
        *(int *)p = i;
        return RDM_OK;
    }
    case T_INT:
    case T_LONG:
        if (parse_integer(n, &l))
            return verr(v, n, k->key, "expected an integer, got '%s'", scalar(n));
        if (check_range(v, n, k, (double)l))
            return RDM_EINVAL;
        if (k->type == T_INT)
            *(int *)p = (int)l;
        else
            *(long *)p = l;
        return RDM_OK;
    case T_DBL:
        if (parse_number(n, &d))
            return verr(v, n, k->key, "expected a number, got '%s'", scalar(n));
        if (check_range(v, n, k, d))
            return RDM_EINVAL;
        *(double *)p = d;
        return RDM_OK;
    case T_BOOL:
        if (parse_bool(n, &b))
            return verr(v, n, k->key, "expected true or false, got '%s'", scalar(n));
        *(int *)p = b;
        return RDM_OK;
    case T_DLIST:
    case T_LLIST: {
        if (n->type == YAML_MAPPING_NODE)
            return verr(v, n, k->key, "expected a number or a sequence of numbers, got a mapping");
        yaml_node_t **items;
        int cnt;
        if (list_items(doc, n, &items, &cnt))
            return rdm_errf(v->err, RDM_ENOMEM, "config: out of memory");
        if (cnt == 0) {
            free(items);
            return verr(v, n, k->key, "must not be empty");
        }
        size_t esz = k->type == T_DLIST ? sizeof(double) : sizeof(long);
        void *vals = malloc(esz * (size_t)cnt);
        int rc = vals ? RDM_OK : rdm_errf(v->err, RDM_ENOMEM, "config: out of memory");
        for (int i = 0; i < cnt && !rc; i++) {
            yaml_node_t *in = items[i];
            if (in->type != YAML_SCALAR_NODE) {
                rc = verr(v, in, k->key, "expected a number, got %s", node_kind(in));
            } else if (k->type == T_DLIST) {
                if (parse_number(in, &d))
                    rc = verr(v, in, k->key, "expected a number, got '%s'", scalar(in));
                else if (!(rc = check_range(v, in, k, d)))
                    ((double *)vals)[i] = d;
            } else {
                if (parse_integer(in, &l))
                    rc = verr(v, in, k->key, "expected an integer, got '%s'", scalar(in));
                else if (!(rc = check_range(v, in, k, (double)l)))
                    ((long *)vals)[i] = l;
            }
        }
        free(items);
        if (rc) {
            free(vals);
            return rc;
        }
        if (k->type == T_DLIST) {
            rdm_dlist *dl = p;
            free(dl->v);
            dl->v = vals;
            dl->n = cnt;
        } else {
            free(*(long **)p);
            *(long **)p = vals;
            *(int *)field(c, k->off2) = cnt;
        }
        return RDM_OK;
    }
    case T_RULES:
        break;
    }
    return RDM_OK;
}

/* ------------------------------------------------------------------------ */
/* Walking the document */

static int walk_mapping(rdm_config *c, const vctx *v, yaml_document_t *doc, yaml_node_t *m,
                        const char *prefix)
{
    const char *sect = *prefix ? prefix : "top level";
    if (m->type != YAML_MAPPING_NODE)
        return verr(v, m, sect, "expected a mapping, got %s", node_kind(m));
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (kn->type != YAML_SCALAR_NODE)
            return verr(v, kn, sect, "expected a scalar key, got %s", node_kind(kn));
        for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(scalar(yaml_document_get_node(doc, q->key)), scalar(kn)))
                return verr(v, kn, sect, "duplicate key '%s'", scalar(kn));
        char full[256];
        if ((size_t)snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", scalar(kn)) >=
            sizeof full)
            return verr(v, kn, sect, "key too long");
        const key_def *k = find_key(full);
        int rc;
        if (k)
            rc = set_value(c, k, v, doc, vn);
        else if (is_section(full))
            rc = is_null(vn) ? RDM_OK : walk_mapping(c, v, doc, vn, full);
        else {
            char allowed[600];
            allowed_children(prefix, allowed, sizeof allowed);
            rc = verr(v, kn, sect, "unknown key '%s' (allowed: %s)", scalar(kn), allowed);
        }
        if (rc)
            return rc;
    }
    return RDM_OK;
}

static void parser_error(const yaml_parser_t *ps, const char *file, rdm_err *err)
{
    const yaml_mark_t *mk = ps->problem ? &ps->problem_mark : &ps->context_mark;
    if (ps->error == YAML_MEMORY_ERROR) {
        rdm_errf(err, RDM_ENOMEM, "%s: out of memory", file);
        return;
    }
    if (!strncmp(file, "-o ", 3))
        rdm_errf(err, RDM_EPARSE, "%s: YAML syntax error: %s", file,
                 ps->problem ? ps->problem : "malformed value");
    else if (ps->context && ps->problem)
        rdm_errf(err, RDM_EPARSE, "%s:%lu:%lu: YAML syntax error: %s %s (started at %lu:%lu)", file,
                 (unsigned long)mk->line + 1, (unsigned long)mk->column + 1, ps->problem,
                 ps->context, (unsigned long)ps->context_mark.line + 1,
                 (unsigned long)ps->context_mark.column + 1);
    else
        rdm_errf(err, RDM_EPARSE, "%s:%lu:%lu: YAML syntax error: %s", file,
                 (unsigned long)mk->line + 1, (unsigned long)mk->column + 1,
                 ps->problem ? ps->problem : "malformed document");
}

/* Parse `text` as one YAML document into doc (yaml_document_delete it). 1 = empty. */
static int load_doc(const char *text, size_t len, const char *file, yaml_document_t *doc,
                    rdm_err *err)
{
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps))
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    int rc = RDM_OK;
    if (!yaml_parser_load(&ps, doc)) {
        parser_error(&ps, file, err);
        rc = err && err->code ? err->code : RDM_EPARSE;
    } else {
        /* a second document would be silently ignored: refuse it */
        yaml_document_t next;
        if (!yaml_parser_load(&ps, &next)) {
            parser_error(&ps, file, err);
            rc = err && err->code ? err->code : RDM_EPARSE;
        } else {
            yaml_node_t *root = yaml_document_get_root_node(&next);
            if (root)
                rc = rdm_errf(err, RDM_EPARSE, "%s:%lu:%lu: only one YAML document is allowed",
                              file, (unsigned long)next.start_mark.line + 1,
                              (unsigned long)next.start_mark.column + 1);
            yaml_document_delete(&next);
        }
        if (rc)
            yaml_document_delete(doc);
    }
    yaml_parser_delete(&ps);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Public API */

int rdm_config_defaults(rdm_config *c, rdm_err *err)
{
    memset(c, 0, sizeof *c);
    vctx v = {"(defaults)", err};
    for (int i = 0; i < NKEYS; i++) {
        const key_def *k = &KEYS[i];
        if (k->type == T_RULES)
            continue;
        yaml_document_t doc;
        int rc = load_doc(k->def, strlen(k->def), "(defaults)", &doc, err);
        if (rc) {
            rdm_config_release(c);
            return rc;
        }
        rc = set_value(c, k, &v, &doc, yaml_document_get_root_node(&doc));
        yaml_document_delete(&doc);
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

int rdm_config_load(rdm_config *c, const char *path, rdm_err *err)
{
    rdm_buf text = RDM_BUF_INIT;
    rdm_err ioerr = {0};
    if (rdm_read_file(path, &text, &ioerr)) {
        rdm_buf_release(&text);
        return rdm_errf(err, RDM_EIO, "config file %s", ioerr.msg);
    }
    yaml_document_t doc;
    int rc = load_doc(text.data ? text.data : "", text.len, path, &doc, err);
    rdm_buf_release(&text);
    if (rc)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    vctx v = {path, err};
    if (root && !is_null(root))
        rc = walk_mapping(c, &v, &doc, root, "");
    yaml_document_delete(&doc);
    if (rc)
        return rc;
    char *p = xstrdup(path);
    if (!p)
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    free(c->path);
    c->path = p;
    return RDM_OK;
}

int rdm_config_set(rdm_config *c, const char *key_eq_value, rdm_err *err)
{
    const char *eq = strchr(key_eq_value, '=');
    if (!eq || eq == key_eq_value)
        return rdm_errf(err, RDM_EINVAL, "-o %s: expected KEY=VALUE", key_eq_value);
    char key[256];
    size_t kl = (size_t)(eq - key_eq_value);
    if (kl >= sizeof key)
        return rdm_errf(err, RDM_EINVAL, "-o: key too long");
    memcpy(key, key_eq_value, kl);
    key[kl] = '\0';
    const char *val = eq + 1;
    const key_def *k = find_key(key);
    if (!k) {
        char allowed[600], prefix[256];
        const char *dot = strrchr(key, '.');
        size_t pl = dot ? (size_t)(dot - key) : 0;
        memcpy(prefix, key, pl);
        prefix[pl] = '\0';
        while (*prefix && !is_section(prefix)) { /* nearest existing section */
            char *d = strrchr(prefix, '.');
            if (d)
                *d = '\0';
            else
                prefix[0] = '\0';
        }
        allowed_children(prefix, allowed, sizeof allowed);
        return rdm_errf(err, RDM_EINVAL, "-o %s: unknown key (allowed%s%s: %s)", key,
                        *prefix ? " in " : "", prefix, allowed);
    }
    vctx v = {NULL, err};
    /* Strings are taken verbatim; everything else is read as YAML, and a list
     * may also be given without brackets: -o train.logreg.l2=0.1,1,10. */
    if (k->type == T_STR || k->type == T_ESTR) {
        yaml_node_t n;
        memset(&n, 0, sizeof n);
        n.type = YAML_SCALAR_NODE;
        n.data.scalar.value = (yaml_char_t *)(uintptr_t)val;
        n.data.scalar.length = strlen(val);
        n.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        return set_value(c, k, &v, NULL, &n);
    }
    char what[300];
    snprintf(what, sizeof what, "-o %s", key);
    rdm_buf text = RDM_BUF_INIT;
    int wrap = (k->type == T_DLIST || k->type == T_LLIST) && val[strspn(val, " ")] != '[';
    if (rdm_buf_printf(&text, wrap ? "[%s]" : "%s", val)) {
        rdm_buf_release(&text);
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    }
    yaml_document_t doc;
    int rc = load_doc(text.data, text.len, what, &doc, err);
    rdm_buf_release(&text);
    if (rc)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = rdm_errf(err, RDM_EINVAL, "-o %s: missing value", key);
    else
        rc = set_value(c, k, &v, &doc, root);
    yaml_document_delete(&doc);
    return rc;
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
        const char *s = *(char *const *)cfield(c, strs[i].off);
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

/* ------------------------------------------------------------------------ */
/* Text output */

static int add_quoted(rdm_buf *out, const char *s)
{
    if (!s)
        return rdm_buf_adds(out, "null");
    int rc = rdm_buf_addc(out, '"');
    for (; *s && !rc; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            rc = rdm_buf_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            rc = rdm_buf_printf(out, "\\x%02x", ch);
        else
            rc = rdm_buf_addc(out, (char)ch);
    }
    return rc ? rc : rdm_buf_addc(out, '"');
}

static int add_double(rdm_buf *out, double v)
{
    char tmp[40];
    fmt_double(v, tmp, sizeof tmp);
    return rdm_buf_adds(out, tmp);
}

/* Value of a non-rules key in YAML flow syntax. */
static int add_value(rdm_buf *out, const rdm_config *c, const key_def *k)
{
    const void *p = cfield(c, k->off);
    switch (k->type) {
    case T_STR:
        if (k->flags & F_SECRET) { /* a conninfo may hold a password: never printed */
            char *masked = rdm_secret_mask_conninfo(*(char *const *)p);
            int rc = *(char *const *)p && !masked ? RDM_ENOMEM : add_quoted(out, masked);
            free(masked);
            return rc;
        }
        return add_quoted(out, *(char *const *)p);
    case T_ESTR:
        return rdm_buf_adds(out, *(char *const *)p ? *(char *const *)p : "null");
    case T_INT:
        return rdm_buf_printf(out, "%d", *(const int *)p);
    case T_LONG:
        return rdm_buf_printf(out, "%ld", *(const long *)p);
    case T_DBL:
        return add_double(out, *(const double *)p);
    case T_BOOL:
        return rdm_buf_adds(out, *(const int *)p ? "true" : "false");
    case T_ENUM: {
        int i = *(const int *)p, n = 0;
        while (k->names[n])
            n++;
        return rdm_buf_adds(out, i >= 0 && i < n ? k->names[i] : "?");
    }
    case T_DLIST: {
        const rdm_dlist *dl = p;
        int rc = rdm_buf_addc(out, '[');
        for (int i = 0; i < dl->n && !rc; i++) {
            if (i)
                rc = rdm_buf_adds(out, ", ");
            if (!rc)
                rc = add_double(out, dl->v[i]);
        }
        return rc ? rc : rdm_buf_addc(out, ']');
    }
    case T_LLIST: {
        const long *v = *(long *const *)p;
        int n = *(const int *)cfield(c, k->off2);
        int rc = rdm_buf_addc(out, '[');
        for (int i = 0; i < n && !rc; i++)
            rc = rdm_buf_printf(out, "%s%ld", i ? ", " : "", v[i]);
        return rc ? rc : rdm_buf_addc(out, ']');
    }
    case T_RULES:
        break;
    }
    return RDM_OK;
}

/* One rule as a YAML flow mapping. */
static int add_rule(rdm_buf *out, const rdm_rule *r)
{
    int rc = rdm_buf_adds(out, "{name: ");
    rc = rc ? rc : add_quoted(out, r->name);
    rc = rc ? rc : rdm_buf_adds(out, ", column: ");
    rc = rc ? rc : add_quoted(out, r->column);
    switch (r->kind) {
    case RDM_RULE_ALLOWED:
        rc = rc ? rc : rdm_buf_adds(out, ", allowed: [");
        for (int i = 0; i < r->nallowed && !rc; i++) {
            if (i)
                rc = rdm_buf_adds(out, ", ");
            rc = rc ? rc : add_quoted(out, r->allowed[i]);
        }
        rc = rc ? rc : rdm_buf_addc(out, ']');
        break;
    case RDM_RULE_RANGE:
        if (!rc && isfinite(r->min)) {
            rc = rdm_buf_adds(out, ", min: ");
            rc = rc ? rc : add_double(out, r->min);
        }
        if (!rc && isfinite(r->max)) {
            rc = rdm_buf_adds(out, ", max: ");
            rc = rc ? rc : add_double(out, r->max);
        }
        break;
    case RDM_RULE_MISSING:
        rc = rc ? rc : rdm_buf_adds(out, ", max_missing: ");
        rc = rc ? rc : add_double(out, r->max_missing);
        break;
    case RDM_RULE_NOT_NULL:
        rc = rc ? rc : rdm_buf_adds(out, ", not_null: true");
        break;
    }
    rc = rc ? rc : rdm_buf_adds(out, r->hard ? ", severity: hard}" : ", severity: soft}");
    return rc;
}

static int in_section(const char *key, const char *section)
{
    size_t n = strlen(section);
    return !n || (!strncmp(key, section, n) && (key[n] == '.' || key[n] == '\0'));
}

int rdm_config_section_text(const rdm_config *c, const char *section, rdm_buf *out)
{
    int rc = RDM_OK;
    if (!section)
        section = "";
    for (int i = 0; i < NKEYS && !rc; i++) {
        const key_def *k = &KEYS[i];
        if (!in_section(k->key, section) || (k->flags & F_NOFP))
            continue;
        if (k->type == T_RULES) {
            rc = rdm_buf_printf(out, "%s.count=%d\n", k->key, c->clean.nrules);
            for (int j = 0; j < c->clean.nrules && !rc; j++) {
                rc = rdm_buf_printf(out, "%s.%d=", k->key, j);
                rc = rc ? rc : add_rule(out, &c->clean.rules[j]);
                rc = rc ? rc : rdm_buf_addc(out, '\n');
            }
            continue;
        }
        rc = rdm_buf_printf(out, "%s=", k->key);
        rc = rc ? rc : add_value(out, c, k);
        rc = rc ? rc : rdm_buf_addc(out, '\n');
    }
    return rc;
}

int rdm_config_get(const rdm_config *c, const char *key, rdm_buf *out, rdm_err *err)
{
    const key_def *k = find_key(key);
    if (!k || k->type == T_RULES)
        return rdm_errf(err, RDM_EINVAL, "no setting named '%s'%s", key,
                        k ? " (a list of rules: see readmit config)" : "");
    int rc;
    if (k->type == T_STR && !(k->flags & F_SECRET)) {
        const char *s = *(char *const *)cfield(c, k->off);
        rc = rdm_buf_adds(out, s ? s : "");
    } else {
        rc = add_value(out, c, k);
    }
    return rc ? rdm_errf(err, rc, "out of memory") : RDM_OK;
}

/* The settings each pipeline stage reads, in DAG order: a stage re-runs when
 * the fingerprint of its sections changes. */
static const struct {
    const char *stage;
    const char *sections[4];
} STAGE_SECTIONS[] = {
    {"ingest", {"data", NULL}},
    {"clean", {"clean", NULL}},
    {"train", {"split", "features", "train", NULL}},
    {"register", {"registry", NULL}},
    {"monitor", {"monitor", NULL}},
    {"report", {"report", NULL}},
};

#define NSTAGES ((int)(sizeof STAGE_SECTIONS / sizeof STAGE_SECTIONS[0]))

const char *rdm_config_stage(int i)
{
    return i >= 0 && i < NSTAGES ? STAGE_SECTIONS[i].stage : NULL;
}

int rdm_config_fingerprint(const rdm_config *c, const char *stage, char out[65], rdm_err *err)
{
    out[0] = '\0';
    for (int i = 0; i < NSTAGES; i++) {
        if (strcmp(STAGE_SECTIONS[i].stage, stage) != 0)
            continue;
        rdm_buf b = RDM_BUF_INIT;
        int rc = RDM_OK;
        for (int j = 0; STAGE_SECTIONS[i].sections[j] && !rc; j++)
            rc = rdm_config_section_text(c, STAGE_SECTIONS[i].sections[j], &b);
        if (!rc)
            rdm_sha256_hex(b.data ? b.data : "", b.len, out);
        rdm_buf_release(&b);
        return rc ? rdm_errf(err, rc, "config fingerprint: out of memory") : RDM_OK;
    }
    return rdm_errf(err, RDM_EINVAL,
                    "no pipeline stage named '%s' (ingest, clean, train, register, report)", stage);
}

int rdm_config_yaml(const rdm_config *c, rdm_buf *out)
{
    int rc = RDM_OK;
    const char *prev = "";
    for (int i = 0; i < NKEYS && !rc; i++) {
        const char *key = KEYS[i].key;
        /* number of leading path components shared with the previous key */
        int depth = 0;
        const char *a = prev, *b = key;
        for (;;) {
            size_t la = strcspn(a, "."), lb = strcspn(b, ".");
            if (!a[la] || !b[lb] || la != lb || strncmp(a, b, la))
                break;
            depth++;
            a += la + 1;
            b += lb + 1;
        }
        /* open the sections not shared */
        const char *s = b;
        int level = depth;
        while (!rc && s[strcspn(s, ".")]) {
            size_t l = strcspn(s, ".");
            rc = rdm_buf_printf(out, "%*s%.*s:\n", level * 2, "", (int)l, s);
            s += l + 1;
            level++;
        }
        if (rc)
            break;
        rc = rdm_buf_printf(out, "%*s%s:", level * 2, "", s);
        if (KEYS[i].type == T_RULES) {
            if (!rc && c->clean.nrules == 0)
                rc = rdm_buf_adds(out, " []");
            for (int j = 0; j < c->clean.nrules && !rc; j++) {
                rc = rdm_buf_printf(out, "\n%*s- ", level * 2 + 2, "");
                rc = rc ? rc : add_rule(out, &c->clean.rules[j]);
            }
        } else {
            rc = rc ? rc : rdm_buf_addc(out, ' ');
            rc = rc ? rc : add_value(out, c, &KEYS[i]);
        }
        rc = rc ? rc : rdm_buf_addc(out, '\n');
        prev = key;
    }
    return rc;
}

void rdm_config_release(rdm_config *c)
{
    free(c->path);
    for (int i = 0; i < NKEYS; i++) {
        const key_def *k = &KEYS[i];
        switch (k->type) {
        case T_STR:
        case T_ESTR:
        case T_LLIST:
            free(*(void **)field(c, k->off));
            break;
        case T_DLIST:
            free(((rdm_dlist *)field(c, k->off))->v);
            break;
        case T_RULES:
            rules_free(c->clean.rules, c->clean.nrules);
            break;
        default:
            break;
        }
    }
    memset(c, 0, sizeof *c);
}
