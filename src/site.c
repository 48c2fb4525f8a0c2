/* site.c - the report site model: the site JSON, decoded curves, lookups
 * (runs, versions, champion, metrics), the pages the site has and what a
 * run page depends on. */
#include "site.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON access ---- */

double rdm_rpt_num(const json_t *o, const char *k)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *rdm_rpt_str(const json_t *o, const char *k)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long rdm_rpt_int(const json_t *o, const char *k, long long dflt)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return dflt;
}

const json_t *rdm_rpt_path(const json_t *o, const char *a, const char *b, const char *c)
{
    const json_t *v = o ? json_object_get(o, a) : NULL;
    if (b)
        v = json_is_object(v) ? json_object_get(v, b) : NULL;
    if (c)
        v = json_is_object(v) ? json_object_get(v, c) : NULL;
    return v;
}

/* ---- the site: JSON plus decoded curves ---- */

int rdm_rpt_curve_add(rdm_report_site *site, long long run_id, const char *split, const char *kind,
                      double *x, int n, rdm_err *err)
{
    if (strlen(split) >= sizeof site->curves[0].split ||
        strlen(kind) >= sizeof site->curves[0].kind) {
        free(x);
        return rdm_errf(err, RDM_EINVAL, "report: curve run %lld: bad split '%s' or kind '%s'",
                        run_id, split, kind);
    }
    void *cv = site->curves;
    if (rdm_grow(&cv, &site->capcurves, site->ncurves + 1, sizeof *site->curves)) {
        free(x);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    site->curves = cv;
    rdm_rpt_curve *c = &site->curves[site->ncurves++];
    memset(c, 0, sizeof *c);
    c->run_id = run_id;
    snprintf(c->split, sizeof c->split, "%s", split);
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    c->n = n;
    c->x = x;
    c->y = x ? x + n : NULL;
    return RDM_OK;
}

static int curve_cmp(const void *a, const void *b)
{
    const rdm_rpt_curve *p = a, *q = b;
    if (p->run_id != q->run_id)
        return p->run_id < q->run_id ? -1 : 1;
    int c = strcmp(p->split, q->split);
    return c ? c : strcmp(p->kind, q->kind);
}

void rdm_rpt_curves_sort(rdm_report_site *site)
{
    if (site->ncurves > 1)
        qsort(site->curves, site->ncurves, sizeof *site->curves, curve_cmp);
}

const rdm_rpt_curve *rdm_rpt_curve_get(const rdm_report_site *site, long long run_id,
                                       const char *split, const char *kind)
{
    if (!site || !site->ncurves)
        return NULL;
    rdm_rpt_curve key;
    memset(&key, 0, sizeof key);
    key.run_id = run_id;
    snprintf(key.split, sizeof key.split, "%s", split);
    snprintf(key.kind, sizeof key.kind, "%s", kind);
    return bsearch(&key, site->curves, site->ncurves, sizeof key, curve_cmp);
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* A JSON number at p (strtod accepts more: "inf", hex, leading '+'). */
static const char *json_number(const char *p, const char *end, double *v)
{
    if (p >= end || !(*p == '-' || (*p >= '0' && *p <= '9')))
        return NULL;
    if (*p == '-' && (p + 1 >= end || !(p[1] >= '0' && p[1] <= '9')))
        return NULL;
    if (p[0] == '0' && p + 1 < end && (p[1] == 'x' || p[1] == 'X'))
        return NULL;
    char *q;
    *v = strtod(p, &q);
    return q > p && q <= end ? q : NULL;
}

int rdm_rpt_parse_pairs(const char *s, size_t len, double **xy, int *n)
{
    *xy = NULL;
    *n = 0;
    const char *p = s, *end = s + len;
    p = skip_ws(p, end);
    if (p >= end || *p++ != '[')
        return -1;
    /* the text has at most one point per 4 bytes ("[0,0]"): size once */
    size_t cap = len / 4 + 1, k = 0;
    double *x = malloc(2 * cap * sizeof *x);
    if (!x)
        return -1;
    p = skip_ws(p, end);
    if (p < end && *p == ']') {
        p++;
    } else {
        for (;;) {
            double a, b;
            p = skip_ws(p, end);
            if (p >= end || *p++ != '[')
                goto bad;
            if (!(p = json_number(skip_ws(p, end), end, &a)))
                goto bad;
            p = skip_ws(p, end);
            if (p >= end || *p++ != ',')
                goto bad;
            if (!(p = json_number(skip_ws(p, end), end, &b)))
                goto bad;
            p = skip_ws(p, end);
            if (p >= end || *p++ != ']' || k >= cap || k >= 0x3fffffff)
                goto bad;
            x[k] = a;
            x[cap + k] = b;
            k++;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == ']') {
                p++;
                break;
            }
            goto bad;
        }
    }
    if (skip_ws(p, end) != end)
        goto bad;
    memmove(x + k, x + cap, k * sizeof *x); /* y right after x */
    *xy = x;
    *n = (int)k;
    return 0;
bad:
    free(x);
    return -1;
}

int rdm_rpt_json_pairs(const json_t *arr, double **xy, int *n)
{
    *xy = NULL;
    *n = 0;
    size_t k = json_is_array(arr) ? json_array_size(arr) : 0;
    if (k > 0x3fffffff)
        return -1;
    double *x = malloc((2 * k + 1) * sizeof *x);
    if (!x)
        return -1;
    for (size_t i = 0; i < k; i++) {
        const json_t *pt = json_array_get(arr, i);
        const json_t *a = json_array_get(pt, 0), *b = json_array_get(pt, 1);
        x[i] = json_is_number(a) ? json_number_value(a) : NAN;
        x[k + i] = json_is_number(b) ? json_number_value(b) : NAN;
    }
    *xy = x;
    *n = (int)k;
    return 0;
}

rdm_report_site *rdm_report_site_new(json_t *json, rdm_err *err)
{
    if (!json_is_object(json)) {
        json_decref(json);
        rdm_errf(err, RDM_EINVAL, "report: the site is not a JSON object");
        return NULL;
    }
    rdm_report_site *site = calloc(1, sizeof *site);
    if (!site) {
        json_decref(json);
        rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        return NULL;
    }
    site->json = json;
    const char *run;
    json_t *per;
    json_object_foreach(json_object_get(json, "curves"), run, per)
    {
        const char *split;
        json_t *kinds;
        json_object_foreach(per, split, kinds)
        {
            static const char *const K[] = {"roc", "pr"};
            for (int k = 0; k < 2; k++) {
                const json_t *arr = json_object_get(kinds, K[k]);
                double *xy;
                int n;
                if (!arr)
                    continue;
                if (rdm_rpt_json_pairs(arr, &xy, &n) ||
                    rdm_rpt_curve_add(site, atoll(run), split, K[k], xy, n, err)) {
                    if (!err || !err->code)
                        rdm_errf(err, RDM_ENOMEM, "report: out of memory");
                    rdm_report_site_free(site);
                    return NULL;
                }
            }
        }
    }
    rdm_rpt_curves_sort(site);
    return site;
}

json_t *rdm_report_site_json(const rdm_report_site *site)
{
    return site ? site->json : NULL;
}

void rdm_report_site_free(rdm_report_site *site)
{
    if (!site)
        return;
    for (size_t i = 0; i < site->ncurves; i++)
        free(site->curves[i].x);
    free(site->curves);
    json_decref(site->json);
    free(site);
}

/* ---- site lookups ---- */

const json_t *rdm_rpt_find_run(const json_t *site, long long run_id)
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
int rdm_rpt_run_version(const json_t *site, long long run_id, char *aliases, size_t n)
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

long long rdm_rpt_champion_run(const json_t *site)
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

double rdm_rpt_metric(const json_t *run, const char *split, const char *key)
{
    return rdm_rpt_num(json_object_get(run, split), key);
}

const json_t *rdm_rpt_curve_json(const json_t *site, long long run_id, const char *split,
                                 const char *kind)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", run_id);
    return rdm_rpt_path(json_object_get(site, "curves"), id, split, kind);
}

void rdm_rpt_href_run(char *buf, size_t n, const char *root, long long id)
{
    snprintf(buf, n, "%sruns/%lld.html", root, id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted keys of an object (pointers borrowed from it); caller frees the array. */
const char **rdm_rpt_sorted_keys(const json_t *o, size_t *n)
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

const char *rdm_rpt_param(const json_t *run, const char *key)
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
int rdm_rpt_param_varies(const json_t *runs, const char *model_type, const char *key)
{
    const char *first = NULL;
    int seen = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        if (model_type && !str_eq(rdm_rpt_str(r, "model_type"), model_type))
            continue;
        const char *v = rdm_rpt_param(r, key);
        if (!seen) {
            first = v;
            seen = 1;
        } else if (!str_eq(first, v)) {
            return 1;
        }
    }
    return 0;
}

/* ---- what a run page depends on ---- */

/* An unambiguous encoding of a JSON value (type tags, lengths, raw numbers,
 * object keys sorted) for hashing; only reads v, so threads may share it. */
static int encode_json(rdm_buf *b, const json_t *v)
{
    char tag;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = malloc((n + 1) * sizeof *keys);
        if (!keys)
            return RDM_ENOMEM;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (i < n)
                keys[i++] = k;
        }
        qsort(keys, i, sizeof *keys, cmp_str);
        int rc = rdm_buf_addc(b, 'o') || rdm_buf_add(b, &i, sizeof i);
        for (size_t j = 0; !rc && j < i; j++)
            rc = rdm_buf_add(b, keys[j], strlen(keys[j]) + 1) ||
                 encode_json(b, json_object_get(v, keys[j]));
        free(keys);
        return rc ? RDM_ENOMEM : RDM_OK;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (rdm_buf_addc(b, 'a') || rdm_buf_add(b, &n, sizeof n))
            return RDM_ENOMEM;
        for (size_t j = 0; j < n; j++)
            if (encode_json(b, json_array_get(v, j)))
                return RDM_ENOMEM;
        return RDM_OK;
    }
    case JSON_STRING: {
        size_t n = json_string_length(v);
        return rdm_buf_addc(b, 's') || rdm_buf_add(b, &n, sizeof n) ||
                       rdm_buf_add(b, json_string_value(v), n)
                   ? RDM_ENOMEM
                   : RDM_OK;
    }
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        return rdm_buf_addc(b, 'i') || rdm_buf_add(b, &i, sizeof i) ? RDM_ENOMEM : RDM_OK;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        return rdm_buf_addc(b, 'r') || rdm_buf_add(b, &d, sizeof d) ? RDM_ENOMEM : RDM_OK;
    }
    case JSON_TRUE:
        tag = 't';
        break;
    case JSON_FALSE:
        tag = 'f';
        break;
    default:
        tag = 'n';
        break;
    }
    return rdm_buf_addc(b, tag) ? RDM_ENOMEM : RDM_OK;
}

static int hash_json(rdm_buf *b, const json_t *v)
{
    if (!v)
        return rdm_buf_addc(b, '-') ? RDM_ENOMEM : RDM_OK;
    return encode_json(b, v);
}

/* A run and its curves (stored JSON and decoded points) into b. */
static int add_run(rdm_buf *b, const rdm_report_site *site, const json_t *run)
{
    const json_t *j = rdm_report_site_json(site);
    long long rid = rdm_rpt_int(run, "run_id", -1);
    char id[32];
    snprintf(id, sizeof id, "%lld", rid);
    if (hash_json(b, run) || hash_json(b, json_object_get(json_object_get(j, "curves"), id)))
        return RDM_ENOMEM;
    static const char *const SP[] = {"train", "valid", "test"}, *const KI[] = {"roc", "pr"};
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 2; k++) {
            const rdm_rpt_curve *c = rdm_rpt_curve_get(site, rid, SP[s], KI[k]);
            if (rdm_buf_printf(b, "%s %s %d", SP[s], KI[k], c ? c->n : -1) ||
                rdm_buf_addc(b, '\0') ||
                (c && c->n > 0 && rdm_buf_add(b, c->x, 2 * (size_t)c->n * sizeof *c->x)))
                return RDM_ENOMEM;
        }
    return RDM_OK;
}

int rdm_rpt_run_input(const rdm_report_site *site, const json_t *run, const char *gen, rdm_buf *b,
                      char out[65])
{
    const json_t *j = rdm_report_site_json(site);
    rdm_buf_reset(b);
    if (rdm_buf_add(b, gen, 64) || hash_json(b, json_object_get(j, "model_name")) ||
        hash_json(b, json_object_get(j, "versions")) || add_run(b, site, run))
        return RDM_ENOMEM;
    rdm_sha256_hex(b->data, b->len, out);
    return RDM_OK;
}

int rdm_rpt_training_input(const rdm_report_site *site, long long training_id, const char *gen,
                           rdm_buf *b, char out[65])
{
    const json_t *j = rdm_report_site_json(site);
    rdm_buf_reset(b);
    if (rdm_buf_add(b, gen, 64) || rdm_buf_printf(b, "training %lld", training_id) ||
        hash_json(b, json_object_get(j, "versions")))
        return RDM_ENOMEM;
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(j, "runs"), i, r)
    {
        if (rdm_rpt_int(r, "training_id", -1) == training_id && add_run(b, site, r))
            return RDM_ENOMEM;
    }
    rdm_sha256_hex(b->data, b->len, out);
    return RDM_OK;
}

/* ---- the pages of the site ---- */

/* The top-level pages, in navigation and build order. A new page is a row
 * here, a kind in site.h and a builder in report.c's table. Run pages and
 * the compare page of each training follow them. */
static const struct {
    rdm_rpt_kind kind;
    rdm_html_navlink link;
} TOP[] = {
    {RDM_RPT_INDEX, {"index.html", "Runs and versions"}},
    {RDM_RPT_COMPARE, {"compare.html", "Compare"}},
    {RDM_RPT_DATA, {"data.html", "Data"}},
    {RDM_RPT_MONITOR, {"monitor.html", "Monitoring"}},
};

#define NTOP ((int)(sizeof TOP / sizeof TOP[0]))

int rdm_rpt_page_start(rdm_html_page *pg, const char *title, const char *root)
{
    rdm_html_navlink nav[NTOP];
    for (int i = 0; i < NTOP; i++)
        nav[i] = TOP[i].link;
    return rdm_html_page_start(pg, title, root, nav, NTOP);
}

static int cmp_desc(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

long long *rdm_rpt_trainings(const json_t *site, size_t *n)
{
    const json_t *runs = json_object_get(site, "runs");
    size_t nr = json_is_array(runs) ? json_array_size(runs) : 0, k = 0;
    *n = 0;
    long long *t = malloc((nr + 1) * sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = 0; i < nr; i++)
        t[k++] = rdm_rpt_int(json_array_get(runs, i), "training_id", 0);
    qsort(t, k, sizeof *t, cmp_desc);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (!m || t[m - 1] != t[i])
            t[m++] = t[i];
    *n = m;
    return t;
}

void rdm_rpt_href_compare(char *buf, size_t n, const char *root, long long training_id)
{
    snprintf(buf, n, "%scompare/%lld.html", root, training_id);
}

rdm_rpt_page_ref *rdm_rpt_pages(const rdm_report_site *site, size_t *n)
{
    const json_t *j = rdm_report_site_json(site);
    const json_t *runs = json_object_get(j, "runs");
    size_t nruns = json_is_array(runs) ? json_array_size(runs) : 0, ntr = 0;
    *n = 0;
    long long *tr = rdm_rpt_trainings(j, &ntr);
    rdm_rpt_page_ref *p = tr ? calloc((size_t)NTOP + nruns + ntr, sizeof *p) : NULL;
    if (!p) {
        free(tr);
        return NULL;
    }
    for (int k = 0; k < NTOP; k++) {
        p[k].kind = TOP[k].kind;
        snprintf(p[k].name, sizeof p[k].name, "%s", TOP[k].link.href);
    }
    size_t at = (size_t)NTOP;
    for (size_t i = 0; i < nruns; i++, at++) {
        p[at].kind = RDM_RPT_RUN;
        p[at].run = json_array_get(runs, i);
        p[at].id = rdm_rpt_int(p[at].run, "run_id", 0);
        rdm_rpt_href_run(p[at].name, sizeof p[at].name, "", p[at].id);
    }
    for (size_t i = 0; i < ntr; i++, at++) {
        p[at].kind = RDM_RPT_TRAINING;
        p[at].id = tr[i];
        rdm_rpt_href_compare(p[at].name, sizeof p[at].name, "", tr[i]);
    }
    free(tr);
    *n = at;
    return p;
}

const char *const *rdm_rpt_page_dirs(void)
{
    static const char *const DIRS[] = {"runs", "compare", NULL};
    return DIRS;
}

double rdm_rpt_positive_rate(const json_t *run, const char *split)
{
    double n = rdm_rpt_metric(run, split, "n"), p = rdm_rpt_metric(run, split, "positives");
    if (isnan(n) || isnan(p)) {
        double tp = rdm_rpt_metric(run, split, "tp"), fp = rdm_rpt_metric(run, split, "fp");
        double tn = rdm_rpt_metric(run, split, "tn"), fn = rdm_rpt_metric(run, split, "fn");
        n = tp + fp + tn + fn;
        p = tp + fn;
    }
    return n > 0 ? p / n : NAN;
}

/* ---- metric names ---- */

static const struct {
    const char *key, *label;
    int higher_better;
} METRIC_INFO[] = {
    {"roc_auc", "ROC AUC", 1},     {"pr_auc", "PR AUC", 1},     {"log_loss", "log loss", 0},
    {"brier", "Brier score", 0},   {"accuracy", "accuracy", 1}, {"f1", "F1", 1},
    {"precision", "precision", 1}, {"recall", "recall", 1},
};

const char *rdm_rpt_metric_label(const char *key)
{
    for (size_t i = 0; key && i < sizeof METRIC_INFO / sizeof METRIC_INFO[0]; i++)
        if (!strcmp(METRIC_INFO[i].key, key))
            return METRIC_INFO[i].label;
    return key ? key : "?";
}

int rdm_rpt_higher_better(const char *key)
{
    for (size_t i = 0; key && i < sizeof METRIC_INFO / sizeof METRIC_INFO[0]; i++)
        if (!strcmp(METRIC_INFO[i].key, key))
            return METRIC_INFO[i].higher_better;
    return 1;
}

/* ---- alias history in words ---- */

static int gate_num(const json_t *g, const char *k, double *v)
{
    *v = rdm_rpt_num(g, k);
    return isfinite(*v);
}

/* The manual reason without the "manual promote: " prefix the registry adds. */
static const char *manual_reason(const char *reason)
{
    const char *c = reason ? strstr(reason, ": ") : NULL;
    if (reason && !strncmp(reason, "manual ", 7) && c)
        return c + 2;
    return reason;
}

static void gate_words(const json_t *h, const json_t *g, char *out, size_t n)
{
    const char *alias = rdm_rpt_str(h, "alias");
    const char *label = rdm_rpt_metric_label(rdm_rpt_str(g, "metric"));
    long long to = rdm_rpt_int(h, "to_version", 0), champ = rdm_rpt_int(g, "champion_version", 0);
    double score, old, gain, floor_, need;
    int has = gate_num(g, "new_score", &score), has_old = gate_num(g, "champion_score", &old);
    gate_num(g, "gain", &gain);
    gate_num(g, "min_metric", &floor_);
    gate_num(g, "min_gain", &need);
    int floor_ok = json_is_true(json_object_get(g, "floor_ok"));
    if (!to) {
        snprintf(out, n, "The %s alias was cleared.", alias ? alias : "?");
    } else if (json_is_true(json_object_get(g, "passed")) && champ && has && has_old) {
        snprintf(out, n,
                 "v%lld became %s: its validation %s of %.4f beats champion v%lld (%.4f) by "
                 "%.4f, at least %.4f was needed, and meets the floor of %.4f.",
                 to, alias ? alias : "?", label, score, champ, old, gain, need, floor_);
    } else if (json_is_true(json_object_get(g, "passed")) && has) {
        snprintf(out, n,
                 "v%lld became %s, the first one: its validation %s of %.4f meets the floor "
                 "of %.4f.",
                 to, alias ? alias : "?", label, score, floor_);
    } else if (has && !floor_ok) {
        snprintf(out, n,
                 "v%lld became %s, not champion: its validation %s of %.4f misses the floor of "
                 "%.4f.",
                 to, alias ? alias : "?", label, score, floor_);
    } else if (has && has_old) {
        snprintf(out, n,
                 "v%lld became %s, not champion: its validation %s of %.4f against champion "
                 "v%lld (%.4f) is a gain of %.4f, short of the %.4f needed.",
                 to, alias ? alias : "?", label, score, champ, old, gain, need);
    } else {
        snprintf(out, n, "%s", rdm_rpt_str(h, "reason") ? rdm_rpt_str(h, "reason") : "-");
    }
}

void rdm_rpt_history_sentence(const json_t *h, char *out, size_t n)
{
    const json_t *g = json_object_get(h, "gate");
    const char *action = rdm_rpt_str(h, "action");
    const char *reason = manual_reason(rdm_rpt_str(h, "reason"));
    long long from = rdm_rpt_int(h, "from_version", 0), to = rdm_rpt_int(h, "to_version", 0);
    int manual = action && (!strcmp(action, "promote") || !strcmp(action, "rollback"));
    if (manual) {
        char fromtxt[32] = "no version";
        if (from)
            snprintf(fromtxt, sizeof fromtxt, "v%lld", from);
        snprintf(out, n, "%s by hand from %s to v%lld%s%s",
                 action[0] == 'p' ? "Promoted" : "Rolled back", fromtxt, to,
                 reason && *reason ? ": " : ".", reason && *reason ? reason : "");
    } else if (json_is_object(g) && json_object_get(g, "metric")) {
        gate_words(h, g, out, n);
    } else {
        snprintf(out, n, "%s", rdm_rpt_str(h, "reason") ? rdm_rpt_str(h, "reason") : "-");
    }
}

void rdm_rpt_actor_text(const char *actor, char *out, size_t n)
{
    if (!actor || !*actor) {
        snprintf(out, n, "unknown");
        return;
    }
    /* "user (readmit cmd)" or "user@host (readmit cmd)" */
    const char *paren = strstr(actor, " (");
    size_t ul = paren ? (size_t)(paren - actor) : strlen(actor);
    const char *at = memchr(actor, '@', ul);
    char cmd[96] = "";
    if (paren) {
        snprintf(cmd, sizeof cmd, "%s", paren + 2);
        char *close = strrchr(cmd, ')');
        if (close)
            *close = '\0';
    }
    if (at)
        snprintf(out, n, "%.*s on %.*s%s%s", (int)(at - actor), actor,
                 (int)(ul - (size_t)(at - actor) - 1), at + 1, cmd[0] ? ", " : "", cmd);
    else
        snprintf(out, n, "%.*s%s%s (host not recorded)", (int)ul, actor, cmd[0] ? ", " : "", cmd);
}
