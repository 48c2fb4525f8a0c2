/* report_monitor.c - monitor.html: the latest `readmit monitor` document:
 * volume per window, estimated vs realized ROC AUC with their intervals, live
 * calibration, the per-field drift strip, training vs live distributions of
 * the top drifting fields, performance by patient group, ingested batches
 * and retrain triggers. */
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

static void note(rdm_html_page *pg, const char *text)
{
    rdm_html_attr(pg, rdm_html_el(pg, pg->body, "p", text), "class", "muted");
}

/* The first version group of window w (windows usually have one version). */
static const json_t *version0(const json_t *w)
{
    return json_array_get(json_object_get(w, "versions"), 0);
}

static void volume(rdm_html_page *pg, const json_t *wins)
{
    rdm_html_section(pg, "Volume", "volume");
    size_t n = json_array_size(wins);
    const char **labels = calloc(n + 1, sizeof *labels);
    char(*names)[24] = calloc(n + 1, sizeof *names);
    double *v = calloc(n + 1, sizeof *v), *cov = calloc(n + 1, sizeof *cov);
    if (!labels || !names || !v || !cov) {
        pg->oom = 1;
    } else {
        for (size_t i = 0; i < n; i++) {
            const json_t *w = json_array_get(wins, i);
            snprintf(names[i], sizeof names[i], "%zu", i);
            labels[i] = names[i];
            v[i] = (double)rdm_rpt_int(w, "predictions", 0);
            cov[i] = rdm_rpt_num(w, "coverage");
        }
        rdm_svg_chart c = {
            "Predictions per window", "window", "predictions", 640, 260, 0, 0, 0, 0, 0, 0};
        rdm_err err = {0};
        xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, v, (int)n, &err);
        if (svg)
            rdm_html_adopt(pg, rdm_html_el(pg, pg->body, "div", NULL), svg);
        static const char *const H[] = {"window",      "from",         "to",
                                        "predictions", "with outcome", "coverage"};
        xmlNodePtr tb = rdm_html_table(pg, pg->body, "sortable", H, 6);
        for (size_t i = 0; i < n; i++) {
            const json_t *w = json_array_get(wins, i);
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            rdm_html_tdint(pg, tr, (long long)i);
            rdm_html_td(pg, tr, rdm_rpt_str(w, "start"));
            rdm_html_td(pg, tr, rdm_rpt_str(w, "end"));
            rdm_html_tdint(pg, tr, rdm_rpt_int(w, "predictions", 0));
            rdm_html_tdint(pg, tr, rdm_rpt_int(w, "labelled", 0));
            rdm_html_tdnum(pg, tr, 3, cov[i]);
        }
    }
    free(labels);
    free(names);
    free(v);
    free(cov);
}

static void auc_chart(rdm_html_page *pg, const json_t *wins)
{
    rdm_html_section(pg, "Estimated and realized ROC AUC", "auc");
    note(pg, "Estimated: expected from the probabilities alone if the model is calibrated, with "
             "the 95% range of the AUC that labels drawn from those probabilities would give. "
             "Realized: on the predictions whose outcome is known, with a 95% bootstrap interval "
             "resampled by patient. Where both exist, the realized AUC inside the estimated band "
             "means the estimate held.");
    size_t n = json_array_size(wins);
    double *buf = calloc(7 * (n + 1), sizeof *buf);
    if (!buf) {
        pg->oom = 1;
        return;
    }
    double *x = buf, *e = x + n, *elo = e + n, *ehi = elo + n, *r = ehi + n, *rlo = r + n,
           *rhi = rlo + n;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = version0(json_array_get(wins, i));
        const json_t *es = json_object_get(v, "estimated"), *re = json_object_get(v, "realized");
        x[i] = (double)i;
        e[i] = rdm_rpt_num(es, "roc_auc");
        elo[i] = rdm_rpt_num(es, "roc_auc_lo");
        ehi[i] = rdm_rpt_num(es, "roc_auc_hi");
        r[i] = rdm_rpt_num(re, "roc_auc");
        rlo[i] = rdm_rpt_num(re, "roc_auc_lo");
        rhi[i] = rdm_rpt_num(re, "roc_auc_hi");
    }
    rdm_svg_series s[] = {
        {"estimated", x, e, (int)n, 0, 1},         {"estimated 2.5%", x, elo, (int)n, 2, 0},
        {"estimated 97.5%", x, ehi, (int)n, 2, 0}, {"realized", x, r, (int)n, 0, 1},
        {"realized 2.5%", x, rlo, (int)n, 3, 0},   {"realized 97.5%", x, rhi, (int)n, 3, 0},
    };
    rdm_svg_chart c = {"ROC AUC per window", "window", "ROC AUC", 640, 320, 0, 0, 0, 0, 0, 0};
    rdm_report_chart(pg, pg->body, &c, s, 6);
    rdm_report_points(pg, pg->body, "Every plotted point", s, 6, "window", "ROC AUC");
    free(buf);
}

static void calibration(rdm_html_page *pg, const json_t *wins)
{
    rdm_html_section(pg, "Live calibration", "calibration");
    const json_t *v = NULL;
    size_t wi = 0;
    for (size_t i = json_array_size(wins); i-- > 0;) {
        const json_t *c = version0(json_array_get(wins, i));
        if (json_is_object(json_object_get(c, "realized"))) {
            v = c;
            wi = i;
            break;
        }
    }
    if (!v) {
        note(pg, "No outcome has arrived yet (readmit outcomes, or a raw batch carrying served "
                 "encounters).");
        return;
    }
    char t[96];
    snprintf(t, sizeof t, "Window %zu: observed readmission rate by predicted probability", wi);
    rdm_html_para(pg, pg->body, "muted",
                  "%s; the band is where a calibrated model's observed "
                  "rate falls 95%% of the time.",
                  t);
    const json_t *bins = json_object_get(v, "calibration");
    double x[16], o[16], lo[16], hi[16];
    int n = 0;
    for (size_t i = 0; i < json_array_size(bins) && n < 16; i++, n++) {
        const json_t *b = json_array_get(bins, i);
        x[n] = rdm_rpt_num(b, "mean_pred");
        o[n] = rdm_rpt_int(b, "labelled", 0) > 0 ? rdm_rpt_num(b, "observed") : NAN;
        lo[n] = rdm_rpt_num(b, "expected_lo");
        hi[n] = rdm_rpt_num(b, "expected_hi");
    }
    rdm_svg_series s[] = {{"observed", x, o, n, 0, 1},
                          {"calibrated 2.5%", x, lo, n, 2, 0},
                          {"calibrated 97.5%", x, hi, n, 2, 0}};
    rdm_svg_chart c = {t, "mean predicted probability", "observed rate", 480, 360, 0, 1, 0, 1, 1,
                       0};
    rdm_report_chart(pg, pg->body, &c, s, 3);
}

static const char *level_class(const char *lvl)
{
    return lvl && !strcmp(lvl, "alert") ? "fail" : lvl && !strcmp(lvl, "warn") ? "badge" : NULL;
}

/* PSI of `field` in window w, and its level. */
static double field_psi(const json_t *w, const char *field, const char **lvl)
{
    const json_t *fs = rdm_rpt_path(w, "drift", "fields", NULL);
    for (size_t i = 0; i < json_array_size(fs); i++) {
        const json_t *f = json_array_get(fs, i);
        const char *n = rdm_rpt_str(f, "field");
        if (n && !strcmp(n, field)) {
            *lvl = rdm_rpt_str(f, "level");
            return rdm_rpt_num(f, "psi");
        }
    }
    *lvl = NULL;
    return NAN;
}

static void drift_strip(rdm_html_page *pg, const json_t *doc, const json_t *wins)
{
    rdm_html_section(pg, "Drift by window", "drift");
    const json_t *cfg = json_object_get(doc, "config");
    rdm_html_para(pg, pg->body, "muted",
                  "Population stability index of every input field in each window against the "
                  "champion's training snapshot (its profile's bins and levels, missing values "
                  "as a bin of their own); warn at %.2f, alert at %.2f. Fields in the order of "
                  "the latest window's ranking.",
                  rdm_rpt_num(cfg, "psi_warn"), rdm_rpt_num(cfg, "psi_alert"));
    const json_t *ranked = rdm_rpt_path(doc, "latest", "drift", "fields");
    size_t nw = json_array_size(wins), nf = json_array_size(ranked);
    if (!nf || !nw) {
        note(pg, "No served input yet.");
        return;
    }
    const char **H = calloc(nw + 3, sizeof *H);
    char(*hn)[24] = calloc(nw + 1, sizeof *hn);
    if (!H || !hn) {
        pg->oom = 1;
        free(H);
        free(hn);
        return;
    }
    H[0] = "field";
    for (size_t i = 0; i < nw; i++) {
        snprintf(hn[i], sizeof hn[i], "w%zu", i);
        H[i + 1] = hn[i];
    }
    xmlNodePtr tb = rdm_html_table(pg, pg->body, NULL, H, (int)nw + 1);
    for (size_t k = 0; k < nf; k++) {
        const char *field = rdm_rpt_str(json_array_get(ranked, k), "field");
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, field);
        for (size_t i = 0; i < nw; i++) {
            const char *lvl;
            double psi = field_psi(json_array_get(wins, i), field ? field : "", &lvl);
            xmlNodePtr td = rdm_html_tdnum(pg, tr, 3, psi);
            if (level_class(lvl))
                rdm_html_attr(pg, td, "class", level_class(lvl));
        }
    }
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_td(pg, tr, "predicted score");
    for (size_t i = 0; i < nw; i++)
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(json_array_get(wins, i), "score_psi"));
    free(H);
    free(hn);
}

static void distributions(rdm_html_page *pg, const json_t *doc)
{
    rdm_html_section(pg, "Training and live distributions", "distributions");
    const json_t *ds = rdm_rpt_path(doc, "latest", "distributions", NULL);
    if (!json_array_size(ds)) {
        note(pg, "No served input yet.");
        return;
    }
    note(pg, "The top drifting fields of the latest window: share of each bin in the training "
             "snapshot and in the window.");
    xmlNodePtr row = rdm_html_el(pg, pg->body, "div", NULL);
    rdm_html_attr(pg, row, "class", "charts");
    for (size_t i = 0; i < json_array_size(ds); i++) {
        const json_t *d = json_array_get(ds, i);
        const json_t *bins = json_object_get(d, "bins");
        size_t n = json_array_size(bins);
        const char **labels = calloc(n + 1, sizeof *labels);
        double *tr = calloc(n + 1, sizeof *tr), *lv = calloc(n + 1, sizeof *lv);
        if (!labels || !tr || !lv) {
            pg->oom = 1;
        } else {
            for (size_t b = 0; b < n; b++) {
                labels[b] = json_string_value(json_array_get(bins, b));
                double t = json_number_value(json_array_get(json_object_get(d, "training"), b));
                double l = json_number_value(json_array_get(json_object_get(d, "live"), b));
                tr[b] = isnan(t) ? 0 : t;
                lv[b] = isnan(l) ? 0 : l;
            }
            char t1[128], t2[128];
            snprintf(t1, sizeof t1, "%s: training", rdm_rpt_str(d, "field"));
            snprintf(t2, sizeof t2, "%s: live", rdm_rpt_str(d, "field"));
            rdm_svg_chart c1 = {t1, "share", NULL, 360, 60 + 18 * (int)n, 0, 0, 0, 0, 0, 1};
            rdm_svg_chart c2 = c1;
            c2.title = t2;
            rdm_err err = {0};
            xmlNodePtr a = rdm_svg_bar_chart(&c1, labels, tr, (int)n, &err);
            xmlNodePtr b = rdm_svg_bar_chart(&c2, labels, lv, (int)n, &err);
            if (a)
                rdm_html_adopt(pg, row, a);
            if (b)
                rdm_html_adopt(pg, row, b);
        }
        free(labels);
        free(tr);
        free(lv);
    }
}

static void batches(rdm_html_page *pg, const json_t *doc)
{
    rdm_html_section(pg, "Ingested batches against the training snapshot", "batches");
    const json_t *bs = json_object_get(doc, "batches");
    if (!json_array_size(bs)) {
        note(pg, "No batch measured yet.");
        return;
    }
    static const char *const H[] = {"batch", "rows", "largest PSI", "level", "top fields"};
    xmlNodePtr tb = rdm_html_table(pg, pg->body, "sortable", H, 5);
    for (size_t i = 0; i < json_array_size(bs); i++) {
        const json_t *b = json_array_get(bs, i);
        const json_t *d = json_object_get(b, "drift");
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_tdint(pg, tr, rdm_rpt_int(b, "batch_id", 0));
        rdm_html_tdint(pg, tr, rdm_rpt_int(b, "rows", 0));
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(b, "max_psi"));
        xmlNodePtr td = rdm_html_td(pg, tr, rdm_rpt_str(d, "level"));
        if (level_class(rdm_rpt_str(d, "level")))
            rdm_html_attr(pg, td, "class", level_class(rdm_rpt_str(d, "level")));
        char top[256] = "";
        const json_t *fs = json_object_get(d, "fields");
        for (size_t k = 0; k < json_array_size(fs) && k < 3; k++) {
            size_t l = strlen(top);
            snprintf(top + l, sizeof top - l, "%s%s %.3f", k ? ", " : "",
                     rdm_rpt_str(json_array_get(fs, k), "field"),
                     rdm_rpt_num(json_array_get(fs, k), "psi"));
        }
        rdm_html_td(pg, tr, top);
    }
}

/* Performance by patient group on predictions with outcomes, per version. */
static void patient_groups(rdm_html_page *pg, const json_t *doc)
{
    rdm_html_section(pg, "Performance by patient group", "groups");
    const json_t *sg = json_object_get(doc, "subgroups");
    const json_t *vers = json_object_get(sg, "versions");
    if (!json_array_size(vers)) {
        note(pg, "No served prediction has an outcome yet.");
        return;
    }
    rdm_html_para(pg, pg->body, "muted",
                  "On served predictions with an outcome, by race, gender and age band as sent. "
                  "ROC AUC intervals: %lld resamples of patients. Flagged: share at or above the "
                  "threshold. A group is marked when its whole interval lies below the "
                  "version's overall AUC.",
                  rdm_rpt_int(sg, "resamples", 0));
    for (size_t i = 0; i < json_array_size(vers); i++) {
        const json_t *v = json_array_get(vers, i);
        rdm_html_para(pg, pg->body, NULL,
                      "Version %lld: %lld predictions with outcomes, TPR/FPR at threshold %.4f.",
                      rdm_rpt_int(v, "version", -1), rdm_rpt_int(v, "labelled", 0),
                      rdm_rpt_num(v, "threshold"));
        rdm_report_groups_table(pg, pg->body, v);
    }
}

static void triggers(rdm_html_page *pg, const json_t *doc)
{
    rdm_html_section(pg, "Retrain trigger", "retrain");
    const json_t *rt = json_object_get(doc, "retrain");
    rdm_html_para(pg, pg->body, NULL, "monitor.retrain_when = %s; %s",
                  rdm_rpt_str(rt, "when") ? rdm_rpt_str(rt, "when") : "?",
                  json_is_true(json_object_get(rt, "condition"))
                      ? "the condition holds in the latest window."
                      : "the condition does not hold in the latest window.");
    const json_t *ts = json_object_get(doc, "triggers");
    if (!json_array_size(ts)) {
        note(pg, "The trigger has never fired.");
        return;
    }
    note(pg, "Each time it fired, the next make re-ran train and register; the promotion gate "
             "decided whether the new version became the champion (see the index).");
    static const char *const H[] = {"when", "condition", "why"};
    xmlNodePtr tb = rdm_html_table(pg, pg->body, NULL, H, 3);
    for (size_t i = 0; i < json_array_size(ts); i++) {
        const json_t *t = json_array_get(ts, i);
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, rdm_rpt_str(t, "at"));
        rdm_html_attr(pg, rdm_html_td(pg, tr, rdm_rpt_str(t, "key")), "class", "mono");
        rdm_html_td(pg, tr, rdm_rpt_str(t, "reason"));
    }
}

int rdm_report_page_monitor(const rdm_report_site *site, rdm_buf *out, rdm_err *err)
{
    rdm_html_page pg;
    if (rdm_rpt_page_start(&pg, "Production monitoring", "") != RDM_OK)
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    const json_t *doc = json_object_get(rdm_report_site_json(site), "monitor");
    if (!json_is_object(doc)) {
        note(&pg, "No monitor run yet: serve the champion (make serve), send traffic (make "
                  "replay) and run make monitor.");
        return rdm_html_page_finish(&pg, out, err);
    }
    const json_t *wins = json_object_get(doc, "windows");
    const json_t *model = json_object_get(doc, "model");
    rdm_html_para(&pg, pg.body, NULL,
                  "%s, champion version %lld (training snapshot %lld): %lld predictions logged in "
                  "%zu windows, %lld with an outcome.",
                  rdm_rpt_str(model, "name") ? rdm_rpt_str(model, "name") : "?",
                  rdm_rpt_int(model, "champion_version", 0), rdm_rpt_int(model, "snapshot_id", 0),
                  rdm_rpt_int(doc, "predictions", 0), json_array_size(wins),
                  rdm_rpt_int(doc, "labelled", 0));
    if (json_array_size(wins)) {
        volume(&pg, wins);
        auc_chart(&pg, wins);
        calibration(&pg, wins);
        drift_strip(&pg, doc, wins);
        distributions(&pg, doc);
    } else {
        note(&pg, "Nothing served yet.");
    }
    patient_groups(&pg, doc);
    batches(&pg, doc);
    triggers(&pg, doc);
    return rdm_html_page_finish(&pg, out, err);
}
