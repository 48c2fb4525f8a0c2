/* bootstrap.c - patient-resampled bootstrap of ROC AUC and weighted AUC. */
#include "bootstrap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

typedef struct wrow {
    double p;
    float y;
    size_t i; /* original row */
} wrow;

static int cmp_desc(const void *a, const void *b)
{
    const wrow *x = a, *z = b;
    if (x->p != z->p)
        return x->p < z->p ? 1 : -1;
    return (x->i > z->i) - (x->i < z->i);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, z = *(const double *)b;
    return (x > z) - (x < z);
}

double rdm_percentile_sorted(const double *v, size_t m, double q)
{
    double h = q * (double)(m - 1);
    size_t lo = (size_t)floor(h);
    if (lo >= m - 1)
        return v[m - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* AUC over rows sorted by decreasing score with weight wt(k) of sorted row k:
 * each negative's weight times (positives above + half the tied positives). */
static double sweep(const wrow *s, size_t n, const double *w)
{
    double tp = 0, P = 0, N = 0, sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        for (; j < n && s[j].p == s[i].p; j++) {
            double wk = w ? w[s[j].i] : 1.0;
            if (s[j].y > 0.5f)
                gp += wk;
            else
                gn += wk;
        }
        sum += gn * (tp + gp / 2);
        tp += gp;
        P += gp;
        N += gn;
        i = j;
    }
    return P > 0 && N > 0 ? sum / (P * N) : NAN;
}

static wrow *sorted_rows(const double *p, const float *y, size_t n)
{
    wrow *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = (wrow){p[i], y ? y[i] : 0.0f, i};
    qsort(s, n, sizeof *s, cmp_desc);
    return s;
}

double rdm_auc_weighted(const double *p, const float *y, const double *w, size_t n)
{
    wrow *s = sorted_rows(p, y, n);
    if (!s)
        return NAN;
    double auc = sweep(s, n, w);
    free(s);
    return auc;
}

/* Stable sort of the rows 0..n-1 by key, ascending, into order: LSD radix
 * on 11-bit digits (digits every key shares are skipped). Rows of equal keys
 * stay in row order, as qsort with the row as the last key puts them. */
#define RADIX_BITS   11
#define RADIX_PASSES 6 /* 6 * 11 >= 64 */
#define RADIX_SIZE   (1u << RADIX_BITS)

static int radix_order(const uint64_t *key, size_t n, size_t *order)
{
    size_t m = n ? n : 1;
    uint64_t *ka = malloc(m * sizeof *ka), *kb = malloc(m * sizeof *kb);
    size_t *ob = malloc(m * sizeof *ob);
    size_t(*hist)[RADIX_SIZE] = calloc(RADIX_PASSES, sizeof *hist);
    int rc = ka && kb && ob && hist ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        ka[i] = key[i];
        order[i] = i;
        for (int d = 0; d < RADIX_PASSES; d++)
            hist[d][(key[i] >> (d * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
    }
    uint64_t *ks = ka, *kd = kb;
    size_t *os = order, *od = ob;
    for (int d = 0; rc == 0 && d < RADIX_PASSES; d++) {
        size_t *h = hist[d], sum = 0;
        int shift = d * RADIX_BITS, skip = 0;
        for (unsigned v = 0; v < RADIX_SIZE && !skip; v++)
            skip = h[v] == n;
        if (skip)
            continue;
        for (unsigned v = 0; v < RADIX_SIZE; v++) {
            size_t c = h[v];
            h[v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = h[(ks[i] >> shift) & (RADIX_SIZE - 1)]++;
            kd[at] = ks[i];
            od[at] = os[i];
        }
        uint64_t *tk = ks;
        ks = kd;
        kd = tk;
        size_t *to = os;
        os = od;
        od = to;
    }
    if (rc == 0 && os != order)
        memcpy(order, os, n * sizeof *order);
    free(ka);
    free(kb);
    free(ob);
    free(hist);
    return rc;
}

int rdm_boot_patients(const int64_t *patient, size_t n, uint32_t *pid, size_t *G, rdm_err *err)
{
    *G = 0;
    uint64_t *key = calloc(n ? n : 1, sizeof *key);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    int rc = key && order ? RDM_OK : RDM_ENOMEM;
    for (size_t i = 0; rc == RDM_OK && i < n; i++)
        key[i] = (uint64_t)patient[i] ^ (UINT64_C(1) << 63); /* signed order */
    if (rc == RDM_OK && radix_order(key, n, order))
        rc = RDM_ENOMEM;
    size_t g = 0;
    for (size_t k = 0; rc == RDM_OK && k < n; k++) {
        if (k > 0 && patient[order[k]] != patient[order[k - 1]])
            g++;
        pid[order[k]] = (uint32_t)g;
    }
    free(key);
    free(order);
    if (rc != RDM_OK)
        return rdm_errf(err, rc, "bootstrap: out of memory");
    *G = n ? g + 1 : 0;
    return RDM_OK;
}

int rdm_boot_order(const double *p, size_t n, size_t *order, rdm_err *err)
{
    uint64_t *key = calloc(n ? n : 1, sizeof *key);
    if (!key)
        return rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
    for (size_t i = 0; i < n; i++) {
        double v = p[i] == 0 ? 0.0 : p[i]; /* -0 ties with +0 */
        uint64_t u;
        memcpy(&u, &v, sizeof u);
        u = u >> 63 ? ~u : u | (UINT64_C(1) << 63); /* increasing with v */
        key[i] = ~u;                                /* decreasing p first */
    }
    int bad = radix_order(key, n, order);
    free(key);
    return bad ? rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory") : RDM_OK;
}

int rdm_boot_rows_alloc(rdm_boot_rows *r, size_t n, rdm_err *err)
{
    memset(r, 0, sizeof *r);
    if (n > RDM_BOOT_MAX)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: %zu rows, at most %lu", n,
                        (unsigned long)RDM_BOOT_MAX);
    r->e = malloc((n ? n : 1) * sizeof *r->e);
    if (!r->e)
        return rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
    return RDM_OK;
}

void rdm_boot_rows_release(rdm_boot_rows *r)
{
    free(r->e);
    memset(r, 0, sizeof *r);
}

/* Weighted sums are whole numbers below 2^53 while the total weight is below
 * this: then the double sums of `sweep` are exact and equal the integer ones. */
#define EXACT_WEIGHT (UINT64_C(1) << 26)

/* The AUC of prepared rows with patient weights cnt (NULL: all 1): the same
 * value as `sweep` over the rows in this order (see EXACT_WEIGHT), computed in
 * integers. Returns NAN when a class has no weight; *total gets the weight. */
static double sweep_counts(const rdm_boot_rows *r, const uint32_t *cnt, uint64_t *total)
{
    uint64_t tp = 0, N = 0, sum2 = 0, rp = 0, rn = 0;
    const uint32_t *e = r->e;
    for (size_t k = 0; k < r->n; k++) {
        uint32_t x = e[k];
        uint64_t w = cnt ? cnt[x >> 2] : 1, pos = 0 - (uint64_t)((x >> 1) & 1);
        rp += w & pos;
        rn += w & ~pos;
        if (x & 1) {
            sum2 += rn * (2 * tp + rp);
            tp += rp;
            N += rn;
            rp = rn = 0;
        }
    }
    *total = tp + N;
    return tp && N ? ((double)sum2 / 2) / ((double)tp * (double)N) : NAN;
}

/* The same in doubles, in the order of `sweep`: for weights too large for
 * sweep_counts to be exact. */
static double sweep_double(const rdm_boot_rows *r, const uint32_t *cnt)
{
    double tp = 0, N = 0, sum = 0, gp = 0, gn = 0;
    for (size_t k = 0; k < r->n; k++) {
        uint32_t x = r->e[k];
        double wk = cnt ? cnt[x >> 2] : 1.0;
        if (x & 2)
            gp += wk;
        else
            gn += wk;
        if (x & 1) {
            sum += gn * (tp + gp / 2);
            tp += gp;
            N += gn;
            gp = gn = 0;
        }
    }
    return tp > 0 && N > 0 ? sum / (tp * N) : NAN;
}

static double boot_auc(const rdm_boot_rows *r, const uint32_t *cnt)
{
    uint64_t total;
    double a = sweep_counts(r, cnt, &total);
    return total < EXACT_WEIGHT ? a : sweep_double(r, cnt);
}

double rdm_boot_auc(const rdm_boot_rows *r)
{
    return boot_auc(r, NULL);
}

int rdm_boot_interval(const rdm_boot_rows *r, const rdm_boot_rows *r2, int B, uint64_t seed,
                      double *lo, double *hi, rdm_err *err)
{
    *lo = *hi = NAN;
    if (r->n == 0 || B <= 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: need rows and B > 0");
    size_t G = r->G;
    uint32_t *cnt = malloc((G ? G : 1) * sizeof *cnt);
    double *aucs = malloc((size_t)B * sizeof *aucs);
    if (!cnt || !aucs) {
        free(cnt);
        free(aucs);
        return rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
    }
    rdm_rng rng;
    rdm_rng_seed(&rng, seed);
    size_t m = 0;
    for (int b = 0; b < B; b++) {
        memset(cnt, 0, G * sizeof *cnt);
        for (size_t k = 0; k < G; k++)
            cnt[rdm_rng_below(&rng, G)]++;
        double a = boot_auc(r, cnt);
        if (r2)
            a = boot_auc(r2, cnt) - a;
        if (!isnan(a))
            aucs[m++] = a;
    }
    free(cnt);
    int rc = RDM_OK;
    if (m == 0) {
        rc = rdm_errf(err, RDM_EINVAL, "bootstrap: every resample had a single class");
    } else {
        qsort(aucs, m, sizeof *aucs, cmp_double);
        *lo = rdm_percentile_sorted(aucs, m, 0.025);
        *hi = rdm_percentile_sorted(aucs, m, 0.975);
    }
    free(aucs);
    return rc;
}

/* Rows of `order` (decreasing score) with their dense patient and class. */
static void prepare(const double *p, const float *y, const size_t *order, const uint32_t *pid,
                    size_t n, size_t G, rdm_boot_rows *r)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        r->e[k] = RDM_BOOT_ROW(pid[i], y[i] > 0.5f, k + 1 == n || p[order[k + 1]] != p[i]);
    }
    r->n = n;
    r->G = G;
}

/* The interval of AUC(p), or of AUC(p2) - AUC(p) on the same resamples when
 * p2 is not NULL. */
static int grouped(const double *p, const double *p2, const float *y, const int64_t *group,
                   size_t n, int B, uint64_t seed, double *lo, double *hi, rdm_err *err)
{
    *lo = *hi = NAN;
    if (n == 0 || B <= 0)
        return rdm_errf(err, RDM_EINVAL, "bootstrap: need rows and B > 0");
    rdm_boot_rows r = {0}, r2 = {0};
    size_t *order = malloc(n * sizeof *order), G = 0;
    uint32_t *pid = malloc(n * sizeof *pid);
    int rc = order && pid ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "bootstrap: out of memory");
    if (rc == RDM_OK)
        rc = rdm_boot_rows_alloc(&r, n, err);
    if (rc == RDM_OK && p2)
        rc = rdm_boot_rows_alloc(&r2, n, err);
    if (rc == RDM_OK)
        rc = rdm_boot_patients(group, n, pid, &G, err);
    if (rc == RDM_OK)
        rc = rdm_boot_order(p, n, order, err);
    if (rc == RDM_OK)
        prepare(p, y, order, pid, n, G, &r);
    if (rc == RDM_OK && p2 && (rc = rdm_boot_order(p2, n, order, err)) == RDM_OK)
        prepare(p2, y, order, pid, n, G, &r2);
    if (rc == RDM_OK)
        rc = rdm_boot_interval(&r, p2 ? &r2 : NULL, B, seed, lo, hi, err);
    free(order);
    free(pid);
    rdm_boot_rows_release(&r);
    rdm_boot_rows_release(&r2);
    return rc;
}

int rdm_auc_bootstrap_grouped(const double *p, const float *y, const int64_t *group, size_t n,
                              int B, uint64_t seed, double *lo, double *hi, rdm_err *err)
{
    return grouped(p, NULL, y, group, n, B, seed, lo, hi, err);
}

int rdm_auc_diff_bootstrap_grouped(const double *p, const double *p2, const float *y,
                                   const int64_t *group, size_t n, int B, uint64_t seed, double *lo,
                                   double *hi, rdm_err *err)
{
    return grouped(p, p2, y, group, n, B, seed, lo, hi, err);
}
