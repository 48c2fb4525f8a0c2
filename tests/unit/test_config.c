/* test_config.c - configuration: defaults, YAML loading, error positions,
 * rules, -o overrides, canonical section text, environment overrides. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "schema.h"

#define FIX "data/config/"

static int has(const char *hay, const char *needle)
{
    int ok = strstr(hay, needle) != NULL;
    if (!ok)
        fprintf(stderr, "\n  '%s' not found in: %s\n", needle, hay);
    return ok;
}

static const rdm_rule *rule_named(const rdm_config *c, const char *name)
{
    for (int i = 0; i < c->clean.nrules; i++)
        if (!strcmp(c->clean.rules[i].name, name))
            return &c->clean.rules[i];
    return NULL;
}

/* Full canonical text of every section (caller frees). */
static char *all_text(const rdm_config *c)
{
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_config_section_text(c, "", &b), RDM_OK);
    return rdm_buf_take(&b);
}

/* Load `path` over defaults; returns the status, message in err. */
static int load_fixture(rdm_config *c, const char *path, rdm_err *err)
{
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(c, err), RDM_OK);
    return rdm_config_load(c, path, err);
}

static void test_defaults(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    CU_ASSERT_PTR_NULL(c.path);
    CU_ASSERT_PTR_NULL(c.db.dsn);
    CU_ASSERT_STRING_EQUAL(c.db.socket_dir, "var/pg/run");
    CU_ASSERT_STRING_EQUAL(c.db.name, "readmit");
    CU_ASSERT_STRING_EQUAL(c.data.source, "data/dataset_diabetes.zip");
    CU_ASSERT_EQUAL(c.data.batch_rows, 15000);
    CU_ASSERT_EQUAL(c.data.max_field_bytes, 1024);
    CU_ASSERT_EQUAL_FATAL(c.clean.nexclude, 6);
    static const long excl[] = {11, 13, 14, 19, 20, 21};
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(c.clean.exclude_discharge[i], excl[i]);
    CU_ASSERT_EQUAL(c.clean.min_rows, 1);
    CU_ASSERT_DOUBLE_EQUAL(c.clean.max_reject_rate, 0.05, 1e-15);
    CU_ASSERT_EQUAL(c.split.train_below, 70);
    CU_ASSERT_EQUAL(c.split.valid_below, 85);
    CU_ASSERT_EQUAL(c.features.min_count, 20);
    CU_ASSERT_EQUAL(c.features.diag_mode, 0);
    CU_ASSERT_STRING_EQUAL(c.train.metric, "roc_auc");
    CU_ASSERT_EQUAL(c.train.threads, 0);
    CU_ASSERT_EQUAL(c.train.seed, 42);
    CU_ASSERT_EQUAL(c.train.bootstrap, 200);
    CU_ASSERT_EQUAL(c.train.baseline_enabled, 1);
    CU_ASSERT_EQUAL(c.train.logreg_enabled, 1);
    CU_ASSERT_EQUAL_FATAL(c.train.logreg_l2.n, 3);
    CU_ASSERT_DOUBLE_EQUAL(c.train.logreg_l2.v[0], 10.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c.train.logreg_l2.v[1], 33.3, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c.train.logreg_l2.v[2], 100.0, 1e-15);
    CU_ASSERT_EQUAL(c.train.logreg_max_iter, 200);
    CU_ASSERT_DOUBLE_EQUAL(c.train.logreg_tol, 1e-6, 1e-20);
    CU_ASSERT_EQUAL(c.train.gbt_enabled, 1);
    CU_ASSERT_EQUAL_FATAL(c.train.gbt_learning_rate.n, 2);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_learning_rate.v[0], 0.05, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_learning_rate.v[1], 0.1, 1e-15);
    CU_ASSERT_EQUAL_FATAL(c.train.gbt_max_leaves.n, 1);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_max_leaves.v[0], 31, 0);
    CU_ASSERT_EQUAL(c.train.gbt_max_depth, 0);
    CU_ASSERT_EQUAL(c.train.gbt_max_iter, 1000);
    CU_ASSERT_EQUAL(c.train.gbt_max_bins, 255);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_min_child_weight, 20.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_l2, 20.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_subsample, 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_colsample, 1.0, 0);
    CU_ASSERT_EQUAL(c.train.gbt_early_stopping, 20);
    CU_ASSERT_STRING_EQUAL(c.registry.model_name, "readmission");
    CU_ASSERT_DOUBLE_EQUAL(c.registry.min_metric, 0.55, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c.registry.min_gain, 0.001, 0);
    CU_ASSERT_EQUAL(c.serve.workers, 0);
    CU_ASSERT_STRING_EQUAL(c.serve.socket, "var/run/readmit-fcgi.sock");
    CU_ASSERT_EQUAL(c.serve.fcgi_port, 0);
    CU_ASSERT_EQUAL(c.serve.http_port, 8080);
    CU_ASSERT_EQUAL(c.serve.max_instances, 1000);
    CU_ASSERT_EQUAL(c.serve.max_body_bytes, 8388608);
    CU_ASSERT_EQUAL(c.serve.poll_seconds, 5);
    CU_ASSERT_STRING_EQUAL(c.report.dir, "reports");

    /* default rules: every one resolves to a schema column */
    CU_ASSERT(c.clean.nrules >= 20);
    for (int i = 0; i < c.clean.nrules; i++) {
        const rdm_rule *r = &c.clean.rules[i];
        CU_ASSERT_EQUAL(r->col, rdm_schema_find(r->column));
        CU_ASSERT(r->col >= 0);
    }
    const rdm_rule *g = rule_named(&c, "gender_allowed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->kind, RDM_RULE_ALLOWED);
    CU_ASSERT_EQUAL(g->col, 3);
    CU_ASSERT_EQUAL_FATAL(g->nallowed, 3);
    CU_ASSERT_STRING_EQUAL(g->allowed[2], "Unknown/Invalid");
    CU_ASSERT_PTR_NULL(g->allowed[3]);
    CU_ASSERT_EQUAL(g->hard, 1);
    const rdm_rule *t = rule_named(&c, "time_in_hospital_range");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->kind, RDM_RULE_RANGE);
    CU_ASSERT_DOUBLE_EQUAL(t->min, 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(t->max, 14, 0);
    const rdm_rule *m = rule_named(&c, "race_missing_rate");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->kind, RDM_RULE_MISSING);
    CU_ASSERT_DOUBLE_EQUAL(m->max_missing, 0.10, 1e-15);
    CU_ASSERT_EQUAL(m->hard, 0);
    const rdm_rule *p = rule_named(&c, "patient_nbr_present");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->kind, RDM_RULE_NOT_NULL);
    CU_ASSERT_EQUAL(p->col, RDM_C_PATIENT_NBR);

    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_OK);
    rdm_config_release(&c);
}

/* The default allowed-value rules accept every level the schema knows. */
static void test_default_rules_cover_schema_levels(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    const rdm_column *cols = rdm_schema_columns();
    int checked = 0;
    for (int i = 0; i < c.clean.nrules; i++) {
        const rdm_rule *r = &c.clean.rules[i];
        if (r->kind == RDM_RULE_ALLOWED && cols[r->col].levels) {
            for (const char *const *l = cols[r->col].levels; *l; l++) {
                int found = 0;
                for (int j = 0; j < r->nallowed; j++)
                    found |= !strcmp(r->allowed[j], *l);
                CU_ASSERT(found);
            }
            checked++;
        }
        if (r->kind == RDM_RULE_RANGE && cols[r->col].kind == RDM_COL_INT) {
            CU_ASSERT(r->min <= (double)cols[r->col].min);
            CU_ASSERT(r->max >= (double)cols[r->col].max);
            checked++;
        }
    }
    CU_ASSERT(checked >= 30);
    rdm_config_release(&c);
}

static void test_load_project_configs(void)
{
    rdm_config c, d;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(load_fixture(&c, "../conf/readmit.yaml", &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.path, "../conf/readmit.yaml");
    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_OK);
    /* conf/readmit.yaml spells out the defaults, rules included */
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&d, &err), RDM_OK);
    char *a = all_text(&c), *b = all_text(&d);
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    rdm_config_release(&d);
    rdm_config_release(&c);

    rdm_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(load_fixture(&c, "../conf/test.yaml", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL(c.data.batch_rows, 2000);
    CU_ASSERT_EQUAL(c.train.gbt_max_iter, 60);
    CU_ASSERT(c.train.gbt_learning_rate.n >= 1 && c.train.gbt_learning_rate.n <= 2);
    CU_ASSERT(c.train.gbt_max_leaves.n >= 1 && c.train.gbt_max_leaves.n <= 2);
    CU_ASSERT_EQUAL_FATAL(c.train.logreg_l2.n, 1);
    CU_ASSERT_DOUBLE_EQUAL(c.train.logreg_l2.v[0], 1.0, 0);
    CU_ASSERT_EQUAL(c.train.bootstrap, 50);
    CU_ASSERT_DOUBLE_EQUAL(c.registry.min_metric, 0.5, 0);
    CU_ASSERT_EQUAL(c.serve.http_port, 18080);
    CU_ASSERT_EQUAL(c.train.threads, 2);
    /* keys it does not set keep their defaults */
    CU_ASSERT_EQUAL(c.split.train_below, 70);
    CU_ASSERT_EQUAL(c.clean.nexclude, 6);
    rdm_config_release(&c);
}

static void test_missing_file(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, "data/config/no_such_file.yaml", &err), RDM_EIO);
    CU_ASSERT(has(err.msg, "data/config/no_such_file.yaml"));
    /* a failed load leaves the defaults in place */
    CU_ASSERT_EQUAL(c.data.batch_rows, 15000);
    CU_ASSERT_PTR_NULL(c.path);
    rdm_config_release(&c);
}

/* Write n bytes to a new temporary file; its path into path (unlink it). */
static void temp_config(char path[64], const void *data, size_t n)
{
    snprintf(path, 64, "/tmp/readmit-test-config.XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL_FATAL(write(fd, data, n), (ssize_t)n);
    close(fd);
}

/* 200 KB of '[' took libyaml 23 s to refuse; the depth is capped before the
 * document is built, naming where the cap was passed. Nesting as deep as the
 * rules need (five levels) still loads. */
static void test_nesting_depth(void)
{
    size_t n = 200 * 1024;
    char *deep = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    memset(deep, '[', n);
    char path[64], want[128];
    temp_config(path, deep, n);
    free(deep);
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, path, &err), RDM_EPARSE);
    snprintf(want, sizeof want, "%s:1:%d: nested more than %d levels deep", path,
             RDM_CONFIG_MAX_DEPTH + 1, RDM_CONFIG_MAX_DEPTH);
    CU_ASSERT(has(err.msg, want));
    rdm_config_release(&c);
    unlink(path);

    static const char block[] = "clean:\n  rules:\n    - a:\n        b:\n          c:\n"
                                "            d:\n              e:\n                f:\n"
                                "                  g:\n                    h:\n"
                                "                      i:\n                        j:\n"
                                "                          k:\n                            l:\n"
                                "                              m:\n"
                                "                                n:\n"
                                "                                  o: 1\n";
    temp_config(path, block, sizeof block - 1);
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(load_fixture(&c, path, &err), RDM_EPARSE);
    snprintf(want, sizeof want, "%s:16:33: nested more than", path);
    CU_ASSERT(has(err.msg, want));
    rdm_config_release(&c);
    unlink(path);

    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "rules.yaml", &err), RDM_OK);
    rdm_config_release(&c);
}

/* A NUL byte in a value written "\0" was cut short silently ("read\0mit"
 * became "read"); a raw one was refused at 1:1 wherever it was: both are
 * refused with the line and column of the value or of the byte. */
static void test_nul_in_value(void)
{
    static const char escaped[] = "db:\n  name: \"read\\0mit\"\n";
    static const char raw[] = "data:\n  batch_rows: 100\nreport:\n  dir: rep\0orts\n";

    const struct {
        const char *text;
        size_t n;
        const char *at;
    } cases[] = {{escaped, sizeof escaped - 1, ":2:9: "}, {raw, sizeof raw - 1, ":4:11: "}};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64], want[128];
        temp_config(path, cases[i].text, cases[i].n);
        rdm_config c;
        rdm_err err = {0};
        CU_ASSERT_NOT_EQUAL(load_fixture(&c, path, &err), RDM_OK);
        snprintf(want, sizeof want, "%s%s", path, cases[i].at);
        CU_ASSERT(has(err.msg, want));
        CU_ASSERT(has(err.msg, "NUL"));
        CU_ASSERT_STRING_EQUAL(c.db.name, "readmit"); /* nothing of the file applied */
        rdm_config_release(&c);
        unlink(path);
    }
}

static void test_unknown_key(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "unknown_key.yaml", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, FIX "unknown_key.yaml:4:5: "));
    CU_ASSERT(has(err.msg, "unknown key 'bogus'"));
    CU_ASSERT(has(err.msg, "allowed: enabled, learning_rate, max_leaves, max_depth, max_iter"));
    rdm_config_release(&c);
}

static void test_wrong_type(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "wrong_type.yaml", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, FIX "wrong_type.yaml:2:15: data.batch_rows: expected an integer"));
    rdm_config_release(&c);

    /* a mapping where a number belongs */
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "clean.max_reject_rate={a: 1}", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "clean.max_reject_rate: expected a number, got a mapping"));
    rdm_config_release(&c);
}

static void test_out_of_range(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "out_of_range.yaml", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, FIX "out_of_range.yaml:3:20: clean.max_reject_rate: "
                               "must be between 0 and 1 (got 1.5)"));
    /* the key before the error was applied, the bad one was not */
    CU_ASSERT_EQUAL(c.clean.min_rows, 10);
    CU_ASSERT_DOUBLE_EQUAL(c.clean.max_reject_rate, 0.05, 1e-15);
    rdm_config_release(&c);
}

static void test_bad_yaml(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "bad_yaml.yaml", &err), RDM_EPARSE);
    CU_ASSERT(has(err.msg, FIX "bad_yaml.yaml:4:"));
    CU_ASSERT(has(err.msg, "YAML syntax error"));
    CU_ASSERT(has(err.msg, "flow sequence (started at 3:9)"));
    rdm_config_release(&c);

    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "two_docs.yaml", &err), RDM_EPARSE);
    CU_ASSERT(has(err.msg, FIX "two_docs.yaml:3:1: only one YAML document is allowed"));
    CU_ASSERT_EQUAL(c.data.batch_rows, 15000);
    rdm_config_release(&c);

    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "unknown_section.yaml", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg,
                  FIX "unknown_section.yaml:4:1: top level: unknown key 'models' "
                      "(allowed: db, data, clean, split, features, train, registry, serve, "
                      "report, monitor)"));
    rdm_config_release(&c);
}

static void test_rules(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(load_fixture(&c, FIX "rules.yaml", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(c.clean.nexclude, 1); /* a scalar is a one-item list */
    CU_ASSERT_EQUAL(c.clean.exclude_discharge[0], 11);
    CU_ASSERT_EQUAL_FATAL(c.clean.nrules, 5); /* the file's list replaces the defaults */

    const rdm_rule *r = &c.clean.rules[0];
    CU_ASSERT_STRING_EQUAL(r->name, "g");
    CU_ASSERT_STRING_EQUAL(r->column, "gender");
    CU_ASSERT_EQUAL(r->col, 3);
    CU_ASSERT_EQUAL(r->kind, RDM_RULE_ALLOWED);
    CU_ASSERT_EQUAL_FATAL(r->nallowed, 2);
    CU_ASSERT_STRING_EQUAL(r->allowed[0], "Female");
    CU_ASSERT_STRING_EQUAL(r->allowed[1], "Male");
    CU_ASSERT_PTR_NULL(r->allowed[2]);
    CU_ASSERT_EQUAL(r->hard, 1);

    r = &c.clean.rules[1];
    CU_ASSERT_STRING_EQUAL(r->name, "stay");
    CU_ASSERT_EQUAL(r->col, 9);
    CU_ASSERT_EQUAL(r->kind, RDM_RULE_RANGE);
    CU_ASSERT_DOUBLE_EQUAL(r->min, 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(r->max, 9.5, 0);
    CU_ASSERT_EQUAL(r->hard, 0);

    r = &c.clean.rules[2]; /* only min: max unbounded, severity defaults to hard */
    CU_ASSERT_EQUAL(r->kind, RDM_RULE_RANGE);
    CU_ASSERT_DOUBLE_EQUAL(r->min, 5, 0);
    CU_ASSERT(r->max > 1e300);
    CU_ASSERT_EQUAL(r->hard, 1);

    r = &c.clean.rules[3];
    CU_ASSERT_EQUAL(r->kind, RDM_RULE_MISSING);
    CU_ASSERT_EQUAL(r->col, 2);
    CU_ASSERT_DOUBLE_EQUAL(r->max_missing, 0.25, 0);
    CU_ASSERT_EQUAL(r->hard, 0);

    r = &c.clean.rules[4];
    CU_ASSERT_EQUAL(r->kind, RDM_RULE_NOT_NULL);
    CU_ASSERT_EQUAL(r->col, RDM_C_PATIENT_NBR);

    /* the other settings of that file */
    CU_ASSERT_EQUAL(c.split.train_below, 60);
    CU_ASSERT_EQUAL(c.split.valid_below, 80);
    CU_ASSERT_STRING_EQUAL(c.train.metric, "pr_auc");
    CU_ASSERT_EQUAL_FATAL(c.train.gbt_learning_rate.n, 1);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_learning_rate.v[0], 0.2, 0);
    CU_ASSERT_EQUAL_FATAL(c.train.gbt_max_leaves.n, 3);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_max_leaves.v[2], 63, 0);
    CU_ASSERT_EQUAL(c.features.diag_mode, 1);
    CU_ASSERT_STRING_EQUAL(c.db.dsn, "host=db.example port=5433");
    rdm_config_release(&c);
}

static void test_bad_rules(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "bad_rule_column.yaml", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, FIX "bad_rule_column.yaml:4:27: "));
    CU_ASSERT(has(err.msg, "rule 'bad': unknown column 'shoe_size'"));
    CU_ASSERT(c.clean.nrules > 5); /* a failed list leaves the previous one */
    rdm_config_release(&c);

    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "bad_severity.yaml", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, FIX "bad_severity.yaml:6:17: "));
    CU_ASSERT(has(err.msg, "severity must be hard or soft (got 'fatal')"));
    rdm_config_release(&c);

    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(load_fixture(&c, FIX "rule_two_kinds.yaml", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, FIX "rule_two_kinds.yaml:3:7: "));
    CU_ASSERT(has(err.msg, "rule 'both': needs exactly one of"));
    rdm_config_release(&c);

    /* the same checks through -o */
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "clean.rules=[{column: race, not_null: true}]", &err),
                    RDM_EINVAL);
    CU_ASSERT(has(err.msg, "rule without a name"));
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_config_set(&c,
                                   "clean.rules=[{name: a, column: race, not_null: true}, "
                                   "{name: a, column: age, not_null: true}]",
                                   &err),
                    RDM_EINVAL);
    CU_ASSERT(has(err.msg, "duplicate rule name 'a'"));
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(
        rdm_config_set(&c, "clean.rules=[{name: a, column: age, max_missing: 2}]", &err),
        RDM_EINVAL);
    CU_ASSERT(has(err.msg, "max_missing must be between 0 and 1"));
    rdm_config_release(&c);
}

static void test_set(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "data.batch_rows=5000", &err), RDM_OK);
    CU_ASSERT_EQUAL(c.data.batch_rows, 5000);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.gbt.learning_rate=0.01,0.2,0.3", &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(c.train.gbt_learning_rate.n, 3);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_learning_rate.v[0], 0.01, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.train.gbt_learning_rate.v[2], 0.3, 0);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.logreg.l2=[2.5]", &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(c.train.logreg_l2.n, 1);
    CU_ASSERT_DOUBLE_EQUAL(c.train.logreg_l2.v[0], 2.5, 0);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "db.name=my_db", &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.db.name, "my_db");
    /* strings are verbatim: a conninfo with '=' and spaces */
    CU_ASSERT_EQUAL(rdm_config_set(&c, "db.dsn=host=/tmp dbname=x", &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.db.dsn, "host=/tmp dbname=x");
    CU_ASSERT_EQUAL(rdm_config_set(&c, "db.dsn=null", &err), RDM_OK);
    CU_ASSERT_PTR_NULL(c.db.dsn);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.gbt.enabled=false", &err), RDM_OK);
    CU_ASSERT_EQUAL(c.train.gbt_enabled, 0);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "features.diag=code", &err), RDM_OK);
    CU_ASSERT_EQUAL(c.features.diag_mode, 1);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.metric=log_loss", &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.train.metric, "log_loss");
    CU_ASSERT_EQUAL(rdm_config_set(&c, "clean.rules=[]", &err), RDM_OK);
    CU_ASSERT_EQUAL(c.clean.nrules, 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");

    /* errors leave the value unchanged */
    CU_ASSERT_EQUAL(rdm_config_set(&c, "data.batch_rows=0", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "-o data.batch_rows: must be between 1 and 10000000 (got 0)"));
    CU_ASSERT_EQUAL(c.data.batch_rows, 5000);
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.gbt.max_leaves=15.5", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "expected an integer"));
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.gbt.bogus=1", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "unknown key (allowed in train.gbt: enabled, learning_rate"));
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "batch_rows", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "expected KEY=VALUE"));
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.metric=auc", &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "expected one of: roc_auc, pr_auc, log_loss, accuracy"));
    CU_ASSERT_STRING_EQUAL(c.train.metric, "log_loss");
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "db.name=", &err), RDM_EINVAL);
    CU_ASSERT_STRING_EQUAL(c.db.name, "my_db");
    rdm_config_release(&c);
}

static void test_validate(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "split.train_below=85", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "train_below < valid_below"));
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "split.valid_below=100", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.logreg.enabled=no", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.gbt.enabled=no", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_OK); /* the baseline alone */
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.baseline.enabled=no", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_validate(&c, &err), RDM_EINVAL);
    CU_ASSERT(has(err.msg, "every model family is disabled"));
    rdm_config_release(&c);
}

static void test_section_text(void)
{
    rdm_config a, b;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&a, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&b, &err), RDM_OK);
    rdm_buf ta = RDM_BUF_INIT, tb = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_config_section_text(&a, "split", &ta), RDM_OK);
    CU_ASSERT_STRING_EQUAL(ta.data, "split.train_below=70\nsplit.valid_below=85\n");
    rdm_buf_reset(&ta);

    CU_ASSERT_EQUAL(rdm_config_section_text(&a, "clean", &ta), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_section_text(&b, "clean", &tb), RDM_OK);
    CU_ASSERT_STRING_EQUAL(ta.data, tb.data);
    CU_ASSERT(has(ta.data, "clean.max_reject_rate=0.05\n"));
    CU_ASSERT(has(ta.data, "clean.exclude_discharge=[11, 13, 14, 19, 20, 21]\n"));
    CU_ASSERT(has(ta.data, "{name: \"gender_allowed\", column: \"gender\", allowed: [\"Female\", "
                           "\"Male\", \"Unknown/Invalid\"], severity: hard}\n"));
    CU_ASSERT(!strstr(ta.data, "train.")); /* only the section asked for */

    /* the same value reached differently gives the same text */
    CU_ASSERT_EQUAL(rdm_config_set(&b, "clean.max_reject_rate=5e-2", &err), RDM_OK);
    rdm_buf_reset(&tb);
    CU_ASSERT_EQUAL(rdm_config_section_text(&b, "clean", &tb), RDM_OK);
    CU_ASSERT_STRING_EQUAL(ta.data, tb.data);

    /* a changed value changes it */
    CU_ASSERT_EQUAL(rdm_config_set(&b, "clean.max_reject_rate=0.06", &err), RDM_OK);
    rdm_buf_reset(&tb);
    CU_ASSERT_EQUAL(rdm_config_section_text(&b, "clean", &tb), RDM_OK);
    CU_ASSERT_STRING_NOT_EQUAL(ta.data, tb.data);
    CU_ASSERT(has(tb.data, "clean.max_reject_rate=0.06\n"));

    /* ... and so does a changed rule */
    CU_ASSERT_EQUAL(rdm_config_set(&b, "clean.max_reject_rate=0.05", &err), RDM_OK);
    b.clean.rules[0].hard = !b.clean.rules[0].hard;
    rdm_buf_reset(&tb);
    CU_ASSERT_EQUAL(rdm_config_section_text(&b, "clean", &tb), RDM_OK);
    CU_ASSERT_STRING_NOT_EQUAL(ta.data, tb.data);
    b.clean.rules[0].hard = !b.clean.rules[0].hard;
    rdm_buf_reset(&tb);
    CU_ASSERT_EQUAL(rdm_config_section_text(&b, "clean", &tb), RDM_OK);
    CU_ASSERT_STRING_EQUAL(ta.data, tb.data);

    /* other sections do not leak into it */
    CU_ASSERT_EQUAL(rdm_config_set(&b, "train.seed=7", &err), RDM_OK);
    rdm_buf_reset(&tb);
    CU_ASSERT_EQUAL(rdm_config_section_text(&b, "clean", &tb), RDM_OK);
    CU_ASSERT_STRING_EQUAL(ta.data, tb.data);

    /* train: the thread count is not part of the fingerprint, the seed is */
    rdm_buf_reset(&ta);
    rdm_buf_reset(&tb);
    CU_ASSERT_EQUAL(rdm_config_set(&a, "train.threads=8", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_section_text(&a, "train", &ta), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&b, "train.seed=42", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_section_text(&b, "train", &tb), RDM_OK);
    CU_ASSERT_STRING_EQUAL(ta.data, tb.data);
    CU_ASSERT(has(ta.data, "train.gbt.learning_rate=[0.05, 0.1]\n"));
    CU_ASSERT(!strstr(ta.data, "threads"));

    /* no such section: nothing */
    rdm_buf_reset(&ta);
    CU_ASSERT_EQUAL(rdm_config_section_text(&a, "nope", &ta), RDM_OK);
    CU_ASSERT_EQUAL(ta.len, 0);
    rdm_buf_release(&ta);
    rdm_buf_release(&tb);
    rdm_config_release(&a);
    rdm_config_release(&b);
}

/* The YAML printed by `readmit config` loads back to the same settings. */
static void test_yaml_roundtrip(void)
{
    rdm_config a, b;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(load_fixture(&a, FIX "rules.yaml", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&a, "registry.model_name=with \"quotes\" \\ and: colon", &err),
                    RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&a, "train.logreg.tol=3e-9", &err), RDM_OK);
    rdm_buf y = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_config_yaml(&a, &y), RDM_OK);
    char path[] = "/tmp/readmit-test-config-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(fwrite(y.data, 1, y.len, f), y.len);
    fclose(f);
    CU_ASSERT_EQUAL(load_fixture(&b, path, &err), RDM_OK);
    unlink(path);
    char *ta = all_text(&a), *tb = all_text(&b);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    CU_ASSERT_STRING_EQUAL(b.registry.model_name, "with \"quotes\" \\ and: colon");
    CU_ASSERT_EQUAL(b.clean.nrules, 5);
    free(ta);
    free(tb);
    rdm_buf_release(&y);
    rdm_config_release(&a);
    rdm_config_release(&b);
}

/* The library reads no environment variable: READMIT_DATA is the command's
 * business (cmd_load_config; tested in t1000-ingest.sh). */
static void test_env_data(void)
{
    rdm_config c;
    rdm_err err = {0};
    const char *old = getenv("READMIT_DATA");
    char *saved = old ? strdup(old) : NULL;
    setenv("READMIT_DATA", "/elsewhere/dataset_diabetes.zip", 1);
    CU_ASSERT_EQUAL(load_fixture(&c, "../conf/test.yaml", &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.data.source, "data/dataset_diabetes.zip");
    CU_ASSERT_EQUAL(rdm_config_set(&c, "data.source=x.csv", &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.data.source, "x.csv");
    rdm_config_release(&c);
    unsetenv("READMIT_DATA");
    if (saved) {
        setenv("READMIT_DATA", saved, 1);
        free(saved);
    }
}

/* A fake environment for rdm_config_apply_env. */
static char *fake_env(const char *name)
{
    static char data[] = "/elsewhere/d.zip", cache[] = "/tmp/models-x", empty[] = "";
    if (!strcmp(name, "READMIT_DATA"))
        return data;
    if (!strcmp(name, "READMIT_MODEL_CACHE"))
        return cache;
    if (!strcmp(name, "READMIT_UNSET_HERE"))
        return empty;
    return NULL;
}

static char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

/* The commands apply the environment through rdm_config_apply_env (given
 * getenv); the cache directory is one setting, registry.cache_dir, outside
 * every fingerprint. */
static void test_apply_env(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(load_fixture(&c, "../conf/test.yaml", &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.registry.cache_dir, "var/models");
    char before[65], after[65];
    CU_ASSERT_EQUAL(rdm_config_fingerprint(&c, "register", before, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_apply_env(&c, no_env, &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.data.source, "data/dataset_diabetes.zip");
    CU_ASSERT_EQUAL(rdm_config_apply_env(&c, fake_env, &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(c.data.source, "/elsewhere/d.zip");
    CU_ASSERT_STRING_EQUAL(c.registry.cache_dir, "/tmp/models-x");
    CU_ASSERT_EQUAL(rdm_config_fingerprint(&c, "register", after, &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(before, after);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "registry.cache_dir=", &err), RDM_EINVAL);
    rdm_config_release(&c);
}

/* The private-cluster conninfo quotes its values: a quote in the database
 * name or the socket path cannot add conninfo keywords. */
static void test_conninfo_quoting(void)
{
    const char *names[] = {"DATABASE_URL", "PGHOST"};
    char *saved[2];
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        saved[i] = v ? strdup(v) : NULL;
        unsetenv(names[i]);
    }
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "db.socket_dir=/no/such/dir's", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_set(&c, "db.name=x' host='evil", &err), RDM_OK);
    char *ci = rdm_db_conninfo(&c);
    CU_ASSERT_PTR_NOT_NULL(ci);
    if (ci)
        CU_ASSERT_STRING_EQUAL(ci, "host='/no/such/dir\\'s' dbname='x\\' host=\\'evil' "
                                   "user='readmit'");
    free(ci);
    rdm_config_release(&c);
    for (int i = 0; i < 2; i++) {
        if (saved[i])
            setenv(names[i], saved[i], 1);
        free(saved[i]);
    }
}

static void test_release(void)
{
    rdm_config c;
    rdm_err err = {0};
    /* load over load (values replaced, old ones freed), then release */
    CU_ASSERT_EQUAL_FATAL(load_fixture(&c, "../conf/readmit.yaml", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_load(&c, FIX "rules.yaml", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_config_load(&c, FIX "bad_rule_column.yaml", &err), RDM_EINVAL);
    rdm_config_release(&c);
    CU_ASSERT_PTR_NULL(c.path);
    CU_ASSERT_PTR_NULL(c.data.source);
    CU_ASSERT_PTR_NULL(c.clean.rules);
    CU_ASSERT_EQUAL(c.clean.nrules, 0);
    CU_ASSERT_PTR_NULL(c.train.logreg_l2.v);
    rdm_config_release(&c); /* twice is harmless */
}

/* Each stage's fingerprint is the sha256 of its sections' canonical text
 * (computed here independently), and moves only with its own settings. */
static void test_stage_fingerprints(void)
{
    static const struct {
        const char *stage, *sections[4];
    } want[] = {
        {"ingest", {"data"}},
        {"clean", {"clean"}},
        {"train", {"split", "features", "train"}},
        {"register", {"registry"}},
        {"monitor", {"monitor"}},
        {"report", {"report"}},
    };

    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    size_t n = 0;
    while (rdm_config_stage((int)n))
        n++;
    CU_ASSERT_EQUAL(n, sizeof want / sizeof want[0]);
    char before[6][65];
    for (size_t i = 0; i < sizeof want / sizeof want[0] && i < n; i++) {
        CU_ASSERT_STRING_EQUAL(rdm_config_stage((int)i), want[i].stage);
        rdm_buf b = RDM_BUF_INIT;
        for (int j = 0; want[i].sections[j]; j++)
            CU_ASSERT_EQUAL(rdm_config_section_text(&c, want[i].sections[j], &b), RDM_OK);
        char h[65];
        rdm_sha256_hex(b.data, b.len, h);
        rdm_buf_release(&b);
        CU_ASSERT_EQUAL(rdm_config_fingerprint(&c, want[i].stage, before[i], &err), RDM_OK);
        CU_ASSERT_STRING_EQUAL(before[i], h);
    }

    /* a training setting moves train only; a data setting moves ingest only */
    static const struct {
        const char *set;
        int moved; /* index into want */
    } edits[] = {
        {"train.seed=7", 2},        {"split.train_below=60", 2}, {"features.min_count=5", 2},
        {"data.batch_rows=100", 0}, {"clean.min_rows=3", 1},     {"registry.min_gain=0.01", 3},
        {"monitor.min_rows=50", 4}, {"report.dir=elsewhere", 5},
    };

    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        rdm_config d;
        CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&d, &err), RDM_OK);
        CU_ASSERT_EQUAL(rdm_config_set(&d, edits[e].set, &err), RDM_OK);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            char h[65];
            CU_ASSERT_EQUAL(rdm_config_fingerprint(&d, want[i].stage, h, &err), RDM_OK);
            CU_ASSERT_EQUAL(strcmp(h, before[i]) != 0, (int)i == edits[e].moved);
        }
        rdm_config_release(&d);
    }
    /* train.threads does not change what is trained */
    CU_ASSERT_EQUAL(rdm_config_set(&c, "train.threads=3", &err), RDM_OK);
    char h[65];
    CU_ASSERT_EQUAL(rdm_config_fingerprint(&c, "train", h, &err), RDM_OK);
    CU_ASSERT_STRING_EQUAL(h, before[2]);
    CU_ASSERT_EQUAL(rdm_config_fingerprint(&c, "serve", h, &err), RDM_EINVAL);
    CU_ASSERT_TRUE(has(err.msg, "no pipeline stage named 'serve'"));
    rdm_config_release(&c);
}

/* The default allowed levels and ranges are the schema's, in its order. */
static void test_default_rules_from_schema(void)
{
    rdm_config c;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_config_defaults(&c, &err), RDM_OK);
    const rdm_rule *race = rule_named(&c, "race_allowed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(race);
    static const char *const levels[] = {"Caucasian", "AfricanAmerican", "Hispanic", "Other",
                                         "Asian"};
    CU_ASSERT_EQUAL_FATAL(race->nallowed, 5);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_STRING_EQUAL(race->allowed[i], levels[i]);
    const rdm_rule *t = rule_named(&c, "time_in_hospital_range");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_DOUBLE_EQUAL(t->min, 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(t->max, 14, 0);
    const rdm_rule *a = rule_named(&c, "admission_type_id_range");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_DOUBLE_EQUAL(a->min, 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(a->max, 99, 0);
    rdm_config_release(&c);
}

int test_config_register(void);

int test_config_register(void)
{
    CU_pSuite s = CU_add_suite("config", NULL, NULL);
    if (!s)
        return -1;

    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"defaults", test_defaults},
        {"default rules cover schema levels", test_default_rules_cover_schema_levels},
        {"load conf/readmit.yaml and conf/test.yaml", test_load_project_configs},
        {"missing file", test_missing_file},
        {"nesting depth capped", test_nesting_depth},
        {"NUL byte in a value", test_nul_in_value},
        {"unknown key names file:line:col", test_unknown_key},
        {"wrong type", test_wrong_type},
        {"out of range", test_out_of_range},
        {"bad YAML", test_bad_yaml},
        {"rules", test_rules},
        {"bad rules", test_bad_rules},
        {"set overrides", test_set},
        {"validate", test_validate},
        {"section text", test_section_text},
        {"yaml round trip", test_yaml_roundtrip},
        {"env READMIT_DATA", test_env_data},
        {"environment applied through a lookup", test_apply_env},
        {"conninfo quoting", test_conninfo_quoting},
        {"release", test_release},
        {"stage fingerprints", test_stage_fingerprints},
        {"default rules from the schema", test_default_rules_from_schema},
    };

    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!CU_add_test(s, tests[i].name, tests[i].fn))
            return -1;
    return 0;
}
