/* test_svg.c - plotting: nice ticks, number format, scaling, well-formed and escaped SVG. */
#include <CUnit/CUnit.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

int test_svg_register(void);

static void check_ticks(double lo, double hi, int target, const double *want, int nwant,
                        double want_step)
{
    double t[32], step = 0;
    int n = rdm_svg_nice_ticks(lo, hi, target, t, 32, &step);
    CU_ASSERT_EQUAL(n, nwant);
    CU_ASSERT_DOUBLE_EQUAL(step, want_step, 1e-12);
    for (int i = 0; i < n && i < nwant; i++)
        CU_ASSERT_DOUBLE_EQUAL(t[i], want[i], 1e-12);
}

static void test_ticks(void)
{
    static const double unit[] = {0, 0.2, 0.4, 0.6, 0.8, 1};
    check_ticks(0, 1, 6, unit, 6, 0.2);
    /* range 37 -> nice 50, step 50/4 = 12.5 -> 10; 0..40 */
    static const double t37[] = {0, 10, 20, 30, 40};
    check_ticks(0, 37, 5, t37, 5, 10);
    /* range 10, step 2, extended outwards to -4 and 8 */
    static const double neg[] = {-4, -2, 0, 2, 4, 6, 8};
    check_ticks(-3, 7, 6, neg, 7, 2);
    /* reversed bounds are swapped */
    check_ticks(1, 0, 6, unit, 6, 0.2);
    /* a single value is widened to [4.5, 5.5]: step 0.2 from 4.4 to 5.6 */
    static const double one[] = {4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6};
    check_ticks(5, 5, 6, one, 7, 0.2);
    /* small fractions: 0.1127 .. 0.25 -> range 0.2, step 0.05 */
    static const double pr[] = {0.1, 0.15, 0.2, 0.25};
    check_ticks(0.1127, 0.25, 4, pr, 4, 0.05);
    /* output is capped at max */
    double t[3];
    CU_ASSERT_EQUAL(rdm_svg_nice_ticks(0, 1, 6, t, 3, NULL), 3);
    CU_ASSERT_EQUAL(rdm_svg_nice_ticks(0, 1, 6, t, 0, NULL), 0);
}

static void check_fmt(double v, const char *want)
{
    char b[32];
    rdm_svg_fmt(v, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, want);
}

static void test_fmt(void)
{
    check_fmt(0, "0");
    check_fmt(-0.0, "0");
    check_fmt(0.2, "0.2");
    check_fmt(0.68123, "0.681");
    check_fmt(-0.5, "-0.5");
    check_fmt(1234, "1234");
    check_fmt(12.345, "12.35");
    check_fmt(15000, "15k");
    check_fmt(69068, "69.1k");
    check_fmt(1234567, "1.23M");
    check_fmt(2.5e9, "2.5G");
    check_fmt(0.00001, "1e-05");
    check_fmt(NAN, "n/a");
    char small[4];
    rdm_svg_fmt(1234567, small, sizeof small);
    CU_ASSERT_EQUAL(strlen(small), 3);
}

/* Serialise, parse strictly as XML; returns the doc (caller frees) or NULL. */
static xmlDocPtr roundtrip(xmlNodePtr svg, rdm_buf *out)
{
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_svg_to_xml(svg, out, &err), RDM_OK);
    xmlDocPtr d = xmlReadMemory(out->data, (int)out->len, "chart.svg", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    CU_ASSERT_PTR_NOT_NULL(d);
    return d;
}

static xmlXPathObjectPtr xp(xmlDocPtr d, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(d);
    xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    xmlXPathFreeContext(ctx);
    return o;
}

static int xp_count(xmlDocPtr d, const char *expr)
{
    xmlXPathObjectPtr o = xp(d, expr);
    int n = o && o->nodesetval ? o->nodesetval->nodeNr : -1;
    xmlXPathFreeObject(o);
    return n;
}

static char *xp_string(xmlDocPtr d, const char *expr)
{
    xmlXPathObjectPtr o = xp(d, expr);
    xmlChar *s = o ? xmlXPathCastToString(o) : NULL;
    xmlXPathFreeObject(o);
    char *r = s ? strdup((const char *)s) : NULL;
    xmlFree(s);
    return r;
}

static void test_line_chart(void)
{
    static const double fx[] = {0, 0.25, 1}, fy[] = {0, 0.5, 1};
    static const double nx[] = {0, 1}, ny[] = {0, 1};
    rdm_svg_series s[2] = {{"model", fx, fy, 3, 0, 0}, {"no skill", nx, ny, 2, 1, 0}};
    rdm_svg_chart c = {"ROC", "false positive rate", "true positive rate", 0, 0, 0, 1, 0, 1, 1, 0};
    rdm_err err = {0};
    xmlNodePtr svg = rdm_svg_line_chart(&c, s, 2, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    rdm_buf out = RDM_BUF_INIT;
    xmlDocPtr d = roundtrip(svg, &out);
    if (d) {
        CU_ASSERT_EQUAL(xp_count(d, "/s:svg"), 1);
        CU_ASSERT_EQUAL(xp_count(d, "//s:path[@class='series']"), 2);
        /* default 480x320, margins left 58, right 14, top 28 (title), bottom 44:
         * (0,0) -> (58, 276); (0.25,0.5) -> (58 + 0.25*408, 276 - 0.5*248) = (160, 152);
         * (1,1) -> (466, 28) */
        char *dd = xp_string(d, "string((//s:path[@class='series'])[1]/@d)");
        CU_ASSERT_STRING_EQUAL(dd, "M58.00 276.00 L160.00 152.00 L466.00 28.00");
        free(dd);
        /* six ticks per axis: 0, 0.2 .. 1 */
        CU_ASSERT_EQUAL(xp_count(d, "//s:g[@class='xaxis']/s:line"), 6);
        CU_ASSERT_EQUAL(xp_count(d, "//s:g[@class='yaxis']/s:line"), 6);
        CU_ASSERT_EQUAL(xp_count(d, "//s:g[@class='reference']/s:line"), 1);
        CU_ASSERT_EQUAL(xp_count(d, "//s:text[.='0.6']"), 2);
        CU_ASSERT_EQUAL(xp_count(d, "//s:g[@class='legend']/s:text"), 2);
        CU_ASSERT_EQUAL(xp_count(d, "//s:path[@stroke-dasharray]"), 1);
        xmlFreeDoc(d);
    }
    rdm_buf_release(&out);
    xmlFreeNode(svg);

    /* a NaN breaks the line into two pieces; autoscaled axes */
    static const double gx[] = {1, 2, NAN, 3, 4}, gy[] = {10, 20, 30, 25, 37};
    rdm_svg_series g = {"gap", gx, gy, 5, 0, 1};
    rdm_svg_chart c2 = {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0};
    svg = rdm_svg_line_chart(&c2, &g, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    d = roundtrip(svg, &out);
    if (d) {
        char *dd = xp_string(d, "string(//s:path/@d)");
        CU_ASSERT_EQUAL(strchr(dd, 'M') != strrchr(dd, 'M'), 1); /* two M commands */
        free(dd);
        CU_ASSERT_EQUAL(xp_count(d, "//s:circle"), 4);
        /* y data 10..37: range 27 -> nice 50, step 10: ticks 10 .. 40 */
        CU_ASSERT_EQUAL(xp_count(d, "//s:g[@class='yaxis']/s:line"), 4);
        xmlFreeDoc(d);
    }
    rdm_buf_release(&out);
    xmlFreeNode(svg);

    /* a scatter (markers 2): dots, no line; beside a line series */
    static const double sx[] = {1, 2, 3}, sy[] = {0.5, -0.5, 1};
    rdm_svg_series sc[2] = {{"points", sx, sy, 3, 0, 2}, {"mean", sx, sy, 3, 0, 0}};
    svg = rdm_svg_line_chart(&c2, sc, 2, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    d = roundtrip(svg, &out);
    if (d) {
        CU_ASSERT_EQUAL(xp_count(d, "//s:path[@class='series']"), 1);
        CU_ASSERT_EQUAL(xp_count(d, "//s:g[@fill-opacity]/s:circle"), 3);
        xmlFreeDoc(d);
    }
    rdm_buf_release(&out);
    xmlFreeNode(svg);

    rdm_err e2 = {0};
    CU_ASSERT_PTR_NULL(rdm_svg_line_chart(&c, s, 0, &e2));
    CU_ASSERT_EQUAL(e2.code, RDM_EINVAL);
}

static void test_escaping(void)
{
    static const char *evil = "<script>alert(1)</script>";
    static const char *evil2 = "\"><img src=x onerror=alert(1)>";
    static const double x[] = {0, 1}, y[] = {0, 1};
    rdm_svg_series s = {evil2, x, y, 2, 0, 0};
    rdm_svg_chart c = {evil, evil2, "a & b", 0, 0, 0, 0, 0, 0, 0, 0};
    rdm_err err = {0};
    xmlNodePtr svg = rdm_svg_line_chart(&c, &s, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    rdm_buf out = RDM_BUF_INIT;
    xmlDocPtr d = roundtrip(svg, &out);
    CU_ASSERT_PTR_NULL(strstr(out.data, "<script"));
    CU_ASSERT_PTR_NULL(strstr(out.data, "<img"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "&lt;script&gt;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "a &amp; b"));
    if (d) {
        CU_ASSERT_EQUAL(xp_count(d, "//s:script"), 0);
        CU_ASSERT_EQUAL(xp_count(d, "//s:img"), 0);
        char *t = xp_string(d, "string(/s:svg/s:title)");
        CU_ASSERT_STRING_EQUAL(t, evil);
        free(t);
        char *a = xp_string(d, "string(/s:svg/@aria-label)");
        CU_ASSERT_STRING_EQUAL(a, evil);
        free(a);
        xmlFreeDoc(d);
    }
    rdm_buf_release(&out);
    xmlFreeNode(svg);

    const char *labels[] = {evil, "b"};
    const double v[] = {1, 2};
    svg = rdm_svg_bar_chart(&c, labels, v, 2, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    d = roundtrip(svg, &out);
    CU_ASSERT_PTR_NULL(strstr(out.data, "<script"));
    xmlFreeDoc(d);
    rdm_buf_release(&out);
    xmlFreeNode(svg);
}

static double attr_num(xmlDocPtr d, const char *expr)
{
    char *s = xp_string(d, expr);
    double v = s ? atof(s) : NAN;
    free(s);
    return v;
}

static void test_bar_chart(void)
{
    const char *labels[] = {"a", "b", "c"};
    const double v[] = {1, 2, 4};
    rdm_svg_chart c = {"hist", "bin", "count", 0, 0, 0, 0, 0, 0, 0, 0};
    rdm_err err = {0};
    xmlNodePtr svg = rdm_svg_bar_chart(&c, labels, v, 3, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    rdm_buf out = RDM_BUF_INIT;
    xmlDocPtr d = roundtrip(svg, &out);
    if (d) {
        CU_ASSERT_EQUAL(xp_count(d, "//s:g[@class='bars']/s:rect"), 3);
        double h1 = attr_num(d, "string((//s:g[@class='bars']/s:rect)[1]/@height)");
        double h2 = attr_num(d, "string((//s:g[@class='bars']/s:rect)[2]/@height)");
        double h3 = attr_num(d, "string((//s:g[@class='bars']/s:rect)[3]/@height)");
        /* value axis 0..4 over 248 px: heights 62, 124, 248 */
        CU_ASSERT_DOUBLE_EQUAL(h1, 62, 0.01);
        CU_ASSERT_DOUBLE_EQUAL(h2, 124, 0.01);
        CU_ASSERT_DOUBLE_EQUAL(h3, 248, 0.01);
        char *tip = xp_string(d, "string((//s:g[@class='bars']/s:rect)[3]/s:title)");
        CU_ASSERT_STRING_EQUAL(tip, "c: 4");
        free(tip);
        xmlFreeDoc(d);
    }
    rdm_buf_release(&out);
    xmlFreeNode(svg);

    /* horizontal: widths proportional, labels on the left */
    c.horizontal = 1;
    svg = rdm_svg_bar_chart(&c, labels, v, 3, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    d = roundtrip(svg, &out);
    if (d) {
        double w1 = attr_num(d, "string((//s:g[@class='bars']/s:rect)[1]/@width)");
        double w3 = attr_num(d, "string((//s:g[@class='bars']/s:rect)[3]/@width)");
        CU_ASSERT_DOUBLE_EQUAL(w3, 4 * w1, 0.05);
        CU_ASSERT_EQUAL(xp_count(d, "//s:text[.='b']"), 1);
        xmlFreeDoc(d);
    }
    rdm_buf_release(&out);
    xmlFreeNode(svg);

    rdm_err e2 = {0};
    CU_ASSERT_PTR_NULL(rdm_svg_bar_chart(&c, NULL, v, 3, &e2));
    CU_ASSERT_EQUAL(e2.code, RDM_EINVAL);
}

static void expect_fixed(double v, int d, const char *want)
{
    char b[64];
    size_t n = rdm_svg_fixed(v, d, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, want);
    CU_ASSERT_EQUAL(n, strlen(want));
}

static void test_fixed(void)
{
    /* hand-worked: 0.125 is exact in binary, a true tie, printf rounds to even */
    expect_fixed(0.125, 2, "0.12");
    expect_fixed(0.375, 2, "0.38");
    expect_fixed(2.675, 2, "2.67");     /* 2.67499999999999982236431605997495353221893310546875 */
    expect_fixed(0.00005, 4, "0.0001"); /* 5.00000000000000023960868e-05 */
    expect_fixed(-0.00001, 4, "-0.0000");
    expect_fixed(-0.0, 2, "-0.00");
    expect_fixed(1234.5678, 2, "1234.57");
    expect_fixed(0.9999996, 6, "1.000000");
    expect_fixed(7, 0, "7");
    expect_fixed(0.5, 0, "0");
    expect_fixed(1.5, 0, "2");
    expect_fixed(466, 2, "466.00");
    expect_fixed(NAN, 4, "nan");
    expect_fixed(-INFINITY, 4, "-inf");
    expect_fixed(1e12, 2, "1000000000000.00"); /* beyond the fast path */
    /* same bytes as printf over a sweep of values near every rounding boundary */
    char a[64], b[64];
    int bad = 0;
    for (int i = -200000; i <= 200000 && bad < 5; i++) {
        double v = i / 199999.0 + (i % 7) * 1e-9;
        for (int d = 0; d <= 6; d++) {
            rdm_svg_fixed(v, d, a, sizeof a);
            snprintf(b, sizeof b, "%.*f", d, v);
            if (strcmp(a, b)) {
                fprintf(stderr, "rdm_svg_fixed(%.17g, %d) = %s, printf %s\n", v, d, a, b);
                bad++;
            }
        }
    }
    for (int i = 0; i < 100000 && bad < 5; i++) {
        double v = i * 0.00005; /* many exact and near ties */
        rdm_svg_fixed(v, 4, a, sizeof a);
        snprintf(b, sizeof b, "%.4f", v);
        bad += strcmp(a, b) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* a short buffer: printf semantics, truncated and terminated */
    char s[4];
    CU_ASSERT_EQUAL(rdm_svg_fixed(12.5, 2, s, sizeof s), 3);
    CU_ASSERT_STRING_EQUAL(s, "12.");
}

int test_svg_register(void)
{
    CU_pSuite s = CU_add_suite("svg", NULL, NULL);
    if (!s || !CU_add_test(s, "nice ticks", test_ticks) ||
        !CU_add_test(s, "compact numbers", test_fmt) ||
        !CU_add_test(s, "fixed decimals like printf", test_fixed) ||
        !CU_add_test(s, "line chart scaling and structure", test_line_chart) ||
        !CU_add_test(s, "labels are escaped", test_escaping) ||
        !CU_add_test(s, "bar chart scaling", test_bar_chart))
        return -1;
    return 0;
}
