/* source.h - the ingest source: a plain CSV file or the UCI zip (the CSV entry
 * is streamed out of the archive with libarchive, never unpacked to disk). */
#ifndef RDM_SOURCE_H
#define RDM_SOURCE_H

#include <stddef.h>

#include "readmit.h"

typedef struct rdm_source rdm_source;

/* Open `path`, a regular file (a FIFO or device is refused: a source is read
 * twice). A file starting with the zip magic "PK\3\4" is read as a zip: the
 * entry whose name ends in "diabetic_data.csv", else the only entry whose
 * name ends in ".csv" (case-insensitive; several are refused). Anything else
 * is read as CSV bytes. At most `max_bytes` CSV bytes (data.max_source_bytes;
 * 0: no limit) are read: past that, reading fails (checked while reading,
 * and up front for a zip entry that declares its size). Returns a source
 * owned by the caller (rdm_source_close), or NULL with err: RDM_EIO (missing
 * or unreadable file), RDM_EINVAL (not a regular file, over the limit),
 * RDM_EPARSE (broken zip, zip without a CSV entry or with several). */
rdm_source *rdm_source_open(const char *path, long long max_bytes, rdm_err *err);
void rdm_source_close(rdm_source *s);

/* Read up to n CSV bytes: count, 0 at the end, or a negative RDM_E* with err
 * (RDM_EINVAL past the limit).
 * Signature matches rdm_csv_read_fn (pass the source as `ud`). */
long rdm_source_read(void *source, char *buf, size_t n, rdm_err *err);

/* Display name: the path, or "path:entry" for a zip (borrowed). */
const char *rdm_source_name(const rdm_source *s);
/* 1 when the source is a zip archive. */
int rdm_source_is_zip(const rdm_source *s);
/* The CSV bytes a zip source's entry declares, or -1 (not a zip, not declared). */
long long rdm_source_zip_size(const rdm_source *s);

/* SHA-256 of the CSV bytes of `path` (the zip entry for a zip), in one pass
 * over a separate handle; `bytes` (may be NULL) gets the CSV size. */
int rdm_source_sha256(const char *path, long long max_bytes, char out[65],
                      unsigned long long *bytes, rdm_err *err) __attribute__((warn_unused_result));

/* When `path` is a zip archive with an entry whose name ends in `suffix`
 * (case-insensitive; the first one), append its bytes (at most max_bytes,
 * else RDM_EINVAL) to `out`, set *found and write "path:entry" into name.
 * A plain file, or a zip without such an entry, is RDM_OK with *found 0. */
int rdm_source_zip_member(const char *path, const char *suffix, size_t max_bytes, rdm_buf *out,
                          char *name, size_t name_n, int *found, rdm_err *err)
    __attribute__((warn_unused_result));

#endif
