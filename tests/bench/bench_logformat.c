/* bench_logformat.c - the prediction log writer's formatting alone, on one
 * core: served requests (request bodies from files of one JSON body per
 * line, each answered by the API with a model) become log entries as the
 * workers queue them, and the entries become the binary COPY rows of
 * monitor.prediction_batches (rdm_predentry_format, in chunks of
 * monitor.batch_records predictions, as the writer thread formats them).
 * No thread, no database: the CPU time of this one step per prediction.
 *
 * usage: bench-logformat --model FILE [--seconds S] [--batch-records N] [--max N] [--no-layout]
 *        BODIES...
 * The entries carry the body's layout as the serving route gives it
 * (rdm_api_parse_predict_layout); --no-layout leaves it out (the writer then
 * scans each body, as for the entries of earlier versions).
 * Prints one line per bodies file: predictions per second and microseconds
 * per prediction (CPU time of the thread), the bytes of rows per prediction
 * and a checksum of the rows (FNV-1a: the same bodies and model give the
 * same rows, so two builds can be compared). Exits 1 if any entry is not formatted in full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "model.h"
#include "predbatch.h"
#include "predentry.h"
#include "predfields.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The entries of the bodies in `path` (at most `max`), answered by `am`, in
 * `entries`; chunk starts (offsets) where a chunk reaches `per_chunk`
 * predictions in `cuts` (the last is entries->len). */
static int load_entries(const char *path, const rdm_api_model *am, long max, long per_chunk,
                        int with_layout, rdm_buf *entries, rdm_buf *cuts, uint64_t *preds)
{
    rdm_buf layout = RDM_BUF_INIT;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    rdm_buf resp = RDM_BUF_INIT;
    uint64_t seq = 0, in_chunk = 0;
    int rc = 0;
    size_t zero = 0;
    *preds = 0;
    if (rdm_buf_add(cuts, &zero, sizeof zero) != RDM_OK)
        rc = -1;
    for (long lineno = 1;
         rc == 0 && (max <= 0 || (long)seq < max) && (got = getline(&line, &cap, f)) > 0;
         lineno++) {
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue;
        rdm_buf_reset(&resp);
        rdm_buf_reset(&layout);
        // as the serving route answers: parsed (with the layout), then scored
        rdm_api_request req;
        rdm_api_error e;
        int st = rdm_api_parse_predict_layout(line, len, 1000000, &req, &e,
                                              with_layout ? &layout : NULL);
        if (st == 200) {
            st = rdm_api_score(am, &req, &resp, &e);
            rdm_api_request_release(&req);
        }
        if (st != 200) {
            fprintf(stderr, "bench-logformat: %s:%ld: not answered (%d): %.200s\n", path, lineno,
                    st, e.message);
            rc = -1;
            break;
        }
        uint32_t rows = rdm_predresp_rows(resp.data, resp.len);
        rdm_predentry_hdr h = {RDM_PREDENTRY_MAGIC,
                               0,
                               1796000000000000 + (int64_t)seq * 1000,
                               ++seq,
                               4242,
                               150,
                               1795999000000000,
                               rows,
                               (uint16_t)strlen(am->name),
                               (uint16_t)strlen(am->version),
                               (uint16_t)strlen(am->alias),
                               0,
                               (uint32_t)len,
                               (uint32_t)resp.len,
                               (uint32_t)layout.len};
        if (layout.len)
            h.flags = RDM_PREDENTRY_LAYOUT;
        size_t need = rdm_predentry_size(&h);
        h.len = (uint32_t)need;
        if (rdm_buf_reserve(entries, need) != RDM_OK) {
            rc = -1;
            break;
        }
        rdm_predentry_write(entries->data + entries->len, &h, am->name, am->version, am->alias,
                            line, resp.data, layout.data);
        entries->len += need;
        *preds += rows;
        if ((in_chunk += rows) >= (uint64_t)per_chunk) {
            in_chunk = 0;
            if (rdm_buf_add(cuts, &entries->len, sizeof entries->len) != RDM_OK)
                rc = -1;
        }
    }
    if (rc == 0 && in_chunk && rdm_buf_add(cuts, &entries->len, sizeof entries->len) != RDM_OK)
        rc = -1;
    free(line);
    fclose(f);
    rdm_buf_release(&resp);
    rdm_buf_release(&layout);
    if (rc == 0 && !seq) {
        fprintf(stderr, "bench-logformat: %s: no bodies\n", path);
        rc = -1;
    }
    return rc;
}

/* Format every chunk of `entries` until `seconds` of CPU time have passed
 * (at least once). 0, or -1 when a chunk is not formatted in full. */
static int time_format(const rdm_buf *entries, const rdm_buf *cuts, uint64_t preds, double seconds,
                       double *us_per, double *bytes_per, uint64_t *sum)
{
    const size_t *cut = (const size_t *)(const void *)cuts->data;
    size_t nchunks = cuts->len / sizeof *cut - 1;
    rdm_predbatch pb;
    rdm_predbatch_init(&pb);
    rdm_buf out = RDM_BUF_INIT;
    uint64_t done = 0, bytes = 0;
    int rc = 0;
    *sum = 0xcbf29ce484222325ull;
    double t0 = cpu_now(), t = t0;
    do {
        for (size_t c = 0; rc == 0 && c < nchunks; c++) {
            uint64_t rows = 0, bad = 0;
            rdm_buf_reset(&out);
            if (rdm_predentry_format(entries->data + cut[c], cut[c + 1] - cut[c], &pb, &out, &rows,
                                     &bad, NULL, NULL) != RDM_OK ||
                bad) {
                fprintf(stderr, "bench-logformat: chunk %zu: not formatted (%llu bad)\n", c,
                        (unsigned long long)bad);
                rc = -1;
            }
            if (done < preds) // the rows of the first pass: FNV-1a
                for (size_t k = 0; k < out.len; k++)
                    *sum = (*sum ^ (unsigned char)out.data[k]) * 0x100000001b3ull;
            done += rows;
            bytes += out.len;
        }
        t = cpu_now();
    } while (rc == 0 && t - t0 < seconds);
    if (rc == 0 && done % preds) {
        fprintf(stderr, "bench-logformat: %llu predictions formatted, not a multiple of %llu\n",
                (unsigned long long)done, (unsigned long long)preds);
        rc = -1;
    }
    *us_per = done ? (t - t0) * 1e6 / (double)done : 0;
    *bytes_per = done ? (double)bytes / (double)done : 0;
    rdm_buf_release(&out);
    rdm_predbatch_release(&pb);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench-logformat --model FILE [--seconds S] [--batch-records N] "
                    "[--max N] [--no-layout] BODIES...\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL;
    double seconds = 2.0;
    long per_chunk = 1000, max = 0;
    int first = argc, with_layout = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model_path = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--batch-records") == 0 && i + 1 < argc)
            per_chunk = atol(argv[++i]);
        else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
            max = atol(argv[++i]);
        else if (strcmp(argv[i], "--no-layout") == 0)
            with_layout = 0;
        else if (argv[i][0] == '-')
            return usage();
        else {
            first = i;
            break;
        }
    }
    if (!model_path || first == argc || per_chunk < 1)
        return usage();
    rdm_err err = {0};
    rdm_model *m = rdm_model_load_file(model_path, &err);
    if (!m) {
        fprintf(stderr, "bench-logformat: %s\n", err.msg);
        return 1;
    }
    rdm_api_model am = {m, "readmit", "7", "champion", "", NULL, NULL};
    int rc = 0;
    for (int i = first; rc == 0 && i < argc; i++) {
        rdm_buf entries = RDM_BUF_INIT, cuts = RDM_BUF_INIT;
        uint64_t preds = 0;
        double us = 0, bytes = 0;
        uint64_t sum = 0;
        rc = load_entries(argv[i], &am, max, per_chunk, with_layout, &entries, &cuts, &preds);
        if (rc == 0)
            rc = time_format(&entries, &cuts, preds, seconds, &us, &bytes, &sum);
        const char *base = strrchr(argv[i], '/');
        if (rc == 0)
            printf("| %s | %llu | %.0f | %.0f | %.3f | %.0f | %016llx |\n",
                   base ? base + 1 : argv[i], (unsigned long long)preds,
                   (double)entries.len / (double)preds, 1e6 / us, us, bytes,
                   (unsigned long long)sum);
        rdm_buf_release(&entries);
        rdm_buf_release(&cuts);
    }
    rdm_model_free(m);
    return rc ? 1 : 0;
}
