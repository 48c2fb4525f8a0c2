/* ingest.c - readmit ingest: load the source CSV (or UCI zip) into raw.* in
 * batches. */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char HELP[] =
    "usage: readmit ingest [--source PATH] [--batches next|all|K] [options]\n"
    "\n"
    "Load the source CSV (or the UCI zip) into raw.encounters in batches of\n"
    "data.batch_rows rows, one transaction per batch, with a ledger row in\n"
    "raw.batches and unstorable rows (wrong field count, invalid UTF-8, "
    "over-long\n"
    "field, broken quoting) in raw.rejects. Batches already loaded from the "
    "same\n"
    "file (same sha256) are skipped. Prints rows read, accepted and rejected.\n"
    "\n"
    "  --source PATH       CSV or zip (default: data.source; env "
    "READMIT_DATA)\n"
    "  --batches WHAT      next: one new batch; all: every new batch "
    "(default);\n"
    "                      K: at most K new batches\n" CMD_COMMON_HELP;

static void progress(const rdm_ingest_stats *st, void *ud)
{
    char detail[96];
    snprintf(detail, sizeof detail, "%d batches loaded, %.0f rows/s", st->batches_loaded,
             st->seconds > 0 ? (double)st->rows_read / st->seconds : 0);
    cmd_progress_cb(ud, "ingest rows", (double)st->rows_read, 0, detail);
}

int cmd_ingest(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *source = NULL, *batches = NULL;
    long max_batches = RDM_INGEST_ALL;
    const cmd_opt opts[] = {{"--source", &source, NULL}, {"--batches", &batches, NULL}, {0}};
    int rc = cmd_parse(&ctx, "ingest", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    if (batches && strcmp(batches, "all") != 0) {
        char *end;
        if (!strcmp(batches, "next")) {
            max_batches = RDM_INGEST_NEXT;
        } else if ((max_batches = strtol(batches, &end, 10)) < 1 || *end || end == batches) {
            cmd_ctx_release(&ctx);
            return cmd_usage_error("ingest", "--batches wants next, all or a count >= 1, not '%s'",
                                   batches);
        }
    }
    rc = cmd_load_config(&ctx);
    if (rc != EXIT_OK) {
        cmd_ctx_release(&ctx);
        return rc;
    }
    rdm_err err = {0};
    if (source) {
        rdm_buf kv = RDM_BUF_INIT;
        int bad = rdm_buf_printf(&kv, "data.source=%s", source) ||
                  rdm_config_set(&ctx.cfg, kv.data, &err);
        rdm_buf_release(&kv);
        if (bad) {
            fprintf(stderr, "readmit ingest: --source: %s\n", err.msg);
            cmd_ctx_release(&ctx);
            return EXIT_USAGE;
        }
    }
    rdm_db *db = cmd_connect(&ctx);
    if (!db) {
        cmd_ctx_release(&ctx);
        return EXIT_FAIL;
    }
    rdm_ingest_stats st;
    cmd_progress pr;
    cmd_progress_init(&pr, &ctx);
    int irc = rdm_ingest(&ctx.cfg, db, max_batches, pr.on ? progress : NULL, &pr, &st, &err);
    cmd_progress_end(&pr);
    double rate = st.seconds > 0 ? (double)st.rows_read / st.seconds : 0;
    printf("read %llu accepted %llu rejected %llu\n", st.rows_read, st.rows_accepted,
           st.rows_rejected);
    if (st.sha256[0] && irc == RDM_OK) {
        int total = st.batches_skipped + st.batches_loaded + st.batches_left;
        char which[64] = "";
        if (st.batches_loaded == 1)
            snprintf(which, sizeof which, " (batch %d of %d)", st.batches_skipped + 1, total);
        else if (st.batches_loaded > 1)
            snprintf(which, sizeof which, " (batches %d-%d of %d)", st.batches_skipped + 1,
                     st.batches_skipped + st.batches_loaded, total);
        printf("batches: loaded %d%s, already loaded %d, left %d; %.2f s, %.0f rows/s; source %s "
               "sha256 %.12s\n",
               st.batches_loaded, which, st.batches_skipped, st.batches_left, st.seconds, rate,
               ctx.cfg.data.source, st.sha256);
        if (st.batches_loaded == 0)
            printf("ingest: nothing new: all %d batches of the source are loaded\n", total);
    } else if (st.sha256[0]) { /* what is left is unknown: the rest was not read */
        printf("batches: loaded %d before the error, already loaded %d; source %s sha256 %.12s\n",
               st.batches_loaded, st.batches_skipped, ctx.cfg.data.source, st.sha256);
    }
    if (st.code_labels >= 0)
        printf("code labels: %ld from the source's IDs_mapping.csv%s", st.code_labels,
               st.code_labels_bad ? "" : "\n");
    if (st.code_labels >= 0 && st.code_labels_bad)
        printf(", %ld bad lines kept in raw.code_label_rejects\n", st.code_labels_bad);
    fflush(stdout);
    if (irc != RDM_OK) {
        rc = cmd_fail("ingest", &err);
        goto out;
    }
    rdm_res *res = rdm_db_query(db, RDM_SQL_RAW_SELECT_FINGERPRINT, 0, NULL, &err);
    if (!res) {
        rc = cmd_fail("ingest", &err);
        goto out;
    }
    char fp[160];
    snprintf(fp, sizeof fp, "raw batches=%lld rows=%lld last_batch=%lld",
             rdm_res_ll(res, 0, "batches"), rdm_res_ll(res, 0, "rows"),
             rdm_res_ll(res, 0, "last_batch"));
    int frc = rdm_res_check(res, &err);
    rdm_res_free(res);
    if (frc != RDM_OK || cmd_stamp(&ctx, fp, &err) != RDM_OK)
        rc = cmd_fail("ingest", &err);
out:
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc;
}
