/* config_yaml.c - the YAML tree reader of the configuration (libyaml
 * document API): a file or an -o value becomes a document, its mapping is
 * walked against the settings table (config_int.h) and each value is checked
 * and stored; the validation rules list (clean.rules) is the one structured
 * value and has its own parser. Errors name file:line:column. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_int.h"
#include "schema.h"

/* ------------------------------------------------------------------------ */
/* Value context: where a value came from, for error messages. */

typedef struct vctx {
    const char *file; /* file name, or NULL for an -o override */
    rdm_err *err;
} vctx;

__attribute__((format(printf, 4, 5))) static int verr(const vctx *v, const yaml_node_t *node,
                                                      const char *key, const char *fmt, ...)
{
    char msg[RDM_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->file && node)
        return rdm_errf(v->err, RDM_EINVAL, "%s:%lu:%lu: %s: %s", v->file,
                        (unsigned long)node->start_mark.line + 1,
                        (unsigned long)node->start_mark.column + 1, key, msg);
    if (v->file)
        return rdm_errf(v->err, RDM_EINVAL, "%s: %s: %s", v->file, key, msg);
    return rdm_errf(v->err, RDM_EINVAL, "-o %s: %s", key, msg);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    default:
        return "a scalar";
    }
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE)
        return 0;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int parse_number(const yaml_node_t *n, double *out)
{
    if (n->type != YAML_SCALAR_NODE)
        return -1;
    const char *s = scalar(n);
    if (!*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_integer(const yaml_node_t *n, long *out)
{
    if (n->type != YAML_SCALAR_NODE)
        return -1;
    return rdm_parse_long(scalar(n), out) ? -1 : 0;
}

static int parse_bool(const yaml_node_t *n, int *out)
{
    static const char *const T[] = {"true", "True", "TRUE", "yes", "Yes",
                                    "YES",  "on",   "On",   "ON",  NULL};
    static const char *const F[] = {"false", "False", "FALSE", "no",  "No",
                                    "NO",    "off",   "Off",   "OFF", NULL};
    if (n->type != YAML_SCALAR_NODE)
        return -1;
    for (int i = 0; T[i]; i++) {
        if (!strcmp(scalar(n), T[i])) {
            *out = 1;
            return 0;
        }
        if (!strcmp(scalar(n), F[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int check_range(const vctx *v, const yaml_node_t *n, const key_def *k, double x)
{
    if ((k->flags & F_INTEGRAL) && x != floor(x))
        return verr(v, n, k->key, "expected an integer, got %s", scalar(n));
    if (x < k->min || x > k->max) {
        char lo[40], hi[40];
        rdm_cfg_fmt_double(k->min, lo, sizeof lo);
        rdm_cfg_fmt_double(k->max, hi, sizeof hi);
        return verr(v, n, k->key, "must be between %s and %s (got %s)", lo, hi, scalar(n));
    }
    return RDM_OK;
}

/* Items of a scalar-or-sequence node: fills items/nitems (a scalar is one item). */
static int list_items(yaml_document_t *doc, yaml_node_t *n, yaml_node_t ***items, int *nitems)
{
    if (n->type == YAML_SCALAR_NODE) {
        *items = malloc(sizeof **items);
        if (!*items)
            return RDM_ENOMEM;
        (*items)[0] = n;
        *nitems = 1;
        return RDM_OK;
    }
    int cnt = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    *items = malloc(sizeof **items * (size_t)(cnt ? cnt : 1));
    if (!*items)
        return RDM_ENOMEM;
    for (int i = 0; i < cnt; i++)
        (*items)[i] = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
    *nitems = cnt;
    return RDM_OK;
}

/* ------------------------------------------------------------------------ */
/* Rules */

/* What a rule's keys said, for the checks once all are read. */
typedef struct rule_seen {
    int allowed, range, missing, notnull;
    yaml_node_t *colnode;
} rule_seen;

/* name, column, severity: strings. */
static int rule_string(const vctx *v, yaml_node_t *kn, yaml_node_t *vn, rdm_rule *r, rule_seen *s)
{
    const char *k = scalar(kn);
    if (vn->type != YAML_SCALAR_NODE || is_null(vn))
        return verr(v, vn, "clean.rules", "%s: expected a string", k);
    if (!strcmp(k, "severity")) {
        if (!strcmp(scalar(vn), "hard"))
            r->hard = 1;
        else if (!strcmp(scalar(vn), "soft"))
            r->hard = 0;
        else
            return verr(v, vn, "clean.rules", "severity must be hard or soft (got '%s')",
                        scalar(vn));
        return RDM_OK;
    }
    char **dst = !strcmp(k, "name") ? &r->name : &r->column;
    if (*dst)
        return verr(v, kn, "clean.rules", "duplicate key '%s'", k);
    if (!(*dst = strdup(scalar(vn))))
        return RDM_ENOMEM;
    if (dst == &r->column)
        s->colnode = vn;
    return RDM_OK;
}

/* allowed: a non-empty sequence of strings. */
static int rule_allowed(const vctx *v, yaml_document_t *doc, yaml_node_t *kn, yaml_node_t *vn,
                        rdm_rule *r, rule_seen *s)
{
    if (s->allowed)
        return verr(v, kn, "clean.rules", "duplicate key 'allowed'");
    s->allowed = 1;
    if (vn->type != YAML_SEQUENCE_NODE)
        return verr(v, vn, "clean.rules", "allowed: expected a sequence of strings, got %s",
                    node_kind(vn));
    yaml_node_item_t *it = vn->data.sequence.items.start;
    int n = (int)(vn->data.sequence.items.top - it);
    if (n == 0)
        return verr(v, vn, "clean.rules", "allowed: must not be empty");
    r->allowed = calloc((size_t)n + 1, sizeof *r->allowed);
    if (!r->allowed)
        return RDM_ENOMEM;
    for (int i = 0; i < n; i++) {
        yaml_node_t *in = yaml_document_get_node(doc, it[i]);
        if (in->type != YAML_SCALAR_NODE)
            return verr(v, in, "clean.rules", "allowed: expected a string, got %s", node_kind(in));
        if (!(r->allowed[i] = strdup(scalar(in))))
            return RDM_ENOMEM;
        r->nallowed++;
    }
    return RDM_OK;
}

/* min, max, max_missing: numbers. */
static int rule_number(const vctx *v, const char *k, yaml_node_t *vn, rdm_rule *r, rule_seen *s)
{
    double d;
    if (parse_number(vn, &d))
        return verr(v, vn, "clean.rules", "%s: expected a number, got %s", k,
                    vn->type == YAML_SCALAR_NODE ? scalar(vn) : node_kind(vn));
    if (!strcmp(k, "max_missing")) {
        if (d < 0 || d > 1)
            return verr(v, vn, "clean.rules", "max_missing must be between 0 and 1 (got %s)",
                        scalar(vn));
        s->missing = 1;
        r->max_missing = d;
    } else {
        s->range = 1;
        if (k[1] == 'i')
            r->min = d;
        else
            r->max = d;
    }
    return RDM_OK;
}

/* One key of a rule's mapping. */
static int rule_key(const vctx *v, yaml_document_t *doc, yaml_node_t *kn, yaml_node_t *vn,
                    rdm_rule *r, rule_seen *s)
{
    static const char *const RKEYS =
        "name, column, allowed, min, max, max_missing, not_null, severity";
    if (kn->type != YAML_SCALAR_NODE)
        return verr(v, kn, "clean.rules", "expected a scalar key, got %s", node_kind(kn));
    const char *k = scalar(kn);
    if (!strcmp(k, "name") || !strcmp(k, "column") || !strcmp(k, "severity"))
        return rule_string(v, kn, vn, r, s);
    if (!strcmp(k, "allowed"))
        return rule_allowed(v, doc, kn, vn, r, s);
    if (!strcmp(k, "min") || !strcmp(k, "max") || !strcmp(k, "max_missing"))
        return rule_number(v, k, vn, r, s);
    if (!strcmp(k, "not_null")) {
        int b;
        if (parse_bool(vn, &b))
            return verr(v, vn, "clean.rules", "not_null: expected true");
        if (!b)
            return verr(v, vn, "clean.rules", "not_null: only 'not_null: true' is meaningful");
        s->notnull = 1;
        return RDM_OK;
    }
    return verr(v, kn, "clean.rules", "unknown rule key '%s' (allowed: %s)", k, RKEYS);
}

static int rule_parse(const vctx *v, yaml_document_t *doc, yaml_node_t *m, rdm_rule *r)
{
    memset(r, 0, sizeof *r);
    r->hard = 1;
    r->col = -1;
    r->min = -HUGE_VAL;
    r->max = HUGE_VAL;
    if (m->type != YAML_MAPPING_NODE)
        return verr(v, m, "clean.rules", "expected a mapping (a rule), got %s", node_kind(m));
    rule_seen s = {0, 0, 0, 0, NULL};
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        int rc = rule_key(v, doc, yaml_document_get_node(doc, p->key),
                          yaml_document_get_node(doc, p->value), r, &s);
        if (rc)
            return rc;
    }
    if (!r->name)
        return verr(v, m, "clean.rules", "rule without a name");
    if (!r->column)
        return verr(v, m, "clean.rules", "rule '%s' has no column", r->name);
    r->col = rdm_schema_find(r->column);
    if (r->col < 0)
        return verr(v, s.colnode, "clean.rules", "rule '%s': unknown column '%s'", r->name,
                    r->column);
    if (s.allowed + s.range + s.missing + s.notnull != 1)
        return verr(v, m, "clean.rules",
                    "rule '%s': needs exactly one of allowed, min/max, max_missing, not_null",
                    r->name);
    if (s.allowed)
        r->kind = RDM_RULE_ALLOWED;
    else if (s.range) {
        r->kind = RDM_RULE_RANGE;
        if (r->min > r->max)
            return verr(v, m, "clean.rules", "rule '%s': min is greater than max", r->name);
    } else if (s.missing)
        r->kind = RDM_RULE_MISSING;
    else
        r->kind = RDM_RULE_NOT_NULL;
    return RDM_OK;
}

static int set_rules(rdm_config *c, const vctx *v, yaml_document_t *doc, yaml_node_t *n)
{
    if (is_null(n)) { /* "rules: null" or "rules:" = no rules */
        rdm_cfg_rules_free(c->clean.rules, c->clean.nrules);
        c->clean.rules = NULL;
        c->clean.nrules = 0;
        return RDM_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return verr(v, n, "clean.rules", "expected a sequence of rules, got %s", node_kind(n));
    yaml_node_item_t *it = n->data.sequence.items.start;
    int cnt = (int)(n->data.sequence.items.top - it);
    rdm_rule *rules = calloc((size_t)(cnt ? cnt : 1), sizeof *rules);
    if (!rules)
        return RDM_ENOMEM;
    int rc = RDM_OK, done = 0;
    for (; done < cnt; done++) {
        rc = rule_parse(v, doc, yaml_document_get_node(doc, it[done]), &rules[done]);
        if (rc) {
            done++;
            break;
        }
        for (int j = 0; j < done; j++)
            if (!strcmp(rules[j].name, rules[done].name)) {
                rc = verr(v, yaml_document_get_node(doc, it[done]), "clean.rules",
                          "duplicate rule name '%s'", rules[done].name);
                done++;
                goto out;
            }
    }
out:
    if (rc) {
        rdm_cfg_rules_free(rules, done);
        if (rc == RDM_ENOMEM)
            return rdm_errf(v->err, rc, "config: out of memory");
        return rc;
    }
    rdm_cfg_rules_free(c->clean.rules, c->clean.nrules);
    c->clean.rules = rules;
    c->clean.nrules = cnt;
    return RDM_OK;
}

/* ------------------------------------------------------------------------ */
/* Setting one key from a YAML node */

/* Index of scalar n in k->names (T_ENUM, T_ESTR), else an error listing them. */
static int name_index(const key_def *k, const vctx *v, const yaml_node_t *n, int *out)
{
    int i = 0;
    while (k->names[i] && strcmp(k->names[i], scalar(n)))
        i++;
    if (k->names[i]) {
        *out = i;
        return RDM_OK;
    }
    char list[200] = "";
    for (int j = 0; k->names[j]; j++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                 k->names[j]);
    return verr(v, n, k->key, "unknown value '%s' (expected one of: %s)", scalar(n), list);
}

/* T_STR, T_ESTR: a copy of the scalar, or NULL for null when allowed. */
static int set_string(rdm_config *c, const key_def *k, const vctx *v, const yaml_node_t *n)
{
    char *s = NULL;
    int i;
    if (is_null(n)) {
        if (!(k->flags & F_NULLABLE))
            return verr(v, n, k->key, "must not be empty");
    } else {
        if ((k->flags & F_NONEMPTY) && !*scalar(n))
            return verr(v, n, k->key, "must not be empty");
        if (k->type == T_ESTR && name_index(k, v, n, &i))
            return RDM_EINVAL;
        if (!(s = strdup(scalar(n))))
            return rdm_errf(v->err, RDM_ENOMEM, "config: out of memory");
    }
    char **p = rdm_cfg_field(c, k->off);
    free(*p);
    *p = s;
    return RDM_OK;
}

/* One item of a T_DLIST (as double) or T_LLIST (as long) into vals[i]. */
static int list_item(const key_def *k, const vctx *v, const yaml_node_t *in, void *vals, int i)
{
    double d;
    long l;
    int rc;
    if (in->type != YAML_SCALAR_NODE)
        return verr(v, in, k->key, "expected a number, got %s", node_kind(in));
    if (k->type == T_DLIST) {
        if (parse_number(in, &d))
            return verr(v, in, k->key, "expected a number, got '%s'", scalar(in));
        if (!(rc = check_range(v, in, k, d)))
            ((double *)vals)[i] = d;
        return rc;
    }
    if (parse_integer(in, &l))
        return verr(v, in, k->key, "expected an integer, got '%s'", scalar(in));
    if (!(rc = check_range(v, in, k, (double)l)))
        ((long *)vals)[i] = l;
    return rc;
}

/* T_DLIST, T_LLIST: a scalar or a sequence of numbers, none out of range. */
static int set_list(rdm_config *c, const key_def *k, const vctx *v, yaml_document_t *doc,
                    yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return verr(v, n, k->key, "expected a number or a sequence of numbers, got a mapping");
    yaml_node_t **items;
    int cnt;
    if (list_items(doc, n, &items, &cnt))
        return rdm_errf(v->err, RDM_ENOMEM, "config: out of memory");
    if (cnt == 0) {
        free(items);
        return verr(v, n, k->key, "must not be empty");
    }
    size_t esz = k->type == T_DLIST ? sizeof(double) : sizeof(long);
    void *vals = malloc(esz * (size_t)cnt);
    int rc = vals ? RDM_OK : rdm_errf(v->err, RDM_ENOMEM, "config: out of memory");
    for (int i = 0; i < cnt && !rc; i++)
        rc = list_item(k, v, items[i], vals, i);
    free(items);
    if (rc) {
        free(vals);
        return rc;
    }
    void *p = rdm_cfg_field(c, k->off);
    if (k->type == T_DLIST) {
        rdm_dlist *dl = p;
        free(dl->v);
        dl->v = vals;
        dl->n = cnt;
    } else {
        free(*(long **)p);
        *(long **)p = vals;
        *(int *)rdm_cfg_field(c, k->off2) = cnt;
    }
    return RDM_OK;
}

static int set_value(rdm_config *c, const key_def *k, const vctx *v, yaml_document_t *doc,
                     yaml_node_t *n)
{
    void *p = rdm_cfg_field(c, k->off);
    double d;
    long l;
    int b, i;
    if (k->type == T_RULES)
        return set_rules(c, v, doc, n);
    if (k->type == T_DLIST || k->type == T_LLIST)
        return set_list(c, k, v, doc, n);
    if (n->type != YAML_SCALAR_NODE) {
        static const char *const what[] = {"a string",      "an integer", "an integer", "a number",
                                           "true or false", "one of",     "one of"};
        return verr(v, n, k->key, "expected %s, got %s", what[k->type], node_kind(n));
    }
    switch (k->type) {
    case T_STR:
    case T_ESTR:
        return set_string(c, k, v, n);
    case T_ENUM:
        if (name_index(k, v, n, &i))
            return RDM_EINVAL;
        *(int *)p = i;
        return RDM_OK;
    case T_INT:
    case T_LONG:
        if (parse_integer(n, &l))
            return verr(v, n, k->key, "expected an integer, got '%s'", scalar(n));
        if (check_range(v, n, k, (double)l))
            return RDM_EINVAL;
        if (k->type == T_INT)
            *(int *)p = (int)l;
        else
            *(long *)p = l;
        return RDM_OK;
    case T_DBL:
        if (parse_number(n, &d))
            return verr(v, n, k->key, "expected a number, got '%s'", scalar(n));
        if (check_range(v, n, k, d))
            return RDM_EINVAL;
        *(double *)p = d;
        return RDM_OK;
    case T_BOOL:
        if (parse_bool(n, &b))
            return verr(v, n, k->key, "expected true or false, got '%s'", scalar(n));
        *(int *)p = b;
        return RDM_OK;
    default:
        break;
    }
    return RDM_OK;
}

/* ------------------------------------------------------------------------ */
/* Walking the document */

static int walk_mapping(rdm_config *c, const vctx *v, yaml_document_t *doc, yaml_node_t *m,
                        const char *prefix)
{
    const char *sect = *prefix ? prefix : "top level";
    if (m->type != YAML_MAPPING_NODE)
        return verr(v, m, sect, "expected a mapping, got %s", node_kind(m));
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (kn->type != YAML_SCALAR_NODE)
            return verr(v, kn, sect, "expected a scalar key, got %s", node_kind(kn));
        for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(scalar(yaml_document_get_node(doc, q->key)), scalar(kn)))
                return verr(v, kn, sect, "duplicate key '%s'", scalar(kn));
        char full[256];
        if ((size_t)snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", scalar(kn)) >=
            sizeof full)
            return verr(v, kn, sect, "key too long");
        const key_def *k = rdm_cfg_find_key(full);
        int rc;
        if (k)
            rc = set_value(c, k, v, doc, vn);
        else if (rdm_cfg_is_section(full))
            rc = is_null(vn) ? RDM_OK : walk_mapping(c, v, doc, vn, full);
        else {
            char allowed[600];
            rdm_cfg_allowed_children(prefix, allowed, sizeof allowed);
            rc = verr(v, kn, sect, "unknown key '%s' (allowed: %s)", scalar(kn), allowed);
        }
        if (rc)
            return rc;
    }
    return RDM_OK;
}

/* libyaml's reader (encoding, control characters such as a NUL byte) gives
 * a byte offset, not a mark: line and column are counted in the text. */
static void reader_error(const yaml_parser_t *ps, const char *file, const char *text, size_t len,
                         rdm_err *err)
{
    unsigned long line = 1, col = 1;
    for (size_t i = 0; i < ps->problem_offset && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char what[48] = "";
    if (ps->problem_value == 0)
        snprintf(what, sizeof what, " (a NUL byte)");
    else if (ps->problem_value > 0)
        snprintf(what, sizeof what, " (byte 0x%02x)", (unsigned)ps->problem_value);
    if (!strncmp(file, "-o ", 3))
        rdm_errf(err, RDM_EPARSE, "%s: YAML syntax error: %s%s", file, ps->problem, what);
    else
        rdm_errf(err, RDM_EPARSE, "%s:%lu:%lu: YAML syntax error: %s%s", file, line, col,
                 ps->problem, what);
}

static void parser_error(const yaml_parser_t *ps, const char *file, const char *text, size_t len,
                         rdm_err *err)
{
    const yaml_mark_t *mk = ps->problem ? &ps->problem_mark : &ps->context_mark;
    if (ps->error == YAML_MEMORY_ERROR) {
        rdm_errf(err, RDM_ENOMEM, "%s: out of memory", file);
        return;
    }
    if (ps->error == YAML_READER_ERROR && ps->problem) {
        reader_error(ps, file, text, len, err);
        return;
    }
    if (!strncmp(file, "-o ", 3))
        rdm_errf(err, RDM_EPARSE, "%s: YAML syntax error: %s", file,
                 ps->problem ? ps->problem : "malformed value");
    else if (ps->context && ps->problem)
        rdm_errf(err, RDM_EPARSE, "%s:%lu:%lu: YAML syntax error: %s %s (started at %lu:%lu)", file,
                 (unsigned long)mk->line + 1, (unsigned long)mk->column + 1, ps->problem,
                 ps->context, (unsigned long)ps->context_mark.line + 1,
                 (unsigned long)ps->context_mark.column + 1);
    else
        rdm_errf(err, RDM_EPARSE, "%s:%lu:%lu: YAML syntax error: %s", file,
                 (unsigned long)mk->line + 1, (unsigned long)mk->column + 1,
                 ps->problem ? ps->problem : "malformed document");
}

/* "file:line:column: " of a mark, or "-o key: " for an override (no position). */
static void where(char *out, size_t n, const char *file, const yaml_mark_t *mk)
{
    if (!strncmp(file, "-o ", 3))
        snprintf(out, n, "%s: ", file);
    else
        snprintf(out, n, "%s:%lu:%lu: ", file, (unsigned long)mk->line + 1,
                 (unsigned long)mk->column + 1);
}

/* Deeper nesting than any setting needs (rules: a list of mappings holding
 * a list, five levels) is refused before the document is built: libyaml's
 * time grows with the square of the depth (a 200 KB file of '[' took 23 s).
 * A syntax error is left to the loader, which names it. */
static int check_depth(const char *text, size_t len, const char *file, rdm_err *err)
{
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps))
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    int depth = 0, rc = RDM_OK;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps, &ev))
            break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > RDM_CONFIG_MAX_DEPTH) {
                char at[300];
                where(at, sizeof at, file, &ev.start_mark);
                rc = rdm_errf(err, RDM_EPARSE,
                              "%snested more than %d levels deep (no setting needs more than 5)",
                              at, RDM_CONFIG_MAX_DEPTH);
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&ps);
    return rc;
}

/* A NUL byte in a value (raw, or written as "\0") would cut the string short
 * where C reads it: refused, naming the value. */
static int check_nul(yaml_document_t *doc, const char *file, rdm_err *err)
{
    for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
        if (n->type != YAML_SCALAR_NODE || !memchr(n->data.scalar.value, 0, n->data.scalar.length))
            continue;
        char at[300];
        where(at, sizeof at, file, &n->start_mark);
        return rdm_errf(err, RDM_EPARSE, "%sa NUL byte in a value (no setting can hold one)", at);
    }
    return RDM_OK;
}

/* Parse `text` as one YAML document into doc (yaml_document_delete it). 1 = empty. */
static int load_doc(const char *text, size_t len, const char *file, yaml_document_t *doc,
                    rdm_err *err)
{
    int rc = check_depth(text, len, file, err);
    if (rc)
        return rc;
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps))
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    if (!yaml_parser_load(&ps, doc)) {
        parser_error(&ps, file, text, len, err);
        rc = err && err->code ? err->code : RDM_EPARSE;
    } else {
        /* a second document would be silently ignored: refuse it */
        yaml_document_t next;
        if (!yaml_parser_load(&ps, &next)) {
            parser_error(&ps, file, text, len, err);
            rc = err && err->code ? err->code : RDM_EPARSE;
        } else {
            yaml_node_t *root = yaml_document_get_root_node(&next);
            if (root)
                rc = rdm_errf(err, RDM_EPARSE, "%s:%lu:%lu: only one YAML document is allowed",
                              file, (unsigned long)next.start_mark.line + 1,
                              (unsigned long)next.start_mark.column + 1);
            yaml_document_delete(&next);
        }
        if (!rc)
            rc = check_nul(doc, file, err);
        if (rc)
            yaml_document_delete(doc);
    }
    yaml_parser_delete(&ps);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Public API */

int rdm_cfg_set_default(rdm_config *c, const key_def *k, rdm_err *err)
{
    vctx v = {"(defaults)", err};
    yaml_document_t doc;
    int rc = load_doc(k->def, strlen(k->def), "(defaults)", &doc, err);
    if (rc)
        return rc;
    rc = set_value(c, k, &v, &doc, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    return rc;
}

int rdm_config_load(rdm_config *c, const char *path, rdm_err *err)
{
    rdm_buf text = RDM_BUF_INIT;
    rdm_err ioerr = {0};
    if (rdm_read_file(path, &text, &ioerr)) {
        rdm_buf_release(&text);
        return rdm_errf(err, RDM_EIO, "config file %s", ioerr.msg);
    }
    yaml_document_t doc;
    int rc = load_doc(text.data ? text.data : "", text.len, path, &doc, err);
    rdm_buf_release(&text);
    if (rc)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    vctx v = {path, err};
    if (root && !is_null(root))
        rc = walk_mapping(c, &v, &doc, root, "");
    yaml_document_delete(&doc);
    if (rc)
        return rc;
    char *p = strdup(path);
    if (!p)
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    free(c->path);
    c->path = p;
    return RDM_OK;
}

int rdm_config_set(rdm_config *c, const char *key_eq_value, rdm_err *err)
{
    const char *eq = strchr(key_eq_value, '=');
    if (!eq || eq == key_eq_value)
        return rdm_errf(err, RDM_EINVAL, "-o %s: expected KEY=VALUE", key_eq_value);
    char key[256];
    size_t kl = (size_t)(eq - key_eq_value);
    if (kl >= sizeof key)
        return rdm_errf(err, RDM_EINVAL, "-o: key too long");
    memcpy(key, key_eq_value, kl);
    key[kl] = '\0';
    const char *val = eq + 1;
    const key_def *k = rdm_cfg_find_key(key);
    if (!k) {
        char allowed[600], prefix[256];
        const char *dot = strrchr(key, '.');
        size_t pl = dot ? (size_t)(dot - key) : 0;
        memcpy(prefix, key, pl);
        prefix[pl] = '\0';
        while (*prefix && !rdm_cfg_is_section(prefix)) { /* nearest existing section */
            char *d = strrchr(prefix, '.');
            if (d)
                *d = '\0';
            else
                prefix[0] = '\0';
        }
        rdm_cfg_allowed_children(prefix, allowed, sizeof allowed);
        return rdm_errf(err, RDM_EINVAL, "-o %s: unknown key (allowed%s%s: %s)", key,
                        *prefix ? " in " : "", prefix, allowed);
    }
    vctx v = {NULL, err};
    /* Strings are taken verbatim; everything else is read as YAML, and a list
     * may also be given without brackets: -o train.logreg.l2=0.1,1,10. */
    if (k->type == T_STR || k->type == T_ESTR) {
        yaml_node_t n;
        memset(&n, 0, sizeof n);
        n.type = YAML_SCALAR_NODE;
        n.data.scalar.value = (yaml_char_t *)(uintptr_t)val;
        n.data.scalar.length = strlen(val);
        n.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        return set_value(c, k, &v, NULL, &n);
    }
    char what[300];
    snprintf(what, sizeof what, "-o %s", key);
    rdm_buf text = RDM_BUF_INIT;
    int wrap = (k->type == T_DLIST || k->type == T_LLIST) && val[strspn(val, " ")] != '[';
    if (rdm_buf_printf(&text, wrap ? "[%s]" : "%s", val)) {
        rdm_buf_release(&text);
        return rdm_errf(err, RDM_ENOMEM, "config: out of memory");
    }
    yaml_document_t doc;
    int rc = load_doc(text.data, text.len, what, &doc, err);
    rdm_buf_release(&text);
    if (rc)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = rdm_errf(err, RDM_EINVAL, "-o %s: missing value", key);
    else
        rc = set_value(c, k, &v, &doc, root);
    yaml_document_delete(&doc);
    return rc;
}
