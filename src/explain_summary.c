/* explain_summary.c - global importance (mean |contribution|) and dependence
 * data over a set of records, every record explained through rdm_explain. */
#include "explain_summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

enum { CHUNK = 256 }; /* records per pool item */

void rdm_explain_summary_params_default(rdm_explain_summary_params *p)
{
    p->top_fields = 4;
    p->max_points = 400;
    p->max_levels = 12;
}

typedef struct job {
    const rdm_explainer *x;
    const char *const *cells;
    const size_t *idx;
    size_t n;
    double *phi; /* n * RDM_NCOLS contributions, 0 for fields that are no input */
    int rc[RDM_POOL_MAX];
    size_t bad[RDM_POOL_MAX]; /* the record that failed */
    rdm_err err[RDM_POOL_MAX];
} job;

static void explain_chunk(void *arg, size_t item, int tid)
{
    job *j = arg;
    size_t a = item * CHUNK, b = a + CHUNK < j->n ? a + CHUNK : j->n;
    for (size_t r = a; r < b && !j->rc[tid]; r++) {
        rdm_explanation ex;
        const char *const *row = j->cells + j->idx[r] * RDM_NCOLS;
        int rc = rdm_explain(j->x, row, &ex, NULL, &j->err[tid]);
        if (rc) {
            j->rc[tid] = rc;
            j->bad[tid] = r;
            return;
        }
        double *o = j->phi + r * RDM_NCOLS;
        for (int k = 0; k < ex.n; k++)
            o[ex.c[k].col] = ex.c[k].contribution;
    }
}

/* A record's value of one field with its contribution and position. */
typedef struct item {
    const char *s; /* raw value (NULL = missing) */
    double x;      /* numeric value */
    double phi;
    size_t r;
} item;

static int cmp_num(const void *a, const void *b)
{
    const item *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->r > q->r) - (p->r < q->r);
}

static int cmp_str(const void *a, const void *b)
{
    const item *p = a, *q = b;
    if (p->s != q->s) {
        if (!p->s || !q->s)
            return p->s ? 1 : -1;
        int c = strcmp(p->s, q->s);
        if (c)
            return c;
    }
    return (p->r > q->r) - (p->r < q->r);
}

static int same_value(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

typedef struct level {
    const char *value;
    size_t count;
    double sum;
} level;

static int cmp_level(const void *a, const void *b)
{
    const level *p = a, *q = b;
    if (p->count != q->count)
        return p->count > q->count ? -1 : 1;
    return strcmp(p->value, q->value);
}

static int parse_num(const char *s, double *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static json_t *pair(double a, double b)
{
    json_t *p = json_array();
    json_array_append_new(p, json_real(a));
    json_array_append_new(p, json_real(b));
    return p;
}

/* Scatter points and means per distinct value of numeric field `col`. */
static void numeric_dependence(json_t *o, const job *j, int col,
                               const rdm_explain_summary_params *p, item *it)
{
    json_t *pts = json_array(), *means = json_array();
    json_object_set_new(o, "points", pts);
    json_object_set_new(o, "means", means);
    size_t m = 0, stride = (j->n + (size_t)p->max_points - 1) / (size_t)p->max_points;
    if (stride < 1)
        stride = 1;
    for (size_t r = 0; r < j->n; r++) {
        double x;
        if (!parse_num(j->cells[j->idx[r] * RDM_NCOLS + col], &x))
            continue;
        double phi = j->phi[r * RDM_NCOLS + col];
        if (r % stride == 0)
            json_array_append_new(pts, pair(x, phi));
        it[m++] = (item){NULL, x, phi, r};
    }
    qsort(it, m, sizeof *it, cmp_num);
    for (size_t a = 0; a < m;) {
        size_t b = a;
        double s = 0;
        for (; b < m && it[b].x == it[a].x; b++)
            s += it[b].phi;
        json_t *e = pair(it[a].x, s / (double)(b - a));
        json_array_append_new(e, json_integer((json_int_t)(b - a)));
        json_array_append_new(means, e);
        a = b;
    }
}

/* Mean contribution per level of field `col`, most frequent first. */
static int levels_dependence(json_t *o, const job *j, int col, const rdm_explain_summary_params *p,
                             item *it, rdm_err *err)
{
    for (size_t r = 0; r < j->n; r++)
        it[r] = (item){j->cells[j->idx[r] * RDM_NCOLS + col], 0, j->phi[r * RDM_NCOLS + col], r};
    qsort(it, j->n, sizeof *it, cmp_str);
    level *lv = malloc((j->n ? j->n : 1) * sizeof *lv);
    if (!lv)
        return rdm_errf(err, RDM_ENOMEM, "explain summary: out of memory");
    size_t nl = 0;
    for (size_t a = 0; a < j->n;) {
        size_t b = a;
        double s = 0;
        for (; b < j->n && same_value(it[a].s, it[b].s); b++)
            s += it[b].phi;
        lv[nl++] = (level){it[a].s ? it[a].s : "(missing)", b - a, s};
        a = b;
    }
    qsort(lv, nl, sizeof *lv, cmp_level);
    json_t *arr = json_array();
    json_object_set_new(o, "levels", arr);
    size_t keep = nl < (size_t)p->max_levels ? nl : (size_t)p->max_levels, rest = 0;
    double rest_sum = 0;
    for (size_t k = 0; k < nl; k++) {
        if (k >= keep) {
            rest += lv[k].count;
            rest_sum += lv[k].sum;
            continue;
        }
        json_t *e = json_object();
        json_object_set_new(e, "value", json_string(lv[k].value));
        json_object_set_new(e, "records", json_integer((json_int_t)lv[k].count));
        json_object_set_new(e, "mean", json_real(lv[k].sum / (double)lv[k].count));
        json_array_append_new(arr, e);
    }
    if (rest) {
        json_t *e = json_object();
        json_object_set_new(e, "value", json_string("(other levels)"));
        json_object_set_new(e, "records", json_integer((json_int_t)rest));
        json_object_set_new(e, "mean", json_real(rest_sum / (double)rest));
        json_array_append_new(arr, e);
    }
    free(lv);
    return RDM_OK;
}

typedef struct rank {
    int col;
    double mean_abs, mean;
} rank;

static int cmp_rank(const void *a, const void *b)
{
    const rank *p = a, *q = b;
    if (p->mean_abs != q->mean_abs)
        return p->mean_abs > q->mean_abs ? -1 : 1;
    return p->col - q->col;
}

json_t *rdm_explain_summary(const rdm_explainer *x, const char *const *cells, const size_t *idx,
                            size_t n, rdm_pool *pool, const rdm_explain_summary_params *p,
                            rdm_err *err)
{
    rdm_explain_summary_params def;
    if (!p) {
        rdm_explain_summary_params_default(&def);
        p = &def;
    }
    if (!x || (n && (!cells || !idx)) || p->max_points < 1 || p->max_levels < 1)
        return rdm_errf(err, RDM_EINVAL, "explain summary: bad arguments"), NULL;
    /* the model's input fields and base value, from any record */
    rdm_explanation ex;
    static const char *const none[RDM_NCOLS];
    if (rdm_explain(x, n ? cells + idx[0] * RDM_NCOLS : none, &ex, NULL, err))
        return NULL;
    job *j = calloc(1, sizeof *j);
    item *it = malloc((n ? n : 1) * sizeof *it);
    double *phi = calloc(n ? n * RDM_NCOLS : 1, sizeof *phi);
    json_t *out = NULL;
    if (!j || !it || !phi) {
        free(phi);
        rdm_errf(err, RDM_ENOMEM, "explain summary: out of memory");
        goto done;
    }
    *j = (job){.x = x, .cells = cells, .idx = idx, .n = n, .phi = phi};
    rdm_pool_for(pool, (n + CHUNK - 1) / CHUNK, explain_chunk, j);
    size_t bad = n;
    int tbad = -1;
    for (int t = 0; t < RDM_POOL_MAX; t++)
        if (j->rc[t] && j->bad[t] < bad) {
            bad = j->bad[t];
            tbad = t;
        }
    if (tbad >= 0) {
        rdm_errf(err, j->rc[tbad], "explain summary: record %zu: %s", bad + 1, j->err[tbad].msg);
        goto done;
    }
    rank rk[RDM_NCOLS];
    int nr = ex.n;
    for (int k = 0; k < nr; k++) {
        int col = ex.c[k].col;
        double sa = 0, s = 0;
        for (size_t r = 0; r < n; r++) {
            double v = j->phi[r * RDM_NCOLS + col];
            sa += fabs(v);
            s += v;
        }
        rk[k] = (rank){col, n ? sa / (double)n : 0, n ? s / (double)n : 0};
    }
    qsort(rk, (size_t)nr, sizeof *rk, cmp_rank);
    const rdm_column *sc = rdm_schema_columns();
    out = json_object();
    json_object_set_new(out, "rows", json_integer((json_int_t)n));
    json_object_set_new(out, "base_value", json_real(ex.base_value));
    json_t *fields = json_array(), *dep = json_array();
    json_object_set_new(out, "fields", fields);
    json_object_set_new(out, "dependence", dep);
    for (int k = 0; k < nr; k++) {
        json_t *e = json_object();
        json_object_set_new(e, "field", json_string(sc[rk[k].col].name));
        json_object_set_new(e, "mean_abs", json_real(rk[k].mean_abs));
        json_object_set_new(e, "mean", json_real(rk[k].mean));
        json_array_append_new(fields, e);
    }
    for (int k = 0; k < nr && k < p->top_fields && n; k++) {
        if (!(rk[k].mean_abs > 0))
            break;
        int col = rk[k].col, numeric = sc[col].kind == RDM_COL_INT;
        json_t *e = json_object();
        json_array_append_new(dep, e);
        json_object_set_new(e, "field", json_string(sc[col].name));
        json_object_set_new(e, "kind", json_string(numeric ? "numeric" : "levels"));
        if (numeric)
            numeric_dependence(e, j, col, p, it);
        else if (levels_dependence(e, j, col, p, it, err)) {
            json_decref(out);
            out = NULL;
            goto done;
        }
    }
done:
    if (j)
        free(j->phi);
    free(j);
    free(it);
    return out;
}
