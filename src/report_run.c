/* report_run.c - runs/<id>.html: one run's parameters, metrics, curves,
 * calibration, confusion matrices, feature importance, lineage and model card. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report.h"
#include "report_charts.h"
#include "report_groups.h"
#include "site.h"
#include "svg.h"

#define NSPLIT 2
static const char *const SPLITS[NSPLIT] = {"valid", "test"};
static const char *const SPLIT_NAMES[NSPLIT] = {"validation", "test"};

/* The metrics table. `at`: 0 not thresholded, 1 at 0.5, 2 at the run's
 * chosen threshold; every thresholded metric is labelled with its threshold. */
static const struct {
    const char *key, *name;
    int at, decimals;
} METRICS[] = {
    {"roc_auc", "ROC AUC", 0, 4},
    {"pr_auc", "PR AUC (average precision)", 0, 4},
    {"log_loss", "log loss", 0, 4},
    {"brier", "Brier score", 0, 4},
    {"threshold", "chosen threshold (best validation F1)", 0, 4},
    {"accuracy", "accuracy", 1, 4},
    {"accuracy_at_threshold", "accuracy", 2, 4},
    {"precision", "precision", 2, 4},
    {"recall", "recall", 2, 4},
    {"f1", "F1", 2, 4},
    {"n", "rows", 0, 0},
    {"positives", "positives", 0, 0},
};

#define NMETRIC (sizeof METRICS / sizeof METRICS[0])

typedef struct calib {
    int n;
    double lo[64], hi[64], mean[64], frac[64];
    long long cnt[64];
    double ece, worst_gap;
    int worst;
    long long total;
} calib;

static void load_calib(const json_t *arr, calib *c)
{
    memset(c, 0, sizeof *c);
    c->worst = -1;
    size_t i;
    const json_t *b;
    json_array_foreach(arr, i, b)
    {
        if (c->n >= 64)
            break;
        int k = c->n++;
        c->lo[k] = rdm_rpt_num(b, "lo");
        c->hi[k] = rdm_rpt_num(b, "hi");
        c->mean[k] = rdm_rpt_num(b, "mean_pred");
        c->frac[k] = rdm_rpt_num(b, "frac_pos");
        c->cnt[k] = rdm_rpt_int(b, "n", 0);
        if (c->cnt[k] > 0 && isfinite(c->mean[k]) && isfinite(c->frac[k])) {
            double gap = fabs(c->mean[k] - c->frac[k]);
            c->ece += (double)c->cnt[k] * gap;
            c->total += c->cnt[k];
            if (gap > c->worst_gap) {
                c->worst_gap = gap;
                c->worst = k;
            }
        } else {
            c->mean[k] = c->frac[k] = NAN; /* empty bin: not plotted */
        }
    }
    c->ece = c->total ? c->ece / (double)c->total : NAN;
}

static void confusion(rdm_html_page *pg, xmlNodePtr parent, const json_t *run, const char *split,
                      const char *name)
{
    double tp = rdm_rpt_metric(run, split, "tp"), fp = rdm_rpt_metric(run, split, "fp");
    double tn = rdm_rpt_metric(run, split, "tn"), fn = rdm_rpt_metric(run, split, "fn");
    rdm_html_elf(pg, parent, "h3", "Confusion matrix, %s (threshold %.4f)", name,
                 rdm_rpt_num(run, "threshold"));
    if (isnan(tp) || isnan(fp) || isnan(tn) || isnan(fn)) {
        rdm_html_para(pg, parent, "muted", "No confusion matrix stored for this split.");
        return;
    }
    static const char *const H[] = {"", "predicted readmitted", "predicted not readmitted",
                                    "total"};
    xmlNodePtr tb = rdm_html_table(pg, parent, NULL, H, 4);
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", "readmitted <30 days");
    char id[64];
    snprintf(id, sizeof id, "cm-%s-tp", split);
    rdm_html_attr(pg, rdm_html_tdint(pg, tr, (long long)tp), "id", id);
    snprintf(id, sizeof id, "cm-%s-fn", split);
    rdm_html_attr(pg, rdm_html_tdint(pg, tr, (long long)fn), "id", id);
    rdm_html_tdint(pg, tr, (long long)(tp + fn));
    tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", "not readmitted <30 days");
    snprintf(id, sizeof id, "cm-%s-fp", split);
    rdm_html_attr(pg, rdm_html_tdint(pg, tr, (long long)fp), "id", id);
    snprintf(id, sizeof id, "cm-%s-tn", split);
    rdm_html_attr(pg, rdm_html_tdint(pg, tr, (long long)tn), "id", id);
    rdm_html_tdint(pg, tr, (long long)(fp + tn));
    tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", "total");
    rdm_html_tdint(pg, tr, (long long)(tp + fp));
    rdm_html_tdint(pg, tr, (long long)(fn + tn));
    rdm_html_tdint(pg, tr, (long long)(tp + fp + fn + tn));
}

/* The test split's performance by patient group (train.c), or NULL. */
static const json_t *test_groups(const json_t *site, const json_t *run)
{
    const json_t *g = rdm_rpt_curve_json(site, rdm_rpt_int(run, "run_id", -1), "test", "subgroups");
    return json_is_object(g) ? g : NULL;
}

static void model_card(rdm_html_page *pg, const json_t *site, const json_t *run, const calib *ct)
{
    xmlNodePtr body = pg->body;
    rdm_html_section(pg, "Model card", "card");
    const char *type = rdm_rpt_str(run, "model_type");
    type = type ? type : "?";
    double thr = rdm_rpt_num(run, "threshold");
    rdm_html_el(pg, body, "h3", "Intended use");
    rdm_html_para(pg, body, NULL,
                  "Estimates the probability that a diabetic inpatient encounter is followed by a "
                  "readmission within 30 days (readmitted = \"<30\"), for ranking discharges for "
                  "follow-up. Encounters ending in death or hospice are excluded from the task. "
                  "Model: %s; decision threshold %.4f (chosen on validation F1, never on test). "
                  "A screening aid, not a diagnosis.",
                  type, thr);

    rdm_html_el(pg, body, "h3", "Training and evaluation data");
    xmlNodePtr ul = rdm_html_el(pg, body, "ul", NULL);
    rdm_html_attr(pg, ul, "class", "card");
    static const char *const SP[] = {"train", "valid", "test"};
    static const char *const SPN[] = {"training", "validation", "test"};
    static const char *const ROWS[] = {"rows_train", "rows_valid", "rows_test"};
    for (int s = 0; s < 3; s++) {
        long long rows = rdm_rpt_int(run, ROWS[s], -1);
        double r = rdm_rpt_positive_rate(run, SP[s]);
        if (rows < 0 && isnan(r))
            continue;
        if (isnan(r))
            rdm_html_li(pg, ul, "%s split: %lld encounters (positive rate not stored)", SPN[s],
                        rows);
        else
            rdm_html_li(pg, ul, "%s split: %lld encounters, %.1f%% readmitted within 30 days",
                        SPN[s], rows, 100 * r);
    }
    rdm_html_li(
        pg, ul,
        "Split by patient (patient_nbr mod 100), so no patient is in two splits; raw batches %s, "
        "clean snapshot %lld.",
        rdm_rpt_str(run, "batch_ids") ? rdm_rpt_str(run, "batch_ids") : "?",
        rdm_rpt_int(run, "snapshot_id", 0));

    rdm_html_el(pg, body, "h3", "Metrics");
    ul = rdm_html_el(pg, body, "ul", NULL);
    rdm_html_attr(pg, ul, "class", "card");
    double auc = rdm_rpt_metric(run, "test", "roc_auc"),
           lo = rdm_rpt_metric(run, "test", "roc_auc_ci_low"),
           hi = rdm_rpt_metric(run, "test", "roc_auc_ci_high");
    double vauc = rdm_rpt_metric(run, "valid", "roc_auc");
    double pr = rdm_rpt_metric(run, "test", "pr_auc"), tr_ = rdm_rpt_positive_rate(run, "test");
    double acc = rdm_rpt_metric(run, "test", "accuracy");
    rdm_html_li(pg, ul,
                "Test ROC AUC %.4f (bootstrap 95%% interval %.4f to %.4f); validation %.4f.", auc,
                lo, hi, vauc);
    if (!isnan(pr) && !isnan(tr_) && tr_ > 0)
        rdm_html_li(pg, ul,
                    "Test PR AUC %.4f against %.4f for no skill (the positive rate): %.2fx lift.",
                    pr, tr_, pr / tr_);
    if (!isnan(acc) && !isnan(tr_))
        rdm_html_li(pg, ul,
                    "Test accuracy at threshold 0.5: %.4f; always predicting \"not readmitted\" "
                    "scores %.4f.",
                    acc, 1 - tr_);
    rdm_html_li(pg, ul, "Test log loss %.4f, Brier score %.4f.",
                rdm_rpt_metric(run, "test", "log_loss"), rdm_rpt_metric(run, "test", "brier"));
    const json_t *tg = test_groups(site, run);
    if (tg) {
        char below[512] = "";
        const json_t *gs = json_object_get(tg, "groups");
        size_t nb = 0;
        for (size_t k = 0; k < json_array_size(gs); k++) {
            const json_t *g = json_array_get(gs, k);
            size_t l = strlen(below);
            if (json_is_true(json_object_get(g, "below")) && l + 1 < sizeof below)
                snprintf(below + l, sizeof below - l, "%s%s %s", nb++ ? ", " : "",
                         rdm_rpt_str(g, "attribute"), rdm_rpt_str(g, "level"));
        }
        if (nb)
            rdm_html_li(pg, ul,
                        "Patient groups whose test ROC AUC interval lies wholly below the overall "
                        "%.4f: %s (see Performance by patient group).",
                        auc, below);
        else
            rdm_html_li(pg, ul,
                        "No patient group (race, gender, age band) has a test ROC AUC interval "
                        "wholly below the overall %.4f.",
                        auc);
    }

    rdm_html_el(pg, body, "h3", "Limitations (from the numbers above)");
    ul = rdm_html_el(pg, body, "ul", NULL);
    rdm_html_attr(pg, ul, "class", "card");
    int nlim = 0;
    if (type && !strcmp(type, "baseline")) {
        rdm_html_li(pg, ul,
                    "A constant baseline: it has no skill by construction and exists to show what "
                    "no skill scores.");
        nlim++;
    }
    if (!isnan(tr_) && tr_ < 0.25) {
        rdm_html_li(pg, ul,
                    "Class imbalance: only %.1f%% of test encounters are positive, so accuracy is "
                    "dominated by the negative class%s.",
                    100 * tr_,
                    (!isnan(acc) && acc - (1 - tr_) < 0.01)
                        ? " (this model's accuracy is within 1 point of always saying no)"
                        : "");
        nlim++;
    }
    if (!isnan(lo) && !isnan(hi)) {
        rdm_html_li(
            pg, ul,
            "Uncertainty: the test ROC AUC interval is %.4f wide; runs whose test AUC differs by "
            "less than about %.4f cannot be told apart on this test set.",
            hi - lo, (hi - lo) / 2);
        nlim++;
    }
    if (!isnan(auc) && auc < 0.75 && !(type && !strcmp(type, "baseline"))) {
        rdm_html_li(pg, ul,
                    "Modest discrimination: a random readmitted encounter is ranked above a random "
                    "other one %.1f%% of the time.",
                    100 * auc);
        nlim++;
    }
    if (!isnan(auc) && !isnan(vauc) && fabs(auc - vauc) > 0.02) {
        rdm_html_li(pg, ul,
                    "Validation and test ROC AUC differ by %.4f: the estimate is split-dependent.",
                    fabs(auc - vauc));
        nlim++;
    }
    double tauc = rdm_rpt_metric(run, "train", "roc_auc");
    if (!isnan(tauc) && !isnan(vauc) && tauc - vauc > 0.05) {
        rdm_html_li(pg, ul, "Overfitting: training ROC AUC %.4f vs validation %.4f.", tauc, vauc);
        nlim++;
    }
    if (ct->n && !isnan(ct->ece)) {
        if (ct->worst >= 0)
            rdm_html_li(
                pg, ul,
                "Calibration: predicted probabilities are off by %.4f on average over the test "
                "set (expected calibration error); the worst bin, predictions %.2f to %.2f (%lld "
                "encounters), predicts %.4f where %.4f were readmitted.",
                ct->ece, ct->lo[ct->worst], ct->hi[ct->worst], ct->cnt[ct->worst],
                ct->mean[ct->worst], ct->frac[ct->worst]);
        else
            rdm_html_li(pg, ul, "Calibration: expected calibration error %.4f on test.", ct->ece);
        nlim++;
    }
    double rec = rdm_rpt_metric(run, "test", "recall"),
           prec = rdm_rpt_metric(run, "test", "precision");
    if (!isnan(rec) && !isnan(prec)) {
        rdm_html_li(
            pg, ul,
            "At the threshold %.4f the model finds %.1f%% of test readmissions and %.1f%% of the "
            "encounters it flags are readmitted.",
            thr, 100 * rec, 100 * prec);
        nlim++;
    }
    rdm_html_li(
        pg, ul,
        "Evaluated only on encounters from the same source and period as training (batches %s); "
        "not validated on other hospitals or later years.",
        rdm_rpt_str(run, "batch_ids") ? rdm_rpt_str(run, "batch_ids") : "?");
    (void)nlim;
    (void)site;
}

static void params_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run)
{
    xmlNodePtr body = pg->body;
    (void)rs;
    rdm_html_section(pg, "Parameters", "params");
    size_t nk;
    const char **keys = rdm_rpt_sorted_keys(json_object_get(run, "params"), &nk);
    if (!nk) {
        rdm_html_para(pg, body, "muted", "No parameters.");
    } else {
        static const char *const H[] = {"parameter", "value"};
        xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 2);
        for (size_t k = 0; keys && k < nk; k++) {
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            rdm_html_td(pg, tr, keys[k]);
            char num[64];
            rdm_html_td(pg, tr, rdm_html_fmt_value(rdm_rpt_param(run, keys[k]), num, sizeof num));
        }
    }
    free(keys);
}

static void metrics_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run)
{
    xmlNodePtr body = pg->body;
    char buf[512];
    (void)rs;
    rdm_html_section(pg, "Metrics", "metrics");
    {
        static const char *const H[] = {"metric", "validation", "test"};
        xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 3);
        double thr = rdm_rpt_num(run, "threshold");
        for (size_t m = 0; m < NMETRIC; m++) {
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            if (METRICS[m].at == 1)
                rdm_html_elf(pg, tr, "td", "%s at threshold 0.5", METRICS[m].name);
            else if (METRICS[m].at == 2)
                rdm_html_elf(pg, tr, "td", "%s at the chosen threshold %.4f", METRICS[m].name, thr);
            else
                rdm_html_td(pg, tr, METRICS[m].name);
            for (int s = 0; s < NSPLIT; s++) {
                double v = rdm_rpt_metric(run, SPLITS[s], METRICS[m].key);
                if (!strcmp(METRICS[m].key, "threshold") && isnan(v))
                    v = thr;
                xmlNodePtr td = rdm_html_tdnum(pg, tr, METRICS[m].decimals, v);
                char id[64];
                snprintf(id, sizeof id, "m-%s-%s", SPLITS[s], METRICS[m].key);
                rdm_html_attr(pg, td, "id", id);
            }
        }
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, "ROC AUC bootstrap 95% interval");
        rdm_html_td(pg, tr, "");
        double lo = rdm_rpt_metric(run, "test", "roc_auc_ci_low"),
               hi = rdm_rpt_metric(run, "test", "roc_auc_ci_high");
        if (isnan(lo) || isnan(hi))
            snprintf(buf, sizeof buf, "n/a");
        else
            snprintf(buf, sizeof buf, "%.4f to %.4f", lo, hi);
        xmlNodePtr td = rdm_html_td(pg, tr, buf);
        rdm_html_attr(pg, td, "id", "m-test-roc_auc_ci");
        rdm_html_attr(pg, td, "class", "num");
    }
}

static void curves_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run)
{
    long long rid = rdm_rpt_int(run, "run_id", -1);
    xmlNodePtr body = pg->body;
    /* ROC and PR */
    rdm_svg_series roc[NSPLIT + 1], prs[2 * NSPLIT];
    int nroc = 0, npr = 0, has_pr[NSPLIT] = {0};
    double diag[2] = {0, 1};
    double base[NSPLIT][2], unit[2] = {0, 1};
    for (int s = 0; s < NSPLIT; s++) {
        const rdm_rpt_curve *c = rdm_rpt_curve_get(rs, rid, SPLITS[s], "roc");
        if (c && c->n > 0)
            roc[nroc++] = (rdm_svg_series){SPLIT_NAMES[s], c->x, c->y, c->n, 0, 0};
        c = rdm_rpt_curve_get(rs, rid, SPLITS[s], "pr");
        if (c && c->n > 0) {
            prs[npr++] = (rdm_svg_series){SPLIT_NAMES[s], c->x, c->y, c->n, 0, 0};
            has_pr[s] = 1;
        }
    }
    int npr_curves = npr;
    for (int s = 0; s < NSPLIT; s++) {
        double r = rdm_rpt_positive_rate(run, SPLITS[s]);
        if (isnan(r) || !has_pr[s])
            continue;
        base[s][0] = base[s][1] = r;
        prs[npr++] = (rdm_svg_series){
            s ? "no skill (test)" : "no skill (validation)", unit, base[s], 2, 1, 0};
    }
    rdm_html_section(pg, "ROC and precision-recall curves", "curves");
    xmlNodePtr charts = rdm_html_el(pg, body, "div", NULL);
    rdm_html_attr(pg, charts, "class", "charts");
    if (nroc) {
        roc[nroc] = (rdm_svg_series){"no skill", diag, diag, 2, 1, 0};
        rdm_svg_chart c = {
            "ROC curve", "false positive rate", "true positive rate", 0, 0, 0, 1, 0, 1, 0, 0};
        rdm_report_chart(pg, charts, &c, roc, nroc + 1);
    }
    if (npr_curves) {
        rdm_svg_chart c = {"Precision-recall curve", "recall", "precision", 0, 0, 0, 1, 0, 1, 0, 0};
        rdm_report_chart(pg, charts, &c, prs, npr);
    }
    if (!nroc && !npr_curves)
        rdm_html_para(pg, body, "muted", "No curves stored for this run.");
    if (nroc)
        rdm_report_points(pg, body, "ROC points", roc, nroc + 1, "false positive rate",
                          "true positive rate");
    if (npr_curves)
        rdm_report_points(pg, body, "Precision-recall points", prs, npr, "recall", "precision");
}

static void calibration_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run,
                                calib *cal)
{
    const json_t *site = rdm_report_site_json(rs);
    long long rid = rdm_rpt_int(run, "run_id", -1);
    xmlNodePtr body = pg->body;
    /* calibration */
    rdm_html_section(pg, "Calibration", "calibration");
    rdm_svg_series cs[NSPLIT + 1];
    int ncs = 0;
    for (int s = 0; s < NSPLIT; s++) {
        load_calib(rdm_rpt_curve_json(site, rid, SPLITS[s], "calibration"), &cal[s]);
        if (cal[s].n)
            cs[ncs++] = (rdm_svg_series){SPLIT_NAMES[s], cal[s].mean, cal[s].frac, cal[s].n, 0, 1};
    }
    rdm_html_para(pg, body, NULL,
                  "Brier score: validation %.4f, test %.4f. Expected calibration error: "
                  "validation %.4f, test %.4f.",
                  rdm_rpt_metric(run, "valid", "brier"), rdm_rpt_metric(run, "test", "brier"),
                  cal[0].ece, cal[1].ece);
    if (ncs) {
        double hi = 0;
        for (int s = 0; s < NSPLIT; s++)
            for (int k = 0; k < cal[s].n; k++) {
                if (isfinite(cal[s].mean[k]))
                    hi = fmax(hi, cal[s].mean[k]);
                if (isfinite(cal[s].frac[k]))
                    hi = fmax(hi, cal[s].frac[k]);
            }
        double t[24], step;
        int nt = rdm_svg_nice_ticks(0, hi > 0 ? hi : 1, 6, t, 24, &step);
        double top = nt ? t[nt - 1] : 1;
        rdm_svg_chart c = {"Calibration (10 bins)",
                           "mean predicted probability",
                           "observed readmission rate",
                           0,
                           0,
                           0,
                           top,
                           0,
                           top,
                           1,
                           0};
        xmlNodePtr cdiv = rdm_html_el(pg, body, "div", NULL);
        rdm_html_attr(pg, cdiv, "class", "charts");
        rdm_report_chart(pg, cdiv, &c, cs, ncs);
        static const char *const H[] = {
            "split", "bin", "from", "to", "encounters", "mean predicted", "observed rate"};
        xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 7);
        for (int s = 0; s < NSPLIT; s++)
            for (int k = 0; k < cal[s].n; k++) {
                xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
                rdm_html_td(pg, tr, SPLIT_NAMES[s]);
                rdm_html_tdint(pg, tr, k + 1);
                rdm_html_tdnum(pg, tr, 2, cal[s].lo[k]);
                rdm_html_tdnum(pg, tr, 2, cal[s].hi[k]);
                rdm_html_tdint(pg, tr, cal[s].cnt[k]);
                rdm_html_tdnum(pg, tr, 4, cal[s].mean[k]);
                rdm_html_tdnum(pg, tr, 4, cal[s].frac[k]);
            }
    } else {
        rdm_html_para(pg, body, "muted", "No calibration table stored for this run.");
    }
}

static void groups_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run)
{
    const char *type = rdm_rpt_str(run, "model_type");
    if (type && !strcmp(type, "baseline"))
        return;
    rdm_html_section(pg, "Performance by patient group (test)", "groups");
    const json_t *g = test_groups(rdm_report_site_json(rs), run);
    if (!g) {
        rdm_html_para(pg, pg->body, "muted", "Not measured for this run.");
        return;
    }
    rdm_html_para(pg, pg->body, "muted",
                  "On the %lld test encounters, by race, gender and age band. ROC AUC intervals: "
                  "%lld resamples of patients. Flagged: share at or above the decision threshold "
                  "%.4f, at which TPR and FPR are measured too. A group is marked when its whole "
                  "interval lies below the overall test AUC.",
                  rdm_rpt_int(g, "labelled", 0), rdm_rpt_int(g, "resamples", 0),
                  rdm_rpt_num(g, "threshold"));
    rdm_report_groups_table(pg, pg->body, g);
}

/* The test split's explanations (train.c: rdm_explain_summary), or NULL. */
static const json_t *explanations(const json_t *site, long long rid)
{
    const json_t *x = rdm_rpt_curve_json(site, rid, "test", "importance");
    return json_is_object(x) ? x : NULL;
}

/* "the 15293 test encounters" or "3824 of the 15293 test encounters (one in 4)". */
static void explained_rows(const json_t *xs, char *out, size_t n)
{
    long long rows = rdm_rpt_int(xs, "rows", 0), all = rdm_rpt_int(xs, "split_rows", rows);
    long long every = rdm_rpt_int(xs, "every", 1);
    if (every > 1)
        snprintf(out, n, "%lld of the %lld test encounters (one in %lld)", rows, all, every);
    else
        snprintf(out, n, "the %lld test encounters", rows);
}

/* The first n entries of `arr` as bar labels (key `lk`) and values (`vk`);
 * returns the sum of the finite values over the whole array. */
static double load_bars(const json_t *arr, int n, const char *lk, const char *vk,
                        const char **labels, double *vals)
{
    double total = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        double v = rdm_rpt_num(e, vk);
        if (isfinite(v))
            total += v;
        if ((int)i < n) {
            labels[i] = rdm_rpt_str(e, lk) ? rdm_rpt_str(e, lk) : "?";
            vals[i] = v;
        }
    }
    return total;
}

static void importance_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run)
{
    const json_t *site = rdm_report_site_json(rs);
    long long rid = rdm_rpt_int(run, "run_id", -1);
    xmlNodePtr body = pg->body;
    /* importance */
    rdm_html_section(pg, "Feature importance (top 20)", "importance");
    const json_t *imp = rdm_rpt_curve_json(site, rid, "train", "importance");
    int ni = json_is_array(imp) ? (int)json_array_size(imp) : 0;
    if (ni > 20)
        ni = 20;
    const json_t *xs = explanations(site, rid), *xf = json_object_get(xs, "fields");
    int nx = json_is_array(xf) ? (int)json_array_size(xf) : 0;
    if (nx > 20)
        nx = 20;
    if (!ni) {
        rdm_html_para(pg, body, "muted",
                      "No feature importance for this run (a constant baseline has none).");
        return;
    }
    const char *labels[20], *xlabels[20];
    double vals[20], xvals[20], xmean[20];
    double total = load_bars(imp, ni, "feature", "gain", labels, vals);
    double xtotal = load_bars(xf, nx, "field", "mean_abs", xlabels, xvals);
    for (int k = 0; k < nx; k++)
        xmean[k] = rdm_rpt_num(json_array_get(xf, (size_t)k), "mean");
    const char *mt = rdm_rpt_str(run, "model_type");
    const char *what = mt && !strcmp(mt, "gbt")      ? "total split gain"
                       : mt && !strcmp(mt, "logreg") ? "|coefficient| x training sd"
                                                     : "importance";
    if (nx) {
        char over[96];
        explained_rows(xs, over, sizeof over);
        rdm_html_para(pg, body, NULL,
                      "Left: %s of the encoded features, from training. Right: mean |contribution| "
                      "of each input field over %s, in log-odds: the exact per-prediction "
                      "explanations (%s), one-hot levels and a diagnosis' rank and chapter summed "
                      "to their field.",
                      what, over,
                      mt && !strcmp(mt, "gbt") ? "path-dependent TreeSHAP"
                                               : "linear contributions against the training mean");
    }
    xmlNodePtr charts = rdm_html_el(pg, body, "div", NULL);
    rdm_html_attr(pg, charts, "class", "charts");
    rdm_svg_chart c = {"Feature importance", what, NULL, nx ? 480 : 640, 0, 0, 0, 0, 0, 0, 1};
    rdm_err e = {0};
    xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, vals, ni, &e);
    if (svg)
        rdm_html_adopt(pg, charts, svg);
    if (nx) {
        rdm_svg_chart cx = {
            "Mean |contribution| on test", "log-odds", NULL, 480, 0, 0, 0, 0, 0, 0, 1};
        svg = rdm_svg_bar_chart(&cx, xlabels, xvals, nx, &e);
        if (svg)
            rdm_html_adopt(pg, charts, svg);
    }
    static const char *const H[] = {"rank", "feature", "importance", "share of total"};
    xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 4);
    for (int k = 0; k < ni; k++) {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_tdint(pg, tr, k + 1);
        rdm_html_td(pg, tr, labels[k]);
        rdm_html_tdnum(pg, tr, 4, vals[k]);
        rdm_html_tdnum(pg, tr, 1, total > 0 ? 100 * vals[k] / total : NAN);
    }
    if (!nx)
        return;
    static const char *const HX[] = {"rank", "input field", "mean |contribution|",
                                     "mean contribution", "share of total"};
    tb = rdm_html_table(pg, body, "explained-importance", HX, 5);
    for (int k = 0; k < nx; k++) {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_tdint(pg, tr, k + 1);
        rdm_html_td(pg, tr, xlabels[k]);
        rdm_html_tdnum(pg, tr, 4, xvals[k]);
        rdm_html_tdnum(pg, tr, 4, xmean[k]);
        rdm_html_tdnum(pg, tr, 1, xtotal > 0 ? 100 * xvals[k] / xtotal : NAN);
    }
}

/* Pairs [x, y, ...] of a JSON array into x[], y[] (at most cap); the count. */
static int load_pairs(const json_t *a, double *x, double *y, int cap)
{
    int n = 0;
    size_t i;
    const json_t *p;
    json_array_foreach(a, i, p)
    {
        if (n >= cap)
            break;
        x[n] = json_number_value(json_array_get(p, 0));
        y[n] = json_number_value(json_array_get(p, 1));
        n++;
    }
    return n;
}

enum { DEP_MAX = 1024, DEP_LEVELS = 32 };

/* One field's dependence chart (and its table under `tables`). */
static void dependence_chart(rdm_html_page *pg, xmlNodePtr charts, xmlNodePtr tables,
                             const json_t *d)
{
    const char *field = rdm_rpt_str(d, "field") ? rdm_rpt_str(d, "field") : "?";
    const char *kind = rdm_rpt_str(d, "kind");
    char title[160];
    snprintf(title, sizeof title, "Dependence: %s", field);
    if (kind && !strcmp(kind, "numeric")) {
        double *px = malloc(4 * DEP_MAX * sizeof *px); /* pages are built in parallel */
        if (!px) {
            pg->oom = 1;
            return;
        }
        double *py = px + DEP_MAX, *mx = py + DEP_MAX, *my = mx + DEP_MAX;
        int np = load_pairs(json_object_get(d, "points"), px, py, DEP_MAX);
        int nm = load_pairs(json_object_get(d, "means"), mx, my, DEP_MAX);
        rdm_svg_series s[2] = {{"encounters (sample)", px, py, np, 0, 2},
                               {"mean per value", mx, my, nm, 0, 0}};
        rdm_svg_chart c = {title, field, "contribution (log-odds)", 480, 0, 0, 0, 0, 0, 0, 0};
        rdm_report_chart(pg, charts, &c, s, 2);
        char sum[200];
        snprintf(sum, sizeof sum, "%s: mean contribution per value", field);
        rdm_report_points(pg, tables, sum, &s[1], 1, field, "mean contribution");
        free(px);
        return;
    }
    const json_t *lv = json_object_get(d, "levels");
    const char *labels[DEP_LEVELS];
    char text[DEP_LEVELS][96];
    double vals[DEP_LEVELS];
    int n = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(lv, i, e)
    {
        if (n >= DEP_LEVELS)
            break;
        snprintf(text[n], sizeof text[n], "%s (%lld)",
                 rdm_rpt_str(e, "value") ? rdm_rpt_str(e, "value") : "?",
                 rdm_rpt_int(e, "records", 0));
        labels[n] = text[n];
        vals[n++] = rdm_rpt_num(e, "mean");
    }
    rdm_svg_chart c = {title, "mean contribution (log-odds)", NULL, 480, 0, 0, 0, 0, 0, 0, 1};
    rdm_err err = {0};
    xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, vals, n, &err);
    if (svg)
        rdm_html_adopt(pg, charts, svg);
    else
        rdm_html_para(pg, charts, "muted", "chart: %s", err.msg);
    xmlNodePtr det = rdm_html_el(pg, tables, "details", NULL);
    char sum[200];
    snprintf(sum, sizeof sum, "%s: mean contribution per level", field);
    rdm_html_el(pg, det, "summary", sum);
    static const char *const H[] = {"level", "encounters", "mean contribution"};
    xmlNodePtr tb = rdm_html_table(pg, det, NULL, H, 3);
    json_array_foreach(lv, i, e)
    {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, rdm_rpt_str(e, "value") ? rdm_rpt_str(e, "value") : "?");
        rdm_html_tdint(pg, tr, rdm_rpt_int(e, "records", 0));
        rdm_html_tdnum(pg, tr, 4, rdm_rpt_num(e, "mean"));
    }
}

/* Dependence plots of the fields with the largest mean |contribution|. */
static void dependence_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run)
{
    const json_t *xs = explanations(rdm_report_site_json(rs), rdm_rpt_int(run, "run_id", -1));
    const json_t *dep = json_object_get(xs, "dependence");
    if (!json_is_array(dep) || !json_array_size(dep))
        return;
    xmlNodePtr body = pg->body;
    rdm_html_section(pg, "Dependence plots (test split)", "dependence");
    char over[96];
    explained_rows(xs, over, sizeof over);
    rdm_html_para(pg, body, NULL,
                  "How the contribution of each of the %zu fields with the largest mean "
                  "|contribution| depends on the field's value, over %s (log-odds; above 0 "
                  "raises the predicted risk). Counts and durations: a sample of encounters as "
                  "dots and the mean per value as a line. Codes and categories: the mean per "
                  "level, the number of encounters in brackets.",
                  json_array_size(dep), over);
    xmlNodePtr charts = rdm_html_el(pg, body, "div", NULL);
    rdm_html_attr(pg, charts, "class", "charts");
    rdm_html_attr(pg, charts, "id", "dependence-charts");
    xmlNodePtr tables = rdm_html_el(pg, body, "div", NULL);
    size_t i;
    const json_t *d;
    json_array_foreach(dep, i, d) dependence_chart(pg, charts, tables, d);
}

static void lineage_section(rdm_html_page *pg, const rdm_report_site *rs, const json_t *run,
                            int version)
{
    const json_t *site = rdm_report_site_json(rs);
    xmlNodePtr body = pg->body;
    rdm_html_section(pg, "Lineage", "lineage");
    {
        static const char *const H[] = {"item", "value"};
        xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 2);

        struct {
            const char *name, *key;
        } rows[] = {{"raw batches", "batch_ids"},
                    {"data fingerprint", "data_fingerprint"},
                    {"config hash", "config_hash"},
                    {"code version", "code_version"},
                    {"model sha256", "artifact_sha256"}};

        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, "clean snapshot");
        rdm_html_tdint(pg, tr, rdm_rpt_int(run, "snapshot_id", 0));
        for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
            tr = rdm_html_el(pg, tb, "tr", NULL);
            rdm_html_td(pg, tr, rows[k].name);
            xmlNodePtr td = rdm_html_td(
                pg, tr, rdm_rpt_str(run, rows[k].key) ? rdm_rpt_str(run, rows[k].key) : "-");
            rdm_html_attr(pg, td, "class", "mono");
            char id[64];
            snprintf(id, sizeof id, "lineage-%s", rows[k].key);
            rdm_html_attr(pg, td, "id", id);
        }
        static const char *const RK[] = {"rows_train", "rows_valid", "rows_test"};
        static const char *const RN[] = {"training rows", "validation rows", "test rows"};
        for (int k = 0; k < 3; k++) {
            tr = rdm_html_el(pg, tb, "tr", NULL);
            rdm_html_td(pg, tr, RN[k]);
            rdm_html_tdint(pg, tr, rdm_rpt_int(run, RK[k], 0));
        }
        tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, "registered as");
        if (version)
            rdm_html_elf(pg, tr, "td", "%s version %d",
                         rdm_rpt_str(site, "model_name") ? rdm_rpt_str(site, "model_name") : "?",
                         version);
        else
            rdm_html_td(pg, tr, "not registered");
    }
}

int rdm_report_page_run(const rdm_report_site *rs, const json_t *run, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    long long rid = rdm_rpt_int(run, "run_id", -1);
    char title[300], buf[512];
    snprintf(title, sizeof title, "Run %lld: %s", rid,
             rdm_rpt_str(run, "name") ? rdm_rpt_str(run, "name") : "?");
    rdm_html_page pg;
    if (rdm_rpt_page_start(&pg, title, "../"))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    xmlNodePtr body = pg.body;
    char aliases[128];
    int version = rdm_rpt_run_version(site, rid, aliases, sizeof aliases);
    xmlNodePtr p = rdm_html_el(&pg, body, "p", NULL);
    rdm_html_elf(&pg, p, "span", "%s, status %s",
                 rdm_rpt_str(run, "model_type") ? rdm_rpt_str(run, "model_type") : "?",
                 rdm_rpt_str(run, "status") ? rdm_rpt_str(run, "status") : "?");
    if (version) {
        snprintf(buf, sizeof buf, "version %d", version);
        rdm_html_badge(&pg, p, buf, NULL);
    }
    if (aliases[0])
        rdm_html_badge(&pg, p, aliases, strstr(aliases, "champion") ? "champion" : NULL);
    if (json_is_true(json_object_get(run, "selected")))
        rdm_html_badge(&pg, p, "selected in its training", NULL);
    if (rdm_rpt_str(run, "error"))
        rdm_html_para(&pg, body, "fail", "Error: %s", rdm_rpt_str(run, "error"));
    char t0[40], t1[40];
    rdm_html_fmt_time(rdm_rpt_str(run, "started_at"), t0, sizeof t0);
    rdm_html_fmt_time(rdm_rpt_str(run, "ended_at"), t1, sizeof t1);
    rdm_html_para(&pg, body, NULL,
                  "Training %lld. Started %s, ended %s; %.2f s in total, fit %.2f s.",
                  rdm_rpt_int(run, "training_id", 0), t0, t1, rdm_rpt_num(run, "duration_s"),
                  rdm_rpt_num(run, "fit_s"));

    params_section(&pg, rs, run);
    metrics_section(&pg, rs, run);
    curves_section(&pg, rs, run);
    calib cal[NSPLIT];
    calibration_section(&pg, rs, run, cal);
    rdm_html_section(&pg, "Confusion matrix", "confusion");
    for (int s = 0; s < NSPLIT; s++)
        confusion(&pg, body, run, SPLITS[s], SPLIT_NAMES[s]);

    importance_section(&pg, rs, run);
    dependence_section(&pg, rs, run);
    groups_section(&pg, rs, run);
    lineage_section(&pg, rs, run, version);
    model_card(&pg, site, run, &cal[1]);
    return rdm_html_page_finish(&pg, out, err);
}
