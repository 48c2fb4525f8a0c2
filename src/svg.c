/* svg.c - the reports' plotting code: line and bar charts as libxml2 SVG nodes. */
#include "svg.h"

#include <libxml/xmlsave.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SVG_NS    "http://www.w3.org/2000/svg"
#define MAX_TICKS 24
#define CHAR_W    6.2 /* approximate width of a character at font-size 11 */

static const char *const PALETTE[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define NPALETTE (sizeof PALETTE / sizeof PALETTE[0])

/* Dash patterns of rdm_svg_series.dashed: 1 the reference dash, 2.. these. */
static const char *const DASHES[] = {"8 3", "2 2", "8 3 2 3", "12 4", "1 3", "6 2 2 2", "4 1"};
#define NDASHES (sizeof DASHES / sizeof DASHES[0])

static const char *dash_of(int dashed)
{
    if (dashed <= 0)
        return NULL;
    return dashed == 1 ? "4 3" : DASHES[(size_t)(dashed - 2) % NDASHES];
}

/* Builder state: any libxml2 allocation failure sets oom, checked once at the end. */
typedef struct plot {
    xmlNodePtr svg;
    int oom;
    double w, h;           /* canvas */
    double ml, mr, mt, mb; /* margins */
    double x0, x1, y0, y1; /* data bounds of the axes */
} plot;

void rdm_svg_fmt(double v, char *out, size_t n)
{
    if (!out || n == 0)
        return;
    if (isnan(v)) {
        snprintf(out, n, "n/a");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, v > 0 ? "inf" : "-inf");
        return;
    }
    double a = fabs(v);
    if (a < 1e-12) {
        snprintf(out, n, "0");
        return;
    }
    if (a >= 1e9)
        snprintf(out, n, "%.3gG", v / 1e9);
    else if (a >= 1e6)
        snprintf(out, n, "%.3gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(out, n, "%.3gk", v / 1e3);
    else if (a >= 1)
        snprintf(out, n, "%.4g", v);
    else if (a >= 1e-3)
        snprintf(out, n, "%.3g", v);
    else
        snprintf(out, n, "%.2g", v);
}

size_t rdm_svg_fixed(double v, int decimals, char *out, size_t n)
{
    static const double P10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (!out || n == 0)
        return 0;
    if (decimals < 0 || decimals > 9)
        decimals = decimals < 0 ? 0 : 9;
    /* s = |v| * 10^d carries at most one rounding error (10^d is exact), below
     * 2^31 * 2^-53 < 2.4e-7 in absolute terms, so a fraction further than 1e-6
     * from one half rounds exactly as printf rounds the exact binary value. */
    double a = fabs(v), s = a * P10[decimals];
    double f = floor(s), frac = s - f;
    if (!(s < 2147483648.0) || fabs(frac - 0.5) < 1e-6 || n < 32) {
        int k = snprintf(out, n, "%.*f", decimals, v);
        return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
    }
    unsigned long q = (unsigned long)f + (frac > 0.5);
    char dig[24];
    int nd = 0;
    do {
        dig[nd++] = (char)('0' + q % 10);
        q /= 10;
    } while (q);
    while (nd <= decimals) /* at least one digit before the point */
        dig[nd++] = '0';
    size_t len = 0;
    if (signbit(v))
        out[len++] = '-'; /* printf keeps the sign of -0.0 and of tiny negatives */
    while (nd > decimals)
        out[len++] = dig[--nd];
    if (decimals) {
        out[len++] = '.';
        while (nd > 0)
            out[len++] = dig[--nd];
    }
    out[len] = '\0';
    return len;
}

/* Round x to 1, 2, 5 (or 10) times a power of ten; `round` picks the nearest,
 * else the next one up (Heckbert, "Nice numbers for graph labels"). */
static double nice_num(double x, int round)
{
    double e = floor(log10(x));
    double p = pow(10, e);
    double f = x / p, nf;
    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * p;
}

int rdm_svg_nice_ticks(double lo, double hi, int target, double *out, int max, double *step)
{
    if (max <= 0 || !out)
        return 0;
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo < 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    if (target < 2)
        target = 2;
    double range = nice_num(hi - lo, 0);
    double d = nice_num(range / (target - 1), 1);
    double first = floor(lo / d + 1e-9) * d;
    double last = ceil(hi / d - 1e-9) * d;
    int count = (int)floor((last - first) / d + 0.5) + 1;
    int n = 0;
    for (; n < count && n < max; n++) {
        double v = first + n * d; /* multiply, never accumulate rounding error */
        out[n] = fabs(v) < d * 1e-9 ? 0 : v;
    }
    if (step)
        *step = d;
    return n;
}

/* ---- node helpers ---- */

static xmlNodePtr el(plot *p, xmlNodePtr parent, const char *tag)
{
    xmlNodePtr n =
        parent ? xmlNewChild(parent, NULL, BAD_CAST tag, NULL) : xmlNewNode(NULL, BAD_CAST tag);
    if (!n)
        p->oom = 1;
    return n;
}

static xmlNodePtr text_el(plot *p, xmlNodePtr parent, const char *tag, const char *text)
{
    if (!parent)
        return NULL;
    xmlNodePtr n = xmlNewTextChild(parent, NULL, BAD_CAST tag, BAD_CAST(text ? text : ""));
    if (!n)
        p->oom = 1;
    return n;
}

static void attr(plot *p, xmlNodePtr n, const char *k, const char *v)
{
    if (n && !xmlSetProp(n, BAD_CAST k, BAD_CAST v))
        p->oom = 1;
}

static void attrf(plot *p, xmlNodePtr n, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void attrf(plot *p, xmlNodePtr n, const char *k, const char *fmt, ...)
{
    char v[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    attr(p, n, k, v);
}

/* Numeric attribute with `decimals` digits, as "%.*f" would write it. */
static void attr_num(plot *p, xmlNodePtr n, const char *k, double v, int decimals)
{
    char b[64];
    rdm_svg_fixed(v, decimals, b, sizeof b);
    attr(p, n, k, b);
}

static double px(const plot *p, double x)
{
    double t = (x - p->x0) / (p->x1 - p->x0);
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    return p->ml + t * (p->w - p->ml - p->mr);
}

static double py(const plot *p, double y)
{
    double t = (y - p->y0) / (p->y1 - p->y0);
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    return p->h - p->mb - t * (p->h - p->mt - p->mb);
}

static void line(plot *p, xmlNodePtr g, double xa, double ya, double xb, double yb)
{
    xmlNodePtr l = el(p, g, "line");
    attr_num(p, l, "x1", xa, 1);
    attr_num(p, l, "y1", ya, 1);
    attr_num(p, l, "x2", xb, 1);
    attr_num(p, l, "y2", yb, 1);
}

static xmlNodePtr text_at(plot *p, xmlNodePtr g, double x, double y, const char *anchor,
                          const char *s)
{
    xmlNodePtr t = text_el(p, g, "text", s);
    attr_num(p, t, "x", x, 1);
    attr_num(p, t, "y", y, 1);
    if (anchor)
        attr(p, t, "text-anchor", anchor);
    return t;
}

/* Shorten a label to at most `max` characters (UTF-8 aware: never cuts a
 * multi-byte sequence), adding "..." when cut. */
static void clip_label(const char *s, size_t max, char *out, size_t n)
{
    size_t len = strlen(s ? s : "");
    if (len <= max && len < n) {
        memcpy(out, s ? s : "", len + 1);
        return;
    }
    size_t cut = max > 3 ? max - 3 : max;
    if (cut > n - 4)
        cut = n - 4;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(out, s, cut);
    memcpy(out + cut, "...", 4);
}

static void start(plot *p, const rdm_svg_chart *c)
{
    p->oom = 0;
    p->w = c->width > 0 ? c->width : 480;
    p->h = c->height > 0 ? c->height : 320;
    p->svg = el(p, NULL, "svg");
    attr(p, p->svg, "xmlns", SVG_NS);
    attr_num(p, p->svg, "width", p->w, 0);
    attr_num(p, p->svg, "height", p->h, 0);
    attrf(p, p->svg, "viewBox", "0 0 %.0f %.0f", p->w, p->h);
    attr(p, p->svg, "role", "img");
    attr(p, p->svg, "class", "chart");
    attr(p, p->svg, "font-family", "sans-serif");
    attr(p, p->svg, "font-size", "11");
    if (c->title) {
        attr(p, p->svg, "aria-label", c->title);
        text_el(p, p->svg, "title", c->title);
    }
    xmlNodePtr bg = el(p, p->svg, "rect");
    attr(p, bg, "width", "100%");
    attr(p, bg, "height", "100%");
    attr(p, bg, "fill", "#ffffff");
    if (c->title) {
        xmlNodePtr t = text_at(p, p->svg, p->w / 2, 16, "middle", c->title);
        attr(p, t, "font-size", "13");
        attr(p, t, "font-weight", "bold");
    }
}

/* Axis with ticks: which = 'x' or 'y'; labels (may be NULL) replace numbers. */
static void axis(plot *p, char which, const double *ticks, int nt, const char *label)
{
    xmlNodePtr g = el(p, p->svg, "g");
    attr(p, g, "class", which == 'x' ? "xaxis" : "yaxis");
    attr(p, g, "stroke", "#dddddd");
    xmlNodePtr tg = el(p, p->svg, "g");
    attr(p, tg, "fill", "#333333");
    char buf[32];
    for (int i = 0; i < nt; i++) {
        rdm_svg_fmt(ticks[i], buf, sizeof buf);
        if (which == 'x') {
            double x = px(p, ticks[i]);
            line(p, g, x, p->mt, x, p->h - p->mb);
            text_at(p, tg, x, p->h - p->mb + 14, "middle", buf);
        } else {
            double y = py(p, ticks[i]);
            line(p, g, p->ml, y, p->w - p->mr, y);
            text_at(p, tg, p->ml - 4, y + 4, "end", buf);
        }
    }
    xmlNodePtr frame = el(p, p->svg, "g");
    attr(p, frame, "stroke", "#555555");
    if (which == 'x') {
        line(p, frame, p->ml, p->h - p->mb, p->w - p->mr, p->h - p->mb);
        if (label)
            text_at(p, tg, p->ml + (p->w - p->ml - p->mr) / 2, p->h - p->mb + 32, "middle", label);
    } else {
        line(p, frame, p->ml, p->mt, p->ml, p->h - p->mb);
        if (label) {
            double cx = 14, cy = p->mt + (p->h - p->mt - p->mb) / 2;
            xmlNodePtr t = text_at(p, tg, cx, cy, "middle", label);
            attrf(p, t, "transform", "rotate(-90 %.1f %.1f)", cx, cy);
        }
    }
}

/* Axis bounds: given (lo < hi) or from data, extended to nice ticks. */
static int bounds(double lo, double hi, double dlo, double dhi, double *ticks, double *b0,
                  double *b1)
{
    int given = lo < hi;
    if (!given) {
        lo = dlo;
        hi = dhi;
    }
    int nt = rdm_svg_nice_ticks(lo, hi, 6, ticks, MAX_TICKS, NULL);
    if (given) {
        /* keep the given bounds; drop ticks outside them */
        int k = 0;
        for (int i = 0; i < nt; i++)
            if (ticks[i] >= lo - 1e-9 * (hi - lo) && ticks[i] <= hi + 1e-9 * (hi - lo))
                ticks[k++] = ticks[i];
        nt = k;
        *b0 = lo;
        *b1 = hi;
    } else {
        *b0 = ticks[0];
        *b1 = ticks[nt - 1];
    }
    return nt;
}

static xmlNodePtr finish(plot *p, rdm_err *err)
{
    if (p->oom) {
        xmlFreeNode(p->svg);
        rdm_errf(err, RDM_ENOMEM, "svg: out of memory");
        return NULL;
    }
    return p->svg;
}

static void legend(plot *p, const char *const *names, const int *dashed, int n)
{
    int rows = 0;
    size_t longest = 0;
    for (int i = 0; i < n; i++) {
        if (!names[i])
            continue;
        rows++;
        size_t l = strlen(names[i]);
        if (l > 40)
            l = 40;
        if (l > longest)
            longest = l;
    }
    if (!rows)
        return;
    double bw = 30 + CHAR_W * (double)longest, bh = 6 + 15.0 * rows;
    double bx = p->w - p->mr - bw - 6, by = p->h - p->mb - bh - 6;
    xmlNodePtr g = el(p, p->svg, "g");
    attr(p, g, "class", "legend");
    xmlNodePtr r = el(p, g, "rect");
    attr_num(p, r, "x", bx, 1);
    attr_num(p, r, "y", by, 1);
    attr_num(p, r, "width", bw, 1);
    attr_num(p, r, "height", bh, 1);
    attr(p, r, "fill", "#ffffff");
    attr(p, r, "fill-opacity", "0.85");
    attr(p, r, "stroke", "#bbbbbb");
    int row = 0;
    for (int i = 0; i < n; i++) {
        if (!names[i])
            continue;
        double y = by + 13 + 15.0 * row++;
        xmlNodePtr l = el(p, g, "line");
        attr_num(p, l, "x1", bx + 5, 1);
        attr_num(p, l, "y1", y - 4, 1);
        attr_num(p, l, "x2", bx + 23, 1);
        attr_num(p, l, "y2", y - 4, 1);
        attr(p, l, "stroke", dashed[i] < 0 ? "#888888" : PALETTE[i % NPALETTE]);
        attr(p, l, "stroke-width", "2");
        if (dash_of(dashed[i]))
            attr(p, l, "stroke-dasharray", dash_of(dashed[i]));
        char lab[48];
        clip_label(names[i], 40, lab, sizeof lab);
        text_at(p, g, bx + 27, y, NULL, lab);
    }
}

/* Append " M12.34 56.78" (no leading space on an empty path) to a path's d. */
static int path_point(rdm_buf *d, char cmd, double x, double y)
{
    char t[160];
    size_t k = 0;
    if (d->len)
        t[k++] = ' ';
    t[k++] = cmd;
    k += rdm_svg_fixed(x, 2, t + k, 64);
    t[k++] = ' ';
    k += rdm_svg_fixed(y, 2, t + k, 64);
    return rdm_buf_add(d, t, k);
}

xmlNodePtr rdm_svg_line_chart(const rdm_svg_chart *c, const rdm_svg_series *s, int ns, rdm_err *err)
{
    if (!c || !s || ns <= 0)
        return rdm_errf(err, RDM_EINVAL, "svg: line chart needs at least one series"), NULL;
    double dx0 = INFINITY, dx1 = -INFINITY, dy0 = INFINITY, dy1 = -INFINITY;
    for (int k = 0; k < ns; k++) {
        if (s[k].n < 0 || (s[k].n > 0 && (!s[k].x || !s[k].y)))
            return rdm_errf(err, RDM_EINVAL, "svg: series %d has no data arrays", k), NULL;
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
                continue;
            dx0 = fmin(dx0, s[k].x[i]);
            dx1 = fmax(dx1, s[k].x[i]);
            dy0 = fmin(dy0, s[k].y[i]);
            dy1 = fmax(dy1, s[k].y[i]);
        }
    }
    if (dx0 > dx1) {
        dx0 = dy0 = 0;
        dx1 = dy1 = 1;
    }
    plot p;
    memset(&p, 0, sizeof p);
    start(&p, c);
    p.ml = 58;
    p.mr = 14;
    p.mt = c->title ? 28 : 10;
    p.mb = 44;
    double xt[MAX_TICKS], yt[MAX_TICKS];
    int nx = bounds(c->xmin, c->xmax, dx0, dx1, xt, &p.x0, &p.x1);
    int ny = bounds(c->ymin, c->ymax, dy0, dy1, yt, &p.y0, &p.y1);
    axis(&p, 'x', xt, nx, c->xlabel);
    axis(&p, 'y', yt, ny, c->ylabel);
    if (c->diagonal) {
        double lo = fmax(p.x0, p.y0), hi = fmin(p.x1, p.y1);
        if (lo < hi) {
            xmlNodePtr g = el(&p, p.svg, "g");
            attr(&p, g, "class", "reference");
            attr(&p, g, "stroke", "#888888");
            attr(&p, g, "stroke-dasharray", "4 3");
            line(&p, g, px(&p, lo), py(&p, lo), px(&p, hi), py(&p, hi));
        }
    }
    rdm_buf d = RDM_BUF_INIT;
    for (int k = 0; k < ns && !p.oom; k++) {
        const char *color = PALETTE[k % NPALETTE];
        rdm_buf_reset(&d);
        int pen = 0, npts = 0;
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i])) {
                pen = 0;
                continue;
            }
            if (path_point(&d, pen ? 'L' : 'M', px(&p, s[k].x[i]), py(&p, s[k].y[i])))
                p.oom = 1;
            pen = 1;
            npts++;
        }
        if (!npts)
            continue;
        if (s[k].markers != 2) { /* 2: a scatter, no line */
            xmlNodePtr path = el(&p, p.svg, "path");
            attr(&p, path, "class", "series");
            attr(&p, path, "d", d.data);
            attr(&p, path, "fill", "none");
            attr(&p, path, "stroke", color);
            attr(&p, path, "stroke-width", s[k].dashed == 1 ? "1.5" : "2");
            if (dash_of(s[k].dashed))
                attr(&p, path, "stroke-dasharray", dash_of(s[k].dashed));
            if (s[k].name)
                text_el(&p, path, "title", s[k].name);
        }
        if (s[k].markers) {
            xmlNodePtr g = el(&p, p.svg, "g");
            attr(&p, g, "fill", color);
            if (s[k].markers == 2)
                attr(&p, g, "fill-opacity", "0.45");
            for (int i = 0; i < s[k].n; i++) {
                if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
                    continue;
                xmlNodePtr ci = el(&p, g, "circle");
                attr_num(&p, ci, "cx", px(&p, s[k].x[i]), 2);
                attr_num(&p, ci, "cy", py(&p, s[k].y[i]), 2);
                attr(&p, ci, "r", s[k].markers == 2 ? "2" : "3");
            }
        }
    }
    rdm_buf_release(&d);
    const char *names[NPALETTE * 4];
    int dashed[NPALETTE * 4];
    int nl = ns < (int)(NPALETTE * 4) ? ns : (int)(NPALETTE * 4);
    for (int k = 0; k < nl; k++) {
        names[k] = s[k].name;
        dashed[k] = s[k].dashed;
    }
    legend(&p, names, dashed, nl);
    return finish(&p, err);
}

xmlNodePtr rdm_svg_bar_chart(const rdm_svg_chart *c, const char *const *labels,
                             const double *values, int n, rdm_err *err)
{
    if (!c || n < 0 || (n > 0 && (!labels || !values)))
        return rdm_errf(err, RDM_EINVAL, "svg: bar chart needs labels and values"), NULL;
    double v0 = 0, v1 = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(values[i]))
            continue;
        v0 = fmin(v0, values[i]);
        v1 = fmax(v1, values[i]);
    }
    if (v1 <= v0)
        v1 = v0 + 1;
    plot p;
    memset(&p, 0, sizeof p);
    start(&p, c);
    double vt[MAX_TICKS];
    p.mt = c->title ? 28 : 10;
    if (c->horizontal) {
        size_t longest = 0;
        for (int i = 0; i < n; i++) {
            size_t l = strlen(labels[i] ? labels[i] : "");
            longest = l > longest ? l : longest;
        }
        if (longest > 28)
            longest = 28;
        p.ml = 12 + CHAR_W * (double)longest;
        if (p.ml < 40)
            p.ml = 40;
        p.mr = 16;
        p.mb = 44;
        if (c->height <= 0)
            p.h = p.mt + p.mb + 18.0 * (n > 0 ? n : 1);
        attr_num(&p, p.svg, "height", p.h, 0);
        attrf(&p, p.svg, "viewBox", "0 0 %.0f %.0f", p.w, p.h);
        int nt = bounds(c->xmin, c->xmax, v0, v1, vt, &p.x0, &p.x1);
        p.y0 = 0;
        p.y1 = n > 0 ? n : 1;
        axis(&p, 'x', vt, nt, c->xlabel);
        xmlNodePtr frame = el(&p, p.svg, "g");
        attr(&p, frame, "stroke", "#555555");
        line(&p, frame, px(&p, 0), p.mt, px(&p, 0), p.h - p.mb);
    } else {
        p.ml = 58;
        p.mr = 14;
        p.mb = 44;
        int nt = bounds(c->ymin, c->ymax, v0, v1, vt, &p.y0, &p.y1);
        p.x0 = 0;
        p.x1 = n > 0 ? n : 1;
        axis(&p, 'y', vt, nt, c->ylabel);
        xmlNodePtr frame = el(&p, p.svg, "g");
        attr(&p, frame, "stroke", "#555555");
        line(&p, frame, p.ml, py(&p, 0), p.w - p.mr, py(&p, 0));
    }
    xmlNodePtr bars = el(&p, p.svg, "g");
    attr(&p, bars, "class", "bars");
    attr(&p, bars, "fill", PALETTE[0]);
    xmlNodePtr labs = el(&p, p.svg, "g");
    attr(&p, labs, "fill", "#333333");
    double band = c->horizontal ? (p.h - p.mt - p.mb) / (n > 0 ? n : 1)
                                : (p.w - p.ml - p.mr) / (n > 0 ? n : 1);
    /* vertical labels: show every `every`-th so they do not overlap */
    int every = 1;
    size_t maxlab = 10;
    if (!c->horizontal && n > 0) {
        while (band * every < CHAR_W * 4 + 4)
            every++;
        maxlab = (size_t)((band * every - 4) / CHAR_W);
        if (maxlab < 4)
            maxlab = 4;
    }
    char lab[64], num[32], tip[160];
    for (int i = 0; i < n && !p.oom; i++) {
        double v = isfinite(values[i]) ? values[i] : 0;
        xmlNodePtr r = el(&p, bars, "rect");
        if (c->horizontal) {
            double xa = px(&p, fmin(0, v)), xb = px(&p, fmax(0, v));
            double y = p.mt + band * i + band * 0.1;
            attr_num(&p, r, "x", xa, 2);
            attr_num(&p, r, "y", y, 2);
            attr_num(&p, r, "width", xb - xa, 2);
            attr_num(&p, r, "height", band * 0.8, 2);
            clip_label(labels[i], 28, lab, sizeof lab);
            text_at(&p, labs, p.ml - 4, y + band * 0.4 + 4, "end", lab);
        } else {
            double ya = py(&p, fmax(0, v)), yb = py(&p, fmin(0, v));
            double x = p.ml + band * i + band * 0.1;
            attr_num(&p, r, "x", x, 2);
            attr_num(&p, r, "y", ya, 2);
            attr_num(&p, r, "width", band * 0.8, 2);
            attr_num(&p, r, "height", yb - ya, 2);
            if (i % every == 0) {
                clip_label(labels[i], maxlab < 60 ? maxlab : 60, lab, sizeof lab);
                text_at(&p, labs, x + band * 0.4, p.h - p.mb + 14, "middle", lab);
            }
        }
        rdm_svg_fmt(values[i], num, sizeof num);
        snprintf(tip, sizeof tip, "%.100s: %s", labels[i] ? labels[i] : "", num);
        text_el(&p, r, "title", tip);
    }
    if (!c->horizontal && c->xlabel)
        text_at(&p, labs, p.ml + (p.w - p.ml - p.mr) / 2, p.h - p.mb + 32, "middle", c->xlabel);
    return finish(&p, err);
}

int rdm_svg_to_xml(xmlNodePtr svg, rdm_buf *out, rdm_err *err)
{
    if (!svg || !out)
        return rdm_errf(err, RDM_EINVAL, "svg: nothing to serialise");
    xmlBufferPtr xb = xmlBufferCreate();
    if (!xb)
        return rdm_errf(err, RDM_ENOMEM, "svg: out of memory");
    int rc = RDM_OK;
    if (xmlNodeDump(xb, svg->doc, svg, 0, 0) < 0)
        rc = rdm_errf(err, RDM_EIO, "svg: cannot serialise the chart");
    else if (rdm_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") ||
             rdm_buf_add(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb)) ||
             rdm_buf_addc(out, '\n'))
        rc = rdm_errf(err, RDM_ENOMEM, "svg: out of memory");
    xmlBufferFree(xb);
    return rc;
}
