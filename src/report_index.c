/* report_index.c - index.html: model versions, alias history and every run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report.h"
#include "site.h"

#define NSPLIT 2
static const char *const SPLITS[NSPLIT] = {"valid", "test"};

static void gate_text(const json_t *gate, char *out, size_t n)
{
    out[0] = '\0';
    if (!json_is_object(gate))
        return;
    size_t nk;
    const char **keys = rdm_rpt_sorted_keys(gate, &nk);
    for (size_t i = 0; keys && i < nk; i++) {
        const json_t *v = json_object_get(gate, keys[i]);
        size_t l = strlen(out);
        if (l + 2 >= n)
            break;
        if (json_is_number(v))
            snprintf(out + l, n - l, "%s%s=%.4g", l ? ", " : "", keys[i], json_number_value(v));
        else if (json_is_string(v))
            snprintf(out + l, n - l, "%s%s=%s", l ? ", " : "", keys[i], json_string_value(v));
        else if (json_is_boolean(v))
            snprintf(out + l, n - l, "%s%s=%s", l ? ", " : "", keys[i],
                     json_is_true(v) ? "true" : "false");
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
            "Every change of the champion and challenger aliases, oldest first: the promotion "
            "gate's numbers (scored on the same validation split) or a manual reason.");
        static const char *const H[] = {"when", "alias", "action",       "from",
                                        "to",   "why",   "gate numbers", "who"};
        xmlNodePtr tb = rdm_html_table(pg, body, NULL, H, 8);
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
            rdm_html_td(pg, tr, rdm_rpt_str(h, "reason"));
            char gate[1024];
            gate_text(json_object_get(h, "gate"), gate, sizeof gate);
            rdm_html_td(pg, tr, gate[0] ? gate : "manual");
            rdm_html_td(pg, tr, rdm_rpt_str(h, "actor"));
        }
    }
}

static void runs_section(rdm_html_page *pg, const json_t *site)
{
    xmlNodePtr body = pg->body;
    const json_t *runs = json_object_get(site, "runs");
    long long champ = rdm_rpt_champion_run(site);
    char buf[512], href[96];
    size_t i;
    const json_t *r;
    rdm_html_section(pg, "Runs", "runs");
    if (!json_array_size(runs)) {
        rdm_html_para(pg, body, "muted", "No run yet (readmit train).");
    } else {
        rdm_html_para(pg, body, "muted",
                      "Newest first; click a column header to sort. Key parameters are those that "
                      "differ between runs of the same model type.");
        static const char *const H[] = {"run",
                                        "training",
                                        "model type",
                                        "key parameters",
                                        "valid ROC AUC",
                                        "test ROC AUC",
                                        "valid PR AUC",
                                        "test PR AUC",
                                        "valid log loss",
                                        "test log loss",
                                        "valid accuracy",
                                        "test accuracy",
                                        "duration s",
                                        "status"};
        xmlNodePtr tb = rdm_html_table(pg, body, "sortable", H, 14);
        json_array_foreach(runs, i, r)
        {
            long long rid = rdm_rpt_int(r, "run_id", -1);
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            if (rid == champ)
                rdm_html_attr(pg, tr, "class", "champion");
            xmlNodePtr td = rdm_html_td(pg, tr, NULL);
            rdm_rpt_href_run(href, sizeof href, "", rid);
            snprintf(buf, sizeof buf, "%lld", rid);
            rdm_html_link(pg, td, href, buf);
            if (rid == champ)
                rdm_html_badge(pg, td, "champion", "champion");
            const json_t *sel = json_object_get(r, "selected");
            if (json_is_true(sel))
                rdm_html_badge(pg, td, "selected", NULL);
            rdm_html_tdint(pg, tr, rdm_rpt_int(r, "training_id", 0));
            rdm_html_td(pg, tr, rdm_rpt_str(r, "model_type"));
            size_t nk;
            const char **keys = rdm_rpt_sorted_keys(json_object_get(r, "params"), &nk);
            buf[0] = '\0';
            for (size_t k = 0; keys && k < nk; k++) {
                if (!rdm_rpt_param_varies(runs, rdm_rpt_str(r, "model_type"), keys[k]))
                    continue;
                size_t l = strlen(buf);
                snprintf(buf + l, sizeof buf - l, "%s%s=%s", l ? " " : "", keys[k],
                         rdm_rpt_param(r, keys[k]));
            }
            free(keys);
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
    }
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
    rdm_html_link(&pg, links, "compare.html", "compare the latest runs");
    rdm_html_text(&pg, links, " | ");
    rdm_html_link(&pg, links, "data.html", "data: batches, rejects, validation, profile");

    versions_section(&pg, site);
    history_section(&pg, site);
    runs_section(&pg, site);
    return rdm_html_page_finish(&pg, out, err);
}
