/* promote.c - readmit promote: make a model version the champion by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gate.h"
#include "registry.h"

static const char HELP[] =
    "usage: readmit promote VERSION [--reason TEXT] [options]\n"
    "\n"
    "Make VERSION of registry.model_name the champion, whatever the gate "
    "said.\n"
    "The change is appended to registry.alias_history as \"manual promote\" "
    "with\n"
    "the reason and $USER, and NOTIFY readmit_model tells servers at once. If\n"
    "VERSION was the challenger, it stops being the challenger.\n"
    "\n"
    "  --reason TEXT       why (recorded in the history)\n" CMD_READ_HELP;

int cmd_promote(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *reason = NULL, *vtext = NULL;
    const cmd_opt opts[] = {{"--reason", &reason, NULL}, {NULL, &vtext, NULL}, {0}};
    int rc = cmd_parse(&ctx, "promote", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    int version = 0;
    if (!vtext || rdm_registry_parse_version(vtext, &version) != RDM_OK) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error(
            "promote", vtext ? "VERSION must be a positive integer, not '%s'" : "missing VERSION%s",
            vtext ? vtext : "");
    }
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    rdm_gate_result g;
    char actor[256];
    cmd_actor(actor, sizeof actor, "promote");
    rc = rdm_gate_promote(db, &ctx.cfg, version, reason, actor, &g, &err);
    if (rc == RDM_OK) {
        if (g.already)
            printf("%s: version %d is already the champion; nothing to do\n",
                   ctx.cfg.registry.model_name, g.champion);
        else if (g.had_champion)
            printf("%s: champion version %d -> %d (%s)\n", ctx.cfg.registry.model_name,
                   g.old_champion, g.champion, g.reason);
        else
            printf("%s: champion -> version %d (%s)\n", ctx.cfg.registry.model_name, g.champion,
                   g.reason);
    }
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("promote", &err);
}
