/* history.c - readmit history and readmit versions: the registry's alias
 * history and model versions, as tables or JSON (reads in registry.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "registry.h"
#include "status.h"

static const char HISTORY_HELP[] =
    "usage: readmit history [--json] [--fingerprint] [options]\n"
    "\n"
    "Print the alias history of the registered model (registry.model_name),\n"
    "oldest first: every champion/challenger change with its action (register,\n"
    "promote, rollback), versions, reason and who made it.\n"
    "\n"
    "      --json          the history as a JSON array\n"
    "      --fingerprint   one line that changes whenever an alias changes (make\n"
    "                      uses it to know the report is stale)\n" CMD_READ_HELP;

static const char VERSIONS_HELP[] =
    "usage: readmit versions [--json] [options]\n"
    "\n"
    "Print the versions of the registered model (registry.model_name), newest\n"
    "first, with their aliases (champion, challenger), run and sha256.\n"
    "\n"
    "      --json          the versions as a JSON array\n" CMD_READ_HELP;

/* Print `rows` as JSON or as a table of `keys`. */
static int print_rows(const json_t *rows, int as_json, const char *const *keys,
                      const char *const *heads)
{
    int rc = EXIT_OK;
    if (as_json) {
        char *s = json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!s || puts(s) < 0)
            rc = EXIT_FAIL;
        free(s);
    } else if (json_array_size(rows) == 0) {
        puts("(none)");
    } else {
        rdm_buf out = RDM_BUF_INIT;
        rc = rdm_status_table(&out, rows, keys, heads) == RDM_OK && out.data &&
                     fputs(out.data, stdout) >= 0
                 ? EXIT_OK
                 : EXIT_FAIL;
        rdm_buf_release(&out);
    }
    return fflush(stdout) ? EXIT_FAIL : rc;
}

int cmd_history(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    int fingerprint = 0;
    const cmd_opt opts[] = {
        {"--json", NULL, &ctx.json}, {"--fingerprint", NULL, &fingerprint}, {0}};
    int rc = cmd_parse(&ctx, "history", HISTORY_HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    json_t *h = rdm_registry_history_json(db, ctx.cfg.registry.model_name, &err);
    rdm_db_close(db);
    if (!h) {
        rc = cmd_fail("history", &err);
    } else if (fingerprint) {
        /* the history is append-only: its length and last id change with every alias move */
        size_t n = json_array_size(h);
        json_int_t last =
            n ? json_integer_value(json_object_get(json_array_get(h, n - 1), "history_id")) : 0;
        printf("aliases:%s:%zu:%" JSON_INTEGER_FORMAT "\n", ctx.cfg.registry.model_name, n, last);
        rc = fflush(stdout) ? EXIT_FAIL : EXIT_OK;
    } else {
        static const char *const keys[] = {"history_id", "at",           "alias",
                                           "action",     "from_version", "to_version",
                                           "actor",      "reason",       NULL};
        static const char *const heads[] = {"id", "at",    "alias",  "action", "from",
                                            "to", "actor", "reason", NULL};
        rc = print_rows(h, ctx.json, keys, heads);
    }
    json_decref(h);
    cmd_ctx_release(&ctx);
    return rc;
}

int cmd_versions(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const cmd_opt opts[] = {{"--json", NULL, &ctx.json}, {0}};
    int rc = cmd_parse(&ctx, "versions", VERSIONS_HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    json_t *v = rdm_registry_versions_json(db, ctx.cfg.registry.model_name, &err);
    rdm_db_close(db);
    if (!v) {
        rc = cmd_fail("versions", &err);
    } else {
        static const char *const keys[] = {"version",    "aliases", "run_id",
                                           "created_at", "sha256",  NULL};
        static const char *const heads[] = {"version", "aliases", "run", "created", "sha256", NULL};
        json_t *rows = json_array();
        size_t i;
        json_t *e;
        /* the table shows the alias list as one word; JSON keeps the array */
        json_array_foreach(v, i, e)
        {
            json_t *row = json_deep_copy(e);
            json_t *al = json_object_get(e, "aliases");
            rdm_buf a = RDM_BUF_INIT;
            size_t j;
            json_t *x;
            int bad = !row;
            json_array_foreach(al, j, x) bad |=
                rdm_buf_printf(&a, "%s%s", j ? "," : "", json_string_value(x));
            if (!bad)
                bad = json_object_set_new(row, "aliases", json_string(a.data ? a.data : "-"));
            rdm_buf_release(&a);
            if (bad || json_array_append_new(rows, row))
                rc = EXIT_FAIL;
        }
        if (rc == EXIT_OK)
            rc = print_rows(ctx.json ? v : rows, ctx.json, keys, heads);
        json_decref(rows);
    }
    json_decref(v);
    cmd_ctx_release(&ctx);
    return rc;
}
