/* monitor_groups.c - live performance by patient group over subgroup.c. */
#include "monitor_groups.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "subgroup.h"

#define MAX_LEVELS 64 /* distinct values kept per attribute; the rest are "other" */

static const char *const ATTR_NAMES[RDM_MONGROUP_NATTR] = {"race", "gender", "age"};

typedef struct row {
    int64_t id;
    int32_t version;
    int64_t patient;
    double p, threshold;
    float y;
    unsigned char level[RDM_MONGROUP_NATTR];
} row;

struct rdm_mongroups {
    int resamples;
    int threads; /* 0: every core */
    row *rows;
    size_t n, cap;
    char *levels[RDM_MONGROUP_NATTR][MAX_LEVELS + 2]; /* + "(missing)" and "other" */
    int nlevels[RDM_MONGROUP_NATTR];
    int last[RDM_MONGROUP_NATTR]; /* level found last (rows of a batch are often alike) */
};

rdm_mongroups *rdm_mongroups_create(int resamples, rdm_err *err)
{
    rdm_mongroups *g = calloc(1, sizeof *g);
    if (!g)
        rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    else
        g->resamples = resamples;
    return g;
}

void rdm_mongroups_threads(rdm_mongroups *g, int threads)
{
    g->threads = threads;
}

void rdm_mongroups_free(rdm_mongroups *g)
{
    if (!g)
        return;
    for (int a = 0; a < RDM_MONGROUP_NATTR; a++)
        for (int l = 0; l < g->nlevels[a]; l++)
            free(g->levels[a][l]);
    free(g->rows);
    free(g);
}

/* The level index of value v of attribute a, added when new. */
static int level_of(rdm_mongroups *g, int a, const char *v)
{
    const char *name = v && *v && strcmp(v, "?") ? v : "(missing)";
    // the names below MAX_LEVELS are unique: the last one found, when it
    // matches, is the one the search would find
    int k = g->last[a];
    if (k < g->nlevels[a] && k < MAX_LEVELS && !strcmp(g->levels[a][k], name))
        return k;
    for (int l = 0; l < g->nlevels[a]; l++)
        if (!strcmp(g->levels[a][l], name))
            return g->last[a] = l;
    if (g->nlevels[a] >= MAX_LEVELS)
        name = "other";
    for (int l = MAX_LEVELS; l < g->nlevels[a]; l++)
        if (!strcmp(g->levels[a][l], name))
            return l;
    char *copy = strdup(name);
    if (!copy)
        return -1;
    g->levels[a][g->nlevels[a]] = copy;
    return g->nlevels[a]++;
}

int rdm_mongroups_add(rdm_mongroups *g, const rdm_mongroup_row *r, rdm_err *err)
{
    if (g->n == g->cap) {
        void *p = g->rows;
        if (rdm_grow(&p, &g->cap, g->n + 1, sizeof *g->rows))
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        g->rows = p;
    }
    row *o = &g->rows[g->n];
    o->id = r->id;
    o->version = r->version;
    o->patient = r->patient;
    o->p = r->p;
    o->threshold = r->threshold;
    o->y = r->label ? 1.0f : 0.0f;
    for (int a = 0; a < RDM_MONGROUP_NATTR; a++) {
        int l = level_of(g, a, r->attr[a]);
        if (l < 0)
            return rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        o->level[a] = (unsigned char)l;
    }
    g->n++;
    return RDM_OK;
}

static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *group_json(const rdm_subgroup *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)s->n));
    json_object_set_new(o, "patients", json_integer((json_int_t)s->patients));
    json_object_set_new(o, "positives", json_integer((json_int_t)s->positives));
    json_object_set_new(o, "roc_auc", num(s->auc));
    json_object_set_new(o, "roc_auc_lo", num(s->auc_lo));
    json_object_set_new(o, "roc_auc_hi", num(s->auc_hi));
    json_object_set_new(o, "mean_p", num(s->mean_p));
    json_object_set_new(o, "observed", num(s->observed));
    json_object_set_new(o, "positive_rate", num(s->positive_rate));
    json_object_set_new(o, "tpr", num(s->tpr));
    json_object_set_new(o, "fpr", num(s->fpr));
    json_object_set_new(o, "below", json_boolean(s->below));
    return o;
}

/* Levels of attribute a in the order shown: age bands by name (their natural
 * order), the others largest first (by name when as large); "(missing)" and
 * "other" last. */
static void level_order(const rdm_mongroups *g, int a, const size_t *cnt, int *ord)
{
    int n = g->nlevels[a];
    for (int i = 0; i < n; i++)
        ord[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            const char *x = g->levels[a][ord[j - 1]], *y = g->levels[a][ord[j]];
            int sx = *x == '(' || !strcmp(x, "other"), sy = *y == '(' || !strcmp(y, "other");
            size_t cx = cnt[ord[j - 1]], cy = cnt[ord[j]];
            int after = sx != sy                            ? sx > sy
                        : a == RDM_MONGROUP_AGE || cx == cy ? strcmp(x, y) > 0
                                                            : cx < cy;
            if (!after)
                break;
            int t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
}

/* One group of a version to measure: the whole (attr < 0) or one level. */
typedef struct task {
    int attr, level;
    rdm_subgroup s;
    int rc;
    rdm_err err;
} task;

typedef struct version_ctx {
    const rdm_subgroup_base *base;
    unsigned char *level[RDM_MONGROUP_NATTR]; /* level of each row per attribute */
    double threshold;
    int B;
    task *t;
} version_ctx;

/* Measures one group (every group of a version draws from the same seeded
 * stream, as when they were measured one after another); a failed interval
 * (too few patients) leaves it NaN. `below` is set once the whole is known. */
static void measure_task(void *arg, size_t item, int tid)
{
    (void)tid;
    version_ctx *c = arg;
    task *t = &c->t[item];
    int rc = rdm_subgroup_measure_in(c->base, t->attr < 0 ? NULL : c->level[t->attr],
                                     (unsigned char)(t->attr < 0 ? 0 : t->level), c->threshold, NAN,
                                     c->B > 0 ? c->B : 1, 1, &t->s, &t->err);
    t->rc = rc == RDM_ENOMEM ? rc : RDM_OK;
    if (rc != RDM_OK || c->B <= 0)
        t->s.auc_lo = t->s.auc_hi = NAN;
}

/* The object of one version: rows sel[0..m), its groups measured on `pool`. */
static int version_json(const rdm_mongroups *g, rdm_pool *pool, const size_t *sel, size_t m,
                        json_t *out, rdm_err *err)
{
    double *p = malloc(m * sizeof *p);
    float *y = malloc(m * sizeof *y);
    int64_t *pat = malloc(m * sizeof *pat);
    task *t = calloc(1 + RDM_MONGROUP_NATTR * (MAX_LEVELS + 2), sizeof *t);
    version_ctx c = {.threshold = g->rows[sel[0]].threshold, .B = g->resamples, .t = t};
    int rc = p && y && pat && t ? RDM_OK : RDM_ENOMEM;
    for (int a = 0; a < RDM_MONGROUP_NATTR; a++)
        if (!(c.level[a] = malloc(m)))
            rc = RDM_ENOMEM;
    if (rc != RDM_OK)
        rdm_errf(err, rc, "monitor: out of memory");
    for (size_t i = 0; rc == RDM_OK && i < m; i++) {
        const row *r = &g->rows[sel[i]];
        p[i] = r->p;
        y[i] = r->y;
        pat[i] = r->patient;
        for (int a = 0; a < RDM_MONGROUP_NATTR; a++)
            c.level[a][i] = r->level[a];
    }
    rdm_subgroup_base base = {0};
    if (rc == RDM_OK)
        rc = rdm_subgroup_base_init(&base, p, y, pat, m, err);
    c.base = &base;
    /* the whole, then every level present in the order shown */
    size_t nt = 0;
    if (rc == RDM_OK)
        t[nt++] = (task){.attr = -1};
    for (int a = 0; rc == RDM_OK && a < RDM_MONGROUP_NATTR; a++) {
        int ord[MAX_LEVELS + 2];
        size_t cnt[MAX_LEVELS + 2] = {0};
        for (size_t i = 0; i < m; i++)
            cnt[c.level[a][i]]++;
        level_order(g, a, cnt, ord);
        for (int k = 0; k < g->nlevels[a]; k++)
            if (cnt[ord[k]])
                t[nt++] = (task){.attr = a, .level = ord[k]};
    }
    if (rc == RDM_OK)
        rdm_pool_for(pool, nt, measure_task, &c);
    for (size_t k = 0; rc == RDM_OK && k < nt; k++)
        if (t[k].rc != RDM_OK)
            rc = rdm_errf(err, t[k].rc, "%s", t[k].err.msg);
    json_t *groups = json_array();
    for (size_t k = 1; rc == RDM_OK && k < nt; k++) {
        t[k].s.below = t[k].s.auc_hi < t[0].s.auc; /* false when either is NaN */
        json_t *o = group_json(&t[k].s);
        json_object_set_new(o, "attribute", json_string(ATTR_NAMES[t[k].attr]));
        json_object_set_new(o, "level", json_string(g->levels[t[k].attr][t[k].level]));
        json_array_append_new(groups, o);
    }
    if (rc == RDM_OK) {
        json_object_set_new(out, "version",
                            g->rows[sel[0]].version < 0 ? json_null()
                                                        : json_integer(g->rows[sel[0]].version));
        json_object_set_new(out, "threshold", num(c.threshold));
        json_object_set_new(out, "labelled", json_integer((json_int_t)m));
        json_object_set_new(out, "overall", group_json(&t[0].s));
        json_object_set_new(out, "groups", groups);
    } else {
        json_decref(groups);
    }
    rdm_subgroup_base_release(&base);
    free(p);
    free(y);
    free(pat);
    free(t);
    for (int a = 0; a < RDM_MONGROUP_NATTR; a++)
        free(c.level[a]);
    return rc;
}

/* Rows by version, then by prediction: the sums and the first row's
 * threshold do not depend on the order the database sent them in. */
typedef struct order {
    int32_t version;
    int64_t id;
    size_t i;
} order;

static int cmp_order(const void *a, const void *b)
{
    const order *x = a, *y = b;
    if (x->version != y->version)
        return (x->version > y->version) - (x->version < y->version);
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->i > y->i) - (x->i < y->i);
}

json_t *rdm_mongroups_finish(rdm_mongroups *g, rdm_err *err)
{
    json_t *doc = json_object(), *vers = json_array();
    order *ord = malloc((g->n + 1) * sizeof *ord);
    size_t *idx = malloc((g->n + 1) * sizeof *idx);
    if (!doc || !vers || !ord || !idx) {
        free(ord);
        json_decref(doc);
        json_decref(vers);
        free(idx);
        rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < g->n; i++)
        ord[i] = (order){g->rows[i].version, g->rows[i].id, i};
    int sorted = 1; /* a serial scan of the log sends them in order */
    for (size_t i = 1; i < g->n && sorted; i++)
        sorted = cmp_order(&ord[i - 1], &ord[i]) < 0;
    if (!sorted)
        qsort(ord, g->n, sizeof *ord, cmp_order);
    for (size_t i = 0; i < g->n; i++)
        idx[i] = ord[i].i;
    free(ord);
    /* the groups of a version are measured in parallel, each on its own
     * copy of the seeded stream: the same results for any number of threads */
    rdm_pool *pool = rdm_pool_create(g->threads, NULL);
    int rc = RDM_OK;
    for (size_t i = 0; rc == RDM_OK && i < g->n;) {
        size_t j = i;
        while (j < g->n && g->rows[idx[j]].version == g->rows[idx[i]].version)
            j++;
        json_t *v = json_object();
        rc = version_json(g, pool, idx + i, j - i, v, err);
        json_array_append_new(vers, v);
        i = j;
    }
    rdm_pool_free(pool);
    free(idx);
    json_object_set_new(doc, "resamples", json_integer(g->resamples));
    json_object_set_new(doc, "versions", vers);
    if (rc != RDM_OK) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *rdm_mongroups_measure_all(const rdm_mongroups *g, rdm_pool *pool, rdm_err *err)
{
    if (!g->n) {
        rdm_errf(err, RDM_EINVAL, "groups: no row to measure");
        return NULL;
    }
    json_t *doc = json_object();
    size_t *idx = malloc(g->n * sizeof *idx);
    int rc = doc && idx ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "groups: out of memory");
    for (size_t i = 0; rc == RDM_OK && i < g->n; i++)
        idx[i] = i;
    if (rc == RDM_OK)
        rc = version_json(g, pool, idx, g->n, doc, err);
    free(idx);
    if (rc != RDM_OK) {
        json_decref(doc);
        return NULL;
    }
    json_object_del(doc, "version");
    json_object_set_new(doc, "resamples", json_integer(g->resamples));
    return doc;
}
