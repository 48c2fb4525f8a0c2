/* fuzz_csv.c - libFuzzer target for the streaming CSV reader (src/csv.c).
 *
 * The first input byte picks the maximum field size and the size of each
 * read the reader is given (so records straddle reads the way they do with a
 * file or a zip entry); the rest is the CSV. Besides the sanitizers, it
 * checks what ingest relies on: record line numbers strictly increase (they
 * key raw.rejects and raw.encounters), a record's last line is not before
 * its first, field counts and lengths are consistent, a record without a
 * problem has fields of at most the maximum size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

typedef struct feed {
    const uint8_t *p;
    size_t n, pos, chunk;
} feed;

static long feed_read(void *ud, char *buf, size_t n, rdm_err *err)
{
    (void)err;
    feed *f = ud;
    size_t k = f->n - f->pos;
    if (k > n)
        k = n;
    if (k > f->chunk)
        k = f->chunk;
    memcpy(buf, f->p + f->pos, k);
    f->pos += k;
    return (long)k;
}

static void fail(const char *what, long line)
{
    fprintf(stderr, "fuzz_csv: %s (line %ld)\n", what, line);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_field = 1 + (data[0] & 0x1f);
    feed f = {data + 1, size - 1, 0, 1 + (size_t)(data[0] >> 5) * 9};
    rdm_err err = {0};
    rdm_csv *c = rdm_csv_create(feed_read, &f, max_field, "fuzz", &err);
    if (!c)
        return 0;
    if (rdm_csv_read_header(c, &err) == RDM_OK) {
        rdm_csv_record r;
        long prev = 0;
        int rc;
        while ((rc = rdm_csv_next(c, &r, &err)) == 1) {
            if (r.line <= prev)
                fail("line numbers do not increase", r.line);
            if (r.last_line < r.line)
                fail("last line before first line", r.line);
            if (r.nfields < 0 || (r.nfields > 0 && (!r.fields || !r.lens)))
                fail("bad field array", r.line);
            for (int i = 0; i < r.nfields; i++) {
                if (strlen(r.fields[i]) > r.lens[i])
                    fail("field longer than its length", r.line);
                if (!r.problem && r.lens[i] > max_field)
                    fail("over-long field without a problem", r.line);
            }
            if (r.problem && !r.reason)
                fail("problem without a reason", r.line);
            prev = r.last_line;
        }
        if (rc < 0 && !err.msg[0])
            fail("error without a message", prev);
    }
    rdm_csv_free(c);
    return 0;
}
