/* replay.c - readmit replay: source records as live traffic through the HTTP
 * API over simulated days, optionally drifting, then their outcomes. */
#include "replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "csv.h"
#include "httpc.h"
#include "monitor_db.h"
#include "outcomes.h"

static const char HELP[] =
    "usage: readmit replay --input CSV [--rate N] [--days D] [--scenario NAME]\n"
    "                      [--drift-from DAY] [--label-lag-days L] [--outcome-delay S]\n"
    "                      [--outcomes FILE] [--no-outcomes] [--url URL] [options]\n"
    "\n"
    "Send every record of CSV (the source format, e.g. from readmit synth) as one\n"
    "POST /api/v1/predict through the real HTTP API, at N records per second (0 =\n"
    "as fast as it answers), spread evenly over D simulated days. From day\n"
    "--drift-from on (default: the middle day), the scenario changes the records:\n"
    "  age        every age bracket two decades older\n"
    "  admission  admission source 7 (emergency) disappears\n"
    "  payer      payer_code suddenly missing\n"
    "Then, after --outcome-delay seconds, the outcomes of the answered records of\n"
    "every day but the last L (labels arrive late) are written to FILE (default\n"
    "var/replay/outcomes.csv) and loaded as `readmit outcomes` would. Progress\n"
    "goes to stderr; the last line counts every record: sent, answered 200,\n"
    "answered with an error, unanswered. Use -o monitor.window_rows=<records per\n"
    "day> with readmit monitor to see one window per simulated day.\n"
    "\n"
    "  --url URL           the API (default http://127.0.0.1:<serve.http_port>)\n" CMD_COMMON_HELP;

typedef struct rec {
    char *body;
    size_t len;
    char *id;         /* encounter_id text */
    char *readmitted; /* the outcome */
} rec;

typedef struct recs {
    rec *v;
    size_t n, cap;
} recs;

static void recs_free(recs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].body);
        free(r->v[i].id);
        free(r->v[i].readmitted);
    }
    free(r->v);
}

/* Read the CSV; record i of n belongs to day i * days / n; the scenario
 * applies from day `from`. */
static int load(const char *path, int scenario, int days, int from, recs *out, rdm_err *err)
{
    rdm_buf data = RDM_BUF_INIT, body = RDM_BUF_INIT;
    int rc = rdm_read_file(path, &data, err);
    rdm_csv *csv =
        rc == RDM_OK ? rdm_csv_open_mem(data.data ? data.data : "", data.len, 0, err) : NULL;
    if (rc == RDM_OK && !csv)
        rc = RDM_ENOMEM;
    if (rc == RDM_OK)
        rc = rdm_csv_read_header(csv, err);
    const char *const *names = NULL;
    int nh = rc == RDM_OK ? rdm_csv_header(csv, &names) : 0;
    int *map = calloc((size_t)nh + 1, sizeof *map);
    if (rc == RDM_OK && !map)
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    for (int i = 0; rc == RDM_OK && i < nh; i++)
        map[i] = rdm_schema_find(names[i]);
    // count the records first, so that each knows its day
    size_t total = 0;
    for (size_t i = 0; rc == RDM_OK && i < data.len; i++)
        total += data.data[i] == '\n';
    total = total > 0 ? total - 1 : 0;
    rdm_csv_record r;
    int got;
    while (rc == RDM_OK && (got = rdm_csv_next(csv, &r, err)) > 0) {
        if (r.problem) {
            rc = rdm_errf(err, RDM_EPARSE, "%s", r.reason);
            break;
        }
        const char *values[RDM_NCOLS] = {0};
        for (int i = 0; i < r.nfields && i < nh; i++)
            if (map[i] >= 0)
                values[map[i]] = r.fields[i];
        int day = total ? (int)((out->n * (size_t)days) / total) : 0;
        if (scenario && day >= from)
            rdm_replay_apply((rdm_replay_scenario)scenario, values);
        rdm_buf_reset(&body);
        if (rdm_replay_body(values, &body) != RDM_OK)
            rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        if (rc == RDM_OK && out->n == out->cap) {
            void *p = out->v;
            if (rdm_grow(&p, &out->cap, out->n + 1, sizeof *out->v))
                rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
            out->v = p;
        }
        if (rc != RDM_OK)
            break;
        rec *x = &out->v[out->n++];
        x->len = body.len;
        x->body = rdm_buf_take(&body);
        x->id = strdup(values[RDM_C_ENCOUNTER_ID] ? values[RDM_C_ENCOUNTER_ID] : "");
        x->readmitted = strdup(values[RDM_C_READMITTED] ? values[RDM_C_READMITTED] : "");
        if (!x->body || !x->id || !x->readmitted)
            rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    free(map);
    rdm_csv_free(csv);
    rdm_buf_release(&data);
    rdm_buf_release(&body);
    return rc;
}

static void sleep_until(const struct timespec *t0, double at)
{
    struct timespec due = *t0;
    due.tv_sec += (time_t)at;
    due.tv_nsec += (long)((at - floor(at)) * 1e9);
    if (due.tv_nsec >= 1000000000L) {
        due.tv_sec++;
        due.tv_nsec -= 1000000000L;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
}

static int write_outcomes(const recs *rs, const unsigned char *ok, size_t upto, const char *path,
                          long *written, rdm_err *err)
{
    rdm_buf b = RDM_BUF_INIT;
    char now[32];
    rdm_utc_now(now);
    int rc = rdm_buf_adds(&b, "encounter_id,readmitted,observed_at\n");
    *written = 0;
    for (size_t i = 0; rc == RDM_OK && i < upto; i++) {
        if (!ok[i] || rdm_outcome_label(rs->v[i].readmitted) < 0)
            continue;
        rc = rdm_buf_printf(&b, "%s,%s,%s\n", rs->v[i].id, rs->v[i].readmitted, now);
        (*written)++;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (rc != RDM_OK)
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (rc == RDM_OK && slash)
        rc = rdm_mkdirs(dir, err);
    if (rc == RDM_OK)
        rc = rdm_write_file_atomic(path, b.data, b.len, err);
    rdm_buf_release(&b);
    return rc;
}

static int deliver(cmd_ctx *ctx, const recs *rs, const unsigned char *ok, size_t upto,
                   const char *path, rdm_err *err)
{
    long written = 0;
    int rc = write_outcomes(rs, ok, upto, path, &written, err);
    rdm_buf data = RDM_BUF_INIT;
    rdm_outcomes_parsed p;
    if (rc == RDM_OK)
        rc = rdm_read_file(path, &data, err);
    if (rc == RDM_OK)
        rc = rdm_outcomes_parse(data.data, data.len, path, &p, err);
    if (rc != RDM_OK) {
        rdm_buf_release(&data);
        return rc;
    }
    char sha[65];
    rdm_sha256_hex(data.data, data.len, sha);
    rdm_buf_release(&data);
    rdm_db *db = cmd_connect(ctx);
    rdm_mondb_load r;
    if (!db)
        rc = rdm_errf(err, RDM_EDB, "cannot connect to deliver the outcomes");
    else
        rc = rdm_mondb_store_outcomes(db, path, sha, &p, &r, err);
    if (rc == RDM_OK)
        printf("replay: outcomes of %ld records delivered (%s): inserted %ld unmatched %ld\n",
               written, path, r.inserted, r.unmatched);
    rdm_outcomes_parsed_release(&p);
    rdm_db_close(db);
    return rc;
}

int cmd_replay(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *input = NULL, *rate_s = NULL, *days_s = NULL, *scen_s = NULL, *from_s = NULL,
               *lag_s = NULL, *delay_s = NULL, *outcomes = "var/replay/outcomes.csv", *url = NULL;
    int no_outcomes = 0;
    const cmd_opt opts[] = {{"--input", &input, NULL},
                            {"--rate", &rate_s, NULL},
                            {"--days", &days_s, NULL},
                            {"--scenario", &scen_s, NULL},
                            {"--drift-from", &from_s, NULL},
                            {"--label-lag-days", &lag_s, NULL},
                            {"--outcome-delay", &delay_s, NULL},
                            {"--outcomes", &outcomes, NULL},
                            {"--no-outcomes", NULL, &no_outcomes},
                            {"--url", &url, NULL},
                            {0}};
    int rc = cmd_parse(&ctx, "replay", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    double rate = rate_s ? atof(rate_s) : 200, delay = delay_s ? atof(delay_s) : 0;
    int days = days_s ? atoi(days_s) : 7, lag = lag_s ? atoi(lag_s) : 1;
    int scenario = rdm_replay_scenario_parse(scen_s ? scen_s : "none");
    int from = from_s ? atoi(from_s) : days / 2;
    if (!input || scenario < 0 || days < 1 || rate < 0 || lag < 0 || from < 0) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("replay", "%s",
                               !input         ? "--input CSV is required"
                               : scenario < 0 ? "--scenario: none, age, admission or payer"
                                              : "--days >= 1, --rate, --label-lag-days, "
                                                "--drift-from >= 0");
    }
    if ((rc = cmd_load_config(&ctx)) != EXIT_OK) {
        cmd_ctx_release(&ctx);
        return rc;
    }
    char defurl[64];
    snprintf(defurl, sizeof defurl, "http://127.0.0.1:%d", ctx.cfg.serve.http_port);
    rdm_err err = {0};
    recs rs = {0};
    rdm_httpc *http = NULL;
    unsigned char *ok = NULL;
    rc = load(input, scenario, days, from, &rs, &err);
    if (rc == RDM_OK && !(http = rdm_httpc_create(url ? url : defurl, &err)))
        rc = RDM_EINVAL;
    if (rc == RDM_OK && !(ok = calloc(rs.n + 1, 1)))
        rc = rdm_errf(&err, RDM_ENOMEM, "out of memory");
    size_t answered = 0, errors = 0, unanswered = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double last = rdm_now(), start = last;
    rdm_buf resp = RDM_BUF_INIT;
    for (size_t i = 0; rc == RDM_OK && i < rs.n; i++) {
        int status = 0;
        rdm_err e = {0};
        if (rdm_httpc_post(http, "/api/v1/predict", rs.v[i].body, rs.v[i].len, &status, &resp,
                           &e) != RDM_OK)
            unanswered++;
        else if (status == 200)
            ok[i] = 1, answered++;
        else
            errors++;
        double now = rdm_now();
        if (!ctx.quiet && (now - last >= 1.0 || i + 1 == rs.n)) {
            last = now;
            fprintf(stderr,
                    "replay: day %zu/%d: sent %zu, 200 %zu, errors %zu, unanswered %zu (%.0f/s)\n",
                    (i * (size_t)days) / rs.n + 1, days, i + 1, answered, errors, unanswered,
                    (double)(i + 1) / (now - start + 1e-9));
        }
        if (rate > 0)
            sleep_until(&t0, (double)(i + 1) / rate);
    }
    if (rc == RDM_OK)
        printf("replay: sent %zu answered 200 %zu errors %zu unanswered %zu over %d simulated days "
               "(scenario %s from day %d)\n",
               rs.n, answered, errors, unanswered, days, scen_s ? scen_s : "none", from);
    if (rc == RDM_OK && !no_outcomes) {
        if (delay > 0)
            sleep_until(&t0, (double)rs.n / (rate > 0 ? rate : 1e12) + delay);
        size_t upto = days > lag ? rs.n * (size_t)(days - lag) / (size_t)days : 0;
        rc = deliver(&ctx, &rs, ok, upto, outcomes, &err);
    }
    rdm_buf_release(&resp);
    free(ok);
    rdm_httpc_free(http);
    recs_free(&rs);
    cmd_ctx_release(&ctx);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("replay", &err);
}
