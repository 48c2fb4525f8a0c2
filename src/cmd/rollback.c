/* rollback.c - readmit rollback: champion back to the previous champion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gate.h"
#include "registry.h"

static const char HELP[] =
    "usage: readmit rollback [--reason TEXT] [options]\n"
    "\n"
    "Move the champion alias of registry.model_name back to the previous\n"
    "champion according to registry.alias_history (each promotion can be\n"
    "rolled back once; a second rollback goes one further back). Fails when\n"
    "there is no previous champion. Recorded in the history with the reason\n"
    "and $USER; NOTIFY readmit_model tells servers at once.\n"
    "\n"
    "  --reason TEXT       why (recorded in the history)\n" CMD_READ_HELP;

int cmd_rollback(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *reason = NULL;
    const cmd_opt opts[] = {{"--reason", &reason, NULL}, {0}};
    int rc = cmd_parse(&ctx, "rollback", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    rdm_gate_result g;
    char actor[256];
    cmd_actor(actor, sizeof actor, "rollback");
    rc = rdm_gate_rollback(db, &ctx.cfg, reason, actor, &g, &err);
    if (rc == RDM_OK)
        printf("%s: champion version %d -> %d (%s)\n", ctx.cfg.registry.model_name, g.old_champion,
               g.champion, g.reason);
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("rollback", &err);
}
