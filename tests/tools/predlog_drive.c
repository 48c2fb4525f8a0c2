/* predlog_drive.c - test driver for the prediction log: queues N answered
 * requests at a given rate through rdm_predlog, stops the log (flush) and
 * prints its counters as key=value lines.
 * Usage: predlog-drive CONFIG RECORDS RATE [KEY=VALUE...]
 * PREDLOG_DRIVE_POISON=K sends record K with an encounter id the database
 * refuses (past bigint). PREDLOG_DRIVE_BATCH=K sends the records K to a
 * request, as {"instances": [...]} bodies laid out with varied white space
 * (record i: encounter_id i, patient_nbr 1000 + i % 97, time_in_hospital
 * 1 + i % 14, a string with an escaped quote). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "predlog.h"

/* n records, `per` to a request: the log fed as the pool feeds it. */
static int drive_batches(rdm_config *cfg, long n, long per)
{
    rdm_err err = {0};
    rdm_predlog *log = rdm_predlog_start(cfg, NULL, &err);
    if (!log) {
        fprintf(stderr, "predlog-drive: %s\n", err.msg);
        rdm_config_release(cfg);
        return 1;
    }
    static const char *const sep[] = {",", " ,\n  ", "\t,"};
    size_t cap = (size_t)per * 200 + 64;
    char *body = malloc(cap), *resp = malloc(cap);
    for (long i = 1; body && resp && i <= n; i += per) {
        int bl = snprintf(body, cap, "{ \"instances\" :\n [");
        int rl = snprintf(resp, cap, "{\"predictions\":[");
        for (long k = i; k < i + per && k <= n; k++) {
            bl += snprintf(body + bl, cap - (size_t)bl,
                           "%s{\"encounter_id\": %ld,\"patient_nbr\" : %ld, \"age\": \"[70-80)\", "
                           "\"time_in_hospital\":%ld, \"payer_code\": \"M\\\"C\"}",
                           k == i ? " " : sep[k % 3], k, 1000 + k % 97, 1 + k % 14);
            double p = (double)(k % 1000) / 1000.0;
            rl += snprintf(resp + rl, cap - (size_t)rl,
                           "%s{\"encounter_id\":%ld,\"probability\":%.6f,\"decision\":%s,"
                           "\"threshold\":0.2,\"warnings\":[]}",
                           k == i ? "" : ",", k, p, p >= 0.2 ? "true" : "false");
        }
        bl += snprintf(body + bl, cap - (size_t)bl, " ]\n}");
        rl += snprintf(resp + rl, cap - (size_t)rl, "]}\n");
        rdm_predlog_served s = {"readmission", "1",  "champion", body,
                                (size_t)bl,    resp, (size_t)rl, 250};
        rdm_predlog_put(log, &s);
    }
    rdm_predlog_flush(log);
    const rdm_predlog_counters *c = rdm_predlog_counters_get(log);
    printf("queued=%llu\nlogged=%llu\nspilled=%llu\ndropped=%llu\n", (unsigned long long)c->queued,
           (unsigned long long)c->logged, (unsigned long long)c->spilled,
           (unsigned long long)c->dropped);
    int ok = body && resp;
    free(body);
    free(resp);
    rdm_predlog_stop(log);
    rdm_config_release(cfg);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: predlog-drive CONFIG RECORDS RATE [KEY=VALUE...]\n");
        return 2;
    }
    rdm_config cfg;
    rdm_err err = {0};
    if (rdm_config_defaults(&cfg, &err) != RDM_OK || rdm_config_load(&cfg, argv[1], &err) != RDM_OK)
        goto fail;
    for (int i = 4; i < argc; i++)
        if (rdm_config_set(&cfg, argv[i], &err) != RDM_OK)
            goto fail;
    long n = atol(argv[2]);
    const char *pv = getenv("PREDLOG_DRIVE_POISON"); /* record number sent with a bad id */
    long poison = pv ? atol(pv) : 0;
    double rate = atof(argv[3]);
    const char *bv = getenv("PREDLOG_DRIVE_BATCH");
    long per = bv ? atol(bv) : 0;
    if (per > 0)
        return drive_batches(&cfg, n, per);
    rdm_predlog *log = rdm_predlog_start(&cfg, NULL, &err);
    if (!log)
        goto fail;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 1; i <= n; i++) {
        char body[256], resp[256];
        int bl = snprintf(body, sizeof body,
                          "{\"encounter_id\": %ld, \"patient_nbr\": %ld, \"age\": \"[70-80)\", "
                          "\"time_in_hospital\": %ld}",
                          i, 1000 + i % 97, 1 + i % 14);
        if (i == poison) // an encounter id past bigint: refused by the database
            bl = snprintf(body, sizeof body, "{\"encounter_id\": \"99999999999999999999\"}");
        double p = (double)(i % 1000) / 1000.0;
        int rl = snprintf(resp, sizeof resp,
                          "{\"model\":{\"name\":\"readmission\",\"version\":\"1\"},"
                          "\"encounter_id\":%ld,\"probability\":%.6f,\"decision\":%s,"
                          "\"threshold\":0.2,\"warnings\":[]}\n",
                          i, p, p >= 0.2 ? "true" : "false");
        rdm_predlog_served s = {"readmission", "1",  "champion", body,
                                (size_t)bl,    resp, (size_t)rl, 250};
        rdm_predlog_put(log, &s);
        if (rate > 0) { // pace: record i is due at t0 + i / rate
            struct timespec due = t0;
            double at = (double)i / rate;
            due.tv_sec += (time_t)at;
            due.tv_nsec += (long)((at - (double)(time_t)at) * 1e9);
            if (due.tv_nsec >= 1000000000L) {
                due.tv_sec++;
                due.tv_nsec -= 1000000000L;
            }
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
        }
    }
    const rdm_predlog_counters *c = rdm_predlog_counters_get(log);
    rdm_predlog_flush(log);
    // spilled records are replayed once the database answers: wait up to 60 s
    for (int k = 0; k < 600 && c->spilled > c->replayed + c->dropped + c->set_aside; k++) {
        struct timespec ms100 = {0, 100000000L};
        nanosleep(&ms100, NULL);
        rdm_predlog_flush(log);
    }
    printf("queued=%llu\nlogged=%llu\nspilled=%llu\nreplayed=%llu\ndropped=%llu\nsampled=%llu\n"
           "set_aside=%llu\n",
           (unsigned long long)c->queued, (unsigned long long)c->logged,
           (unsigned long long)c->spilled, (unsigned long long)c->replayed,
           (unsigned long long)c->dropped, (unsigned long long)c->sampled,
           (unsigned long long)c->set_aside);
    rdm_predlog_stop(log);
    rdm_config_release(&cfg);
    return 0;
fail:
    fprintf(stderr, "predlog-drive: %s\n", err.msg);
    rdm_config_release(&cfg);
    return 1;
}
