/* report.c - page skeleton, HTML writers and the site writer/checker of the reports. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/xmlversion.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_int.h"
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

/* ---- JSON access ---- */

double rdm_rpt_num(const json_t *o, const char *k)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *rdm_rpt_str(const json_t *o, const char *k)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long rdm_rpt_int(const json_t *o, const char *k, long long dflt)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return dflt;
}

const json_t *rdm_rpt_path(const json_t *o, const char *a, const char *b, const char *c)
{
    const json_t *v = o ? json_object_get(o, a) : NULL;
    if (b)
        v = json_is_object(v) ? json_object_get(v, b) : NULL;
    if (c)
        v = json_is_object(v) ? json_object_get(v, c) : NULL;
    return v;
}

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

/* ---- the site: JSON plus decoded curves ---- */

int rdm_rpt_curve_add(rdm_report_site *site, long long run_id, const char *split, const char *kind,
                      double *x, int n, rdm_err *err)
{
    if (strlen(split) >= sizeof site->curves[0].split ||
        strlen(kind) >= sizeof site->curves[0].kind) {
        free(x);
        return rdm_errf(err, RDM_EINVAL, "report: curve run %lld: bad split '%s' or kind '%s'",
                        run_id, split, kind);
    }
    if (site->ncurves == site->capcurves) {
        size_t cap = site->capcurves ? 2 * site->capcurves : 64;
        rdm_rpt_curve *c = realloc(site->curves, cap * sizeof *c);
        if (!c) {
            free(x);
            return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        }
        site->curves = c;
        site->capcurves = cap;
    }
    rdm_rpt_curve *c = &site->curves[site->ncurves++];
    memset(c, 0, sizeof *c);
    c->run_id = run_id;
    snprintf(c->split, sizeof c->split, "%s", split);
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    c->n = n;
    c->x = x;
    c->y = x ? x + n : NULL;
    return RDM_OK;
}

static int curve_cmp(const void *a, const void *b)
{
    const rdm_rpt_curve *p = a, *q = b;
    if (p->run_id != q->run_id)
        return p->run_id < q->run_id ? -1 : 1;
    int c = strcmp(p->split, q->split);
    return c ? c : strcmp(p->kind, q->kind);
}

void rdm_rpt_curves_sort(rdm_report_site *site)
{
    if (site->ncurves > 1)
        qsort(site->curves, site->ncurves, sizeof *site->curves, curve_cmp);
}

const rdm_rpt_curve *rdm_rpt_curve_get(const rdm_report_site *site, long long run_id,
                                       const char *split, const char *kind)
{
    if (!site || !site->ncurves)
        return NULL;
    rdm_rpt_curve key;
    memset(&key, 0, sizeof key);
    key.run_id = run_id;
    snprintf(key.split, sizeof key.split, "%s", split);
    snprintf(key.kind, sizeof key.kind, "%s", kind);
    return bsearch(&key, site->curves, site->ncurves, sizeof key, curve_cmp);
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* A JSON number at p (strtod accepts more: "inf", hex, leading '+'). */
static const char *json_number(const char *p, const char *end, double *v)
{
    if (p >= end || !(*p == '-' || (*p >= '0' && *p <= '9')))
        return NULL;
    if (*p == '-' && (p + 1 >= end || !(p[1] >= '0' && p[1] <= '9')))
        return NULL;
    if (p[0] == '0' && p + 1 < end && (p[1] == 'x' || p[1] == 'X'))
        return NULL;
    char *q;
    *v = strtod(p, &q);
    return q > p && q <= end ? q : NULL;
}

int rdm_rpt_parse_pairs(const char *s, size_t len, double **xy, int *n)
{
    *xy = NULL;
    *n = 0;
    const char *p = s, *end = s + len;
    p = skip_ws(p, end);
    if (p >= end || *p++ != '[')
        return -1;
    /* the text has at most one point per 4 bytes ("[0,0]"): size once */
    size_t cap = len / 4 + 1, k = 0;
    double *x = malloc(2 * cap * sizeof *x);
    if (!x)
        return -1;
    p = skip_ws(p, end);
    if (p < end && *p == ']') {
        p++;
    } else {
        for (;;) {
            double a, b;
            p = skip_ws(p, end);
            if (p >= end || *p++ != '[')
                goto bad;
            if (!(p = json_number(skip_ws(p, end), end, &a)))
                goto bad;
            p = skip_ws(p, end);
            if (p >= end || *p++ != ',')
                goto bad;
            if (!(p = json_number(skip_ws(p, end), end, &b)))
                goto bad;
            p = skip_ws(p, end);
            if (p >= end || *p++ != ']' || k >= cap || k >= 0x3fffffff)
                goto bad;
            x[k] = a;
            x[cap + k] = b;
            k++;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == ']') {
                p++;
                break;
            }
            goto bad;
        }
    }
    if (skip_ws(p, end) != end)
        goto bad;
    memmove(x + k, x + cap, k * sizeof *x); /* y right after x */
    *xy = x;
    *n = (int)k;
    return 0;
bad:
    free(x);
    return -1;
}

int rdm_rpt_json_pairs(const json_t *arr, double **xy, int *n)
{
    *xy = NULL;
    *n = 0;
    size_t k = json_is_array(arr) ? json_array_size(arr) : 0;
    if (k > 0x3fffffff)
        return -1;
    double *x = malloc((2 * k + 1) * sizeof *x);
    if (!x)
        return -1;
    for (size_t i = 0; i < k; i++) {
        const json_t *pt = json_array_get(arr, i);
        const json_t *a = json_array_get(pt, 0), *b = json_array_get(pt, 1);
        x[i] = json_is_number(a) ? json_number_value(a) : NAN;
        x[k + i] = json_is_number(b) ? json_number_value(b) : NAN;
    }
    *xy = x;
    *n = (int)k;
    return 0;
}

rdm_report_site *rdm_report_site_new(json_t *json, rdm_err *err)
{
    if (!json_is_object(json)) {
        json_decref(json);
        rdm_errf(err, RDM_EINVAL, "report: the site is not a JSON object");
        return NULL;
    }
    rdm_report_site *site = calloc(1, sizeof *site);
    if (!site) {
        json_decref(json);
        rdm_errf(err, RDM_ENOMEM, "report: out of memory");
        return NULL;
    }
    site->json = json;
    const char *run;
    json_t *per;
    json_object_foreach(json_object_get(json, "curves"), run, per)
    {
        const char *split;
        json_t *kinds;
        json_object_foreach(per, split, kinds)
        {
            static const char *const K[] = {"roc", "pr"};
            for (int k = 0; k < 2; k++) {
                const json_t *arr = json_object_get(kinds, K[k]);
                double *xy;
                int n;
                if (!arr)
                    continue;
                if (rdm_rpt_json_pairs(arr, &xy, &n) ||
                    rdm_rpt_curve_add(site, atoll(run), split, K[k], xy, n, err)) {
                    if (!err || !err->code)
                        rdm_errf(err, RDM_ENOMEM, "report: out of memory");
                    rdm_report_site_free(site);
                    return NULL;
                }
            }
        }
    }
    rdm_rpt_curves_sort(site);
    return site;
}

json_t *rdm_report_site_json(const rdm_report_site *site)
{
    return site ? site->json : NULL;
}

void rdm_report_site_free(rdm_report_site *site)
{
    if (!site)
        return;
    for (size_t i = 0; i < site->ncurves; i++)
        free(site->curves[i].x);
    free(site->curves);
    json_decref(site->json);
    free(site);
}

/* ---- escaped HTML written directly ---- */

/* Bytes that rdm_report_escape cannot copy as they are. */
static unsigned char special(unsigned char c)
{
    return c < 0x20 || c >= 0x7f || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
}

int rdm_report_escape(rdm_buf *out, const char *s, size_t n)
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

/* ---- page building ---- */

/* Slots are marked in the tree by a comment holding a random per-process
 * token, which no escaped value can reproduce: text is escaped, and the token
 * is unknown to whoever wrote the data. */
static char slot_token[17];
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

static void slot_token_init(void)
{
    unsigned char r[8] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(r, 1, sizeof r, f) : 0;
    if (f)
        fclose(f);
    if (got != sizeof r) {
        unsigned long long x = (unsigned long long)rdm_now() * 1000003ULL ^
                               (unsigned long long)getpid() ^ (unsigned long long)(uintptr_t)&got;
        memcpy(r, &x, sizeof r);
    }
    for (int i = 0; i < 8; i++)
        snprintf(slot_token + 2 * i, 3, "%02x", r[i]);
}

static int slot_mark(char *buf, size_t n, int k)
{
    return snprintf(buf, n, "rdm-slot-%s-%d", slot_token, k);
}

rdm_buf *rdm_rpt_slot(rdm_rpt_page *pg, xmlNodePtr parent)
{
    pthread_once(&slot_once, slot_token_init);
    if (!parent) {
        pg->oom = 1;
        return NULL;
    }
    if (pg->nslots == pg->capslots) {
        int cap = pg->capslots ? 2 * pg->capslots : 4;
        rdm_buf *s = realloc(pg->slots, (size_t)cap * sizeof *s);
        if (!s) {
            pg->oom = 1;
            return NULL;
        }
        pg->slots = s;
        pg->capslots = cap;
    }
    char mark[64];
    slot_mark(mark, sizeof mark, pg->nslots);
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
static int splice(const rdm_rpt_page *pg, const char *mem, size_t n, rdm_buf *out, rdm_err *err)
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
        ml += slot_mark(mark + ml, sizeof mark - (size_t)ml, k);
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

xmlNodePtr rdm_rpt_el(rdm_rpt_page *pg, xmlNodePtr parent, const char *tag, const char *text)
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

xmlNodePtr rdm_rpt_elf(rdm_rpt_page *pg, xmlNodePtr parent, const char *tag, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return rdm_rpt_el(pg, parent, tag, buf);
}

void rdm_rpt_attr(rdm_rpt_page *pg, xmlNodePtr n, const char *k, const char *v)
{
    if (!n)
        return;
    char *c = clean_text(v ? v : "");
    if (!c || !xmlSetProp(n, BAD_CAST k, BAD_CAST c))
        pg->oom = 1;
    free(c);
}

void rdm_rpt_text(rdm_rpt_page *pg, xmlNodePtr parent, const char *text)
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

xmlNodePtr rdm_rpt_link(rdm_rpt_page *pg, xmlNodePtr parent, const char *href, const char *text)
{
    xmlNodePtr a = rdm_rpt_el(pg, parent, "a", text);
    rdm_rpt_attr(pg, a, "href", href);
    return a;
}

void rdm_rpt_adopt(rdm_rpt_page *pg, xmlNodePtr parent, xmlNodePtr child)
{
    if (!child || !parent || !xmlAddChild(parent, child)) {
        xmlFreeNode(child);
        pg->oom = 1;
    }
}

int rdm_rpt_page_start(rdm_rpt_page *pg, const char *title, const char *root)
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
    rdm_rpt_attr(pg, html, "lang", "en");
    xmlNodePtr head = rdm_rpt_el(pg, html, "head", NULL);
    rdm_rpt_attr(pg, rdm_rpt_el(pg, head, "meta", NULL), "charset", "utf-8");
    xmlNodePtr vp = rdm_rpt_el(pg, head, "meta", NULL);
    rdm_rpt_attr(pg, vp, "name", "viewport");
    rdm_rpt_attr(pg, vp, "content", "width=device-width, initial-scale=1");
    rdm_rpt_elf(pg, head, "title", "%s - readmit", title);
    rdm_rpt_el(pg, head, "style", CSS);
    pg->body = rdm_rpt_el(pg, html, "body", NULL);
    xmlNodePtr nav = rdm_rpt_el(pg, pg->body, "div", NULL);
    rdm_rpt_attr(pg, nav, "class", "nav");
    char href[64];
    snprintf(href, sizeof href, "%sindex.html", root);
    rdm_rpt_link(pg, nav, href, "Runs and versions");
    snprintf(href, sizeof href, "%scompare.html", root);
    rdm_rpt_link(pg, nav, href, "Compare");
    snprintf(href, sizeof href, "%sdata.html", root);
    rdm_rpt_link(pg, nav, href, "Data");
    rdm_rpt_el(pg, pg->body, "h1", title);
    return RDM_OK;
}

int rdm_rpt_page_finish(rdm_rpt_page *pg, rdm_buf *out, rdm_err *err)
{
    int rc = RDM_OK;
    rdm_rpt_el(pg, pg->body, "script", SORT_JS);
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
    xmlFreeDoc(pg->doc);
    pg->doc = NULL;
    for (int k = 0; k < pg->nslots; k++)
        rdm_buf_release(&pg->slots[k]);
    free(pg->slots);
    pg->slots = NULL;
    pg->nslots = pg->capslots = 0;
    return rc;
}

xmlNodePtr rdm_rpt_section(rdm_rpt_page *pg, const char *title, const char *id)
{
    xmlNodePtr h = rdm_rpt_el(pg, pg->body, "h2", title);
    if (id)
        rdm_rpt_attr(pg, h, "id", id);
    return pg->body;
}

xmlNodePtr rdm_rpt_table(rdm_rpt_page *pg, xmlNodePtr parent, const char *cls,
                         const char *const *heads, int n)
{
    xmlNodePtr t = rdm_rpt_el(pg, parent, "table", NULL);
    if (cls)
        rdm_rpt_attr(pg, t, "class", cls);
    xmlNodePtr tr = rdm_rpt_el(pg, rdm_rpt_el(pg, t, "thead", NULL), "tr", NULL);
    for (int i = 0; i < n; i++)
        rdm_rpt_el(pg, tr, "th", heads[i]);
    return rdm_rpt_el(pg, t, "tbody", NULL);
}

xmlNodePtr rdm_rpt_td(rdm_rpt_page *pg, xmlNodePtr tr, const char *text)
{
    return rdm_rpt_el(pg, tr, "td", text ? text : "");
}

xmlNodePtr rdm_rpt_tdnum(rdm_rpt_page *pg, xmlNodePtr tr, int decimals, double v)
{
    char b[64];
    if (isnan(v))
        snprintf(b, sizeof b, "n/a");
    else
        rdm_svg_fixed(v, decimals, b, sizeof b);
    xmlNodePtr td = rdm_rpt_el(pg, tr, "td", b);
    rdm_rpt_attr(pg, td, "class", "num");
    return td;
}

xmlNodePtr rdm_rpt_tdint(rdm_rpt_page *pg, xmlNodePtr tr, long long v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    xmlNodePtr td = rdm_rpt_el(pg, tr, "td", b);
    rdm_rpt_attr(pg, td, "class", "num");
    return td;
}

void rdm_rpt_fmt_time(const char *ts, char *out, size_t n)
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

int rdm_report_bytes_text(const unsigned char *p, size_t n, size_t max, rdm_buf *out)
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

/* ---- writing ---- */

int rdm_report_write_if_changed(const char *path, const void *data, size_t n, int *written,
                                rdm_err *err)
{
    if (written)
        *written = 0;
    /* compare with the page on disk without reading more than it takes */
    int same = 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == n) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            same = 1;
            char chunk[65536];
            for (size_t at = 0; same && at < n;) {
                size_t want = n - at < sizeof chunk ? n - at : sizeof chunk;
                ssize_t got = read(fd, chunk, want);
                if (got < 0 && errno == EINTR)
                    continue;
                if (got <= 0 || memcmp(chunk, (const char *)data + at, (size_t)got) != 0)
                    same = 0;
                else
                    at += (size_t)got;
            }
            if (same) { /* nothing after n bytes either */
                ssize_t extra = read(fd, chunk, 1);
                same = extra == 0;
            }
            close(fd);
        }
    }
    if (same)
        return RDM_OK;
    /* temp file + rename: readers never see a half-written page. No fsync:
     * pages are regenerated from the database at will, and syncing hundreds
     * of pages would dominate the run time. The temporary name is unique per
     * thread as well as per process. */
    static unsigned long seq;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(),
             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return rdm_errf(err, RDM_EIO, "%s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = n;
    int ok = 1;
    while (left && ok) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = 0;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return rdm_errf(err, RDM_EIO, "%s: %s", path, strerror(e));
    }
    if (written)
        *written = 1;
    return RDM_OK;
}

/* One page of the site to build and write. */
typedef struct page_job {
    char name[64];
    const json_t *run; /* run pages */
    int kind;          /* 0 index, 1 compare, 2 data, 3 run */
    char input[65];    /* run pages: sha256 of everything the page shows ("" unknown) */
    char digest[65];   /* sha256 of the page's bytes */
    int written;
    int rc;
    rdm_err err;
} page_job;

/* The manifest kept next to the pages: for each run page, the hash of its
 * inputs when it was built, the hash of its bytes and the file's size and
 * modification time then. A page whose inputs hash the same and whose file
 * is untouched is not built again. */
#define MANIFEST       ".report-manifest"
#define MANIFEST_MAGIC "readmit-report-manifest 1\n"

typedef struct manifest_entry {
    char name[64];
    char input[65];
    char digest[65];
    long long size, mtime_ns;
} manifest_entry;

typedef struct manifest {
    manifest_entry *e;
    size_t n;
} manifest;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const manifest_entry *)a)->name, ((const manifest_entry *)b)->name);
}

/* Best effort: a missing or unreadable manifest is an empty one. */
static void manifest_load(const char *dir, manifest *m)
{
    memset(m, 0, sizeof *m);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST);
    rdm_buf b = RDM_BUF_INIT;
    rdm_err ignore = {0};
    if (rdm_read_file(path, &b, &ignore) ||
        strncmp(b.data, MANIFEST_MAGIC, strlen(MANIFEST_MAGIC))) {
        rdm_buf_release(&b);
        return;
    }
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    m->e = calloc(lines + 1, sizeof *m->e);
    char *save = NULL;
    for (char *l = strtok_r(b.data + strlen(MANIFEST_MAGIC), "\n", &save); m->e && l;
         l = strtok_r(NULL, "\n", &save)) {
        manifest_entry e;
        memset(&e, 0, sizeof e);
        if (sscanf(l, "%63s %64s %64s %lld %lld", e.name, e.input, e.digest, &e.size,
                   &e.mtime_ns) == 5 &&
            strlen(e.input) == 64 && strlen(e.digest) == 64)
            m->e[m->n++] = e;
    }
    if (m->e)
        qsort(m->e, m->n, sizeof *m->e, entry_cmp);
    rdm_buf_release(&b);
}

static const manifest_entry *manifest_find(const manifest *m, const char *name)
{
    manifest_entry key;
    snprintf(key.name, sizeof key.name, "%s", name);
    return m->n ? bsearch(&key, m->e, m->n, sizeof key, entry_cmp) : NULL;
}

static int file_sig(const char *path, long long *size, long long *mtime_ns)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    *size = (long long)sb.st_size;
    *mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    return 0;
}

/* What the page generator is: this executable's bytes and the libraries'
 * versions, so that a new build never keeps a page the old one made. */
static int generator_id(char out[65])
{
    rdm_buf b = RDM_BUF_INIT;
    rdm_err ignore = {0};
    int rc = rdm_read_file("/proc/self/exe", &b, &ignore);
    if (!rc && (rdm_buf_adds(&b, xmlParserVersion) || rdm_buf_adds(&b, jansson_version_str())))
        rc = RDM_ENOMEM;
    if (!rc)
        rdm_sha256_hex(b.data, b.len, out);
    rdm_buf_release(&b);
    return rc;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An unambiguous encoding of a JSON value (type tags, lengths, raw numbers,
 * object keys sorted) for hashing; only reads v, so threads may share it. */
static int encode_json(rdm_buf *b, const json_t *v)
{
    char tag;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = malloc((n + 1) * sizeof *keys);
        if (!keys)
            return RDM_ENOMEM;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (i < n)
                keys[i++] = k;
        }
        qsort(keys, i, sizeof *keys, key_cmp);
        int rc = rdm_buf_addc(b, 'o') || rdm_buf_add(b, &i, sizeof i);
        for (size_t j = 0; !rc && j < i; j++)
            rc = rdm_buf_add(b, keys[j], strlen(keys[j]) + 1) ||
                 encode_json(b, json_object_get(v, keys[j]));
        free(keys);
        return rc ? RDM_ENOMEM : RDM_OK;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (rdm_buf_addc(b, 'a') || rdm_buf_add(b, &n, sizeof n))
            return RDM_ENOMEM;
        for (size_t j = 0; j < n; j++)
            if (encode_json(b, json_array_get(v, j)))
                return RDM_ENOMEM;
        return RDM_OK;
    }
    case JSON_STRING: {
        size_t n = json_string_length(v);
        return rdm_buf_addc(b, 's') || rdm_buf_add(b, &n, sizeof n) ||
                       rdm_buf_add(b, json_string_value(v), n)
                   ? RDM_ENOMEM
                   : RDM_OK;
    }
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        return rdm_buf_addc(b, 'i') || rdm_buf_add(b, &i, sizeof i) ? RDM_ENOMEM : RDM_OK;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        return rdm_buf_addc(b, 'r') || rdm_buf_add(b, &d, sizeof d) ? RDM_ENOMEM : RDM_OK;
    }
    case JSON_TRUE:
        tag = 't';
        break;
    case JSON_FALSE:
        tag = 'f';
        break;
    default:
        tag = 'n';
        break;
    }
    return rdm_buf_addc(b, tag) ? RDM_ENOMEM : RDM_OK;
}

static int hash_json(rdm_buf *b, const json_t *v)
{
    if (!v)
        return rdm_buf_addc(b, '-') ? RDM_ENOMEM : RDM_OK;
    return encode_json(b, v);
}

/* sha256 of everything rdm_report_page_run reads for `run`: the model name,
 * the versions, the run, its curves (stored JSON and decoded points). */
static int run_input(const rdm_report_site *site, const json_t *run, const char *gen, rdm_buf *b,
                     char out[65])
{
    const json_t *j = rdm_report_site_json(site);
    long long rid = rdm_rpt_int(run, "run_id", -1);
    char id[32];
    snprintf(id, sizeof id, "%lld", rid);
    rdm_buf_reset(b);
    if (rdm_buf_add(b, gen, 64) || hash_json(b, json_object_get(j, "model_name")) ||
        hash_json(b, json_object_get(j, "versions")) || hash_json(b, run) ||
        hash_json(b, json_object_get(json_object_get(j, "curves"), id)))
        return RDM_ENOMEM;
    static const char *const SP[] = {"train", "valid", "test"}, *const KI[] = {"roc", "pr"};
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 2; k++) {
            const rdm_rpt_curve *c = rdm_rpt_curve_get(site, rid, SP[s], KI[k]);
            if (rdm_buf_printf(b, "%s %s %d", SP[s], KI[k], c ? c->n : -1) ||
                rdm_buf_addc(b, '\0') ||
                (c && c->n > 0 && rdm_buf_add(b, c->x, 2 * (size_t)c->n * sizeof *c->x)))
                return RDM_ENOMEM;
        }
    rdm_sha256_hex(b->data, b->len, out);
    return RDM_OK;
}

typedef struct site_work {
    const rdm_report_site *site;
    const char *dir;
    const manifest *old;
    const char *gen; /* generator id, NULL: no page is skipped */
    page_job *jobs;
    size_t njobs;
    size_t next; /* next job to take (under lock) */
    int failed;  /* stop taking jobs */
    pthread_mutex_t lock;
} site_work;

static void run_job(site_work *w, page_job *j, rdm_buf *page)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", w->dir, j->name);
    if (j->kind == 3 && w->gen && run_input(w->site, j->run, w->gen, page, j->input))
        j->input[0] = '\0';
    const manifest_entry *e = j->input[0] ? manifest_find(w->old, j->name) : NULL;
    long long size, mtime;
    if (e && !strcmp(e->input, j->input) && file_sig(path, &size, &mtime) == 0 && size == e->size &&
        mtime == e->mtime_ns) {
        memcpy(j->digest, e->digest, sizeof j->digest); /* same inputs, file untouched */
        return;
    }
    rdm_buf_reset(page);
    switch (j->kind) {
    case 0:
        j->rc = rdm_report_page_index(w->site, page, &j->err);
        break;
    case 1:
        j->rc = rdm_report_page_compare(w->site, page, &j->err);
        break;
    case 2:
        j->rc = rdm_report_page_data(w->site, page, &j->err);
        break;
    default:
        j->rc = rdm_report_page_run(w->site, j->run, page, &j->err);
        break;
    }
    if (j->rc)
        return;
    rdm_sha256_hex(page->data, page->len, j->digest);
    j->rc = rdm_report_write_if_changed(path, page->data, page->len, &j->written, &j->err);
}

static void *worker(void *arg)
{
    site_work *w = arg;
    rdm_buf page = RDM_BUF_INIT;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        size_t k = w->failed ? w->njobs : w->next++;
        pthread_mutex_unlock(&w->lock);
        if (k >= w->njobs)
            break;
        run_job(w, &w->jobs[k], &page);
        if (w->jobs[k].rc) {
            pthread_mutex_lock(&w->lock);
            w->failed = 1;
            pthread_mutex_unlock(&w->lock);
        }
    }
    rdm_buf_release(&page);
    return NULL;
}

/* Pages are built on this many threads: each page is its own libxml2
 * document and the site is only read, so they are independent. */
#define SITE_THREADS 2

int rdm_report_write_site(const rdm_report_site *site, const char *dir, rdm_report_stats *st,
                          rdm_err *err)
{
    rdm_report_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    char runs_dir[4096];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", dir);
    int rc = rdm_mkdirs(runs_dir, err);
    if (rc)
        return rc;
    const json_t *runs = json_object_get(rdm_report_site_json(site), "runs");
    size_t nruns = json_is_array(runs) ? json_array_size(runs) : 0;
    site_work w;
    memset(&w, 0, sizeof w);
    w.site = site;
    w.dir = dir;
    w.njobs = 3 + nruns;
    w.jobs = calloc(w.njobs, sizeof *w.jobs);
    if (!w.jobs)
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    static const char *const TOP[] = {"index.html", "compare.html", "data.html"};
    for (int k = 0; k < 3; k++) {
        snprintf(w.jobs[k].name, sizeof w.jobs[k].name, "%s", TOP[k]);
        w.jobs[k].kind = k;
    }
    manifest old;
    manifest_load(dir, &old);
    w.old = &old;
    char gen[65];
    int have_gen = generator_id(gen) == RDM_OK;
    for (size_t i = 0; i < nruns; i++) {
        page_job *j = &w.jobs[3 + i];
        j->run = json_array_get(runs, i);
        j->kind = 3;
        snprintf(j->name, sizeof j->name, "runs/%lld.html", rdm_rpt_int(j->run, "run_id", 0));
    }
    w.gen = have_gen ? gen : NULL;
    xmlInitParser();
    pthread_mutex_init(&w.lock, NULL);
    pthread_t th[SITE_THREADS - 1];
    int started = 0;
    for (int t = 0; t < SITE_THREADS - 1 && w.njobs > 8; t++)
        if (pthread_create(&th[t], NULL, worker, &w) == 0)
            started++;
    worker(&w); /* this thread works too; alone if no thread could start */
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&w.lock);

    free(old.e);
    rdm_sha256 *h = rdm_sha256_new();
    if (!h) {
        free(w.jobs);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    rdm_buf man = RDM_BUF_INIT;
    int man_ok = rdm_buf_adds(&man, MANIFEST_MAGIC) == RDM_OK;
    for (size_t k = 0; k < w.njobs; k++) {
        page_job *j = &w.jobs[k];
        if (j->rc) { /* the first failure in page order */
            if (!rc) {
                rc = j->rc;
                if (err)
                    *err = j->err;
            }
            continue;
        }
        if (!j->digest[0])
            continue; /* not built: a page before it failed */
        rdm_sha256_update(h, j->name, strlen(j->name) + 1);
        rdm_sha256_update(h, j->digest, 64);
        st->pages++;
        st->written += j->written;
        char path[4096];
        long long size, mtime;
        snprintf(path, sizeof path, "%s/%s", dir, j->name);
        if (man_ok && j->input[0] && file_sig(path, &size, &mtime) == 0)
            man_ok = rdm_buf_printf(&man, "%s %s %s %lld %lld\n", j->name, j->input, j->digest,
                                    size, mtime) == RDM_OK;
    }
    rdm_sha256_final(h, st->fingerprint);
    free(w.jobs);
    if (!rc && man_ok) { /* best effort: without it the next run builds every page */
        char path[4096];
        rdm_err ignore = {0};
        snprintf(path, sizeof path, "%s/%s", dir, MANIFEST);
        if (rdm_report_write_if_changed(path, man.data, man.len, NULL, &ignore))
            rdm_log(RDM_LOG_WARN, "report manifest not written: %s", ignore.msg);
    }
    rdm_buf_release(&man);
    return rc;
}

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
