/* monitor.c - readmit monitor: the monitor stage over the prediction log. */
#include "monitor.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "monitor_db.h"
#include "predlog.h"

static const char HELP[] =
    "usage: readmit monitor [--json] [--retrain-stamp FILE] [--stamp FILE] [options]\n"
    "\n"
    "The monitor stage: replays spill files left by serving workers that are\n"
    "gone; takes the outcomes of served encounters from raw batches ingested\n"
    "after they were served; measures the drift of every raw batch not yet\n"
    "measured against the champion's training snapshot; then groups the logged\n"
    "predictions into windows (monitor.window_rows predictions, or\n"
    "monitor.window_seconds) and reports per window and model version the\n"
    "performance estimated from the probabilities alone (calibrated-model\n"
    "assumption), the realized performance on predictions with outcomes (ROC AUC\n"
    "with a patient-resampled bootstrap interval, PR AUC, log loss, Brier,\n"
    "calibration), label coverage and delay, and per input field the drift\n"
    "(PSI on the training profile's bins and levels, missing share, unseen\n"
    "categories; warn/alert at monitor.psi_warn/psi_alert), ranked. The\n"
    "document is stored in monitor.reports.\n"
    "\n"
    "monitor.retrain_when decides the retrain trigger; when it fires for a new\n"
    "condition the reason is recorded in monitor.triggers and written to the\n"
    "--retrain-stamp file, which makes the next `make` re-run train and register.\n"
    "\n"
    "  --json              print the document (stable keys) instead of the summary\n"
    "  --retrain-stamp FILE  written with the reason when the trigger fires\n" CMD_COMMON_HELP;

typedef struct collect {
    rdm_monitor *m;
    long long last;
} collect;

static int add_row(const rdm_mon_row *row, void *ud, rdm_err *err)
{
    collect *c = ud;
    if (row->id > c->last)
        c->last = row->id;
    return rdm_monitor_add(c->m, row, NULL, err);
}

static int add_input(size_t row, const char *const *values, void *ud, rdm_err *err)
{
    collect *c = ud;
    return rdm_monitor_add_input(c->m, row, values, err);
}

/* v with `prec` decimals, or "-" when it is not a number. */
static const char *num_text(const json_t *v, char *buf, size_t n, int prec)
{
    if (!json_is_number(v))
        return "-";
    snprintf(buf, n, "%.*f", prec, json_number_value(v));
    return buf;
}

/* The AUC and its interval of an "estimated" or "realized" object. */
static void print_auc(const char *what, const json_t *o)
{
    char a[16], lo[16], hi[16];
    if (!json_is_object(o))
        return;
    printf("  %s ROC AUC %s [%s, %s]", what,
           num_text(json_object_get(o, "roc_auc"), a, sizeof a, 4),
           num_text(json_object_get(o, "roc_auc_lo"), lo, sizeof lo, 4),
           num_text(json_object_get(o, "roc_auc_hi"), hi, sizeof hi, 4));
    if (json_object_get(o, "n"))
        printf(" on %lld outcomes", (long long)json_integer_value(json_object_get(o, "n")));
    printf("\n");
}

/* The champion's performance by patient group on predictions with outcomes. */
static void print_groups(const json_t *doc)
{
    const json_t *vers = json_object_get(json_object_get(doc, "subgroups"), "versions");
    long long champion =
        json_integer_value(json_object_get(json_object_get(doc, "model"), "champion_version"));
    for (size_t i = 0; i < json_array_size(vers); i++) {
        const json_t *v = json_array_get(vers, i);
        if (json_integer_value(json_object_get(v, "version")) != champion)
            continue;
        char t[16];
        printf("by patient group (version %lld, %lld predictions with outcomes, threshold %s; AUC "
               "intervals resample patients):\n",
               champion, (long long)json_integer_value(json_object_get(v, "labelled")),
               num_text(json_object_get(v, "threshold"), t, sizeof t, 4));
        const json_t *gs = json_object_get(v, "groups");
        for (size_t k = 0; k <= json_array_size(gs); k++) {
            const json_t *g = k ? json_array_get(gs, k - 1) : json_object_get(v, "overall");
            char name[64], a[6][16];
            snprintf(name, sizeof name, "%s %s",
                     k ? json_string_value(json_object_get(g, "attribute")) : "all",
                     k ? json_string_value(json_object_get(g, "level")) : "");
            printf("  %-22s %6lld enc %6lld pat  AUC %s [%s, %s]  mean p %s obs %s  flagged %s%s\n",
                   name, (long long)json_integer_value(json_object_get(g, "n")),
                   (long long)json_integer_value(json_object_get(g, "patients")),
                   num_text(json_object_get(g, "roc_auc"), a[0], sizeof a[0], 3),
                   num_text(json_object_get(g, "roc_auc_lo"), a[1], sizeof a[1], 3),
                   num_text(json_object_get(g, "roc_auc_hi"), a[2], sizeof a[2], 3),
                   num_text(json_object_get(g, "mean_p"), a[3], sizeof a[3], 3),
                   num_text(json_object_get(g, "observed"), a[4], sizeof a[4], 3),
                   num_text(json_object_get(g, "positive_rate"), a[5], sizeof a[5], 3),
                   json_is_true(json_object_get(g, "below")) ? "  ** interval below overall" : "");
        }
    }
}

static void print_summary(const json_t *doc)
{
    const json_t *model = json_object_get(doc, "model");
    printf("monitor: %s champion version %lld (training snapshot %lld)\n",
           json_string_value(json_object_get(model, "name")),
           (long long)json_integer_value(json_object_get(model, "champion_version")),
           (long long)json_integer_value(json_object_get(model, "snapshot_id")));
    const json_t *wins = json_object_get(doc, "windows");
    long long n = json_integer_value(json_object_get(doc, "predictions"));
    long long l = json_integer_value(json_object_get(doc, "labelled"));
    printf("predictions %lld in %zu windows, with outcomes %lld (%.1f%%)\n", n,
           json_array_size(wins), l, n ? 100.0 * (double)l / (double)n : 0.0);
    const json_t *lat = json_object_get(doc, "latest");
    const json_t *w =
        json_is_integer(json_object_get(lat, "window"))
            ? json_array_get(wins, (size_t)json_integer_value(json_object_get(lat, "window")))
            : NULL;
    if (w) {
        printf("latest window %lld (%s .. %s): %lld predictions\n",
               (long long)json_integer_value(json_object_get(w, "index")),
               json_string_value(json_object_get(w, "start")),
               json_string_value(json_object_get(w, "end")),
               (long long)json_integer_value(json_object_get(w, "predictions")));
        const json_t *vers = json_object_get(w, "versions");
        for (size_t i = 0; i < json_array_size(vers); i++) {
            const json_t *v = json_array_get(vers, i);
            printf(" version %lld:\n",
                   (long long)json_integer_value(json_object_get(v, "version")));
            print_auc("estimated", json_object_get(v, "estimated"));
            print_auc("realized ", json_object_get(v, "realized"));
        }
        const json_t *drift = json_object_get(w, "drift");
        const json_t *fields = json_object_get(drift, "fields");
        char b[16];
        printf(" drift (PSI; score PSI %s):",
               num_text(json_object_get(w, "score_psi"), b, sizeof b, 3));
        for (size_t i = 0; i < json_array_size(fields) && i < 6; i++) {
            const json_t *f = json_array_get(fields, i);
            const char *lvl = json_string_value(json_object_get(f, "level"));
            printf(" %s %s%s%s", json_string_value(json_object_get(f, "field")),
                   num_text(json_object_get(f, "psi"), b, sizeof b, 3),
                   strcmp(lvl, "ok") ? " " : "", strcmp(lvl, "ok") ? lvl : "");
            printf(i + 1 < json_array_size(fields) && i < 5 ? "," : "\n");
        }
    }
    print_groups(doc);
    const json_t *batches = json_object_get(doc, "batches");
    double max = NAN;
    long long maxb = 0;
    for (size_t i = 0; i < json_array_size(batches); i++) {
        const json_t *bt = json_array_get(batches, i);
        double v = json_number_value(json_object_get(bt, "max_psi"));
        if (json_is_number(json_object_get(bt, "max_psi")) && (isnan(max) || v > max)) {
            max = v;
            maxb = json_integer_value(json_object_get(bt, "batch_id"));
        }
    }
    if (json_array_size(batches))
        printf("ingested batches: %zu measured against the training snapshot, largest PSI %.3f "
               "(batch %lld)\n",
               json_array_size(batches), max, maxb);
    const json_t *rt = json_object_get(doc, "retrain");
    if (json_is_true(json_object_get(rt, "fired")))
        printf("retrain: triggered: %s\n", json_string_value(json_object_get(rt, "reason")));
    else if (json_is_true(json_object_get(rt, "condition")))
        printf("retrain: condition holds, triggered before (%s)\n",
               json_string_value(json_object_get(rt, "key")));
    else
        printf("retrain: not triggered (monitor.retrain_when = %s)\n",
               json_string_value(json_object_get(rt, "when")));
}

/* Performance by patient group, computed from the rows the log read gave it
 * on a thread of its own while the windows are computed. */
typedef struct group_run {
    rdm_mongroups *g;
    json_t *out;
    pthread_t thread;
    int started;
    rdm_err err;
    double seconds; /* computing */
} group_run;

static void *compute_groups(void *arg)
{
    group_run *r = arg;
    double t0 = rdm_now();
    r->out = rdm_mongroups_finish(r->g, &r->err);
    r->seconds = rdm_now() - t0;
    return NULL;
}

/* Start computing the groups (on this thread when no other starts). */
static void start_groups(group_run *r)
{
    if (pthread_create(&r->thread, NULL, compute_groups, r) == 0)
        r->started = 1;
    else
        compute_groups(r);
}

/* Wait for the groups; with `doc`, put them into its "subgroups". */
static int finish_groups(group_run *r, json_t *doc, rdm_err *err)
{
    if (r->started)
        pthread_join(r->thread, NULL);
    r->started = 0;
    int rc = RDM_OK;
    if (!r->out)
        rc = rdm_errf(err, r->err.code ? r->err.code : RDM_ENOMEM, "%s", r->err.msg);
    else if (doc)
        json_object_set_new(doc, "subgroups", r->out);
    else
        json_decref(r->out);
    r->out = NULL;
    return rc;
}

static const char *const WHEN[] = {"never", "drift", "auc", "drift_or_auc"};

/* Is `key` among the triggers already fired? */
static int fired_before(const json_t *triggers, const char *key)
{
    for (size_t i = 0; i < json_array_size(triggers); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(triggers, i), "key")), key))
            return 1;
    return 0;
}

static int retrain(cmd_ctx *ctx, rdm_db *db, json_t *doc, const char *stamp, rdm_err *err)
{
    char reason[512] = "", key[128] = "";
    int fire = rdm_monitor_retrain(&ctx->cfg, doc, reason, sizeof reason, key, sizeof key);
    json_t *triggers = NULL;
    int rc = rdm_mondb_triggers(db, &triggers, err);
    int fresh = rc == RDM_OK && fire && !fired_before(triggers, key);
    if (fresh) {
        rc = rdm_mondb_add_trigger(db, key, reason, err);
        if (rc == RDM_OK && stamp) {
            char text[700];
            int n = snprintf(text, sizeof text, "%s\n%s\n", key, reason);
            rc = rdm_write_file_atomic(stamp, text, (size_t)n, err);
        }
        json_decref(triggers);
        triggers = NULL;
        if (rc == RDM_OK)
            rc = rdm_mondb_triggers(db, &triggers, err);
    }
    json_t *rt = json_object();
    json_object_set_new(rt, "when", json_string(WHEN[ctx->cfg.monitor.retrain_when]));
    json_object_set_new(rt, "fired", json_boolean(fresh));
    json_object_set_new(rt, "condition", json_boolean(fire));
    json_object_set_new(rt, "reason", fire ? json_string(reason) : json_null());
    json_object_set_new(rt, "key", fire ? json_string(key) : json_null());
    json_object_set_new(doc, "retrain", rt);
    json_object_set_new(doc, "triggers", triggers ? triggers : json_array());
    return rc;
}

static json_t *config_json(const rdm_config *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "window_rows", json_integer(c->monitor.window_rows));
    json_object_set_new(o, "window_seconds", json_integer(c->monitor.window_seconds));
    json_object_set_new(o, "min_rows", json_integer(c->monitor.min_rows));
    json_object_set_new(o, "psi_warn", json_real(c->monitor.psi_warn));
    json_object_set_new(o, "psi_alert", json_real(c->monitor.psi_alert));
    json_object_set_new(o, "auc_floor", json_real(c->monitor.auc_floor));
    json_object_set_new(o, "min_labels", json_integer(c->monitor.min_labels));
    return o;
}

int cmd_monitor(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *retrain_stamp = NULL;
    const cmd_opt opts[] = {
        {"--json", NULL, &ctx.json}, {"--retrain-stamp", &retrain_stamp, NULL}, {0}};
    int rc = cmd_parse(&ctx, "monitor", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    const rdm_config *cfg = &ctx.cfg;
    if (!(cfg->monitor.psi_warn <= cfg->monitor.psi_alert)) {
        rdm_db_close(db);
        cmd_ctx_release(&ctx);
        return cmd_usage_error("monitor", "monitor.psi_warn must not exceed monitor.psi_alert");
    }
    double t0 = rdm_now();
    uint64_t replayed = 0;
    long from_raw = 0, measured = 0;
    rdm_drift_ref ref;
    int version = 0, snapshot = 0;
    json_t *doc = NULL, *batches = NULL;
    collect c = {NULL, -1};
    rdm_err perr = {0};
    if (rdm_predlog_replay_orphans(cfg, &replayed, &perr) != RDM_OK)
        fprintf(stderr, "readmit monitor: %s\n", perr.msg);
    rc = rdm_mondb_prepare(db, &err);
    if (rc == RDM_OK)
        rc = rdm_mondb_outcomes_from_raw(db, &from_raw, &err);
    if (rc == RDM_OK)
        rc = rdm_mondb_reference(db, cfg->registry.model_name, &ref, &version, &snapshot, &err);
    if (rc == RDM_ENOTFOUND) {
        printf("monitor: %s\n", err.msg);
        rc = cmd_stamp(&ctx, "no champion", &err);
        rdm_db_close(db);
        cmd_ctx_release(&ctx);
        return rc == RDM_OK ? EXIT_OK : cmd_fail("monitor", &err);
    }
    if (rc == RDM_OK)
        rc = rdm_mondb_batch_drift(db, &ref, snapshot, cfg->monitor.psi_warn,
                                   cfg->monitor.psi_alert, &batches, &measured, &err);
    double t_log = rdm_now();
    group_run gr = {0};
    if (rc == RDM_OK && !(gr.g = rdm_mongroups_create(cfg->monitor.bootstrap, &err)))
        rc = RDM_ENOMEM;
    if (rc == RDM_OK && !(c.m = rdm_monitor_create(cfg, &ref, &err)))
        rc = RDM_ENOMEM;
    const rdm_mondb_fns fns = {add_row, add_input};
    if (rc == RDM_OK)
        rc = rdm_mondb_predictions(db, cfg->registry.model_name, cfg->monitor.drift_rows,
                                   cfg->monitor.window_rows > 0, gr.g, &fns, &c, &err);
    double t_read = rdm_now();
    if (rc == RDM_OK)
        start_groups(&gr);
    if (rc == RDM_OK && !(doc = rdm_monitor_finish(c.m, &err)))
        rc = RDM_ENOMEM;
    double t_finish = rdm_now();
    if (rc == RDM_OK) {
        json_t *model = json_object();
        json_object_set_new(model, "name", json_string(cfg->registry.model_name));
        json_object_set_new(model, "champion_version", json_integer(version));
        json_object_set_new(model, "snapshot_id", json_integer(snapshot));
        json_object_set_new(doc, "model", model);
        json_object_set_new(doc, "config", config_json(cfg));
        json_object_set_new(doc, "batches", batches);
        batches = NULL;
        json_t *log = json_object();
        json_object_set_new(log, "replayed_from_spill", json_integer((json_int_t)replayed));
        json_object_set_new(log, "outcomes_from_raw", json_integer(from_raw));
        json_object_set_new(log, "last_prediction", json_integer(c.last));
        json_object_set_new(doc, "log", log);
        rc = finish_groups(&gr, doc, &err);
        if (rc == RDM_OK)
            rc = retrain(&ctx, db, doc, retrain_stamp, &err);
    }
    if (gr.started) {
        rdm_err gerr = {0};
        (void)finish_groups(&gr, NULL, &gerr); /* a failure before: only wait for them */
    }
    rdm_mongroups_free(gr.g);
    if (rc == RDM_OK)
        rc = rdm_mondb_store_report(db, cfg->registry.model_name, c.last, doc, &err);
    if (rc == RDM_OK) {
        if (ctx.json) {
            char *text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
            if (text)
                printf("%s\n", text);
            free(text);
        } else {
            print_summary(doc);
        }
        if (!ctx.quiet)
            fprintf(stderr,
                    "monitor: %lld predictions read in %.2f s (outcomes, reference and batches "
                    "%.2f s, the log %.2f s), computed in %.2f s, done in %.2f s (groups "
                    "computed alongside in %.2f s)\n",
                    (long long)json_integer_value(json_object_get(doc, "predictions")), t_read - t0,
                    t_log - t0, t_read - t_log, t_finish - t_read, rdm_now() - t0, gr.seconds);
        char fp[256];
        snprintf(fp, sizeof fp, "champion=%d last=%lld labelled=%lld batches=%zu triggers=%zu",
                 version, c.last, (long long)json_integer_value(json_object_get(doc, "labelled")),
                 json_array_size(json_object_get(doc, "batches")),
                 json_array_size(json_object_get(doc, "triggers")));
        rc = cmd_stamp(&ctx, fp, &err);
    }
    json_decref(doc);
    json_decref(batches);
    rdm_monitor_free(c.m);
    rdm_drift_ref_release(&ref);
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("monitor", &err);
}
