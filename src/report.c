/* report.c - the report site: every page of the site model built by its page
 * builder and handed to the writer. The one place that knows both the pages
 * and the writer; nothing below calls up into it. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_write.h"
#include "site.h"

static int build_index(const void *site, const void *item, rdm_buf *out, rdm_err *err)
{
    (void)item;
    return rdm_report_page_index(site, out, err);
}

static int build_compare(const void *site, const void *item, rdm_buf *out, rdm_err *err)
{
    (void)item;
    return rdm_report_page_compare(site, out, err);
}

static int build_data(const void *site, const void *item, rdm_buf *out, rdm_err *err)
{
    (void)item;
    return rdm_report_page_data(site, out, err);
}

static int build_monitor(const void *site, const void *item, rdm_buf *out, rdm_err *err)
{
    (void)item;
    return rdm_report_page_monitor(site, out, err);
}

static int build_run(const void *site, const void *item, rdm_buf *out, rdm_err *err)
{
    return rdm_report_page_run(site, ((const rdm_rpt_page_ref *)item)->run, out, err);
}

static int run_input(const void *site, const void *item, const char *gen, rdm_buf *b, char out[65])
{
    return rdm_rpt_run_input(site, ((const rdm_rpt_page_ref *)item)->run, gen, b, out);
}

static int build_training(const void *site, const void *item, rdm_buf *out, rdm_err *err)
{
    return rdm_report_page_compare_training(site, ((const rdm_rpt_page_ref *)item)->id, out, err);
}

static int training_input(const void *site, const void *item, const char *gen, rdm_buf *b,
                          char out[65])
{
    return rdm_rpt_training_input(site, ((const rdm_rpt_page_ref *)item)->id, gen, b, out);
}

/* The builder of each kind of page (rdm_rpt_kind order); input NULL: built
 * every time (pages that show the whole site are cheap next to run pages). */
static const struct {
    rdm_rpt_kind kind;
    int (*build)(const void *, const void *, rdm_buf *, rdm_err *);
    int (*input)(const void *, const void *, const char *, rdm_buf *, char[65]);
} BUILDERS[] = {
    {RDM_RPT_INDEX, build_index, NULL},
    {RDM_RPT_COMPARE, build_compare, NULL},
    {RDM_RPT_DATA, build_data, NULL},
    {RDM_RPT_MONITOR, build_monitor, NULL},
    {RDM_RPT_RUN, build_run, run_input},
    {RDM_RPT_TRAINING, build_training, training_input},
};

int rdm_report_write_site(const rdm_report_site *site, const char *dir, rdm_report_stats *st,
                          rdm_err *err)
{
    const char *const *dirs = rdm_rpt_page_dirs();
    for (int d = 0; dirs[d]; d++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, dirs[d]);
        int rc = rdm_mkdirs(sub, err);
        if (rc)
            return rc;
    }
    size_t n = 0;
    rdm_rpt_page_ref *pages = rdm_rpt_pages(site, &n);
    rdm_report_job *jobs = pages ? calloc(n + 1, sizeof *jobs) : NULL;
    if (!jobs) {
        free(pages);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        rdm_report_job *j = &jobs[i];
        snprintf(j->name, sizeof j->name, "%s", pages[i].name);
        for (size_t k = 0; k < sizeof BUILDERS / sizeof BUILDERS[0]; k++)
            if (BUILDERS[k].kind == pages[i].kind) {
                j->build = BUILDERS[k].build;
                j->input = BUILDERS[k].input;
            }
        j->ctx = site;
        j->item = &pages[i];
    }
    int rc = rdm_report_write_pages(dir, jobs, n, dirs, st, err);
    free(jobs);
    free(pages);
    return rc;
}
