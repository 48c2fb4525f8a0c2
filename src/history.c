/* history.c - features from a patient's earlier encounters. */
#include "history.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const NAMES[RDM_NHIST] = {"history_encounters", "history_inpatient_days",
                                             "history_emergency"};

const char *rdm_history_name(int k)
{
    return k >= 0 && k < RDM_NHIST ? NAMES[k] : NULL;
}

static int parse_ll(const char *s, long long *v)
{
    if (!s || !*s || !strcmp(s, "?"))
        return -1;
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno || *end ? -1 : 0;
}

static int c_pat, c_enc, c_days, c_type, c_src;
static pthread_once_t cols_once = PTHREAD_ONCE_INIT;

static void find_cols(void)
{
    c_pat = rdm_schema_find("patient_nbr");
    c_enc = rdm_schema_find("encounter_id");
    c_days = rdm_schema_find("time_in_hospital");
    c_type = rdm_schema_find("admission_type_id");
    c_src = rdm_schema_find("admission_source_id");
}

int rdm_history_row(const char *const values[RDM_NCOLS], rdm_hist_row *out)
{
    pthread_once(&cols_once, find_cols);
    long long p, e, v;
    if (parse_ll(values[c_pat], &p) || parse_ll(values[c_enc], &e))
        return -1;
    out->patient = p;
    out->encounter = e;
    out->days = parse_ll(values[c_days], &v) == 0 && v > 0 && v < 1000 ? (int)v : 0;
    out->emergency = (parse_ll(values[c_type], &v) == 0 && v == 1) ||
                     (parse_ll(values[c_src], &v) == 0 && v == 7);
    return 0;
}

typedef struct key {
    int64_t patient, encounter;
    size_t i;
} key;

static int cmp_key(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->patient != y->patient)
        return (x->patient > y->patient) - (x->patient < y->patient);
    if (x->encounter != y->encounter)
        return (x->encounter > y->encounter) - (x->encounter < y->encounter);
    return (x->i > y->i) - (x->i < y->i);
}

int rdm_history_compute(const rdm_hist_row *rows, size_t n, float *out, rdm_err *err)
{
    key *k = malloc((n ? n : 1) * sizeof *k);
    if (!k)
        return rdm_errf(err, RDM_ENOMEM, "history: out of memory");
    for (size_t i = 0; i < n; i++)
        k[i] = (key){rows[i].patient, rows[i].encounter, i};
    qsort(k, n, sizeof *k, cmp_key);
    /* walk each patient's encounters in order; rows sharing an encounter id
     * (duplicates) get the totals of the strictly earlier ones only */
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && k[b].patient == k[a].patient)
            b++;
        double enc = 0, days = 0, emerg = 0;
        for (size_t s = a; s < b;) {
            size_t t = s;
            while (t < b && k[t].encounter == k[s].encounter)
                t++;
            for (size_t j = s; j < t; j++) {
                float *o = out + k[j].i * RDM_NHIST;
                o[RDM_HIST_ENCOUNTERS] = (float)enc;
                o[RDM_HIST_INPATIENT_DAYS] = (float)days;
                o[RDM_HIST_EMERGENCY] = (float)emerg;
            }
            for (size_t j = s; j < t; j++) {
                const rdm_hist_row *r = &rows[k[j].i];
                enc += 1;
                days += r->days;
                emerg += r->emergency;
            }
            s = t;
        }
        a = b;
    }
    free(k);
    return RDM_OK;
}
