/* site.h - the model of the report site: the site JSON (layout in report.h)
 * with every ROC and PR curve decoded once into arrays of doubles, lookups
 * the pages share (runs, versions, the champion, metrics, parameters), the
 * list of pages the site has and the navigation between them, and the hash
 * of everything a run page shows (so unchanged run pages are not rebuilt).
 * Everything here only reads the site, so threads may share it. */
#ifndef RDM_SITE_H
#define RDM_SITE_H

#include <jansson.h>

#include "html.h"
#include "readmit.h"
#include "report.h"

/* One decoded curve: n points, x[i] and y[i] (y == x + n, one allocation). */
typedef struct rdm_rpt_curve {
    long long run_id;
    char split[8];
    char kind[12];
    int n;
    double *x, *y;
} rdm_rpt_curve;

struct rdm_report_site {
    json_t *json;          /* owned */
    rdm_rpt_curve *curves; /* owned, sorted by (run_id, split, kind) once built */
    size_t ncurves, capcurves;
};

/* ---- curves ---- */

/* Add a curve to the site, taking x (malloc'd, 2n doubles: x then y). The
 * site must be sorted (rdm_rpt_curves_sort) before lookups. RDM_ENOMEM (x is
 * freed) or RDM_EINVAL (names too long). */
int rdm_rpt_curve_add(rdm_report_site *site, long long run_id, const char *split, const char *kind,
                      double *x, int n, rdm_err *err);
void rdm_rpt_curves_sort(rdm_report_site *site);
/* The decoded curve or NULL. Borrowed from the site. */
const rdm_rpt_curve *rdm_rpt_curve_get(const rdm_report_site *site, long long run_id,
                                       const char *split, const char *kind);
/* Decode the first len bytes of s, "[[x, y], ...]" JSON text (numbers only),
 * into a malloc'd array of 2n doubles (x then y); *n gets the count. s must
 * be NUL-terminated at or after len (numbers are read with strtod). 0 on
 * success; -1 when the text has another shape (the caller falls back to a
 * JSON parser) or on ENOMEM. */
int rdm_rpt_parse_pairs(const char *s, size_t len, double **xy, int *n);
/* The same from a parsed JSON array ([x, y] elements; non-numbers -> NaN). */
int rdm_rpt_json_pairs(const json_t *arr, double **xy, int *n);

/* ---- JSON access: NaN / NULL / dflt when missing or of another type ---- */

double rdm_rpt_num(const json_t *o, const char *k);
const char *rdm_rpt_str(const json_t *o, const char *k);
long long rdm_rpt_int(const json_t *o, const char *k, long long dflt);
/* o[a][b][c] (b, c may be NULL), or NULL. Borrowed. */
const json_t *rdm_rpt_path(const json_t *o, const char *a, const char *b, const char *c);

/* ---- lookups over the site JSON (`site` is rdm_report_site_json) ---- */

/* The run with this id in site.runs, or NULL. */
const json_t *rdm_rpt_find_run(const json_t *site, long long run_id);
/* Version registered from run_id (0 if none); its aliases ("champion ...")
 * into aliases (may be NULL). */
int rdm_rpt_run_version(const json_t *site, long long run_id, char *aliases, size_t n);
/* Run id of the champion version, or -1. */
long long rdm_rpt_champion_run(const json_t *site);
/* run[split][key] (NaN when missing). */
double rdm_rpt_metric(const json_t *run, const char *split, const char *key);
/* Positive rate of a split: positives / n, else from the confusion counts;
 * NaN when unknown. */
double rdm_rpt_positive_rate(const json_t *run, const char *split);
/* The stored curve JSON site.curves[run_id][split][kind], or NULL. */
const json_t *rdm_rpt_curve_json(const json_t *site, long long run_id, const char *split,
                                 const char *kind);
/* Sorted keys of an object (pointers borrowed from it); the caller frees the
 * array. NULL (and *n 0) for a non-object or on ENOMEM. */
const char **rdm_rpt_sorted_keys(const json_t *o, size_t *n);
/* The run's parameter `key` as text, or NULL. */
const char *rdm_rpt_param(const json_t *run, const char *key);
/* 1 when `key` takes more than one value over the runs of `model_type`
 * (NULL: over all runs in `runs`, which may be a subset). */
int rdm_rpt_param_varies(const json_t *runs, const char *model_type, const char *key);

/* ---- pages ---- */

typedef enum rdm_rpt_kind {
    RDM_RPT_INDEX,
    RDM_RPT_COMPARE, /* compare.html: the selected run of each training */
    RDM_RPT_DATA,
    RDM_RPT_MONITOR,  /* monitor.html */
    RDM_RPT_RUN,      /* runs/<run_id>.html */
    RDM_RPT_TRAINING, /* compare/<training_id>.html: every run of one training */
} rdm_rpt_kind;

/* One page of the site: its kind, file name under the site directory, and
 * for run pages the run (borrowed from the site). */
typedef struct rdm_rpt_page_ref {
    rdm_rpt_kind kind;
    char name[64];
    const json_t *run; /* RDM_RPT_RUN */
    long long id;      /* run id or training id */
} rdm_rpt_page_ref;

/* Every page of the site, top-level pages first (in navigation order), then
 * one per run (site.runs order), then one per training (newest first). A new array owned by the
 * caller (free), *n its length; NULL on ENOMEM. */
rdm_rpt_page_ref *rdm_rpt_pages(const rdm_report_site *site, size_t *n);
/* The subdirectories of the site that hold generated pages only: a page
 * there that the site no longer has is removed. NULL-terminated. */
const char *const *rdm_rpt_page_dirs(void);
/* Link to a run's page, a training's compare page, from a page under `root`
 * ("" or "../"). */
void rdm_rpt_href_run(char *buf, size_t n, const char *root, long long id);
void rdm_rpt_href_compare(char *buf, size_t n, const char *root, long long training_id);
/* Distinct training ids of site.runs, newest first: a new array (free), *n
 * its length; NULL on ENOMEM. */
long long *rdm_rpt_trainings(const json_t *site, size_t *n);
/* Display name of a metric key ("roc_auc" -> "ROC AUC"; unknown keys as they
 * are) and whether higher is better (unknown: 1). */
const char *rdm_rpt_metric_label(const char *key);
int rdm_rpt_higher_better(const char *key);
/* rdm_html_page_start with the site's navigation bar. */
int rdm_rpt_page_start(rdm_html_page *pg, const char *title, const char *root);

/* One alias-history row (rdm_registry_history_json layout) as a sentence:
 * what moved and why, from the gate's numbers or the manual reason. */
void rdm_rpt_history_sentence(const json_t *h, char *out, size_t n);
/* Who made a change, from the registry's actor text ("user (readmit cmd)",
 * "user@host (readmit cmd)"): "user on host, readmit cmd"; without a host,
 * "user, readmit cmd (host not recorded)". */
void rdm_rpt_actor_text(const char *actor, char *out, size_t n);

/* sha256 (hex) of everything a run page shows for `run`: the generator id
 * `gen` (64 hex), the model name, the versions, the run, its stored curves
 * and decoded points. b is scratch space. RDM_ENOMEM on failure. */
int rdm_rpt_run_input(const rdm_report_site *site, const json_t *run, const char *gen, rdm_buf *b,
                      char out[65]);
/* The same for a training's compare page: its runs and their curves. */
int rdm_rpt_training_input(const rdm_report_site *site, long long training_id, const char *gen,
                           rdm_buf *b, char out[65]);

#endif
