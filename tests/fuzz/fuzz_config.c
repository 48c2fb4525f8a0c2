/* fuzz_config.c - libFuzzer target for the YAML config loader (src/config.c).
 *
 * The input is written to a file and loaded over the defaults. A failure must
 * have a message that names the file (and no "(null)" the input does not hold). A config that loads
 * is validated, then written back as YAML (rdm_config_yaml), which must load again over fresh
 * defaults and write the same text, and every section's canonical text but
 * db's (a password is masked) must be the same for both. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[64], path2[64];

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_config: %s: %s\n", what, msg ? msg : "");
    abort();
}

static int write_file(const char *p, const void *data, size_t size)
{
    FILE *fp = fopen(p, "wb");
    if (!fp)
        return -1;
    int bad = size && fwrite(data, 1, size, fp) != size;
    return fclose(fp) || bad ? -1 : 0;
}

static void load_defaults(rdm_config *c)
{
    rdm_err err = {0};
    if (rdm_config_defaults(c, &err) != RDM_OK)
        fail("defaults do not load", err.msg);
}

/* not "db": the written YAML masks a password in db.dsn */
static const char *const SECTIONS[] = {"data",  "clean",    "split", "features",
                                       "train", "registry", "serve", "report"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        unsetenv("READMIT_DATA");
        snprintf(path, sizeof path, "/tmp/readmit-fuzz-config-%ld.yaml", (long)getpid());
        snprintf(path2, sizeof path2, "/tmp/readmit-fuzz-config-%ld-2.yaml", (long)getpid());
    }
    if (write_file(path, data, size))
        return 0;
    rdm_config c;
    load_defaults(&c);
    rdm_err err = {0};
    if (rdm_config_load(&c, path, &err) != RDM_OK) {
        if (!err.msg[0] || strncmp(err.msg, path, strlen(path)) != 0 ||
            (strstr(err.msg, "(null)") && !memmem(data, size, "(null)", 6)))
            fail("error message does not name the file", err.msg);
        rdm_config_release(&c);
        return 0;
    }
    rdm_err verr = {0};
    if (rdm_config_validate(&c, &verr) != RDM_OK && !verr.msg[0])
        fail("validation error without a message", "");

    rdm_buf y1 = RDM_BUF_INIT, y2 = RDM_BUF_INIT;
    if (rdm_config_yaml(&c, &y1) != RDM_OK)
        fail("rdm_config_yaml failed", "");
    if (write_file(path2, y1.data, y1.len))
        fail("cannot write", path2);
    rdm_config c2;
    load_defaults(&c2);
    if (rdm_config_load(&c2, path2, &err) != RDM_OK)
        fail("the written YAML does not load again", err.msg);
    if (rdm_config_yaml(&c2, &y2) != RDM_OK)
        fail("rdm_config_yaml failed", "");
    if (y1.len != y2.len || memcmp(y1.data, y2.data, y1.len) != 0)
        fail("the written YAML reads back different", y2.data);
    for (size_t i = 0; i < sizeof SECTIONS / sizeof SECTIONS[0]; i++) {
        rdm_buf_reset(&y1);
        rdm_buf_reset(&y2);
        if (rdm_config_section_text(&c, SECTIONS[i], &y1) != RDM_OK ||
            rdm_config_section_text(&c2, SECTIONS[i], &y2) != RDM_OK)
            fail("rdm_config_section_text failed", SECTIONS[i]);
        if (y1.len != y2.len || (y1.len && memcmp(y1.data, y2.data, y1.len) != 0))
            fail("section text differs after a round trip", SECTIONS[i]);
    }
    rdm_buf_release(&y1);
    rdm_buf_release(&y2);
    rdm_config_release(&c);
    rdm_config_release(&c2);
    return 0;
}
