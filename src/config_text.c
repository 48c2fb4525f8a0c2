/* config_text.c - the configuration as text: the canonical text of a
 * section (what fingerprints hash: the same settings always give the same
 * text), one value (`readmit config --get`), the whole configuration as YAML
 * (`readmit config`), and the settings each pipeline stage reads with their
 * fingerprints. Secrets are masked in everything printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "secret.h"

static int add_quoted(rdm_buf *out, const char *s)
{
    if (!s)
        return rdm_buf_adds(out, "null");
    int rc = rdm_buf_addc(out, '"');
    for (; *s && !rc; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            rc = rdm_buf_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            rc = rdm_buf_printf(out, "\\x%02x", ch);
        else
            rc = rdm_buf_addc(out, (char)ch);
    }
    return rc ? rc : rdm_buf_addc(out, '"');
}

static int add_double(rdm_buf *out, double v)
{
    char tmp[40];
    rdm_cfg_fmt_double(v, tmp, sizeof tmp);
    return rdm_buf_adds(out, tmp);
}

/* Value of a non-rules key in YAML flow syntax. */
static int add_value(rdm_buf *out, const rdm_config *c, const key_def *k)
{
    const void *p = rdm_cfg_cfield(c, k->off);
    switch (k->type) {
    case T_STR:
        if (k->flags & F_SECRET) { /* a conninfo may hold a password: never printed */
            char *masked = rdm_secret_mask_conninfo(*(char *const *)p);
            int rc = *(char *const *)p && !masked ? RDM_ENOMEM : add_quoted(out, masked);
            free(masked);
            return rc;
        }
        return add_quoted(out, *(char *const *)p);
    case T_ESTR:
        return rdm_buf_adds(out, *(char *const *)p ? *(char *const *)p : "null");
    case T_INT:
        return rdm_buf_printf(out, "%d", *(const int *)p);
    case T_LONG:
        return rdm_buf_printf(out, "%ld", *(const long *)p);
    case T_DBL:
        return add_double(out, *(const double *)p);
    case T_BOOL:
        return rdm_buf_adds(out, *(const int *)p ? "true" : "false");
    case T_ENUM: {
        int i = *(const int *)p, n = 0;
        while (k->names[n])
            n++;
        return rdm_buf_adds(out, i >= 0 && i < n ? k->names[i] : "?");
    }
    case T_DLIST: {
        const rdm_dlist *dl = p;
        int rc = rdm_buf_addc(out, '[');
        for (int i = 0; i < dl->n && !rc; i++) {
            if (i)
                rc = rdm_buf_adds(out, ", ");
            if (!rc)
                rc = add_double(out, dl->v[i]);
        }
        return rc ? rc : rdm_buf_addc(out, ']');
    }
    case T_LLIST: {
        const long *v = *(long *const *)p;
        int n = *(const int *)rdm_cfg_cfield(c, k->off2);
        int rc = rdm_buf_addc(out, '[');
        for (int i = 0; i < n && !rc; i++)
            rc = rdm_buf_printf(out, "%s%ld", i ? ", " : "", v[i]);
        return rc ? rc : rdm_buf_addc(out, ']');
    }
    case T_RULES:
        break;
    }
    return RDM_OK;
}

/* One rule as a YAML flow mapping. */
static int add_rule(rdm_buf *out, const rdm_rule *r)
{
    int rc = rdm_buf_adds(out, "{name: ");
    rc = rc ? rc : add_quoted(out, r->name);
    rc = rc ? rc : rdm_buf_adds(out, ", column: ");
    rc = rc ? rc : add_quoted(out, r->column);
    switch (r->kind) {
    case RDM_RULE_ALLOWED:
        rc = rc ? rc : rdm_buf_adds(out, ", allowed: [");
        for (int i = 0; i < r->nallowed && !rc; i++) {
            if (i)
                rc = rdm_buf_adds(out, ", ");
            rc = rc ? rc : add_quoted(out, r->allowed[i]);
        }
        rc = rc ? rc : rdm_buf_addc(out, ']');
        break;
    case RDM_RULE_RANGE:
        if (!rc && isfinite(r->min)) {
            rc = rdm_buf_adds(out, ", min: ");
            rc = rc ? rc : add_double(out, r->min);
        }
        if (!rc && isfinite(r->max)) {
            rc = rdm_buf_adds(out, ", max: ");
            rc = rc ? rc : add_double(out, r->max);
        }
        break;
    case RDM_RULE_MISSING:
        rc = rc ? rc : rdm_buf_adds(out, ", max_missing: ");
        rc = rc ? rc : add_double(out, r->max_missing);
        break;
    case RDM_RULE_NOT_NULL:
        rc = rc ? rc : rdm_buf_adds(out, ", not_null: true");
        break;
    }
    rc = rc ? rc : rdm_buf_adds(out, r->hard ? ", severity: hard}" : ", severity: soft}");
    return rc;
}

static int in_section(const char *key, const char *section)
{
    size_t n = strlen(section);
    return !n || (!strncmp(key, section, n) && (key[n] == '.' || key[n] == '\0'));
}

int rdm_config_section_text(const rdm_config *c, const char *section, rdm_buf *out)
{
    int rc = RDM_OK;
    if (!section)
        section = "";
    for (int i = 0; i < rdm_cfg_nkeys && !rc; i++) {
        const key_def *k = &rdm_cfg_keys[i];
        if (!in_section(k->key, section) || (k->flags & F_NOFP))
            continue;
        if (k->type == T_RULES) {
            rc = rdm_buf_printf(out, "%s.count=%d\n", k->key, c->clean.nrules);
            for (int j = 0; j < c->clean.nrules && !rc; j++) {
                rc = rdm_buf_printf(out, "%s.%d=", k->key, j);
                rc = rc ? rc : add_rule(out, &c->clean.rules[j]);
                rc = rc ? rc : rdm_buf_addc(out, '\n');
            }
            continue;
        }
        rc = rdm_buf_printf(out, "%s=", k->key);
        rc = rc ? rc : add_value(out, c, k);
        rc = rc ? rc : rdm_buf_addc(out, '\n');
    }
    return rc;
}

int rdm_config_get(const rdm_config *c, const char *key, rdm_buf *out, rdm_err *err)
{
    const key_def *k = rdm_cfg_find_key(key);
    if (!k || k->type == T_RULES)
        return rdm_errf(err, RDM_EINVAL, "no setting named '%s'%s", key,
                        k ? " (a list of rules: see readmit config)" : "");
    int rc;
    if (k->type == T_STR && !(k->flags & F_SECRET)) {
        const char *s = *(char *const *)rdm_cfg_cfield(c, k->off);
        rc = rdm_buf_adds(out, s ? s : "");
    } else {
        rc = add_value(out, c, k);
    }
    return rc ? rdm_errf(err, rc, "out of memory") : RDM_OK;
}

/* The settings each pipeline stage reads, in DAG order: a stage re-runs when
 * the fingerprint of its sections changes. */
static const struct {
    const char *stage;
    const char *sections[4];
} STAGE_SECTIONS[] = {
    {"ingest", {"data", NULL}},
    {"clean", {"clean", NULL}},
    {"train", {"split", "features", "train", NULL}},
    {"register", {"registry", NULL}},
    {"monitor", {"monitor", NULL}},
    {"report", {"report", NULL}},
};

#define NSTAGES ((int)(sizeof STAGE_SECTIONS / sizeof STAGE_SECTIONS[0]))

const char *rdm_config_stage(int i)
{
    return i >= 0 && i < NSTAGES ? STAGE_SECTIONS[i].stage : NULL;
}

int rdm_config_fingerprint(const rdm_config *c, const char *stage, char out[65], rdm_err *err)
{
    out[0] = '\0';
    for (int i = 0; i < NSTAGES; i++) {
        if (strcmp(STAGE_SECTIONS[i].stage, stage) != 0)
            continue;
        rdm_buf b = RDM_BUF_INIT;
        int rc = RDM_OK;
        for (int j = 0; STAGE_SECTIONS[i].sections[j] && !rc; j++)
            rc = rdm_config_section_text(c, STAGE_SECTIONS[i].sections[j], &b);
        if (!rc)
            rdm_sha256_hex(b.data ? b.data : "", b.len, out);
        rdm_buf_release(&b);
        return rc ? rdm_errf(err, rc, "config fingerprint: out of memory") : RDM_OK;
    }
    return rdm_errf(err, RDM_EINVAL,
                    "no pipeline stage named '%s' (ingest, clean, train, register, report)", stage);
}

int rdm_config_yaml(const rdm_config *c, rdm_buf *out)
{
    int rc = RDM_OK;
    const char *prev = "";
    for (int i = 0; i < rdm_cfg_nkeys && !rc; i++) {
        const char *key = rdm_cfg_keys[i].key;
        /* number of leading path components shared with the previous key */
        int depth = 0;
        const char *a = prev, *b = key;
        for (;;) {
            size_t la = strcspn(a, "."), lb = strcspn(b, ".");
            if (!a[la] || !b[lb] || la != lb || strncmp(a, b, la))
                break;
            depth++;
            a += la + 1;
            b += lb + 1;
        }
        /* open the sections not shared */
        const char *s = b;
        int level = depth;
        while (!rc && s[strcspn(s, ".")]) {
            size_t l = strcspn(s, ".");
            rc = rdm_buf_printf(out, "%*s%.*s:\n", level * 2, "", (int)l, s);
            s += l + 1;
            level++;
        }
        if (rc)
            break;
        rc = rdm_buf_printf(out, "%*s%s:", level * 2, "", s);
        if (rdm_cfg_keys[i].type == T_RULES) {
            if (!rc && c->clean.nrules == 0)
                rc = rdm_buf_adds(out, " []");
            for (int j = 0; j < c->clean.nrules && !rc; j++) {
                rc = rdm_buf_printf(out, "\n%*s- ", level * 2 + 2, "");
                rc = rc ? rc : add_rule(out, &c->clean.rules[j]);
            }
        } else {
            rc = rc ? rc : rdm_buf_addc(out, ' ');
            rc = rc ? rc : add_value(out, c, &rdm_cfg_keys[i]);
        }
        rc = rc ? rc : rdm_buf_addc(out, '\n');
        prev = key;
    }
    return rc;
}
