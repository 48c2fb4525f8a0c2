/* status.c - readmit status: batches, row counts, clean snapshot and validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "status.h"

static const char HELP[] =
    "usage: readmit status [--json] [options]\n"
    "\n"
    "Print the state of the pipeline: the raw batches and how they were cleaned,\n"
    "the row counts (raw read = accepted + rejected; accepted = clean + filtered\n"
    "+ duplicates + rejected by validation), the current clean snapshot with its\n"
    "validation results (checks with violations), and the last failed clean run\n"
    "if it is newer than the snapshot.\n"
    "\n"
    "      --json          the same as one JSON document (layout: src/status.h)\n" CMD_COMMON_HELP;

int cmd_status(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = cmd_common_opt(&ctx, argc, argv, &i);
        if (c < 0) {
            cmd_ctx_release(&ctx);
            return cmd_usage_error("status", "option %s needs a value", a);
        }
        if (c > 0)
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(HELP, stdout);
            cmd_ctx_release(&ctx);
            return EXIT_OK;
        }
        cmd_ctx_release(&ctx);
        return cmd_usage_error("status", "unknown argument '%s'", a);
    }
    int rc = cmd_load_config(&ctx);
    if (rc != EXIT_OK) {
        cmd_ctx_release(&ctx);
        return rc;
    }
    rdm_db *db = cmd_connect(&ctx);
    if (!db) {
        cmd_ctx_release(&ctx);
        return EXIT_FAIL;
    }
    rdm_err err = {0};
    json_t *st = rdm_status_build(db, &ctx.cfg, &err);
    rdm_db_close(db);
    if (!st) {
        cmd_ctx_release(&ctx);
        return cmd_fail("status", &err);
    }
    if (ctx.json) {
        char *s = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s) {
            puts(s);
            free(s);
        } else {
            rc = cmd_fail("status", NULL);
        }
    } else {
        rdm_buf out = RDM_BUF_INIT;
        if (rdm_status_text(st, &out) == RDM_OK)
            fputs(out.data ? out.data : "", stdout);
        else
            rc = cmd_fail("status", NULL);
        rdm_buf_release(&out);
    }
    json_decref(st);
    cmd_ctx_release(&ctx);
    if (fflush(stdout) != 0)
        rc = EXIT_FAIL;
    return rc;
}
