/* config.c - readmit config: print the effective configuration. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const char HELP[] =
    "usage: readmit config [options]\n"
    "\n"
    "Print the effective configuration (defaults, then the config file, then the\n"
    "environment: READMIT_DATA sets data.source, then -o overrides) as YAML that\n"
    "readmit reads back with -c. Errors name file:line:column.\n"
    "\n"
    "Options:\n"
    "      --defaults      print the built-in defaults (plus -o overrides); read no file\n"
    "      --section NAME  print the canonical key=value text of one section (clean,\n"
    "                      train, ...) that the pipeline fingerprints\n" CMD_COMMON_HELP;

int cmd_config(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    int defaults = 0;
    const char *section = NULL;
    const cmd_opt opts[] = {{"--defaults", NULL, &defaults}, {"--section", &section, NULL}, {0}};
    int rc = cmd_parse(&ctx, "config", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    rc = EXIT_OK;
    if (defaults) {
        rdm_err err = {0};
        ctx.cfg_loaded = 1;
        int e = rdm_config_defaults(&ctx.cfg, &err);
        for (int i = 0; !e && i < ctx.noverrides; i++)
            e = rdm_config_set(&ctx.cfg, ctx.overrides[i], &err);
        if (!e)
            e = rdm_config_validate(&ctx.cfg, &err);
        if (e) {
            fprintf(stderr, "readmit: config: %s\n", err.msg);
            rc = EXIT_USAGE;
            goto out;
        }
    } else if ((rc = cmd_load_config(&ctx)) != EXIT_OK) {
        goto out;
    }
    rdm_buf b = RDM_BUF_INIT;
    int e;
    if (section) {
        e = rdm_config_section_text(&ctx.cfg, section, &b);
        if (!e && b.len == 0) {
            rdm_buf_release(&b);
            rc = cmd_usage_error("config", "no settings under section '%s'", section);
            goto out;
        }
    } else {
        e = rdm_buf_printf(&b, "# readmit configuration (%s)\n",
                           ctx.cfg.path ? ctx.cfg.path : "built-in defaults");
        if (!e)
            e = rdm_config_yaml(&ctx.cfg, &b);
    }
    if (e) {
        rdm_err err = {0};
        rdm_errf(&err, e, "out of memory");
        rc = cmd_fail("config", &err);
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)) {
        rc = EXIT_FAIL;
    }
    rdm_buf_release(&b);
out:
    cmd_ctx_release(&ctx);
    return rc;
}
