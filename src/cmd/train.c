/* train.c - readmit train: every configured model on the current clean
 * snapshot. */
#include "train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char HELP[] =
    "usage: readmit train [--defer-details | --details] [--stamp FILE] [options]\n"
    "\n"
    "Train every model configured under train: (majority baseline, logistic\n"
    "regression for each train.logreg.l2, boosted trees for each\n"
    "(train.gbt.learning_rate, train.gbt.max_leaves)) on the current clean\n"
    "snapshot, split by patient (split.train_below / split.valid_below). Each\n"
    "grid point is a run in registry.runs with params, validation and test\n"
    "metrics, curves and the model file (registry.artifacts and\n"
    "var/models/<sha256>.model). The best run by train.metric on VALIDATION "
    "is\n"
    "selected; the test split is only reported. Progress goes to stderr (on a terminal).\n"
    "\n"
    "      --defer-details  leave each run's test split details (explanations and\n"
    "                       performance by patient group, for the report) to\n"
    "                       readmit train --details, which can run while the\n"
    "                       selected run is registered and served\n"
    "      --details        only those details, for the runs of the latest\n"
    "                       training that lack them (the same values)\n" CMD_COMMON_HELP;

/* The library reports one line per event ("train run=3 ... finished ...
 * valid_roc_auc=0.6742"): shown as the progress line. */
static void progress(const char *line, void *ud)
{
    cmd_progress_cb(ud, "train", 0, -1, line);
}

/* readmit train --details; the stamp names the training and how many of
 * its runs have their details */
static int details(cmd_ctx *ctx, rdm_db *db, const rdm_train_opts *opts, rdm_err *err)
{
    rdm_train_details_result res;
    int rc = rdm_train_details(&ctx->cfg, db, opts, &res, err);
    if (rc)
        return rc;
    if (res.missing)
        printf("details of training %lld: %d of %d run(s) measured (explanations of the test "
               "split, performance by group) in %.1f s\n",
               res.training_id, res.done, res.missing, res.seconds);
    else
        printf("details of training %lld: every run has them (%d)\n", res.training_id, res.already);
    char fp[96];
    snprintf(fp, sizeof fp, "training=%lld runs=%d", res.training_id, res.already + res.done);
    return cmd_stamp(ctx, fp, err);
}

int cmd_train(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    int defer = 0, only_details = 0;
    const cmd_opt copts[] = {
        {"--defer-details", NULL, &defer}, {"--details", NULL, &only_details}, {0}};
    int rc = cmd_parse(&ctx, "train", HELP, argc, argv, copts);
    if (rc != CMD_RUN)
        return rc;
    if (defer && only_details) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("train", "--defer-details and --details exclude each other");
    }
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    rdm_train_result res;
    cmd_progress pr;
    cmd_progress_init(&pr, &ctx);
    char code[RDM_CODE_VERSION_MAX];
    rdm_code_version(code, getenv("READMIT_CODE_VERSION"));
    rdm_train_opts opts = {code, pr.on ? progress : NULL, &pr, defer};
    if (only_details) {
        rc = details(&ctx, db, &opts, &err);
        cmd_progress_end(&pr);
        rdm_db_close(db);
        cmd_ctx_release(&ctx);
        return rc == RDM_OK ? EXIT_OK : cmd_fail("train", &err);
    }
    rc = rdm_train(&ctx.cfg, db, &opts, &res, &err);
    cmd_progress_end(&pr);
    if (rc == RDM_OK) {
        printf("training %lld: %d runs (%d finished, %d failed) on snapshot %lld "
               "(%zu train / %zu valid / %zu test rows) in %.1f s\n",
               res.training_id, res.runs, res.finished, res.failed, res.snapshot_id, res.rows[0],
               res.rows[1], res.rows[2], res.seconds);
        printf("selected run %lld (%s): validation %s %.4f, test %.4f\n", res.selected_run_id,
               res.selected_name, ctx.cfg.train.metric, res.selected_valid, res.selected_test);
        /* the stamp names the training's inputs, so make re-runs register only
         * when data, training config or code changed */
        rdm_buf fp = RDM_BUF_INIT;
        char h[65];
        rc = rdm_config_fingerprint(&ctx.cfg, "train", h, &err);
        if (rc == RDM_OK &&
            rdm_buf_printf(&fp, "snapshot=%s config=%s code=%s", res.fingerprint, h, code))
            rc = rdm_errf(&err, RDM_ENOMEM, "out of memory");
        if (rc == RDM_OK)
            rc = cmd_stamp(&ctx, fp.data, &err);
        rdm_buf_release(&fp);
    }
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("train", &err);
}
