/* ingest.h - load the source CSV into raw.* in batches.
 *
 * A batch of a source (identified by the sha256 of its CSV bytes) is the
 * range of data records it covers (raw.batches.first_record, rows_read), at
 * most N = data.batch_rows; rejected records count in the batch they fall in.
 * Records already covered by a batch of that sha256 are skipped, so
 * re-running over the same file is a no-op, a run with another batch size
 * loads exactly the records not yet loaded, and a changed file (new sha256)
 * appends new batches. Each batch is one transaction: its ledger
 * row in raw.batches, its accepted rows in raw.records (COPY) and its
 * rejects in raw.rejects (COPY); a failure or a kill mid-batch leaves nothing
 * of that batch. Batches go to the server over two connections (the caller's
 * and one more opened from cfg; one when that fails), so that the server
 * stores batch k while batch k + 1 is read, and they commit in batch order:
 * the batches a run leaves are always a prefix of its batches. Memory is bounded by one batch's rejects (each reject keeps
 * at most 64 KiB of raw text; past 16 MiB of rejects in one batch, the raw
 * text of further rejects is cut to 256 bytes) and 32 MiB of queued rows per
 * connection, never by the file size. */
#ifndef RDM_INGEST_H
#define RDM_INGEST_H

#include "config.h"
#include "db.h"
#include "readmit.h"

/* How many new batches one run takes. */
#define RDM_INGEST_ALL  (-1L)
#define RDM_INGEST_NEXT 1L

typedef struct rdm_ingest_stats {
    unsigned long long rows_read;     /* data records in the batches loaded by this run */
    unsigned long long rows_accepted; /* into raw.encounters */
    unsigned long long rows_rejected; /* into raw.rejects */
    unsigned long long rows_skipped;  /* records of batches already loaded earlier */
    int batches_loaded;
    int batches_skipped;
    int batches_left; /* new batches left in the source after this run */
    double seconds;
    char sha256[65];
    unsigned long long bytes; /* CSV bytes read so far */
    long code_labels;         /* code labels read from the zip's IDs_mapping.csv (-1: none) */
    long code_labels_bad;     /* its lines kept in raw.code_label_rejects */
} rdm_ingest_stats;

/* Called about once a second with the running totals. */
typedef void (*rdm_ingest_progress_fn)(const rdm_ingest_stats *st, void *ud);

/* Ingest cfg->data.source into `db` (migrated). max_batches: RDM_INGEST_ALL,
 * or the number of new batches to take (RDM_INGEST_NEXT = 1). `progress` may
 * be NULL. `st` (caller-owned) gets the totals, also on failure (the batches
 * committed before it). Errors: RDM_EIO / RDM_EPARSE for the source,
 * RDM_ESCHEMA for a header that does not match the schema (the message lists
 * the missing and unexpected columns), RDM_EDB. */
int rdm_ingest(const rdm_config *cfg, rdm_db *db, long max_batches, rdm_ingest_progress_fn progress,
               void *ud, rdm_ingest_stats *st, rdm_err *err) __attribute__((warn_unused_result));

/* Records [first, first + count) of a source, loaded as one batch. */
typedef struct rdm_ingest_range {
    unsigned long long first, count;
} rdm_ingest_range;

/* What to do at record `pos` (0-based data record index) of a source whose
 * loaded batches are done[0..ndone): skip `count` records covered by a
 * batch, or load the next `count` records as a new batch (at most batch_rows,
 * cut where the next loaded batch starts). Pure; used by rdm_ingest. */
typedef struct rdm_ingest_step {
    int skip;
    unsigned long long count;
} rdm_ingest_step;

void rdm_ingest_plan(const rdm_ingest_range *done, int ndone, unsigned long long pos,
                     long batch_rows, rdm_ingest_step *step);

/* Check a header against the schema: same names in the same order. On a
 * mismatch returns RDM_ESCHEMA with "header does not match the schema:
 * missing columns: a, b; unexpected columns: x" (or the first column out of
 * order). `label` prefixes the message. */
int rdm_ingest_check_header(const char *const *names, int n, const char *label, rdm_err *err)
    __attribute__((warn_unused_result));

#endif
