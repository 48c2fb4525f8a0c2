/* codes.c - the code-label mapping file: parse, store, load. */
#include "codes.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "schema.h"

static const char *const CODE_COLS[] = {"admission_type_id", "discharge_disposition_id",
                                        "admission_source_id", NULL};

void rdm_code_labels_release(rdm_code_labels *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        free(cl->v[i].code);
        free(cl->v[i].label);
    }
    for (size_t i = 0; i < cl->nbad; i++) {
        free(cl->bad[i].raw);
        free(cl->bad[i].reason);
    }
    free(cl->v);
    free(cl->bad);
    memset(cl, 0, sizeof *cl);
}

/* s without leading and trailing ASCII blanks, copied. */
static char *trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    char *o = malloc(n + 1);
    if (o) {
        memcpy(o, s, n);
        o[n] = '\0';
    }
    return o;
}

static int add_label(rdm_code_labels *cl, int col, char *code, char *label, long line)
{
    if (cl->n == cl->cap) {
        void *p = cl->v;
        if (rdm_grow(&p, &cl->cap, cl->n + 1, sizeof *cl->v))
            return RDM_ENOMEM;
        cl->v = p;
    }
    cl->v[cl->n++] = (rdm_code_label){col, code, label, line};
    return RDM_OK;
}

static int add_bad(rdm_code_labels *cl, const rdm_csv_record *rec, const char *name,
                   const char *why)
{
    if (cl->nbad == cl->badcap) {
        void *p = cl->bad;
        if (rdm_grow(&p, &cl->badcap, cl->nbad + 1, sizeof *cl->bad))
            return RDM_ENOMEM;
        cl->bad = p;
    }
    char reason[768];
    snprintf(reason, sizeof reason, "%s line %ld: %s", name, rec->line, why);
    rdm_code_bad *b = &cl->bad[cl->nbad];
    b->line = rec->line;
    b->raw = malloc(rec->raw_len + 1);
    b->reason = strdup(reason);
    if (!b->raw || !b->reason) {
        free(b->raw);
        free(b->reason);
        return RDM_ENOMEM;
    }
    memcpy(b->raw, rec->raw, rec->raw_len);
    b->raw[rec->raw_len] = '\0';
    cl->nbad++;
    return RDM_OK;
}

static int is_code(const char *s)
{
    if (!*s || strlen(s) > 9)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return atol(s) > 0;
}

const char *rdm_code_labels_find(const rdm_code_labels *cl, int col, const char *code)
{
    for (size_t i = 0; code && i < cl->n; i++)
        if (cl->v[i].col == col && !strcmp(cl->v[i].code, code))
            return cl->v[i].label;
    return NULL;
}

/* One data line of table `col`. */
static int table_row(rdm_code_labels *cl, int col, size_t first, const rdm_csv_record *rec,
                     const char *name)
{
    char *code = trimmed(rec->fields[0]), *label = trimmed(rec->fields[1]);
    int rc = code && label ? RDM_OK : RDM_ENOMEM;
    char why[512] = "";
    if (rc == RDM_OK && !is_code(code))
        snprintf(why, sizeof why, "code '%.400s' is not a positive integer", code);
    else if (rc == RDM_OK && !*label)
        snprintf(why, sizeof why, "code %s has an empty description", code);
    for (size_t i = first; rc == RDM_OK && !*why && i < cl->n; i++)
        if (!strcmp(cl->v[i].code, code))
            snprintf(why, sizeof why,
                     "code %s is listed twice in its table (the one on line %ld is kept)", code,
                     cl->v[i].line);
    if (rc == RDM_OK && *why)
        rc = add_bad(cl, rec, name, why);
    else if (rc == RDM_OK && (rc = add_label(cl, col, code, label, rec->line)) == RDM_OK)
        return RDM_OK;
    free(code);
    free(label);
    return rc;
}

int rdm_code_labels_parse(const char *data, size_t n, const char *name, rdm_code_labels *out,
                          rdm_err *err)
{
    rdm_sha256_hex(data, n, out->sha256);
    rdm_csv *csv = rdm_csv_open_mem(data, n, 4096, err);
    if (!csv)
        return RDM_ENOMEM;
    rdm_csv_record rec;
    int rc = RDM_OK, got, col = -1, unknown = 0;
    size_t first = 0;
    while (rc == RDM_OK && (got = rdm_csv_next(csv, &rec, err)) == 1) {
        int blank = 1;
        for (int f = 0; f < rec.nfields; f++) {
            char *t = trimmed(rec.fields[f]);
            if (!t) {
                rc = RDM_ENOMEM;
                break;
            }
            blank &= !*t;
            free(t);
        }
        if (rc != RDM_OK)
            break;
        if (rec.problem != RDM_CSV_OK) {
            rc = add_bad(out, &rec, name, rec.reason);
        } else if (blank) {
            col = -1; /* between tables */
            unknown = 0;
        } else if (rec.nfields != 2) {
            char why[64];
            snprintf(why, sizeof why, "expected 2 fields (code,description), got %d", rec.nfields);
            rc = add_bad(out, &rec, name, why);
        } else if (!strcmp(rec.fields[1], "description")) {
            char *t = trimmed(rec.fields[0]);
            if (!t) {
                rc = RDM_ENOMEM;
                break;
            }
            col = -1;
            for (int i = 0; CODE_COLS[i]; i++)
                if (!strcmp(t, CODE_COLS[i]))
                    col = rdm_schema_find(CODE_COLS[i]);
            first = out->n;
            unknown = col < 0;
            char why[600];
            snprintf(why, sizeof why,
                     "table '%.400s' is not admission_type_id, discharge_disposition_id or "
                     "admission_source_id (its rows are kept as bad lines)",
                     t);
            if (col < 0)
                rc = add_bad(out, &rec, name, why);
            free(t);
        } else if (col < 0) {
            rc = add_bad(out, &rec, name,
                         unknown ? "row of an unknown table" : "row outside a table");
        } else {
            rc = table_row(out, col, first, &rec, name);
        }
    }
    if (rc == RDM_OK && got < 0)
        rc = got;
    else if (rc == RDM_ENOMEM)
        rc = rdm_errf(err, RDM_ENOMEM, "code labels: out of memory");
    rdm_csv_free(csv);
    return rc;
}

/* The labels of `cl` as the JSON array raw_upsert_code_labels.sql reads, or NULL. */
static char *labels_json(const rdm_code_labels *cl)
{
    const rdm_column *sc = rdm_schema_columns();
    json_t *a = json_array();
    for (size_t i = 0; a && i < cl->n; i++) {
        const rdm_code_label *v = &cl->v[i];
        json_t *o = json_pack("{s:s,s:s%,s:s%,s:I,s:I}", "c", sc[v->col].name, "k", v->code,
                              strlen(v->code), "l", v->label, strlen(v->label), "n",
                              (json_int_t)v->line, "i", (json_int_t)i);
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            a = NULL;
        }
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

int rdm_code_labels_store(rdm_db *db, const rdm_code_labels *cl, rdm_err *err)
{
    int rc = rdm_db_begin(db, err);
    if (rc == RDM_OK && cl->n) { /* one statement: one round trip for the whole file */
        char *text = labels_json(cl);
        const char *p[2] = {text, cl->sha256};
        rc = text ? rdm_db_exec(db, RDM_SQL_RAW_UPSERT_CODE_LABELS, 2, p, err)
                  : rdm_errf(err, RDM_ENOMEM, "code labels: out of memory");
        free(text);
    }
    for (size_t i = 0; rc == RDM_OK && i < cl->nbad; i++) {
        char line[24];
        snprintf(line, sizeof line, "%ld", cl->bad[i].line);
        const char *p[4] = {cl->sha256, line, cl->bad[i].raw, cl->bad[i].reason};
        rc = rdm_db_exec(db, RDM_SQL_RAW_INSERT_CODE_LABEL_REJECT, 4, p, err);
    }
    if (rc == RDM_OK)
        rc = rdm_db_commit(db, err);
    if (rc != RDM_OK)
        rdm_db_rollback(db);
    return rc;
}

int rdm_code_labels_load(rdm_db *db, rdm_code_labels *out, rdm_err *err)
{
    rdm_res *r = rdm_db_query(db, RDM_SQL_TRAIN_SELECT_CODE_LABELS, 0, NULL, err);
    if (!r)
        return RDM_EDB;
    int rc = RDM_OK;
    for (int i = 0; rc == RDM_OK && i < rdm_res_rows(r); i++) {
        int col = rdm_schema_find(rdm_res_text(r, i, "column_name"));
        char *code = strdup(rdm_res_text(r, i, "code")),
             *label = strdup(rdm_res_text(r, i, "label"));
        if (col < 0 || !code || !label) {
            free(code);
            free(label);
            if (col >= 0)
                rc = rdm_errf(err, RDM_ENOMEM, "code labels: out of memory");
            continue;
        }
        if (add_label(out, col, code, label, 0) != RDM_OK) {
            free(code);
            free(label);
            rc = rdm_errf(err, RDM_ENOMEM, "code labels: out of memory");
        }
    }
    if (rc == RDM_OK)
        rc = rdm_res_check(r, err);
    rdm_res_free(r);
    return rc;
}
