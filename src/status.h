/* status.h - the state of the pipeline as one JSON document (jansson), and
 * its plain-text rendering, for `readmit status [--json]`.
 *
 * The document is an object with one member per section, built in order by
 * the section table in status.c (each entry: a name, a function that adds
 * the section to the document from the database, and a function that renders
 * it as text). To report more (training runs, model versions), add an entry
 * to that table. Sections so far:
 *   "batches":  [{batch_id, batch_no, source, source_sha256, finished_at,
 *                 rows_read, rows_accepted, rows_rejected,          (raw ledger)
 *                 cleaned, snapshot_id, rows_in, rows_clean, rows_filtered,
 *                 rows_duplicate, rows_clean_rejected}]             (clean.batches; null if not cleaned)
 *   "rows":     {raw_batches, raw_read, raw_accepted, raw_rejected,
 *                clean_batches, pending_batches, clean, clean_rejected,
 *                filtered, duplicates}
 *   "snapshot": the latest ok clean snapshot or null: {snapshot_id, created_at,
 *                fingerprint, rows, positives, positive_rate, batch_ids, status,
 *                validation: {checks, failed, rules: [{batch_id, rule, severity,
 *                violations, checked, passed}]}}
 *   "last_failure": the latest failed clean run newer than that snapshot, or
 *                null (same layout, plus "message"). */
#ifndef RDM_STATUS_H
#define RDM_STATUS_H

#include <jansson.h>

#include "db.h"
#include "readmit.h"

/* Build the status document. Returns a new reference owned by the caller
 * (json_decref), or NULL with err. */
json_t *rdm_status_build(rdm_db *db, const rdm_config *cfg, rdm_err *err);

/* Append the plain-text rendering of a status document to `out`. */
int rdm_status_text(const json_t *status, rdm_buf *out) __attribute__((warn_unused_result));

/* Append a plain-text table: one row per object of the array `rows`, one
 * column per key (NULL-terminated `keys`), headed by `headers`. Integers and
 * reals are right-aligned, null prints "-", booleans "yes"/"no". */
int rdm_status_table(rdm_buf *out, const json_t *rows, const char *const *keys,
                     const char *const *headers) __attribute__((warn_unused_result));

#endif
