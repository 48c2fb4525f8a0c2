/* predqueue.h - the prediction log's ordered queue of formatted batches:
 * binary COPY rows of monitor.prediction_batches (predbatch.h), oldest
 * first, held in memory and, past a bound or while the database is away, in
 * a file of the very same rows (the "queue file"), so that what waits on
 * disk is sent as it would have been sent live (one COPY of the bytes read).
 *
 * Order: chunks are taken memory first, then the file; once the file holds
 * rows not sent yet, new chunks go to the file too, so the queue stays in the
 * order chunks were pushed. A chunk taken from memory and put back goes to
 * the front.
 *
 * The queue file: a 16-byte header (RDM_PREDQ_MAGIC, then the offset up to
 * which rows are stored, host byte order, rewritten after each send), then
 * rows. A writer that dies leaves it for another to claim: that one reads the
 * rows after the stored offset (rdm_predq_file_rows) and stores each row no
 * batch of the same writer and seq range holds yet. Space of sent rows is
 * given back (hole punched) and the file removed once everything is sent.
 *
 * Not thread-safe: the caller locks. */
#ifndef RDM_PREDQ_H
#define RDM_PREDQ_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

#define RDM_PREDQ_MAGIC  "RDMQ0001"
#define RDM_PREDQ_HEADER 16

typedef struct rdm_predq_chunk {
    rdm_buf data;
    uint64_t rows; /* predictions */
    int64_t oldest_us;
} rdm_predq_chunk;

typedef struct rdm_predq_seg {
    uint64_t off, len, rows;
    int64_t oldest_us;
} rdm_predq_seg;

typedef struct rdm_predq {
    char path[1024];
    uint64_t max_file; /* bytes of unsent rows the file may hold */
    size_t max_mem;    /* bytes of chunks memory may hold */
    rdm_predq_chunk *mem;
    size_t nmem, capmem;
    size_t mem_bytes;
    uint64_t mem_rows;
    int fd;          /* -1: no file */
    uint64_t rd, wr; /* file offsets: rows before rd are stored, the file ends at wr */
    rdm_predq_seg *seg;
    size_t nseg, capseg, seg0; /* segments seg[seg0..nseg) not sent yet */
    uint64_t file_rows;
    rdm_buf spare; /* the buffer of a chunk sent last, for the next push_buf */
} rdm_predq;

/* What rdm_predq_take() handed out. */
typedef struct rdm_predq_span {
    int from_file;
    uint64_t off, len, rows; /* file: where; both: size and predictions */
    int64_t oldest_us;
} rdm_predq_span;

void rdm_predq_init(rdm_predq *q, const char *path, uint64_t max_file, size_t max_mem);
/* Close the file (it stays on disk when it holds unsent rows) and free memory. */
void rdm_predq_release(rdm_predq *q);

/* Queue the rows in the whole buffer `*rows` (`n` predictions, the oldest
 * served at `oldest_us`). In memory when `mem_ok`, the file holds nothing
 * unsent and there is room: the chunk is the buffer itself (no copy) and
 * *rows gets an empty one back (the storage of a chunk taken before, so that
 * memory is reused). Else the rows are appended to the file (*to_file = 1)
 * and *rows stays as it was. RDM_ESTATE when the file would pass max_file
 * (nothing queued: the caller counts the rows dropped), RDM_EIO when it
 * cannot be written. */
int rdm_predq_push_buf(rdm_predq *q, rdm_buf *rows, uint64_t n, int64_t oldest_us, int mem_ok,
                       int *to_file, rdm_err *err) __attribute__((warn_unused_result));

/* The oldest chunk in memory (its buffer swapped into `out`; the storage
 * `out` had is kept for rdm_predq_push_buf), else at most
 * `max_bytes` of the oldest rows of the file (at least one segment) read
 * into `out`. Returns 1, or 0 when the queue is empty, or a negative code
 * when the file cannot be read. */
int rdm_predq_take(rdm_predq *q, size_t max_bytes, rdm_buf *out, rdm_predq_span *sp, rdm_err *err);

/* The span was stored: for the file, the stored offset moves past it (header
 * rewritten, space given back; the file removed once all is sent). */
void rdm_predq_done(rdm_predq *q, const rdm_predq_span *sp);

/* The span was not stored: a memory chunk goes back to the front (the
 * buffer `out` is taken over); the file's rows simply stay. */
int rdm_predq_putback(rdm_predq *q, rdm_buf *out, const rdm_predq_span *sp)
    __attribute__((warn_unused_result));

/* Move the chunks in memory to the end of the file (the database is away:
 * a killed process then loses nothing that was queued). Only when the file
 * holds nothing unsent, unless `force` (order then changes: the caller is
 * stopping). *rows gets the predictions moved, *dropped those past
 * max_file. */
int rdm_predq_spill_mem(rdm_predq *q, int force, uint64_t *rows, uint64_t *dropped, rdm_err *err);

int rdm_predq_empty(const rdm_predq *q);
/* Served time of the oldest queued prediction, 0 when empty. */
int64_t rdm_predq_oldest(const rdm_predq *q);

/* Of a queue file read whole (`data`, `len`): where its unsent rows start
 * (after the header and the stored offset), or 0 when it is no queue file. */
size_t rdm_predq_file_rows(const char *data, size_t len);

#endif
