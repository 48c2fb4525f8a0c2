/* test_encode.c - the fitted encoder: vocabularies, ranks, scaling, missing and unseen values. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"

int test_encode_register(void);

#define NROWS 60

/* A table of NROWS rows with plain defaults, then the columns under test:
 * race: Caucasian x30, AfricanAmerican x20, Asian x5, missing x5 (rows 55..59)
 *       rows 40..59 of the table are NOT given to fit in test_fit_subset;
 * time_in_hospital: 2 and 4 alternating, rows 58, 59 missing -> mean 3, sd 1
 * diag_1: 428 x30, 250.01 x10, V57 x10, missing x10 */
static const char **make_rows(void)
{
    const rdm_column *sc = rdm_schema_columns();
    const char **cells = calloc(NROWS * RDM_NCOLS, sizeof *cells);
    if (!cells)
        return NULL;
    for (int r = 0; r < NROWS; r++) {
        const char **row = cells + r * RDM_NCOLS;
        for (int c = 0; c < RDM_NCOLS; c++) {
            switch (sc[c].kind) {
            case RDM_COL_INT:
                row[c] = "5";
                break;
            case RDM_COL_CAT:
                row[c] = sc[c].levels ? sc[c].levels[0] : "Cardiology";
                break;
            case RDM_COL_DIAG:
                row[c] = "428";
                break;
            case RDM_COL_TARGET:
                row[c] = "NO";
                break;
            default:
                row[c] = "1";
            }
        }
        int race = rdm_schema_find("race"), tih = rdm_schema_find("time_in_hospital");
        row[race] = r < 30 ? "Caucasian" : r < 50 ? "AfricanAmerican" : r < 55 ? "Asian" : "?";
        row[tih] = r >= 58 ? "" : (r % 2 ? "4" : "2");
        row[RDM_C_DIAG_1] = r < 30 ? "428" : r < 40 ? "250.01" : r < 50 ? " V57 " : NULL;
    }
    return cells;
}

static int find_tree(const rdm_encoder *e, const char *name)
{
    for (int j = 0; j < rdm_encoder_tree_dim(e); j++)
        if (strcmp(rdm_encoder_tree_name(e, j), name) == 0)
            return j;
    return -1;
}

static int find_lin(const rdm_encoder *e, const char *name)
{
    for (int j = 0; j < rdm_encoder_lin_dim(e); j++)
        if (strcmp(rdm_encoder_lin_name(e, j), name) == 0)
            return j;
    return -1;
}

/* Value of linear column j in an encoded row (0 when not stored). */
static double lin_value(const int32_t *idx, const float *val, int nnz, int j)
{
    for (int k = 0; k < nnz; k++)
        if (idx[k] == j)
            return val[k];
    return 0;
}

static void test_fit_tree(void)
{
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    rdm_encoder_params prm = {20, RDM_DIAG_RANK_CHAPTER};
    rdm_err err = {0};
    rdm_encoder *e = rdm_encoder_fit(cells, NULL, NROWS, &prm, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    int jr = find_tree(e, "race"), jt = find_tree(e, "time_in_hospital");
    int jd = find_tree(e, "diag_1_rank"), jg = find_tree(e, "diag_1_group");
    CU_ASSERT_FATAL(jr >= 0 && jt >= 0 && jd >= 0 && jg == jd + 1);
    CU_ASSERT_EQUAL(find_tree(e, "encounter_id"), -1);
    CU_ASSERT_EQUAL(find_tree(e, "readmitted"), -1);
    const int *ncat = rdm_encoder_tree_ncat(e);
    CU_ASSERT_EQUAL(ncat[jr], 3); /* Caucasian, AfricanAmerican, other */
    CU_ASSERT_EQUAL(ncat[jt], 0);
    CU_ASSERT_EQUAL(ncat[jd], 0);
    int nch = 0;
    while (rdm_icd9_chapters()[nch])
        nch++;
    CU_ASSERT_EQUAL(ncat[jg], nch);
    const char *const *lv = rdm_encoder_levels(e, rdm_schema_find("race"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(lv);
    CU_ASSERT_STRING_EQUAL(lv[0], "Caucasian"); /* most frequent first */
    CU_ASSERT_STRING_EQUAL(lv[1], "AfricanAmerican");
    CU_ASSERT_PTR_NULL(lv[2]);

    float x[RDM_ENC_MAX_TREE];
    rdm_warnings w = {0};
    const char *row[RDM_NCOLS];
    memcpy(row, cells + 52 * RDM_NCOLS, sizeof row); /* Asian: seen but rare */
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, row, x, &w, &err), RDM_OK);
    CU_ASSERT_EQUAL(x[jr], 2.0f);
    CU_ASSERT_EQUAL(w.n, 0);
    CU_ASSERT_EQUAL(x[jt], 2.0f);
    row[rdm_schema_find("race")] = "Martian";
    row[RDM_C_DIAG_1] = "999";
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, row, x, &w, &err), RDM_OK);
    CU_ASSERT_EQUAL(x[jr], 2.0f);
    CU_ASSERT_EQUAL_FATAL(w.n, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg[0], "'race'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg[0], "Martian"));
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg[1], "'diag_1'"));
    // ranks: 428 -> 1; 250.01 and V57 tie -> 2; unseen -> 3 codes + 1 = 4
    CU_ASSERT_EQUAL(x[jd], 4.0f);
    CU_ASSERT_EQUAL(x[jg], (float)(nch > 0 ? 1 : 0) * x[jg]); /* injury chapter, a valid code */
    CU_ASSERT(x[jg] >= 0 && x[jg] < nch);
    row[RDM_C_DIAG_1] = "V57";
    rdm_encoder_tree_row(e, row, x, NULL, &err);
    CU_ASSERT_EQUAL(x[jd], 2.0f);
    CU_ASSERT_STRING_EQUAL(rdm_icd9_chapters()[(int)x[jg]], "supplementary");
    row[RDM_C_DIAG_1] = "250.01";
    rdm_encoder_tree_row(e, row, x, NULL, &err);
    CU_ASSERT_EQUAL(x[jd], 2.0f);
    CU_ASSERT_STRING_EQUAL(rdm_icd9_chapters()[(int)x[jg]], "diabetes");
    row[RDM_C_DIAG_1] = "428";
    rdm_encoder_tree_row(e, row, x, NULL, &err);
    CU_ASSERT_EQUAL(x[jd], 1.0f);
    // missing -> NaN
    row[rdm_schema_find("race")] = "?";
    row[rdm_schema_find("time_in_hospital")] = NULL;
    row[RDM_C_DIAG_1] = "";
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, row, x, NULL, &err), RDM_OK);
    CU_ASSERT(isnan(x[jr]) && isnan(x[jt]) && isnan(x[jd]) && isnan(x[jg]));
    // "None" is a category, not missing
    int jglu = find_tree(e, "max_glu_serum");
    row[rdm_schema_find("max_glu_serum")] = "None";
    rdm_encoder_tree_row(e, row, x, NULL, &err);
    CU_ASSERT_EQUAL(x[jglu], 0.0f);
    rdm_encoder_free(e);
    free(cells);
}

static void test_fit_linear(void)
{
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    rdm_encoder_params prm = {20, RDM_DIAG_RANK_CHAPTER};
    rdm_encoder *e = rdm_encoder_fit(cells, NULL, NROWS, &prm, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    int nnz = rdm_encoder_lin_nnz(e);
    int jc = find_lin(e, "race=Caucasian"), jo = find_lin(e, "race=<other>");
    int jm = find_lin(e, "race=<missing>"), jt = find_lin(e, "time_in_hospital");
    int jti = find_lin(e, "time_in_hospital=<missing>"), jl = find_lin(e, "diag_1_logrank");
    CU_ASSERT_FATAL(jc >= 0 && jo >= 0 && jm >= 0 && jt >= 0 && jti >= 0 && jl >= 0);
    CU_ASSERT_EQUAL(find_lin(e, "num_medications=<missing>"), -1); /* no missing in training */
    CU_ASSERT_DOUBLE_EQUAL(rdm_encoder_lin_scale(e, jt), 1.0, 1e-12);
    int32_t idx[RDM_ENC_MAX_NNZ];
    float val[RDM_ENC_MAX_NNZ];
    const char *row[RDM_NCOLS];
    memcpy(row, cells + 1 * RDM_NCOLS, sizeof row); /* Caucasian, time 4 */
    CU_ASSERT_EQUAL(rdm_encoder_lin_row(e, row, idx, val, NULL, NULL), RDM_OK);
    for (int k = 1; k < nnz; k++)
        CU_ASSERT(idx[k] > idx[k - 1]);
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jc), 1.0);
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jo), 0.0);
    CU_ASSERT_DOUBLE_EQUAL(lin_value(idx, val, nnz, jt), 1.0, 1e-6); /* (4 - 3) / 1 */
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jti), 0.0);
    // log rank: ranks 1 (x30), 2 (x20), mean = 20 log 2 / 50, sd = sqrt(p(1-p)) log 2, p = 0.4
    double mu = 0.4 * log(2), sd = sqrt(0.24) * log(2);
    CU_ASSERT_DOUBLE_EQUAL(lin_value(idx, val, nnz, jl), (0 - mu) / sd, 1e-6);
    row[rdm_schema_find("race")] = "?";
    row[rdm_schema_find("time_in_hospital")] = "?";
    CU_ASSERT_EQUAL(rdm_encoder_lin_row(e, row, idx, val, NULL, NULL), RDM_OK);
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jm), 1.0);
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jc), 0.0);
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jt), 0.0);
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jti), 1.0);
    row[rdm_schema_find("race")] = "Asian"; /* rare -> other */
    rdm_encoder_lin_row(e, row, idx, val, NULL, NULL);
    CU_ASSERT_EQUAL(lin_value(idx, val, nnz, jo), 1.0);
    // matrix form equals row form
    int32_t *mc = malloc(NROWS * (size_t)nnz * sizeof *mc);
    float *mv = malloc(NROWS * (size_t)nnz * sizeof *mv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mv);
    CU_ASSERT_EQUAL(rdm_encoder_lin_matrix(e, cells, NULL, NROWS, mc, mv, NULL), RDM_OK);
    rdm_encoder_lin_row(e, cells + 7 * RDM_NCOLS, idx, val, NULL, NULL);
    CU_ASSERT(memcmp(idx, mc + 7 * nnz, (size_t)nnz * sizeof *idx) == 0);
    CU_ASSERT(memcmp(val, mv + 7 * nnz, (size_t)nnz * sizeof *val) == 0);
    free(mc);
    free(mv);
    rdm_encoder_free(e);
    free(cells);
}

static void test_fit_subset(void)
{
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    // rows 0..39 only: AfricanAmerican has 10 rows (< 20), Asian none
    size_t idx[40];
    for (size_t i = 0; i < 40; i++)
        idx[i] = i;
    rdm_encoder_params prm = {5, RDM_DIAG_RANK_CHAPTER};
    rdm_encoder *e = rdm_encoder_fit(cells, idx, 40, &prm, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const char *const *lv = rdm_encoder_levels(e, rdm_schema_find("race"));
    CU_ASSERT_STRING_EQUAL(lv[0], "Caucasian");
    CU_ASSERT_STRING_EQUAL(lv[1], "AfricanAmerican");
    CU_ASSERT_PTR_NULL(lv[2]);
    CU_ASSERT_EQUAL(find_lin(e, "time_in_hospital=<missing>"), -1); /* rows 58, 59 not seen */
    rdm_warnings w = {0};
    float x[RDM_ENC_MAX_TREE];
    const char *row[RDM_NCOLS];
    memcpy(row, cells + 52 * RDM_NCOLS, sizeof row);
    row[RDM_C_DIAG_1] = "V57";
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, row, x, &w, NULL), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(w.n, 2); /* Asian and V57 never seen in these rows */
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg[0], "Asian"));
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg[1], "V57"));
    rdm_encoder_free(e);
    free(cells);
}

static void test_bad_values(void)
{
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    int nm = rdm_schema_find("num_medications");
    cells[3 * RDM_NCOLS + nm] = "12x";
    rdm_err err = {0};
    rdm_encoder *e = rdm_encoder_fit(cells, NULL, NROWS, NULL, &err);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(err.code, RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "num_medications"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 4"));
    cells[3 * RDM_NCOLS + nm] = "12";
    e = rdm_encoder_fit(cells, NULL, NROWS, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const char *row[RDM_NCOLS];
    memcpy(row, cells, sizeof row);
    row[nm] = "many";
    float x[RDM_ENC_MAX_TREE];
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, row, x, NULL, &err), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'num_medications'"));
    row[nm] = "1000"; /* out of the schema range */
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, row, x, NULL, &err), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "range"));
    row[nm] = " 7 "; /* trimmed like clean does */
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, row, x, NULL, NULL), RDM_OK);
    rdm_encoder_free(e);
    free(cells);
}

/* Columns fitted on a pool: the same encoder (its saved text) as on one
 * thread, in both diagnosis modes; a bad value in two columns reports the
 * first column's row, as the fit in order does. */
static void test_fit_pool(void)
{
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    rdm_pool *pool = rdm_pool_create(3, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
    for (int mode = 0; mode < 2; mode++) {
        rdm_encoder_params prm = {2, mode};
        rdm_encoder *a = rdm_encoder_fit(cells, NULL, NROWS, &prm, NULL);
        rdm_encoder *b = rdm_encoder_fit_on(cells, NULL, NROWS, &prm, pool, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        rdm_buf ta = RDM_BUF_INIT, tb = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_encoder_save(a, &ta, NULL), RDM_OK);
        CU_ASSERT_EQUAL(rdm_encoder_save(b, &tb, NULL), RDM_OK);
        CU_ASSERT(ta.len > 0 && ta.len == tb.len && memcmp(ta.data, tb.data, ta.len) == 0);
        rdm_buf_release(&ta);
        rdm_buf_release(&tb);
        rdm_encoder_free(a);
        rdm_encoder_free(b);
    }
    int nm = rdm_schema_find("num_medications"), nl = rdm_schema_find("num_lab_procedures");
    CU_ASSERT_FATAL(nl < nm);
    cells[6 * RDM_NCOLS + nm] = "x";
    cells[9 * RDM_NCOLS + nl] = "y";
    rdm_err err = {0};
    CU_ASSERT_PTR_NULL(rdm_encoder_fit_on(cells, NULL, NROWS, NULL, pool, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "num_lab_procedures"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "row 10"));
    rdm_pool_free(pool);
    free(cells);
}

static void test_save_load(void)
{
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    cells[2 * RDM_NCOLS + rdm_schema_find("medical_specialty")] = "Surgery General%x";
    for (int mode = 0; mode < 2; mode++) {
        rdm_encoder_params prm = {1, mode};
        rdm_encoder *e = rdm_encoder_fit(cells, NULL, NROWS, &prm, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        rdm_buf b = RDM_BUF_INIT, b2 = RDM_BUF_INIT;
        CU_ASSERT_EQUAL_FATAL(rdm_encoder_save(e, &b, NULL), RDM_OK);
        size_t used = 0;
        rdm_err err = {0};
        rdm_encoder *e2 = rdm_encoder_load(b.data, b.len, &used, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
        CU_ASSERT_EQUAL(used, b.len);
        CU_ASSERT_EQUAL(rdm_encoder_save(e2, &b2, NULL), RDM_OK);
        CU_ASSERT(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
        CU_ASSERT_EQUAL(rdm_encoder_tree_dim(e), rdm_encoder_tree_dim(e2));
        CU_ASSERT_EQUAL(rdm_encoder_lin_dim(e), rdm_encoder_lin_dim(e2));
        for (int r = 0; r < NROWS; r++) {
            float x1[RDM_ENC_MAX_TREE], x2[RDM_ENC_MAX_TREE], v1[RDM_ENC_MAX_NNZ],
                v2[RDM_ENC_MAX_NNZ];
            int32_t i1[RDM_ENC_MAX_NNZ], i2[RDM_ENC_MAX_NNZ];
            const char *const *row = cells + r * RDM_NCOLS;
            rdm_encoder_tree_row(e, row, x1, NULL, NULL);
            rdm_encoder_tree_row(e2, row, x2, NULL, NULL);
            CU_ASSERT(memcmp(x1, x2, (size_t)rdm_encoder_tree_dim(e) * sizeof *x1) == 0);
            rdm_encoder_lin_row(e, row, i1, v1, NULL, NULL);
            rdm_encoder_lin_row(e2, row, i2, v2, NULL, NULL);
            CU_ASSERT(memcmp(v1, v2, (size_t)rdm_encoder_lin_nnz(e) * sizeof *v1) == 0);
            CU_ASSERT(memcmp(i1, i2, (size_t)rdm_encoder_lin_nnz(e) * sizeof *i1) == 0);
        }
        if (mode == 1)
            CU_ASSERT(find_tree(e2, "diag_1") >= 0);
        for (size_t cut = 0; cut < b.len; cut += 1) {
            rdm_err e3 = {0};
            rdm_encoder *t = rdm_encoder_load(b.data, cut, NULL, &e3);
            CU_ASSERT_PTR_NULL(t);
            CU_ASSERT_EQUAL(e3.code, RDM_EPARSE);
            rdm_encoder_free(t);
        }
        rdm_buf_release(&b);
        rdm_buf_release(&b2);
        rdm_encoder_free(e);
        rdm_encoder_free(e2);
    }
    free(cells);
}

/* Every way a value is written finds the same level: as stored, padded with
 * whitespace, and levels longer than a lookup slot holds (24 bytes); for a
 * fitted and a loaded encoder. Values that are not levels are "other". */
static void test_lookup(void)
{
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    int ms = rdm_schema_find("medical_specialty"), nm = rdm_schema_find("num_medications");
    static const char *const spec[4] = {"Cardiology", "Surgery-Cardiovascular/Thoracic-long",
                                        "a level of exactly 23 c", "a level of exactly 24 ch"};
    for (int r = 0; r < NROWS; r++)
        cells[r * RDM_NCOLS + ms] = spec[r % 4];
    rdm_encoder_params prm = {1, RDM_DIAG_RANK_CHAPTER};
    rdm_encoder *e = rdm_encoder_fit(cells, NULL, NROWS, &prm, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_encoder_save(e, &b, NULL), RDM_OK);
    rdm_encoder *e2 = rdm_encoder_load(b.data, b.len, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
    int j = find_tree(e, "medical_specialty"), jn = find_tree(e, "num_medications");
    const char *const *lv = rdm_encoder_levels(e, ms);
    CU_ASSERT_FATAL(j >= 0 && jn >= 0 && lv);
    char pad[600], longv[600];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    for (int k = 0; k < 2; k++) {
        const rdm_encoder *en = k ? e2 : e;
        const char *row[RDM_NCOLS];
        memcpy(row, cells, sizeof row);
        float x[RDM_ENC_MAX_TREE];
        for (int i = 0; i < 4; i++) {
            int code = -1;
            for (int c = 0; lv[c]; c++)
                if (strcmp(lv[c], spec[i]) == 0)
                    code = c;
            CU_ASSERT_FATAL(code >= 0);
            snprintf(pad, sizeof pad, " \t%s \r\n", spec[i]);
            const char *as[2] = {spec[i], pad};
            for (int a = 0; a < 2; a++) {
                row[ms] = as[a];
                rdm_warnings w = {0};
                CU_ASSERT_EQUAL(rdm_encoder_tree_row(en, row, x, &w, NULL), RDM_OK);
                CU_ASSERT_EQUAL(x[j], (float)code);
                CU_ASSERT_EQUAL(w.n, 0);
            }
        }
        const char *other[] = {"Cardiolog", "Cardiologyy", "a level of exactly 24 c", longv};
        for (int i = 0; i < 4; i++) {
            row[ms] = other[i];
            rdm_warnings w = {0};
            CU_ASSERT_EQUAL(rdm_encoder_tree_row(en, row, x, &w, NULL), RDM_OK);
            CU_ASSERT_EQUAL(x[j], 4.0f); /* K = 4 levels: other */
            CU_ASSERT_EQUAL(w.n, 1);
        }
        const char *ints[] = {"7", " 7", "7 ", "07", "-0", "0"};
        const float want[] = {7, 7, 7, 7, 0, 0};
        for (int i = 0; i < 6; i++) {
            row[nm] = ints[i];
            CU_ASSERT_EQUAL(rdm_encoder_tree_row(en, row, x, NULL, NULL), RDM_OK);
            CU_ASSERT_EQUAL(x[jn], want[i]);
        }
        row[nm] = "-1"; /* out of the schema range */
        CU_ASSERT_EQUAL(rdm_encoder_tree_row(en, row, x, NULL, NULL), RDM_EINVAL);
    }
    rdm_buf_release(&b);
    rdm_encoder_free(e);
    rdm_encoder_free(e2);
    free(cells);
}

/* rdm_encoder_tree_block against rdm_encoder_tree_row on each row: the same
 * features (bit for bit), the same warnings, and on a bad value the same
 * error at the same row. Every categorical column has all its schema levels,
 * and the probes are each level as stored, padded, cut short, lengthened,
 * with a changed first byte, and missing in every spelling. */
static void test_block(void)
{
    const rdm_column *sc = rdm_schema_columns();
    const char **cells = make_rows();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cells);
    for (int r = 0; r < NROWS; r++)
        for (int c = 0; c < RDM_NCOLS; c++)
            if (sc[c].kind == RDM_COL_CAT && sc[c].levels) {
                int n = 0;
                while (sc[c].levels[n])
                    n++;
                cells[r * RDM_NCOLS + c] = sc[c].levels[r % n];
            }
    /* levels alike in their first bytes: looked up by hash, not by prefix */
    static const char *const SPEC[] = {"Surgery-General", "Surgery-Neuro", "Surgery-Vascular"};
    for (int r = 0; r < NROWS; r++)
        cells[r * RDM_NCOLS + rdm_schema_find("medical_specialty")] = SPEC[r % 3];
    rdm_encoder_params prm = {1, RDM_DIAG_RANK_CHAPTER};
    rdm_encoder *e = rdm_encoder_fit(cells, NULL, NROWS, &prm, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);

    enum { NP = 400 };

    static char text[NP][RDM_NCOLS][40];
    const char **probe = calloc((size_t)NP * RDM_NCOLS, sizeof *probe);
    const char *const **rows = calloc(NP, sizeof *rows);
    size_t d = (size_t)rdm_encoder_tree_dim(e);
    float *xb = calloc(NP * d, sizeof *xb), *xr = calloc(NP * d, sizeof *xr);
    rdm_warnings *wb = calloc(NP, sizeof *wb), *wr = calloc(NP, sizeof *wr);
    CU_ASSERT_FATAL(probe && rows && xb && xr && wb && wr);
    static const char *const MISS[] = {NULL, "", "?", " ", " ? "};
    for (int r = 0; r < NP; r++) {
        const char *const *src = cells + (r % NROWS) * RDM_NCOLS;
        for (int c = 0; c < RDM_NCOLS; c++) {
            const char *v = src[c];
            char *t = text[r][c];
            int how = (r / 7 + c) % 9;
            if (sc[c].kind == RDM_COL_INT && how > 1)
                how = 0; /* numbers: as written or padded (else not a number) */
            if (!v || how == 0) {
                probe[r * RDM_NCOLS + c] = v;
                continue;
            }
            size_t n = strlen(v);
            if (how == 1)
                snprintf(t, 40, " %s\t", v);
            else if (how == 2)
                snprintf(t, 40, "%.*s", (int)(n > 1 ? n - 1 : n), v);
            else if (how == 3)
                snprintf(t, 40, "%sx", v);
            else if (how == 4)
                snprintf(t, 40, "%c%s", v[0] == 'z' ? 'y' : 'z', v + 1);
            else if (how == 5 && sc[c].kind != RDM_COL_INT)
                t = (char *)MISS[(r + c) % 5];
            else if (how == 6 && n > 1)
                snprintf(t, 40, "%c", v[0]);
            else
                snprintf(t, 40, "%s", v);
            probe[r * RDM_NCOLS + c] = t;
        }
        rows[r] = probe + r * RDM_NCOLS;
    }
    int rcs = 0;
    for (int r = 0; r < NP; r++) {
        wr[r].n = 0;
        rcs |= rdm_encoder_tree_row(e, rows[r], xr + r * d, &wr[r], NULL);
    }
    CU_ASSERT_EQUAL_FATAL(rcs, RDM_OK); /* the probes above are all usable */
    int warned = 0;
    for (size_t n = 1; n <= NP; n += n < 40 ? 1 : 97) {
        size_t ok = 99999;
        memset(xb, 0, NP * d * sizeof *xb);
        CU_ASSERT_EQUAL(rdm_encoder_tree_block(e, rows, n, xb, wb, &ok, NULL), RDM_OK);
        CU_ASSERT_EQUAL(ok, n);
        CU_ASSERT(memcmp(xb, xr, n * d * sizeof *xb) == 0);
        for (size_t r = 0; r < n; r++) {
            CU_ASSERT_EQUAL(wb[r].n, wr[r].n);
            for (int k = 0; k < wr[r].n && k < wb[r].n; k++)
                CU_ASSERT_STRING_EQUAL(wb[r].msg[k], wr[r].msg[k]);
            warned += wr[r].n > 0;
        }
    }
    CU_ASSERT(warned > 0);
    /* a bad number in row 13 and another in row 20: row 13's error */
    int nm = rdm_schema_find("num_medications"), tih = rdm_schema_find("time_in_hospital");
    probe[13 * RDM_NCOLS + tih] = "1000";
    probe[20 * RDM_NCOLS + nm] = "x";
    size_t ok = 0;
    rdm_err eb = {0}, er = {0};
    CU_ASSERT_EQUAL(rdm_encoder_tree_block(e, rows, 30, xb, wb, &ok, &eb), RDM_EINVAL);
    CU_ASSERT_EQUAL(ok, 13);
    CU_ASSERT(memcmp(xb, xr, 13 * d * sizeof *xb) == 0);
    CU_ASSERT_EQUAL(rdm_encoder_tree_row(e, rows[13], xr, NULL, &er), RDM_EINVAL);
    CU_ASSERT_STRING_EQUAL(eb.msg, er.msg);
    free(probe);
    free(rows);
    free(xb);
    free(xr);
    free(wb);
    free(wr);
    rdm_encoder_free(e);
    free(cells);
}

int test_encode_register(void)
{
    CU_pSuite s = CU_add_suite("encode", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_fit_tree) && CU_ADD_TEST(s, test_fit_linear) &&
            CU_ADD_TEST(s, test_fit_subset) && CU_ADD_TEST(s, test_bad_values) &&
            CU_ADD_TEST(s, test_save_load) && CU_ADD_TEST(s, test_lookup) &&
            CU_ADD_TEST(s, test_block) && CU_ADD_TEST(s, test_fit_pool))
               ? 0
               : -1;
}
