/* report_compare.c - compare.html: the latest training's runs side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report.h"
#include "report_charts.h"
#include "site.h"
#include "svg.h"

#define NSPLIT 2
static const char *const SPLITS[NSPLIT] = {"valid", "test"};
static const char *const SPLIT_NAMES[NSPLIT] = {"validation", "test"};

#define MAX_COMPARE 8

int rdm_report_page_compare(const rdm_report_site *rs, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    rdm_html_page pg;
    if (rdm_rpt_page_start(&pg, "Compare the latest runs", ""))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    xmlNodePtr body = pg.body;
    const json_t *runs = json_object_get(site, "runs");
    /* the latest training's runs (runs are newest first), at most MAX_COMPARE */
    long long latest = -1;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        long long t = rdm_rpt_int(r, "training_id", -1);
        if (t > latest)
            latest = t;
    }
    json_t *sel = json_array();
    if (!sel) {
        rdm_html_page_discard(&pg);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    json_array_foreach(runs, i, r)
    {
        if (rdm_rpt_int(r, "training_id", -1) == latest && json_array_size(sel) < MAX_COMPARE)
            json_array_append(sel, (json_t *)r);
    }
    int n = (int)json_array_size(sel);
    if (!n) {
        rdm_html_para(&pg, body, "muted", "No run yet.");
        json_decref(sel);
        return rdm_html_page_finish(&pg, out, err);
    }
    rdm_html_para(
        &pg, body, NULL,
        "The %d run(s) of training %lld side by side (at most %d). Only the parameters that "
        "differ are shown.",
        n, latest, MAX_COMPARE);
    long long champ = rdm_rpt_champion_run(site);
    char buf[256], href[96];
    xmlNodePtr t = rdm_html_el(&pg, body, "table", NULL);
    xmlNodePtr tr = rdm_html_el(&pg, rdm_html_el(&pg, t, "thead", NULL), "tr", NULL);
    rdm_html_el(&pg, tr, "th", "");
    json_array_foreach(sel, i, r)
    {
        xmlNodePtr th = rdm_html_el(&pg, tr, "th", NULL);
        long long rid = rdm_rpt_int(r, "run_id", -1);
        rdm_rpt_href_run(href, sizeof href, "", rid);
        snprintf(buf, sizeof buf, "run %lld", rid);
        rdm_html_link(&pg, th, href, buf);
        if (rid == champ)
            rdm_html_badge(&pg, th, "champion", "champion");
    }
    xmlNodePtr tb = rdm_html_el(&pg, t, "tbody", NULL);
    tr = rdm_html_el(&pg, tb, "tr", NULL);
    rdm_html_el(&pg, tr, "th", "model type");
    json_array_foreach(sel, i, r) rdm_html_td(&pg, tr, rdm_rpt_str(r, "model_type"));
    tr = rdm_html_el(&pg, tb, "tr", NULL);
    rdm_html_el(&pg, tr, "th", "name");
    json_array_foreach(sel, i, r) rdm_html_td(&pg, tr, rdm_rpt_str(r, "name"));
    /* union of parameter keys, sorted, shown when they differ */
    json_t *all = json_object();
    json_array_foreach(sel, i, r)
    {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(r, "params"), k, v)
            json_object_set(all, k, json_null());
    }
    size_t nk;
    const char **keys = rdm_rpt_sorted_keys(all, &nk);
    int shown = 0;
    for (size_t k = 0; keys && k < nk; k++) {
        if (!rdm_rpt_param_varies(sel, NULL, keys[k]))
            continue;
        shown++;
        tr = rdm_html_el(&pg, tb, "tr", NULL);
        rdm_html_el(&pg, tr, "th", keys[k]);
        json_array_foreach(sel, i, r)
        {
            const char *v = rdm_rpt_param(r, keys[k]);
            rdm_html_td(&pg, tr, v ? v : "-");
        }
    }
    free(keys);
    json_decref(all);
    if (!shown) {
        tr = rdm_html_el(&pg, tb, "tr", NULL);
        rdm_html_el(&pg, tr, "th", "parameters");
        json_array_foreach(sel, i, r) rdm_html_td(&pg, tr, "(all equal)");
    }
    static const char *const M[] = {"roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "f1"};
    static const char *const MN[] = {"ROC AUC", "PR AUC", "log loss", "Brier", "accuracy", "F1"};
    for (int m = 0; m < 6; m++)
        for (int s = 0; s < NSPLIT; s++) {
            tr = rdm_html_el(&pg, tb, "tr", NULL);
            rdm_html_elf(&pg, tr, "th", "%s %s", SPLIT_NAMES[s], MN[m]);
            json_array_foreach(sel, i, r)
                rdm_html_tdnum(&pg, tr, 4, rdm_rpt_metric(r, SPLITS[s], M[m]));
        }
    tr = rdm_html_el(&pg, tb, "tr", NULL);
    rdm_html_el(&pg, tr, "th", "duration s");
    json_array_foreach(sel, i, r) rdm_html_tdnum(&pg, tr, 2, rdm_rpt_num(r, "duration_s"));

    rdm_html_section(&pg, "Test ROC curves overlaid", "roc");
    rdm_svg_series s[MAX_COMPARE + 1];
    char names[MAX_COMPARE][96];
    int ns = 0;
    json_array_foreach(sel, i, r)
    {
        long long rid = rdm_rpt_int(r, "run_id", -1);
        const rdm_rpt_curve *c = rdm_rpt_curve_get(rs, rid, "test", "roc");
        if (!c || c->n <= 0 || ns >= MAX_COMPARE)
            continue;
        snprintf(names[ns], sizeof names[ns], "run %lld %s", rid,
                 rdm_rpt_str(r, "model_type") ? rdm_rpt_str(r, "model_type") : "");
        s[ns] = (rdm_svg_series){names[ns], c->x, c->y, c->n, 0, 0};
        ns++;
    }
    if (ns) {
        double diag[2] = {0, 1};
        s[ns] = (rdm_svg_series){"no skill", diag, diag, 2, 1, 0};
        rdm_svg_chart c = {"Test ROC curves",
                           "false positive rate",
                           "true positive rate",
                           560,
                           400,
                           0,
                           1,
                           0,
                           1,
                           0,
                           0};
        rdm_report_chart(&pg, body, &c, s, ns + 1);
        rdm_report_points(&pg, body, "ROC points of every run", s, ns + 1, "false positive rate",
                          "true positive rate");
    } else {
        rdm_html_para(&pg, body, "muted", "No ROC curves stored.");
    }
    json_decref(sel);
    return rdm_html_page_finish(&pg, out, err);
}
