/* predlog_drive.c - test driver for the prediction log: queues N answered
 * requests at a given rate through rdm_predlog, stops the log (flush) and
 * prints its counters, once it has stopped, as key=value lines.
 * Usage: predlog-drive CONFIG RECORDS RATE [KEY=VALUE...]
 * RATE is records per second (0: as fast as they can be queued).
 * PREDLOG_DRIVE_POISON=K sends record K with an encounter id the database
 * refuses (past bigint). PREDLOG_DRIVE_BATCH=K sends the records K to a
 * request, as {"instances": [...]} bodies laid out with varied white space
 * (record i: encounter_id i, patient_nbr 1000 + i % 97, time_in_hospital
 * 1 + i % 14, a string with an escaped quote). PREDLOG_DRIVE_BODIES=FILE
 * without a batch size: the records of FILE, one to a request. Each body
 * is parsed as the predict route parses it, its layout given to the log
 * with it (PREDLOG_DRIVE_NO_LAYOUT: none, as entries of earlier versions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "config.h"
#include "predlog.h"

/* Queue s as the pool does: with the layout of its body the parser gives
 * (none when it goes to jansson, or with PREDLOG_DRIVE_NO_LAYOUT). */
static void put_served(rdm_predlog *log, rdm_predlog_served *s)
{
    static rdm_buf lay = RDM_BUF_INIT;
    rdm_buf_reset(&lay);
    if (!getenv("PREDLOG_DRIVE_NO_LAYOUT")) {
        rdm_api_request req;
        rdm_api_error e;
        if (rdm_api_parse_predict_layout(s->body, s->body_len, 1000000, &req, &e, &lay) == 200)
            rdm_api_request_release(&req);
    }
    s->layout = lay.len ? lay.data : NULL;
    s->layout_len = lay.len;
    rdm_predlog_put(log, s);
}

/* n records, `per` to a request: the log fed as the pool feeds it. */
static void pace(const struct timespec *t0, long i, double rate);

/* PREDLOG_DRIVE_BODIES=FILE: one JSON record per line, taken in turn as the
 * records of the batches instead of the generated ones (for measurements
 * with real inputs). */
static char **bodies;
static size_t nbodies;

static void load_bodies(const char *path)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (f && (len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char **g = realloc(bodies, (nbodies + 1) * sizeof *g);
        if (!g || !(g[nbodies] = strdup(line)))
            break;
        bodies = g;
        nbodies++;
    }
    free(line);
    if (f)
        fclose(f);
}

static int drive_batches(rdm_predlog *log, long n, long per, double rate)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    static const char *const sep[] = {",", " ,\n  ", "\t,"};
    size_t longest = 200;
    for (size_t b = 0; b < nbodies; b++)
        longest = strlen(bodies[b]) + 8 > longest ? strlen(bodies[b]) + 8 : longest;
    size_t cap = (size_t)per * longest + 64;
    // PREDLOG_DRIVE_PLAIN: no escaped quote (the bodies real clients send)
    const char *payer = getenv("PREDLOG_DRIVE_PLAIN") ? "MC" : "M\\\"C";
    char *body = malloc(cap), *resp = malloc(cap);
    for (long i = 1; body && resp && i <= n; i += per) {
        int bl = snprintf(body, cap, "{ \"instances\" :\n [");
        int rl = snprintf(resp, cap, "{\"predictions\":[");
        for (long k = i; k < i + per && k <= n; k++) {
            if (nbodies)
                bl += snprintf(body + bl, cap - (size_t)bl, "%s%s", k == i ? "" : ",",
                               bodies[(size_t)(k - 1) % nbodies]);
            else
                bl += snprintf(
                    body + bl, cap - (size_t)bl,
                    "%s{\"encounter_id\": %ld,\"patient_nbr\" : %ld, \"age\": \"[70-80)\", "
                    "\"time_in_hospital\":%ld, \"payer_code\": \"%s\"}",
                    k == i ? " " : sep[k % 3], k, 1000 + k % 97, 1 + k % 14, payer);
            double p = (double)(k % 1000) / 1000.0;
            rl += snprintf(resp + rl, cap - (size_t)rl,
                           "%s{\"encounter_id\":%ld,\"probability\":%.6f,\"decision\":%s,"
                           "\"threshold\":0.2,\"warnings\":[]}",
                           k == i ? "" : ",", k, p, p >= 0.2 ? "true" : "false");
        }
        bl += snprintf(body + bl, cap - (size_t)bl, " ]\n}");
        rl += snprintf(resp + rl, cap - (size_t)rl, "]}\n");
        rdm_predlog_served s = {"readmission", "1",        "champion", body, (size_t)bl,
                                resp,          (size_t)rl, 250,        NULL, 0};
        put_served(log, &s);
        pace(&t0, i + per - 1, rate);
    }
    int ok = body && resp;
    free(body);
    free(resp);
    return ok;
}

/* With rate > 0, until record i is due: t0 + i / rate. */
static void pace(const struct timespec *t0, long i, double rate)
{
    if (rate <= 0)
        return;
    struct timespec due = *t0;
    double at = (double)i / rate;
    due.tv_sec += (time_t)at;
    due.tv_nsec += (long)((at - (double)(time_t)at) * 1e9);
    if (due.tv_nsec >= 1000000000L) {
        due.tv_sec++;
        due.tv_nsec -= 1000000000L;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
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
    rdm_predlog_counters cs; // the log's counters, read after it stopped
    memset(&cs, 0, sizeof cs);
    const rdm_predlog_counters *c = &cs;
    rdm_predlog *log = rdm_predlog_start(&cfg, &cs, &err);
    if (!log)
        goto fail;
    load_bodies(getenv("PREDLOG_DRIVE_BODIES"));
    if (per > 0 && !drive_batches(log, n, per, rate)) {
        fprintf(stderr, "predlog-drive: out of memory\n");
        rdm_predlog_stop(log);
        rdm_config_release(&cfg);
        return 1;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 1; per <= 0 && i <= n; i++) {
        char buf[256], resp[256];
        const char *body = buf;
        int bl = snprintf(buf, sizeof buf,
                          "{\"encounter_id\": %ld, \"patient_nbr\": %ld, \"age\": \"[70-80)\", "
                          "\"time_in_hospital\": %ld}",
                          i, 1000 + i % 97, 1 + i % 14);
        if (nbodies) {
            body = bodies[(size_t)(i - 1) % nbodies];
            bl = (int)strlen(body);
        }
        if (i == poison) { // an encounter id past bigint: refused by the database
            bl = snprintf(buf, sizeof buf, "{\"encounter_id\": \"99999999999999999999\"}");
            body = buf;
        }
        double p = (double)(i % 1000) / 1000.0;
        int rl = snprintf(resp, sizeof resp,
                          "{\"model\":{\"name\":\"readmission\",\"version\":\"1\"},"
                          "\"encounter_id\":%ld,\"probability\":%.6f,\"decision\":%s,"
                          "\"threshold\":0.2,\"warnings\":[]}\n",
                          i, p, p >= 0.2 ? "true" : "false");
        rdm_predlog_served s = {"readmission", "1",        "champion", body, (size_t)bl,
                                resp,          (size_t)rl, 250,        NULL, 0};
        put_served(log, &s);
        pace(&t0, i, rate);
    }
    rdm_predlog_flush(log);
    // spilled records are replayed once the database answers: wait up to 60 s
    for (int k = 0; k < 600 && c->spilled > c->replayed + c->dropped + c->set_aside; k++) {
        struct timespec ms100 = {0, 100000000L};
        nanosleep(&ms100, NULL);
        rdm_predlog_flush(log);
    }
    rdm_predlog_stop(log); // everything sent, or spilled (counted)
    for (size_t b = 0; b < nbodies; b++)
        free(bodies[b]);
    free(bodies);
    printf("queued=%llu\nlogged=%llu\nspilled=%llu\nreplayed=%llu\ndropped=%llu\nsampled=%llu\n"
           "set_aside=%llu\n",
           (unsigned long long)c->queued, (unsigned long long)c->logged,
           (unsigned long long)c->spilled, (unsigned long long)c->replayed,
           (unsigned long long)c->dropped, (unsigned long long)c->sampled,
           (unsigned long long)c->set_aside);
    rdm_config_release(&cfg);
    return 0;
fail:
    fprintf(stderr, "predlog-drive: %s\n", err.msg);
    rdm_config_release(&cfg);
    return 1;
}
