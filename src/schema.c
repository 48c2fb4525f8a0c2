/* schema.c - column table of the encounter schema and the value helpers. */
#include "schema.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const L_RACE[] = {"Caucasian", "AfricanAmerican", "Hispanic",
                                     "Other",     "Asian",           NULL};
static const char *const L_GENDER[] = {"Female", "Male", "Unknown/Invalid", NULL};
static const char *const L_AGE[] = {"[0-10)",  "[10-20)",  "[20-30)", "[30-40)",
                                    "[40-50)", "[50-60)",  "[60-70)", "[70-80)",
                                    "[80-90)", "[90-100)", NULL};
static const char *const L_WEIGHT[] = {"[0-25)",    "[25-50)",   "[50-75)",   "[75-100)",
                                       "[100-125)", "[125-150)", "[150-175)", "[175-200)",
                                       ">200",      NULL};
static const char *const L_PAYER[] = {"MC", "HM", "SP", "BC", "MD", "CP", "UN", "CM", "OG",
                                      "PO", "DM", "CH", "WC", "OT", "MP", "SI", "FR", NULL};
static const char *const L_GLU[] = {"None", "Norm", ">200", ">300", NULL};
static const char *const L_A1C[] = {"None", "Norm", ">7", ">8", NULL};
static const char *const L_DRUG[] = {"No", "Steady", "Up", "Down", NULL};
static const char *const L_CHANGE[] = {"No", "Ch", NULL};
static const char *const L_YESNO[] = {"No", "Yes", NULL};
static const char *const L_READMIT[] = {"NO", ">30", "<30", NULL};

#define ID(n)                                 \
    {                                         \
        n, RDM_COL_ID, NULL, 1, 999999999999L \
    }
#define INT(n, lo, hi)               \
    {                                \
        n, RDM_COL_INT, NULL, lo, hi \
    }
#define CODE(n)                      \
    {                                \
        n, RDM_COL_CODE, NULL, 1, 99 \
    }
#define CAT(n, l)               \
    {                           \
        n, RDM_COL_CAT, l, 0, 0 \
    }
#define DIAG(n)                     \
    {                               \
        n, RDM_COL_DIAG, NULL, 0, 0 \
    }
#define DRUG(n) CAT(n, L_DRUG)

static const rdm_column COLUMNS[RDM_NCOLS] = {
    ID("encounter_id"),
    ID("patient_nbr"),
    CAT("race", L_RACE),
    CAT("gender", L_GENDER),
    CAT("age", L_AGE),
    CAT("weight", L_WEIGHT),
    CODE("admission_type_id"),
    CODE("discharge_disposition_id"),
    CODE("admission_source_id"),
    INT("time_in_hospital", 1, 14),
    CAT("payer_code", L_PAYER),
    CAT("medical_specialty", NULL),
    INT("num_lab_procedures", 0, 200),
    INT("num_procedures", 0, 10),
    INT("num_medications", 0, 150),
    INT("number_outpatient", 0, 100),
    INT("number_emergency", 0, 100),
    INT("number_inpatient", 0, 100),
    DIAG("diag_1"),
    DIAG("diag_2"),
    DIAG("diag_3"),
    INT("number_diagnoses", 0, 30),
    CAT("max_glu_serum", L_GLU),
    CAT("A1Cresult", L_A1C),
    DRUG("metformin"),
    DRUG("repaglinide"),
    DRUG("nateglinide"),
    DRUG("chlorpropamide"),
    DRUG("glimepiride"),
    DRUG("acetohexamide"),
    DRUG("glipizide"),
    DRUG("glyburide"),
    DRUG("tolbutamide"),
    DRUG("pioglitazone"),
    DRUG("rosiglitazone"),
    DRUG("acarbose"),
    DRUG("miglitol"),
    DRUG("troglitazone"),
    DRUG("tolazamide"),
    DRUG("examide"),
    DRUG("citoglipton"),
    DRUG("insulin"),
    DRUG("glyburide-metformin"),
    DRUG("glipizide-metformin"),
    DRUG("glimepiride-pioglitazone"),
    DRUG("metformin-rosiglitazone"),
    DRUG("metformin-pioglitazone"),
    CAT("change", L_CHANGE),
    CAT("diabetesMed", L_YESNO),
    {"readmitted", RDM_COL_TARGET, L_READMIT, 0, 0},
};

const rdm_column *rdm_schema_columns(void)
{
    return COLUMNS;
}

int rdm_schema_find(const char *name)
{
    for (int i = 0; i < RDM_NCOLS; i++)
        if (strcmp(COLUMNS[i].name, name) == 0)
            return i;
    return -1;
}

size_t rdm_value_normalize(const char *v, char *out, size_t outsz)
{
    if (outsz == 0)
        return 0;
    if (!v) {
        out[0] = '\0';
        return 0;
    }
    size_t at, n = rdm_value_trim(v, strlen(v), &at);
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, v + at, n);
    out[n] = '\0';
    return n;
}

static const char *const CHAPTERS[] = {
    "circulatory",   "respiratory", "digestive",  "diabetes",  "injury",   "musculoskeletal",
    "genitourinary", "neoplasms",   "infectious", "endocrine", "blood",    "mental",
    "nervous",       "skin",        "congenital", "pregnancy", "symptoms", "external",
    "supplementary", "other",       "missing",    NULL};

const char *const *rdm_icd9_chapters(void)
{
    return CHAPTERS;
}

const char *rdm_icd9_chapter(const char *code)
{
    if (rdm_value_is_missing(code))
        return "missing";
    if (code[0] == 'V' || code[0] == 'v')
        return "supplementary";
    if (code[0] == 'E' || code[0] == 'e')
        return "external";
    char *end;
    errno = 0;
    double d = strtod(code, &end);
    /* "nan", "inf" and huge exponents parse too; only 0..999 are codes */
    if (end == code || *end != '\0' || errno || !(d >= 0.0 && d < 1000.0))
        return "other";
    int c = (int)d;
    if (c == 250)
        return "diabetes";
    if (c >= 390 && c <= 459)
        return "circulatory";
    if (c == 785)
        return "circulatory";
    if (c >= 460 && c <= 519)
        return "respiratory";
    if (c == 786)
        return "respiratory";
    if (c >= 520 && c <= 579)
        return "digestive";
    if (c == 787)
        return "digestive";
    if (c >= 800 && c <= 999)
        return "injury";
    if (c >= 710 && c <= 739)
        return "musculoskeletal";
    if (c >= 580 && c <= 629)
        return "genitourinary";
    if (c == 788)
        return "genitourinary";
    if (c >= 140 && c <= 239)
        return "neoplasms";
    if (c >= 1 && c <= 139)
        return "infectious";
    if (c >= 240 && c <= 279)
        return "endocrine";
    if (c >= 280 && c <= 289)
        return "blood";
    if (c >= 290 && c <= 319)
        return "mental";
    if (c >= 320 && c <= 389)
        return "nervous";
    if (c >= 680 && c <= 709)
        return "skin";
    if (c >= 740 && c <= 759)
        return "congenital";
    if (c >= 630 && c <= 679)
        return "pregnancy";
    if (c >= 780 && c <= 799)
        return "symptoms";
    return "other";
}

int rdm_target_from(const char *r)
{
    if (!r)
        return -1;
    if (strcmp(r, "<30") == 0)
        return 1;
    if (strcmp(r, "NO") == 0 || strcmp(r, ">30") == 0)
        return 0;
    return -1;
}

int rdm_parse_long(const char *s, long *out)
{
    if (!s || !*s)
        return -1;
    /* the usual text (an optional '-' and 1..18 digits) without strtol: the
     * same answer, on the request and encoding hot paths */
    const char *p = s + (s[0] == '-');
    long x = 0;
    int k = 0;
    while (p[k] >= '0' && p[k] <= '9' && k < 18) {
        x = x * 10 + (p[k] - '0');
        k++;
    }
    if (k > 0 && p[k] == '\0') {
        *out = s[0] == '-' ? -x : x;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || end == s || s[0] == ' ' || s[0] == '+')
        return -1;
    *out = v;
    return 0;
}
