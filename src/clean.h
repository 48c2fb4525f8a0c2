/* clean.h - raw.records (text) -> clean.encounters (typed, filtered,
 * validated), incremental by raw batch, one transaction per run.
 *
 * A row goes through, in order:
 *   1. types: integers parsed (a value that is not an integer, or out of the
 *      column type's range, rejects the row with rule "type:<column>");
 *      categoricals normalised (rdm_value_normalize), '?' and '' -> NULL;
 *   2. row rules of cfg->clean.rules (ALLOWED, RANGE, NOT_NULL): a hard
 *      violation rejects the row with the rule's name, a soft one is counted;
 *   3. required values: encounter_id, patient_nbr and a valid readmitted are
 *      needed to store a row ("required:<column>", hard);
 *   4. duplicates: an encounter_id already in the snapshot or seen earlier in
 *      the run is dropped (the first one is kept) and counted;
 *   5. task filter: discharge_disposition_id in cfg->clean.exclude_discharge
 *      (expired/hospice) is dropped and counted as filtered.
 * Batch rules: MISSING (missing rate of a column over the batch's rows) and
 * min_rows (valid rows per batch: clean or duplicate); run rule: max_reject_rate (rejected rows /
 * rows in). A failing hard batch/run rule fails the whole run. */
#ifndef RDM_CLEAN_H
#define RDM_CLEAN_H

#include "config.h"
#include "db.h"
#include "readmit.h"
#include "schema.h"

/* ---- pure conversion and rule functions (no database) ---- */

/* A typed row. Text values point into caller storage (NULL = missing). */
typedef struct rdm_clean_row {
    const char *val[RDM_NCOLS]; /* normalised text, NULL when missing */
    long num[RDM_NCOLS];        /* parsed value of ID/INT/CODE columns (0 when missing) */
    int target;                 /* rdm_target_from(readmitted): 1, 0 or -1 */
    const char *group[3];       /* rdm_icd9_chapter of diag_1..3 (static strings) */
} rdm_clean_row;

/* Why a row was rejected. */
typedef struct rdm_clean_issue {
    char rule[96];
    char detail[256];
} rdm_clean_issue;

/* Parse the integer value of a column of kind ID/INT/CODE. `v` is already
 * normalised. Returns 1 when missing (NULL, "" or "?"), 0 with *out set when
 * a valid integer within the storage range (bigint for ID, integer for INT
 * and CODE), -1 otherwise. */
int rdm_clean_parse_int(const char *v, rdm_col_kind kind, long *out);

/* Type one row: `raw` holds the 50 source values in schema order (NULL = SQL
 * NULL). Normalised copies are written to `scratch` (at least the sum of the
 * value lengths + RDM_NCOLS bytes; see rdm_clean_scratch_size) and `row`
 * points into it. Returns 0, or -1 with `issue` naming "type:<column>". */
int rdm_clean_type_row(const char *const raw[RDM_NCOLS], char *scratch, rdm_clean_row *row,
                       rdm_clean_issue *issue);
/* Bytes of scratch needed by rdm_clean_type_row for these values. */
size_t rdm_clean_scratch_size(const char *const raw[RDM_NCOLS]);

/* Does a typed row break a row rule (ALLOWED, RANGE, NOT_NULL)? Returns 1 and
 * fills `issue` (may be NULL) when it does, 0 when not; MISSING rules are not
 * row rules and always return 0. Missing values break only NOT_NULL. Values of
 * integer columns are compared as integers (ALLOWED "01" matches 1). */
int rdm_clean_rule_violated(const rdm_rule *r, const rdm_clean_row *row, rdm_clean_issue *issue);

/* The built-in required values (encounter_id, patient_nbr, readmitted one of
 * NO, >30, <30): returns 1 with `issue` ("required:<column>") when missing. */
int rdm_clean_required_missing(const rdm_clean_row *row, rdm_clean_issue *issue);

/* Is a row dropped by the task filter (discharge_disposition_id in
 * cfg->clean.exclude_discharge)? A missing discharge is never dropped. */
int rdm_clean_filtered(const rdm_config *cfg, const rdm_clean_row *row);

/* Does a MISSING rule fail for `missing` of `rows` values? (rate > max;
 * never for 0 rows). */
int rdm_clean_missing_exceeds(const rdm_rule *r, long missing, long rows);

/* ---- the stage ---- */

/* Numbers of one clean run. */
typedef struct rdm_clean_stats {
    int changed;   /* 1 when a new ok snapshot was written */
    int recleaned; /* 1 when the clean config changed and everything was rebuilt */
    int batches;   /* raw batches cleaned in this run */
    long rows_in, rows_clean, rows_filtered, rows_duplicate, rows_rejected;
    long soft_violations;    /* soft row-rule violations + failed soft batch rules */
    int validation_failures; /* failed hard checks (the run then failed) */
    int snapshot_id;         /* the current ok snapshot after the run (0: none) */
    long snapshot_rows;      /* rows in clean.encounters */
    long snapshot_positives;
    char fingerprint[65]; /* of the current ok snapshot ("" when none) */
    double seconds;
} rdm_clean_stats;

/* Progress callback: rows processed so far of `total` in this run. */
typedef void (*rdm_clean_progress)(long done, long total, void *ud);

/* Clean the raw batches not yet in clean.batches (or all of them when the
 * clean config section changed since the latest ok snapshot) into a new
 * snapshot, validate, profile (src/profile.h), all in one transaction.
 * `progress` may be NULL. On a validation failure the transaction is rolled
 * back (the previous snapshot stays), a 'failed' snapshot row with its
 * validation results is recorded, and RDM_EVALID is returned with a message
 * naming the rule, the batch and the numbers. `st` is always filled.
 * The raw rows are read on a second connection opened from cfg (committed
 * batches, read-only) while `db` writes the clean rows, so the server reads
 * and writes side by side; with no second connection, batch by batch on `db`.
 * The progress callback may then run on the reading thread. */
int rdm_clean(const rdm_config *cfg, rdm_db *db, rdm_clean_progress progress, void *ud,
              rdm_clean_stats *st, rdm_err *err) __attribute__((warn_unused_result));

#endif
