/* synth.c - deterministic synthetic encounters (see synth.h). */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "schema.h"

static const rdm_synth_dirty_row DIRTY[RDM_SYNTH_NDIRTY] = {
    {"few_fields", 1, "field count", NULL},
    {"many_fields", 1, "field count", NULL},
    {"bad_utf8", 1, "invalid utf-8", "race"},
    {"long_field", 1, "field too long", "medical_specialty"},
    {"stray_quote", 1, "stray quote", "payer_code"},
    {"unknown_gender", 0, NULL, NULL},
    {"out_of_range", 0, NULL, NULL},
    {"not_integer", 0, NULL, NULL},
    {"duplicate_id", 0, NULL, NULL},
    {"script", 0, NULL, NULL},
    {"img", 0, NULL, NULL},
    {"multiline", 0, NULL, NULL},
    {"unterminated", 1, "unterminated quote", "medical_specialty"},
};

const rdm_synth_dirty_row *rdm_synth_dirty(void)
{
    return DIRTY;
}

long rdm_synth_dirty_line(long rows, int i)
{
    return rows + 2 + i + (i > 11 ? 1 : 0);
}

/* the project's generator (rng.h): the same seed gives the same file */
typedef rdm_rng rng;

static double unif(rng *r)
{
    return rdm_rng_uniform(r);
}

static long below(rng *r, long n)
{
    return (long)(unif(r) * (double)n);
}

/* index drawn with weights w[0..n) */
static int pick(rng *r, const double *w, int n)
{
    double tot = 0;
    for (int i = 0; i < n; i++)
        tot += w[i];
    double u = unif(r) * tot;
    for (int i = 0; i < n; i++) {
        if (u < w[i])
            return i;
        u -= w[i];
    }
    return n - 1;
}

static double normal(rng *r)
{
    double u = unif(r), v = unif(r);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static long clampl(long v, long lo, long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const RACE[] = {"Caucasian", "AfricanAmerican", "?",
                                   "Hispanic",  "Other",           "Asian"};
static const double RACE_W[] = {74.8, 18.9, 2.2, 2.0, 1.5, 0.6};
static const char *const AGE[] = {"[0-10)",  "[10-20)", "[20-30)", "[30-40)", "[40-50)",
                                  "[50-60)", "[60-70)", "[70-80)", "[80-90)", "[90-100)"};
static const double AGE_W[] = {0.2, 0.7, 1.6, 3.7, 9.5, 17.0, 22.1, 25.6, 16.9, 2.7};
static const char *const WEIGHT[] = {"[0-25)",    "[25-50)",   "[50-75)",   "[75-100)", "[100-125)",
                                     "[125-150)", "[150-175)", "[175-200)", ">200"};
static const int ADM_TYPE[] = {1, 3, 2, 6, 5, 8, 7, 4};
static const double ADM_TYPE_W[] = {53.0, 18.5, 18.2, 5.2, 4.7, 0.3, 0.05, 0.05};
static const int DISCH[] = {1,  3, 6,  18, 2, 22, 11, 5,  25, 4,  7,  23, 13, 14,
                            28, 8, 15, 24, 9, 17, 16, 19, 10, 27, 12, 20, 21};
static const double DISCH_W[] = {59.0, 13.7, 12.7, 3.6, 2.1,  2.0,  1.6,  1.2,  1.0,
                                 0.8,  0.6,  0.4,  0.4, 0.4,  0.14, 0.1,  0.06, 0.05,
                                 0.02, 0.02, 0.01, 0.1, 0.01, 0.01, 0.01, 0.1,  0.1};
static const int ADM_SRC[] = {7, 1, 17, 4, 6, 2, 5, 3, 20, 9, 8};
static const double ADM_SRC_W[] = {56.5, 29.0, 6.7, 3.1, 2.2, 1.1, 0.8, 0.2, 0.2, 0.1, 0.1};
static const char *const PAYER[] = {"?",  "MC", "HM", "SP", "BC", "MD", "CP", "UN", "CM",
                                    "OG", "PO", "DM", "CH", "WC", "OT", "MP", "SI", "FR"};
static const double PAYER_W[] = {39.6, 31.9, 6.2, 4.9,  4.6,  3.5,  2.5,  2.4,  1.9,
                                 1.0,  0.6,  0.5, 0.15, 0.13, 0.09, 0.08, 0.05, 0.01};
static const char *const SPEC[] = {"?",
                                   "InternalMedicine",
                                   "Emergency/Trauma",
                                   "Family/GeneralPractice",
                                   "Cardiology",
                                   "Surgery-General",
                                   "Nephrology",
                                   "Orthopedics",
                                   "Orthopedics-Reconstructive",
                                   "Radiologist",
                                   "Pulmonology",
                                   "Psychiatry",
                                   "Urology",
                                   "ObstetricsandGynecology",
                                   "Surgery-Cardiovascular/Thoracic",
                                   "Gastroenterology",
                                   "Pediatrics-Endocrinology",
                                   "Hematology/Oncology"};
static const double SPEC_W[] = {49.1, 14.4, 7.4, 7.3, 5.3, 3.0, 1.6, 1.4, 1.2,
                                1.1,  0.9,  0.8, 0.7, 0.7, 0.6, 0.5, 0.1, 0.2};
/* diagnosis codes: common ones with weights; plus a generated tail */
static const char *const DIAG[] = {
    "428", "414",  "786",    "410",   "486", "427", "491",    "715",   "682", "434",
    "780", "996",  "276",    "250.8", "599", "584", "V57",    "250.6", "518", "577",
    "562", "038",  "250.83", "403",   "401", "250", "250.01", "496",   "585", "272",
    "V45", "E885", "E888",   "8",     "435", "789", "558",    "820",   "574", "493"};
static const double DIAG_W[] = {6.7, 6.5, 4.0, 3.5, 3.4, 2.7, 2.3, 2.1, 2.0, 2.0,
                                2.0, 1.9, 2.5, 1.6, 1.6, 1.4, 1.2, 1.2, 1.5, 1.0,
                                1.1, 1.2, 0.5, 2.2, 2.0, 4.0, 1.5, 1.2, 1.3, 1.4,
                                0.8, 0.3, 0.4, 0.2, 1.0, 1.0, 0.6, 0.7, 0.8, 0.8};
static const char *const GLU[] = {"None", "Norm", ">200", ">300"};
static const double GLU_W[] = {94.7, 2.6, 1.5, 1.2};
static const char *const A1C[] = {"None", ">8", "Norm", ">7"};
static const double A1C_W[] = {83.3, 8.1, 4.9, 3.7};
static const char *const DRUGV[] = {"No", "Steady", "Up", "Down"};
/* share of rows taking each drug (columns 24..47 in schema order) */
static const double DRUG_USE[24] = {19.6, 1.5,  0.7, 0.1,  5.1,   0.001, 12.5,  10.5,
                                    0.02, 7.2,  6.3, 0.3,  0.003, 0.03,  0.04,  0.0,
                                    0.0,  53.4, 0.7, 0.01, 0.001, 0.001, 0.001, 0.0};

typedef struct patient {
    long nbr;
    int race, gender, age;
} patient;

typedef struct sink {
    rdm_synth_write_fn write;
    void *ud;
    rdm_buf b;
} sink;

static int flush(sink *s, int force, rdm_err *err)
{
    if (s->b.len && (force || s->b.len >= 65536)) {
        int rc = s->write(s->ud, s->b.data, s->b.len, err);
        rdm_buf_reset(&s->b);
        return rc;
    }
    return RDM_OK;
}

/* v = s (at most 47 bytes), as snprintf(v, 48, "%s", s) writes it */
static void set_s(char *v, const char *s)
{
    size_t n = strlen(s);
    if (n > 47)
        n = 47;
    memcpy(v, s, n);
    v[n] = '\0';
}

/* v = the decimal text of x, as snprintf(v, 48, "%ld", x) writes it */
static void set_l(char *v, long x)
{
    rdm_fmt_long(x, v);
}

/* One clean row into v[] (values as strings in `store`). Returns the target. */
static void gen_row(rng *r, long i, patient *pats, long *npat, char v[RDM_NCOLS][48])
{
    patient *p;
    if (*npat > 0 && unif(r) < 0.25) {
        p = &pats[below(r, *npat)];
    } else {
        p = &pats[*npat];
        p->nbr = 135 + *npat * 487 + below(r, 487);
        p->race = pick(r, RACE_W, N(RACE_W));
        double g = unif(r);
        p->gender = g < 0.5376 ? 0 : g < 0.99997 ? 1 : 2;
        p->age = pick(r, AGE_W, N(AGE_W));
        (*npat)++;
    }
    static const char *const GENDER[] = {"Female", "Male", "Unknown/Invalid"};
    set_l(v[0], 12522 + i * 97 + below(r, 97));
    set_l(v[1], p->nbr);
    set_s(v[2], RACE[p->race]);
    set_s(v[3], GENDER[p->gender]);
    set_s(v[4], AGE[p->age]);
    set_s(v[5], unif(r) < 0.968 ? "?" : WEIGHT[below(r, N(WEIGHT))]);
    set_l(v[6], ADM_TYPE[pick(r, ADM_TYPE_W, N(ADM_TYPE_W))]);
    int disch = DISCH[pick(r, DISCH_W, N(DISCH_W))];
    set_l(v[7], disch);
    set_l(v[8], ADM_SRC[pick(r, ADM_SRC_W, N(ADM_SRC_W))]);
    long tih = clampl(1 + (long)floor(-log(1 - unif(r)) * 3.4), 1, 14);
    set_l(v[9], tih);
    set_s(v[10], PAYER[pick(r, PAYER_W, N(PAYER_W))]);
    int spec = pick(r, SPEC_W, N(SPEC_W));
    set_s(v[11], SPEC[spec]);
    set_l(v[12], clampl(lround(43 + 19.7 * normal(r) + 1.5 * (double)tih), 1, 132));
    static const double PROC_W[] = {45.8, 20.4, 12.5, 9.3, 4.1, 3.0, 4.9};
    set_l(v[13], pick(r, PROC_W, N(PROC_W)));
    set_l(v[14], clampl(lround(13 + 7.5 * normal(r) + 0.9 * (double)tih), 1, 81));
    long outp = unif(r) < 0.835 ? 0 : clampl(1 + (long)floor(-log(1 - unif(r)) * 1.3), 1, 42);
    long emer = unif(r) < 0.888 ? 0 : clampl(1 + (long)floor(-log(1 - unif(r)) * 0.9), 1, 76);
    long inp = unif(r) < 0.664 ? 0 : clampl(1 + (long)floor(-log(1 - unif(r)) * 1.4), 1, 21);
    set_l(v[15], outp);
    set_l(v[16], emer);
    set_l(v[17], inp);
    int d1 = pick(r, DIAG_W, N(DIAG_W));
    set_s(v[18], unif(r) < 0.0002 ? "?" : DIAG[d1]);
    set_s(v[19], unif(r) < 0.0035 ? "?" : DIAG[pick(r, DIAG_W, N(DIAG_W))]);
    set_s(v[20], unif(r) < 0.014 ? "?" : DIAG[pick(r, DIAG_W, N(DIAG_W))]);
    static const double NDIAG_W[] = {0.2,  1.0, 2.8, 5.4, 10.9, 9.9, 10.2, 10.4,
                                     48.6, 0.1, 0.1, 0.1, 0.1,  0.1, 0.1,  0.1};
    set_l(v[21], 1 + pick(r, NDIAG_W, N(NDIAG_W)));
    set_s(v[22], GLU[pick(r, GLU_W, N(GLU_W))]);
    int a1c = pick(r, A1C_W, N(A1C_W));
    set_s(v[23], A1C[a1c]);
    int changed = 0, anymed = 0;
    for (int k = 0; k < 24; k++) {
        int dv = 0;
        if (unif(r) * 100.0 < DRUG_USE[k]) {
            double u = unif(r);
            dv = k == 17 ? (u < 0.56 ? 1 : u < 0.78 ? 2 : 3) : (u < 0.92 ? 1 : u < 0.965 ? 2 : 3);
            anymed = 1;
            changed |= dv >= 2;
        }
        set_s(v[24 + k], DRUGV[dv]);
    }
    if (!changed && anymed && unif(r) < 0.35)
        changed = 1; /* switched drugs: counts as a change too */
    set_s(v[47], changed ? "Ch" : "No");
    set_s(v[48], anymed ? "Yes" : "No");

    /* the target: a logistic model over a few features and interactions */
    double z = -3.0 + 0.42 * (double)(inp > 4 ? 4 : inp) + 0.18 * (double)(emer > 3 ? 3 : emer) +
               0.05 * (double)(outp > 3 ? 3 : outp) + 0.035 * (double)tih;
    if (disch == 3 || disch == 6 || disch == 22 || disch == 5)
        z += 0.45;
    else if (disch == 2 || disch == 18)
        z += 0.25;
    z += 0.07 * (double)(p->age - 5);
    const char *ch = rdm_icd9_chapter(DIAG[d1]);
    if (!strcmp(ch, "circulatory") && p->age >= 7)
        z += 0.35;
    if (a1c == 1 && !changed)
        z += 0.3;
    if (spec == 0)
        z += 0.15;
    double pr = 1.0 / (1.0 + exp(-z));
    double u = unif(r);
    const char *target = u < pr ? "<30" : unif(r) < 0.395 ? ">30" : "NO";
    set_s(v[49], target);
}

static int put_row(sink *s, char v[RDM_NCOLS][48], int nf)
{
    if (rdm_buf_reserve(&s->b, (size_t)nf * 48 + 1))
        return RDM_ENOMEM;
    char *w = s->b.data + s->b.len;
    for (int k = 0; k < nf; k++) {
        if (k)
            *w++ = ',';
        const char *f = v[k % RDM_NCOLS];
        size_t n = strlen(f);
        memcpy(w, f, n);
        w += n;
    }
    *w++ = '\n';
    *w = '\0';
    s->b.len = (size_t)(w - s->b.data);
    return RDM_OK;
}

/* A row with one column replaced by `raw` (written as is: may hold quotes). */
static int put_with(sink *s, char v[RDM_NCOLS][48], int col, const char *raw, const char *end)
{
    for (int k = 0; k < RDM_NCOLS; k++) {
        if (k && rdm_buf_addc(&s->b, ','))
            return RDM_ENOMEM;
        if (rdm_buf_adds(&s->b, k == col ? raw : v[k]))
            return RDM_ENOMEM;
    }
    return rdm_buf_adds(&s->b, end);
}

/* The dirty rows, in the order of DIRTY: each is a fresh clean row with one
 * change. col >= 0: that column replaced by `raw` (NULL: the long value or
 * the first row's encounter_id); FEW/MANY: a field short or one too many. */
enum { FEW = -1, MANY = -2 };

static const struct {
    int col;
    const char *raw;
} DIRTY_ROWS[RDM_SYNTH_NDIRTY] = {
    {FEW, NULL},                                   /* few_fields */
    {MANY, NULL},                                  /* many_fields */
    {2, "Cauc\xE9sian"},                           /* bad_utf8 */
    {11, NULL},                                    /* long_field */
    {10, "M\"C"},                                  /* stray_quote */
    {3, "Robot"},                                  /* unknown_gender */
    {9, "99"},                                     /* out_of_range */
    {12, "forty"},                                 /* not_integer */
    {0, NULL},                                     /* duplicate_id */
    {11, "<script>alert(1)</script>"},             /* script */
    {11, "\"\"\"><img src=x onerror=alert(1)>\""}, /* img */
    {11, "\"Surgery, General\nNight\""},           /* multiline */
    {11, "\"Cardiology"},                          /* unterminated, last line */
};

static int write_dirty(sink *s, rng *r, long rows, const char *first_id, patient *pats, long *npat)
{
    char v[RDM_NCOLS][48];
    long i = rows;
    rdm_buf longv = RDM_BUF_INIT;
    int rc = RDM_OK;
    for (int k = 0; k < 5000 && rc == RDM_OK; k++)
        rc = rdm_buf_addc(&longv, (char)('A' + k % 26));
    for (int d = 0; d < RDM_SYNTH_NDIRTY && rc == RDM_OK; d++) {
        gen_row(r, i++, pats, npat, v);
        int col = DIRTY_ROWS[d].col;
        const char *raw = DIRTY_ROWS[d].raw;
        if (col == FEW || col == MANY)
            rc = put_row(s, v, RDM_NCOLS + (col == FEW ? -1 : 1));
        else
            rc = put_with(s, v, col, raw ? raw : col == 0 ? first_id : longv.data, "\n");
    }
    rdm_buf_release(&longv);
    return rc ? RDM_ENOMEM : RDM_OK;
}

int rdm_synth(long rows, uint64_t seed, int dirty, rdm_synth_write_fn write, void *ud, rdm_err *err)
{
    if (rows < 0 || (dirty && rows < 1))
        return rdm_errf(err, RDM_EINVAL, "synth: rows must be >= %d, not %ld", dirty ? 1 : 0, rows);
    rng r;
    rdm_rng_seed(&r, seed);
    sink s = {write, ud, RDM_BUF_INIT};
    patient *pats = calloc((size_t)rows + RDM_SYNTH_NDIRTY + 1, sizeof *pats);
    if (!pats)
        return rdm_errf(err, RDM_ENOMEM, "synth: out of memory");
    long npat = 0;
    int rc = RDM_OK;
    const rdm_column *cols = rdm_schema_columns();
    for (int k = 0; k < RDM_NCOLS && rc == RDM_OK; k++)
        rc = rdm_buf_printf(&s.b, "%s%s", k ? "," : "", cols[k].name);
    if (rc == RDM_OK)
        rc = rdm_buf_addc(&s.b, '\n');
    char v[RDM_NCOLS][48];
    char first_id[48] = "";
    for (long i = 0; i < rows && rc == RDM_OK; i++) {
        gen_row(&r, i, pats, &npat, v);
        if (i == 0)
            memcpy(first_id, v[0], sizeof first_id);
        rc = put_row(&s, v, RDM_NCOLS);
        if (rc == RDM_OK)
            rc = flush(&s, 0, err);
    }
    if (rc == RDM_ENOMEM)
        rdm_errf(err, rc, "synth: out of memory");
    if (rc == RDM_OK && dirty)
        if ((rc = write_dirty(&s, &r, rows, first_id, pats, &npat)) != RDM_OK)
            rdm_errf(err, rc, "synth: out of memory");
    if (rc == RDM_OK)
        rc = flush(&s, 1, err);
    rdm_buf_release(&s.b);
    free(pats);
    return rc;
}

static int buf_write(void *ud, const char *p, size_t n, rdm_err *err)
{
    if (rdm_buf_add(ud, p, n))
        return rdm_errf(err, RDM_ENOMEM, "synth: out of memory");
    return RDM_OK;
}

int rdm_synth_buf(long rows, uint64_t seed, int dirty, rdm_buf *out, rdm_err *err)
{
    return rdm_synth(rows, seed, dirty, buf_write, out, err);
}

/* Codes of one column in increasing order, without repeats. */
static int sorted_codes(const int *v, int n, int *out)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        int k = m;
        while (k > 0 && out[k - 1] > v[i])
            k--;
        if (k > 0 && out[k - 1] == v[i])
            continue;
        memmove(out + k + 1, out + k, (size_t)(m - k) * sizeof *out);
        out[k] = v[i];
        m++;
    }
    return m;
}

int rdm_synth_mapping(rdm_buf *out, rdm_err *err)
{
    static const struct {
        const char *col, *first, *other;
        const int *codes;
        int n;
    } T[] = {{"admission_type_id", "Emergency", "Synthetic admission type", ADM_TYPE,
              (int)(sizeof ADM_TYPE / sizeof ADM_TYPE[0])},
             {"discharge_disposition_id", "Discharged to home", "Synthetic disposition", DISCH,
              (int)(sizeof DISCH / sizeof DISCH[0])},
             {"admission_source_id", " Physician Referral", "Synthetic source, code", ADM_SRC,
              (int)(sizeof ADM_SRC / sizeof ADM_SRC[0])}};

    int rc = RDM_OK;
    for (size_t t = 0; rc == RDM_OK && t < sizeof T / sizeof T[0]; t++) {
        int codes[64];
        int m = sorted_codes(T[t].codes, T[t].n, codes);
        rc = rdm_buf_printf(out, "%s%s,description\r\n", t ? ",\r\n" : "", T[t].col);
        for (int i = 0; rc == RDM_OK && i < m; i++)
            rc = codes[i] == 1
                     ? rdm_buf_printf(out, "1,%s\r\n", T[t].first)
                     : rdm_buf_printf(out, "%d,\"%s %d\"\r\n", codes[i], T[t].other, codes[i]);
    }
    return rc == RDM_OK ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "synth: out of memory");
}
