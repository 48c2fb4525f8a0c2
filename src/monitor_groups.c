/* monitor_groups.c - live performance by patient group over subgroup.c. */
#include "monitor_groups.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "subgroup.h"

#define MAX_LEVELS 64 /* distinct values kept per attribute; the rest are "other" */

static const char *const ATTR_NAMES[RDM_MONGROUP_NATTR] = {"race", "gender", "age"};

typedef struct row {
    int32_t version;
    int64_t patient;
    double p, threshold;
    float y;
    unsigned char level[RDM_MONGROUP_NATTR];
} row;

struct rdm_mongroups {
    int resamples;
    row *rows;
    size_t n, cap;
    char *levels[RDM_MONGROUP_NATTR][MAX_LEVELS + 2]; /* + "(missing)" and "other" */
    int nlevels[RDM_MONGROUP_NATTR];
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
    for (int l = 0; l < g->nlevels[a]; l++)
        if (!strcmp(g->levels[a][l], name))
            return l;
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

/* Measures one group; a failed interval (too few patients) leaves it NaN. */
static int measure(const double *p, const float *y, const int64_t *pat, const unsigned char *member,
                   size_t n, double thr, double overall, int B, rdm_subgroup *s, rdm_err *err)
{
    rdm_err e = {0};
    int rc = rdm_subgroup_measure(p, y, pat, member, n, thr, overall, B > 0 ? B : 1, 1, s, &e);
    if (rc == RDM_ENOMEM)
        return rdm_errf(err, rc, "%s", e.msg);
    if (rc != RDM_OK || B <= 0)
        s->auc_lo = s->auc_hi = NAN, s->below = 0;
    return RDM_OK;
}

/* Levels of attribute a in the order shown: age bands by name (their natural
 * order), the others largest first; "(missing)" and "other" last. */
static void level_order(const rdm_mongroups *g, int a, const size_t *cnt, int *ord)
{
    int n = g->nlevels[a];
    for (int i = 0; i < n; i++)
        ord[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            const char *x = g->levels[a][ord[j - 1]], *y = g->levels[a][ord[j]];
            int sx = *x == '(' || !strcmp(x, "other"), sy = *y == '(' || !strcmp(y, "other");
            int after = sx != sy                ? sx > sy
                        : a == RDM_MONGROUP_AGE ? strcmp(x, y) > 0
                                                : cnt[ord[j - 1]] < cnt[ord[j]];
            if (!after)
                break;
            int t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
}

/* The object of one version: rows sel[0..m). */
static int version_json(const rdm_mongroups *g, const size_t *sel, size_t m, json_t *out,
                        rdm_err *err)
{
    double *p = malloc(m * sizeof *p);
    float *y = malloc(m * sizeof *y);
    int64_t *pat = malloc(m * sizeof *pat);
    unsigned char *member = malloc(m);
    int rc = p && y && pat && member ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "monitor: out of memory");
    for (size_t i = 0; rc == RDM_OK && i < m; i++) {
        p[i] = g->rows[sel[i]].p;
        y[i] = g->rows[sel[i]].y;
        pat[i] = g->rows[sel[i]].patient;
    }
    double thr = g->rows[sel[0]].threshold;
    rdm_subgroup all;
    if (rc == RDM_OK)
        rc = measure(p, y, pat, NULL, m, thr, NAN, g->resamples, &all, err);
    json_t *groups = json_array();
    for (int a = 0; rc == RDM_OK && a < RDM_MONGROUP_NATTR; a++) {
        int ord[MAX_LEVELS + 2];
        size_t cnt[MAX_LEVELS + 2] = {0};
        for (size_t i = 0; i < m; i++)
            cnt[g->rows[sel[i]].level[a]]++;
        level_order(g, a, cnt, ord);
        for (int k = 0; rc == RDM_OK && k < g->nlevels[a]; k++) {
            int l = ord[k];
            if (!cnt[l])
                continue;
            for (size_t i = 0; i < m; i++)
                member[i] = g->rows[sel[i]].level[a] == l;
            rdm_subgroup s;
            rc = measure(p, y, pat, member, m, thr, all.auc, g->resamples, &s, err);
            if (rc != RDM_OK)
                break;
            json_t *o = group_json(&s);
            json_object_set_new(o, "attribute", json_string(ATTR_NAMES[a]));
            json_object_set_new(o, "level", json_string(g->levels[a][l]));
            json_array_append_new(groups, o);
        }
    }
    if (rc == RDM_OK) {
        json_object_set_new(out, "version",
                            g->rows[sel[0]].version < 0 ? json_null()
                                                        : json_integer(g->rows[sel[0]].version));
        json_object_set_new(out, "threshold", num(thr));
        json_object_set_new(out, "labelled", json_integer((json_int_t)m));
        json_object_set_new(out, "overall", group_json(&all));
        json_object_set_new(out, "groups", groups);
    } else {
        json_decref(groups);
    }
    free(p);
    free(y);
    free(pat);
    free(member);
    return rc;
}

typedef struct order {
    int32_t version;
    size_t i;
} order;

static int cmp_order(const void *a, const void *b)
{
    const order *x = a, *y = b;
    if (x->version != y->version)
        return (x->version > y->version) - (x->version < y->version);
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
        ord[i] = (order){g->rows[i].version, i};
    qsort(ord, g->n, sizeof *ord, cmp_order);
    for (size_t i = 0; i < g->n; i++)
        idx[i] = ord[i].i;
    free(ord);
    int rc = RDM_OK;
    for (size_t i = 0; rc == RDM_OK && i < g->n;) {
        size_t j = i;
        while (j < g->n && g->rows[idx[j]].version == g->rows[idx[i]].version)
            j++;
        json_t *v = json_object();
        rc = version_json(g, idx + i, j - i, v, err);
        json_array_append_new(vers, v);
        i = j;
    }
    free(idx);
    json_object_set_new(doc, "resamples", json_integer(g->resamples));
    json_object_set_new(doc, "versions", vers);
    if (rc != RDM_OK) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
