/* report_index.c - index.html: model versions, alias history and every run. */
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

/* The gate's stored numbers as a small table inside a <details> toggle. */
static void gate_details(rdm_html_page *pg, xmlNodePtr td, const json_t *gate)
{
    if (!json_is_object(gate) || !json_object_size(gate))
        return;
    xmlNodePtr d = rdm_html_el(pg, td, "details", NULL);
    rdm_html_el(pg, d, "summary", "details");
    static const char *const H[] = {"item", "value"};
    xmlNodePtr tb = rdm_html_table(pg, d, "gate", H, 2);
    size_t nk;
    const char **keys = rdm_rpt_sorted_keys(gate, &nk);
    for (size_t i = 0; keys && i < nk; i++) {
        const json_t *v = json_object_get(gate, keys[i]);
        char buf[256];
        if (json_is_real(v))
            snprintf(buf, sizeof buf, "%.4f", json_real_value(v));
        else if (json_is_integer(v))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        else if (json_is_string(v))
            snprintf(buf, sizeof buf, "%s", json_string_value(v));
        else if (json_is_boolean(v))
            snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "yes" : "no");
        else
            snprintf(buf, sizeof buf, "-");
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, keys[i]);
        rdm_html_td(pg, tr, buf);
    }
    free(keys);
}

static void version_text(const json_t *v, char *out, size_t n)
{
    if (json_is_integer(v))
        snprintf(out, n, "v%lld", (long long)json_integer_value(v));
    else
        snprintf(out, n, "none");
}

static void versions_section(rdm_html_page *pg, const json_t *site)
{
    xmlNodePtr body = pg->body;
    const json_t *versions = json_object_get(site, "versions");
    long long champ = rdm_rpt_champion_run(site);
    char buf[512], href[96];
    size_t i;
    rdm_html_section(pg, "Model versions", "versions");
    if (!json_array_size(versions)) {
        rdm_html_para(pg, body, "muted", "No version registered yet (readmit register).");
    } else {
        static const char *const H[] = {"version",      "aliases",     "run",
                                        "model type",   "registered",  "valid ROC AUC",
                                        "test ROC AUC", "model sha256"};
        xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 8);
        const json_t *v;
        json_array_foreach(versions, i, v)
        {
            long long rid = rdm_rpt_int(v, "run_id", -1);
            const json_t *run = rdm_rpt_find_run(site, rid);
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            if (rid == champ)
                rdm_html_attr(pg, tr, "class", "champion");
            rdm_html_elf(pg, tr, "td", "v%lld", rdm_rpt_int(v, "version", 0));
            xmlNodePtr td = rdm_html_td(pg, tr, NULL);
            size_t k;
            const json_t *a;
            json_array_foreach(json_object_get(v, "aliases"), k, a)
            {
                if (json_is_string(a))
                    rdm_html_badge(pg, td, json_string_value(a), json_string_value(a));
            }
            rdm_rpt_href_run(href, sizeof href, "", rid);
            snprintf(buf, sizeof buf, "run %lld", rid);
            rdm_html_link(pg, rdm_html_td(pg, tr, NULL), href, buf);
            rdm_html_td(pg, tr, run ? rdm_rpt_str(run, "model_type") : NULL);
            rdm_html_fmt_time(rdm_rpt_str(v, "created_at"), buf, sizeof buf);
            rdm_html_td(pg, tr, buf);
            rdm_html_tdnum(pg, tr, 4, rdm_rpt_metric(run, "valid", "roc_auc"));
            rdm_html_tdnum(pg, tr, 4, rdm_rpt_metric(run, "test", "roc_auc"));
            xmlNodePtr sha = rdm_html_td(pg, tr, rdm_rpt_str(v, "sha256"));
            rdm_html_attr(pg, sha, "class", "mono");
        }
    }
}

static void history_section(rdm_html_page *pg, const json_t *site)
{
    xmlNodePtr body = pg->body;
    char buf[512];
    size_t i;
    rdm_html_section(pg, "Alias history", "history");
    const json_t *hist = json_object_get(site, "history");
    if (!json_array_size(hist)) {
        rdm_html_para(pg, body, "muted", "No alias change yet.");
    } else {
        rdm_html_para(
            pg, body, "muted",
            "Every change of the champion and challenger aliases, oldest first: why, from the "
            "promotion gate's numbers (scored on the same validation split) or the reason given "
            "by hand; \"details\" opens the numbers as stored.");
        static const char *const H[] = {"when", "alias", "action", "from", "to", "why", "who"};
        xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 7);
        const json_t *h;
        json_array_foreach(hist, i, h)
        {
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            rdm_html_fmt_time(rdm_rpt_str(h, "at"), buf, sizeof buf);
            rdm_html_td(pg, tr, buf);
            rdm_html_td(pg, tr, rdm_rpt_str(h, "alias"));
            rdm_html_td(pg, tr, rdm_rpt_str(h, "action"));
            version_text(json_object_get(h, "from_version"), buf, sizeof buf);
            rdm_html_td(pg, tr, buf);
            version_text(json_object_get(h, "to_version"), buf, sizeof buf);
            rdm_html_td(pg, tr, buf);
            char why[1024];
            rdm_rpt_history_sentence(h, why, sizeof why);
            xmlNodePtr td = rdm_html_td(pg, tr, NULL);
            rdm_html_attr(pg, rdm_html_el(pg, td, "div", why), "class", "why");
            gate_details(pg, td, json_object_get(h, "gate"));
            rdm_rpt_actor_text(rdm_rpt_str(h, "actor"), buf, sizeof buf);
            rdm_html_td(pg, tr, buf);
        }
    }
}

/* "key=value ..." of the parameters that differ between runs of r's model type. */
static void key_params(const json_t *runs, const json_t *r, char *buf, size_t n)
{
    size_t nk;
    const char **keys = rdm_rpt_sorted_keys(json_object_get(r, "params"), &nk);
    buf[0] = '\0';
    for (size_t k = 0; keys && k < nk; k++) {
        if (!rdm_rpt_param_varies(runs, rdm_rpt_str(r, "model_type"), keys[k]))
            continue;
        char num[64];
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s=%s", l ? " " : "", keys[k],
                 rdm_html_fmt_value(rdm_rpt_param(r, keys[k]), num, sizeof num));
    }
    free(keys);
}

/* Ticking runs builds the link to compare.html#runs=ID,ID,... */
static const char PICK_JS[] =
    "(function(){var a=document.getElementById('compare-picked');if(!a)return;"
    "var u=function(){var v=[];document.querySelectorAll('input.pick:checked').forEach("
    "function(c){v.push(c.value);});a.setAttribute('href','compare.html'+(v.length?"
    "'#runs='+v.join(','):''));a.textContent='Compare the ticked runs ('+v.length+')';};"
    "document.querySelectorAll('input.pick').forEach(function(c){"
    "c.addEventListener('change',u);});u();})();";

static void run_row(rdm_html_page *pg, xmlNodePtr tb, const json_t *runs, const json_t *r,
                    long long champ)
{
    char buf[512], href[96];
    long long rid = rdm_rpt_int(r, "run_id", -1);
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    if (rid == champ)
        rdm_html_attr(pg, tr, "class", "champion");
    xmlNodePtr box = rdm_html_el(pg, rdm_html_td(pg, tr, NULL), "input", NULL);
    snprintf(buf, sizeof buf, "%lld", rid);
    rdm_html_attr(pg, box, "type", "checkbox");
    rdm_html_attr(pg, box, "class", "pick");
    rdm_html_attr(pg, box, "value", buf);
    snprintf(buf, sizeof buf, "tick run %lld to compare it", rid);
    rdm_html_attr(pg, box, "aria-label", buf);
    xmlNodePtr td = rdm_html_td(pg, tr, NULL);
    rdm_rpt_href_run(href, sizeof href, "", rid);
    snprintf(buf, sizeof buf, "%lld", rid);
    rdm_html_link(pg, td, href, buf);
    if (rid == champ)
        rdm_html_badge(pg, td, "champion", "champion");
    if (json_is_true(json_object_get(r, "selected")))
        rdm_html_badge(pg, td, "selected", NULL);
    rdm_html_attr(pg, rdm_html_td(pg, tr, rdm_rpt_str(r, "name")), "class", "run-name");
    long long tid = rdm_rpt_int(r, "training_id", 0);
    rdm_rpt_href_compare(href, sizeof href, "", tid);
    snprintf(buf, sizeof buf, "%lld", tid);
    xmlNodePtr tl = rdm_html_link(pg, rdm_html_td(pg, tr, NULL), href, buf);
    rdm_html_attr(pg, tl, "title", "compare the runs of this training");
    rdm_html_td(pg, tr, rdm_rpt_str(r, "model_type"));
    key_params(runs, r, buf, sizeof buf);
    rdm_html_td(pg, tr, buf);
    static const char *const M[] = {"roc_auc", "pr_auc", "log_loss", "accuracy"};
    for (int m = 0; m < 4; m++)
        for (int s = 0; s < NSPLIT; s++)
            rdm_html_tdnum(pg, tr, 4, rdm_rpt_metric(r, SPLITS[s], M[m]));
    rdm_html_tdnum(pg, tr, 2, rdm_rpt_num(r, "duration_s"));
    xmlNodePtr st = rdm_html_td(pg, tr, rdm_rpt_str(r, "status"));
    const char *s = rdm_rpt_str(r, "status");
    if (s && !strcmp(s, "failed"))
        rdm_html_attr(pg, st, "class", "fail");
}

static void runs_section(rdm_html_page *pg, const json_t *site)
{
    xmlNodePtr body = pg->body;
    const json_t *runs = json_object_get(site, "runs");
    rdm_html_section(pg, "Runs", "runs");
    if (!json_array_size(runs)) {
        rdm_html_para(pg, body, "muted", "No run yet (readmit train).");
        return;
    }
    rdm_html_para(pg, body, "muted",
                  "Newest first; click a column header to sort. Key parameters are those that "
                  "differ between runs of the same model type. A training number opens the "
                  "comparison of that training's runs. Accuracy is at threshold 0.5.");
    xmlNodePtr p = rdm_html_el(pg, body, "p", "Tick runs of any trainings, then: ");
    rdm_html_attr(pg, rdm_html_link(pg, p, "compare.html#picked", "Compare the ticked runs"), "id",
                  "compare-picked");
    pg->script = PICK_JS;
    static const char *const H[] = {"pick",
                                    "run",
                                    "name",
                                    "training",
                                    "model type",
                                    "key parameters",
                                    "valid ROC AUC",
                                    "test ROC AUC",
                                    "valid PR AUC",
                                    "test PR AUC",
                                    "valid log loss",
                                    "test log loss",
                                    "valid accuracy at 0.5",
                                    "test accuracy at 0.5",
                                    "duration s",
                                    "status"};
    xmlNodePtr tb = rdm_html_table(pg, body, "sortable", H, 16);
    long long champ = rdm_rpt_champion_run(site);
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r) run_row(pg, tb, runs, r, champ);
}

/* Earliest start of a training's runs ("" when unknown) into out. */
static void training_start(const json_t *runs, long long t, char *out, size_t n)
{
    out[0] = '\0';
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        const char *s = rdm_rpt_str(r, "started_at");
        if (rdm_rpt_int(r, "training_id", -1) == t && s && (!out[0] || strcmp(s, out) < 0))
            snprintf(out, n, "%s", s);
    }
}

/* Run id of the champion in effect before time `before` ("" = now): the last
 * champion change of the history before then; -1 if none. */
static long long champion_before(const json_t *site, const char *before)
{
    long long to = -1;
    size_t i;
    const json_t *h;
    json_array_foreach(json_object_get(site, "history"), i, h)
    {
        const char *alias = rdm_rpt_str(h, "alias"), *at = rdm_rpt_str(h, "at");
        if (!alias || strcmp(alias, "champion") || (before[0] && at && strcmp(at, before) >= 0))
            continue;
        to = rdm_rpt_int(h, "to_version", 0);
    }
    size_t k;
    const json_t *v;
    json_array_foreach(json_object_get(site, "versions"), k, v)
    {
        if (to > 0 && rdm_rpt_int(v, "version", 0) == to)
            return rdm_rpt_int(v, "run_id", -1);
    }
    return -1;
}

/* The champion's validation metric after each training (the champion in
 * effect when the next training started, the current one after the last),
 * next to the best run each training selected. */
static void champion_plot(rdm_html_page *pg, const json_t *site)
{
    const json_t *runs = json_object_get(site, "runs");
    size_t n = 0;
    long long *tr = rdm_rpt_trainings(site, &n);
    double *buf = tr && n ? malloc(3 * n * sizeof *buf) : NULL;
    if (!buf) {
        free(tr);
        return;
    }
    double *x = buf, *champ = buf + n, *best = buf + 2 * n;
    const char *metric = "roc_auc";
    for (size_t k = 0; k < n; k++) {
        long long t = tr[n - 1 - k]; /* oldest first */
        char next[64] = "";
        if (k + 1 < n)
            training_start(runs, tr[n - 2 - k], next, sizeof next);
        x[k] = (double)t;
        const json_t *cr = rdm_rpt_find_run(site, champion_before(site, next));
        champ[k] = cr ? rdm_rpt_metric(cr, "valid", metric) : NAN;
        best[k] = NAN;
        size_t i;
        const json_t *r;
        json_array_foreach(runs, i, r)
        {
            if (rdm_rpt_int(r, "training_id", -1) == t &&
                json_is_true(json_object_get(r, "selected")))
                best[k] = rdm_rpt_metric(r, "valid", metric);
        }
    }
    rdm_html_section(pg, "Champion over trainings", "champion-trend");
    rdm_html_para(
        pg, pg->body, "muted",
        "Validation ROC AUC of the champion in effect after each training, and of the run "
        "each training selected.");
    rdm_svg_series s[2] = {{"champion", x, champ, (int)n, 0, 1},
                           {"selected run of the training", x, best, (int)n, 2, 1}};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < 2 * n; k++)
        if (isfinite(champ[k])) { /* champ and best are adjacent */
            lo = fmin(lo, champ[k]);
            hi = fmax(hi, champ[k]);
        }
    if (!(lo <= hi))
        lo = 0, hi = 1;
    /* an x span of at least 5 keeps the ticks on whole training numbers */
    double pad = fmax(0.5, (5 - (x[n - 1] - x[0])) / 2);
    rdm_svg_chart c = {"Champion validation ROC AUC by training",
                       "training",
                       "validation ROC AUC",
                       560,
                       320,
                       x[0] - pad,
                       x[n - 1] + pad,
                       fmax(0, lo - 0.02),
                       fmin(1, hi + 0.02),
                       0,
                       0};
    rdm_report_chart(pg, pg->body, &c, s, 2);
    free(buf);
    free(tr);
}

int rdm_report_page_index(const rdm_report_site *rs, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    rdm_html_page pg;
    if (rdm_rpt_page_start(&pg, "Experiments and model registry", ""))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    xmlNodePtr body = pg.body;
    const char *model = rdm_rpt_str(site, "model_name");
    const json_t *runs = json_object_get(site, "runs");
    const json_t *versions = json_object_get(site, "versions");

    int nfin = 0, nfail = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        const char *st = rdm_rpt_str(r, "status");
        nfin += st && !strcmp(st, "finished");
        nfail += st && !strcmp(st, "failed");
    }
    rdm_html_para(&pg, body, NULL,
                  "Registered model \"%s\": %zu version(s). %zu run(s): %d finished, %d failed.",
                  model ? model : "?", json_array_size(versions), json_array_size(runs), nfin,
                  nfail);
    xmlNodePtr links = rdm_html_el(&pg, body, "p", "Pages: ");
    rdm_html_link(&pg, links, "compare.html", "compare trainings");
    rdm_html_text(&pg, links, " | ");
    rdm_html_link(&pg, links, "data.html", "data: batches, rejects, validation, profile");

    versions_section(&pg, site);
    if (json_array_size(runs))
        champion_plot(&pg, site);
    history_section(&pg, site);
    runs_section(&pg, site);
    return rdm_html_page_finish(&pg, out, err);
}
