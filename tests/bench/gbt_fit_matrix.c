/* gbt_fit_matrix.c - fit readmit's boosted trees on an encoded matrix (the CSV
 * of scripts/bench-gbt-peers.py --dump-matrix) and print "key value" lines
 * (fit, fit_cpu, trees, val_auc, test_auc, test_ap, test_ll): the --ours
 * command of the peers script, so that readmit's fit is timed in the same run,
 * on the same matrix, as the peers'. Parameters are the training defaults (31
 * leaves, early stopping 20) with learning rate LR (default 0.05, the default
 * config's first grid point; the peers script passes its peers' rate, 0.1,
 * the config's second grid point); the rate is printed (learning_rate). fit is
 * the wall time of the fit, fit_cpu the CPU time of all its threads; with
 * REPEAT > 1 the fit runs that many times and the fastest is shown (models of
 * every repeat must be equal: checked).
 *
 * usage: gbt-fit-matrix MATRIX.csv [THREADS [REPEAT [LR]]] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gbt.h"
#include "metrics.h"

typedef struct mat {
    int d;
    int ncat[256];
    size_t n[3], cap[3];
    float *X[3], *y[3];
} mat;

static int push(mat *m, int s, const float *x, float y)
{
    if (m->n[s] == m->cap[s]) {
        m->cap[s] = m->cap[s] ? 2 * m->cap[s] : 4096;
        m->X[s] = realloc(m->X[s], m->cap[s] * (size_t)m->d * sizeof(float));
        m->y[s] = realloc(m->y[s], m->cap[s] * sizeof(float));
        if (!m->X[s] || !m->y[s])
            return -1;
    }
    memcpy(m->X[s] + m->n[s] * (size_t)m->d, x, (size_t)m->d * sizeof(float));
    m->y[s][m->n[s]++] = y;
    return 0;
}

static int read_matrix(const char *path, mat *m)
{
    FILE *f = fopen(path, "r");
    static char line[1 << 16];
    if (!f || !fgets(line, sizeof line, f))
        return -1;
    memset(m, 0, sizeof *m);
    char *save = NULL;
    int col = 0;
    for (char *t = strtok_r(line, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save), col++) {
        if (col < 2)
            continue; /* split, y */
        const char *c = strstr(t, ":c");
        if (m->d >= 256)
            return -1;
        m->ncat[m->d++] = c ? atoi(c + 2) : 0;
    }
    float x[256];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        int s = (int)strtol(p, &p, 10);
        float y = strtof(p + 1, &p);
        for (int j = 0; j < m->d; j++) {
            p++; /* the comma */
            if (*p == ',' || *p == '\n' || *p == '\0')
                x[j] = NAN;
            else
                x[j] = strtof(p, &p);
        }
        if (s < 0 || s > 2 || push(m, s, x, y) != 0)
            return -1;
    }
    fclose(f);
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The model's text form, or NULL. */
static char *model_text(const rdm_gbt *g)
{
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    if (rdm_gbt_save(g, &b, &err) != RDM_OK) {
        rdm_buf_release(&b);
        return NULL;
    }
    return rdm_buf_take(&b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gbt-fit-matrix MATRIX.csv [THREADS [REPEAT [LR]]]\n");
        return 2;
    }
    mat m;
    if (read_matrix(argv[1], &m) != 0) {
        fprintf(stderr, "gbt-fit-matrix: cannot read %s\n", argv[1]);
        return 1;
    }
    rdm_gbt_params p;
    rdm_gbt_params_default(&p);
    p.threads = argc > 2 ? atoi(argv[2]) : 0;
    p.seed = 42;
    int repeat = argc > 3 ? atoi(argv[3]) : 1;
    if (argc > 4 && !((p.learning_rate = atof(argv[4])) > 0)) {
        fprintf(stderr, "gbt-fit-matrix: bad learning rate %s\n", argv[4]);
        return 2;
    }
    rdm_gbt *g = NULL;
    char *first = NULL;
    double fit = INFINITY, fit_cpu = INFINITY;
    for (int r = 0; r < (repeat > 1 ? repeat : 1); r++) {
        rdm_err err = {0};
        double t0 = rdm_now(), c0 = cpu_now();
        rdm_gbt_free(g);
        g = rdm_gbt_fit(m.X[0], m.y[0], m.n[0], m.d, m.ncat, m.X[1], m.y[1], m.n[1], &p, NULL, NULL,
                        &err);
        double w = rdm_now() - t0, cpu = cpu_now() - c0;
        if (!g) {
            fprintf(stderr, "gbt-fit-matrix: %s\n", err.msg);
            return 1;
        }
        fit = w < fit ? w : fit;
        fit_cpu = cpu < fit_cpu ? cpu : fit_cpu;
        char *text = model_text(g);
        if (!text)
            return 1;
        if (first && strcmp(first, text) != 0) {
            fprintf(stderr, "gbt-fit-matrix: fit %d gave another model than fit 1\n", r + 1);
            return 1;
        }
        if (first)
            free(text);
        else
            first = text;
    }
    /* a digest of the model text (FNV-1a): equal for every thread count */
    uint64_t h = 1469598103934665603ULL;
    for (const char *q = first; *q; q++)
        h = (h ^ (unsigned char)*q) * 1099511628211ULL;
    free(first);
    printf("fit %.4f\nfit_cpu %.4f\ntrees %d\nlearning_rate %g\nmodel %016llx\n", fit, fit_cpu,
           rdm_gbt_ntrees(g), p.learning_rate, (unsigned long long)h);
    const char *name[3] = {NULL, "val", "test"};
    for (int s = 1; s <= 2; s++) {
        double *pr = malloc(m.n[s] * sizeof *pr);
        if (!pr)
            return 1;
        rdm_gbt_margins(g, m.X[s], m.n[s], pr);
        for (size_t i = 0; i < m.n[s]; i++)
            pr[i] = 1 / (1 + exp(-pr[i]));
        printf("%s_auc %.6f\n", name[s], rdm_roc_auc(pr, m.y[s], m.n[s]));
        if (s == 2)
            printf("test_ap %.6f\ntest_ll %.6f\n", rdm_average_precision(pr, m.y[s], m.n[s]),
                   rdm_log_loss(pr, m.y[s], m.n[s]));
        free(pr);
    }
    rdm_gbt_free(g);
    for (int s = 0; s < 3; s++) {
        free(m.X[s]);
        free(m.y[s]);
    }
    return 0;
}
