/* predentry.h - the prediction log's entries: one answered request as the
 * log's buffer and spill files hold it, and the COPY rows entries become
 * (the binary rows of monitor.prediction_batches, predbatch.h, or the text
 * rows of the replay staging table).
 *
 * An entry is a header, then the model name, version, alias, request body
 * and response body, each followed by a NUL, then, with the flag
 * RDM_PREDENTRY_LAYOUT, the body's layout as the API's parser gave it
 * (rdm_api_parse_predict_layout, layout_len bytes): the writer then reads
 * the body's records and fields from it instead of scanning the body again.
 * Spill files store entries as they are (same machine, same layout); the
 * entries of earlier versions have no flag (and no layout). */
#ifndef RDM_PREDENTRY_H
#define RDM_PREDENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "predbatch.h"
#include "readmit.h"

#define RDM_PREDENTRY_MAGIC 0x314c5052u /* "RPL1" */
#define RDM_PREDENTRY_ASIDE 0x584c5052u /* "RPLX": an entry of a spill file set aside (poison) */

typedef struct rdm_predentry_hdr {
    uint32_t magic;
    uint32_t len; /* whole entry, header included (rdm_predentry_size) */
    int64_t served_us;
    uint64_t seq;
    int32_t pid;
    uint32_t latency_us;
    uint64_t boot_us;
    uint32_t rows; /* predictions in the response */
    uint16_t name_len, version_len, alias_len, flags;
    uint32_t body_len, resp_len;
    uint32_t layout_len; /* with RDM_PREDENTRY_LAYOUT (earlier entries: padding, not read) */
} rdm_predentry_hdr;

#define RDM_PREDENTRY_LAYOUT 1u /* flags: the body's layout follows the response */

/* An entry as read in place (rdm_predentry_parse): the strings point into
 * the bytes parsed. */
typedef struct rdm_predentry {
    rdm_predentry_hdr h;
    const char *name, *version, *alias, *body, *resp;
    const char *layout; /* NULL: none */
    size_t layout_len;
    int aside; /* set aside before: skipped */
} rdm_predentry;

/* Bytes of the entry `h` describes (its lengths; h->len is not read). */
size_t rdm_predentry_size(const rdm_predentry_hdr *h);

/* Write the entry at q (rdm_predentry_size(h) bytes): the header as given,
 * then each string of the length h gives and a NUL, then (with the flag)
 * the layout's h->layout_len bytes. */
void rdm_predentry_write(char *q, const rdm_predentry_hdr *h, const char *name, const char *version,
                         const char *alias, const char *body, const char *resp, const char *layout);

/* 1 with v filled when p[0..avail) starts with a whole entry (or one set
 * aside), else 0. */
int rdm_predentry_parse(const char *p, size_t avail, rdm_predentry *v);

/* Called for an entry that can be read but not stored (a value past the
 * database's range): 1 when it was set aside (it counts as neither stored
 * nor bad), 0 to count it bad. */
typedef int (*rdm_predentry_aside_fn)(void *ctx, const char *bytes, size_t len, uint64_t rows,
                                      const char *why);

/* COPY data of every entry in data[0..n) appended to out: text rows of the
 * replay staging table, or with `batch` (NULL: text) the binary rows of
 * monitor.prediction_batches, added to the open batch and flushed at the end
 * (rows only, as the queue holds them: no header or trailer). *rows gets the
 * predictions formatted; entries that cannot be read or stored are skipped,
 * their predictions counted in *bad unless `aside` (may be NULL) set them
 * aside. RDM_EPARSE when data does not hold whole entries, RDM_ENOMEM; after
 * a failure the open batch is released (it borrows from data). */
int rdm_predentry_format(const char *data, size_t n, rdm_predbatch *batch, rdm_buf *out,
                         uint64_t *rows, uint64_t *bad, rdm_predentry_aside_fn aside, void *ctx);

#endif
