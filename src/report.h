/* report.h - the static HTML site of experiments, the registry and the data
 * (readmit report). Pages are HTML5 built with libxml2's tree API (every value
 * escaped), with inline CSS and SVG and no external URLs. The one exception to
 * the tree is the tables of curve points (thousands of rows per run page),
 * written as text through rdm_html_escape() and spliced into the
 * serialised tree: a node per cell made building and serialising the pages
 * most of the report's run time.
 *
 * The site is built from one in-memory JSON object (see rdm_report_load):
 * {
 *   "model_name": "readmission",
 *   "runs":     [registry runs, newest first: rdm_registry_runs_json layout],
 *   "versions": [rdm_registry_versions_json layout],
 *   "history":  [rdm_registry_history_json layout],
 *   "curves":   {"<run_id>": {"valid": {"roc": [[x,y],..], "pr": .., "calibration": [..]},
 *                             "test": {.., "importance": {explanations: explain_summary.h},
 *                                      "subgroups": {groups: monitor_groups.h}},
 *                             "train": {"importance": [{"feature","gain"}]}}},
 *   "data": {
 *     "batches":    [{batch_id, source_path, source_sha256, batch_no, first_line, last_line,
 *                     rows_read, rows_accepted, rows_rejected, finished_at,
 *                     rows_in, rows_clean, rows_filtered, rows_duplicate, clean_rejected}],
 *     "snapshots":  [{snapshot_id, created_at, status, rows, positives, batch_ids,
 *                     fingerprint, message}], newest first
 *     "raw_rejects":   [{reason, count, examples: [{batch_id, line_no, hex}]}]
 *     "clean_rejects": [{rule, severity, count, examples: [{batch_id, line_no,
 *                        encounter_id, detail}]}]
 *     "validation": [{snapshot_id, batch_id, rule, severity, violations, checked, passed}],
 *     "suspicious": [{column, value, count}]  accepted values with markup/control characters
 *     "profile":    {snapshot_id, created_at, profile: (src/profile.h layout)} or null
 *     "drift":      [{column, batch_id, rows, psi, tvd}]  each batch against the snapshot
 *   }
 * }
 * Any member may be missing: the pages say "none yet" instead.
 *
 * A site (rdm_report_site) holds that object and, decoded once into arrays of
 * doubles, every ROC and PR curve: loading keeps those out of the JSON
 * (hundreds of thousands of points), and the pages read them from the arrays. */
#ifndef RDM_REPORT_H
#define RDM_REPORT_H

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "readmit.h"

typedef struct rdm_report_site rdm_report_site;

/* Read everything the site shows from the database (registry, raw, clean):
 * all curves of all runs in one COPY. Runs without stored feature importance
 * get it from their model artifact when it can be loaded. Returns a new site
 * owned by the caller (rdm_report_site_free), or NULL with err (RDM_EDB,
 * RDM_EPARSE, RDM_ENOMEM). */
rdm_report_site *rdm_report_load(rdm_db *db, const rdm_config *cfg, rdm_err *err);

/* Add site.data.drift: for each batch of the current clean snapshot and each
 * compared column, {column, batch_id, rows, psi, tvd} against the whole
 * snapshot. RDM_EDB / RDM_EPARSE / RDM_ENOMEM; nothing is added on failure. */
int rdm_report_load_drift(rdm_db *db, rdm_report_site *site, rdm_err *err);

/* A site from an object of the layout above (tests, tools): takes ownership
 * of `json` (also on failure) and decodes its ROC and PR curves. Returns a new
 * site (rdm_report_site_free) or NULL with err (RDM_ENOMEM, RDM_EINVAL when
 * json is not an object). */
rdm_report_site *rdm_report_site_new(json_t *json, rdm_err *err);
/* The site's JSON object (borrowed; changing it changes the pages, except
 * for the ROC and PR curves, decoded when the site was made). */
json_t *rdm_report_site_json(const rdm_report_site *site);
void rdm_report_site_free(rdm_report_site *site);

/* Build one page into `out` (appended): HTML5 text. `run` is one element of
 * site.runs. Errors: RDM_ENOMEM, RDM_EIO (serialisation). Safe to call from
 * several threads at once on the same site (it is only read). */
int rdm_report_page_index(const rdm_report_site *site, rdm_buf *out, rdm_err *err);
int rdm_report_page_run(const rdm_report_site *site, const json_t *run, rdm_buf *out, rdm_err *err);
int rdm_report_page_compare(const rdm_report_site *site, rdm_buf *out, rdm_err *err);
int rdm_report_page_data(const rdm_report_site *site, rdm_buf *out, rdm_err *err);
/* compare/<training_id>.html: every run of one training. */
int rdm_report_page_compare_training(const rdm_report_site *site, long long training_id,
                                     rdm_buf *out, rdm_err *err);
/* monitor.html: the latest monitor document (site.monitor). */
int rdm_report_page_monitor(const rdm_report_site *site, rdm_buf *out, rdm_err *err);

/* What rdm_report_write_site did. */
typedef struct rdm_report_stats {
    int pages;            /* pages built */
    int written;          /* pages whose bytes changed and were rewritten */
    int removed;          /* pages of runs and trainings no longer in the site, deleted */
    char fingerprint[65]; /* sha256 over every page's name and the sha256 of its bytes */
} rdm_report_stats;

/* Build every page (index.html, compare.html, data.html, runs/<id>.html,
 * compare/<training>.html) and write under `dir` only those whose bytes
 * differ from the file on disk, so that unchanged pages keep their
 * timestamps. Pages under runs/ and compare/ that the site no longer has
 * (deleted runs, another database) are removed. Pages are built on the thread pool;
 * the result does not depend on their order. */
int rdm_report_write_site(const rdm_report_site *site, const char *dir, rdm_report_stats *st,
                          rdm_err *err);

/* Write `n` bytes to `path` (atomically) unless the file already holds exactly
 * these bytes. *written (may be NULL) = 1 when the file was (re)written. */
int rdm_report_write_if_changed(const char *path, const void *data, size_t n, int *written,
                                rdm_err *err);

/* Check a generated page: it must parse with libxml2's HTML parser without
 * errors (its HTML 4 tag table does not know the SVG and HTML5 elements the
 * pages use; "unknown tag" is accepted for those names only), contain no
 * external URL, and every relative href/src must name an existing file
 * (relative to the page). Problems are appended to `msgs`, one per line, as
 * "path:line: message"; *problems gets their count. Returns RDM_OK when the
 * page could be checked (even with problems), RDM_EIO if it cannot be read. */
int rdm_report_check_page(const char *path, int *problems, rdm_buf *msgs, rdm_err *err);

#endif
