/* bench_score.c - scoring micro-benchmark: time rdm_model_score (one record
 * at a time) and rdm_model_score_rows (blocks of 100) on one core, on a
 * boosted-trees model, and print the model's tree and leaf counts.
 *
 * usage: bench-score [--model FILE] [--save FILE] [--rows N] [--seconds S]
 * Without --model, a model of the default shape (learning rate 0.05, 31
 * leaves, 160 trees) is fitted on `readmit synth` rows. Records are synthetic
 * rows in the raw source format either way. Times are CPU time of the
 * scoring thread. Built with -DBENCH_BASE against
 * an older library (no block scorer, no tree accessors) it times only the two
 * scoring calls, for before/after figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "encode.h"
#include "gbt.h"
#include "model.h"
#include "synth.h"

/* CPU seconds of this thread: on a machine shared with other work this is
 * what the scorer costs (wall time also counts the time others ran). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct rows {
    rdm_buf text;
    char **cells; /* n * RDM_NCOLS, strdup'ed */
    float *y;
    size_t n;
} rows;

static int load_rows(rows *r, long n, rdm_err *err)
{
    memset(r, 0, sizeof *r);
    if (rdm_synth_buf(n, 42, 0, &r->text, err) != RDM_OK)
        return -1;
    rdm_csv *c = rdm_csv_open_mem(r->text.data, r->text.len, 0, err);
    if (!c || rdm_csv_read_header(c, err) != RDM_OK)
        return -1;
    r->cells = calloc((size_t)n * RDM_NCOLS, sizeof *r->cells);
    r->y = calloc((size_t)n, sizeof *r->y);
    rdm_csv_record rec;
    while (r->cells && r->y && r->n < (size_t)n && rdm_csv_next(c, &rec, err) == 1) {
        if (rec.nfields != RDM_NCOLS || rec.problem != RDM_CSV_OK)
            continue;
        for (int k = 0; k < RDM_NCOLS; k++)
            r->cells[r->n * RDM_NCOLS + (size_t)k] = strdup(rec.fields[k]);
        r->y[r->n] = strcmp(rec.fields[RDM_C_READMITTED], "<30") == 0;
        r->n++;
    }
    rdm_csv_free(c);
    return r->n > 0 ? 0 : -1;
}

static rdm_model *fit_model(const rows *r, rdm_err *err)
{
    const char *const *cells = (const char *const *)r->cells;
    rdm_encoder *e = rdm_encoder_fit(cells, NULL, r->n, NULL, err);
    if (!e)
        return NULL;
    int d = rdm_encoder_tree_dim(e);
    float *X = malloc(r->n * (size_t)d * sizeof *X);
    rdm_gbt *g = NULL;
    if (X && rdm_encoder_tree_matrix(e, cells, NULL, r->n, X, err) == RDM_OK) {
        rdm_gbt_params p;
        rdm_gbt_params_default(&p);
        p.max_iter = 160;
        p.early_stopping = 0;
        p.min_child_weight = 1;
        g = rdm_gbt_fit(X, r->y, r->n, d, rdm_encoder_tree_ncat(e), NULL, NULL, 0, &p, NULL, NULL,
                        err);
    }
    free(X);
    if (!g) {
        rdm_encoder_free(e);
        return NULL;
    }
    return rdm_model_create(RDM_MODEL_GBT, e, g, 0, 0.5, err);
}

/* Seconds per record of scoring every row, one record at a time (block 0) or
 * in blocks, repeated for at least `seconds`. */
static double time_scoring(const rdm_model *m, const rows *r, size_t block, double seconds,
                           double *prob, double *check)
{
    const char *const *cells = (const char *const *)r->cells;
    size_t done = 0;
    double t0 = cpu_now(), t;
    do {
        for (size_t i = 0; i < r->n;) {
            size_t k = block ? (r->n - i < block ? r->n - i : block) : 1;
            if (block == 0) {
                if (rdm_model_score(m, cells + i * RDM_NCOLS, &prob[i], NULL, NULL) != RDM_OK)
                    return NAN;
            } else if (rdm_model_score_rows(m, cells + i * RDM_NCOLS, NULL, k, &prob[i], NULL) !=
                       RDM_OK) {
                return NAN;
            }
            i += k;
        }
        done += r->n;
        t = cpu_now();
    } while (t - t0 < seconds);
    double s = 0;
    for (size_t i = 0; i < r->n; i++)
        s += prob[i];
    *check = s;
    return (t - t0) / (double)done;
}

#ifndef BENCH_BASE
/* Seconds per record of the encoder alone and of the trees alone (rows
 * encoded beforehand), one record at a time and in blocks of 100. */
static void time_parts(const rdm_model *m, const rows *r, double seconds, double *enc_s,
                       double *encb_s, double *tree_s, double *treeb_s)
{
    const rdm_encoder *e = rdm_model_encoder(m);
    const rdm_gbt *g = rdm_model_gbt(m);
    int d = rdm_encoder_tree_dim(e);
    float *X = malloc(r->n * (size_t)d * sizeof *X);
    double *z = malloc(100 * sizeof *z);
    *enc_s = *encb_s = *tree_s = *treeb_s = NAN;
    if (!X || !z) {
        free(X);
        free(z);
        return;
    }
    size_t done = 0;
    double t0 = cpu_now(), t, sink = 0;
    do {
        for (size_t i = 0; i < r->n; i++)
            if (rdm_encoder_tree_row(e, (const char *const *)r->cells + i * RDM_NCOLS,
                                     X + i * (size_t)d, NULL, NULL) != RDM_OK)
                goto done;
        done += r->n;
        t = cpu_now();
    } while (t - t0 < seconds);
    *enc_s = (t - t0) / (double)done;
    done = 0;
    t0 = cpu_now();
    do {
        for (size_t i = 0; i < r->n; i += 100) {
            size_t k = r->n - i < 100 ? r->n - i : 100, ok;
            const char *const *rowp[100];
            for (size_t j = 0; j < k; j++)
                rowp[j] = (const char *const *)r->cells + (i + j) * RDM_NCOLS;
            if (rdm_encoder_tree_block(e, rowp, k, X + i * (size_t)d, NULL, &ok, NULL) != RDM_OK)
                goto done;
        }
        done += r->n;
        t = cpu_now();
    } while (t - t0 < seconds);
    *encb_s = (t - t0) / (double)done;
    done = 0;
    t0 = cpu_now();
    do {
        for (size_t i = 0; i < r->n; i++)
            sink += rdm_gbt_margin(g, X + i * (size_t)d);
        done += r->n;
        t = cpu_now();
    } while (t - t0 < seconds);
    *tree_s = sink != 0 ? (t - t0) / (double)done : NAN;
    done = 0;
    t0 = cpu_now();
    do {
        for (size_t i = 0; i < r->n; i += 100) {
            size_t k = r->n - i < 100 ? r->n - i : 100;
            rdm_gbt_margins(g, X + i * (size_t)d, k, z);
            sink += z[0];
        }
        done += r->n;
        t = cpu_now();
    } while (t - t0 < seconds);
    *treeb_s = sink != 0 ? (t - t0) / (double)done : NAN;
done:
    free(z);
    free(X);
}
#endif

int main(int argc, char **argv)
{
    const char *model_path = NULL, *save_path = NULL;
    long n = 20000;
    double seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model_path = argv[++i];
        else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
            save_path = argv[++i];
        else {
            fprintf(stderr,
                    "usage: bench-score [--model FILE] [--save FILE] [--rows N] [--seconds S]\n");
            return 2;
        }
    }
    rdm_err err = {0};
    rows r;
    if (n < 1 || load_rows(&r, n, &err) != 0) {
        fprintf(stderr, "bench-score: synthetic rows: %s\n", err.msg);
        return 1;
    }
    rdm_model *m = model_path ? rdm_model_load_file(model_path, &err) : fit_model(&r, &err);
    if (!m || rdm_model_get_type(m) != RDM_MODEL_GBT) {
        fprintf(stderr, "bench-score: %s\n", m ? "not a boosted-trees model" : err.msg);
        return 1;
    }
    if (save_path && rdm_model_save_file(m, save_path, &err) != RDM_OK) {
        fprintf(stderr, "bench-score: %s\n", err.msg);
        return 1;
    }
#ifndef BENCH_BASE
    const rdm_gbt *g = rdm_model_gbt(m);
    printf("model: %s, %d trees, %d leaves (%.1f per tree), %d features; %zu records, 1 core\n",
           model_path ? model_path : "fitted on synthetic rows", rdm_gbt_ntrees(g),
           rdm_gbt_nleaves(g), (double)rdm_gbt_nleaves(g) / rdm_gbt_ntrees(g), rdm_gbt_nfeatures(g),
           r.n);
#else
    printf("model: %s (older library); %zu records, 1 core\n",
           model_path ? model_path : "fitted on synthetic rows", r.n);
#endif
    double *p1 = malloc(r.n * sizeof *p1), *p2 = malloc(r.n * sizeof *p2), c1, c2;
    if (!p1 || !p2)
        return 1;
    double single = time_scoring(m, &r, 0, seconds, p1, &c1);
    double block = time_scoring(m, &r, 100, seconds, p2, &c2);
    int same = memcmp(p1, p2, r.n * sizeof *p1) == 0;
#ifndef BENCH_BASE
    double enc_s, encb_s, tree_s, treeb_s;
    time_parts(m, &r, seconds, &enc_s, &encb_s, &tree_s, &treeb_s);
    printf("encoder alone (rdm_encoder_tree_row):     %6.3f us/record\n", enc_s * 1e6);
    printf("encoder, blocks of 100 (tree_block):      %6.3f us/record\n", encb_s * 1e6);
    printf("trees alone (rdm_gbt_margin):             %6.3f us/record\n", tree_s * 1e6);
    printf("trees alone, blocks of 100 (margins):     %6.3f us/record\n", treeb_s * 1e6);
#endif
    printf("single record (rdm_model_score):          %6.3f us/record\n", single * 1e6);
    printf("blocks of 100 (rdm_model_score_rows):     %6.3f us/record\n", block * 1e6);
    printf("single and block probabilities identical: %s\n", same ? "yes" : "NO");
    free(p1);
    free(p2);
    for (size_t i = 0; i < r.n * RDM_NCOLS; i++)
        free(r.cells[i]);
    free(r.cells);
    free(r.y);
    rdm_buf_release(&r.text);
    rdm_model_free(m);
    return same ? 0 : 1;
}
