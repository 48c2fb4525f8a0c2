/* report.c - readmit report: write the static HTML site (or check generated pages). */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char USAGE[] =
    "usage: readmit report [--out DIR] [options]\n"
    "       readmit report --check FILE...\n\n"
    "Write the static site of experiments, model versions and data quality:\n"
    "index.html, compare.html, data.html and runs/<id>.html under DIR (default\n"
    "report.dir, reports/). Only pages whose content changed are rewritten.\n"
    "--check parses generated pages with libxml2's HTML parser and checks that\n"
    "every link resolves to a file and none is external (exit 1 on a problem).\n\n"
    "  --out DIR           output directory\n"
    "  --check FILE...     check pages instead of writing\n" CMD_COMMON_HELP;

static int check_pages(int argc, char **argv, int first)
{
    int bad = 0, total = 0;
    for (int i = first; i < argc; i++) {
        rdm_buf msgs = RDM_BUF_INIT;
        rdm_err err = {0};
        int problems = 0;
        if (rdm_report_check_page(argv[i], &problems, &msgs, &err)) {
            fprintf(stderr, "readmit report: %s\n", err.msg);
            bad++;
        } else if (problems) {
            fputs(msgs.data ? msgs.data : "", stderr);
            bad++;
        }
        total++;
        rdm_buf_release(&msgs);
    }
    if (!total)
        return cmd_usage_error("report", "--check needs at least one file");
    printf("report check: %d page(s), %d with problems\n", total, bad);
    return bad ? EXIT_FAIL : EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            free(ctx.overrides);
            return cmd_usage_error("report", "unknown argument '%s'", argv[i]);
        }
        int r = cmd_common_opt(&ctx, argc, argv, &i);
        if (r < 0) {
            free(ctx.overrides);
            return cmd_usage_error("report", "option %s needs a value", argv[i]);
        }
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            free(ctx.overrides);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--check")) {
            free(ctx.overrides);
            return check_pages(argc, argv, i + 1);
        }
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
            continue;
        }
        if (!strncmp(argv[i], "--out=", 6)) {
            out = argv[i] + 6;
            continue;
        }
        free(ctx.overrides);
        return cmd_usage_error("report", "unknown argument '%s'", argv[i]);
    }
    int rc = cmd_load_config(&ctx);
    if (rc) {
        cmd_ctx_release(&ctx);
        return rc;
    }
    rdm_db *db = cmd_connect(&ctx);
    if (!db) {
        cmd_ctx_release(&ctx);
        return EXIT_FAIL;
    }
    rdm_err err = {0};
    double t0 = rdm_now();
    rdm_report_site *site = rdm_report_load(db, &ctx.cfg, &err);
    if (site && rdm_report_load_drift(db, site, &err)) {
        rdm_report_site_free(site);
        site = NULL;
    }
    rdm_db_close(db);
    double t1 = rdm_now();
    rdm_report_stats st = {0};
    const char *dir = out ? out : (ctx.cfg.report.dir ? ctx.cfg.report.dir : "reports");
    rc = site ? rdm_report_write_site(site, dir, &st, &err) : err.code;
    rdm_report_site_free(site);
    if (rc == RDM_OK)
        rc = cmd_stamp(&ctx, st.fingerprint, &err);
    if (rc) {
        cmd_ctx_release(&ctx);
        return cmd_fail("report", &err);
    }
    double t2 = rdm_now();
    rdm_log(RDM_LOG_INFO, "report pages=%d written=%d removed=%d load_s=%.3f build_s=%.3f dir=%s",
            st.pages, st.written, st.removed, t1 - t0, t2 - t1, dir);
    if (!ctx.quiet)
        printf("%s/index.html\n", dir);
    cmd_ctx_release(&ctx);
    return EXIT_OK;
}
