/* scale_matrix.c - the boosted trees' encoded matrix of a source CSV, for the
 * peer boosters of scripts/bench-scale.sh (XGBoost, HistGradientBoosting) to
 * fit on exactly the features readmit's trees see, at any size.
 *
 * The task definition of the docs: rows with an expired/hospice discharge
 * (disposition 11, 13, 14, 19, 20, 21) are dropped, the target is
 * readmitted == "<30", the split is patient_nbr mod 100 (< 70 train, < 85
 * validation, else test). The encoder (rdm_encoder_fit, default parameters)
 * is fitted on the first FIT_ROWS training rows (the synthetic rows are
 * independent draws, so a larger fit would change nothing that matters here),
 * then every row is encoded in blocks, so memory stays at one block.
 *
 * Output (native float32, little-endian on this machine): int32 n, int32 d,
 * int32 ncat[d], then n rows of d + 2 floats: split, y, features (NaN =
 * missing).
 *
 * usage: scale-matrix SOURCE.csv OUT.bin */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "encode.h"
#include "schema.h"

#define FIT_ROWS 1000000
#define BLOCK    65536

typedef struct table {
    size_t n, cap;
    const char **cells; /* n * RDM_NCOLS */
    float *y;
    unsigned char *split;
    rdm_buf text; /* the strings, NUL-separated, offsets in cells until fixed */
} table;

static long read_file(void *ud, char *buf, size_t n, rdm_err *err)
{
    size_t got = fread(buf, 1, n, ud);
    if (got == 0 && ferror((FILE *)ud))
        return rdm_errf(err, RDM_EIO, "read error");
    return (long)got;
}

static int col_disp, col_patient, col_readmitted;

/* Keep one record (after the task filter); 0 when dropped, -1 out of memory. */
static int keep(table *t, const rdm_csv_record *rec)
{
    const char *d = rec->fields[col_disp];
    static const char *drop[] = {"11", "13", "14", "19", "20", "21"};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        if (strcmp(d, drop[i]) == 0)
            return 0;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : BLOCK;
        const char **c = realloc(t->cells, t->cap * RDM_NCOLS * sizeof *c);
        float *y = realloc(t->y, t->cap * sizeof *y);
        unsigned char *s = realloc(t->split, t->cap);
        if (c)
            t->cells = c;
        if (y)
            t->y = y;
        if (s)
            t->split = s;
        if (!c || !y || !s)
            return -1;
    }
    for (int j = 0; j < RDM_NCOLS; j++) {
        /* offsets for now: the text buffer moves while it grows */
        t->cells[t->n * RDM_NCOLS + j] = (const char *)(uintptr_t)t->text.len;
        if (rdm_buf_add(&t->text, rec->fields[j], rec->lens[j] + 1))
            return -1;
    }
    t->y[t->n] = strcmp(rec->fields[col_readmitted], "<30") == 0;
    t->split[t->n] = (unsigned char)rdm_split_of(atoll(rec->fields[col_patient]), 70, 85);
    t->n++;
    return 1;
}

static void fix(table *t)
{
    for (size_t i = 0; i < t->n * RDM_NCOLS; i++)
        t->cells[i] = t->text.data + (uintptr_t)t->cells[i];
}

static void reset(table *t)
{
    t->n = 0;
    rdm_buf_reset(&t->text);
}

static int write_block(const rdm_encoder *e, const table *t, int d, float *X, FILE *out,
                       rdm_err *err)
{
    if (rdm_encoder_tree_matrix(e, t->cells, NULL, t->n, X, err))
        return -1;
    float row[2 + RDM_ENC_MAX_TREE];
    for (size_t i = 0; i < t->n; i++) {
        row[0] = t->split[i];
        row[1] = t->y[i];
        memcpy(row + 2, X + i * (size_t)d, (size_t)d * sizeof(float));
        if (fwrite(row, sizeof(float), (size_t)d + 2, out) != (size_t)d + 2)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: scale-matrix SOURCE.csv OUT.bin\n");
        return 2;
    }
    col_disp = rdm_schema_find("discharge_disposition_id");
    col_patient = rdm_schema_find("patient_nbr");
    col_readmitted = rdm_schema_find("readmitted");
    rdm_err err = {0};
    int rc = 1;
    table fit = {0}, blk = {0};
    rdm_encoder *e = NULL;
    float *X = NULL;
    FILE *src = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    rdm_csv *c = NULL;
    if (!src || !out) {
        fprintf(stderr, "scale-matrix: cannot open %s\n", !src ? argv[1] : argv[2]);
        goto done;
    }
    /* pass 0: the training rows the encoder is fitted on; pass 1: every row */
    rdm_csv_record rec;
    int32_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        rewind(src);
        if (!(c = rdm_csv_create(read_file, src, 0, argv[1], &err)) || rdm_csv_read_header(c, &err))
            goto fail;
        int r;
        while ((r = rdm_csv_next(c, &rec, &err)) > 0) {
            if (rec.problem || rec.nfields != RDM_NCOLS)
                continue;
            table *t = pass == 0 ? &fit : &blk;
            int k = keep(t, &rec);
            if (k < 0) {
                rdm_errf(&err, RDM_ENOMEM, "out of memory");
                goto fail;
            }
            if (pass == 0 && k && t->split[t->n - 1] != RDM_SPLIT_TRAIN)
                t->n--; /* train rows only (their text stays: harmless) */
            if (pass == 0 && fit.n >= FIT_ROWS)
                break;
            total += pass == 1 ? k : 0;
            if (pass == 1 && blk.n == BLOCK) {
                fix(&blk);
                if (write_block(e, &blk, rdm_encoder_tree_dim(e), X, out, &err))
                    goto fail;
                reset(&blk);
            }
        }
        if (r < 0)
            goto fail;
        rdm_csv_free(c);
        c = NULL;
        if (pass == 0) {
            fix(&fit);
            rdm_encoder_params p;
            rdm_encoder_params_default(&p);
            if (!(e = rdm_encoder_fit(fit.cells, NULL, fit.n, &p, &err)))
                goto fail;
            int d = rdm_encoder_tree_dim(e);
            int32_t hdr[2] = {0, d};
            if (!(X = malloc((size_t)BLOCK * (size_t)d * sizeof *X)) ||
                fwrite(hdr, sizeof hdr, 1, out) != 1 ||
                fwrite(rdm_encoder_tree_ncat(e), sizeof(int32_t), (size_t)d, out) != (size_t)d)
                goto fail;
        }
    }
    if (blk.n) {
        fix(&blk);
        if (write_block(e, &blk, rdm_encoder_tree_dim(e), X, out, &err))
            goto fail;
    }
    int32_t n = total;
    if (fseek(out, 0, SEEK_SET) != 0 || fwrite(&n, sizeof n, 1, out) != 1)
        goto fail;
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "scale-matrix: %s\n", err.msg[0] ? err.msg : "write failed");
done:
    rdm_csv_free(c);
    rdm_encoder_free(e);
    free(X);
    for (table *t = &fit; t; t = t == &fit ? &blk : NULL) {
        free(t->cells);
        free(t->y);
        free(t->split);
        rdm_buf_release(&t->text);
    }
    if (src)
        fclose(src);
    if (out && fclose(out) != 0)
        rc = 1;
    return rc;
}
