/* fuzz_zip.c - libFuzzer target for the ingest source (src/source.c): the
 * input is written to a file and opened as a source (zip or plain CSV), read
 * to the end under a small data.max_source_bytes, checksummed, and read
 * again through the CSV reader. Checks: an error always has a message (never
 * "(null)"), no read goes past the limit, and the checksum pass reads the
 * same number of bytes as the data pass. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "source.h"

#define LIMIT (256 * 1024) /* data.max_source_bytes for the target */

static char path[64];
static int input_has_null_text; /* the input itself holds "(null)" (an entry name may) */

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_zip: %s: %s\n", what, msg ? msg : "");
    abort();
}

static void check_msg(const rdm_err *err)
{
    if (!err->msg[0] || (strstr(err->msg, "(null)") && !input_has_null_text))
        fail("bad error message", err->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/readmit-fuzz-zip-%ld.zip", (long)getpid());
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    if (size && fwrite(data, 1, size, fp) != size) {
        fclose(fp);
        return 0;
    }
    fclose(fp);
    input_has_null_text = memmem(data, size, "(null)", 6) != NULL;

    rdm_err err = {0};
    unsigned long long total = 0, sha_bytes = 0;
    int read_rc = RDM_OK;
    rdm_source *s = rdm_source_open(path, LIMIT, &err);
    if (!s) {
        check_msg(&err);
        return 0;
    }
    char buf[4096];
    for (;;) {
        long n = rdm_source_read(s, buf, sizeof buf, &err);
        if (n < 0) {
            check_msg(&err);
            read_rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        total += (unsigned long long)n;
        if (total > LIMIT + sizeof buf)
            fail("read past the limit", rdm_source_name(s));
    }
    rdm_source_close(s);

    char sha[65];
    rdm_err e2 = {0};
    int rc = rdm_source_sha256(path, LIMIT, sha, &sha_bytes, &e2);
    if (rc != RDM_OK)
        check_msg(&e2);
    if (rc == RDM_OK && read_rc == RDM_OK && sha_bytes != total)
        fail("the checksum pass read another number of bytes", "");

    /* and through the CSV reader */
    rdm_err e3 = {0};
    if ((s = rdm_source_open(path, LIMIT, &e3)) != NULL) {
        rdm_csv *c = rdm_csv_create(rdm_source_read, s, 64, rdm_source_name(s), &e3);
        if (c && rdm_csv_read_header(c, &e3) == RDM_OK) {
            rdm_csv_record r;
            while (rdm_csv_next(c, &r, &e3) == 1) {
            }
        }
        rdm_csv_free(c);
        rdm_source_close(s);
    }
    return 0;
}
