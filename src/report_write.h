/* report_write.h - the site writer: a list of page jobs in, pages under a
 * directory out. Pages are built on the thread pool (each job only reads what
 * its ctx and item point to), written only when their bytes changed, and
 * recorded in a manifest (.report-manifest) with the hash of their inputs: a
 * job whose input hash and file are unchanged since the last run is not built.
 * The writer knows nothing about what the pages contain. */
#ifndef RDM_REPORT_WRITE_H
#define RDM_REPORT_WRITE_H

#include "readmit.h"
#include "report.h"

/* One page to build and write. The caller fills name, build, input, ctx and
 * item; the writer fills the rest. */
typedef struct rdm_report_job {
    char name[64]; /* file name under the site directory ("runs/7.html") */
    /* Append the page's bytes to out; RDM_OK or an error code with err. */
    int (*build)(const void *ctx, const void *item, rdm_buf *out, rdm_err *err);
    /* NULL: the page is always built. Else hash (64 hex into out) of
     * everything the page shows, given the generator id gen; b is scratch.
     * Non-zero: unknown (the page is built). */
    int (*input)(const void *ctx, const void *item, const char *gen, rdm_buf *b, char out[65]);
    const void *ctx, *item;
    char input_hash[65]; /* "" unknown */
    char digest[65];     /* sha256 of the page's bytes */
    int written;         /* 1: the file was (re)written */
    int rc;
    rdm_err err;
} rdm_report_job;

/* Build and write every job's page under dir (whose subdirectories must
 * exist). On failure the first failing job's error (in job order) is
 * returned; pages already written stay. st (may be NULL) gets the counts and
 * the fingerprint: sha256 over every page's name and the sha256 of its bytes,
 * in job order. After a successful run, every *.html file directly under
 * dir/<p> for each p of `prune` (NULL-terminated, may be NULL) that is not
 * a job's page is removed (st->removed counts them). */
int rdm_report_write_pages(const char *dir, rdm_report_job *jobs, size_t n,
                           const char *const *prune, rdm_report_stats *st, rdm_err *err);

#endif
