/* test_synth.c - synthetic generator: determinism, exact header, row count,
 * value domains, the dirty rows as documented in synth.h (read back through
 * the CSV reader), and the header check of ingest. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ingest.h"
#include "schema.h"
#include "synth.h"

int test_synth_register(void);

static void test_synth_deterministic(void)
{
    rdm_buf a = RDM_BUF_INIT, b = RDM_BUF_INIT, c = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_synth_buf(500, 42, 1, &a, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_synth_buf(500, 42, 1, &b, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_synth_buf(500, 43, 1, &c, &err), RDM_OK);
    CU_ASSERT_EQUAL(a.len, b.len);
    CU_ASSERT_EQUAL(memcmp(a.data, b.data, a.len), 0);
    CU_ASSERT_TRUE(a.len != c.len || memcmp(a.data, c.data, a.len) != 0);
    rdm_buf_release(&a);
    rdm_buf_release(&b);
    rdm_buf_release(&c);
}

static void test_synth_header_and_rows(void)
{
    rdm_buf a = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_synth_buf(1000, 5, 0, &a, &err), RDM_OK);
    /* header line, written out by hand from the data set's documentation */
    const char *hdr = "encounter_id,patient_nbr,race,gender,age,weight,admission_"
                      "type_id,discharge_disposition_id,"
                      "admission_source_id,time_in_hospital,payer_code,medical_"
                      "specialty,num_lab_procedures,"
                      "num_procedures,num_medications,number_outpatient,number_"
                      "emergency,number_inpatient,diag_1,"
                      "diag_2,diag_3,number_diagnoses,max_glu_serum,A1Cresult,"
                      "metformin,repaglinide,nateglinide,"
                      "chlorpropamide,glimepiride,acetohexamide,glipizide,"
                      "glyburide,tolbutamide,pioglitazone,"
                      "rosiglitazone,acarbose,miglitol,troglitazone,tolazamide,"
                      "examide,citoglipton,insulin,"
                      "glyburide-metformin,glipizide-metformin,glimepiride-"
                      "pioglitazone,metformin-rosiglitazone,"
                      "metformin-pioglitazone,change,diabetesMed,readmitted\n";
    CU_ASSERT_FATAL(a.len > strlen(hdr));
    CU_ASSERT_EQUAL(memcmp(a.data, hdr, strlen(hdr)), 0);
    size_t lines = 0;
    for (size_t i = 0; i < a.len; i++)
        lines += a.data[i] == '\n';
    CU_ASSERT_EQUAL(lines, 1001);

    /* every row: 50 fields, no problem, categories from the schema's levels,
     * integers in range, unique encounter ids, repeat patients, some <30 */
    rdm_csv *c = rdm_csv_open_mem(a.data, a.len, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_read_header(c, &err), RDM_OK);
    const rdm_column *cols = rdm_schema_columns();
    rdm_csv_record r;
    long n = 0, pos = 0, bad = 0, excluded = 0, prev_id = -1, ids_increasing = 1;
    long *pats = calloc(1000, sizeof *pats);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pats);
    while (rdm_csv_next(c, &r, &err) == 1) {
        if (r.problem || r.nfields != RDM_NCOLS) {
            bad++;
            continue;
        }
        for (int k = 0; k < RDM_NCOLS; k++) {
            const char *v = r.fields[k];
            if (rdm_value_is_missing(v))
                continue;
            if (cols[k].levels) {
                int found = 0;
                for (int l = 0; cols[k].levels[l] && !found; l++)
                    found = strcmp(cols[k].levels[l], v) == 0;
                bad += !found;
            } else if (cols[k].kind == RDM_COL_INT || cols[k].kind == RDM_COL_CODE ||
                       cols[k].kind == RDM_COL_ID) {
                long x;
                bad += rdm_parse_long(v, &x) != 0 || x < cols[k].min || x > cols[k].max;
            }
        }
        long id = atol(r.fields[0]);
        ids_increasing &= id > prev_id;
        prev_id = id;
        if (n < 1000)
            pats[n] = atol(r.fields[1]);
        long d = atol(r.fields[RDM_C_DISCHARGE]);
        excluded += d == 11 || d == 13 || d == 14 || d == 19 || d == 20 || d == 21;
        pos += rdm_target_from(r.fields[RDM_C_READMITTED]) == 1;
        n++;
    }
    CU_ASSERT_EQUAL(n, 1000);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(ids_increasing);
    CU_ASSERT_TRUE(pos > 60 && pos < 180); /* about 11% */
    CU_ASSERT_TRUE(excluded > 3);          /* the discharge filter has work */
    long repeats = 0;
    for (long i = 0; i < n && i < 1000; i++)
        for (long j = 0; j < i; j++)
            if (pats[i] == pats[j]) {
                repeats++;
                break;
            }
    CU_ASSERT_TRUE(repeats > 100 && repeats < 400); /* about a quarter */
    free(pats);
    rdm_csv_free(c);
    rdm_buf_release(&a);
}

static void test_synth_dirty_rows(void)
{
    rdm_buf a = RDM_BUF_INIT;
    rdm_err err = {0};
    const long rows = 20;
    CU_ASSERT_EQUAL_FATAL(rdm_synth_buf(rows, 9, 1, &a, &err), RDM_OK);
    rdm_csv *c = rdm_csv_open_mem(a.data, a.len, 1024, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_read_header(c, &err), RDM_OK);
    rdm_csv_record r;
    char first_id[32] = "";
    for (long i = 0; i < rows; i++) {
        CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
        CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
        if (i == 0)
            snprintf(first_id, sizeof first_id, "%s", r.fields[0]);
    }
    const rdm_synth_dirty_row *d = rdm_synth_dirty();
    for (int i = 0; i < RDM_SYNTH_NDIRTY; i++) {
        CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
        CU_ASSERT_EQUAL(r.line, rdm_synth_dirty_line(rows, i));
        if (d[i].raw_reject) {
            CU_ASSERT_STRING_EQUAL(rdm_csv_problem_name(r.problem), d[i].problem);
            if (d[i].column) {
                char want[64];
                snprintf(want, sizeof want, "column '%s'", d[i].column);
                CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, want));
            }
        } else {
            CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
        }
    }
    CU_ASSERT_EQUAL(rdm_csv_next(c, &r, &err), 0);
    rdm_csv_free(c);
    /* the value-level rows, checked on the text itself */
    CU_ASSERT_PTR_NOT_NULL(strstr(a.data, ",Robot,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a.data, ",<script>alert(1)</script>,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a.data, ",\"\"\"><img src=x onerror=alert(1)>\","));
    CU_ASSERT_PTR_NOT_NULL(strstr(a.data, ",forty,"));
    char dup[40];
    snprintf(dup, sizeof dup, "\n%s,", first_id);
    CU_ASSERT_PTR_NOT_NULL(strstr(a.data, dup)); /* the first id again, at a line start */
    CU_ASSERT_EQUAL(a.data[a.len - 1], '\n');
    rdm_buf_release(&a);

    /* 6 raw-level rejects: the t1000 integration test relies on this */
    int raw = 0;
    for (int i = 0; i < RDM_SYNTH_NDIRTY; i++)
        raw += d[i].raw_reject;
    CU_ASSERT_EQUAL(raw, 6);
    CU_ASSERT_EQUAL(rdm_synth_buf(0, 1, 1, &a, &err), RDM_EINVAL);
    rdm_buf_release(&a);
}

static void test_ingest_header_check(void)
{
    const rdm_column *cols = rdm_schema_columns();
    const char *names[RDM_NCOLS + 1];
    for (int i = 0; i < RDM_NCOLS; i++)
        names[i] = cols[i].name;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_ingest_check_header(names, RDM_NCOLS, "f.csv", &err), RDM_OK);

    names[2] = "ethnicity";
    names[RDM_NCOLS] = "gender"; /* duplicate */
    CU_ASSERT_EQUAL(rdm_ingest_check_header(names, RDM_NCOLS + 1, "f.csv", &err), RDM_ESCHEMA);
    CU_ASSERT_STRING_EQUAL(err.msg, "f.csv: header does not match the schema: missing columns: "
                                    "race; unexpected columns: ethnicity, gender (duplicate)");
    rdm_err_clear(&err);
    names[2] = "gender";
    names[3] = "race"; /* swapped */
    CU_ASSERT_EQUAL(rdm_ingest_check_header(names, RDM_NCOLS, "f.csv", &err), RDM_ESCHEMA);
    CU_ASSERT_STRING_EQUAL(err.msg, "f.csv: header does not match the schema: column 3 is "
                                    "'gender', expected 'race' (columns out of order)");
}

/* A wholly different file: both lists are capped so the unexpected columns
 * are not cut off the end of the message. */
static void test_ingest_header_wrong_file(void)
{
    const char *names[] = {"a", "b", "c"};
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_ingest_check_header(names, 3, "x.csv", &err), RDM_ESCHEMA);
    CU_ASSERT_STRING_EQUAL(err.msg, "x.csv: header does not match the schema: missing columns: "
                                    "encounter_id, patient_nbr, race, gender, age, weight, "
                                    "admission_type_id, discharge_disposition_id, "
                                    "admission_source_id, time_in_hospital and 40 more; "
                                    "unexpected columns: a, b, c");
}

int test_synth_register(void)
{
    CU_pSuite s = CU_add_suite("synth", NULL, NULL);
    if (!s)
        return -1;
    return (CU_ADD_TEST(s, test_synth_deterministic) &&
            CU_ADD_TEST(s, test_synth_header_and_rows) && CU_ADD_TEST(s, test_synth_dirty_rows) &&
            CU_ADD_TEST(s, test_ingest_header_check) &&
            CU_ADD_TEST(s, test_ingest_header_wrong_file))
               ? 0
               : -1;
}
