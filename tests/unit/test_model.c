/* test_model.c - model artifact: build, score, save/load round trips, corrupted files. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "gbt.h"
#include "logreg.h"
#include "metrics.h"
#include "model.h"
#include "rng.h"

int test_model_register(void);

#define N 400

static const char *const NUM[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

/* Synthetic rows: the target depends on number_inpatient and race. */
typedef struct table {
    const char **cells;
    float y[N];
} table;

static int make_table(table *t, uint64_t seed)
{
    const rdm_column *sc = rdm_schema_columns();
    static const char *const RACE[] = {"Caucasian", "AfricanAmerican", "Hispanic", "?"};
    static const char *const DIAG[] = {"428", "250.01", "V57", "414", "786", "?"};
    t->cells = calloc(N * RDM_NCOLS, sizeof *t->cells);
    if (!t->cells)
        return -1;
    rdm_rng r;
    rdm_rng_seed(&r, seed);
    int inp = rdm_schema_find("number_inpatient"), race = rdm_schema_find("race");
    for (int i = 0; i < N; i++) {
        const char **row = t->cells + i * RDM_NCOLS;
        for (int c = 0; c < RDM_NCOLS; c++) {
            switch (sc[c].kind) {
            case RDM_COL_INT:
                row[c] = NUM[1 + rdm_rng_below(&r, 8)];
                break;
            case RDM_COL_CAT:
                row[c] = sc[c].levels ? sc[c].levels[rdm_rng_below(&r, 2)] : "Cardiology";
                break;
            case RDM_COL_DIAG:
                row[c] = DIAG[rdm_rng_below(&r, 6)];
                break;
            case RDM_COL_TARGET:
                row[c] = "NO";
                break;
            default:
                row[c] = NUM[1 + rdm_rng_below(&r, 3)];
            }
        }
        int k = (int)rdm_rng_below(&r, 6), rc = (int)rdm_rng_below(&r, 4);
        row[inp] = NUM[k];
        row[race] = RACE[rc];
        double z = -2 + 0.6 * k + (rc == 1 ? 0.8 : 0);
        t->y[i] = rdm_rng_uniform(&r) < 1 / (1 + exp(-z));
        row[RDM_C_READMITTED] = t->y[i] > 0.5f ? "<30" : "NO";
    }
    return 0;
}

static rdm_model *fit_logreg_model(const table *t, double l2)
{
    rdm_encoder_params ep = {10, RDM_DIAG_RANK_CHAPTER};
    rdm_encoder *e = rdm_encoder_fit(t->cells, NULL, N, &ep, NULL);
    if (!e)
        return NULL;
    int nnz = rdm_encoder_lin_nnz(e);
    int32_t *cols = malloc((size_t)N * (size_t)nnz * sizeof *cols);
    float *val = malloc((size_t)N * (size_t)nnz * sizeof *val);
    rdm_logreg *lr = NULL;
    if (cols && val && rdm_encoder_lin_matrix(e, t->cells, NULL, N, cols, val, NULL) == RDM_OK) {
        rdm_csr X = {N, rdm_encoder_lin_dim(e), nnz, cols, val};
        rdm_logreg_params p;
        rdm_logreg_params_default(&p);
        p.l2 = l2;
        p.threads = 2;
        lr = rdm_logreg_fit(&X, t->y, &p, NULL, NULL);
    }
    free(cols);
    free(val);
    if (!lr) {
        rdm_encoder_free(e);
        return NULL;
    }
    rdm_model *m = rdm_model_create(RDM_MODEL_LOGREG, e, lr, 0, 0.3, NULL);
    if (m) {
        if (rdm_model_set_meta(m, "run_id", "17", NULL) ||
            rdm_model_set_meta(m, "note", "two words\nand a newline %", NULL) ||
            rdm_model_set_meta(m, "empty", "", NULL)) {
            rdm_model_free(m);
            return NULL;
        }
    }
    return m;
}

static void score_all(const rdm_model *m, const table *t, double *p)
{
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(rdm_model_score(m, t->cells + i * RDM_NCOLS, &p[i], NULL, NULL), RDM_OK);
}

/* Save, load, compare scores and re-saved bytes. */
static void roundtrip(const rdm_model *m, const table *t)
{
    rdm_buf b = RDM_BUF_INIT, b2 = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_model_save_bytes(m, &b, &err), RDM_OK);
    rdm_model *m2 = rdm_model_load_bytes(b.data, b.len, &err);
    if (!m2)
        fprintf(stderr, "load: %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
    CU_ASSERT_EQUAL(rdm_model_save_bytes(m2, &b2, NULL), RDM_OK);
    CU_ASSERT(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
    double p1[N], p2[N];
    score_all(m, t, p1);
    score_all(m2, t, p2);
    CU_ASSERT(memcmp(p1, p2, sizeof p1) == 0);
    CU_ASSERT_EQUAL(rdm_model_get_type(m2), rdm_model_get_type(m));
    CU_ASSERT(rdm_model_threshold(m2) == rdm_model_threshold(m));
    CU_ASSERT_EQUAL(rdm_model_meta_count(m2), rdm_model_meta_count(m));
    rdm_model_free(m2);
    rdm_buf_release(&b);
    rdm_buf_release(&b2);
}

/* rdm_model_score_block against rdm_model_score on each row: the same
 * probabilities bit for bit and the same warnings (unseen levels in some
 * rows), for blocks of every size; on a bad value the first failing row and
 * its error as rdm_model_score gives it. */
static void check_block(const rdm_model *m, const table *t)
{
    const char **cells = malloc(N * RDM_NCOLS * sizeof *cells);
    const char *const **rows = malloc(N * sizeof *rows);
    double *p1 = malloc(N * sizeof *p1), *p2 = malloc(N * sizeof *p2);
    rdm_warnings *w1 = calloc(N, sizeof *w1), *w2 = calloc(N, sizeof *w2);
    CU_ASSERT_FATAL(cells && rows && p1 && p2 && w1 && w2);
    memcpy(cells, t->cells, N * RDM_NCOLS * sizeof *cells);
    int race = rdm_schema_find("race"), inp = rdm_schema_find("number_inpatient"), warned = 0;
    for (int i = 0; i < N; i++) {
        if (i % 7 == 3)
            cells[i * RDM_NCOLS + race] = "Martian";
        rows[i] = cells + i * RDM_NCOLS;
        CU_ASSERT_EQUAL(rdm_model_score(m, rows[i], &p1[i], &w1[i], NULL), RDM_OK);
        warned += w1[i].n > 0;
    }
    CU_ASSERT(warned > 0);
    for (size_t n = 1; n <= N; n += n < 70 ? 1 : 111) {
        size_t ok = 12345;
        CU_ASSERT_EQUAL(rdm_model_score_block(m, rows, n, p2, w2, &ok, NULL), RDM_OK);
        CU_ASSERT_EQUAL(ok, n);
        CU_ASSERT(memcmp(p1, p2, n * sizeof *p1) == 0);
        for (size_t i = 0; i < n; i++) {
            CU_ASSERT_EQUAL(w1[i].n, w2[i].n);
            if (w1[i].n && w2[i].n)
                CU_ASSERT_STRING_EQUAL(w1[i].msg[0], w2[i].msg[0]);
        }
    }
    cells[45 * RDM_NCOLS + inp] = "lots";
    cells[50 * RDM_NCOLS + inp] = "-3";
    rdm_err e1 = {0}, e2 = {0};
    size_t ok = 0;
    CU_ASSERT_EQUAL(rdm_model_score_block(m, rows, 60, p2, NULL, &ok, &e2), RDM_EINVAL);
    CU_ASSERT_EQUAL(ok, 45);
    CU_ASSERT(memcmp(p1, p2, 45 * sizeof *p1) == 0);
    CU_ASSERT_EQUAL(rdm_model_score(m, rows[45], &p2[45], NULL, &e1), RDM_EINVAL);
    CU_ASSERT_STRING_EQUAL(e1.msg, e2.msg);
    rdm_err_clear(&e2);
    CU_ASSERT_EQUAL(rdm_model_score_rows(m, cells, NULL, 60, p2, &e2), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "row 46"));
    free(cells);
    free(rows);
    free(p1);
    free(p2);
    free(w1);
    free(w2);
}

/* rdm_model_score_encoded on rows its own encoder encoded: the same bits as
 * rdm_model_score_rows on the raw records; rdm_model_encoder_text_is true for
 * that encoder's text only. */
static void check_encoded(const rdm_model *m, const table *t)
{
    const rdm_encoder *e = rdm_model_encoder(m);
    int lin = rdm_model_get_type(m) == RDM_MODEL_LOGREG;
    size_t d = (size_t)rdm_encoder_tree_dim(e), nnz = (size_t)rdm_encoder_lin_nnz(e);
    float *X = malloc(N * d * sizeof *X), *V = malloc(N * nnz * sizeof *V);
    int32_t *C = malloc(N * nnz * sizeof *C);
    double *p1 = malloc(N * sizeof *p1), *p2 = malloc(N * sizeof *p2);
    CU_ASSERT_FATAL(X && V && C && p1 && p2);
    CU_ASSERT_EQUAL_FATAL(rdm_model_score_rows(m, t->cells, NULL, N, p1, NULL), RDM_OK);
    int rc = lin ? rdm_encoder_lin_matrix(e, t->cells, NULL, N, C, V, NULL)
                 : rdm_encoder_tree_matrix(e, t->cells, NULL, N, X, NULL);
    CU_ASSERT_EQUAL_FATAL(rc, RDM_OK);
    CU_ASSERT_EQUAL(
        rdm_model_score_encoded(m, lin ? NULL : X, lin ? C : NULL, lin ? V : NULL, N, p2, NULL),
        RDM_OK);
    CU_ASSERT(memcmp(p1, p2, N * sizeof *p1) == 0);
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_model_score_encoded(m, NULL, NULL, NULL, N, p2, &err), RDM_EINVAL);
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_encoder_save(e, &b, NULL), RDM_OK);
    CU_ASSERT(rdm_model_encoder_text_is(m, b.data, b.len));
    CU_ASSERT(!rdm_model_encoder_text_is(m, b.data, b.len - 1));
    b.data[b.len / 2] ^= 1;
    CU_ASSERT(!rdm_model_encoder_text_is(m, b.data, b.len));
    rdm_buf_release(&b);
    free(X);
    free(V);
    free(C);
    free(p1);
    free(p2);
}

static void test_logreg_model(void)
{
    table t;
    CU_ASSERT_EQUAL_FATAL(make_table(&t, 3), 0);
    rdm_model *m = fit_logreg_model(&t, 1.0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(rdm_model_type_name(m), "logreg");
    CU_ASSERT_STRING_EQUAL(rdm_model_meta(m, "run_id"), "17");
    CU_ASSERT_STRING_EQUAL(rdm_model_meta(m, "empty"), "");
    CU_ASSERT_PTR_NULL(rdm_model_meta(m, "nope"));
    const char *k, *v;
    rdm_model_meta_at(m, 0, &k, &v); /* sorted by key */
    CU_ASSERT_STRING_EQUAL(k, "empty");
    // the score equals the logistic function of the encoded row
    const rdm_encoder *e = rdm_model_encoder(m);
    int32_t idx[RDM_ENC_MAX_NNZ];
    float val[RDM_ENC_MAX_NNZ];
    double p[N];
    score_all(m, &t, p);
    rdm_encoder_lin_row(e, t.cells, idx, val, NULL, NULL);
    rdm_logreg *lr = rdm_logreg_create(rdm_encoder_lin_dim(e), NULL, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lr);
    rdm_logreg_free(lr);
    CU_ASSERT(p[0] > 0 && p[0] < 1);
    // the model learned the signal
    CU_ASSERT(rdm_roc_auc(p, t.y, N) > 0.7);
    roundtrip(m, &t);
    check_block(m, &t);
    check_encoded(m, &t);
    // importance: names of linear columns, decreasing
    int d = rdm_model_feature_importance(m, NULL, NULL, 0);
    CU_ASSERT_EQUAL(d, rdm_encoder_lin_dim(e));
    const char *names[5];
    double vals[5];
    CU_ASSERT_EQUAL(rdm_model_feature_importance(m, names, vals, 5), d);
    CU_ASSERT_STRING_EQUAL(names[0], "number_inpatient");
    CU_ASSERT(vals[0] >= vals[1] && vals[1] >= vals[2]);
    // input schema
    int ni = rdm_model_input_count(m);
    CU_ASSERT_EQUAL(ni, 47);
    int found = 0;
    for (int i = 0; i < ni; i++) {
        const rdm_input_field *f = rdm_model_input(m, i);
        if (strcmp(f->name, "race") == 0) {
            found = 1;
            CU_ASSERT(f->categorical);
            int nl = 0, cau = 0;
            for (; f->levels[nl]; nl++)
                cau |= strcmp(f->levels[nl], "Caucasian") == 0;
            CU_ASSERT_EQUAL(nl, 3); /* three races seen; missing is not a level */
            CU_ASSERT(cau);
        }
        if (strcmp(f->name, "time_in_hospital") == 0) {
            CU_ASSERT(!f->categorical);
            CU_ASSERT_DOUBLE_EQUAL(f->min, 1, 0);
            CU_ASSERT_DOUBLE_EQUAL(f->max, 14, 0);
        }
        CU_ASSERT(strcmp(f->name, "readmitted") != 0 && strcmp(f->name, "patient_nbr") != 0);
    }
    CU_ASSERT(found);
    // warnings and errors through the scoring path
    const char *row[RDM_NCOLS];
    memcpy(row, t.cells, sizeof row);
    row[rdm_schema_find("race")] = "Martian";
    rdm_warnings w = {0};
    double q;
    CU_ASSERT_EQUAL(rdm_model_score(m, row, &q, &w, NULL), RDM_OK);
    CU_ASSERT_EQUAL(w.n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg[0], "race"));
    row[rdm_schema_find("num_lab_procedures")] = "lots";
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_model_score(m, row, &q, &w, &err), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "num_lab_procedures"));
    rdm_model_free(m);
    free(t.cells);
}

static void test_same_seed_same_bytes(void)
{
    table t1, t2;
    CU_ASSERT_EQUAL_FATAL(make_table(&t1, 9), 0);
    CU_ASSERT_EQUAL_FATAL(make_table(&t2, 9), 0);
    rdm_model *a = fit_logreg_model(&t1, 3.0), *b = fit_logreg_model(&t2, 3.0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    rdm_buf ba = RDM_BUF_INIT, bb = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_model_save_bytes(a, &ba, NULL), RDM_OK);
    CU_ASSERT_EQUAL(rdm_model_save_bytes(b, &bb, NULL), RDM_OK);
    CU_ASSERT(ba.len == bb.len && memcmp(ba.data, bb.data, ba.len) == 0);
    rdm_buf_release(&ba);
    rdm_buf_release(&bb);
    rdm_model_free(a);
    rdm_model_free(b);
    free(t1.cells);
    free(t2.cells);
}

static void test_baseline(void)
{
    table t;
    CU_ASSERT_EQUAL_FATAL(make_table(&t, 4), 0);
    rdm_model *m = rdm_model_create(RDM_MODEL_BASELINE, NULL, NULL, 0.113, 0.5, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    double p;
    CU_ASSERT_EQUAL(rdm_model_score(m, t.cells, &p, NULL, NULL), RDM_OK);
    CU_ASSERT(p == 0.113);
    CU_ASSERT_EQUAL(rdm_model_feature_importance(m, NULL, NULL, 0), 0);
    CU_ASSERT_EQUAL(rdm_model_input_count(m), 47);
    CU_ASSERT_EQUAL(rdm_model_score_encoded(m, NULL, NULL, NULL, 1, &p, NULL), RDM_EINVAL);
    CU_ASSERT(!rdm_model_encoder_text_is(m, "x", 1));
    roundtrip(m, &t);
    const char *row[RDM_NCOLS];
    memcpy(row, t.cells, sizeof row);
    row[rdm_schema_find("num_medications")] = "x";
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_model_score(m, row, &p, NULL, &err), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "num_medications"));
    rdm_model_free(m);
    // with an encoder too
    rdm_encoder *e = rdm_encoder_fit(t.cells, NULL, N, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    m = rdm_model_create(RDM_MODEL_BASELINE, e, NULL, 0.25, 0.5, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    roundtrip(m, &t);
    rdm_model_free(m);
    // bad arguments are refused and what was taken is freed
    rdm_err e2 = {0};
    CU_ASSERT_PTR_NULL(rdm_model_create(RDM_MODEL_BASELINE, NULL, NULL, 1.5, 0.5, &e2));
    CU_ASSERT_EQUAL(e2.code, RDM_EINVAL);
    rdm_logreg *lr = rdm_logreg_create(3, NULL, 0, NULL);
    e = rdm_encoder_fit(t.cells, NULL, N, NULL, NULL);
    rdm_err_clear(&e2);
    CU_ASSERT_PTR_NULL(rdm_model_create(RDM_MODEL_LOGREG, e, lr, 0, 0.5, &e2));
    CU_ASSERT_EQUAL(e2.code, RDM_EINVAL);
    free(t.cells);
}

/* Re-checksum a modified body so only the content is wrong. */
static void rechecksum(rdm_buf *b)
{
    const char *ck = "checksum sha256 ";
    char *pos = NULL;
    for (char *q = b->data; (q = strstr(q, ck)) != NULL; q++)
        pos = q;
    if (!pos)
        return;
    b->len = (size_t)(pos - b->data);
    char hex[65];
    rdm_sha256_hex(b->data, b->len, hex);
    if (rdm_buf_printf(b, "%s%s\n", ck, hex))
        return;
}

static void test_corrupted(void)
{
    table t;
    CU_ASSERT_EQUAL_FATAL(make_table(&t, 5), 0);
    rdm_model *m = fit_logreg_model(&t, 1.0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_model_save_bytes(m, &b, NULL), RDM_OK);
    rdm_err err = {0};
    // truncated at every offset
    int bad = 0;
    for (size_t cut = 0; cut < b.len; cut++) {
        rdm_err_clear(&err);
        rdm_model *x = rdm_model_load_bytes(b.data, cut, &err);
        if (x || err.code != RDM_EPARSE)
            bad++;
        rdm_model_free(x);
    }
    CU_ASSERT_EQUAL(bad, 0);
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_bytes(b.data, b.len / 2, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "truncated"));
    // one flipped bit anywhere
    bad = 0;
    for (size_t i = 0; i < b.len; i++) {
        b.data[i] ^= 0x01;
        rdm_err_clear(&err);
        rdm_model *x = rdm_model_load_bytes(b.data, b.len, &err);
        if (x || (err.code != RDM_EPARSE && err.code != RDM_EVERSION))
            bad++;
        rdm_model_free(x);
        b.data[i] ^= 0x01;
    }
    CU_ASSERT_EQUAL(bad, 0);
    size_t mid = b.len / 2;
    b.data[mid] ^= 0x04;
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_bytes(b.data, b.len, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "checksum mismatch"));
    b.data[mid] ^= 0x04;
    // a content error with a valid checksum is still caught by the parser
    rdm_buf c = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&c, b.data, b.len), RDM_OK);
    char *thr = strstr(c.data, "threshold ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(thr);
    thr[10] = 'x';
    rechecksum(&c);
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_bytes(c.data, c.len, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "threshold"));
    rdm_buf_release(&c);
    // version 3 -> RDM_EVERSION, even with a valid checksum
    CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&c, b.data, b.len), RDM_OK);
    c.data[sizeof "readmit-model " - 1] = '3';
    rechecksum(&c);
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_bytes(c.data, c.len, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EVERSION);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "model format version 3 is newer than this readmit supports (2)");
    rdm_buf_release(&c);
    // not a model at all
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_bytes("hello\n", 6, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_bytes(NULL, 0, &err));
    rdm_buf_release(&b);
    rdm_model_free(m);
    free(t.cells);
}

/* Labels of code levels: carried by the input schema parallel to the levels,
 * saved (format 2) and loaded back; a format 1 file loads without labels. */
static void test_labels(void)
{
    table t;
    CU_ASSERT_EQUAL_FATAL(make_table(&t, 3), 0);
    rdm_model *m = fit_logreg_model(&t, 1.0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    int col = rdm_schema_find("admission_type_id");
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_model_set_label(m, col, "1", "Emergency", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_model_set_label(m, col, "2", "Urgent \"care\", now", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_model_set_label(m, col, "99", "Not seen in training", &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_model_set_label(m, col, "1", "Emergency", &err), RDM_OK); /* replaced */
    CU_ASSERT_EQUAL(rdm_model_set_label(m, col, "3", "", &err), RDM_EINVAL);
    CU_ASSERT_EQUAL(rdm_model_set_label(m, col, "3", "two\nlines", &err), RDM_EINVAL);
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_model_save_bytes(m, &b, &err), RDM_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "readmit-model 2\n"));
    rdm_model *l = rdm_model_load_bytes(b.data, b.len, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_STRING_EQUAL(rdm_model_label(l, col, "2"), "Urgent \"care\", now");
    CU_ASSERT_STRING_EQUAL(rdm_model_label(l, col, "99"), "Not seen in training");
    CU_ASSERT_PTR_NULL(rdm_model_label(l, col, "3"));
    int found = 0;
    for (int i = 0; i < rdm_model_input_count(l); i++) {
        const rdm_input_field *f = rdm_model_input(l, i);
        if (f->col == rdm_schema_find("race"))
            CU_ASSERT_PTR_NULL(f->labels);
        if (f->col != col)
            continue;
        found = 1;
        CU_ASSERT_PTR_NOT_NULL_FATAL(f->labels);
        for (int k = 0; f->levels[k]; k++) {
            const char *want = rdm_model_label(l, col, f->levels[k]);
            if (want) {
                CU_ASSERT_STRING_EQUAL(f->labels[k], want);
            } else {
                CU_ASSERT_PTR_NULL(f->labels[k]);
            }
        }
    }
    CU_ASSERT(found);
    rdm_buf b2 = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_model_save_bytes(l, &b2, &err), RDM_OK);
    CU_ASSERT(b.len == b2.len && !memcmp(b.data, b2.data, b.len)); /* same bytes again */
    rdm_model *v1 = rdm_model_load_file("data/models/baseline-v1.model", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v1);
    for (int i = 0; i < rdm_model_input_count(v1); i++)
        CU_ASSERT_PTR_NULL(rdm_model_input(v1, i)->labels);
    rdm_model_free(v1);
    rdm_buf_release(&b);
    rdm_buf_release(&b2);
    rdm_model_free(l);
    rdm_model_free(m);
    free(t.cells);
}

/* Fixture files: a model written by format version 1 keeps loading; a file
 * from a newer format version is refused with RDM_EVERSION. */
static void test_fixture_files(void)
{
    rdm_err err = {0};
    rdm_model *m = rdm_model_load_file("data/models/baseline-v1.model", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    double p;
    const char *row[RDM_NCOLS] = {0};
    CU_ASSERT_EQUAL(rdm_model_score(m, row, &p, NULL, NULL), RDM_OK);
    CU_ASSERT_DOUBLE_EQUAL(p, 0.1125, 0);
    CU_ASSERT_STRING_EQUAL(rdm_model_meta(m, "run_id"), "1");
    rdm_model_free(m);
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_file("data/models/version3.model", &err));
    CU_ASSERT_EQUAL(err.code, RDM_EVERSION);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "model format version 3 is newer"));
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_file("data/models/truncated.model", &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_model_load_file("data/models/no-such.model", &err));
    CU_ASSERT(err.code != RDM_OK);
}

static void test_file_roundtrip(void)
{
    table t;
    CU_ASSERT_EQUAL_FATAL(make_table(&t, 6), 0);
    rdm_model *m = fit_logreg_model(&t, 1.0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char dir[] = "/tmp/rdm-model-XXXXXX", path[64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.model", dir);
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_model_save_file(m, path, &err), RDM_OK);
    rdm_model *m2 = rdm_model_load_file(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
    double p1[N], p2[N];
    score_all(m, &t, p1);
    CU_ASSERT_EQUAL(rdm_model_score_rows(m2, t.cells, NULL, N, p2, NULL), RDM_OK);
    CU_ASSERT(memcmp(p1, p2, sizeof p1) == 0);
    rdm_model_free(m2);
    rdm_model_free(m);
    remove(path);
    remove(dir);
    free(t.cells);
}

/* Trees through the model file: the fit must succeed, the same seed must give
 * the same bytes, and the loaded model must score as the fitted one. */
static void test_gbt_roundtrip(void)
{
    table t;
    CU_ASSERT_EQUAL_FATAL(make_table(&t, 8), 0);
    rdm_encoder *e = rdm_encoder_fit(t.cells, NULL, N, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    int d = rdm_encoder_tree_dim(e);
    float *X = malloc((size_t)N * (size_t)d * sizeof *X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(X);
    CU_ASSERT_EQUAL_FATAL(rdm_encoder_tree_matrix(e, t.cells, NULL, N, X, NULL), RDM_OK);
    rdm_gbt_params p;
    rdm_gbt_params_default(&p);
    p.max_iter = 20;
    p.threads = 1;
    p.seed = 1;
    p.early_stopping = 0;
    p.subsample = 0.8; /* randomness, so the seed matters */
    rdm_err err = {0};
    rdm_gbt *g =
        rdm_gbt_fit(X, t.y, N, d, rdm_encoder_tree_ncat(e), NULL, NULL, 0, &p, NULL, NULL, &err);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    rdm_gbt *g2 =
        rdm_gbt_fit(X, t.y, N, d, rdm_encoder_tree_ncat(e), NULL, NULL, 0, &p, NULL, NULL, &err);
    free(X);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g2);
    CU_ASSERT_EQUAL(rdm_gbt_ntrees(g), 20);
    // same seed -> identical model bytes
    rdm_buf ea = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_encoder_save(e, &ea, NULL), RDM_OK);
    rdm_encoder *e2 = rdm_encoder_load(ea.data, ea.len, NULL, NULL);
    rdm_buf_release(&ea);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
    rdm_model *m = rdm_model_create(RDM_MODEL_GBT, e, g, 0, 0.5, NULL);
    rdm_model *m2 = rdm_model_create(RDM_MODEL_GBT, e2, g2, 0, 0.5, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
    rdm_buf b1 = RDM_BUF_INIT, b2 = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_model_save_bytes(m, &b1, NULL), RDM_OK);
    CU_ASSERT_EQUAL(rdm_model_save_bytes(m2, &b2, NULL), RDM_OK);
    CU_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    rdm_buf_release(&b1);
    rdm_buf_release(&b2);
    rdm_model_free(m2);
    roundtrip(m, &t);
    check_block(m, &t);
    check_encoded(m, &t);
    int nf = rdm_model_feature_importance(m, NULL, NULL, 0);
    CU_ASSERT_EQUAL(nf, d);
    rdm_model_free(m);
    free(t.cells);
}

int test_model_register(void)
{
    CU_pSuite s = CU_add_suite("model", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_logreg_model) && CU_ADD_TEST(s, test_same_seed_same_bytes) &&
            CU_ADD_TEST(s, test_baseline) && CU_ADD_TEST(s, test_corrupted) &&
            CU_ADD_TEST(s, test_fixture_files) && CU_ADD_TEST(s, test_labels) &&
            CU_ADD_TEST(s, test_file_roundtrip) && CU_ADD_TEST(s, test_gbt_roundtrip))
               ? 0
               : -1;
}
