/* test_status.c - the status module's text, without a database: documents
 * as rdm_status_build makes them, rendered by rdm_status_text and
 * rdm_status_table. Table-driven: one document and the lines it must show. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

int test_status_register(void);

typedef struct status_case {
    const char *what;
    const char *doc;      /* the status document (JSON) */
    const char *has[6];   /* lines (or parts) the text must contain */
    const char *lacks[3]; /* and must not */
} status_case;

static const status_case CASES[] = {
    {"empty database",
     "{\"batches\": [], \"rows\": {}, \"snapshot\": null, \"last_failure\": null}",
     {"Batches\n  (none: run readmit ingest)\n", "Clean snapshot\n  (none: run readmit clean)\n"},
     {"Model", "FAILED"}},
    {"two batches, one cleaned",
     "{\"batches\": [{\"batch_id\": 1, \"batch_no\": 1, \"rows_read\": 15000, \"rows_accepted\": "
     "14990, \"rows_rejected\": 10, \"rows_clean\": 14000, \"rows_filtered\": 900, "
     "\"rows_duplicate\": 90, \"rows_clean_rejected\": 0, \"snapshot_id\": 3, \"finished_at\": "
     "\"2026-01-02T03:04:05Z\"}, {\"batch_id\": 2, \"batch_no\": 2, \"rows_read\": 5, "
     "\"rows_accepted\": 5, \"rows_rejected\": 0, \"snapshot_id\": null}], \"rows\": "
     "{\"raw_batches\": 2, \"raw_read\": 15005, \"raw_accepted\": 14995, \"raw_rejected\": 10, "
     "\"clean_batches\": 1, \"pending_batches\": 1, \"clean\": 14000, \"filtered\": 900, "
     "\"duplicates\": 90, \"clean_rejected\": 0}, \"snapshot\": null, \"last_failure\": null}",
     {"  raw:   2 batches, 15005 read = 14995 accepted + 10 rejected\n",
      "  clean: 1 batches cleaned, 1 pending; 14000 clean rows, 900 filtered, 90 duplicates, 0 "
      "rejected by validation\n",
      "2026-01-02T03:04:05Z"},
     {"(none: run readmit ingest)"}},
    {"a snapshot with a failed check and a later failed run",
     "{\"batches\": [], \"rows\": {}, \"snapshot\": {\"snapshot_id\": 4, \"created_at\": \"T1\", "
     "\"fingerprint\": \"0123456789abcdef0123\", \"rows\": 200, \"positives\": 25, "
     "\"positive_rate\": 0.125, \"validation\": {\"checks\": 3, \"failed\": 1, \"rules\": "
     "[{\"batch_id\": 1, \"rule\": \"age_known\", \"severity\": \"soft\", \"violations\": 7, "
     "\"checked\": 100, \"passed\": false}, {\"batch_id\": 1, \"rule\": \"ok_rule\", "
     "\"severity\": \"hard\", \"violations\": 0, \"checked\": 100, \"passed\": true}]}}, "
     "\"last_failure\": {\"snapshot_id\": 5, \"created_at\": \"T2\", \"message\": \"validation "
     "failed: rule 'x'\", \"validation\": {\"checks\": 0, \"failed\": 0, \"rules\": []}}}",
     {"  snapshot 4 at T1: 200 rows, 25 positive (12.50%), fingerprint 0123456789abcdef\n",
      "  validation: 3 checks, 1 not passed; checks with violations:\n", "age_known",
      "Last clean run FAILED (run 5 at T2): validation failed: rule 'x'\n"},
     {"ok_rule"}},
    {"the registry section",
     "{\"batches\": [], \"rows\": {}, \"snapshot\": null, \"last_failure\": null, \"registry\": "
     "{\"model_name\": \"readmission\", \"versions\": 2, \"champion\": 2, \"challenger\": null, "
     "\"latest_training\": {\"training_id\": 7, \"runs\": 2, \"finished\": 1, \"failed\": 1, "
     "\"selected_run_id\": 12}, \"runs\": [{\"run_id\": 12, \"model_type\": \"gbt\", \"name\": "
     "\"gbt lr=0.1\", \"status\": \"finished\", \"valid\": 0.6704, \"test\": 0.6846, "
     "\"selected\": true, \"version\": 2}, {\"run_id\": 13, \"model_type\": \"logreg\", "
     "\"name\": \"logreg\", \"status\": \"failed\", \"valid\": null, \"test\": null}]}}",
     {"Model readmission: 2 versions, champion v2, challenger none\n",
      "Latest training 7: 2 runs, 1 finished, 1 failed, selected run 12\n", "0.6704",
      "selected v2"},
     {"selected run 0"}},
};

static void test_status_text_table(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const status_case *c = &CASES[i];
        json_error_t je;
        json_t *doc = json_loads(c->doc, 0, &je);
        if (!doc)
            fprintf(stderr, "\nstatus case '%s': bad JSON: %s\n", c->what, je.text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        rdm_buf out = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_status_text(doc, &out), RDM_OK);
        const char *text = out.data ? out.data : "";
        for (int k = 0; k < 6 && c->has[k]; k++) {
            if (!strstr(text, c->has[k]))
                fprintf(stderr, "\nstatus case '%s': missing '%s' in:\n%s\n", c->what, c->has[k],
                        text);
            CU_ASSERT_PTR_NOT_NULL(strstr(text, c->has[k]));
        }
        for (int k = 0; k < 3 && c->lacks[k]; k++)
            CU_ASSERT_PTR_NULL(strstr(text, c->lacks[k]));
        rdm_buf_release(&out);
        json_decref(doc);
    }
}

/* rdm_status_table: numbers right-aligned, strings left, null "-", booleans
 * yes/no, column widths from the widest cell, no trailing blanks. */
static void test_status_table_layout(void)
{
    json_t *rows = json_loads("[{\"n\": 5, \"s\": \"ab\", \"b\": true, \"x\": null}, "
                              "{\"n\": 1234, \"s\": \"a\", \"b\": false, \"x\": 0.5}]",
                              0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    static const char *const KEYS[] = {"n", "s", "b", "x", NULL};
    static const char *const HEAD[] = {"num", "str", "bool", "x", NULL};
    rdm_buf out = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_status_table(&out, rows, KEYS, HEAD), RDM_OK);
    const char *want = "   num str bool   x\n"
                       "  ---- --- ---- ---\n"
                       "     5 ab  yes    -\n"
                       "  1234 a   no   0.5\n";
    if (!out.data || strcmp(out.data, want))
        fprintf(stderr, "\ntable:\n%s\nwanted:\n%s\n", out.data ? out.data : "", want);
    CU_ASSERT_STRING_EQUAL(out.data ? out.data : "", want);
    rdm_buf_release(&out);
    json_decref(rows);
}

int test_status_register(void)
{
    CU_pSuite s = CU_add_suite("status", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_status_text_table) && CU_ADD_TEST(s, test_status_table_layout))
               ? 0
               : -1;
}
