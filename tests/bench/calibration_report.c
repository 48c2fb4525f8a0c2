/* calibration_report.c - calibration figures of a model on the validation
 * and test splits (make bench-calibration): reads "split,probability,y,patient"
 * lines (split: valid or test) and prints, for test, the calibration slope
 * and intercept and the ECE with patient-resampled 95% intervals and the
 * reliability bins with their counts; then a Platt calibrator fitted on
 * validation only and the test log loss with and without it; then the
 * performance by patient group (race, gender, age band: the optional 5th to
 * 7th fields) at the threshold given as argv[1]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "subgroup.h"

typedef struct split {
    double *p;
    float *y;
    int64_t *g;
    char (*attr)[3][24]; /* race, gender, age */
    size_t n, cap;
} split;

static int push(split *s, double p, float y, int64_t g, char attr[3][24])
{
    if (s->n == s->cap) {
        size_t c = s->cap ? 2 * s->cap : 4096;
        double *np = realloc(s->p, c * sizeof *np);
        if (!np)
            return -1;
        s->p = np;
        float *ny = realloc(s->y, c * sizeof *ny);
        if (!ny)
            return -1;
        s->y = ny;
        int64_t *ng = realloc(s->g, c * sizeof *ng);
        if (!ng)
            return -1;
        s->g = ng;
        char(*na)[3][24] = realloc(s->attr, c * sizeof *na);
        if (!na)
            return -1;
        s->attr = na;
        s->cap = c;
    }
    memcpy(s->attr[s->n], attr, sizeof s->attr[0]);
    s->p[s->n] = p;
    s->y[s->n] = y;
    s->g[s->n++] = g;
    return 0;
}

static double log_loss(const double *p, const float *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double q = fmin(fmax(p[i], 1e-15), 1 - 1e-15);
        s -= y[i] > 0.5f ? log(q) : log(1 - q);
    }
    return s / (double)n;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The table of groups of attribute a (0 race, 1 gender, 2 age) on test. */
static void groups(const split *t, int a, const char *title, double thr, double overall)
{
    char seen[64][24];
    int ns = 0;
    for (size_t i = 0; i < t->n && ns < 64; i++) {
        int k = 0;
        while (k < ns && strcmp(seen[k], t->attr[i][a]) != 0)
            k++;
        if (k == ns)
            memcpy(seen[ns++], t->attr[i][a], 24);
    }
    qsort(seen, (size_t)ns, sizeof seen[0], by_name); /* age bands in age order */
    unsigned char *m = malloc(t->n);
    if (!m)
        return;
    printf("%s\n", title);
    for (int k = 0; k < ns; k++) {
        for (size_t i = 0; i < t->n; i++)
            m[i] = strcmp(t->attr[i][a], seen[k]) == 0;
        rdm_subgroup s;
        rdm_err err = {0};
        int rc = rdm_subgroup_measure(t->p, t->y, t->g, m, t->n, thr, overall, 1000, 1, &s, &err);
        printf("  %-16s %6zu enc %6zu pat  AUC %.3f [%.3f, %.3f]  mean p %.3f obs %.3f  flagged "
               "%.3f  TPR %.3f FPR %.3f%s%s\n",
               seen[k], s.n, s.patients, s.auc, s.auc_lo, s.auc_hi, s.mean_p, s.observed,
               s.positive_rate, s.tpr, s.fpr, s.below ? "  ** interval below overall" : "",
               rc && s.positives ? "  (interval: too few)" : "");
    }
    free(m);
}

int main(int argc, char **argv)
{
    split v = {0}, t = {0};
    char line[512], name[16];
    double p;
    int y, used = 0;
    long long g;
    while (fgets(line, sizeof line, stdin)) {
        char attr[3][24] = {"", "", ""};
        if (sscanf(line, "%15[^,],%lf,%d,%lld%n", name, &p, &y, &g, &used) != 4)
            continue;
        if (line[used] == ',')
            sscanf(line + used, ",%23[^,],%23[^,],%23[^,\n]", attr[0], attr[1], attr[2]);
        if (push(strcmp(name, "test") == 0 ? &t : &v, p, (float)y, (int64_t)g, attr))
            return fprintf(stderr, "calibration_report: out of memory\n"), 1;
    }
    rdm_calibration c;
    rdm_err err = {0};
    if (rdm_calibration_measure(t.p, t.y, t.g, t.n, 10, 1000, 1, &c, &err))
        return fprintf(stderr, "calibration_report: %s\n", err.msg), 1;
    printf("test: %zu encounters of %zu patients (intervals: 1000 resamples of patients)\n", c.n,
           c.patients);
    printf("calibration slope %.3f [%.3f, %.3f], intercept %.3f [%.3f, %.3f], ECE %.4f [%.4f, "
           "%.4f]\n",
           c.slope, c.slope_lo, c.slope_hi, c.intercept, c.intercept_lo, c.intercept_hi, c.ece,
           c.ece_lo, c.ece_hi);
    printf("reliability bins (predicted range: encounters, mean predicted, observed)\n");
    for (int b = 0; b < c.nbins; b++)
        if (c.bins[b].n > 0)
            printf("  [%.1f, %.1f): %6.0f  %.4f  %.4f%s\n", c.bins[b].lo, c.bins[b].hi, c.bins[b].n,
                   c.bins[b].mean_p, c.bins[b].frac_pos,
                   c.bins[b].n < 100 ? "  (few encounters: not reliable)" : "");
    double a, s;
    if (v.n == 0 || rdm_calib_fit(v.p, v.y, NULL, v.n, &a, &s, &err))
        return fprintf(stderr, "calibration_report: no validation rows to fit Platt on\n"), 1;
    double *q = malloc(t.n * sizeof *q);
    if (!q)
        return 1;
    for (size_t i = 0; i < t.n; i++)
        q[i] = rdm_calib_apply(a, s, t.p[i]);
    double ll0 = log_loss(t.p, t.y, t.n), ll1 = log_loss(q, t.y, t.n);
    printf("Platt on validation (%zu encounters): intercept %.4f slope %.4f; test log loss %.5f "
           "without, %.5f with: %s\n",
           v.n, a, s, ll0, ll1,
           ll1 < ll0 ? "it improves test log loss" : "not needed (no improvement)");
    free(q);
    if (argc > 1) {
        double thr = atof(argv[1]);
        rdm_subgroup all;
        if (rdm_subgroup_measure(t.p, t.y, t.g, NULL, t.n, thr, NAN, 1000, 1, &all, &err) == 0) {
            printf("performance by patient group on test at threshold %.4f (AUC intervals: 1000 "
                   "resamples of patients)\n",
                   thr);
            printf("  %-16s %6zu enc %6zu pat  AUC %.3f [%.3f, %.3f]  mean p %.3f obs %.3f  "
                   "flagged %.3f  TPR %.3f FPR %.3f\n",
                   "all", all.n, all.patients, all.auc, all.auc_lo, all.auc_hi, all.mean_p,
                   all.observed, all.positive_rate, all.tpr, all.fpr);
            groups(&t, 0, "race", thr, all.auc);
            groups(&t, 1, "gender", thr, all.auc);
            groups(&t, 2, "age band", thr, all.auc);
        }
    }
    free(v.p);
    free(v.y);
    free(v.g);
    free(t.p);
    free(t.y);
    free(t.g);
    free(v.attr);
    free(t.attr);
    return 0;
}
