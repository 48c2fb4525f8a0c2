/* score.c - readmit-fcgi-bench --bench-score: the scoring micro-benchmark
 * (one record from JSON text to probability, and the model alone), timed in
 * process on real request bodies, in CPU time of the thread (on a machine
 * shared with other work, wall time would count the time others ran). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server.h"
#include "api.h"
#include "bench.h"
#include "model.h"
#include "readmit.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int srv_bench_score(const char *model_path, const char *bodies_path, double seconds)
{
    rdm_err err = {0};
    rdm_model *m = rdm_model_load_file(model_path, &err);
    if (!m) {
        fprintf(stderr, "readmit-fcgi-bench: %s\n", err.msg);
        return 1;
    }
    rdm_buf text = RDM_BUF_INIT;
    if (rdm_read_file(bodies_path, &text, &err) != RDM_OK) {
        fprintf(stderr, "readmit-fcgi-bench: %s\n", err.msg);
        rdm_model_free(m);
        return 1;
    }
    /* split into lines (bodies) in place */
    size_t nb = 0, cap = 0;
    char **lines = NULL;
    size_t *lens = NULL;
    for (char *p = text.data, *end = text.data + text.len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len) {
            if (nb == cap) {
                cap = cap ? cap * 2 : 1024;
                char **nl2 = realloc(lines, cap * sizeof *lines);
                size_t *ll2 = realloc(lens, cap * sizeof *lens);
                if (nl2)
                    lines = nl2;
                if (ll2)
                    lens = ll2;
                if (!nl2 || !ll2)
                    break;
            }
            lines[nb] = p;
            lens[nb++] = len;
        }
        p += len + 1;
    }
    rdm_api_model am = {m, "bench", "0", "", "", NULL, NULL};
    rdm_buf out = RDM_BUF_INIT;
    size_t records = 0, requests = 0, fails = 0;
    double t0 = cpu_now(), t;
    /* whole handler: parse + validate + score + response JSON */
    do {
        for (size_t i = 0; i < nb; i++) {
            rdm_buf_reset(&out);
            rdm_api_request req;
            rdm_api_error e;
            if (rdm_api_parse_predict(lines[i], lens[i], 1000000, &req, &e) != RDM_HTTP_OK) {
                fails++;
                continue;
            }
            if (rdm_api_score(&am, &req, &out, &e) != RDM_HTTP_OK)
                fails++;
            records += req.n;
            requests++;
            rdm_api_request_release(&req);
        }
        t = cpu_now() - t0;
    } while (t < seconds && nb);
    double handler_us = records ? t * 1e6 / (double)records : 0;
    /* the model alone on pre-parsed records */
    rdm_api_request *reqs = calloc(nb, sizeof *reqs);
    size_t nr = 0, scored = 0;
    for (size_t i = 0; reqs && i < nb; i++) {
        rdm_api_error e;
        if (rdm_api_parse_predict(lines[i], lens[i], 1000000, &reqs[nr], &e) == RDM_HTTP_OK)
            nr++;
    }
    double sink = 0;
    t0 = cpu_now();
    do { /* each request's records as one block, as the handler scores them */
        for (size_t i = 0; i < nr; i++)
            for (size_t a = 0; a < reqs[i].n; a += 32) {
                const char *const *rows[32];
                double p[32];
                size_t k = reqs[i].n - a < 32 ? reqs[i].n - a : 32, ok;
                for (size_t j = 0; j < k; j++)
                    rows[j] = reqs[i].recs[a + j].values;
                rdm_model_score_block(m, rows, k, p, NULL, &ok, NULL);
                for (size_t j = 0; j < ok; j++)
                    sink += p[j];
                scored += k;
            }
        t = cpu_now() - t0;
    } while (t < seconds && nr);
    double score_us = scored ? t * 1e6 / (double)scored : 0;
    printf("BENCH_SCORE model=%s type=%s bodies=%zu records=%zu failures=%zu "
           "handler_us_per_record=%.2f score_us_per_record=%.2f (CPU time; checksum %.3f)\n",
           model_path, rdm_model_type_name(m), nb, records, fails, handler_us, score_us,
           sink / (double)(scored ? scored : 1));
    for (size_t i = 0; reqs && i < nr; i++)
        rdm_api_request_release(&reqs[i]);
    free(reqs);
    free(lines);
    free(lens);
    rdm_buf_release(&out);
    rdm_buf_release(&text);
    rdm_model_free(m);
    return fails ? 1 : 0;
}
