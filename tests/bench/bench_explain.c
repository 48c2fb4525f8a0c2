/* bench_explain.c - the explanation micro-benchmark (make bench-explain):
 * load a model file and a CSV of raw records, then time, in the same run,
 * rdm_model_score alone and rdm_explain (which includes that score) per
 * record, in CPU time of the thread (and wall time). Prints the model's size
 * and the per-record figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "explain.h"
#include "gbt.h"
#include "model.h"
#include "schema.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a shared machine wall time mostly measures the
 * other processes; both are printed. */
static double now(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static double wall(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static long read_fp(void *ud, char *buf, size_t n, rdm_err *err)
{
    (void)err;
    return (long)fread(buf, 1, n, ud);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-explain MODEL CSV [RECORDS] [ROUNDS]\n");
        return 2;
    }
    long want = argc > 3 ? atol(argv[3]) : 2000, rounds = argc > 4 ? atol(argv[4]) : 5;
    rdm_err err = {0};
    rdm_model *m = rdm_model_load_file(argv[1], &err);
    FILE *f = fopen(argv[2], "rb");
    rdm_csv *csv = m && f ? rdm_csv_create(read_fp, f, 0, argv[2], &err) : NULL;
    if (!csv || rdm_csv_read_header(csv, &err)) {
        fprintf(stderr, "bench-explain: %s\n", err.msg[0] ? err.msg : "cannot open input");
        return 1;
    }
    const char *const *names;
    int nh = rdm_csv_header(csv, &names), map[256];
    for (int i = 0; i < nh && i < 256; i++)
        map[i] = rdm_schema_find(names[i]);
    char **cells = calloc((size_t)want * RDM_NCOLS, sizeof *cells);
    long n = 0;
    rdm_csv_record rec;
    while (cells && n < want && rdm_csv_next(csv, &rec, &err) == 1) {
        if (rec.problem)
            continue;
        for (int i = 0; i < rec.nfields && i < nh && i < 256; i++)
            if (map[i] >= 0)
                cells[n * RDM_NCOLS + map[i]] = strdup(rec.fields[i]);
        n++;
    }
    rdm_csv_free(csv);
    fclose(f);
    double t0 = now();
    rdm_explainer *x = rdm_explainer_create(m, &err);
    double t_build = now() - t0;
    if (!x || n == 0) {
        fprintf(stderr, "bench-explain: %s\n", x ? "no records" : err.msg);
        return 1;
    }
    double *te = malloc((size_t)n * sizeof *te), sink = 0;
    double t_score = 0, t_expl = 0, w_score = 0, w_expl = 0;
    for (long r = 0; r < rounds; r++) {
        t0 = now();
        double w0 = wall();
        for (long i = 0; i < n; i++) {
            double p;
            if (rdm_model_score(m, (const char *const *)cells + i * RDM_NCOLS, &p, NULL, &err))
                return fprintf(stderr, "bench-explain: record %ld: %s\n", i + 1, err.msg), 1;
            sink += p;
        }
        t_score += now() - t0;
        w_score += wall() - w0;
        t0 = now();
        w0 = wall();
        for (long i = 0; i < n; i++) {
            rdm_explanation ex;
            double a = now();
            if (rdm_explain(x, (const char *const *)cells + i * RDM_NCOLS, &ex, NULL, &err))
                return fprintf(stderr, "bench-explain: record %ld: %s\n", i + 1, err.msg), 1;
            te[i] = now() - a;
            sink += ex.c[0].contribution;
        }
        t_expl += now() - t0;
        w_expl += wall() - w0;
    }
    qsort(te, (size_t)n, sizeof *te, cmp_d); /* last round's per-record times */
    const rdm_gbt *g = rdm_model_gbt(m);
    int nt = g ? rdm_gbt_ntrees(g) : 0, leaves = 0;
    for (int k = 0; g && k < rdm_gbt_node_count(g); k++) {
        rdm_gbt_node_info ni;
        rdm_gbt_node(g, k, &ni);
        leaves += ni.feat < 0;
    }
    double per = 1e6 / ((double)n * (double)rounds);
    printf("model: %s, %d trees, %.1f leaves per tree; %ld records x %ld rounds\n",
           rdm_model_type_name(m), nt, nt ? (double)leaves / nt : 0.0, n, rounds);
    printf("explainer built once per model: %.0f us\n", t_build * 1e6);
    printf("score only (rdm_model_score): %.2f us CPU per record (wall %.2f)\n", t_score * per,
           w_score * per);
    printf("explained prediction (rdm_explain, score included): %.2f us CPU per record "
           "(median %.2f, p99 %.2f; wall %.2f)\n",
           t_expl * per, te[n / 2] * 1e6, te[(n * 99) / 100] * 1e6, w_expl * per);
    if (sink == 12345.678)
        printf("\n");
    rdm_explainer_free(x);
    for (long i = 0; i < n * RDM_NCOLS; i++)
        free(cells[i]);
    free(cells);
    free(te);
    rdm_model_free(m);
    return 0;
}
