/* status.c - readmit status: batches, row counts, clean snapshot and validation. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char HELP[] =
    "usage: readmit status [--json] [options]\n"
    "\n"
    "Print the state of the pipeline: the raw batches and how they were cleaned,\n"
    "the row counts (raw read = accepted + rejected; accepted = clean + filtered\n"
    "+ duplicates + rejected by validation), the current clean snapshot with its\n"
    "validation results (checks with violations), and the last failed clean run\n"
    "if it is newer than the snapshot.\n"
    "\n"
    "      --json          the same as one JSON document (layout: src/status.h)\n" CMD_READ_HELP;

int cmd_status(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const cmd_opt opts[] = {{"--json", NULL, &ctx.json}, {0}};
    int rc = cmd_parse(&ctx, "status", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
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
