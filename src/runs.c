/* runs.c - field lookup, filter, sort and diff over training runs (JSON). */
#include "runs.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- fields ---- */

const json_t *rdm_runs_get(const json_t *run, const char *key)
{
    if (!json_is_object(run) || !key || !*key)
        return NULL;
    if (!strcmp(key, "type"))
        key = "model_type";
    else if (!strcmp(key, "id"))
        key = "run_id";
    const char *dot = strchr(key, '.');
    if (!dot)
        return json_object_get(run, key);

    static const struct {
        const char *prefix, *field;
    } nested[] = {{"valid", "valid"}, {"test", "test"}, {"params", "params"}, {"param", "params"}};

    size_t n = (size_t)(dot - key);
    for (size_t i = 0; i < sizeof nested / sizeof nested[0]; i++)
        if (strlen(nested[i].prefix) == n && !strncmp(key, nested[i].prefix, n))
            return json_object_get(json_object_get(run, nested[i].field), dot + 1);
    return NULL;
}

/* A number from a JSON number or a string that is wholly a number. */
static int as_number(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    const char *s = json_string_value(v);
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end || end == s || isspace((unsigned char)s[0]))
        return 0;
    *out = d;
    return 1;
}

/* ---- filter ---- */

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_HAS } cmp_op;

typedef struct cond {
    char key[128];
    cmp_op op;
    char value[256];
    int numeric; /* value is a number */
    double num;
} cond;

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parse "FIELD OP VALUE" at *pp; advances *pp. */
static int parse_cond(const char *where, const char **pp, cond *c, rdm_err *err)
{
    const char *p = skip_space(*pp), *start = p;
    while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
        p++;
    if (p == start || (size_t)(p - start) >= sizeof c->key)
        return rdm_errf(err, RDM_EINVAL, "--where: column %d: expected a field name",
                        (int)(start - where) + 1);
    memcpy(c->key, start, (size_t)(p - start));
    c->key[p - start] = '\0';
    p = skip_space(p);

    static const struct {
        const char *text;
        cmp_op op;
    } ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
               {"=", OP_EQ},  {"<", OP_LT},  {">", OP_GT},  {"~", OP_HAS}};

    size_t k = 0;
    for (; k < sizeof ops / sizeof ops[0]; k++)
        if (!strncmp(p, ops[k].text, strlen(ops[k].text)))
            break;
    if (k == sizeof ops / sizeof ops[0])
        return rdm_errf(err, RDM_EINVAL,
                        "--where: column %d: expected an operator (=, !=, <, <=, >, >=, ~) after "
                        "'%s'",
                        (int)(p - where) + 1, c->key);
    c->op = ops[k].op;
    p = skip_space(p + strlen(ops[k].text));
    const char *v = p;
    size_t n;
    if (*p == '\'' || *p == '"') {
        const char *e = strchr(p + 1, *p);
        if (!e)
            return rdm_errf(err, RDM_EINVAL, "--where: column %d: unterminated quote",
                            (int)(p - where) + 1);
        v = p + 1;
        n = (size_t)(e - v);
        p = e + 1;
    } else {
        while (*p && *p != ' ' && *p != '\t')
            p++;
        n = (size_t)(p - v);
    }
    if (n == 0 && v == p)
        return rdm_errf(err, RDM_EINVAL, "--where: column %d: expected a value after '%s'",
                        (int)(p - where) + 1, c->key);
    if (n >= sizeof c->value)
        return rdm_errf(err, RDM_EINVAL, "--where: column %d: value too long",
                        (int)(v - where) + 1);
    memcpy(c->value, v, n);
    c->value[n] = '\0';
    json_t *s = json_string(c->value);
    c->numeric = s && as_number(s, &c->num);
    json_decref(s);
    *pp = p;
    return RDM_OK;
}

static int matches(const json_t *run, const cond *c)
{
    const json_t *v = rdm_runs_get(run, c->key);
    if (!v || json_is_null(v))
        return 0;
    double x;
    int d;
    if (c->numeric && as_number(v, &x)) {
        if (c->op == OP_HAS)
            return 0;
        d = x < c->num ? -1 : x > c->num ? 1 : 0;
    } else {
        char buf[64];
        const char *s = json_string_value(v);
        if (!s && json_is_boolean(v))
            s = json_is_true(v) ? "true" : "false";
        if (!s && json_is_integer(v)) {
            snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            s = buf;
        }
        if (!s)
            return 0;
        if (c->op == OP_HAS)
            return strstr(s, c->value) != NULL;
        d = strcmp(s, c->value);
    }
    switch (c->op) {
    case OP_EQ:
        return d == 0;
    case OP_NE:
        return d != 0;
    case OP_LT:
        return d < 0;
    case OP_LE:
        return d <= 0;
    case OP_GT:
        return d > 0;
    case OP_GE:
        return d >= 0;
    case OP_HAS:
        break;
    }
    return 0;
}

int rdm_runs_filter(json_t *runs, const char *where, rdm_err *err)
{
    if (!json_is_array(runs))
        return rdm_errf(err, RDM_EINVAL, "runs: not an array");
    cond *conds = NULL;
    size_t n = 0, cap = 0;
    int rc = RDM_OK;
    const char *p = where ? skip_space(where) : "";
    while (*p && rc == RDM_OK) {
        void *v = conds;
        if (rdm_grow(&v, &cap, n + 1, sizeof *conds)) {
            rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
            break;
        }
        conds = v;
        if ((rc = parse_cond(where, &p, &conds[n++], err)))
            break;
        p = skip_space(p);
        if (!*p)
            break;
        if (strncmp(p, "and", 3) != 0 || (p[3] != ' ' && p[3] != '\t'))
            rc = rdm_errf(err, RDM_EINVAL, "--where: column %d: expected 'and' or the end",
                          (int)(p - where) + 1);
        p += 3;
    }
    for (size_t i = json_array_size(runs); rc == RDM_OK && i-- > 0;) {
        const json_t *run = json_array_get(runs, i);
        int ok = 1;
        for (size_t j = 0; j < n && ok; j++)
            ok = matches(run, &conds[j]);
        if (!ok && json_array_remove(runs, i))
            rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    free(conds);
    return rc;
}

/* ---- sort ---- */

typedef struct sort_item {
    json_t *run;
    const json_t *v;
    size_t pos;
    int desc; /* the same in every item: qsort has no user pointer */
} sort_item;

static int compare_items(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    int d = 0;
    double x, y;
    if (!a->v || json_is_null(a->v) || !b->v || json_is_null(b->v)) {
        d = (!a->v || json_is_null(a->v)) - (!b->v || json_is_null(b->v)); /* missing last */
        return d ? d : (a->pos > b->pos) - (a->pos < b->pos);
    }
    if (as_number(a->v, &x) && as_number(b->v, &y)) {
        d = x < y ? -1 : x > y ? 1 : 0;
    } else {
        const char *s = json_string_value(a->v), *t = json_string_value(b->v);
        d = strcmp(s ? s : "", t ? t : "");
    }
    if (a->desc)
        d = -d;
    return d ? d : (a->pos > b->pos) - (a->pos < b->pos);
}

int rdm_runs_sort(json_t *runs, const char *key, rdm_err *err)
{
    if (!json_is_array(runs))
        return rdm_errf(err, RDM_EINVAL, "runs: not an array");
    int desc = key && key[0] == '-';
    if (key && (key[0] == '-' || key[0] == '+'))
        key++;
    if (!key || !*key)
        return rdm_errf(err, RDM_EINVAL, "--sort: expected a field name (e.g. -valid.roc_auc)");
    size_t n = json_array_size(runs);
    sort_item *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        items[i].run = json_incref(json_array_get(runs, i));
        items[i].v = rdm_runs_get(items[i].run, key);
        items[i].pos = i;
        items[i].desc = desc;
    }
    qsort(items, n, sizeof *items, compare_items);
    int rc = RDM_OK;
    json_array_clear(runs);
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(runs, items[i].run) && rc == RDM_OK)
            rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    free(items);
    return rc;
}

/* ---- flat view and diff ---- */

/* Top-level fields shown by rdm_runs_flat, in order; `diff` marks those that
 * rdm_runs_diff compares. */
static const struct {
    const char *name;
    int diff;
} FIELDS[] = {
    {"run_id", 0},      {"training_id", 0},  {"model_type", 1},  {"name", 1},
    {"status", 1},      {"error", 1},        {"started_at", 0},  {"ended_at", 0},
    {"duration_s", 0},  {"fit_s", 0},        {"snapshot_id", 1}, {"data_fingerprint", 1},
    {"batch_ids", 1},   {"rows_train", 1},   {"rows_valid", 1},  {"rows_test", 1},
    {"config_hash", 1}, {"code_version", 1}, {"threshold", 1},   {"artifact_sha256", 1},
    {"selected", 0},
};

static const char *const NESTED[] = {"params", "valid", "test"};

/* Add the nested object's members as "prefix.key", keys sorted. */
static int add_nested(json_t *flat, const json_t *obj, const char *prefix)
{
    size_t n = json_object_size(obj), k = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys)
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) keys[k++] = key;
    for (size_t i = 1; i < n; i++) /* insertion sort: a few dozen keys */
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s.%s", prefix, keys[i]);
        bad = json_object_set(flat, name, json_object_get(obj, keys[i]));
    }
    free(keys);
    return bad;
}

static json_t *flat_view(const json_t *run, int diff_only)
{
    json_t *flat = json_object();
    if (!flat)
        return NULL;
    int bad = 0;
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0] && !bad; i++) {
        const json_t *v = json_object_get(run, FIELDS[i].name);
        if ((!diff_only || FIELDS[i].diff) && v)
            bad = json_object_set(flat, FIELDS[i].name, (json_t *)v);
    }
    for (size_t i = 0; i < sizeof NESTED / sizeof NESTED[0] && !bad; i++)
        bad = add_nested(flat, json_object_get(run, NESTED[i]), NESTED[i]);
    if (bad) {
        json_decref(flat);
        return NULL;
    }
    return flat;
}

json_t *rdm_runs_flat(const json_t *run)
{
    return flat_view(run, 0);
}

/* Append a's field and b's value of it to `out` when they differ. */
static int add_if_differs(json_t *out, const char *field, json_t *va, json_t *vb)
{
    if (va && vb && json_equal(va, vb))
        return 0;
    json_t *row = json_pack("{s:s, s:O, s:O}", "field", field, "a", va ? va : json_null(), "b",
                            vb ? vb : json_null());
    return !row || json_array_append_new(out, row);
}

json_t *rdm_runs_diff(const json_t *a, const json_t *b)
{
    json_t *fa = flat_view(a, 1), *fb = flat_view(b, 1), *out = json_array();
    int bad = !fa || !fb || !out;
    const char *key;
    json_t *v;
    if (!bad)
        json_object_foreach(fa, key, v) bad |=
            add_if_differs(out, key, v, json_object_get(fb, key));
    if (!bad)
        json_object_foreach(fb, key, v) if (!json_object_get(fa, key)) bad |=
            add_if_differs(out, key, NULL, v);
    json_decref(fa);
    json_decref(fb);
    if (bad) {
        json_decref(out);
        return NULL;
    }
    return out;
}
