/* register.c - readmit register: the selected run of the latest training
 * becomes a new version; the promotion gate decides champion or challenger. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gate.h"
#include "registry.h"

static const char HELP[] =
    "usage: readmit register [--stamp FILE] [options]\n"
    "\n"
    "Register the run selected by the latest `readmit train` as version N+1 "
    "of\n"
    "registry.model_name (with its input schema and an example input), then\n"
    "apply the promotion gate: the new version and the current champion are\n"
    "both scored on the current validation split; the new version becomes the\n"
    "champion iff its train.metric >= registry.min_metric and it beats the\n"
    "champion by at least registry.min_gain; otherwise it becomes the\n"
    "challenger. Every alias change is recorded in registry.alias_history and "
    "a\n"
    "champion change sends NOTIFY readmit_model. Prints the gate decision and\n"
    "the champion's metrics. Registering the same training twice does "
    "nothing.\n"
    "\n" CMD_COMMON_HELP;

/* Print the validation/test metrics of the champion's run. */
static void print_champion(rdm_db *db, const rdm_config *cfg)
{
    rdm_err err = {0};
    int v = 0;
    char sha[65];
    if (rdm_registry_alias_get(db, cfg->registry.model_name, "champion", &v, sha, &err) || !v) {
        printf("no champion\n");
        return;
    }
    json_t *versions = rdm_registry_versions_json(db, cfg->registry.model_name, &err);
    long long run_id = 0;
    size_t i;
    json_t *ver;
    json_array_foreach(versions, i, ver)
    {
        if (json_integer_value(json_object_get(ver, "version")) == v)
            run_id = json_integer_value(json_object_get(ver, "run_id"));
    }
    json_decref(versions);
    json_t *runs = rdm_registry_runs_json(db, 0, &err);
    json_t *run;
    json_array_foreach(runs, i, run)
    {
        if (json_integer_value(json_object_get(run, "run_id")) != run_id)
            continue;
        printf("champion: %s version %d = run %lld (%s)\n", cfg->registry.model_name, v, run_id,
               json_string_value(json_object_get(run, "name")));
        static const char *const keys[] = {"roc_auc",   "pr_auc",   "log_loss",
                                           "brier",     "accuracy", "threshold",
                                           "precision", "recall",   "f1"};
        printf("  %-10s %10s %10s\n", "metric", "valid", "test");
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *va = json_object_get(json_object_get(run, "valid"), keys[k]);
            json_t *te = json_object_get(json_object_get(run, "test"), keys[k]);
            printf("  %-10s %10.4f %10.4f\n", keys[k], va ? json_number_value(va) : NAN,
                   te ? json_number_value(te) : NAN);
        }
        json_t *lo = json_object_get(json_object_get(run, "test"), "roc_auc_ci_low");
        json_t *hi = json_object_get(json_object_get(run, "test"), "roc_auc_ci_high");
        if (lo && hi)
            printf("  test roc_auc 95%% CI [%.4f, %.4f]\n", json_number_value(lo),
                   json_number_value(hi));
    }
    json_decref(runs);
}

int cmd_register(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    int rc = cmd_parse(&ctx, "register", HELP, argc, argv, NULL);
    if (rc != CMD_RUN)
        return rc;
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    rdm_gate_result g;
    char actor[256];
    cmd_actor(actor, sizeof actor, "register");
    rc = rdm_gate_register(db, &ctx.cfg, actor, &g, &err);
    if (rc == RDM_OK) {
        const char *name = ctx.cfg.registry.model_name;
        if (g.already)
            printf("the latest training is already registered as %s version %d; "
                   "nothing to do\n",
                   name, g.version);
        else
            printf("registered %s version %d\n%s\n-> %s\n", name, g.version, g.reason,
                   g.passed ? "promoted to champion" : "kept as challenger");
        print_champion(db, &ctx.cfg);
        char fp[256];
        snprintf(fp, sizeof fp, "model=%s version=%d champion=%d", name, g.version, g.champion);
        rc = cmd_stamp(&ctx, fp, &err);
    }
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("register", &err);
}
