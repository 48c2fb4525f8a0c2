/* drift.c - PSI, missing-rate change and unseen categories of live inputs
 * against a reference built from a training-snapshot profile. */
#include "drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One bin's term of the PSI sum, from its two shares. */
static double psi_term(double e, double a)
{
    if (e < RDM_PSI_FLOOR)
        e = RDM_PSI_FLOOR;
    if (a < RDM_PSI_FLOOR)
        a = RDM_PSI_FLOOR;
    return (a - e) * log(a / e);
}

double rdm_psi(const double *expected, const double *actual, int k)
{
    double te = 0, ta = 0;
    for (int i = 0; i < k; i++) {
        te += expected[i];
        ta += actual[i];
    }
    if (!(te > 0) || !(ta > 0))
        return NAN;
    double psi = 0;
    for (int i = 0; i < k; i++)
        psi += psi_term(expected[i] / te, actual[i] / ta);
    return psi;
}

int rdm_drift_level(double psi, double warn, double alert)
{
    if (isnan(psi))
        return 0;
    return psi >= alert ? 2 : psi >= warn ? 1 : 0;
}

static void field_release(rdm_drift_field *f)
{
    free(f->edges);
    free(f->ref);
    for (int i = 0; f->levels && i < f->nbins - 1; i++)
        free(f->levels[i]);
    free(f->levels);
    for (int i = 0; f->known && f->known[i]; i++)
        free(f->known[i]);
    free(f->known);
}

void rdm_drift_ref_release(rdm_drift_ref *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++)
        field_release(&r->f[i]);
    free(r->f);
    memset(r, 0, sizeof *r);
}

/* Copy of a JSON array of strings as a NULL-terminated list (NULL on failure). */
static char **string_list(const json_t *arr)
{
    size_t n = json_array_size(arr);
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        out[i] = strdup(s ? s : "");
        if (!out[i]) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static const json_t *schema_field(const json_t *input_schema, const char *name)
{
    const json_t *fields = json_object_get(input_schema, "fields");
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const json_t *f = json_array_get(fields, i);
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && !strcmp(n, name))
            return f;
    }
    return NULL;
}

static int numeric_field(rdm_drift_field *f, const json_t *col, double missing, rdm_err *err)
{
    const json_t *h = json_object_get(col, "histogram");
    const json_t *edges = json_object_get(h, "edges"), *counts = json_object_get(h, "counts");
    size_t k = json_array_size(counts);
    if (k < 1 || json_array_size(edges) != k + 1)
        return rdm_errf(err, RDM_EPARSE, "profile: column '%s': histogram edges and counts",
                        f->name);
    f->nbins = (int)k;
    f->edges = malloc((k + 1) * sizeof *f->edges);
    f->ref = malloc((k + 1) * sizeof *f->ref);
    if (!f->edges || !f->ref)
        return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
    for (size_t i = 0; i <= k; i++)
        f->edges[i] = json_number_value(json_array_get(edges, i));
    for (size_t i = 0; i < k; i++)
        f->ref[i] = json_number_value(json_array_get(counts, i));
    f->ref[k] = missing;
    return RDM_OK;
}

static int categorical_field(rdm_drift_field *f, const json_t *col, double rows, double missing,
                             const json_t *sf, rdm_err *err)
{
    const json_t *top = json_object_get(col, "top");
    size_t k = json_array_size(top);
    f->nbins = (int)k + 1;
    f->levels = calloc(k + 1, sizeof *f->levels);
    f->ref = calloc(k + 2, sizeof *f->ref);
    if (!f->levels || !f->ref)
        return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
    double listed = 0;
    for (size_t i = 0; i < k; i++) {
        const json_t *t = json_array_get(top, i);
        const char *v = json_string_value(json_object_get(t, "value"));
        if (!v)
            return rdm_errf(err, RDM_EPARSE, "profile: column '%s': top value %zu is not text",
                            f->name, i);
        f->levels[i] = strdup(v);
        if (!f->levels[i])
            return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
        f->ref[i] = json_number_value(json_object_get(t, "count"));
        listed += f->ref[i];
    }
    double other = rows - missing - listed;
    f->ref[k] = other > 0 ? other : 0;
    f->ref[k + 1] = missing;
    const json_t *lv = sf ? json_object_get(sf, "levels") : NULL;
    if (json_is_array(lv)) {
        if (!(f->known = string_list(lv)))
            return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
    } else if (json_integer_value(json_object_get(col, "distinct")) == (json_int_t)k) {
        // the profile lists every value seen in training
        if (!(f->known = calloc(k + 1, sizeof *f->known)))
            return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
        for (size_t i = 0; i < k; i++)
            if (!(f->known[i] = strdup(f->levels[i])))
                return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
    }
    return RDM_OK;
}

int rdm_drift_ref_from_profile(const json_t *profile, const json_t *input_schema,
                               rdm_drift_ref *out, rdm_err *err)
{
    memset(out, 0, sizeof *out);
    const json_t *cols = json_object_get(profile, "columns");
    double rows = json_number_value(json_object_get(profile, "rows"));
    if (!json_is_array(cols) || !(rows > 0))
        return rdm_errf(err, RDM_EPARSE, "profile: no columns or no rows");
    out->f = calloc(json_array_size(cols), sizeof *out->f);
    if (!out->f)
        return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
    const rdm_column *schema = rdm_schema_columns();
    for (size_t i = 0; i < json_array_size(cols); i++) {
        const json_t *col = json_array_get(cols, i);
        const char *name = json_string_value(json_object_get(col, "name"));
        int c = name ? rdm_schema_find(name) : -1;
        if (c < 0 || schema[c].kind == RDM_COL_ID || schema[c].kind == RDM_COL_TARGET)
            continue;
        rdm_drift_field *f = &out->f[out->n++];
        snprintf(f->name, sizeof f->name, "%s", name);
        f->col = c;
        double missing = json_number_value(json_object_get(col, "missing"));
        const char *kind = json_string_value(json_object_get(col, "kind"));
        int rc;
        if (kind && !strcmp(kind, "numeric")) {
            rc = numeric_field(f, col, missing, err);
        } else {
            f->categorical = 1;
            rc = categorical_field(f, col, rows, missing,
                                   input_schema ? schema_field(input_schema, name) : NULL, err);
        }
        if (rc != RDM_OK) {
            rdm_drift_ref_release(out);
            return rc;
        }
    }
    return RDM_OK;
}

static int is_known(const rdm_drift_field *f, const char *v)
{
    for (int i = 0; f->known[i]; i++)
        if (!strcmp(f->known[i], v))
            return 1;
    return 0;
}

int rdm_drift_bin(const rdm_drift_field *f, const char *v, int *unseen)
{
    if (unseen)
        *unseen = 0;
    if (rdm_value_is_missing(v))
        return f->nbins;
    if (!f->categorical) {
        char *end;
        double x = strtod(v, &end);
        if (end == v)
            return f->nbins; /* not a number: served inputs are validated, so not expected */
        int lo = 0, hi = f->nbins - 1; /* largest i with edges[i] <= x, clipped */
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (f->edges[mid] <= x)
                lo = mid;
            else
                hi = mid - 1;
        }
        return lo;
    }
    char norm[RDM_ERR_MSG];
    rdm_value_normalize(v, norm, sizeof norm);
    if (unseen && f->known)
        *unseen = !is_known(f, norm);
    for (int i = 0; i < f->nbins - 1; i++)
        if (!strcmp(f->levels[i], norm))
            return i;
    return f->nbins - 1;
}

int rdm_drift_score_bin(double p)
{
    int b = (int)(p * 10);
    return b < 0 ? 0 : b > 9 ? 9 : b;
}

int rdm_drift_counts_init(rdm_drift_counts *c, const rdm_drift_ref *r, rdm_err *err)
{
    memset(c, 0, sizeof *c);
    c->bins = calloc((size_t)r->n + 1, sizeof *c->bins);
    c->unseen = calloc((size_t)r->n + 1, sizeof *c->unseen);
    if (!c->bins || !c->unseen)
        goto oom;
    c->nfields = r->n;
    for (int i = 0; i < r->n; i++) {
        c->bins[i] = calloc((size_t)r->f[i].nbins + 1, sizeof **c->bins);
        if (!c->bins[i])
            goto oom;
    }
    return RDM_OK;
oom:
    rdm_drift_counts_release(c);
    return rdm_errf(err, RDM_ENOMEM, "drift: out of memory");
}

void rdm_drift_counts_release(rdm_drift_counts *c)
{
    for (int i = 0; c->bins && i < c->nfields; i++)
        free(c->bins[i]);
    free(c->bins);
    free(c->unseen);
    memset(c, 0, sizeof *c);
}

void rdm_drift_counts_add(rdm_drift_counts *c, const rdm_drift_ref *r,
                          const char *const values[RDM_NCOLS])
{
    for (int i = 0; i < r->n; i++) {
        int unseen;
        c->bins[i][rdm_drift_bin(&r->f[i], values[r->f[i].col], &unseen)]++;
        c->unseen[i] += (uint64_t)unseen;
    }
    c->rows++;
}

void rdm_drift_counts_merge(rdm_drift_counts *dst, const rdm_drift_counts *src,
                            const rdm_drift_ref *r)
{
    for (int i = 0; i < r->n; i++) {
        for (int b = 0; b <= r->f[i].nbins; b++)
            dst->bins[i][b] += src->bins[i][b];
        dst->unseen[i] += src->unseen[i];
    }
    dst->rows += src->rows;
    for (int b = 0; b < 10; b++)
        dst->score[b] += src->score[b];
}

static int cmp_result(const void *a, const void *b)
{
    const rdm_drift_result *x = a, *y = b;
    int xn = isnan(x->psi), yn = isnan(y->psi);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->psi != y->psi)
        return x->psi < y->psi ? 1 : -1;
    return x->field - y->field;
}

void rdm_drift_compute(const rdm_drift_ref *r, const rdm_drift_counts *c, double warn, double alert,
                       int ranked, rdm_drift_result *out)
{
    for (int i = 0; i < r->n; i++) {
        const rdm_drift_field *f = &r->f[i];
        int k = f->nbins + 1;
        double tref = 0, tlive = 0, psi_sum = 0;
        for (int b = 0; b < k; b++) {
            tref += f->ref[b];
            tlive += (double)c->bins[i][b];
        }
        // rdm_psi on the counts, without a temporary copy of them as doubles
        for (int b = 0; b < k && tref > 0 && tlive > 0; b++)
            psi_sum += psi_term(f->ref[b] / tref, (double)c->bins[i][b] / tlive);
        double missing = (double)c->bins[i][f->nbins];
        double present = tlive - missing;
        rdm_drift_result *o = &out[i];
        o->field = i;
        o->psi = tref > 0 && tlive > 0 ? psi_sum : NAN;
        o->ref_missing = tref > 0 ? f->ref[f->nbins] / tref : NAN;
        o->live_missing = tlive > 0 ? missing / tlive : NAN;
        o->unseen = present > 0 ? (double)c->unseen[i] / present : 0;
        o->level = rdm_drift_level(o->psi, warn, alert);
    }
    if (ranked)
        qsort(out, (size_t)r->n, sizeof *out, cmp_result);
}

double rdm_drift_score_psi(const rdm_drift_ref *r, const rdm_drift_counts *c)
{
    if (!r->has_score_ref)
        return NAN;
    double live[10];
    for (int b = 0; b < 10; b++)
        live[b] = (double)c->score[b];
    return rdm_psi(r->score_ref, live, 10);
}
