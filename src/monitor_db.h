/* monitor_db.h - every database access of the monitor stage and of
 * `readmit outcomes` (the prediction log writer has its own, predlog.c).
 * Reads go through COPY ... TO STDOUT; their parameters are session settings
 * (readmit.*) set with one parameterised statement. */
#ifndef RDM_MONITOR_DB_H
#define RDM_MONITOR_DB_H

#include <jansson.h>

#include "db.h"
#include "drift.h"
#include "monitor.h"
#include "monitor_groups.h"
#include "outcomes.h"
#include "readmit.h"

/* Session settings for the monitor's statements: no JIT compilation (on
 * these queries it costs more than it saves). */
int rdm_mondb_prepare(rdm_db *db, rdm_err *err);

/* The champion of `model_name` as the drift reference: the profile of its
 * training snapshot, its input schema and the score distribution on
 * validation. *version and *snapshot get its version and snapshot id.
 * RDM_ENOTFOUND when there is no champion or its snapshot has no profile. */
int rdm_mondb_reference(rdm_db *db, const char *model_name, rdm_drift_ref *ref, int *version,
                        int *snapshot, rdm_err *err);

/* Every logged prediction of `model_name` with its outcome when one is known,
 * read in one snapshot: `row` is called for each (in serving order when
 * `ordered`, else in any order); each that has an outcome is also added to
 * `groups` (unless NULL) with its threshold, race, gender and age as sent;
 * then `input` is called for a deterministic uniform sample of about
 * `input_rows` of them with the raw input by schema column (valid during the
 * call) and the number of the row it belongs to (0 for the first passed to
 * `row`). */
typedef struct rdm_mondb_fns {
    int (*row)(const rdm_mon_row *row, void *ud, rdm_err *err);
    int (*input)(size_t row, const char *const *values, void *ud, rdm_err *err);
} rdm_mondb_fns;

int rdm_mondb_predictions(rdm_db *db, const char *model_name, long input_rows, int ordered,
                          rdm_mongroups *groups, const rdm_mondb_fns *fns, void *ud, rdm_err *err);

/* Outcomes of served encounters carried by raw batches ingested after they
 * were served. *inserted gets the new outcomes. */
int rdm_mondb_outcomes_from_raw(rdm_db *db, long *inserted, rdm_err *err);

/* Result of storing one outcomes file. */
typedef struct rdm_mondb_load {
    int already; /* the same file (sha256) was loaded before: nothing changed */
    long read, inserted, duplicates, rejected, unmatched;
    char at[40]; /* when it was loaded (already) */
} rdm_mondb_load;

/* Store a parsed outcomes file in one transaction (outcomes, rejects, the
 * load's ledger row); a file loaded before changes nothing. */
int rdm_mondb_store_outcomes(rdm_db *db, const char *path, const char *sha256,
                             const rdm_outcomes_parsed *p, rdm_mondb_load *out, rdm_err *err);

/* Drift of every raw batch not yet measured against `ref` (snapshot id
 * `snapshot`), stored in monitor.batch_drift; then every stored batch's drift
 * as a JSON array [{"batch_id", "snapshot_id", "rows", "max_psi", "drift"}]
 * (a new reference in *out). *measured gets the batches measured now. */
int rdm_mondb_batch_drift(rdm_db *db, const rdm_drift_ref *ref, int snapshot, double warn,
                          double alert, json_t **out, long *measured, rdm_err *err);

/* Keys, times and reasons of the triggers fired so far, as a JSON array. */
int rdm_mondb_triggers(rdm_db *db, json_t **out, rdm_err *err);
/* Record a fired trigger (a key already there changes nothing). */
int rdm_mondb_add_trigger(rdm_db *db, const char *key, const char *reason, rdm_err *err);

/* Store the monitor document of one run. */
int rdm_mondb_store_report(rdm_db *db, const char *model_name, long long last_prediction,
                           const json_t *doc, rdm_err *err);

#endif
