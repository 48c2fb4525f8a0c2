/* clean.c - readmit clean: type, validate, filter and profile new raw batches. */
#include "clean.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const char HELP[] =
    "usage: readmit clean [--stamp FILE] [options]\n"
    "\n"
    "Turn the raw batches not yet cleaned into typed rows of clean.encounters:\n"
    "integers parsed, '?' as NULL, categoricals normalised, the validation rules\n"
    "of clean.rules applied (hard: the row goes to clean.rejects; soft: counted),\n"
    "duplicate encounter ids dropped (the first is kept), expired/hospice\n"
    "discharges (clean.exclude_discharge) dropped, the target and the ICD-9\n"
    "chapter groups derived. The run is one transaction that also stores the\n"
    "per-batch validation counts, a new snapshot with its fingerprint and its\n"
    "profile. A failed batch check (hard max_missing, min_rows) or too many\n"
    "rejects (clean.max_reject_rate) stops the run and keeps the previous\n"
    "snapshot. When the clean section of the configuration changed, every batch\n"
    "is cleaned again with the new settings.\n"
    "\n"
    "Exit status: 0 ok (also when there was nothing to do), 1 failure or failed\n"
    "validation, 2 usage or configuration error.\n"
    "\n" CMD_COMMON_HELP;

static void progress(long done, long total, void *ud)
{
    cmd_progress_cb(ud, "clean rows", (double)done, (double)total, NULL);
}

int cmd_clean(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    int rc = cmd_parse(&ctx, "clean", HELP, argc, argv, NULL);
    if (rc != CMD_RUN)
        return rc;
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db)
        return rc;
    rdm_err err = {0};
    rdm_clean_stats st;
    cmd_progress pr;
    cmd_progress_init(&pr, &ctx);
    int crc = rdm_clean(&ctx.cfg, db, pr.on ? progress : NULL, &pr, &st, &err);
    cmd_progress_end(&pr);
    if (st.batches == 0 && crc == RDM_OK && !st.recleaned) {
        if (st.snapshot_id)
            printf("clean: nothing to do; snapshot %d: %ld rows, %ld positive\n", st.snapshot_id,
                   st.snapshot_rows, st.snapshot_positives);
        else
            printf("clean: nothing to do; no raw batches yet (run readmit ingest)\n");
    } else {
        printf("clean: %d batch%s%s: rows in %ld, clean %ld, filtered %ld, duplicate %ld, rejected "
               "%ld; soft violations %ld, validation failures %d; %.2f s\n",
               st.batches, st.batches == 1 ? "" : "es",
               st.recleaned ? " (config changed: all cleaned again)" : "", st.rows_in,
               st.rows_clean, st.rows_filtered, st.rows_duplicate, st.rows_rejected,
               st.soft_violations, st.validation_failures, st.seconds);
        if (crc == RDM_OK)
            printf("snapshot %d: %ld rows, %ld positive (%.1f%%), fingerprint %.16s\n",
                   st.snapshot_id, st.snapshot_rows, st.snapshot_positives,
                   st.snapshot_rows
                       ? 100.0 * (double)st.snapshot_positives / (double)st.snapshot_rows
                       : 0.0,
                   st.fingerprint);
    }
    fflush(stdout);
    if (crc != RDM_OK) {
        rc = cmd_fail("clean", &err);
    } else if (cmd_stamp(&ctx, st.fingerprint[0] ? st.fingerprint : "no clean snapshot", &err) !=
               RDM_OK) {
        rc = cmd_fail("clean", &err);
    }
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc;
}
