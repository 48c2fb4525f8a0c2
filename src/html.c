/* html.c - the HTML builder: pages as libxml2 trees with escaped text, raw
 * slots for large tables, and the escaping used for text written directly. */
#include "html.h"

#include <ctype.h>
#include <libxml/HTMLtree.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "svg.h"
#include "utf8.h"

static const char CSS[] =
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px 40px;"
    "color:#222;line-height:1.4}"
    ".nav{padding:10px 0;border-bottom:1px solid #ccc;margin-bottom:8px}"
    ".nav a{margin-right:18px;font-weight:600}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #eee}"
    "h3{font-size:1.05em}"
    "table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}"
    "th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}table.sortable th{cursor:pointer}"
    "td.num,table.points td+td{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.champion td{background:#fff7d6}"
    "td.best{font-weight:700;background:#e3f4e3}td.warn{background:#fff3c4}"
    "table.matrix td{text-align:center}"
    ".badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;margin-left:4px;"
    "background:#e6eefc;color:#1f4e9c}"
    ".badge.champion{background:#ffe08a;color:#6b4e00}.badge.failed,.fail{background:#fde2e2;"
    "color:#9c1f1f}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #eee}"
    ".muted{color:#777}.mono{font-family:ui-monospace,monospace;font-size:12px;"
    "word-break:break-all}"
    "details{margin:4px 0 12px}summary{cursor:pointer;color:#1f4e9c}"
    "ul.card li{margin-bottom:4px}";

/* Sorting for tables of class "sortable": click a header to sort by it
 * (numerically when both cells start with a number). */
static const char SORT_JS[] =
    "document.querySelectorAll('table.sortable th').forEach(function(th){"
    "th.addEventListener('click',function(){"
    "var t=th.closest('table'),b=t.tBodies[0];if(!b)return;"
    "var i=Array.prototype.indexOf.call(th.parentNode.children,th);"
    "var d=th.getAttribute('data-dir')==='a'?'d':'a';th.setAttribute('data-dir',d);"
    "var rows=Array.prototype.slice.call(b.rows);"
    "rows.sort(function(x,y){var p=x.cells[i]?x.cells[i].textContent:'',"
    "q=y.cells[i]?y.cells[i].textContent:'',a=parseFloat(p),c=parseFloat(q);"
    "var r=(!isNaN(a)&&!isNaN(c))?a-c:p.localeCompare(q);return d==='a'?r:-r;});"
    "rows.forEach(function(r){b.appendChild(r);});});});";

/* Copy of s with C0 control characters (other than tab/newline) and DEL made
 * visible as '?', so the serialised page never holds characters HTML forbids. */
static char *clean_text(const char *s)
{
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)s[i];
        c[i] = (i < n && ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f)) ? '?' : s[i];
    }
    return c;
}

/* ---- escaped HTML written directly ---- */

/* Bytes that rdm_html_escape cannot copy as they are. */
static unsigned char special(unsigned char c)
{
    return c < 0x20 || c >= 0x7f || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
}

int rdm_html_escape(rdm_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (rdm_buf_reserve(out, n + 8))
        return RDM_ENOMEM;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !special(p[j]))
            j++;
        if (j > i && rdm_buf_add(out, p + i, j - i))
            return RDM_ENOMEM;
        if (j == n)
            break;
        unsigned char c = p[j];
        const char *rep = NULL;
        size_t used = 1;
        char one[2] = {(char)c, 0};
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\t':
        case '\n':
            rep = one;
            break;
        default:
            if (c >= 0x80) {
                unsigned cp = 0;
                size_t l = rdm_utf8_seq(p + j, n - j, &cp);
                if (l && cp >= 0xA0) {
                    if (rdm_buf_add(out, p + j, l))
                        return RDM_ENOMEM;
                    i = j + l;
                    continue;
                }
                used = l ? l : 1; /* C1 control or a byte of invalid UTF-8 */
            }
            rep = "?";
        }
        if (rdm_buf_adds(out, rep))
            return RDM_ENOMEM;
        i = j + used;
    }
    return rdm_buf_add(out, "", 0);
}

/* ---- building a page ---- */

/* Slots are marked in the tree by a comment holding a random token of the
 * page, which no escaped value can reproduce: text is escaped, and the token
 * is unknown to whoever wrote the data. */
static void slot_token_init(rdm_html_page *pg)
{
    unsigned char r[8] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        unsigned long long x = (unsigned long long)(rdm_now() * 1e9) * 1000003ULL ^
                               (unsigned long long)getpid() ^ (unsigned long long)(uintptr_t)pg;
        memcpy(r, &x, sizeof r);
    }
    for (int i = 0; i < 8; i++)
        snprintf(pg->slot_token + 2 * i, 3, "%02x", r[i]);
}

static int slot_mark(const rdm_html_page *pg, char *buf, size_t n, int k)
{
    return snprintf(buf, n, "rdm-slot-%s-%d", pg->slot_token, k);
}

rdm_buf *rdm_html_slot(rdm_html_page *pg, xmlNodePtr parent)
{
    if (!pg->slot_token[0])
        slot_token_init(pg);
    if (!parent) {
        pg->oom = 1;
        return NULL;
    }
    void *p = pg->slots;
    if (rdm_grow(&p, &pg->capslots, (size_t)pg->nslots + 1, sizeof *pg->slots)) {
        pg->oom = 1;
        return NULL;
    }
    pg->slots = p;
    char mark[64];
    slot_mark(pg, mark, sizeof mark, pg->nslots);
    xmlNodePtr c = xmlNewComment(BAD_CAST mark);
    if (!c || !xmlAddChild(parent, c)) {
        xmlFreeNode(c);
        pg->oom = 1;
        return NULL;
    }
    rdm_buf *b = &pg->slots[pg->nslots++];
    *b = (rdm_buf)RDM_BUF_INIT;
    return b;
}

/* Find needle in hay[0..n) (n small needles, large hay). */
static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
    const char *end = hay + n;
    for (const char *p = hay; (size_t)(end - p) >= m; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - m + 1);
        if (!p)
            return NULL;
        if (!memcmp(p, needle, m))
            return p;
    }
    return NULL;
}

/* Append the serialised page with every slot's marker replaced by its bytes;
 * each marker must appear exactly once. */
static int splice(const rdm_html_page *pg, const char *mem, size_t n, rdm_buf *out, rdm_err *err)
{
    size_t total = n;
    for (int k = 0; k < pg->nslots; k++)
        total += pg->slots[k].len;
    if (rdm_buf_reserve(out, total))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    size_t at = 0;
    for (int k = 0; k < pg->nslots; k++) {
        char mark[80];
        int ml = snprintf(mark, sizeof mark, "<!--");
        ml += slot_mark(pg, mark + ml, sizeof mark - (size_t)ml, k);
        ml += snprintf(mark + ml, sizeof mark - (size_t)ml, "-->");
        const char *p = find(mem + at, n - at, mark, (size_t)ml);
        if (!p || find(p + ml, n - (size_t)(p - mem) - (size_t)ml, mark, (size_t)ml))
            return rdm_errf(err, RDM_EIO, "report: slot %d of a page not found once", k);
        if (rdm_buf_add(out, mem + at, (size_t)(p - (mem + at))) ||
            rdm_buf_add(out, pg->slots[k].data ? pg->slots[k].data : "", pg->slots[k].len))
            return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        at = (size_t)(p - mem) + (size_t)ml;
    }
    if (rdm_buf_add(out, mem + at, n - at))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    return RDM_OK;
}

xmlNodePtr rdm_html_el(rdm_html_page *pg, xmlNodePtr parent, const char *tag, const char *text)
{
    if (!parent) {
        pg->oom = 1;
        return NULL;
    }
    xmlNodePtr n;
    if (text) {
        char *c = clean_text(text);
        n = c ? xmlNewTextChild(parent, NULL, BAD_CAST tag, BAD_CAST c) : NULL;
        free(c);
    } else {
        n = xmlNewChild(parent, NULL, BAD_CAST tag, NULL);
    }
    if (!n)
        pg->oom = 1;
    return n;
}

xmlNodePtr rdm_html_elf(rdm_html_page *pg, xmlNodePtr parent, const char *tag, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return rdm_html_el(pg, parent, tag, buf);
}

void rdm_html_attr(rdm_html_page *pg, xmlNodePtr n, const char *k, const char *v)
{
    if (!n)
        return;
    char *c = clean_text(v ? v : "");
    if (!c || !xmlSetProp(n, BAD_CAST k, BAD_CAST c))
        pg->oom = 1;
    free(c);
}

void rdm_html_text(rdm_html_page *pg, xmlNodePtr parent, const char *text)
{
    if (!parent)
        return;
    char *c = clean_text(text ? text : "");
    xmlNodePtr t = c ? xmlNewText(BAD_CAST c) : NULL;
    free(c);
    if (!t || !xmlAddChild(parent, t)) {
        xmlFreeNode(t);
        pg->oom = 1;
    }
}

xmlNodePtr rdm_html_link(rdm_html_page *pg, xmlNodePtr parent, const char *href, const char *text)
{
    xmlNodePtr a = rdm_html_el(pg, parent, "a", text);
    rdm_html_attr(pg, a, "href", href);
    return a;
}

void rdm_html_adopt(rdm_html_page *pg, xmlNodePtr parent, xmlNodePtr child)
{
    if (!child || !parent || !xmlAddChild(parent, child)) {
        xmlFreeNode(child);
        pg->oom = 1;
    }
}

int rdm_html_page_start(rdm_html_page *pg, const char *title, const char *root,
                        const rdm_html_navlink *nav, int n)
{
    memset(pg, 0, sizeof *pg);
    pg->root = root;
    pg->doc = htmlNewDocNoDtD(NULL, NULL);
    if (!pg->doc)
        return RDM_ENOMEM;
    if (!xmlCreateIntSubset(pg->doc, BAD_CAST "html", NULL, NULL))
        pg->oom = 1;
    xmlNodePtr html = xmlNewNode(NULL, BAD_CAST "html");
    if (!html) {
        xmlFreeDoc(pg->doc);
        pg->doc = NULL;
        return RDM_ENOMEM;
    }
    xmlDocSetRootElement(pg->doc, html);
    rdm_html_attr(pg, html, "lang", "en");
    xmlNodePtr head = rdm_html_el(pg, html, "head", NULL);
    rdm_html_attr(pg, rdm_html_el(pg, head, "meta", NULL), "charset", "utf-8");
    xmlNodePtr vp = rdm_html_el(pg, head, "meta", NULL);
    rdm_html_attr(pg, vp, "name", "viewport");
    rdm_html_attr(pg, vp, "content", "width=device-width, initial-scale=1");
    rdm_html_elf(pg, head, "title", "%s - readmit", title);
    rdm_html_el(pg, head, "style", CSS);
    pg->body = rdm_html_el(pg, html, "body", NULL);
    xmlNodePtr bar = rdm_html_el(pg, pg->body, "div", NULL);
    rdm_html_attr(pg, bar, "class", "nav");
    for (int i = 0; i < n; i++) {
        char href[256];
        snprintf(href, sizeof href, "%s%s", root, nav[i].href);
        rdm_html_link(pg, bar, href, nav[i].text);
    }
    rdm_html_el(pg, pg->body, "h1", title);
    return RDM_OK;
}

int rdm_html_page_finish(rdm_html_page *pg, rdm_buf *out, rdm_err *err)
{
    int rc = RDM_OK;
    if (pg->script) {
        size_t a = strlen(SORT_JS), b = strlen(pg->script);
        char *js = malloc(a + b + 1);
        if (js) {
            memcpy(js, SORT_JS, a);
            memcpy(js + a, pg->script, b + 1);
            rdm_html_el(pg, pg->body, "script", js);
            free(js);
        } else {
            pg->oom = 1;
        }
    } else {
        rdm_html_el(pg, pg->body, "script", SORT_JS);
    }
    if (pg->oom) {
        rc = rdm_errf(err, RDM_ENOMEM, "report: out of memory building a page");
    } else {
        xmlChar *mem = NULL;
        int n = 0;
        htmlDocDumpMemoryFormat(pg->doc, &mem, &n, 1);
        if (!mem || n <= 0)
            rc = rdm_errf(err, RDM_EIO, "report: cannot serialise a page");
        else
            rc = splice(pg, (const char *)mem, (size_t)n, out, err);
        xmlFree(mem);
    }
    rdm_html_page_discard(pg);
    return rc;
}

void rdm_html_page_discard(rdm_html_page *pg)
{
    xmlFreeDoc(pg->doc);
    pg->doc = NULL;
    for (int k = 0; k < pg->nslots; k++)
        rdm_buf_release(&pg->slots[k]);
    free(pg->slots);
    pg->slots = NULL;
    pg->nslots = pg->capslots = 0;
}

xmlNodePtr rdm_html_section(rdm_html_page *pg, const char *title, const char *id)
{
    xmlNodePtr h = rdm_html_el(pg, pg->body, "h2", title);
    if (id)
        rdm_html_attr(pg, h, "id", id);
    return pg->body;
}

xmlNodePtr rdm_html_table(rdm_html_page *pg, xmlNodePtr parent, const char *cls,
                          const char *const *heads, int n)
{
    xmlNodePtr t = rdm_html_el(pg, parent, "table", NULL);
    if (cls)
        rdm_html_attr(pg, t, "class", cls);
    xmlNodePtr tr = rdm_html_el(pg, rdm_html_el(pg, t, "thead", NULL), "tr", NULL);
    for (int i = 0; i < n; i++)
        rdm_html_el(pg, tr, "th", heads[i]);
    return rdm_html_el(pg, t, "tbody", NULL);
}

xmlNodePtr rdm_html_td(rdm_html_page *pg, xmlNodePtr tr, const char *text)
{
    return rdm_html_el(pg, tr, "td", text ? text : "");
}

xmlNodePtr rdm_html_tdnum(rdm_html_page *pg, xmlNodePtr tr, int decimals, double v)
{
    char b[64];
    if (isnan(v))
        snprintf(b, sizeof b, "n/a");
    else
        rdm_svg_fixed(v, decimals, b, sizeof b);
    xmlNodePtr td = rdm_html_el(pg, tr, "td", b);
    rdm_html_attr(pg, td, "class", "num");
    return td;
}

xmlNodePtr rdm_html_tdint(rdm_html_page *pg, xmlNodePtr tr, long long v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    xmlNodePtr td = rdm_html_el(pg, tr, "td", b);
    rdm_html_attr(pg, td, "class", "num");
    return td;
}

void rdm_html_fmt_time(const char *ts, char *out, size_t n)
{
    if (!ts || !*ts) {
        snprintf(out, n, "-");
        return;
    }
    /* "2024-05-01T12:34:56.123+00:00" -> "2024-05-01 12:34:56" */
    snprintf(out, n, "%.19s", ts);
    char *t = strchr(out, 'T');
    if (t)
        *t = ' ';
}

int rdm_html_bytes_text(const unsigned char *p, size_t n, size_t max, rdm_buf *out)
{
    size_t m = n < max ? n : max;
    for (size_t i = 0; i < m; i++) {
        int rc = (p[i] >= 0x20 && p[i] < 0x7f) ? rdm_buf_addc(out, (char)p[i])
                                               : rdm_buf_printf(out, "\\x%02x", p[i]);
        if (rc)
            return rc;
    }
    if (n > max)
        return rdm_buf_adds(out, "...");
    return rdm_buf_add(out, "", 0);
}

void rdm_html_badge(rdm_html_page *pg, xmlNodePtr parent, const char *text, const char *cls)
{
    xmlNodePtr b = rdm_html_el(pg, parent, "span", text);
    char c[64];
    snprintf(c, sizeof c, "badge%s%s", cls ? " " : "", cls ? cls : "");
    rdm_html_attr(pg, b, "class", c);
}

void rdm_html_para(rdm_html_page *pg, xmlNodePtr parent, const char *cls, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    xmlNodePtr p = rdm_html_el(pg, parent, "p", buf);
    if (cls)
        rdm_html_attr(pg, p, "class", cls);
}

void rdm_html_li(rdm_html_page *pg, xmlNodePtr ul, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rdm_html_el(pg, ul, "li", buf);
}

size_t rdm_html_fmt_double(double v, char *out, size_t n)
{
    if (!n)
        return 0;
    if (!isfinite(v))
        return (size_t)snprintf(out, n, "%s", isnan(v) ? "n/a" : v > 0 ? "inf" : "-inf");
    if (v == floor(v) && fabs(v) < 1e15) /* whole numbers as they are: 60, not 6e+01 */
        return (size_t)snprintf(out, n, "%.0f", v);
    /* exponent form only for very small or very large values */
    int plain = fabs(v) >= 1e-4 && fabs(v) < 1e15;
    char buf[64];
    for (int p = 1; p <= 15; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (p == 15 || (strtod(buf, NULL) == v && (!plain || !strchr(buf, 'e'))))
            break;
    }
    return (size_t)snprintf(out, n, "%s", buf);
}

const char *rdm_html_fmt_value(const char *text, char *out, size_t n)
{
    if (!text)
        return NULL;
    char *end = NULL;
    const char *p = text;
    while (*p == ' ')
        p++;
    if (!*p || !(isdigit((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
        return text;
    double v = strtod(p, &end);
    if (!end || end == p || *end || !isfinite(v))
        return text;
    rdm_html_fmt_double(v, out, n);
    return out;
}
