/* model.c - readmit model: export a registered version with its lineage to
 * a file, import such a file as a new version, show one (transfer.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "transfer.h"

static const char HELP[] =
    "usage: readmit model export VERSION FILE [--json] [options]\n"
    "       readmit model import FILE [--json] [options]\n"
    "       readmit model show FILE [--json]\n"
    "\n"
    "Move a model between installations (databases). export writes VERSION of\n"
    "registry.model_name (or NAME:VERSION, champion, challenger) to FILE: a\n"
    "tar.gz holding manifest.json (sizes and sha256 of the other two),\n"
    "lineage.json (the run's parameters, metrics and curves, the training and\n"
    "data snapshot with its fingerprint, code version, who registered it and\n"
    "when, who exported it, this installation's id) and model.model (the model\n"
    "file itself).\n"
    "\n"
    "import verifies FILE (sizes, checksums, a model this readmit can load) and\n"
    "registers the model as the next version of registry.model_name, with a\n"
    "run carrying the lineage and the source installation and version recorded\n"
    "(readmit versions --json: imported_from). It sets no alias: promote it to\n"
    "serve it. A model already registered here (the same bytes) is not\n"
    "registered again: import says which version it is and succeeds. A damaged\n"
    "or truncated FILE is refused, naming it, and nothing is written.\n"
    "\n"
    "show verifies FILE and prints what it holds; it needs no database.\n"
    "\n"
    "      --json          the result (show: the whole lineage) as JSON\n" CMD_READ_HELP;

static int print_json(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    int rc = s && puts(s) >= 0 ? EXIT_OK : EXIT_FAIL;
    free(s);
    json_decref(j);
    return rc;
}

static int do_export(cmd_ctx *ctx, rdm_db *db, const char *ref, const char *file)
{
    rdm_err err = {0};
    rdm_transfer_result r;
    char actor[256];
    cmd_actor(actor, sizeof actor, "model export");
    if (rdm_transfer_export(db, &ctx->cfg, ref, actor, file, &r, &err))
        return err.code == RDM_EINVAL ? cmd_usage_error("model", "%s", err.msg)
                                      : cmd_fail("model", &err);
    if (ctx->json)
        return print_json(json_pack("{s:s, s:s, s:i, s:s, s:I, s:s}", "file", file, "name", r.name,
                                    "version", r.version, "sha256", r.sha256, "bytes",
                                    (json_int_t)r.bytes, "installation", r.source));
    printf("%s version %d -> %s (model sha256 %.12s, %zu bytes)\n", r.name, r.version, file,
           r.sha256, r.bytes);
    return EXIT_OK;
}

static json_t *source_json(const rdm_transfer_result *r)
{
    return json_pack("{s:s, s:s, s:i}", "installation", r->source, "name", r->source_name,
                     "version", r->source_version);
}

static int do_import(cmd_ctx *ctx, rdm_db *db, const char *file)
{
    rdm_err err = {0};
    rdm_transfer_result r;
    char actor[256];
    cmd_actor(actor, sizeof actor, "model import");
    if (rdm_transfer_import(db, &ctx->cfg, file, actor, &r, &err))
        return cmd_fail("model", &err);
    if (ctx->json)
        return print_json(json_pack("{s:s, s:s, s:i, s:b, s:I, s:s, s:o}", "file", file, "name",
                                    r.name, "version", r.version, "already", r.already, "run_id",
                                    (json_int_t)r.run_id, "sha256", r.sha256, "source",
                                    source_json(&r)));
    if (r.already)
        printf("%s: already %s version %d here (model sha256 %.12s); nothing imported\n", file,
               r.name, r.version, r.sha256);
    else
        printf("%s: imported as %s version %d (run %lld), from %s:%d of installation %s\n", file,
               r.name, r.version, r.run_id, r.source_name, r.source_version, r.source);
    return EXIT_OK;
}

static int do_show(cmd_ctx *ctx, const char *file)
{
    rdm_err err = {0};
    rdm_transfer_result r;
    json_t *l = NULL;
    if (rdm_transfer_read(file, &l, &r, &err))
        return cmd_fail("model", &err);
    if (ctx->json)
        return print_json(l);
    const json_t *run = json_object_get(l, "run");
    const json_t *valid = json_object_get(json_object_get(run, "metrics"), "valid");
    const json_t *auc = json_object_get(valid, "roc_auc");
    printf("%s: %s version %d of installation %s\n", file, r.source_name, r.source_version,
           r.source);
    printf("  model     %s, sha256 %s (verified)\n",
           json_string_value(json_object_get(run, "model_type")), r.sha256);
    printf("  run       %s (run %" JSON_INTEGER_FORMAT "), code %s\n",
           json_string_value(json_object_get(run, "name")),
           json_integer_value(json_object_get(run, "run_id")),
           json_string_value(json_object_get(run, "code_version")));
    if (auc)
        printf("  valid     roc_auc %.4f\n", json_number_value(auc));
    const char *fp = json_string_value(json_object_get(run, "data_fingerprint"));
    printf("  data      snapshot %" JSON_INTEGER_FORMAT ", fingerprint %.16s\n",
           json_integer_value(json_object_get(run, "snapshot_id")), fp ? fp : "-");
    printf("  exported  %s by %s\n", json_string_value(json_object_get(l, "exported_at")),
           json_string_value(json_object_get(l, "exported_by")));
    json_decref(l);
    return EXIT_OK;
}

int cmd_model(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *sub = NULL, *a = NULL, *b = NULL;
    const cmd_opt opts[] = {
        {"--json", NULL, &ctx.json}, {NULL, &sub, NULL}, {NULL, &a, NULL}, {NULL, &b, NULL}, {0}};
    int rc = cmd_parse(&ctx, "model", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    int is_export = sub && !strcmp(sub, "export"), is_import = sub && !strcmp(sub, "import"),
        is_show = sub && !strcmp(sub, "show");
    if (!is_export && !is_import && !is_show) {
        cmd_ctx_release(&ctx);
        return sub ? cmd_usage_error("model", "unknown subcommand '%s' (export, import, show)", sub)
                   : cmd_usage_error("model", "missing subcommand (export, import, show)");
    }
    if (is_export ? !a || !b : !a || b) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("model", "%s",
                               is_export ? "export needs VERSION and FILE"
                                         : "import and show need one FILE");
    }
    if (is_show) {
        rc = do_show(&ctx, a);
        cmd_ctx_release(&ctx);
        return fflush(stdout) && rc == EXIT_OK ? EXIT_FAIL : rc;
    }
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rc = is_export ? do_export(&ctx, db, a, b) : do_import(&ctx, db, a);
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return fflush(stdout) && rc == EXIT_OK ? EXIT_FAIL : rc;
}
