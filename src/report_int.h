/* report_int.h - helpers shared by the report module's files (report.c,
 * report_pages.c, report_db.c); not part of the library's interface. */
#ifndef RDM_REPORT_INT_H
#define RDM_REPORT_INT_H

#include <jansson.h>
#include <libxml/tree.h>

#include "readmit.h"

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

/* A page being built: allocation failures set oom, checked when serialising. */
typedef struct rdm_rpt_page {
    xmlDocPtr doc;
    xmlNodePtr body;
    int oom;
    const char *root; /* "" for top-level pages, "../" under runs/ */
    rdm_buf *slots;   /* raw HTML spliced in at serialisation (rdm_rpt_slot) */
    int nslots, capslots;
} rdm_rpt_page;

/* JSON access: NaN / NULL / dflt when missing or of another type. */
double rdm_rpt_num(const json_t *o, const char *k);
const char *rdm_rpt_str(const json_t *o, const char *k);
long long rdm_rpt_int(const json_t *o, const char *k, long long dflt);
/* o[a][b][c] (b, c may be NULL), or NULL. Borrowed. */
const json_t *rdm_rpt_path(const json_t *o, const char *a, const char *b, const char *c);

/* New page with head, inline CSS, navigation and <h1>title</h1>. */
int rdm_rpt_page_start(rdm_rpt_page *pg, const char *title, const char *root);
/* Add the sort script, serialise as HTML into out (appended), free the doc. */
int rdm_rpt_page_finish(rdm_rpt_page *pg, rdm_buf *out, rdm_err *err);

/* A slot for pre-built HTML as the last child of parent: returns a buffer
 * (owned by the page) that the caller fills with markup whose every text and
 * attribute value went through rdm_report_escape(); its bytes replace the
 * slot when the page is serialised. For large tables, where a node per cell
 * makes building and serialising the tree slow. NULL (and oom) on failure. */
rdm_buf *rdm_rpt_slot(rdm_rpt_page *pg, xmlNodePtr parent);

/* Child element with escaped text (text NULL: empty element). */
xmlNodePtr rdm_rpt_el(rdm_rpt_page *pg, xmlNodePtr parent, const char *tag, const char *text);
xmlNodePtr rdm_rpt_elf(rdm_rpt_page *pg, xmlNodePtr parent, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void rdm_rpt_attr(rdm_rpt_page *pg, xmlNodePtr n, const char *k, const char *v);
void rdm_rpt_text(rdm_rpt_page *pg, xmlNodePtr parent, const char *text);
xmlNodePtr rdm_rpt_link(rdm_rpt_page *pg, xmlNodePtr parent, const char *href, const char *text);
/* Link an unlinked node (e.g. an SVG chart) under parent; frees it on failure. */
void rdm_rpt_adopt(rdm_rpt_page *pg, xmlNodePtr parent, xmlNodePtr child);
/* <h2> on the body; returns the body. */
xmlNodePtr rdm_rpt_section(rdm_rpt_page *pg, const char *title, const char *id);
/* <table class=cls><thead>heads</thead><tbody> -> returns the tbody. */
xmlNodePtr rdm_rpt_table(rdm_rpt_page *pg, xmlNodePtr parent, const char *cls,
                         const char *const *heads, int n);
xmlNodePtr rdm_rpt_td(rdm_rpt_page *pg, xmlNodePtr tr, const char *text);
/* Number cell with `decimals` digits ("n/a" for NaN). */
xmlNodePtr rdm_rpt_tdnum(rdm_rpt_page *pg, xmlNodePtr tr, int decimals, double v);
xmlNodePtr rdm_rpt_tdint(rdm_rpt_page *pg, xmlNodePtr tr, long long v);
/* ISO timestamp -> "YYYY-MM-DD HH:MM:SS" ("-" when NULL). */
void rdm_rpt_fmt_time(const char *ts, char *out, size_t n);

#endif
