/* runs.c - readmit runs: list, filter, sort, show and compare training runs
 * (reads in registry.c, queries in runs.c). */
#include "runs.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "registry.h"
#include "status.h"

static const char HELP[] =
    "usage: readmit runs [list] [--where EXPR] [--sort [-]FIELD] [--limit N] [--json]\n"
    "       readmit runs show RUN [--json]\n"
    "       readmit runs diff RUN_A RUN_B [--json]\n"
    "\n"
    "List the training runs of every training, newest first; show one run (its\n"
    "parameters, metrics on validation and test, data snapshot, code version);\n"
    "or print only what differs between two runs.\n"
    "\n"
    "Fields: run_id (id), training_id, model_type (type), name, status,\n"
    "snapshot_id, code_version, config_hash, valid.METRIC, test.METRIC,\n"
    "params.NAME (e.g. valid.roc_auc, params.learning_rate).\n"
    "\n"
    "      --where EXPR    keep runs matching FIELD OP VALUE [and ...], OP one of\n"
    "                      = != < <= > >= ~ (contains), e.g.\n"
    "                      'type=gbt and valid.roc_auc>0.66'\n"
    "      --sort FIELD    sort by FIELD; -FIELD for descending (-valid.roc_auc)\n"
    "      --limit N       at most N runs\n"
    "      --training ID   only the runs of training ID\n"
    "      --json          JSON instead of a table\n" CMD_READ_HELP;

static int print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = s && puts(s) >= 0 ? EXIT_OK : EXIT_FAIL;
    free(s);
    return rc;
}

/* A string that is wholly a number, in its shortest faithful form (15
 * significant digits). Returns 0 for anything else. */
static int number_text(const char *s, char *out, size_t n)
{
    char *end;
    double d = strtod(s, &end);
    if (!*s || *end || isspace((unsigned char)*s))
        return 0;
    snprintf(out, n, "%.15g", d);
    return 1;
}

/* A scalar as text for the tables. */
static void scalar_text(const json_t *v, char *out, size_t n)
{
    if (!v || json_is_null(v))
        snprintf(out, n, "-");
    else if (json_is_string(v) && number_text(json_string_value(v), out, n))
        ; /* a parameter stored as "0.10000000000000001" reads 0.1 */
    else if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, n, "%.4f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, n, "%s", json_is_true(v) ? "yes" : "no");
    else {
        char *s = json_dumps(v, JSON_COMPACT);
        snprintf(out, n, "%s", s ? s : "?");
        free(s);
    }
}

/* The list as a table: id, training, type, name, status, the selection metric. */
static int print_list(const json_t *runs, const char *metric)
{
    char vkey[64], tkey[64];
    snprintf(vkey, sizeof vkey, "valid.%s", metric);
    snprintf(tkey, sizeof tkey, "test.%s", metric);
    const char *const keys[] = {"run", "training", "type", "name", "status", vkey, tkey, NULL};
    json_t *rows = json_array();
    size_t i;
    json_t *r;
    int bad = !rows;
    json_array_foreach(runs, i, r)
    {
        json_t *row = json_object();
        const char *src[] = {"run_id", "training_id", "model_type", "name", "status", vkey, tkey};
        for (size_t k = 0; k < sizeof src / sizeof src[0] && row; k++) {
            const json_t *v = rdm_runs_get(r, src[k]);
            bad |= json_object_set(row, keys[k], v ? (json_t *)v : json_null());
        }
        bad |= !row || json_array_append_new(rows, row);
    }
    rdm_buf out = RDM_BUF_INIT;
    if (!bad && json_array_size(rows) == 0)
        puts("(no runs)");
    else if (!bad)
        bad = rdm_status_table(&out, rows, keys, keys) || !out.data || fputs(out.data, stdout) < 0;
    rdm_buf_release(&out);
    json_decref(rows);
    return bad ? EXIT_FAIL : EXIT_OK;
}

static const json_t *find_run(const json_t *runs, long long id)
{
    size_t i;
    json_t *r;
    json_array_foreach(runs, i,
                       r) if (json_integer_value(json_object_get(r, "run_id")) == id) return r;
    return NULL;
}

static int parse_id(const char *s, long long *id)
{
    char *end;
    *id = s ? strtoll(s, &end, 10) : 0;
    return s && *s && !*end && *id > 0;
}

static int show(const json_t *runs, const char *ids, int as_json)
{
    long long id;
    if (!parse_id(ids, &id))
        return cmd_usage_error("runs", "show wants a run id, not '%s'", ids ? ids : "");
    const json_t *run = find_run(runs, id);
    if (!run) {
        fprintf(stderr, "readmit runs: no run %lld\n", id);
        return EXIT_FAIL;
    }
    json_t *flat = rdm_runs_flat(run);
    int rc = EXIT_FAIL;
    if (flat && as_json) {
        rc = print_json(flat);
    } else if (flat) {
        const char *key;
        json_t *v;
        rc = EXIT_OK;
        json_object_foreach(flat, key, v)
        {
            char text[512];
            scalar_text(v, text, sizeof text);
            printf("%-28s %s\n", key, text);
        }
    }
    json_decref(flat);
    return rc;
}

static int diff(const json_t *runs, const char *as, const char *bs, int as_json)
{
    long long a, b;
    if (!parse_id(as, &a) || !parse_id(bs, &b))
        return cmd_usage_error("runs", "diff wants two run ids");
    const json_t *ra = find_run(runs, a), *rb = find_run(runs, b);
    if (!ra || !rb) {
        fprintf(stderr, "readmit runs: no run %lld\n", ra ? b : a);
        return EXIT_FAIL;
    }
    json_t *d = rdm_runs_diff(ra, rb);
    int rc = EXIT_FAIL;
    if (d && as_json) {
        rc = print_json(d);
    } else if (d) {
        size_t i;
        json_t *row;
        printf("%-28s %-24s %s\n", "field", as, bs);
        json_array_foreach(d, i, row)
        {
            char ta[256], tb[256];
            scalar_text(json_object_get(row, "a"), ta, sizeof ta);
            scalar_text(json_object_get(row, "b"), tb, sizeof tb);
            printf("%-28s %-24s %s\n", json_string_value(json_object_get(row, "field")), ta, tb);
        }
        if (json_array_size(d) == 0)
            puts("(no difference)");
        rc = EXIT_OK;
    }
    json_decref(d);
    return rc;
}

int cmd_runs(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *where = NULL, *sort = NULL, *limit = NULL, *training = NULL, *sub = NULL, *a = NULL,
               *b = NULL;
    const cmd_opt opts[] = {{"--json", NULL, &ctx.json},
                            {"--where", &where, NULL},
                            {"--sort", &sort, NULL},
                            {"--limit", &limit, NULL},
                            {"--training", &training, NULL},
                            {NULL, &sub, NULL},
                            {NULL, &a, NULL},
                            {NULL, &b, NULL},
                            {0}};
    int rc = cmd_parse(&ctx, "runs", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    if (!sub) {
        sub = "list";
    } else if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "diff") != 0) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("runs", "unknown subcommand '%s' (list, show, diff)", sub);
    }
    long long tid = 0, lim = 0;
    if ((training && !parse_id(training, &tid)) || (limit && !parse_id(limit, &lim))) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("runs", "--training and --limit want a number >= 1");
    }
    if ((!strcmp(sub, "list") && a) || (strcmp(sub, "diff") != 0 && b)) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("runs", "unexpected argument '%s'", b ? b : a);
    }
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    json_t *runs = rdm_registry_runs_json(db, tid, &err);
    rdm_db_close(db);
    if (!runs) {
        rc = cmd_fail("runs", &err);
    } else if (!strcmp(sub, "show")) {
        rc = show(runs, a, ctx.json);
    } else if (!strcmp(sub, "diff")) {
        rc = diff(runs, a, b, ctx.json);
    } else if ((where && rdm_runs_filter(runs, where, &err)) ||
               (sort && rdm_runs_sort(runs, sort, &err))) {
        rc = err.code == RDM_EINVAL ? cmd_usage_error("runs", "%s", err.msg)
                                    : cmd_fail("runs", &err);
    } else {
        while (lim > 0 && json_array_size(runs) > (size_t)lim)
            json_array_remove(runs, json_array_size(runs) - 1);
        rc = ctx.json ? print_json(runs) : print_list(runs, ctx.cfg.train.metric);
    }
    json_decref(runs);
    cmd_ctx_release(&ctx);
    return fflush(stdout) && rc == EXIT_OK ? EXIT_FAIL : rc;
}
