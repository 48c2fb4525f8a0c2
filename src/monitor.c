/* monitor.c - windows of served predictions: estimated and realized
 * performance, label coverage and delay, input and score drift. */
#include "monitor.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootstrap.h"
#include "estimate.h"
#include "metrics.h"
#include "pool.h"

typedef struct window {
    int64_t key;
    double start, end; /* first and last served time */
    size_t n;
    rdm_drift_counts dc;
} window;

struct rdm_monitor {
    const rdm_config *cfg;
    const rdm_drift_ref *ref;
    rdm_mon_row *rows;
    uint32_t *win; /* window index per row */
    size_t n, cap;
    window *w;
    size_t nw, wcap, last;
};

/* ---- input parsing ---- */

#define KEY_SLOTS 128

static int key_table[KEY_SLOTS]; /* column + 1, 0 = empty */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static unsigned key_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void key_init(void)
{
    const rdm_column *cols = rdm_schema_columns();
    for (int c = 0; c < RDM_NCOLS; c++) {
        unsigned h = key_hash(cols[c].name) % KEY_SLOTS;
        while (key_table[h])
            h = (h + 1) % KEY_SLOTS;
        key_table[h] = c + 1;
    }
}

static int key_column(const char *k)
{
    const rdm_column *cols = rdm_schema_columns();
    for (unsigned h = key_hash(k) % KEY_SLOTS; key_table[h]; h = (h + 1) % KEY_SLOTS)
        if (!strcmp(cols[key_table[h] - 1].name, k))
            return key_table[h] - 1;
    return -1;
}

static char *skip_ws(char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return 0;
        *v = *v * 16 + (unsigned)d;
    }
    return 1;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Unescape the string starting after its opening quote at p, in place;
 * returns the position after the closing quote, or NULL. */
static char *unescape(char *p, char **start)
{
    char *o = p;
    *start = p;
    while (*p && *p != '"') {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        unsigned cp;
        switch (*p) {
        case 'n':
            *o++ = '\n';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'u':
            if (!hex4(p + 1, &cp))
                return NULL;
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && p[1] == '\\' && p[2] == 'u') {
                unsigned lo;
                if (hex4(p + 3, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            o = put_utf8(o, cp);
            break;
        case '\0':
            return NULL;
        default:
            *o++ = *p;
            break; /* \" \\ \/ */
        }
        p++;
    }
    if (*p != '"')
        return NULL;
    *o = '\0';
    return p + 1;
}

int rdm_monitor_parse_input(char *text, const char *values[RDM_NCOLS])
{
    pthread_once(&key_once, key_init);
    for (int c = 0; c < RDM_NCOLS; c++)
        values[c] = NULL;
    char *p = skip_ws(text);
    if (*p++ != '{')
        return -1;
    p = skip_ws(p);
    if (*p == '}')
        return 0;
    for (;;) {
        char *key, *val;
        if (*p++ != '"' || !(p = unescape(p, &key)))
            return -1;
        p = skip_ws(p);
        if (*p++ != ':')
            return -1;
        p = skip_ws(p);
        int isnull = 0;
        if (*p == '"') {
            if (!(p = unescape(p + 1, &val)))
                return -1;
        } else if (*p == '{' || *p == '[') {
            return -1; /* not flat */
        } else {
            val = p;
            while (*p && *p != ',' && *p != '}' && *p != ' ' && *p != '\n')
                p++;
            isnull = p - val == 4 && !strncmp(val, "null", 4);
            char end = *p;
            *p = '\0';
            if (end == ',' || end == '}') {
                int c = key_column(key);
                if (c >= 0)
                    values[c] = isnull ? NULL : val;
                if (end == '}')
                    return 0;
                p = skip_ws(p + 1);
                continue;
            }
            p++;
        }
        int c = key_column(key);
        if (c >= 0)
            values[c] = isnull ? NULL : val;
        p = skip_ws(p);
        if (*p == '}')
            return 0;
        if (*p++ != ',')
            return -1;
        p = skip_ws(p);
    }
}

/* ---- accumulation ---- */

rdm_monitor *rdm_monitor_create(const rdm_config *cfg, const rdm_drift_ref *ref, rdm_err *err)
{
    rdm_monitor *m = calloc(1, sizeof *m);
    if (!m) {
        rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        return NULL;
    }
    m->cfg = cfg;
    m->ref = ref;
    return m;
}

void rdm_monitor_free(rdm_monitor *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nw; i++)
        rdm_drift_counts_release(&m->w[i].dc);
    free(m->w);
    free(m->rows);
    free(m->win);
    free(m);
}

static long window_of(const rdm_monitor *m, const rdm_mon_row *r)
{
    if (m->cfg->monitor.window_rows > 0)
        return (long)(m->n / (size_t)m->cfg->monitor.window_rows);
    return (long)floor(r->served / (double)m->cfg->monitor.window_seconds);
}

static int find_window(rdm_monitor *m, int64_t key, size_t *idx, rdm_err *err)
{
    if (m->nw && m->w[m->last].key == key) {
        *idx = m->last;
        return RDM_OK;
    }
    for (size_t i = m->nw; i-- > 0;)
        if (m->w[i].key == key) {
            *idx = m->last = i;
            return RDM_OK;
        }
    if (m->nw == m->wcap) {
        void *p = m->w;
        if (rdm_grow(&p, &m->wcap, m->nw + 1, sizeof *m->w))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        m->w = p;
    }
    window *w = &m->w[m->nw];
    memset(w, 0, sizeof *w);
    w->key = key;
    int rc = rdm_drift_counts_init(&w->dc, m->ref, err);
    if (rc != RDM_OK)
        return rc;
    *idx = m->last = m->nw++;
    return RDM_OK;
}

int rdm_monitor_add(rdm_monitor *m, const rdm_mon_row *row, const char *const *values, rdm_err *err)
{
    if (m->n == m->cap) {
        size_t cap = m->cap;
        void *p = m->rows, *q = m->win;
        if (rdm_grow(&p, &cap, m->n + 1, sizeof *m->rows))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        m->rows = p;
        size_t cap2 = m->cap;
        if (rdm_grow(&q, &cap2, cap, sizeof *m->win))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        m->win = q;
        m->cap = cap;
    }
    size_t wi = 0;
    int rc = find_window(m, window_of(m, row), &wi, err);
    if (rc != RDM_OK)
        return rc;
    window *w = &m->w[wi];
    if (!w->n || row->served < w->start)
        w->start = row->served;
    if (!w->n || row->served > w->end)
        w->end = row->served;
    w->n++;
    if (values)
        rdm_drift_counts_add(&w->dc, m->ref, values);
    w->dc.score[rdm_drift_score_bin(row->p)]++;
    m->rows[m->n] = *row;
    m->win[m->n++] = (uint32_t)wi;
    return RDM_OK;
}

int rdm_monitor_add_input(rdm_monitor *m, size_t row, const char *const *values, rdm_err *err)
{
    if (row >= m->n)
        return rdm_errf(err, RDM_EINVAL, "monitor: input of prediction %zu of %zu", row, m->n);
    rdm_drift_counts_add(&m->w[m->win[row]].dc, m->ref, values);
    return RDM_OK;
}

/* ---- per window and version ---- */

typedef struct group {
    size_t w; /* window index */
    int32_t version;
    size_t *idx; /* rows (borrowed slice of the sorted index) */
    size_t n;
    size_t labelled;
    double decision_rate, delay_mean, delay_median;
    rdm_estimate est;
    int est_ok;
    rdm_metrics real;
    double real_lo, real_hi;
    rdm_calib_bin calib[RDM_CALIB_BINS];
} group;

typedef struct finish_ctx {
    rdm_monitor *m;
    group *g;
} finish_ctx;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void compute_group(void *arg, size_t item, int tid)
{
    (void)tid;
    finish_ctx *ctx = arg;
    group *g = &ctx->g[item];
    const rdm_monitor *m = ctx->m;
    size_t n = g->n, nl = 0;
    double *p = malloc((n ? n : 1) * sizeof *p), *lp = malloc((n ? n : 1) * sizeof *lp);
    double *delay = malloc((n ? n : 1) * sizeof *delay);
    float *ly = malloc((n ? n : 1) * sizeof *ly);
    int64_t *pat = malloc((n ? n : 1) * sizeof *pat);
    g->real_lo = g->real_hi = NAN;
    g->delay_mean = g->delay_median = NAN;
    if (!p || !lp || !delay || !ly || !pat)
        goto done;
    double dec = 0, dsum = 0;
    for (size_t i = 0; i < n; i++) {
        const rdm_mon_row *r = &m->rows[g->idx[i]];
        p[i] = r->p;
        dec += r->decision;
        if (r->label >= 0) {
            lp[nl] = r->p;
            ly[nl] = (float)r->label;
            pat[nl] = r->patient;
            delay[nl] = isnan(r->observed) ? 0 : (r->observed - r->served) / 3600.0;
            dsum += delay[nl];
            nl++;
        }
    }
    g->labelled = nl;
    g->decision_rate = n ? dec / (double)n : NAN;
    rdm_err err = {0};
    g->est_ok = rdm_estimate_compute(p, n, 0.5, m->cfg->monitor.estimate_draws,
                                     (uint64_t)m->w[g->w].key * 31 + (uint64_t)g->version, &g->est,
                                     &err) == RDM_OK;
    if (nl) {
        rdm_metrics_compute(lp, ly, nl, 0.5, &g->real);
        rdm_calibration(lp, ly, nl, g->calib);
        if (m->cfg->monitor.bootstrap > 0 && !isnan(g->real.roc_auc))
            (void)rdm_auc_bootstrap_grouped(lp, ly, pat, nl, m->cfg->monitor.bootstrap,
                                            (uint64_t)m->w[g->w].key, &g->real_lo, &g->real_hi,
                                            &err);
        g->delay_mean = dsum / (double)nl;
        qsort(delay, nl, sizeof *delay, cmp_double);
        g->delay_median = rdm_percentile_sorted(delay, nl, 0.5);
    }
done:
    free(p);
    free(lp);
    free(delay);
    free(ly);
    free(pat);
}

/* ---- JSON ---- */

static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static void iso_time(double t, char out[32])
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *LEVELS[] = {"ok", "warn", "alert"};

json_t *rdm_monitor_drift_json(const rdm_drift_ref *ref, const rdm_drift_counts *c, double warn,
                               double alert)
{
    rdm_drift_result *res = calloc((size_t)ref->n + 1, sizeof *res);
    json_t *o = json_object(), *fields = json_array();
    if (!res || !o || !fields) {
        free(res);
        json_decref(o);
        json_decref(fields);
        return NULL;
    }
    rdm_drift_compute(ref, c, warn, alert, 1, res);
    double max = NAN;
    int level = 0;
    for (int i = 0; i < ref->n; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "field", json_string(ref->f[res[i].field].name));
        json_object_set_new(f, "psi", num(res[i].psi));
        json_object_set_new(f, "ref_missing", num(res[i].ref_missing));
        json_object_set_new(f, "live_missing", num(res[i].live_missing));
        json_object_set_new(f, "unseen", num(res[i].unseen));
        json_object_set_new(f, "level", json_string(LEVELS[res[i].level]));
        json_array_append_new(fields, f);
        if (!isnan(res[i].psi) && (isnan(max) || res[i].psi > max))
            max = res[i].psi;
        if (res[i].level > level)
            level = res[i].level;
    }
    json_object_set_new(o, "rows", json_integer((json_int_t)c->rows));
    json_object_set_new(o, "max_psi", num(max));
    json_object_set_new(o, "level", json_string(LEVELS[level]));
    json_object_set_new(o, "fields", fields);
    free(res);
    return o;
}

static json_t *estimate_json(const group *g)
{
    if (!g->est_ok)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "roc_auc", num(g->est.roc_auc));
    json_object_set_new(o, "roc_auc_lo", num(g->est.roc_auc_lo));
    json_object_set_new(o, "roc_auc_hi", num(g->est.roc_auc_hi));
    json_object_set_new(o, "positive_rate", num(g->est.positive_rate));
    json_object_set_new(o, "log_loss", num(g->est.log_loss));
    json_object_set_new(o, "brier", num(g->est.brier));
    return o;
}

static json_t *realized_json(const group *g)
{
    if (!g->labelled)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)g->labelled));
    json_object_set_new(o, "roc_auc", num(g->real.roc_auc));
    json_object_set_new(o, "roc_auc_lo", num(g->real_lo));
    json_object_set_new(o, "roc_auc_hi", num(g->real_hi));
    json_object_set_new(o, "pr_auc", num(g->real.pr_auc));
    json_object_set_new(o, "log_loss", num(g->real.log_loss));
    json_object_set_new(o, "brier", num(g->real.brier));
    json_object_set_new(o, "positive_rate", num(g->real.positive_rate));
    return o;
}

static json_t *calibration_json(const group *g)
{
    json_t *a = json_array();
    for (int b = 0; g->est_ok && b < RDM_CALIB_BINS; b++) {
        json_t *o = json_object();
        json_object_set_new(o, "lo", json_real(g->est.calib[b].lo));
        json_object_set_new(o, "hi", json_real(g->est.calib[b].hi));
        json_object_set_new(o, "n", json_integer((json_int_t)g->est.calib[b].count));
        json_object_set_new(o, "mean_pred", num(g->est.calib[b].mean_pred));
        json_object_set_new(o, "expected_lo", num(g->est.calib_lo[b]));
        json_object_set_new(o, "expected_hi", num(g->est.calib_hi[b]));
        json_object_set_new(o, "labelled",
                            json_integer(g->labelled ? (json_int_t)g->calib[b].count : 0));
        json_object_set_new(o, "observed", num(g->labelled ? g->calib[b].observed : NAN));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *group_json(const group *g)
{
    json_t *o = json_object(), *d = json_object();
    json_object_set_new(o, "version", g->version < 0 ? json_null() : json_integer(g->version));
    json_object_set_new(o, "predictions", json_integer((json_int_t)g->n));
    json_object_set_new(o, "labelled", json_integer((json_int_t)g->labelled));
    json_object_set_new(o, "coverage", num(g->n ? (double)g->labelled / (double)g->n : NAN));
    json_object_set_new(o, "decision_rate", num(g->decision_rate));
    json_object_set_new(d, "mean", num(g->delay_mean));
    json_object_set_new(d, "median", num(g->delay_median));
    json_object_set_new(o, "label_delay_hours", d);
    json_object_set_new(o, "estimated", estimate_json(g));
    json_object_set_new(o, "realized", realized_json(g));
    json_object_set_new(o, "calibration", calibration_json(g));
    return o;
}

/* Bin names of a reference field: value bins then "missing". */
static json_t *bin_labels(const rdm_drift_field *f)
{
    json_t *a = json_array();
    char b[96];
    for (int i = 0; i < f->nbins; i++) {
        if (f->categorical)
            snprintf(b, sizeof b, "%s", i < f->nbins - 1 ? f->levels[i] : "other");
        else
            snprintf(b, sizeof b, "[%g, %g%c", f->edges[i], f->edges[i + 1],
                     i == f->nbins - 1 ? ']' : ')');
        json_array_append_new(a, json_string(b));
    }
    json_array_append_new(a, json_string("missing"));
    return a;
}

static json_t *shares(const double *w, int k)
{
    double t = 0;
    for (int i = 0; i < k; i++)
        t += w[i];
    json_t *a = json_array();
    for (int i = 0; i < k; i++)
        json_array_append_new(a, num(t > 0 ? w[i] / t : NAN));
    return a;
}

/* Training and live shares of the top `k` drifting fields of a window. */
static json_t *distributions(const rdm_monitor *m, const window *w, const json_t *drift, int k)
{
    json_t *a = json_array();
    const json_t *fields = json_object_get(drift, "fields");
    for (size_t i = 0; i < json_array_size(fields) && (int)i < k; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(fields, i), "field"));
        for (int f = 0; name && f < m->ref->n; f++) {
            const rdm_drift_field *rf = &m->ref->f[f];
            if (strcmp(rf->name, name))
                continue;
            double *live = malloc(((size_t)rf->nbins + 1) * sizeof *live);
            if (!live)
                break;
            for (int b = 0; b <= rf->nbins; b++)
                live[b] = (double)w->dc.bins[f][b];
            json_t *o = json_object();
            json_object_set_new(o, "field", json_string(name));
            json_object_set_new(o, "bins", bin_labels(rf));
            json_object_set_new(o, "training", shares(rf->ref, rf->nbins + 1));
            json_object_set_new(o, "live", shares(live, rf->nbins + 1));
            json_array_append_new(a, o);
            free(live);
        }
    }
    return a;
}

static int cmp_window(const void *a, const void *b, void *ctx)
{
    const window *w = ctx;
    int64_t x = w[*(const size_t *)a].key, y = w[*(const size_t *)b].key;
    return (x > y) - (x < y);
}

/* Insertion sort of window indices by key (windows are few). */
static void sort_windows(size_t *order, size_t n, const window *w)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp_window(&order[j - 1], &order[j], (void *)w) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
}

/* Rows grouped by window then version, as groups over one index array. */
typedef struct vrow {
    int32_t version;
    size_t i; /* the row's place in the log */
} vrow;

static int cmp_vrow(const void *pa, const void *pb)
{
    const vrow *a = pa, *b = pb;
    if (a->version != b->version)
        return a->version < b->version ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static int build_groups(rdm_monitor *m, size_t **idx_out, group **g_out, size_t *ng, rdm_err *err)
{
    size_t *start = calloc(m->nw + 1, sizeof *start), *idx = malloc((m->n + 1) * sizeof *idx);
    if (!start || !idx) {
        free(start);
        free(idx);
        return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    }
    for (size_t i = 0; i < m->n; i++)
        start[m->win[i] + 1]++;
    for (size_t w = 0; w < m->nw; w++)
        start[w + 1] += start[w];
    size_t *fill = malloc((m->nw + 1) * sizeof *fill);
    if (!fill) {
        free(start);
        free(idx);
        return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    }
    memcpy(fill, start, (m->nw + 1) * sizeof *fill);
    for (size_t i = 0; i < m->n; i++)
        idx[fill[m->win[i]]++] = i;
    free(fill);
    /* within a window: by version, in log order within a version (a sort on
     * the pair, as versions alternate row by row while a promotion is rolled
     * back and forth; an insertion sort was quadratic there) */
    vrow *vr = malloc((m->n + 1) * sizeof *vr);
    if (!vr) {
        free(start);
        free(idx);
        return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    }
    size_t cap = 0, n = 0;
    group *g = NULL;
    for (size_t w = 0; w < m->nw; w++) {
        size_t a = start[w], b = start[w + 1], inv = 0;
        for (size_t i = a + 1; i < b && !inv; i++)
            inv = m->rows[idx[i - 1]].version > m->rows[idx[i]].version;
        if (inv) {
            for (size_t i = a; i < b; i++)
                vr[i - a] = (vrow){m->rows[idx[i]].version, idx[i]};
            qsort(vr, b - a, sizeof *vr, cmp_vrow);
            for (size_t i = a; i < b; i++)
                idx[i] = vr[i - a].i;
        }
        for (size_t i = a; i < b;) {
            size_t j = i;
            while (j < b && m->rows[idx[j]].version == m->rows[idx[i]].version)
                j++;
            if (n == cap) {
                void *p = g;
                if (rdm_grow(&p, &cap, n + 1, sizeof *g)) {
                    free(g);
                    free(vr);
                    free(start);
                    free(idx);
                    return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
                }
                g = p;
            }
            memset(&g[n], 0, sizeof g[n]);
            g[n].w = w;
            g[n].version = m->rows[idx[i]].version;
            g[n].idx = idx + i;
            g[n].n = j - i;
            n++;
            i = j;
        }
    }
    free(vr);
    free(start);
    *idx_out = idx;
    *g_out = g;
    *ng = n;
    return RDM_OK;
}

json_t *rdm_monitor_finish(rdm_monitor *m, rdm_err *err)
{
    json_t *doc = json_object(); // first jansson call on this thread seeds its hash
    size_t *idx = NULL, ng = 0;
    group *g = NULL;
    size_t *order = malloc((m->nw + 1) * sizeof *order);
    if (!doc || !order || build_groups(m, &idx, &g, &ng, err) != RDM_OK) {
        json_decref(doc);
        free(order);
        if (!err || !err->code)
            rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        return NULL;
    }
    rdm_pool *pool = rdm_pool_create(0, NULL);
    finish_ctx ctx = {m, g};
    rdm_pool_for(pool, ng, compute_group, &ctx);
    rdm_pool_free(pool);
    for (size_t i = 0; i < m->nw; i++)
        order[i] = i;
    sort_windows(order, m->nw, m->w);
    double warn = m->cfg->monitor.psi_warn, alert = m->cfg->monitor.psi_alert;
    json_t *wins = json_array();
    size_t labelled = 0;
    long latest = -1;
    json_t *latest_drift = NULL;
    for (size_t k = 0; k < m->nw; k++) {
        const window *w = &m->w[order[k]];
        json_t *o = json_object(), *vers = json_array();
        char a[32], b[32];
        iso_time(w->start, a);
        iso_time(w->end, b);
        size_t wl = 0;
        for (size_t i = 0; i < ng; i++)
            if (g[i].w == order[k]) {
                json_array_append_new(vers, group_json(&g[i]));
                wl += g[i].labelled;
            }
        labelled += wl;
        json_t *drift = rdm_monitor_drift_json(m->ref, &w->dc, warn, alert);
        json_object_set_new(o, "index", json_integer((json_int_t)k));
        json_object_set_new(o, "key", json_integer(w->key));
        json_object_set_new(o, "start", json_string(a));
        json_object_set_new(o, "end", json_string(b));
        json_object_set_new(o, "predictions", json_integer((json_int_t)w->n));
        json_object_set_new(o, "labelled", json_integer((json_int_t)wl));
        json_object_set_new(o, "coverage", num(w->n ? (double)wl / (double)w->n : NAN));
        json_object_set_new(o, "complete", json_boolean(w->n >= (size_t)m->cfg->monitor.min_rows));
        json_object_set_new(o, "score_psi", num(rdm_drift_score_psi(m->ref, &w->dc)));
        json_object_set_new(o, "versions", vers);
        json_object_set_new(o, "drift", drift ? drift : json_null());
        json_array_append_new(wins, o);
        // the latest window that is complete, else the last one
        if (w->n >= (size_t)m->cfg->monitor.min_rows || k == m->nw - 1) {
            if (latest < 0 || w->n >= (size_t)m->cfg->monitor.min_rows ||
                m->w[order[latest]].n < (size_t)m->cfg->monitor.min_rows) {
                latest = (long)k;
                latest_drift = drift;
            }
        }
    }
    json_object_set_new(doc, "predictions", json_integer((json_int_t)m->n));
    json_object_set_new(doc, "labelled", json_integer((json_int_t)labelled));
    json_object_set_new(doc, "coverage", num(m->n ? (double)labelled / (double)m->n : NAN));
    json_t *lat = json_object();
    json_object_set_new(lat, "window", latest < 0 ? json_null() : json_integer(latest));
    if (latest >= 0 && latest_drift) {
        json_object_set(lat, "drift", latest_drift);
        json_object_set_new(lat, "distributions",
                            distributions(m, &m->w[order[latest]], latest_drift, 3));
    }
    json_object_set_new(doc, "latest", lat);
    json_object_set_new(doc, "windows", wins);
    free(order);
    free(idx);
    free(g);
    return doc;
}

/* ---- retrain trigger ---- */

int rdm_monitor_retrain(const rdm_config *cfg, const json_t *doc, char *reason, size_t reason_n,
                        char *key, size_t key_n)
{
    int when = cfg->monitor.retrain_when; /* 0 never, 1 drift, 2 auc, 3 both */
    const json_t *wins = json_object_get(doc, "windows");
    json_int_t latest =
        json_integer_value(json_object_get(json_object_get(doc, "latest"), "window"));
    const json_t *w = json_is_integer(json_object_get(json_object_get(doc, "latest"), "window"))
                          ? json_array_get(wins, (size_t)latest)
                          : NULL;
    if (!when || !w || !json_is_true(json_object_get(w, "complete")))
        return 0;
    json_int_t wkey = json_integer_value(json_object_get(w, "key"));
    if (when & 1) {
        const json_t *f = json_array_get(json_object_get(json_object_get(w, "drift"), "fields"), 0);
        double psi = json_number_value(json_object_get(f, "psi"));
        if (f && json_is_number(json_object_get(f, "psi")) && psi >= cfg->monitor.psi_alert) {
            snprintf(reason, reason_n,
                     "drift: field %s has PSI %.3f >= monitor.psi_alert %.3g in window %lld "
                     "(%lld predictions)",
                     json_string_value(json_object_get(f, "field")), psi, cfg->monitor.psi_alert,
                     (long long)wkey,
                     (long long)json_integer_value(json_object_get(w, "predictions")));
            snprintf(key, key_n, "drift:w%lld", (long long)wkey);
            return 1;
        }
    }
    if (when & 2) {
        const json_t *vers = json_object_get(w, "versions");
        for (size_t i = 0; i < json_array_size(vers); i++) {
            const json_t *v = json_array_get(vers, i);
            const json_t *r = json_object_get(v, "realized");
            json_int_t n = json_integer_value(json_object_get(r, "n"));
            double auc = json_number_value(json_object_get(r, "roc_auc"));
            if (json_is_object(r) && n >= cfg->monitor.min_labels &&
                json_is_number(json_object_get(r, "roc_auc")) && auc < cfg->monitor.auc_floor) {
                json_int_t ver = json_integer_value(json_object_get(v, "version"));
                snprintf(reason, reason_n,
                         "auc: version %lld realized ROC AUC %.4f < monitor.auc_floor %.4g on %lld "
                         "labelled predictions in window %lld",
                         (long long)ver, auc, cfg->monitor.auc_floor, (long long)n,
                         (long long)wkey);
                snprintf(key, key_n, "auc:v%lld:w%lld", (long long)ver, (long long)wkey);
                return 1;
            }
        }
    }
    return 0;
}
