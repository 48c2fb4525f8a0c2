/* outcomes.c - outcomes CSV -> COPY rows and rejects. */
#include "outcomes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"

int rdm_outcome_label(const char *v)
{
    if (!v)
        return -1;
    if (!strcmp(v, "<30") || !strcmp(v, "1"))
        return 1;
    if (!strcmp(v, ">30") || !strcmp(v, "NO") || !strcmp(v, "0"))
        return 0;
    return -1;
}

/* `n` digits at *s, advancing it; the value in *v. */
static int digits(const char **s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (!isdigit((unsigned char)**s))
            return 0;
        *v = *v * 10 + (**s - '0');
    }
    return 1;
}

int rdm_outcome_time_ok(const char *s)
{
    int y, mo, d, h, mi, se;
    if (!s || !digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
        !digits(&s, 2, &d))
        return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return 0;
    if (*s == '\0')
        return 1;
    if (*s != 'T' && *s != ' ')
        return 0;
    s++;
    if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) || h > 23 || mi > 59)
        return 0;
    if (*s == ':') {
        s++;
        if (!digits(&s, 2, &se) || se > 60)
            return 0;
        if (*s == '.') {
            s++;
            if (!isdigit((unsigned char)*s))
                return 0;
            while (isdigit((unsigned char)*s))
                s++;
        }
    }
    if (*s == 'Z')
        return s[1] == '\0';
    if (*s == '+' || *s == '-') {
        s++;
        if (!digits(&s, 2, &h) || h > 14)
            return 0;
        if (*s == ':')
            s++;
        if (*s && (!digits(&s, 2, &mi) || mi > 59))
            return 0;
    }
    return *s == '\0';
}

static int add_row(rdm_buf *b, const char *const *f, int n)
{
    int rc = RDM_OK;
    for (int i = 0; i < n && rc == RDM_OK; i++) {
        rc = rdm_copy_escape(b, f[i]);
        if (rc == RDM_OK)
            rc = rdm_buf_addc(b, i == n - 1 ? '\n' : '\t');
    }
    return rc;
}

static int add_reject(rdm_outcomes_parsed *out, const rdm_csv_record *r, const char *reason)
{
    char line[24];
    snprintf(line, sizeof line, "%ld", r->line);
    char *raw = strndup(r->raw ? r->raw : "", r->raw_len);
    if (!raw)
        return RDM_ENOMEM;
    const char *f[] = {line, raw, reason};
    int rc = add_row(&out->rejects, f, 3);
    free(raw);
    out->rejected++;
    return rc;
}

/* Why an encounter_id is unusable, or NULL when it is a positive integer. */
static const char *bad_id(const char *v)
{
    if (!v || !*v)
        return "encounter_id: missing";
    size_t k = 0;
    while (isdigit((unsigned char)v[k]))
        k++;
    if (v[k] || k > 18 || strspn(v, "0") == k)
        return "encounter_id: not a positive integer";
    return NULL;
}

int rdm_outcomes_parse(const char *data, size_t n, const char *label, rdm_outcomes_parsed *out,
                       rdm_err *err)
{
    memset(out, 0, sizeof *out);
    rdm_csv *csv = rdm_csv_open_mem(data, n, 0, err);
    if (!csv)
        return RDM_ENOMEM;
    int rc = rdm_csv_read_header(csv, err);
    const char *const *names = NULL;
    int nh = rc == RDM_OK ? rdm_csv_header(csv, &names) : 0;
    int ce = -1, cr = -1, ct = -1;
    for (int i = 0; i < nh; i++) {
        if (!strcmp(names[i], "encounter_id"))
            ce = i;
        else if (!strcmp(names[i], "readmitted"))
            cr = i;
        else if (!strcmp(names[i], "observed_at"))
            ct = i;
    }
    if (rc == RDM_OK && (ce < 0 || cr < 0))
        rc = rdm_errf(err, RDM_ESCHEMA,
                      "%s:1: header needs the columns encounter_id and readmitted "
                      "(optional: observed_at)",
                      label);
    rdm_csv_record r;
    int got;
    while (rc == RDM_OK && (got = rdm_csv_next(csv, &r, err)) > 0) {
        out->read++;
        if (r.problem != RDM_CSV_OK) {
            rc = add_reject(out, &r, r.reason);
            continue;
        }
        const char *id = r.fields[ce], *rd = r.fields[cr];
        const char *at = ct >= 0 && r.fields[ct][0] ? r.fields[ct] : NULL;
        int lab = rdm_outcome_label(rd);
        char why[160];
        const char *bad = bad_id(id);
        if (!bad && lab < 0) {
            snprintf(why, sizeof why, "readmitted: '%.40s' is not <30, >30, NO, 0 or 1", rd);
            bad = why;
        }
        if (!bad && at && !rdm_outcome_time_ok(at)) {
            snprintf(why, sizeof why, "observed_at: '%.40s' is not an ISO 8601 date or time", at);
            bad = why;
        }
        if (bad) {
            rc = add_reject(out, &r, bad);
            continue;
        }
        char line[24];
        snprintf(line, sizeof line, "%ld", r.line);
        const char *f[] = {id, rd, lab ? "1" : "0", at, line};
        rc = add_row(&out->rows, f, 5);
        out->valid++;
    }
    if (rc == RDM_OK && got < 0)
        rc = got;
    rdm_csv_free(csv);
    if (rc != RDM_OK)
        rdm_outcomes_parsed_release(out);
    return rc;
}

void rdm_outcomes_parsed_release(rdm_outcomes_parsed *p)
{
    rdm_buf_release(&p->rows);
    rdm_buf_release(&p->rejects);
}
