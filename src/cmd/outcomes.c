/* outcomes.c - readmit outcomes: load observed outcomes of served encounters. */
#include "outcomes.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "monitor_db.h"

static const char HELP[] =
    "usage: readmit outcomes --input FILE [options]\n"
    "\n"
    "Load observed outcomes into monitor.outcomes. FILE is CSV with a header\n"
    "naming encounter_id and readmitted (<30, >30, NO as in the data, or 1/0\n"
    "with 1 = readmitted within 30 days) and optionally observed_at (ISO 8601;\n"
    "empty = now); other columns are ignored. Rows that cannot be used are kept\n"
    "in monitor.outcome_rejects with their reason; outcomes of encounters never\n"
    "served are kept and counted as unmatched (they join when the prediction is\n"
    "logged). An encounter that already has an outcome keeps it, and loading the\n"
    "same file again changes nothing.\n"
    "\n"
    "  --input FILE        the outcomes CSV\n" CMD_COMMON_HELP;

int cmd_outcomes(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *input = NULL;
    const cmd_opt opts[] = {{"--input", &input, NULL}, {0}};
    int rc = cmd_parse(&ctx, "outcomes", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    if (!input) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("outcomes", "--input FILE is required");
    }
    rdm_err err = {0};
    rdm_buf data = RDM_BUF_INIT;
    if (rdm_read_file(input, &data, &err) != RDM_OK) {
        cmd_ctx_release(&ctx);
        return cmd_fail("outcomes", &err);
    }
    rdm_outcomes_parsed p;
    if (rdm_outcomes_parse(data.data ? data.data : "", data.len, input, &p, &err) != RDM_OK) {
        rdm_buf_release(&data);
        cmd_ctx_release(&ctx);
        return cmd_fail("outcomes", &err);
    }
    char sha[65];
    rdm_sha256_hex(data.data ? data.data : "", data.len, sha);
    rdm_buf_release(&data);
    rdm_db *db = cmd_open(&ctx, &rc);
    if (!db) {
        rdm_outcomes_parsed_release(&p);
        return rc;
    }
    rdm_mondb_load r;
    rc = rdm_mondb_store_outcomes(db, input, sha, &p, &r, &err);
    if (rc == RDM_OK && r.already)
        printf("%s was loaded before (%s): nothing changed\n", input, r.at);
    else if (rc == RDM_OK)
        printf("outcomes: read %ld inserted %ld duplicates %ld rejected %ld unmatched %ld\n",
               r.read, r.inserted, r.duplicates, r.rejected, r.unmatched);
    rdm_outcomes_parsed_release(&p);
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("outcomes", &err);
}
