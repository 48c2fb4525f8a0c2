/* report_pages.c - the pages of the report site: index, run, compare, data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"
#include "svg.h"

#define NSPLIT 2
static const char *const SPLITS[NSPLIT] = {"valid", "test"};
static const char *const SPLIT_NAMES[NSPLIT] = {"validation", "test"};

/* ---- site lookups ---- */

static const json_t *find_run(const json_t *site, long long run_id)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(site, "runs"), i, r)
    {
        if (rdm_rpt_int(r, "run_id", -1) == run_id)
            return r;
    }
    return NULL;
}

/* Version registered from run_id (0 if none) and its aliases ("champion", ...). */
static int run_version(const json_t *site, long long run_id, char *aliases, size_t n)
{
    if (aliases && n)
        aliases[0] = '\0';
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(site, "versions"), i, v)
    {
        if (rdm_rpt_int(v, "run_id", -1) != run_id)
            continue;
        size_t k;
        const json_t *a;
        json_array_foreach(json_object_get(v, "aliases"), k, a)
        {
            if (aliases && json_is_string(a)) {
                size_t l = strlen(aliases);
                snprintf(aliases + l, n - l, "%s%s", l ? " " : "", json_string_value(a));
            }
        }
        return (int)rdm_rpt_int(v, "version", 0);
    }
    return 0;
}

static long long champion_run(const json_t *site)
{
    size_t i, k;
    const json_t *v, *a;
    json_array_foreach(json_object_get(site, "versions"), i, v)
    {
        json_array_foreach(json_object_get(v, "aliases"), k, a)
        {
            if (json_is_string(a) && !strcmp(json_string_value(a), "champion"))
                return rdm_rpt_int(v, "run_id", -1);
        }
    }
    return -1;
}

static double metric(const json_t *run, const char *split, const char *key)
{
    return rdm_rpt_num(json_object_get(run, split), key);
}

static const json_t *curve(const json_t *site, long long run_id, const char *split,
                           const char *kind)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", run_id);
    return rdm_rpt_path(json_object_get(site, "curves"), id, split, kind);
}

static void href_run(char *buf, size_t n, const char *root, long long id)
{
    snprintf(buf, n, "%sruns/%lld.html", root, id);
}

static void badge(rdm_rpt_page *pg, xmlNodePtr parent, const char *text, const char *cls)
{
    xmlNodePtr b = rdm_rpt_el(pg, parent, "span", text);
    char c[64];
    snprintf(c, sizeof c, "badge%s%s", cls ? " " : "", cls ? cls : "");
    rdm_rpt_attr(pg, b, "class", c);
}

static void para(rdm_rpt_page *pg, xmlNodePtr parent, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void para(rdm_rpt_page *pg, xmlNodePtr parent, const char *cls, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    xmlNodePtr p = rdm_rpt_el(pg, parent, "p", buf);
    if (cls)
        rdm_rpt_attr(pg, p, "class", cls);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted keys of an object (pointers borrowed from it); caller frees the array. */
static const char **sorted_keys(const json_t *o, size_t *n)
{
    *n = json_is_object(o) ? json_object_size(o) : 0;
    const char **k = malloc((*n + 1) * sizeof *k);
    if (!k) {
        *n = 0;
        return NULL;
    }
    size_t i = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        (void)v;
        k[i++] = key;
    }
    qsort(k, *n, sizeof *k, cmp_str);
    return k;
}

static const char *param_value(const json_t *run, const char *key)
{
    const json_t *v = rdm_rpt_path(run, "params", key, NULL);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* 1 when `key` takes more than one value over the runs of `model_type`
 * (NULL: over all runs in `runs`, which may be a subset). */
static int param_varies(const json_t *runs, const char *model_type, const char *key)
{
    const char *first = NULL;
    int seen = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        if (model_type && !str_eq(rdm_rpt_str(r, "model_type"), model_type))
            continue;
        const char *v = param_value(r, key);
        if (!seen) {
            first = v;
            seen = 1;
        } else if (!str_eq(first, v)) {
            return 1;
        }
    }
    return 0;
}

/* ---- index.html ---- */

static void gate_text(const json_t *gate, char *out, size_t n)
{
    out[0] = '\0';
    if (!json_is_object(gate))
        return;
    size_t nk;
    const char **keys = sorted_keys(gate, &nk);
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

int rdm_report_page_index(const rdm_report_site *rs, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    rdm_rpt_page pg;
    if (rdm_rpt_page_start(&pg, "Experiments and model registry", ""))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    xmlNodePtr body = pg.body;
    const char *model = rdm_rpt_str(site, "model_name");
    const json_t *runs = json_object_get(site, "runs");
    const json_t *versions = json_object_get(site, "versions");
    long long champ = champion_run(site);
    char buf[512], href[96];

    int nfin = 0, nfail = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        const char *st = rdm_rpt_str(r, "status");
        nfin += st && !strcmp(st, "finished");
        nfail += st && !strcmp(st, "failed");
    }
    para(&pg, body, NULL,
         "Registered model \"%s\": %zu version(s). %zu run(s): %d finished, %d failed.",
         model ? model : "?", json_array_size(versions), json_array_size(runs), nfin, nfail);
    xmlNodePtr links = rdm_rpt_el(&pg, body, "p", "Pages: ");
    rdm_rpt_link(&pg, links, "compare.html", "compare the latest runs");
    rdm_rpt_text(&pg, links, " | ");
    rdm_rpt_link(&pg, links, "data.html", "data: batches, rejects, validation, profile");

    rdm_rpt_section(&pg, "Model versions", "versions");
    if (!json_array_size(versions)) {
        para(&pg, body, "muted", "No version registered yet (readmit register).");
    } else {
        static const char *const H[] = {"version",      "aliases",     "run",
                                        "model type",   "registered",  "valid ROC AUC",
                                        "test ROC AUC", "model sha256"};
        xmlNodePtr tb = rdm_rpt_table(&pg, body, NULL, H, 8);
        const json_t *v;
        json_array_foreach(versions, i, v)
        {
            long long rid = rdm_rpt_int(v, "run_id", -1);
            const json_t *run = find_run(site, rid);
            xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            if (rid == champ)
                rdm_rpt_attr(&pg, tr, "class", "champion");
            rdm_rpt_elf(&pg, tr, "td", "v%lld", rdm_rpt_int(v, "version", 0));
            xmlNodePtr td = rdm_rpt_td(&pg, tr, NULL);
            size_t k;
            const json_t *a;
            json_array_foreach(json_object_get(v, "aliases"), k, a)
            {
                if (json_is_string(a))
                    badge(&pg, td, json_string_value(a), json_string_value(a));
            }
            href_run(href, sizeof href, "", rid);
            snprintf(buf, sizeof buf, "run %lld", rid);
            rdm_rpt_link(&pg, rdm_rpt_td(&pg, tr, NULL), href, buf);
            rdm_rpt_td(&pg, tr, run ? rdm_rpt_str(run, "model_type") : NULL);
            rdm_rpt_fmt_time(rdm_rpt_str(v, "created_at"), buf, sizeof buf);
            rdm_rpt_td(&pg, tr, buf);
            rdm_rpt_tdnum(&pg, tr, 4, metric(run, "valid", "roc_auc"));
            rdm_rpt_tdnum(&pg, tr, 4, metric(run, "test", "roc_auc"));
            xmlNodePtr sha = rdm_rpt_td(&pg, tr, rdm_rpt_str(v, "sha256"));
            rdm_rpt_attr(&pg, sha, "class", "mono");
        }
    }

    rdm_rpt_section(&pg, "Alias history", "history");
    const json_t *hist = json_object_get(site, "history");
    if (!json_array_size(hist)) {
        para(&pg, body, "muted", "No alias change yet.");
    } else {
        para(&pg, body, "muted",
             "Every change of the champion and challenger aliases, oldest first: the promotion "
             "gate's numbers (scored on the same validation split) or a manual reason.");
        static const char *const H[] = {"when", "alias", "action",       "from",
                                        "to",   "why",   "gate numbers", "who"};
        xmlNodePtr tb = rdm_rpt_table(&pg, body, NULL, H, 8);
        const json_t *h;
        json_array_foreach(hist, i, h)
        {
            xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            rdm_rpt_fmt_time(rdm_rpt_str(h, "at"), buf, sizeof buf);
            rdm_rpt_td(&pg, tr, buf);
            rdm_rpt_td(&pg, tr, rdm_rpt_str(h, "alias"));
            rdm_rpt_td(&pg, tr, rdm_rpt_str(h, "action"));
            version_text(json_object_get(h, "from_version"), buf, sizeof buf);
            rdm_rpt_td(&pg, tr, buf);
            version_text(json_object_get(h, "to_version"), buf, sizeof buf);
            rdm_rpt_td(&pg, tr, buf);
            rdm_rpt_td(&pg, tr, rdm_rpt_str(h, "reason"));
            char gate[1024];
            gate_text(json_object_get(h, "gate"), gate, sizeof gate);
            rdm_rpt_td(&pg, tr, gate[0] ? gate : "manual");
            rdm_rpt_td(&pg, tr, rdm_rpt_str(h, "actor"));
        }
    }

    rdm_rpt_section(&pg, "Runs", "runs");
    if (!json_array_size(runs)) {
        para(&pg, body, "muted", "No run yet (readmit train).");
    } else {
        para(&pg, body, "muted",
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
        xmlNodePtr tb = rdm_rpt_table(&pg, body, "sortable", H, 14);
        json_array_foreach(runs, i, r)
        {
            long long rid = rdm_rpt_int(r, "run_id", -1);
            xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            if (rid == champ)
                rdm_rpt_attr(&pg, tr, "class", "champion");
            xmlNodePtr td = rdm_rpt_td(&pg, tr, NULL);
            href_run(href, sizeof href, "", rid);
            snprintf(buf, sizeof buf, "%lld", rid);
            rdm_rpt_link(&pg, td, href, buf);
            if (rid == champ)
                badge(&pg, td, "champion", "champion");
            const json_t *sel = json_object_get(r, "selected");
            if (json_is_true(sel))
                badge(&pg, td, "selected", NULL);
            rdm_rpt_tdint(&pg, tr, rdm_rpt_int(r, "training_id", 0));
            rdm_rpt_td(&pg, tr, rdm_rpt_str(r, "model_type"));
            size_t nk;
            const char **keys = sorted_keys(json_object_get(r, "params"), &nk);
            buf[0] = '\0';
            for (size_t k = 0; keys && k < nk; k++) {
                if (!param_varies(runs, rdm_rpt_str(r, "model_type"), keys[k]))
                    continue;
                size_t l = strlen(buf);
                snprintf(buf + l, sizeof buf - l, "%s%s=%s", l ? " " : "", keys[k],
                         param_value(r, keys[k]));
            }
            free(keys);
            rdm_rpt_td(&pg, tr, buf);
            static const char *const M[] = {"roc_auc", "pr_auc", "log_loss", "accuracy"};
            for (int m = 0; m < 4; m++)
                for (int s = 0; s < NSPLIT; s++)
                    rdm_rpt_tdnum(&pg, tr, 4, metric(r, SPLITS[s], M[m]));
            rdm_rpt_tdnum(&pg, tr, 2, rdm_rpt_num(r, "duration_s"));
            xmlNodePtr st = rdm_rpt_td(&pg, tr, rdm_rpt_str(r, "status"));
            const char *s = rdm_rpt_str(r, "status");
            if (s && !strcmp(s, "failed"))
                rdm_rpt_attr(&pg, st, "class", "fail");
        }
    }
    return rdm_rpt_page_finish(&pg, out, err);
}

/* ---- runs/<id>.html ---- */

static const char *const METRIC_KEYS[] = {"roc_auc",   "pr_auc",    "log_loss", "brier",
                                          "accuracy",  "precision", "recall",   "f1",
                                          "threshold", "n",         "positives"};
static const char *const METRIC_NAMES[] = {"ROC AUC",
                                           "PR AUC (average precision)",
                                           "log loss",
                                           "Brier score",
                                           "accuracy",
                                           "precision at threshold",
                                           "recall at threshold",
                                           "F1 at threshold",
                                           "threshold",
                                           "rows",
                                           "positives"};
#define NMETRIC (sizeof METRIC_KEYS / sizeof METRIC_KEYS[0])

/* A chart followed by the table of every plotted point. */
static void curve_block(rdm_rpt_page *pg, xmlNodePtr parent, const rdm_svg_chart *c,
                        const rdm_svg_series *s, int ns)
{
    rdm_err e = {0};
    xmlNodePtr svg = rdm_svg_line_chart(c, s, ns, &e);
    if (svg)
        rdm_rpt_adopt(pg, parent, svg);
    else
        para(pg, parent, "muted", "chart: %s", e.msg);
}

/* A point coordinate as rdm_rpt_tdnum writes it (4 decimals, "n/a" for NaN)
 * into out (at least 64 bytes); returns the length. */
static size_t num_text(double v, char *out)
{
    if (isnan(v)) {
        memcpy(out, "n/a", 4);
        return 3;
    }
    return rdm_svg_fixed(v, 4, out, 64);
}

static void points_table(rdm_rpt_page *pg, xmlNodePtr parent, const char *summary,
                         const rdm_svg_series *s, int ns, const char *xname, const char *yname)
{
    xmlNodePtr d = rdm_rpt_el(pg, parent, "details", NULL);
    rdm_rpt_el(pg, d, "summary", summary);
    const char *H[3] = {"series", xname, yname};
    xmlNodePtr tb = rdm_rpt_table(pg, d, "points", H, 3);
    /* thousands of rows: written directly (escaped), not as a node per cell */
    rdm_buf *b = rdm_rpt_slot(pg, tb);
    if (!b)
        return;
    rdm_buf name = RDM_BUF_INIT;
    for (int k = 0; k < ns && !pg->oom; k++) {
        rdm_buf_reset(&name);
        if (rdm_buf_adds(&name, "<tr><td>") ||
            rdm_report_escape(&name, s[k].name ? s[k].name : "",
                              strlen(s[k].name ? s[k].name : "")) ||
            rdm_buf_adds(&name, "</td><td>")) {
            pg->oom = 1;
            break;
        }
        for (int i = 0; i < s[k].n; i++) {
            char row[160];
            size_t l = 0;
            l += num_text(s[k].x[i], row + l);
            memcpy(row + l, "</td><td>", 9);
            l += 9;
            l += num_text(s[k].y[i], row + l);
            memcpy(row + l, "</td></tr>\n", 11);
            l += 11;
            if (rdm_buf_add(b, name.data, name.len) || rdm_buf_add(b, row, l)) {
                pg->oom = 1;
                break;
            }
        }
    }
    rdm_buf_release(&name);
}

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

static void confusion(rdm_rpt_page *pg, xmlNodePtr parent, const json_t *run, const char *split,
                      const char *name)
{
    double tp = metric(run, split, "tp"), fp = metric(run, split, "fp");
    double tn = metric(run, split, "tn"), fn = metric(run, split, "fn");
    rdm_rpt_elf(pg, parent, "h3", "Confusion matrix, %s (threshold %.4f)", name,
                rdm_rpt_num(run, "threshold"));
    if (isnan(tp) || isnan(fp) || isnan(tn) || isnan(fn)) {
        para(pg, parent, "muted", "No confusion matrix stored for this split.");
        return;
    }
    static const char *const H[] = {"", "predicted readmitted", "predicted not readmitted",
                                    "total"};
    xmlNodePtr tb = rdm_rpt_table(pg, parent, NULL, H, 4);
    xmlNodePtr tr = rdm_rpt_el(pg, tb, "tr", NULL);
    rdm_rpt_el(pg, tr, "th", "readmitted <30 days");
    char id[64];
    snprintf(id, sizeof id, "cm-%s-tp", split);
    rdm_rpt_attr(pg, rdm_rpt_tdint(pg, tr, (long long)tp), "id", id);
    snprintf(id, sizeof id, "cm-%s-fn", split);
    rdm_rpt_attr(pg, rdm_rpt_tdint(pg, tr, (long long)fn), "id", id);
    rdm_rpt_tdint(pg, tr, (long long)(tp + fn));
    tr = rdm_rpt_el(pg, tb, "tr", NULL);
    rdm_rpt_el(pg, tr, "th", "not readmitted <30 days");
    snprintf(id, sizeof id, "cm-%s-fp", split);
    rdm_rpt_attr(pg, rdm_rpt_tdint(pg, tr, (long long)fp), "id", id);
    snprintf(id, sizeof id, "cm-%s-tn", split);
    rdm_rpt_attr(pg, rdm_rpt_tdint(pg, tr, (long long)tn), "id", id);
    rdm_rpt_tdint(pg, tr, (long long)(fp + tn));
    tr = rdm_rpt_el(pg, tb, "tr", NULL);
    rdm_rpt_el(pg, tr, "th", "total");
    rdm_rpt_tdint(pg, tr, (long long)(tp + fp));
    rdm_rpt_tdint(pg, tr, (long long)(fn + tn));
    rdm_rpt_tdint(pg, tr, (long long)(tp + fp + fn + tn));
}

static double rate(const json_t *run, const char *split)
{
    double n = metric(run, split, "n"), p = metric(run, split, "positives");
    if (isnan(n) || isnan(p)) {
        double tp = metric(run, split, "tp"), fp = metric(run, split, "fp");
        double tn = metric(run, split, "tn"), fn = metric(run, split, "fn");
        n = tp + fp + tn + fn;
        p = tp + fn;
    }
    return n > 0 ? p / n : NAN;
}

static void li(rdm_rpt_page *pg, xmlNodePtr ul, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void li(rdm_rpt_page *pg, xmlNodePtr ul, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rdm_rpt_el(pg, ul, "li", buf);
}

static void model_card(rdm_rpt_page *pg, const json_t *site, const json_t *run, const calib *ct)
{
    xmlNodePtr body = pg->body;
    rdm_rpt_section(pg, "Model card", "card");
    const char *type = rdm_rpt_str(run, "model_type");
    type = type ? type : "?";
    double thr = rdm_rpt_num(run, "threshold");
    rdm_rpt_el(pg, body, "h3", "Intended use");
    para(pg, body, NULL,
         "Estimates the probability that a diabetic inpatient encounter is followed by a "
         "readmission within 30 days (readmitted = \"<30\"), for ranking discharges for "
         "follow-up. Encounters ending in death or hospice are excluded from the task. "
         "Model: %s; decision threshold %.4f (chosen on validation F1, never on test). "
         "A screening aid, not a diagnosis.",
         type, thr);

    rdm_rpt_el(pg, body, "h3", "Training and evaluation data");
    xmlNodePtr ul = rdm_rpt_el(pg, body, "ul", NULL);
    rdm_rpt_attr(pg, ul, "class", "card");
    static const char *const SP[] = {"train", "valid", "test"};
    static const char *const SPN[] = {"training", "validation", "test"};
    static const char *const ROWS[] = {"rows_train", "rows_valid", "rows_test"};
    for (int s = 0; s < 3; s++) {
        long long rows = rdm_rpt_int(run, ROWS[s], -1);
        double r = rate(run, SP[s]);
        if (rows < 0 && isnan(r))
            continue;
        if (isnan(r))
            li(pg, ul, "%s split: %lld encounters (positive rate not stored)", SPN[s], rows);
        else
            li(pg, ul, "%s split: %lld encounters, %.1f%% readmitted within 30 days", SPN[s], rows,
               100 * r);
    }
    li(pg, ul,
       "Split by patient (patient_nbr mod 100), so no patient is in two splits; raw batches %s, "
       "clean snapshot %lld.",
       rdm_rpt_str(run, "batch_ids") ? rdm_rpt_str(run, "batch_ids") : "?",
       rdm_rpt_int(run, "snapshot_id", 0));

    rdm_rpt_el(pg, body, "h3", "Metrics");
    ul = rdm_rpt_el(pg, body, "ul", NULL);
    rdm_rpt_attr(pg, ul, "class", "card");
    double auc = metric(run, "test", "roc_auc"), lo = metric(run, "test", "roc_auc_ci_low"),
           hi = metric(run, "test", "roc_auc_ci_high");
    double vauc = metric(run, "valid", "roc_auc");
    double pr = metric(run, "test", "pr_auc"), tr_ = rate(run, "test");
    double acc = metric(run, "test", "accuracy");
    li(pg, ul, "Test ROC AUC %.4f (bootstrap 95%% interval %.4f to %.4f); validation %.4f.", auc,
       lo, hi, vauc);
    if (!isnan(pr) && !isnan(tr_) && tr_ > 0)
        li(pg, ul, "Test PR AUC %.4f against %.4f for no skill (the positive rate): %.2fx lift.",
           pr, tr_, pr / tr_);
    if (!isnan(acc) && !isnan(tr_))
        li(pg, ul, "Test accuracy %.4f; always predicting \"not readmitted\" scores %.4f.", acc,
           1 - tr_);
    li(pg, ul, "Test log loss %.4f, Brier score %.4f.", metric(run, "test", "log_loss"),
       metric(run, "test", "brier"));

    rdm_rpt_el(pg, body, "h3", "Limitations (from the numbers above)");
    ul = rdm_rpt_el(pg, body, "ul", NULL);
    rdm_rpt_attr(pg, ul, "class", "card");
    int nlim = 0;
    if (type && !strcmp(type, "baseline")) {
        li(pg, ul,
           "A constant baseline: it has no skill by construction and exists to show what "
           "no skill scores.");
        nlim++;
    }
    if (!isnan(tr_) && tr_ < 0.25) {
        li(pg, ul,
           "Class imbalance: only %.1f%% of test encounters are positive, so accuracy is "
           "dominated by the negative class%s.",
           100 * tr_,
           (!isnan(acc) && acc - (1 - tr_) < 0.01)
               ? " (this model's accuracy is within 1 point of always saying no)"
               : "");
        nlim++;
    }
    if (!isnan(lo) && !isnan(hi)) {
        li(pg, ul,
           "Uncertainty: the test ROC AUC interval is %.4f wide; runs whose test AUC differs by "
           "less than about %.4f cannot be told apart on this test set.",
           hi - lo, (hi - lo) / 2);
        nlim++;
    }
    if (!isnan(auc) && auc < 0.75 && !(type && !strcmp(type, "baseline"))) {
        li(pg, ul,
           "Modest discrimination: a random readmitted encounter is ranked above a random "
           "other one %.1f%% of the time.",
           100 * auc);
        nlim++;
    }
    if (!isnan(auc) && !isnan(vauc) && fabs(auc - vauc) > 0.02) {
        li(pg, ul, "Validation and test ROC AUC differ by %.4f: the estimate is split-dependent.",
           fabs(auc - vauc));
        nlim++;
    }
    double tauc = metric(run, "train", "roc_auc");
    if (!isnan(tauc) && !isnan(vauc) && tauc - vauc > 0.05) {
        li(pg, ul, "Overfitting: training ROC AUC %.4f vs validation %.4f.", tauc, vauc);
        nlim++;
    }
    if (ct->n && !isnan(ct->ece)) {
        if (ct->worst >= 0)
            li(pg, ul,
               "Calibration: predicted probabilities are off by %.4f on average over the test "
               "set (expected calibration error); the worst bin, predictions %.2f to %.2f (%lld "
               "encounters), predicts %.4f where %.4f were readmitted.",
               ct->ece, ct->lo[ct->worst], ct->hi[ct->worst], ct->cnt[ct->worst],
               ct->mean[ct->worst], ct->frac[ct->worst]);
        else
            li(pg, ul, "Calibration: expected calibration error %.4f on test.", ct->ece);
        nlim++;
    }
    double rec = metric(run, "test", "recall"), prec = metric(run, "test", "precision");
    if (!isnan(rec) && !isnan(prec)) {
        li(pg, ul,
           "At the threshold %.4f the model finds %.1f%% of test readmissions and %.1f%% of the "
           "encounters it flags are readmitted.",
           thr, 100 * rec, 100 * prec);
        nlim++;
    }
    li(pg, ul,
       "Evaluated only on encounters from the same source and period as training (batches %s); "
       "not validated on other hospitals or later years.",
       rdm_rpt_str(run, "batch_ids") ? rdm_rpt_str(run, "batch_ids") : "?");
    (void)nlim;
    (void)site;
}

int rdm_report_page_run(const rdm_report_site *rs, const json_t *run, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    long long rid = rdm_rpt_int(run, "run_id", -1);
    char title[300], buf[512];
    snprintf(title, sizeof title, "Run %lld: %s", rid,
             rdm_rpt_str(run, "name") ? rdm_rpt_str(run, "name") : "?");
    rdm_rpt_page pg;
    if (rdm_rpt_page_start(&pg, title, "../"))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    xmlNodePtr body = pg.body;
    char aliases[128];
    int version = run_version(site, rid, aliases, sizeof aliases);
    xmlNodePtr p = rdm_rpt_el(&pg, body, "p", NULL);
    rdm_rpt_elf(&pg, p, "span", "%s, status %s",
                rdm_rpt_str(run, "model_type") ? rdm_rpt_str(run, "model_type") : "?",
                rdm_rpt_str(run, "status") ? rdm_rpt_str(run, "status") : "?");
    if (version) {
        snprintf(buf, sizeof buf, "version %d", version);
        badge(&pg, p, buf, NULL);
    }
    if (aliases[0])
        badge(&pg, p, aliases, strstr(aliases, "champion") ? "champion" : NULL);
    if (json_is_true(json_object_get(run, "selected")))
        badge(&pg, p, "selected in its training", NULL);
    if (rdm_rpt_str(run, "error"))
        para(&pg, body, "fail", "Error: %s", rdm_rpt_str(run, "error"));
    char t0[40], t1[40];
    rdm_rpt_fmt_time(rdm_rpt_str(run, "started_at"), t0, sizeof t0);
    rdm_rpt_fmt_time(rdm_rpt_str(run, "ended_at"), t1, sizeof t1);
    para(&pg, body, NULL, "Training %lld. Started %s, ended %s; %.2f s in total, fit %.2f s.",
         rdm_rpt_int(run, "training_id", 0), t0, t1, rdm_rpt_num(run, "duration_s"),
         rdm_rpt_num(run, "fit_s"));

    rdm_rpt_section(&pg, "Parameters", "params");
    size_t nk;
    const char **keys = sorted_keys(json_object_get(run, "params"), &nk);
    if (!nk) {
        para(&pg, body, "muted", "No parameters.");
    } else {
        static const char *const H[] = {"parameter", "value"};
        xmlNodePtr tb = rdm_rpt_table(&pg, body, NULL, H, 2);
        for (size_t k = 0; keys && k < nk; k++) {
            xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            rdm_rpt_td(&pg, tr, keys[k]);
            rdm_rpt_td(&pg, tr, param_value(run, keys[k]));
        }
    }
    free(keys);

    rdm_rpt_section(&pg, "Metrics", "metrics");
    {
        static const char *const H[] = {"metric", "validation", "test"};
        xmlNodePtr tb = rdm_rpt_table(&pg, body, NULL, H, 3);
        for (size_t m = 0; m < NMETRIC; m++) {
            xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            rdm_rpt_td(&pg, tr, METRIC_NAMES[m]);
            for (int s = 0; s < NSPLIT; s++) {
                double v = metric(run, SPLITS[s], METRIC_KEYS[m]);
                int dec = m >= NMETRIC - 2 ? 0 : 4;
                if (!strcmp(METRIC_KEYS[m], "threshold") && isnan(v))
                    v = rdm_rpt_num(run, "threshold");
                xmlNodePtr td = rdm_rpt_tdnum(&pg, tr, dec, v);
                char id[64];
                snprintf(id, sizeof id, "m-%s-%s", SPLITS[s], METRIC_KEYS[m]);
                rdm_rpt_attr(&pg, td, "id", id);
            }
        }
        xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
        rdm_rpt_td(&pg, tr, "ROC AUC bootstrap 95% interval");
        rdm_rpt_td(&pg, tr, "");
        double lo = metric(run, "test", "roc_auc_ci_low"),
               hi = metric(run, "test", "roc_auc_ci_high");
        if (isnan(lo) || isnan(hi))
            snprintf(buf, sizeof buf, "n/a");
        else
            snprintf(buf, sizeof buf, "%.4f to %.4f", lo, hi);
        xmlNodePtr td = rdm_rpt_td(&pg, tr, buf);
        rdm_rpt_attr(&pg, td, "id", "m-test-roc_auc_ci");
        rdm_rpt_attr(&pg, td, "class", "num");
    }

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
        double r = rate(run, SPLITS[s]);
        if (isnan(r) || !has_pr[s])
            continue;
        base[s][0] = base[s][1] = r;
        prs[npr++] = (rdm_svg_series){
            s ? "no skill (test)" : "no skill (validation)", unit, base[s], 2, 1, 0};
    }
    rdm_rpt_section(&pg, "ROC and precision-recall curves", "curves");
    xmlNodePtr charts = rdm_rpt_el(&pg, body, "div", NULL);
    rdm_rpt_attr(&pg, charts, "class", "charts");
    if (nroc) {
        roc[nroc] = (rdm_svg_series){"no skill", diag, diag, 2, 1, 0};
        rdm_svg_chart c = {
            "ROC curve", "false positive rate", "true positive rate", 0, 0, 0, 1, 0, 1, 0, 0};
        curve_block(&pg, charts, &c, roc, nroc + 1);
    }
    if (npr_curves) {
        rdm_svg_chart c = {"Precision-recall curve", "recall", "precision", 0, 0, 0, 1, 0, 1, 0, 0};
        curve_block(&pg, charts, &c, prs, npr);
    }
    if (!nroc && !npr_curves)
        para(&pg, body, "muted", "No curves stored for this run.");
    if (nroc)
        points_table(&pg, body, "ROC points", roc, nroc + 1, "false positive rate",
                     "true positive rate");
    if (npr_curves)
        points_table(&pg, body, "Precision-recall points", prs, npr, "recall", "precision");

    /* calibration */
    rdm_rpt_section(&pg, "Calibration", "calibration");
    calib cal[NSPLIT];
    rdm_svg_series cs[NSPLIT + 1];
    int ncs = 0;
    for (int s = 0; s < NSPLIT; s++) {
        load_calib(curve(site, rid, SPLITS[s], "calibration"), &cal[s]);
        if (cal[s].n)
            cs[ncs++] = (rdm_svg_series){SPLIT_NAMES[s], cal[s].mean, cal[s].frac, cal[s].n, 0, 1};
    }
    para(&pg, body, NULL,
         "Brier score: validation %.4f, test %.4f. Expected calibration error: "
         "validation %.4f, test %.4f.",
         metric(run, "valid", "brier"), metric(run, "test", "brier"), cal[0].ece, cal[1].ece);
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
        xmlNodePtr cdiv = rdm_rpt_el(&pg, body, "div", NULL);
        rdm_rpt_attr(&pg, cdiv, "class", "charts");
        curve_block(&pg, cdiv, &c, cs, ncs);
        static const char *const H[] = {
            "split", "bin", "from", "to", "encounters", "mean predicted", "observed rate"};
        xmlNodePtr tb = rdm_rpt_table(&pg, body, NULL, H, 7);
        for (int s = 0; s < NSPLIT; s++)
            for (int k = 0; k < cal[s].n; k++) {
                xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
                rdm_rpt_td(&pg, tr, SPLIT_NAMES[s]);
                rdm_rpt_tdint(&pg, tr, k + 1);
                rdm_rpt_tdnum(&pg, tr, 2, cal[s].lo[k]);
                rdm_rpt_tdnum(&pg, tr, 2, cal[s].hi[k]);
                rdm_rpt_tdint(&pg, tr, cal[s].cnt[k]);
                rdm_rpt_tdnum(&pg, tr, 4, cal[s].mean[k]);
                rdm_rpt_tdnum(&pg, tr, 4, cal[s].frac[k]);
            }
    } else {
        para(&pg, body, "muted", "No calibration table stored for this run.");
    }

    rdm_rpt_section(&pg, "Confusion matrix", "confusion");
    for (int s = 0; s < NSPLIT; s++)
        confusion(&pg, body, run, SPLITS[s], SPLIT_NAMES[s]);

    /* importance */
    rdm_rpt_section(&pg, "Feature importance (top 20)", "importance");
    const json_t *imp = curve(site, rid, "train", "importance");
    int ni = json_is_array(imp) ? (int)json_array_size(imp) : 0;
    if (ni > 20)
        ni = 20;
    if (!ni) {
        para(&pg, body, "muted",
             "No feature importance for this run (a constant baseline has none).");
    } else {
        const char *labels[20];
        double vals[20], total = 0;
        size_t i;
        const json_t *f;
        json_array_foreach(imp, i, f)
        {
            double g = rdm_rpt_num(f, "gain");
            if (isfinite(g))
                total += g;
        }
        for (int k = 0; k < ni; k++) {
            const json_t *e = json_array_get(imp, (size_t)k);
            labels[k] = rdm_rpt_str(e, "feature") ? rdm_rpt_str(e, "feature") : "?";
            vals[k] = rdm_rpt_num(e, "gain");
        }
        const char *mt = rdm_rpt_str(run, "model_type");
        const char *what = mt && !strcmp(mt, "gbt")      ? "total split gain"
                           : mt && !strcmp(mt, "logreg") ? "|coefficient| x training sd"
                                                         : "importance";
        rdm_svg_chart c = {"Feature importance", what, NULL, 640, 0, 0, 0, 0, 0, 0, 1};
        rdm_err e = {0};
        xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, vals, ni, &e);
        if (svg)
            rdm_rpt_adopt(&pg, body, svg);
        static const char *const H[] = {"rank", "feature", "importance", "share of total"};
        xmlNodePtr tb = rdm_rpt_table(&pg, body, NULL, H, 4);
        for (int k = 0; k < ni; k++) {
            xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            rdm_rpt_tdint(&pg, tr, k + 1);
            rdm_rpt_td(&pg, tr, labels[k]);
            rdm_rpt_tdnum(&pg, tr, 4, vals[k]);
            rdm_rpt_tdnum(&pg, tr, 1, total > 0 ? 100 * vals[k] / total : NAN);
        }
    }

    rdm_rpt_section(&pg, "Lineage", "lineage");
    {
        static const char *const H[] = {"item", "value"};
        xmlNodePtr tb = rdm_rpt_table(&pg, body, NULL, H, 2);

        struct {
            const char *name, *key;
        } rows[] = {{"raw batches", "batch_ids"},
                    {"data fingerprint", "data_fingerprint"},
                    {"config hash", "config_hash"},
                    {"code version", "code_version"},
                    {"model sha256", "artifact_sha256"}};

        xmlNodePtr tr = rdm_rpt_el(&pg, tb, "tr", NULL);
        rdm_rpt_td(&pg, tr, "clean snapshot");
        rdm_rpt_tdint(&pg, tr, rdm_rpt_int(run, "snapshot_id", 0));
        for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
            tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            rdm_rpt_td(&pg, tr, rows[k].name);
            xmlNodePtr td = rdm_rpt_td(
                &pg, tr, rdm_rpt_str(run, rows[k].key) ? rdm_rpt_str(run, rows[k].key) : "-");
            rdm_rpt_attr(&pg, td, "class", "mono");
            char id[64];
            snprintf(id, sizeof id, "lineage-%s", rows[k].key);
            rdm_rpt_attr(&pg, td, "id", id);
        }
        static const char *const RK[] = {"rows_train", "rows_valid", "rows_test"};
        static const char *const RN[] = {"training rows", "validation rows", "test rows"};
        for (int k = 0; k < 3; k++) {
            tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            rdm_rpt_td(&pg, tr, RN[k]);
            rdm_rpt_tdint(&pg, tr, rdm_rpt_int(run, RK[k], 0));
        }
        tr = rdm_rpt_el(&pg, tb, "tr", NULL);
        rdm_rpt_td(&pg, tr, "registered as");
        if (version)
            rdm_rpt_elf(&pg, tr, "td", "%s version %d",
                        rdm_rpt_str(site, "model_name") ? rdm_rpt_str(site, "model_name") : "?",
                        version);
        else
            rdm_rpt_td(&pg, tr, "not registered");
    }
    model_card(&pg, site, run, &cal[1]);
    return rdm_rpt_page_finish(&pg, out, err);
}

/* ---- compare.html ---- */

#define MAX_COMPARE 8

int rdm_report_page_compare(const rdm_report_site *rs, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    rdm_rpt_page pg;
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
        xmlFreeDoc(pg.doc);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    json_array_foreach(runs, i, r)
    {
        if (rdm_rpt_int(r, "training_id", -1) == latest && json_array_size(sel) < MAX_COMPARE)
            json_array_append(sel, (json_t *)r);
    }
    int n = (int)json_array_size(sel);
    if (!n) {
        para(&pg, body, "muted", "No run yet.");
        json_decref(sel);
        return rdm_rpt_page_finish(&pg, out, err);
    }
    para(&pg, body, NULL,
         "The %d run(s) of training %lld side by side (at most %d). Only the parameters that "
         "differ are shown.",
         n, latest, MAX_COMPARE);
    long long champ = champion_run(site);
    char buf[256], href[96];
    xmlNodePtr t = rdm_rpt_el(&pg, body, "table", NULL);
    xmlNodePtr tr = rdm_rpt_el(&pg, rdm_rpt_el(&pg, t, "thead", NULL), "tr", NULL);
    rdm_rpt_el(&pg, tr, "th", "");
    json_array_foreach(sel, i, r)
    {
        xmlNodePtr th = rdm_rpt_el(&pg, tr, "th", NULL);
        long long rid = rdm_rpt_int(r, "run_id", -1);
        href_run(href, sizeof href, "", rid);
        snprintf(buf, sizeof buf, "run %lld", rid);
        rdm_rpt_link(&pg, th, href, buf);
        if (rid == champ)
            badge(&pg, th, "champion", "champion");
    }
    xmlNodePtr tb = rdm_rpt_el(&pg, t, "tbody", NULL);
    tr = rdm_rpt_el(&pg, tb, "tr", NULL);
    rdm_rpt_el(&pg, tr, "th", "model type");
    json_array_foreach(sel, i, r) rdm_rpt_td(&pg, tr, rdm_rpt_str(r, "model_type"));
    tr = rdm_rpt_el(&pg, tb, "tr", NULL);
    rdm_rpt_el(&pg, tr, "th", "name");
    json_array_foreach(sel, i, r) rdm_rpt_td(&pg, tr, rdm_rpt_str(r, "name"));
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
    const char **keys = sorted_keys(all, &nk);
    int shown = 0;
    for (size_t k = 0; keys && k < nk; k++) {
        if (!param_varies(sel, NULL, keys[k]))
            continue;
        shown++;
        tr = rdm_rpt_el(&pg, tb, "tr", NULL);
        rdm_rpt_el(&pg, tr, "th", keys[k]);
        json_array_foreach(sel, i, r)
        {
            const char *v = param_value(r, keys[k]);
            rdm_rpt_td(&pg, tr, v ? v : "-");
        }
    }
    free(keys);
    json_decref(all);
    if (!shown) {
        tr = rdm_rpt_el(&pg, tb, "tr", NULL);
        rdm_rpt_el(&pg, tr, "th", "parameters");
        json_array_foreach(sel, i, r) rdm_rpt_td(&pg, tr, "(all equal)");
    }
    static const char *const M[] = {"roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "f1"};
    static const char *const MN[] = {"ROC AUC", "PR AUC", "log loss", "Brier", "accuracy", "F1"};
    for (int m = 0; m < 6; m++)
        for (int s = 0; s < NSPLIT; s++) {
            tr = rdm_rpt_el(&pg, tb, "tr", NULL);
            rdm_rpt_elf(&pg, tr, "th", "%s %s", SPLIT_NAMES[s], MN[m]);
            json_array_foreach(sel, i, r) rdm_rpt_tdnum(&pg, tr, 4, metric(r, SPLITS[s], M[m]));
        }
    tr = rdm_rpt_el(&pg, tb, "tr", NULL);
    rdm_rpt_el(&pg, tr, "th", "duration s");
    json_array_foreach(sel, i, r) rdm_rpt_tdnum(&pg, tr, 2, rdm_rpt_num(r, "duration_s"));

    rdm_rpt_section(&pg, "Test ROC curves overlaid", "roc");
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
        curve_block(&pg, body, &c, s, ns + 1);
        points_table(&pg, body, "ROC points of every run", s, ns + 1, "false positive rate",
                     "true positive rate");
    } else {
        para(&pg, body, "muted", "No ROC curves stored.");
    }
    json_decref(sel);
    return rdm_rpt_page_finish(&pg, out, err);
}
