/* report_data.c - data.html: batch ledger, rejects, validation, column profile, class balance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report.h"
#include "schema.h"
#include "site.h"
#include "svg.h"

static void note(rdm_html_page *pg, const char *text)
{
    rdm_html_attr(pg, rdm_html_el(pg, pg->body, "p", text), "class", "muted");
}

static void short_text(const char *s, size_t n, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)n, s ? s : "-");
}

static void ledger(rdm_html_page *pg, const json_t *data)
{
    rdm_html_section(pg, "Batch ledger", "batches");
    const json_t *b = json_object_get(data, "batches");
    if (!json_array_size(b)) {
        note(pg, "No batch ingested yet (readmit ingest).");
        return;
    }
    note(pg, "Ingest accounting (rows read = accepted + rejected at ingest) and clean accounting "
             "(rows in = clean + filtered by the task + duplicates + rejected by rules).");
    static const char *const H[] = {"batch",   "source",   "sha256",    "no.",
                                    "lines",   "read",     "accepted",  "rejected at ingest",
                                    "clean",   "filtered", "duplicate", "rejected by rules",
                                    "ingested"};
    xmlNodePtr tb = rdm_html_table(pg, pg->body, "sortable", H, 13);
    size_t i;
    const json_t *r;
    char buf[128];
    json_array_foreach(b, i, r)
    {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "batch_id", 0));
        const char *src = rdm_rpt_str(r, "source_path");
        const char *base = src ? strrchr(src, '/') : NULL;
        rdm_html_td(pg, tr, base ? base + 1 : src);
        short_text(rdm_rpt_str(r, "source_sha256"), 12, buf, sizeof buf);
        rdm_html_attr(pg, rdm_html_td(pg, tr, buf), "class", "mono");
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "batch_no", 0));
        snprintf(buf, sizeof buf, "%lld-%lld", rdm_rpt_int(r, "first_line", 0),
                 rdm_rpt_int(r, "last_line", 0));
        rdm_html_td(pg, tr, buf);
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "rows_read", 0));
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "rows_accepted", 0));
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "rows_rejected", 0));
        static const char *const C[] = {"rows_clean", "rows_filtered", "rows_duplicate",
                                        "clean_rejected"};
        for (int k = 0; k < 4; k++) {
            long long v = rdm_rpt_int(r, C[k], -1);
            if (v < 0)
                rdm_html_td(pg, tr, "not cleaned");
            else
                rdm_html_tdint(pg, tr, v);
        }
        rdm_html_fmt_time(rdm_rpt_str(r, "finished_at"), buf, sizeof buf);
        rdm_html_td(pg, tr, buf);
    }
}

static void snapshots(rdm_html_page *pg, const json_t *data)
{
    const json_t *s = json_object_get(data, "snapshots");
    if (!json_array_size(s))
        return;
    rdm_html_section(pg, "Clean snapshots", "snapshots");
    static const char *const H[] = {"snapshot", "created",     "status",
                                    "rows",     "positives",   "positive rate",
                                    "batches",  "fingerprint", "message"};
    xmlNodePtr tb = rdm_html_table(pg, pg->body, NULL, H, 9);
    size_t i;
    const json_t *r;
    char buf[128];
    json_array_foreach(s, i, r)
    {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "snapshot_id", 0));
        rdm_html_fmt_time(rdm_rpt_str(r, "created_at"), buf, sizeof buf);
        rdm_html_td(pg, tr, buf);
        xmlNodePtr st = rdm_html_td(pg, tr, rdm_rpt_str(r, "status"));
        if (rdm_rpt_str(r, "status") && strcmp(rdm_rpt_str(r, "status"), "ok"))
            rdm_html_attr(pg, st, "class", "fail");
        long long rows = rdm_rpt_int(r, "rows", 0), pos = rdm_rpt_int(r, "positives", 0);
        rdm_html_tdint(pg, tr, rows);
        rdm_html_tdint(pg, tr, pos);
        rdm_html_tdnum(pg, tr, 4, rows > 0 ? (double)pos / (double)rows : NAN);
        rdm_html_td(pg, tr, rdm_rpt_str(r, "batch_ids"));
        short_text(rdm_rpt_str(r, "fingerprint"), 16, buf, sizeof buf);
        rdm_html_attr(pg, rdm_html_td(pg, tr, buf), "class", "mono");
        rdm_html_td(pg, tr, rdm_rpt_str(r, "message"));
    }
}

static void rejects(rdm_html_page *pg, const json_t *data)
{
    rdm_html_section(pg, "Rejected rows", "rejects");
    rdm_html_el(pg, pg->body, "h3", "At ingest (raw.rejects), by reason");
    const json_t *rr = json_object_get(data, "raw_rejects");
    size_t i, k;
    const json_t *r, *e;
    char buf[256];
    if (!json_array_size(rr)) {
        note(pg, "No row was rejected at ingest.");
    } else {
        note(pg,
             "Examples show the bytes as read: printable ASCII as is, every other byte as \\xNN.");
        static const char *const H[] = {"reason", "rows", "examples (batch:line: raw text)"};
        xmlNodePtr tb = rdm_html_table(pg, pg->body, NULL, H, 3);
        json_array_foreach(rr, i, r)
        {
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            rdm_html_td(pg, tr, rdm_rpt_str(r, "reason"));
            rdm_html_tdint(pg, tr, rdm_rpt_int(r, "count", 0));
            xmlNodePtr td = rdm_html_td(pg, tr, NULL);
            json_array_foreach(json_object_get(r, "examples"), k, e)
            {
                rdm_buf t = RDM_BUF_INIT;
                const char *hex = rdm_rpt_str(e, "hex");
                size_t hn = hex ? strlen(hex) / 2 : 0;
                unsigned char *bytes = malloc(hn + 1);
                for (size_t j = 0; bytes && j < hn; j++) {
                    unsigned v = 0;
                    sscanf(hex + 2 * j, "%2x", &v);
                    bytes[j] = (unsigned char)v;
                }
                int rc = rdm_buf_printf(&t, "%lld:%lld: ", rdm_rpt_int(e, "batch_id", 0),
                                        rdm_rpt_int(e, "line_no", 0));
                if (!rc && bytes)
                    rc = rdm_html_bytes_text(bytes, hn, 200, &t);
                if (!rc) {
                    xmlNodePtr d = rdm_html_el(pg, td, "div", t.data);
                    rdm_html_attr(pg, d, "class", "mono");
                } else {
                    pg->oom = 1;
                }
                free(bytes);
                rdm_buf_release(&t);
            }
        }
    }
    rdm_html_el(pg, pg->body, "h3", "At clean (clean.rejects), by rule");
    const json_t *cr = json_object_get(data, "clean_rejects");
    if (!json_array_size(cr)) {
        note(pg, "No row was rejected by a validation rule or a type check.");
        return;
    }
    static const char *const H[] = {"rule", "severity", "rows",
                                    "examples (batch:line, encounter: detail)"};
    xmlNodePtr tb = rdm_html_table(pg, pg->body, NULL, H, 4);
    json_array_foreach(cr, i, r)
    {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, rdm_rpt_str(r, "rule"));
        rdm_html_td(pg, tr, rdm_rpt_str(r, "severity"));
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "count", 0));
        xmlNodePtr td = rdm_html_td(pg, tr, NULL);
        json_array_foreach(json_object_get(r, "examples"), k, e)
        {
            snprintf(buf, sizeof buf, "%lld:%lld, %s: %.180s", rdm_rpt_int(e, "batch_id", 0),
                     rdm_rpt_int(e, "line_no", 0),
                     rdm_rpt_str(e, "encounter_id") ? rdm_rpt_str(e, "encounter_id") : "-",
                     rdm_rpt_str(e, "detail") ? rdm_rpt_str(e, "detail") : "");
            rdm_html_attr(pg, rdm_html_el(pg, td, "div", buf), "class", "mono");
        }
    }
}

static void suspicious(rdm_html_page *pg, const json_t *data)
{
    rdm_html_section(pg, "Values with markup or control characters", "suspicious");
    const json_t *v = json_object_get(data, "suspicious");
    if (!json_array_size(v)) {
        note(pg, "No stored categorical value contains <, >, &, quotes or control characters.");
        return;
    }
    note(pg, "Accepted values that contain <, >, &, quotes or control characters (possible "
             "injection or encoding problems), shown as text.");
    static const char *const H[] = {"column", "value", "rows"};
    xmlNodePtr tb = rdm_html_table(pg, pg->body, NULL, H, 3);
    size_t i;
    const json_t *r;
    json_array_foreach(v, i, r)
    {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, rdm_rpt_str(r, "column"));
        rdm_html_attr(pg, rdm_html_td(pg, tr, rdm_rpt_str(r, "value")), "class", "mono");
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "count", 0));
    }
}

/* Index of v in arr (of integers), appending it when new; -1 on ENOMEM. */
static int index_of(long long *arr, int *n, int cap, long long v)
{
    for (int i = 0; i < *n; i++)
        if (arr[i] == v)
            return i;
    if (*n >= cap)
        return -1;
    arr[*n] = v;
    return (*n)++;
}

/* A rule/column x batch matrix: the header row (batch -1 is "all") and its
 * body, returned. */
static xmlNodePtr matrix_start(rdm_html_page *pg, const char *id, const char *corner,
                               const long long *batches, int nb)
{
    xmlNodePtr t = rdm_html_el(pg, pg->body, "table", NULL);
    rdm_html_attr(pg, t, "class", "matrix");
    rdm_html_attr(pg, t, "id", id);
    xmlNodePtr tr = rdm_html_el(pg, rdm_html_el(pg, t, "thead", NULL), "tr", NULL);
    rdm_html_el(pg, tr, "th", corner);
    for (int b = 0; b < nb; b++) {
        if (batches[b] < 0)
            rdm_html_el(pg, tr, "th", "all");
        else
            rdm_html_elf(pg, tr, "th", "batch %lld", batches[b]);
    }
    return rdm_html_el(pg, t, "tbody", NULL);
}

/* A row of the matrix: its head and nb empty cells (filled by the caller). */
static void matrix_row(rdm_html_page *pg, xmlNodePtr tb, const char *head, xmlNodePtr *cells,
                       int nb)
{
    xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
    rdm_html_el(pg, tr, "th", head);
    for (int b = 0; b < nb; b++)
        cells[b] = rdm_html_el(pg, tr, "td", NULL);
}

#define MAX_RULES   128
#define MAX_BATCHES 64

/* Rule x batch matrix of the latest clean run: violations per cell, failed
 * checks marked; the full list below it in a <details>. */
static void validation_matrix(rdm_html_page *pg, const json_t *v)
{
    long long snap = -1;
    size_t i;
    const json_t *r;
    json_array_foreach(v, i, r) snap =
        rdm_rpt_int(r, "snapshot_id", 0) > snap ? rdm_rpt_int(r, "snapshot_id", 0) : snap;
    const char *rules[MAX_RULES];
    long long batches[MAX_BATCHES];
    int nr = 0, nb = 0;
    json_array_foreach(v, i, r)
    {
        if (rdm_rpt_int(r, "snapshot_id", 0) != snap)
            continue;
        const char *rule = rdm_rpt_str(r, "rule");
        int k = 0;
        while (k < nr && strcmp(rules[k], rule ? rule : ""))
            k++;
        if (k == nr && nr < MAX_RULES)
            rules[nr++] = rule ? rule : "";
        index_of(batches, &nb, MAX_BATCHES, rdm_rpt_int(r, "batch_id", -1));
    }
    /* batches ascending, "all" (-1) last */
    for (int a = 0; a < nb; a++)
        for (int b = a + 1; b < nb; b++)
            if ((batches[b] >= 0 && (batches[a] < 0 || batches[b] < batches[a]))) {
                long long t = batches[a];
                batches[a] = batches[b];
                batches[b] = t;
            }
    rdm_html_para(pg, pg->body, NULL,
                  "Latest clean run (snapshot %lld): violations of each rule in each batch; a "
                  "red cell is a failed check, \"ok\" a passed one with no violation. Column "
                  "\"all\" holds the checks over the whole run.",
                  snap);
    xmlNodePtr tb = matrix_start(pg, "validation-matrix", "rule", batches, nb);
    for (int k = 0; k < nr; k++) {
        xmlNodePtr cells[MAX_BATCHES];
        matrix_row(pg, tb, rules[k], cells, nb);
        json_array_foreach(v, i, r)
        {
            const char *rule = rdm_rpt_str(r, "rule");
            if (rdm_rpt_int(r, "snapshot_id", 0) != snap || strcmp(rule ? rule : "", rules[k]))
                continue;
            int b = index_of(batches, &nb, nb, rdm_rpt_int(r, "batch_id", -1));
            if (b < 0)
                continue;
            long long viol = rdm_rpt_int(r, "violations", 0), chk = rdm_rpt_int(r, "checked", 0);
            int passed = json_is_true(json_object_get(r, "passed"));
            char text[32], title[96];
            if (viol)
                snprintf(text, sizeof text, "%lld", viol);
            else
                snprintf(text, sizeof text, "ok");
            snprintf(title, sizeof title, "%lld of %lld checked (%s, %s)", viol, chk,
                     rdm_rpt_str(r, "severity") ? rdm_rpt_str(r, "severity") : "?",
                     passed ? "pass" : "FAIL");
            rdm_html_text(pg, cells[b], text);
            rdm_html_attr(pg, cells[b], "title", title);
            rdm_html_attr(pg, cells[b], "class", passed ? (viol ? "num warn" : "num") : "num fail");
        }
    }
}

static void validation(rdm_html_page *pg, const json_t *data)
{
    rdm_html_section(pg, "Validation results per batch", "validation");
    const json_t *v = json_object_get(data, "validation");
    if (!json_array_size(v)) {
        note(pg, "No validation result yet (readmit clean).");
        return;
    }
    validation_matrix(pg, v);
    xmlNodePtr d = rdm_html_el(pg, pg->body, "details", NULL);
    rdm_html_elf(pg, d, "summary", "Every check of every clean run (%zu rows)", json_array_size(v));
    static const char *const H[] = {"snapshot",   "batch",   "rule", "severity",
                                    "violations", "checked", "rate", "result"};
    xmlNodePtr tb = rdm_html_table(pg, d, "sortable", H, 8);
    size_t i;
    const json_t *r;
    json_array_foreach(v, i, r)
    {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_tdint(pg, tr, rdm_rpt_int(r, "snapshot_id", 0));
        long long b = rdm_rpt_int(r, "batch_id", -1);
        if (b < 0)
            rdm_html_td(pg, tr, "all");
        else
            rdm_html_tdint(pg, tr, b);
        rdm_html_td(pg, tr, rdm_rpt_str(r, "rule"));
        rdm_html_td(pg, tr, rdm_rpt_str(r, "severity"));
        long long viol = rdm_rpt_int(r, "violations", 0), chk = rdm_rpt_int(r, "checked", 0);
        rdm_html_tdint(pg, tr, viol);
        rdm_html_tdint(pg, tr, chk);
        rdm_html_tdnum(pg, tr, 4, chk > 0 ? (double)viol / (double)chk : NAN);
        int passed = json_is_true(json_object_get(r, "passed"));
        xmlNodePtr td = rdm_html_td(pg, tr, passed ? "pass" : "FAIL");
        if (!passed)
            rdm_html_attr(pg, td, "class", "fail");
    }
}

/* PSI above this is a shift worth a look (the usual rule of thumb: < 0.1
 * stable, 0.1 to 0.25 moderate, above 0.25 large). */
#define PSI_WARN 0.1
#define PSI_HIGH 0.25

/* Batch x column matrix of PSI against the whole snapshot. */
static void drift(rdm_html_page *pg, const json_t *data)
{
    const json_t *d = json_object_get(data, "drift");
    rdm_html_section(pg, "Batches against the training snapshot", "drift");
    if (!json_array_size(d)) {
        note(pg, "No batch distribution to compare yet (readmit clean).");
        return;
    }
    note(pg, "Each batch's distribution of a column against the whole clean snapshot, which is "
             "what training reads: population stability index (PSI; below 0.1 stable, 0.1 to "
             "0.25 moderate, above 0.25 large shift). Hover a cell for the total variation "
             "distance.");
    long long batches[MAX_BATCHES];
    const char *cols[64];
    int nb = 0, nc = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(d, i, r)
    {
        const char *c = rdm_rpt_str(r, "column");
        int k = 0;
        while (k < nc && strcmp(cols[k], c ? c : ""))
            k++;
        if (k == nc && nc < 64)
            cols[nc++] = c ? c : "";
        index_of(batches, &nb, MAX_BATCHES, rdm_rpt_int(r, "batch_id", -1));
    }
    xmlNodePtr tb = matrix_start(pg, "drift-matrix", "column", batches, nb);
    for (int k = 0; k < nc; k++) {
        xmlNodePtr cells[MAX_BATCHES];
        matrix_row(pg, tb, cols[k], cells, nb);
        json_array_foreach(d, i, r)
        {
            const char *c = rdm_rpt_str(r, "column");
            int b = index_of(batches, &nb, nb, rdm_rpt_int(r, "batch_id", -1));
            if (b < 0 || strcmp(c ? c : "", cols[k]))
                continue;
            double psi = rdm_rpt_num(r, "psi");
            char text[32], title[96];
            snprintf(text, sizeof text, "%.3f", psi);
            snprintf(title, sizeof title, "total variation %.3f over %lld rows",
                     rdm_rpt_num(r, "tvd"), rdm_rpt_int(r, "rows", 0));
            rdm_html_text(pg, cells[b], text);
            rdm_html_attr(pg, cells[b], "title", title);
            rdm_html_attr(pg, cells[b], "class",
                          psi > PSI_HIGH   ? "num fail"
                          : psi > PSI_WARN ? "num warn"
                                           : "num");
        }
    }
}

static void balance(rdm_html_page *pg, const json_t *prof)
{
    rdm_html_section(pg, "Class balance", "balance");
    const json_t *cb = json_object_get(prof, "class_balance");
    long long neg = rdm_rpt_int(cb, "negative", 0), pos = rdm_rpt_int(cb, "positive", 0);
    double r = rdm_rpt_num(cb, "positive_rate");
    char buf[256];
    snprintf(buf, sizeof buf,
             "%lld encounters: %lld readmitted within 30 days (positive rate %.4f), %lld not. "
             "Always predicting \"not readmitted\" would score accuracy %.4f.",
             neg + pos, pos, r, neg, isnan(r) ? NAN : 1 - r);
    rdm_html_el(pg, pg->body, "p", buf);
    const json_t *bs = json_object_get(prof, "batches");
    size_t nb = json_array_size(bs);
    if (!nb)
        return;
    const char **labels = calloc(nb, sizeof *labels);
    double *vals = calloc(nb, sizeof *vals);
    char(*names)[24] = calloc(nb, sizeof *names);
    if (!labels || !vals || !names) {
        pg->oom = 1;
    } else {
        static const char *const H[] = {"batch", "rows", "positives", "positive rate"};
        xmlNodePtr tb = rdm_html_table(pg, pg->body, NULL, H, 4);
        size_t i;
        const json_t *b;
        json_array_foreach(bs, i, b)
        {
            long long rows = rdm_rpt_int(b, "rows", 0), p = rdm_rpt_int(b, "positives", 0);
            snprintf(names[i], sizeof names[i], "%lld", rdm_rpt_int(b, "batch_id", 0));
            labels[i] = names[i];
            vals[i] = rows > 0 ? (double)p / (double)rows : 0;
            xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
            rdm_html_td(pg, tr, names[i]);
            rdm_html_tdint(pg, tr, rows);
            rdm_html_tdint(pg, tr, p);
            rdm_html_tdnum(pg, tr, 4, rows > 0 ? vals[i] : NAN);
        }
        rdm_svg_chart c = {
            "Positive rate by batch", "batch", "positive rate", 0, 0, 0, 0, 0, 0, 0, 0};
        rdm_err e = {0};
        xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, vals, (int)nb, &e);
        if (svg)
            rdm_html_adopt(pg, pg->body, svg);
    }
    free(labels);
    free(vals);
    free(names);
}

static void top_values(rdm_html_page *pg, xmlNodePtr d, xmlNodePtr charts, const char *name,
                       const json_t *top, size_t nt);

static void column_detail(rdm_html_page *pg, const json_t *col)
{
    const char *name = rdm_rpt_str(col, "name");
    const json_t *hist = json_object_get(col, "histogram");
    const json_t *top = json_object_get(col, "top");
    size_t nh = json_array_size(json_object_get(hist, "counts"));
    size_t nt = json_array_size(top);
    if (!nh && !nt)
        return;
    xmlNodePtr d = rdm_html_el(pg, pg->body, "details", NULL);
    rdm_html_elf(pg, d, "summary", "%s: %s", name ? name : "?",
                 nh ? "histogram" : "top values and target rate");
    xmlNodePtr charts = rdm_html_el(pg, d, "div", NULL);
    rdm_html_attr(pg, charts, "class", "charts");
    char title[160];
    if (nh) {
        const json_t *edges = json_object_get(hist, "edges"),
                     *counts = json_object_get(hist, "counts");
        const char **labels = calloc(nh, sizeof *labels);
        double *vals = calloc(nh, sizeof *vals);
        char(*lab)[48] = calloc(nh, sizeof *lab);
        if (!labels || !vals || !lab) {
            pg->oom = 1;
        } else {
            static const char *const H[] = {"from", "to", "count"};
            xmlNodePtr tb = rdm_html_table(pg, d, NULL, H, 3);
            for (size_t i = 0; i < nh; i++) {
                double a = json_number_value(json_array_get(edges, i));
                double b = json_number_value(json_array_get(edges, i + 1));
                char sa[24], sb[24];
                rdm_svg_fmt(a, sa, sizeof sa);
                rdm_svg_fmt(b, sb, sizeof sb);
                snprintf(lab[i], sizeof lab[i], "%s", sa);
                labels[i] = lab[i];
                vals[i] = json_number_value(json_array_get(counts, i));
                xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
                rdm_html_td(pg, tr, sa);
                rdm_html_td(pg, tr, sb);
                rdm_html_tdint(pg, tr, (long long)vals[i]);
            }
            snprintf(title, sizeof title, "%.100s: histogram", name ? name : "?");
            rdm_svg_chart c = {title, name, "encounters", 0, 0, 0, 0, 0, 0, 0, 0};
            rdm_err e = {0};
            xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, vals, (int)nh, &e);
            if (svg)
                rdm_html_adopt(pg, charts, svg);
        }
        free(labels);
        free(vals);
        free(lab);
    }
    if (nt)
        top_values(pg, d, charts, name, top, nt);
}

/* Columns whose levels have a natural order (schema.c lists them in it):
 * their bars follow it instead of frequency. */
static const char *const ORDERED[] = {"age", "A1Cresult", "max_glu_serum", NULL};

/* Rank of value v among the column's known levels in natural order, or a
 * large number (unknown values and "missing" last, by frequency). */
static int is_ordered(const char *col)
{
    for (int i = 0; col && ORDERED[i]; i++)
        if (!strcmp(col, ORDERED[i]))
            return 1;
    return 0;
}

static int level_rank(const char *col, const char *v)
{
    int c = is_ordered(col) ? rdm_schema_find(col) : -1;
    const char *const *lv = c >= 0 ? rdm_schema_columns()[c].levels : NULL;
    for (int k = 0; lv && v && lv[k]; k++)
        if (!strcmp(lv[k], v))
            return k;
    return 1000;
}

/* Top values: in natural order for ordered levels (stable: frequency among
 * the rest), each bar labelled with its count. */
static void top_values(rdm_html_page *pg, xmlNodePtr d, xmlNodePtr charts, const char *name,
                       const json_t *top, size_t nt)
{
    const char **labels = calloc(nt, sizeof *labels);
    double *vals = calloc(nt, sizeof *vals);
    size_t *ord = calloc(nt, sizeof *ord);
    char(*lab)[96] = calloc(nt, sizeof *lab);
    if (!labels || !vals || !ord || !lab) {
        pg->oom = 1;
        goto done;
    }
    for (size_t i = 0; i < nt; i++)
        ord[i] = i;
    for (size_t i = 1; i < nt; i++) /* insertion sort: stable, nt <= 10 */
        for (size_t j = i; j > 0; j--) {
            const json_t *a = json_array_get(top, ord[j - 1]), *b = json_array_get(top, ord[j]);
            if (level_rank(name, rdm_rpt_str(a, "value")) <=
                level_rank(name, rdm_rpt_str(b, "value")))
                break;
            size_t t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    static const char *const H[] = {"value", "encounters", "target rate"};
    xmlNodePtr tb = rdm_html_table(pg, d, NULL, H, 3);
    for (size_t i = 0; i < nt; i++) {
        const json_t *t = json_array_get(top, ord[i]);
        const char *v = rdm_rpt_str(t, "value") ? rdm_rpt_str(t, "value") : "(missing)";
        long long cnt = rdm_rpt_int(t, "count", 0);
        snprintf(lab[i], sizeof lab[i], "%.60s (n=%lld)", v, cnt);
        labels[i] = lab[i];
        vals[i] = rdm_rpt_num(t, "target_rate");
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, v);
        rdm_html_tdint(pg, tr, cnt);
        rdm_html_tdnum(pg, tr, 4, vals[i]);
    }
    char title[160];
    snprintf(title, sizeof title, "%.100s: target rate by %s", name ? name : "?",
             is_ordered(name) ? "level, in order" : "top values");
    rdm_svg_chart c = {title, "readmitted <30 days rate", NULL, 560, 0, 0, 0, 0, 0, 0, 1};
    rdm_err e = {0};
    xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, vals, (int)nt, &e);
    if (svg)
        rdm_html_adopt(pg, charts, svg);
done:
    free(labels);
    free(vals);
    free(ord);
    free(lab);
}

static void profile(rdm_html_page *pg, const json_t *data)
{
    const json_t *pw = json_object_get(data, "profile");
    const json_t *prof = json_object_get(pw, "profile");
    if (!json_is_object(prof)) {
        rdm_html_section(pg, "Column profile", "profile");
        note(pg, "No profile yet (readmit clean).");
        return;
    }
    balance(pg, prof);
    rdm_html_section(pg, "Column profile", "profile");
    char buf[200];
    snprintf(buf, sizeof buf, "Clean snapshot %lld, %lld rows. Click a header to sort.",
             rdm_rpt_int(pw, "snapshot_id", 0), rdm_rpt_int(prof, "rows", 0));
    note(pg, buf);
    static const char *const H[] = {"column", "kind", "missing", "missing rate", "distinct",
                                    "min",    "mean", "median",  "max",          "most frequent"};
    xmlNodePtr tb = rdm_html_table(pg, pg->body, "sortable", H, 10);
    const json_t *cols = json_object_get(prof, "columns");
    size_t i;
    const json_t *c;
    json_array_foreach(cols, i, c)
    {
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        rdm_html_td(pg, tr, rdm_rpt_str(c, "name"));
        rdm_html_td(pg, tr, rdm_rpt_str(c, "kind"));
        rdm_html_tdint(pg, tr, rdm_rpt_int(c, "missing", 0));
        rdm_html_tdnum(pg, tr, 4, rdm_rpt_num(c, "missing_rate"));
        rdm_html_tdint(pg, tr, rdm_rpt_int(c, "distinct", 0));
        rdm_html_tdnum(pg, tr, 2, rdm_rpt_num(c, "min"));
        rdm_html_tdnum(pg, tr, 2, rdm_rpt_num(c, "mean"));
        rdm_html_tdnum(pg, tr, 2, rdm_rpt_num(rdm_rpt_path(c, "quantiles", NULL, NULL), "p50"));
        rdm_html_tdnum(pg, tr, 2, rdm_rpt_num(c, "max"));
        const json_t *t0 = json_array_get(json_object_get(c, "top"), 0);
        if (t0)
            rdm_html_elf(pg, tr, "td", "%.60s (%lld)",
                         rdm_rpt_str(t0, "value") ? rdm_rpt_str(t0, "value") : "(missing)",
                         rdm_rpt_int(t0, "count", 0));
        else
            rdm_html_td(pg, tr, "");
    }
    rdm_html_el(pg, pg->body, "h3", "Distributions and target rate by value");
    json_array_foreach(cols, i, c) column_detail(pg, c);
}

int rdm_report_page_data(const rdm_report_site *rs, rdm_buf *out, rdm_err *err)
{
    const json_t *site = rdm_report_site_json(rs);
    rdm_html_page pg;
    if (rdm_rpt_page_start(&pg, "Data: batches, rejects, validation, profile", ""))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    const json_t *data = json_object_get(site, "data");
    ledger(&pg, data);
    snapshots(&pg, data);
    rejects(&pg, data);
    validation(&pg, data);
    drift(&pg, data);
    suspicious(&pg, data);
    profile(&pg, data);
    return rdm_html_page_finish(&pg, out, err);
}
