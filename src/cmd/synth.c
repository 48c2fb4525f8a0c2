/* synth.c - readmit synth: write a synthetic CSV with the dataset's schema. */
#include "synth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char HELP[] =
    "usage: readmit synth --rows N [--seed S] [--dirty] [--out FILE] [--mapping FILE]\n"
    "\n"
    "Write a synthetic CSV with exactly the 50-column schema of the diabetes\n"
    "data, realistic value domains and a target that depends on the features.\n"
    "The same seed gives the same bytes. --dirty appends a known set of bad "
    "rows\n"
    "(see src/synth.h): wrong field counts, broken quoting, invalid UTF-8, an\n"
    "over-long field, unknown categories, out-of-range numbers, a duplicate\n"
    "encounter id and HTML/script values.\n"
    "\n"
    "  --rows N      clean rows (required)\n"
    "  --seed S      generator seed (default 1)\n"
    "  --dirty       append the bad rows\n"
    "  --out FILE    write FILE (atomically) instead of standard output\n"
    "  --mapping FILE  also write a synthetic code-label mapping (the layout of\n"
    "                the UCI IDs_mapping.csv) for the codes of the data\n"
    "  -h, --help    this help\n"
    "(-c, -o and -q are accepted for symmetry with the other commands.)\n";

static int file_write(void *ud, const char *p, size_t n, rdm_err *err)
{
    if (fwrite(p, 1, n, ud) != n)
        return rdm_errf(err, RDM_EIO, "write: %s", strerror(errno));
    return RDM_OK;
}

static int parse_num(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    *out = strtoull(s, &end, 10);
    return errno || *end ? -1 : 0;
}

int cmd_synth(int argc, char **argv)
{
    unsigned long long rows = 0, seed = 1;
    int dirty = 0;
    const char *out = NULL, *mapping = NULL;
    const char *rows_text = NULL, *seed_text = NULL;
    cmd_ctx ctx = {0}; /* common options are accepted (and unused: synth needs no config) */
    const cmd_opt opts[] = {{"--dirty", NULL, &dirty},     {"--rows", &rows_text, NULL},
                            {"--seed", &seed_text, NULL},  {"--out", &out, NULL},
                            {"--mapping", &mapping, NULL}, {0}};
    int prc = cmd_parse(&ctx, "synth", HELP, argc, argv, opts);
    if (prc != CMD_RUN)
        return prc;
    cmd_ctx_release(&ctx);
    if (!rows_text)
        return cmd_usage_error("synth", "--rows is required");
    if (parse_num(rows_text, &rows) || rows > 100000000ULL)
        return cmd_usage_error("synth", "--rows wants a count in [0, 1e8], not '%s'", rows_text);
    if (seed_text && parse_num(seed_text, &seed))
        return cmd_usage_error("synth", "--seed wants a non-negative integer, not '%s'", seed_text);
    if (dirty && rows < 1)
        return cmd_usage_error("synth", "--dirty needs --rows >= 1");
    rdm_err err = {0};
    if (mapping) {
        rdm_buf m = RDM_BUF_INIT;
        int rc = rdm_synth_mapping(&m, &err);
        if (rc == RDM_OK)
            rc = rdm_write_file_atomic(mapping, m.data, m.len, &err);
        rdm_buf_release(&m);
        if (rc != RDM_OK)
            return cmd_fail("synth", &err);
    }
    if (!out) {
        int rc = rdm_synth((long)rows, seed, dirty, file_write, stdout, &err);
        if (rc == RDM_OK && fflush(stdout) != 0)
            rc = rdm_errf(&err, RDM_EIO, "stdout: %s", strerror(errno));
        return rc == RDM_OK ? EXIT_OK : cmd_fail("synth", &err);
    }
    /* write next to the target, then rename: a reader never sees half a file */
    rdm_buf tmp = RDM_BUF_INIT;
    if (rdm_buf_printf(&tmp, "%s.tmp", out)) {
        rdm_buf_release(&tmp);
        return cmd_fail("synth", NULL);
    }
    FILE *f = fopen(tmp.data, "wb");
    int rc = f ? RDM_OK : rdm_errf(&err, RDM_EIO, "%s: %s", tmp.data, strerror(errno));
    if (rc == RDM_OK)
        rc = rdm_synth((long)rows, seed, dirty, file_write, f, &err);
    if (f && fclose(f) != 0 && rc == RDM_OK)
        rc = rdm_errf(&err, RDM_EIO, "%s: %s", tmp.data, strerror(errno));
    if (rc == RDM_OK && rename(tmp.data, out) != 0)
        rc = rdm_errf(&err, RDM_EIO, "%s: %s", out, strerror(errno));
    if (rc != RDM_OK && f)
        remove(tmp.data);
    rdm_buf_release(&tmp);
    return rc == RDM_OK ? EXIT_OK : cmd_fail("synth", &err);
}
