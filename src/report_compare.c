/* report_compare.c - the compare pages: compare.html (the selected run of
 * each training, across trainings) and compare/<training>.html (every run of
 * one training). Only the parameters that differ are shown, the best value
 * of each metric is marked, and the test ROC and precision-recall curves are
 * overlaid with a colour and a dash pattern per run. */
#include <math.h>
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

#define MAX_COMPARE 16 /* runs on one compare page */

/* 1 when at least two of the runs have parameter `key` and their values
 * differ: a parameter only one model type has is not a difference. */
static int param_differs(const json_t *sel, const char *key)
{
    const char *first = NULL;
    size_t i;
    const json_t *r;
    json_array_foreach(sel, i, r)
    {
        const char *v = rdm_rpt_param(r, key);
        if (!v)
            continue;
        if (!first)
            first = v;
        else if (strcmp(first, v))
            return 1;
    }
    return 0;
}

static void head_row(rdm_html_page *pg, xmlNodePtr t, const json_t *sel, long long champ)
{
    char buf[64], href[96];
    xmlNodePtr tr = rdm_html_el(pg, rdm_html_el(pg, t, "thead", NULL), "tr", NULL);
    rdm_html_el(pg, tr, "th", "");
    size_t i;
    const json_t *r;
    json_array_foreach(sel, i, r)
    {
        xmlNodePtr th = rdm_html_el(pg, tr, "th", NULL);
        long long rid = rdm_rpt_int(r, "run_id", -1);
        rdm_rpt_href_run(href, sizeof href, pg->root, rid);
        snprintf(buf, sizeof buf, "run %lld", rid);
        rdm_html_link(pg, th, href, buf);
        if (rid == champ)
            rdm_html_badge(pg, th, "champion", "champion");
    }
}

static void text_row(rdm_html_page *pg, xmlNodePtr tb, const json_t *sel, const char *head,
                     const char *key)
{
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", head);
    size_t i;
    const json_t *r;
    json_array_foreach(sel, i, r) rdm_html_td(pg, tr, rdm_rpt_str(r, key));
}

/* The parameters that differ; returns how many are shown. */
static int param_rows(rdm_html_page *pg, xmlNodePtr tb, const json_t *sel, int *same)
{
    json_t *all = json_object();
    size_t i;
    const json_t *r;
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
    *same = 0;
    for (size_t k = 0; keys && k < nk; k++) {
        if (!param_differs(sel, keys[k])) {
            (*same)++;
            continue;
        }
        shown++;
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_el(pg, tr, "th", keys[k]);
        json_array_foreach(sel, i, r)
        {
            char num[64];
            const char *v = rdm_html_fmt_value(rdm_rpt_param(r, keys[k]), num, sizeof num);
            rdm_html_td(pg, tr, v ? v : "-");
        }
    }
    free(keys);
    json_decref(all);
    return shown;
}

/* One metric row; the best finite value (by the metric's direction) gets
 * class "best". */
static void metric_row(rdm_html_page *pg, xmlNodePtr tb, const json_t *sel, const char *split,
                       const char *key, const char *head)
{
    int hb = rdm_rpt_higher_better(key);
    double best = NAN, worst = NAN;
    size_t i;
    const json_t *r;
    json_array_foreach(sel, i, r)
    {
        double v = rdm_rpt_metric(r, split, key);
        if (isfinite(v) && (isnan(best) || (hb ? v > best : v < best)))
            best = v;
        if (isfinite(v) && (isnan(worst) || (hb ? v < worst : v > worst)))
            worst = v;
    }
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_attr(pg, tr, "data-better", hb ? "1" : "-1");
    rdm_html_el(pg, tr, "th", head);
    json_array_foreach(sel, i, r)
    {
        double v = rdm_rpt_metric(r, split, key);
        xmlNodePtr td = rdm_html_tdnum(pg, tr, 4, v);
        if (isfinite(v) && v == best && best != worst) { /* all equal: nothing to mark */
            rdm_html_attr(pg, td, "class", "num best");
            rdm_html_attr(pg, td, "title", "best of these runs");
        }
    }
}

static void metric_rows(rdm_html_page *pg, xmlNodePtr tb, const json_t *sel)
{
    static const char *const M[] = {"roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "f1"};
    char head[128];
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", "chosen threshold");
    size_t i;
    const json_t *r;
    json_array_foreach(sel, i, r) rdm_html_tdnum(pg, tr, 4, rdm_rpt_num(r, "threshold"));
    for (int m = 0; m < 6; m++)
        for (int s = 0; s < NSPLIT; s++) {
            const char *at = !strcmp(M[m], "accuracy") ? " at threshold 0.5"
                             : !strcmp(M[m], "f1")     ? " at the chosen threshold"
                                                       : "";
            snprintf(head, sizeof head, "%s %s%s", SPLIT_NAMES[s], rdm_rpt_metric_label(M[m]), at);
            metric_row(pg, tb, sel, SPLITS[s], M[m], head);
        }
    tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", "duration s");
    json_array_foreach(sel, i, r) rdm_html_tdnum(pg, tr, 2, rdm_rpt_num(r, "duration_s"));
}

/* Test curves of `kind` ("roc" or "pr") of every run, overlaid. */
static void overlay(rdm_html_page *pg, const rdm_report_site *rs, const json_t *sel,
                    const char *kind)
{
    int roc = !strcmp(kind, "roc");
    rdm_html_section(pg, roc ? "Test ROC curves overlaid" : "Test precision-recall curves overlaid",
                     roc ? "roc" : "pr");
    rdm_svg_series s[MAX_COMPARE + 1];
    char names[MAX_COMPARE][96];
    int ns = 0;
    double rate = 0, diag[2] = {0, 1}, base[2];
    int nrate = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(sel, i, r)
    {
        long long rid = rdm_rpt_int(r, "run_id", -1);
        const rdm_rpt_curve *c = rdm_rpt_curve_get(rs, rid, "test", kind);
        if (!c || c->n <= 0 || ns >= MAX_COMPARE)
            continue;
        snprintf(names[ns], sizeof names[ns], "run %lld %s", rid,
                 rdm_rpt_str(r, "model_type") ? rdm_rpt_str(r, "model_type") : "");
        /* dash patterns 2, 3, ... and the palette: no two runs look alike */
        s[ns] = (rdm_svg_series){names[ns], c->x, c->y, c->n, ns ? 1 + ns : 0, 0};
        ns++;
        double pr = rdm_rpt_positive_rate(r, "test");
        if (isfinite(pr)) {
            rate += pr;
            nrate++;
        }
    }
    if (!ns) {
        rdm_html_para(pg, pg->body, "muted", "No %s curves stored.",
                      roc ? "ROC" : "precision-recall");
        return;
    }
    int nref = 0;
    if (roc) {
        s[ns] = (rdm_svg_series){"no skill", diag, diag, 2, 1, 0};
        nref = 1;
    } else if (nrate) {
        base[0] = base[1] = rate / nrate;
        s[ns] = (rdm_svg_series){"no skill (test positive rate)", diag, base, 2, 1, 0};
        nref = 1;
    }
    rdm_svg_chart c = {roc ? "Test ROC curves" : "Test precision-recall curves",
                       roc ? "false positive rate" : "recall",
                       roc ? "true positive rate" : "precision",
                       560,
                       400,
                       0,
                       1,
                       0,
                       1,
                       0,
                       0};
    rdm_report_chart(pg, pg->body, &c, s, ns + nref);
    rdm_report_points(pg, pg->body,
                      roc ? "ROC points of every run" : "Precision-recall points of every run", s,
                      ns + nref, c.xlabel, c.ylabel);
}

/* The body of a compare page over the runs in sel: the table (returned),
 * then, with curves, the overlays. */
static xmlNodePtr compare_runs(rdm_html_page *pg, const rdm_report_site *rs, const json_t *sel,
                               int curves)
{
    const json_t *site = rdm_report_site_json(rs);
    long long champ = rdm_rpt_champion_run(site);
    xmlNodePtr t = rdm_html_el(pg, pg->body, "table", NULL);
    rdm_html_attr(pg, t, "class", "compare");
    head_row(pg, t, sel, champ);
    xmlNodePtr tb = rdm_html_el(pg, t, "tbody", NULL);
    text_row(pg, tb, sel, "name", "name");
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", "training");
    size_t i;
    const json_t *r;
    json_array_foreach(sel, i, r) rdm_html_tdint(pg, tr, rdm_rpt_int(r, "training_id", 0));
    text_row(pg, tb, sel, "model type", "model_type");
    int same = 0;
    if (!param_rows(pg, tb, sel, &same)) {
        tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_el(pg, tr, "th", "parameters");
        json_array_foreach(sel, i, r) rdm_html_td(pg, tr, "(no difference)");
    }
    metric_rows(pg, tb, sel);
    rdm_html_para(pg, pg->body, "muted",
                  "%d parameter(s) with the same value in every run that has them are not shown. "
                  "The best value of each metric is marked.",
                  same);
    if (curves) {
        overlay(pg, rs, sel, "roc");
        overlay(pg, rs, sel, "pr");
    }
    return t;
}

/* Shows the runs named in the page's #runs=ID,ID,... (ticked on the index)
 * and marks the best of each metric among them. */
static const char PICKED_JS[] =
    "(function(){var w=document.getElementById('picked-table');if(!w)return;"
    "var m=/runs=([0-9,]+)/.exec(location.hash);if(!m)return;var want={};"
    "m[1].split(',').forEach(function(x){want[x]=1;});w.style.display='';"
    "w.querySelectorAll('[data-run]').forEach(function(c){"
    "c.style.display=want[c.getAttribute('data-run')]?'':'none';});"
    "w.querySelectorAll('tr[data-better]').forEach(function(tr){"
    "var d=+tr.getAttribute('data-better'),best=null,tds=tr.querySelectorAll('td[data-run]');"
    "tds.forEach(function(td){td.classList.remove('best');if(td.style.display==='none')return;"
    "var v=parseFloat(td.textContent);if(!isNaN(v)&&(best===null||d*v>d*best))best=v;});"
    "tds.forEach(function(td){if(td.style.display!=='none'&&parseFloat(td.textContent)===best)"
    "td.classList.add('best');});});"
    "var n=document.getElementById('picked-note');"
    "if(n)n.textContent='The runs ticked on the index: '+m[1].split(',').join(', ')+'.';})();";

/* Every element child of a row after the first gets data-run of its column. */
static void tag_columns(rdm_html_page *pg, xmlNodePtr row, char ids[][24], size_t n)
{
    size_t k = 0;
    int first = 1;
    for (xmlNodePtr c = row ? row->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (first) {
            first = 0;
            continue;
        }
        if (k < n)
            rdm_html_attr(pg, c, "data-run", ids[k++]);
    }
}

/* Every run of the site in one table, hidden until the page is opened with
 * #runs=... from the index, which then shows the ticked runs only. */
static void picked_section(rdm_html_page *pg, const rdm_report_site *rs)
{
    const json_t *runs = json_object_get(rdm_report_site_json(rs), "runs");
    size_t n = json_array_size(runs);
    rdm_html_section(pg, "Ticked runs, across trainings", "picked");
    xmlNodePtr note = rdm_html_el(pg, pg->body, "p",
                                  "Tick runs in the runs table of the index, then follow "
                                  "\"Compare the ticked runs\": they are shown here side by side.");
    rdm_html_attr(pg, note, "id", "picked-note");
    rdm_html_attr(pg, note, "class", "muted");
    if (!n)
        return;
    char(*ids)[24] = calloc(n, sizeof *ids);
    if (!ids) {
        pg->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(ids[i], sizeof ids[i], "%lld", rdm_rpt_int(json_array_get(runs, i), "run_id", -1));
    xmlNodePtr w = rdm_html_el(pg, pg->body, "div", NULL);
    rdm_html_attr(pg, w, "id", "picked-table");
    rdm_html_attr(pg, w, "style", "display:none");
    xmlNodePtr body = pg->body;
    pg->body = w; /* the table and its note go into the wrapper */
    xmlNodePtr t = compare_runs(pg, rs, runs, 0);
    pg->body = body;
    for (xmlNodePtr part = t ? t->children : NULL; part; part = part->next)
        for (xmlNodePtr row = part->children; row; row = row->next)
            if (row->type == XML_ELEMENT_NODE)
                tag_columns(pg, row, ids, n);
    free(ids);
    pg->script = PICKED_JS;
}

static void training_links(rdm_html_page *pg, const json_t *site)
{
    size_t n = 0;
    long long *tr = rdm_rpt_trainings(site, &n);
    if (!n) {
        free(tr);
        return;
    }
    xmlNodePtr p = rdm_html_el(pg, pg->body, "p", "Every run of one training: ");
    for (size_t k = 0; k < n; k++) {
        char href[96], text[32];
        rdm_rpt_href_compare(href, sizeof href, pg->root, tr[k]);
        snprintf(text, sizeof text, "training %lld", tr[k]);
        if (k)
            rdm_html_text(pg, p, " | ");
        rdm_html_link(pg, p, href, text);
    }
    free(tr);
}

int rdm_report_page_compare(const rdm_report_site *rs, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    rdm_html_page pg;
    if (rdm_rpt_page_start(&pg, "Compare trainings", ""))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    json_t *sel = json_array();
    if (!sel) {
        rdm_html_page_discard(&pg);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(site, "runs"), i, r)
    {
        if (json_is_true(json_object_get(r, "selected")) && json_array_size(sel) < MAX_COMPARE)
            json_array_append(sel, (json_t *)r);
    }
    training_links(&pg, site);
    if (!json_array_size(sel)) {
        rdm_html_para(&pg, pg.body, "muted", "No training has selected a run yet.");
    } else {
        rdm_html_para(&pg, pg.body, NULL,
                      "The run each training selected, newest training first (at most %d).",
                      MAX_COMPARE);
        compare_runs(&pg, rs, sel, 1);
    }
    json_decref(sel);
    picked_section(&pg, rs);
    return rdm_html_page_finish(&pg, out, err);
}

int rdm_report_page_compare_training(const rdm_report_site *rs, long long training_id, rdm_buf *out,
                                     rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    char title[96];
    snprintf(title, sizeof title, "Compare the runs of training %lld", training_id);
    rdm_html_page pg;
    if (rdm_rpt_page_start(&pg, title, "../"))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    json_t *sel = json_array();
    if (!sel) {
        rdm_html_page_discard(&pg);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    size_t i, total = 0;
    const json_t *r;
    json_array_foreach(json_object_get(site, "runs"), i, r)
    {
        if (rdm_rpt_int(r, "training_id", -1) != training_id)
            continue;
        total++;
        if (json_array_size(sel) < MAX_COMPARE)
            json_array_append(sel, (json_t *)r);
    }
    rdm_html_para(&pg, pg.body, NULL, "%zu run(s) of training %lld side by side%s.", total,
                  training_id, total > MAX_COMPARE ? " (the newest 16 shown)" : "");
    if (json_array_size(sel))
        compare_runs(&pg, rs, sel, 1);
    json_decref(sel);
    return rdm_html_page_finish(&pg, out, err);
}
