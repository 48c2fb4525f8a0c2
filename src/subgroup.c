/* subgroup.c - metrics of one patient group with patient-resampled intervals. */
#include "subgroup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"

int rdm_subgroup_base_init(rdm_subgroup_base *b, const double *p, const float *y,
                           const int64_t *patient, size_t n, rdm_err *err)
{
    memset(b, 0, sizeof *b);
    if (n > RDM_BOOT_MAX)
        return rdm_errf(err, RDM_EINVAL, "subgroup: %zu rows, at most %lu", n,
                        (unsigned long)RDM_BOOT_MAX);
    b->p = p;
    b->y = y;
    b->n = n;
    b->order = malloc((n ? n : 1) * sizeof *b->order);
    b->pid = malloc((n ? n : 1) * sizeof *b->pid);
    int rc = b->order && b->pid ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "subgroup: out of memory");
    if (rc == RDM_OK)
        rc = rdm_boot_order(p, n, b->order, err);
    if (rc == RDM_OK)
        rc = rdm_boot_patients(patient, n, b->pid, &b->G, err);
    if (rc != RDM_OK)
        rdm_subgroup_base_release(b);
    return rc;
}

void rdm_subgroup_base_release(rdm_subgroup_base *b)
{
    free(b->order);
    free(b->pid);
    memset(b, 0, sizeof *b);
}

/* The group's rows in decreasing score order, its patients numbered densely
 * in increasing patient id (rank[] is scratch of b->G). */
static void group_rows(const rdm_subgroup_base *b, const unsigned char *level, unsigned char want,
                       uint32_t *rank, rdm_boot_rows *r)
{
    memset(rank, 0, b->G * sizeof *rank);
    for (size_t i = 0; i < b->n; i++)
        if (!level || level[i] == want)
            rank[b->pid[i]] = 1;
    size_t G = 0;
    for (size_t g = 0; g < b->G; g++)
        if (rank[g])
            rank[g] = (uint32_t)++G;
    size_t m = 0, prev = 0;
    for (size_t k = 0; k < b->n; k++) {
        size_t i = b->order[k];
        if (level && level[i] != want)
            continue;
        if (m)
            r->e[m - 1] |= b->p[prev] != b->p[i];
        r->e[m++] = RDM_BOOT_ROW(rank[b->pid[i]] - 1, b->y[i] > 0.5f, 0);
        prev = i;
    }
    if (m)
        r->e[m - 1] |= 1;
    r->n = m;
    r->G = G;
}

int rdm_subgroup_measure_in(const rdm_subgroup_base *b, const unsigned char *level,
                            unsigned char want, double threshold, double overall_auc, int B,
                            uint64_t seed, rdm_subgroup *out, rdm_err *err)
{
    memset(out, 0, sizeof *out);
    size_t m = 0, tp = 0, fp = 0, flagged = 0;
    double sp = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (level && level[i] != want)
            continue;
        int pos = b->y[i] > 0.5f, flag = b->p[i] >= threshold;
        out->positives += pos;
        flagged += flag;
        tp += pos && flag;
        fp += !pos && flag;
        sp += b->p[i];
        m++;
    }
    out->n = m;
    size_t neg = m - out->positives;
    out->mean_p = m ? sp / (double)m : NAN;
    out->observed = m ? (double)out->positives / (double)m : NAN;
    out->positive_rate = m ? (double)flagged / (double)m : NAN;
    out->tpr = out->positives ? (double)tp / (double)out->positives : NAN;
    out->fpr = neg ? (double)fp / (double)neg : NAN;
    out->auc = out->auc_lo = out->auc_hi = NAN;
    rdm_boot_rows r;
    uint32_t *rank = malloc((b->G ? b->G : 1) * sizeof *rank);
    int rc = rank ? rdm_boot_rows_alloc(&r, m, err)
                  : rdm_errf(err, RDM_ENOMEM, "subgroup: out of memory");
    if (rc != RDM_OK) {
        free(rank);
        return rc;
    }
    group_rows(b, level, want, rank, &r);
    out->patients = r.G;
    if (out->positives && neg) {
        out->auc = rdm_boot_auc(&r);
        rc = rdm_boot_interval(&r, NULL, B, seed, &out->auc_lo, &out->auc_hi, err);
        out->below = rc == RDM_OK && !isnan(overall_auc) && out->auc_hi < overall_auc;
    }
    rdm_boot_rows_release(&r);
    free(rank);
    return rc;
}

int rdm_subgroup_measure(const double *p, const float *y, const int64_t *patient,
                         const unsigned char *member, size_t n, double threshold,
                         double overall_auc, int B, uint64_t seed, rdm_subgroup *out, rdm_err *err)
{
    memset(out, 0, sizeof *out);
    rdm_subgroup_base b;
    unsigned char *level = member ? malloc(n ? n : 1) : NULL;
    if (member && !level)
        return rdm_errf(err, RDM_ENOMEM, "subgroup: out of memory");
    for (size_t i = 0; member && i < n; i++)
        level[i] = member[i] != 0;
    int rc = rdm_subgroup_base_init(&b, p, y, patient, n, err);
    if (rc == RDM_OK)
        rc = rdm_subgroup_measure_in(&b, level, 1, threshold, overall_auc, B, seed, out, err);
    rdm_subgroup_base_release(&b);
    free(level);
    return rc;
}
