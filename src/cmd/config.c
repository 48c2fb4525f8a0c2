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
    "      --get KEY       print the value of one setting (e.g. data.source)\n"
    "      --section NAME  print the canonical key=value text of one section (clean,\n"
    "                      train, ...)\n"
    "      --fingerprints  print STAGE=SHA256 of the settings each pipeline stage reads\n"
    "                      (ingest, clean, train, register, report) on one line\n"
    "      --write-stamps DIR\n"
    "                      rewrite DIR/conf-STAGE.stamp for each stage whose settings\n"
    "                      changed (what make uses) and say which changed\n"
    "  -c, --config FILE   configuration (default conf/readmit.yaml; env READMIT_CONFIG)\n"
    "  -o KEY=VALUE        override one setting (e.g. -o data.batch_rows=5000)\n"
    "  -h, --help          this help\n";

/* Rewrite DIR/conf-STAGE.stamp where the stage's fingerprint changed; one line
 * on stdout names the stages (nothing when none changed). */
static int write_stamps(const rdm_config *cfg, const char *dir, rdm_buf *out, rdm_err *err)
{
    rdm_buf changed = RDM_BUF_INIT;
    int rc = RDM_OK, nchanged = 0, nnew = 0, n = 0;
    for (; rdm_config_stage(n) && rc == RDM_OK; n++) {
        const char *stage = rdm_config_stage(n);
        char fp[65];
        if ((rc = rdm_config_fingerprint(cfg, stage, fp, err)))
            break;
        rdm_buf path = RDM_BUF_INIT, old = RDM_BUF_INIT;
        rdm_err ignore = {0};
        rc = rdm_buf_printf(&path, "%s/conf-%s.stamp", dir, stage);
        int had = rc == RDM_OK && rdm_read_file(path.data, &old, &ignore) == RDM_OK;
        if (rc == RDM_OK && !(had && old.len == 65 && !memcmp(old.data, fp, 64))) {
            fp[64] = '\n';
            rc = rdm_write_file_atomic(path.data, fp, 65, err);
            nnew += !had;
            if (rc == RDM_OK && rdm_buf_printf(&changed, "%s%s", nchanged++ ? ", " : "", stage))
                rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        }
        rdm_buf_release(&path);
        rdm_buf_release(&old);
    }
    if (rc == RDM_OK && nchanged) {
        if (nnew == n)
            rc = rdm_buf_printf(out, "config: settings recorded for every stage (%s)\n",
                                changed.data);
        else
            rc = rdm_buf_printf(out, "config: settings changed for %s\n", changed.data);
        if (rc)
            rc = rdm_errf(err, rc, "out of memory");
    }
    rdm_buf_release(&changed);
    return rc;
}

/* What the command prints: the YAML, one section, one value or the fingerprints. */
static int render(const cmd_ctx *ctx, const char *section, const char *key, int fps,
                  const char *stamps, rdm_buf *b, rdm_err *err)
{
    if (stamps)
        return write_stamps(&ctx->cfg, stamps, b, err);
    if (key) {
        int rc = rdm_config_get(&ctx->cfg, key, b, err);
        return rc ? rc : rdm_buf_addc(b, '\n');
    }
    if (fps) {
        int rc = RDM_OK;
        for (int i = 0; rdm_config_stage(i) && rc == RDM_OK; i++) {
            char fp[65];
            rc = rdm_config_fingerprint(&ctx->cfg, rdm_config_stage(i), fp, err);
            if (rc == RDM_OK)
                rc = rdm_buf_printf(b, "%s%s=%s", i ? " " : "", rdm_config_stage(i), fp);
        }
        return rc ? rc : rdm_buf_addc(b, '\n');
    }
    if (section) {
        int rc = rdm_config_section_text(&ctx->cfg, section, b);
        if (rc == RDM_OK && b->len == 0)
            return rdm_errf(err, RDM_EINVAL, "no settings under section '%s'", section);
        return rc;
    }
    int rc = rdm_buf_printf(b, "# readmit configuration (%s)\n",
                            ctx->cfg.path ? ctx->cfg.path : "built-in defaults");
    return rc ? rc : rdm_config_yaml(&ctx->cfg, b);
}

int cmd_config(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    int defaults = 0, fps = 0;
    const char *section = NULL, *key = NULL, *stamps = NULL;
    const cmd_opt opts[] = {
        {"--defaults", NULL, &defaults}, {"--section", &section, NULL},     {"--get", &key, NULL},
        {"--fingerprints", NULL, &fps},  {"--write-stamps", &stamps, NULL}, {0}};
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
    rdm_err err = {0};
    int e = render(&ctx, section, key, fps, stamps, &b, &err);
    if (e == RDM_EINVAL) {
        rc = cmd_usage_error("config", "%s", err.msg);
    } else if (e) {
        if (!err.msg[0])
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
