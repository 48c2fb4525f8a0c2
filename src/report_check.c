/* report_check.c - the page checker: parse a generated page with libxml2,
 * flag external URLs and broken relative links. */
#include <libxml/HTMLparser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

/* ---- checking ---- */

/* Elements the pages use that libxml2's HTML 4 parser does not know. */
static const char *const KNOWN_FOREIGN[] = {
    "svg",     "path",    "g",   "line", "rect",   "circle", "text",   "polyline",   "details",
    "summary", "section", "nav", "main", "header", "footer", "figure", "figcaption", NULL};

typedef struct check_ctx {
    const char *path;
    int problems;
    rdm_buf *msgs;
} check_ctx;

static void problem(check_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(check_ctx *c, int line, const char *fmt, ...)
{
    char m[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    size_t l = strlen(m);
    while (l && m[l - 1] == '\n')
        m[--l] = '\0';
    c->problems++;
    if (c->msgs && rdm_buf_printf(c->msgs, "%s:%d: %s\n", c->path, line, m))
        return;
}

static void on_parse_error(void *ud, xmlErrorPtr e)
{
    check_ctx *c = ud;
    if (!e || e->level == XML_ERR_NONE)
        return;
    if (e->code == XML_HTML_UNKNOWN_TAG && e->str1) {
        for (int i = 0; KNOWN_FOREIGN[i]; i++)
            if (!strcmp((const char *)e->str1, KNOWN_FOREIGN[i]))
                return;
    }
    problem(c, e->line, "HTML parser: %s", e->message ? e->message : "error");
}

static int is_external(const char *v)
{
    if (!strncmp(v, "//", 2))
        return 1;
    for (const char *p = v; *p && *p != '/' && *p != '#' && *p != '?'; p++)
        if (*p == ':')
            return 1; /* scheme: http:, https:, data:, javascript:, file: ... */
    return 0;
}

static void check_links(check_ctx *c, xmlNodePtr n, const char *dir)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        static const char *const ATTRS[] = {"href", "src", "action", "xlink:href", NULL};
        for (int i = 0; ATTRS[i]; i++) {
            xmlChar *v = xmlGetProp(n, BAD_CAST ATTRS[i]);
            if (!v)
                continue;
            const char *s = (const char *)v;
            if (is_external(s)) {
                problem(c, xmlGetLineNo(n), "external URL in %s: %s", ATTRS[i], s);
            } else if (*s && *s != '#') {
                char path[4096];
                size_t k = strcspn(s, "#?");
                snprintf(path, sizeof path, "%s/%.*s", dir, (int)k, s);
                if (access(path, F_OK) != 0)
                    problem(c, xmlGetLineNo(n), "broken link %s (no file %s)", s, path);
            }
            xmlFree(v);
        }
        check_links(c, n->children, dir);
    }
}

int rdm_report_check_page(const char *path, int *problems, rdm_buf *msgs, rdm_err *err)
{
    if (problems)
        *problems = 0;
    rdm_buf b = RDM_BUF_INIT;
    int rc = rdm_read_file(path, &b, err);
    if (rc)
        return rc;
    check_ctx c = {path, 0, msgs};
    xmlSetStructuredErrorFunc(&c, on_parse_error);
    htmlDocPtr doc = htmlReadMemory(b.data, (int)b.len, path, "UTF-8", HTML_PARSE_NONET);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (!doc) {
        problem(&c, 0, "not parsed as HTML");
    } else {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        check_links(&c, xmlDocGetRootElement(doc), dir);
        xmlFreeDoc(doc);
    }
    if (!strstr(b.data, "<!DOCTYPE html>"))
        problem(&c, 1, "missing <!DOCTYPE html>");
    rdm_buf_release(&b);
    if (problems)
        *problems = c.problems;
    return RDM_OK;
}
