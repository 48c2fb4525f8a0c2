/* metrics.c - ROC/PR AUC, log loss, Brier, thresholds, calibration, curves, bootstrap. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

typedef struct scored {
    double p;
    float y;
} scored;

static int cmp_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->p, z = ((const scored *)b)->p;
    return (x < z) - (x > z);
}

/* Rows sorted by decreasing p; caller frees. NULL on allocation failure. */
static scored *sorted_desc(const double *p, const float *y, size_t n)
{
    scored *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[i].p = p[i];
        s[i].y = y[i];
    }
    qsort(s, n, sizeof *s, cmp_desc);
    return s;
}

/* The group of rows i.. that share s[i].p (ties are one threshold): adds its
 * positives to *gp and negatives to *gn; returns the index after it. */
static size_t tie_group(const scored *s, size_t n, size_t i, double *gp, double *gn)
{
    size_t j = i;
    while (j < n && s[j].p == s[i].p) {
        if (s[j].y > 0.5f)
            ++*gp;
        else
            ++*gn;
        j++;
    }
    return j;
}

static void count_classes(const float *y, size_t n, double *pos, double *neg)
{
    double P = 0;
    for (size_t i = 0; i < n; i++)
        P += y[i] > 0.5f;
    *pos = P;
    *neg = (double)n - P;
}

double rdm_roc_auc(const double *p, const float *y, size_t n)
{
    double P, N;
    count_classes(y, n, &P, &N);
    if (P == 0 || N == 0)
        return NAN;
    scored *s = sorted_desc(p, y, n);
    if (!s)
        return NAN;
    double tp = 0, sum = 0;
    for (size_t i = 0; i < n;) {
        double gp = 0, gn = 0;
        i = tie_group(s, n, i, &gp, &gn);
        sum += gn * (tp + gp / 2);
        tp += gp;
    }
    free(s);
    return sum / (P * N);
}

double rdm_average_precision(const double *p, const float *y, size_t n)
{
    double P, N;
    count_classes(y, n, &P, &N);
    if (P == 0)
        return NAN;
    scored *s = sorted_desc(p, y, n);
    if (!s)
        return NAN;
    double tp = 0, fp = 0, rprev = 0, ap = 0;
    for (size_t i = 0; i < n;) {
        size_t j = tie_group(s, n, i, &tp, &fp);
        double r = tp / P;
        ap += (r - rprev) * (tp / (tp + fp));
        rprev = r;
        i = j;
    }
    free(s);
    return ap;
}

double rdm_log_loss(const double *p, const float *y, size_t n)
{
    if (n == 0)
        return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double q = p[i];
        if (q < 1e-15)
            q = 1e-15;
        if (q > 1 - 1e-15)
            q = 1 - 1e-15;
        sum -= y[i] > 0.5f ? log(q) : log1p(-q);
    }
    return sum / (double)n;
}

double rdm_brier(const double *p, const float *y, size_t n)
{
    if (n == 0)
        return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double d = p[i] - (y[i] > 0.5f ? 1.0 : 0.0);
        sum += d * d;
    }
    return sum / (double)n;
}

rdm_confusion rdm_confusion_at(const double *p, const float *y, size_t n, double threshold)
{
    rdm_confusion c = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int pred = p[i] >= threshold, pos = y[i] > 0.5f;
        if (pred && pos)
            c.tp++;
        else if (pred)
            c.fp++;
        else if (pos)
            c.fn++;
        else
            c.tn++;
    }
    return c;
}

double rdm_accuracy(const double *p, const float *y, size_t n, double threshold)
{
    if (n == 0)
        return NAN;
    rdm_confusion c = rdm_confusion_at(p, y, n, threshold);
    return (double)(c.tp + c.tn) / (double)n;
}

static rdm_prf prf_from(rdm_confusion c)
{
    rdm_prf r;
    double tp = (double)c.tp;
    r.precision = c.tp + c.fp ? tp / (double)(c.tp + c.fp) : 0;
    r.recall = c.tp + c.fn ? tp / (double)(c.tp + c.fn) : 0;
    r.f1 = 2 * c.tp + c.fp + c.fn ? 2 * tp / (double)(2 * c.tp + c.fp + c.fn) : 0;
    return r;
}

rdm_prf rdm_prf_at(const double *p, const float *y, size_t n, double threshold)
{
    return prf_from(rdm_confusion_at(p, y, n, threshold));
}

double rdm_best_f1_threshold(const double *p, const float *y, size_t n, double *f1)
{
    double P, N;
    count_classes(y, n, &P, &N);
    if (f1)
        *f1 = 0;
    if (P == 0)
        return 0.5;
    scored *s = sorted_desc(p, y, n);
    if (!s)
        return 0.5;
    double tp = 0, fp = 0, best = -1, thr = 0.5;
    for (size_t i = 0; i < n;) {
        size_t j = tie_group(s, n, i, &tp, &fp);
        double f = 2 * tp / (tp + fp + P);
        if (f > best) {
            best = f;
            thr = s[i].p;
        }
        i = j;
    }
    free(s);
    if (f1)
        *f1 = best;
    return thr;
}

void rdm_calibration(const double *p, const float *y, size_t n, rdm_calib_bin out[RDM_CALIB_BINS])
{
    double sp[RDM_CALIB_BINS] = {0}, sy[RDM_CALIB_BINS] = {0};
    size_t cnt[RDM_CALIB_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        int b = (int)floor(p[i] * RDM_CALIB_BINS);
        if (b < 0)
            b = 0;
        if (b >= RDM_CALIB_BINS)
            b = RDM_CALIB_BINS - 1;
        sp[b] += p[i];
        sy[b] += y[i] > 0.5f;
        cnt[b]++;
    }
    for (int b = 0; b < RDM_CALIB_BINS; b++) {
        out[b].lo = (double)b / RDM_CALIB_BINS;
        out[b].hi = (double)(b + 1) / RDM_CALIB_BINS;
        out[b].count = cnt[b];
        out[b].mean_pred = cnt[b] ? sp[b] / (double)cnt[b] : NAN;
        out[b].observed = cnt[b] ? sy[b] / (double)cnt[b] : NAN;
    }
}

/* Keep at most RDM_CURVE_MAX of m points, evenly spaced, first and last kept. */
static void downsample(const double *x, const double *y, const double *t, size_t m, rdm_curve *out)
{
    if (m <= RDM_CURVE_MAX) {
        for (size_t i = 0; i < m; i++) {
            out->x[i] = x[i];
            out->y[i] = y[i];
            out->thr[i] = t[i];
        }
        out->n = (int)m;
        return;
    }
    for (int k = 0; k < RDM_CURVE_MAX; k++) {
        size_t i = (size_t)((double)k * (double)(m - 1) / (RDM_CURVE_MAX - 1) + 0.5);
        out->x[k] = x[i];
        out->y[k] = y[i];
        out->thr[k] = t[i];
    }
    out->n = RDM_CURVE_MAX;
}

static int curve(const double *p, const float *y, size_t n, rdm_curve *out, int roc, rdm_err *err)
{
    double P, N;
    count_classes(y, n, &P, &N);
    out->n = 0;
    if (P == 0 || (roc && N == 0))
        return rdm_errf(err, RDM_EINVAL, "curve: need both classes (%g positive, %g negative)", P,
                        N);
    scored *s = sorted_desc(p, y, n);
    double *buf = malloc(3 * (n + 1) * sizeof *buf);
    if (!s || !buf) {
        free(s);
        free(buf);
        return rdm_errf(err, RDM_ENOMEM, "curve: out of memory");
    }
    double *cx = buf, *cy = buf + n + 1, *ct = buf + 2 * (n + 1);
    size_t m = 0;
    if (roc) {
        cx[0] = 0;
        cy[0] = 0;
        ct[0] = INFINITY;
        m = 1;
    }
    double tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = tie_group(s, n, i, &tp, &fp);
        if (roc) {
            cx[m] = fp / N;
            cy[m] = tp / P;
        } else {
            cx[m] = tp / P;
            cy[m] = tp / (tp + fp);
        }
        ct[m] = s[i].p;
        m++;
        i = j;
    }
    downsample(cx, cy, ct, m, out);
    free(s);
    free(buf);
    return RDM_OK;
}

int rdm_roc_curve(const double *p, const float *y, size_t n, rdm_curve *out, rdm_err *err)
{
    return curve(p, y, n, out, 1, err);
}

int rdm_pr_curve(const double *p, const float *y, size_t n, rdm_curve *out, rdm_err *err)
{
    return curve(p, y, n, out, 0, err);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

/* Linear interpolation between order statistics (numpy's default percentile). */
static double quantile(const double *v, int m, double q)
{
    double h = q * (m - 1);
    int lo = (int)floor(h);
    if (lo >= m - 1)
        return v[m - 1];
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

int rdm_auc_bootstrap(const double *p, const float *y, size_t n, int B, uint64_t seed, double *lo,
                      double *hi, rdm_err *err)
{
    *lo = *hi = NAN;
    if (n == 0 || B <= 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: need rows and B > 0");
    scored *s = sorted_desc(p, y, n);
    uint32_t *cnt = malloc(n * sizeof *cnt);
    size_t *gend = malloc(n * sizeof *gend); /* end of the tie group starting at i */
    double *aucs = malloc((size_t)B * sizeof *aucs);
    if (!s || !cnt || !gend || !aucs) {
        free(s);
        free(cnt);
        free(gend);
        free(aucs);
        return rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j].p == s[i].p)
            j++;
        for (size_t k = i; k < j; k++)
            gend[k] = j;
        i = j;
    }
    rdm_rng rng;
    rdm_rng_seed(&rng, seed);
    int m = 0;
    for (int b = 0; b < B; b++) {
        memset(cnt, 0, n * sizeof *cnt);
        // Drawing positions of the sorted array uniformly is the same as
        // drawing original rows uniformly: it is a permutation of them.
        for (size_t k = 0; k < n; k++)
            cnt[rdm_rng_below(&rng, n)]++;
        double tp = 0, P = 0, N = 0, sum = 0;
        for (size_t i = 0; i < n;) {
            size_t j = gend[i];
            double gp = 0, gn = 0;
            for (size_t k = i; k < j; k++) {
                if (s[k].y > 0.5f)
                    gp += cnt[k];
                else
                    gn += cnt[k];
            }
            sum += gn * (tp + gp / 2);
            tp += gp;
            P += gp;
            N += gn;
            i = j;
        }
        if (P > 0 && N > 0)
            aucs[m++] = sum / (P * N);
    }
    if (m > 0) {
        qsort(aucs, (size_t)m, sizeof *aucs, cmp_double);
        *lo = quantile(aucs, m, 0.025);
        *hi = quantile(aucs, m, 0.975);
    }
    free(s);
    free(cnt);
    free(gend);
    free(aucs);
    if (m == 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: every resample had a single class");
    return RDM_OK;
}

void rdm_metrics_compute(const double *p, const float *y, size_t n, double threshold,
                         rdm_metrics *out)
{
    double P, N;
    count_classes(y, n, &P, &N);
    out->n = n;
    out->positive_rate = n ? P / (double)n : NAN;
    out->roc_auc = rdm_roc_auc(p, y, n);
    out->pr_auc = rdm_average_precision(p, y, n);
    out->log_loss = rdm_log_loss(p, y, n);
    out->brier = rdm_brier(p, y, n);
    out->accuracy = rdm_accuracy(p, y, n, 0.5);
    out->threshold = threshold;
    out->cm = rdm_confusion_at(p, y, n, threshold);
    out->accuracy_thr = n ? (double)(out->cm.tp + out->cm.tn) / (double)n : NAN;
    rdm_prf r = prf_from(out->cm);
    out->precision = r.precision;
    out->recall = r.recall;
    out->f1 = r.f1;
}

/* ---- metrics by name ---- */

const char *const rdm_metric_names[] = {"roc_auc", "pr_auc", "log_loss", "accuracy", "brier", NULL};

int rdm_metric_known(const char *metric)
{
    for (const char *const *m = rdm_metric_names; *m; m++)
        if (!strcmp(*m, metric))
            return 1;
    return 0;
}

int rdm_metric_higher_better(const char *metric)
{
    return strcmp(metric, "log_loss") != 0 && strcmp(metric, "brier") != 0;
}

double rdm_metric_by_name(const char *metric, const double *p, const float *y, size_t n)
{
    if (!strcmp(metric, "roc_auc"))
        return rdm_roc_auc(p, y, n);
    if (!strcmp(metric, "pr_auc"))
        return rdm_average_precision(p, y, n);
    if (!strcmp(metric, "log_loss"))
        return rdm_log_loss(p, y, n);
    if (!strcmp(metric, "brier"))
        return rdm_brier(p, y, n);
    if (!strcmp(metric, "accuracy"))
        return rdm_accuracy(p, y, n, 0.5);
    return NAN;
}
