/* predlog.h - the prediction log writer: serving threads hand each answered
 * request to a bounded in-memory buffer and return at once; a writer thread
 * turns them into rows of monitor.prediction_batches (one per batch, see
 * predbatch.h, monitor.batch_records or every monitor.flush_ms) and queues
 * them (predqueue.h); a sender thread sends the queue, oldest first, with one
 * binary COPY per send. The writer never waits for the database.
 *
 * What the database cannot take at once (saturated serving), or while it is
 * away, waits in the queue file (monitor.spill_dir/predlog-<pid>.queue, at
 * most monitor.spill_max_bytes of rows not sent yet; past that records are
 * dropped, counted and logged) in the very format the live COPY sends, and
 * is sent from there by the same COPY, in order, while new batches queue
 * behind it: nothing waits for a replay. Rows sent from the file are
 * checked against the batches the same writer stored (writer and seq range,
 * under a lock of that writer), so a row sent twice (a crash between COMMIT
 * and the file's stored offset, a copy of the file) is stored once. Only if
 * the writer thread itself falls behind do serving threads append entries as
 * they are to a spill file (predlog-<pid>.spill); those, and spill files of
 * an earlier version, are replayed through a staging table that leaves out
 * each (request_id, item) a batch of the same writer already holds
 * (monitor.pack_pending). Records the database refuses for their data (not
 * an outage: SQLSTATE classes 22, 23 and 54) would be refused for ever: each
 * is set aside, once, in monitor.spill_dir/poison/ (a file of its own and a
 * ".reason" file), counted and logged, and the rest goes on; a value the
 * writer knows the database cannot take (an integer past bigint) sets its
 * request aside the same way before it is queued. Queue and spill files of
 * processes that no longer exist are claimed and replayed too, so records of
 * a killed worker that reached its files are not lost. What a SIGKILL loses
 * is what sat in the buffer and in memory in the queue: at most
 * monitor.flush_ms of traffic and monitor.queue_memory_bytes of formatted
 * batches (counted by the caller as answered but never logged).
 * rdm_predlog_stop() sends everything in memory (or queues it in the file
 * when the database is away) and the queue file for up to 5 s more before
 * it leaves the rest to a later writer. */
#ifndef RDM_PREDLOG_H
#define RDM_PREDLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "readmit.h"

/* Counters in predictions (rows), safe to place in shared memory. */
typedef struct rdm_predlog_counters {
    _Atomic uint64_t queued;    /* handed to the log (after sampling) */
    _Atomic uint64_t logged;    /* stored by a live COPY */
    _Atomic uint64_t spilled;   /* written to a spill file */
    _Atomic uint64_t replayed;  /* stored from a spill file */
    _Atomic uint64_t dropped;   /* lost: spill file full, or a record that cannot be read */
    _Atomic uint64_t set_aside; /* refused by the database for their data: in spill_dir/poison */
    _Atomic uint64_t sampled;   /* not logged because of monitor.log_fraction */
    _Atomic int64_t oldest_us;  /* served time of the oldest record not yet stored (0 = none) */
    _Atomic int64_t last_ok_us; /* last successful send */
} rdm_predlog_counters;

typedef struct rdm_predlog rdm_predlog;

/* Start the writer thread for `cfg` (borrowed: it must outlive the log; the
 * database is reached with rdm_db_connect(cfg) and the monitor section gives
 * the sizes). `counters` (may be NULL: the log keeps its own) receives the
 * figures. The database need not be up. Returns the log or NULL with err. */
rdm_predlog *rdm_predlog_start(const rdm_config *cfg, rdm_predlog_counters *counters, rdm_err *err);

/* One answered POST /api/v1/predict: the request body and the response body
 * exactly as sent (status 200 only), the model that answered and the time the
 * worker spent. Everything is copied. */
typedef struct rdm_predlog_served {
    const char *model_name;
    const char *model_version; /* "" when serving a file */
    const char *alias;
    const char *body;
    size_t body_len;
    const char *response;
    size_t response_len;
    uint32_t latency_us;
    /* the body's layout as the API's parser gave it
     * (rdm_api_parse_predict_layout; NULL or 0 bytes: none) */
    const char *layout;
    size_t layout_len;
} rdm_predlog_served;

/* Queue one answered request (never blocks on the database; with the buffer
 * full the record goes to the spill file). Thread-safe. */
void rdm_predlog_put(rdm_predlog *l, const rdm_predlog_served *s);

/* Send what is queued now and wait until it is stored or spilled. */
void rdm_predlog_flush(rdm_predlog *l);

/* Flush, stop the writer and free the log (NULL is a no-op). */
void rdm_predlog_stop(rdm_predlog *l);

/* The counters the log writes to (borrowed). */
const rdm_predlog_counters *rdm_predlog_counters_get(const rdm_predlog *l);

/* Replay every spill file in `cfg`'s spill directory whose writer is gone
 * (for `readmit monitor` and tests). *rows gets the rows stored. */
int rdm_predlog_replay_orphans(const rdm_config *cfg, uint64_t *rows, rdm_err *err);

#endif
