/* html.h - the HTML builder of the report pages: HTML5 pages as libxml2 trees
 * (every text and attribute value escaped, characters HTML forbids made
 * visible as '?'), inline CSS and a table-sorting script, no external URL.
 * Large tables go into raw slots filled with text escaped by rdm_html_escape
 * and spliced into the serialised tree: a node per cell made building and
 * serialising the pages most of the report's run time.
 *
 * Allocation failures while building set pg->oom; rdm_html_page_finish then
 * reports RDM_ENOMEM, so callers build without checking every call. */
#ifndef RDM_HTML_H
#define RDM_HTML_H

#include <libxml/tree.h>
#include <stddef.h>

#include "readmit.h"

/* A link of the navigation bar: href relative to the site's top. */
typedef struct rdm_html_navlink {
    const char *href;
    const char *text;
} rdm_html_navlink;

/* A page being built. */
typedef struct rdm_html_page {
    xmlDocPtr doc;
    xmlNodePtr body;
    int oom;
    const char *root; /* "" for top-level pages, "../" one directory down */
    rdm_buf *slots;   /* raw HTML spliced in at serialisation (rdm_html_slot) */
    int nslots;
    size_t capslots;
    char slot_token[17]; /* random hex marking this page's slots (set by the first slot) */
    const char *script;  /* page script run after the sort script (static text) */
} rdm_html_page;

/* New page with head, inline CSS, the navigation bar (nav: `n` links, each
 * href prefixed with root) and <h1>title</h1>. RDM_ENOMEM on failure. */
int rdm_html_page_start(rdm_html_page *pg, const char *title, const char *root,
                        const rdm_html_navlink *nav, int n);
/* Add the sort script (and pg->script, in the same <script> element),
 * serialise as HTML into out (appended), free the doc
 * (also on failure). RDM_ENOMEM (pg->oom), RDM_EIO (serialisation). */
int rdm_html_page_finish(rdm_html_page *pg, rdm_buf *out, rdm_err *err);
/* Free a page without serialising it. */
void rdm_html_page_discard(rdm_html_page *pg);

/* A slot for pre-built HTML as the last child of parent: returns a buffer
 * (owned by the page) that the caller fills with markup whose every text and
 * attribute value went through rdm_html_escape(); its bytes replace the slot
 * when the page is serialised. NULL (and oom) on failure. */
rdm_buf *rdm_html_slot(rdm_html_page *pg, xmlNodePtr parent);

/* Child element with escaped text (text NULL: empty element). */
xmlNodePtr rdm_html_el(rdm_html_page *pg, xmlNodePtr parent, const char *tag, const char *text);
xmlNodePtr rdm_html_elf(rdm_html_page *pg, xmlNodePtr parent, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void rdm_html_attr(rdm_html_page *pg, xmlNodePtr n, const char *k, const char *v);
void rdm_html_text(rdm_html_page *pg, xmlNodePtr parent, const char *text);
xmlNodePtr rdm_html_link(rdm_html_page *pg, xmlNodePtr parent, const char *href, const char *text);
/* Link an unlinked node (e.g. an SVG chart) under parent; frees it on failure. */
void rdm_html_adopt(rdm_html_page *pg, xmlNodePtr parent, xmlNodePtr child);
/* <h2> on the body; returns the body. */
xmlNodePtr rdm_html_section(rdm_html_page *pg, const char *title, const char *id);
/* <p class=cls> with formatted text (cls may be NULL). */
void rdm_html_para(rdm_html_page *pg, xmlNodePtr parent, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* <li> with formatted text. */
void rdm_html_li(rdm_html_page *pg, xmlNodePtr ul, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* <span class="badge cls"> (cls may be NULL). */
void rdm_html_badge(rdm_html_page *pg, xmlNodePtr parent, const char *text, const char *cls);
/* <table class=cls><thead>heads</thead><tbody> -> returns the tbody. */
xmlNodePtr rdm_html_table(rdm_html_page *pg, xmlNodePtr parent, const char *cls,
                          const char *const *heads, int n);
xmlNodePtr rdm_html_td(rdm_html_page *pg, xmlNodePtr tr, const char *text);
/* Number cell with `decimals` digits ("n/a" for NaN). */
xmlNodePtr rdm_html_tdnum(rdm_html_page *pg, xmlNodePtr tr, int decimals, double v);
xmlNodePtr rdm_html_tdint(rdm_html_page *pg, xmlNodePtr tr, long long v);
/* ISO timestamp -> "YYYY-MM-DD HH:MM:SS" ("-" when NULL). */
void rdm_html_fmt_time(const char *ts, char *out, size_t n);

/* A number for people: the shortest "%g" text (at most 15 significant
 * digits) that reads back as v, so 0.05 stored as 0.050000000000000003 shows
 * as "0.05"; "n/a", "inf", "-inf" for the rest. Returns the length. */
size_t rdm_html_fmt_double(double v, char *out, size_t n);
/* `text` as rdm_html_fmt_double shows it when the whole text is a finite
 * number (then out is returned), else text itself (NULL stays NULL). */
const char *rdm_html_fmt_value(const char *text, char *out, size_t n);

/* Append the n bytes of s escaped for HTML text and quoted attribute values:
 * & < > " ' as entities; C0 controls other than tab and newline, DEL and the
 * C1 controls as '?', like the tree-built parts of the pages; each byte of an
 * invalid UTF-8 sequence as '?'. Valid UTF-8 is kept. RDM_ENOMEM on failure. */
int rdm_html_escape(rdm_buf *out, const char *s, size_t n);

/* Render bytes for display: printable ASCII kept, every other byte as \xNN
 * (so invalid UTF-8 and control characters are visible and harmless); at most
 * `max` input bytes, then "...". Appends to out. */
int rdm_html_bytes_text(const unsigned char *p, size_t n, size_t max, rdm_buf *out);

#endif
