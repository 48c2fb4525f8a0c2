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

/* ---- the rows sorted once ----
 * Every metric that needs the order of the scores reads one sorted copy: the
 * same order each function sorting for itself gets (one comparator, one
 * sort of the same input), so the same values. */
struct rdm_ranked {
    size_t n;
    double P, N; /* positives, negatives */
    scored *s;   /* by decreasing p */
};

rdm_ranked *rdm_ranked_create(const double *p, const float *y, size_t n)
{
    rdm_ranked *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->n = n;
    count_classes(y, n, &r->P, &r->N);
    if (!(r->s = sorted_desc(p, y, n))) {
        free(r);
        return NULL;
    }
    return r;
}

void rdm_ranked_free(rdm_ranked *r)
{
    if (r)
        free(r->s);
    free(r);
}

double rdm_ranked_roc_auc(const rdm_ranked *r)
{
    double P = r->P, N = r->N;
    if (P == 0 || N == 0)
        return NAN;
    const scored *s = r->s;
    size_t n = r->n;
    double tp = 0, sum = 0;
    for (size_t i = 0; i < n;) {
        double gp = 0, gn = 0;
        i = tie_group(s, n, i, &gp, &gn);
        sum += gn * (tp + gp / 2);
        tp += gp;
    }
    return sum / (P * N);
}

double rdm_ranked_average_precision(const rdm_ranked *r)
{
    double P = r->P;
    if (P == 0)
        return NAN;
    const scored *s = r->s;
    size_t n = r->n;
    double tp = 0, fp = 0, rprev = 0, ap = 0;
    for (size_t i = 0; i < n;) {
        size_t j = tie_group(s, n, i, &tp, &fp);
        double rc = tp / P;
        ap += (rc - rprev) * (tp / (tp + fp));
        rprev = rc;
        i = j;
    }
    return ap;
}

/* f on the rows sorted once (NaN when out of memory) */
static double on_ranked(double (*f)(const rdm_ranked *), const double *p, const float *y, size_t n)
{
    rdm_ranked *r = rdm_ranked_create(p, y, n);
    double v = r ? f(r) : NAN;
    rdm_ranked_free(r);
    return v;
}

double rdm_roc_auc(const double *p, const float *y, size_t n)
{
    double P, N;
    count_classes(y, n, &P, &N);
    return P == 0 || N == 0 ? NAN : on_ranked(rdm_ranked_roc_auc, p, y, n);
}

double rdm_average_precision(const double *p, const float *y, size_t n)
{
    double P, N;
    count_classes(y, n, &P, &N);
    return P == 0 ? NAN : on_ranked(rdm_ranked_average_precision, p, y, n);
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
    rdm_ranked *r = rdm_ranked_create(p, y, n);
    double thr = r ? rdm_ranked_best_f1_threshold(r, f1) : 0.5;
    rdm_ranked_free(r);
    return thr;
}

double rdm_ranked_best_f1_threshold(const rdm_ranked *r, double *f1)
{
    double P = r->P;
    size_t n = r->n;
    const scored *s = r->s;
    if (f1)
        *f1 = 0;
    if (P == 0)
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

static int curve(const rdm_ranked *r, rdm_curve *out, int roc, rdm_err *err)
{
    double P = r->P, N = r->N;
    size_t n = r->n;
    const scored *s = r->s;
    out->n = 0;
    if (P == 0 || (roc && N == 0))
        return rdm_errf(err, RDM_EINVAL, "curve: need both classes (%g positive, %g negative)", P,
                        N);
    double *buf = malloc(3 * (n + 1) * sizeof *buf);
    if (!buf)
        return rdm_errf(err, RDM_ENOMEM, "curve: out of memory");
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
    free(buf);
    return RDM_OK;
}

int rdm_ranked_roc_curve(const rdm_ranked *r, rdm_curve *out, rdm_err *err)
{
    return curve(r, out, 1, err);
}

int rdm_ranked_pr_curve(const rdm_ranked *r, rdm_curve *out, rdm_err *err)
{
    return curve(r, out, 0, err);
}

static int curve_of(const double *p, const float *y, size_t n, rdm_curve *out, int roc,
                    rdm_err *err)
{
    rdm_ranked *r = rdm_ranked_create(p, y, n);
    if (!r) {
        out->n = 0;
        return rdm_errf(err, RDM_ENOMEM, "curve: out of memory");
    }
    int rc = curve(r, out, roc, err);
    rdm_ranked_free(r);
    return rc;
}

int rdm_roc_curve(const double *p, const float *y, size_t n, rdm_curve *out, rdm_err *err)
{
    return curve_of(p, y, n, out, 1, err);
}

int rdm_pr_curve(const double *p, const float *y, size_t n, rdm_curve *out, rdm_err *err)
{
    return curve_of(p, y, n, out, 0, err);
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

int rdm_ranked_auc_bootstrap(const rdm_ranked *r, int B, uint64_t seed, double *lo, double *hi,
                             rdm_err *err)
{
    size_t n = r->n;
    *lo = *hi = NAN;
    if (n == 0 || B <= 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: need rows and B > 0");
    const scored *s = r->s;
    uint32_t *cnt = malloc(n * sizeof *cnt);
    size_t *gend = malloc(n * sizeof *gend); /* end of the tie group starting at i */
    uint32_t *pos = malloc(n * sizeof *pos); /* 1 for a positive row, else 0 */
    double *aucs = malloc((size_t)B * sizeof *aucs);
    if (!cnt || !gend || !pos || !aucs) {
        free(cnt);
        free(gend);
        free(pos);
        free(aucs);
        return rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j].p == s[i].p)
            j++;
        for (size_t k = i; k < j; k++) {
            gend[k] = j;
            pos[k] = s[k].y > 0.5f;
        }
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
        /* a group's counts are integers (exact in any order), without a
         * branch on the class per row */
        double tp = 0, P = 0, N = 0, sum = 0;
        for (size_t i = 0; i < n;) {
            size_t j = gend[i];
            uint64_t all = 0, gpos = 0;
            for (size_t k = i; k < j; k++) {
                all += cnt[k];
                gpos += cnt[k] * pos[k];
            }
            double gp = (double)gpos, gn = (double)(all - gpos);
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
    free(cnt);
    free(gend);
    free(pos);
    free(aucs);
    if (m == 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: every resample had a single class");
    return RDM_OK;
}

int rdm_auc_bootstrap(const double *p, const float *y, size_t n, int B, uint64_t seed, double *lo,
                      double *hi, rdm_err *err)
{
    *lo = *hi = NAN;
    if (n == 0 || B <= 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: need rows and B > 0");
    rdm_ranked *r = rdm_ranked_create(p, y, n);
    if (!r)
        return rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
    int rc = rdm_ranked_auc_bootstrap(r, B, seed, lo, hi, err);
    rdm_ranked_free(r);
    return rc;
}

static void metrics_rest(const double *p, const float *y, size_t n, double threshold,
                         rdm_metrics *out);

void rdm_metrics_compute(const double *p, const float *y, size_t n, double threshold,
                         rdm_metrics *out)
{
    double P, N;
    count_classes(y, n, &P, &N);
    out->n = n;
    out->positive_rate = n ? P / (double)n : NAN;
    out->roc_auc = rdm_roc_auc(p, y, n);
    out->pr_auc = rdm_average_precision(p, y, n);
    metrics_rest(p, y, n, threshold, out);
}

void rdm_ranked_metrics(const rdm_ranked *r, const double *p, const float *y, double threshold,
                        rdm_metrics *out)
{
    size_t n = r->n;
    out->n = n;
    out->positive_rate = n ? r->P / (double)n : NAN;
    out->roc_auc = rdm_ranked_roc_auc(r);
    out->pr_auc = rdm_ranked_average_precision(r);
    metrics_rest(p, y, n, threshold, out);
}

/* the metrics that need no order */
static void metrics_rest(const double *p, const float *y, size_t n, double threshold,
                         rdm_metrics *out)
{
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

double rdm_ranked_metric_by_name(const char *metric, const rdm_ranked *r, const double *p,
                                 const float *y)
{
    if (!strcmp(metric, "roc_auc"))
        return rdm_ranked_roc_auc(r);
    if (!strcmp(metric, "pr_auc"))
        return rdm_ranked_average_precision(r);
    return rdm_metric_by_name(metric, p, y, r->n);
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
