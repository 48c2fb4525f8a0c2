/* svg.h - small SVG plotting for the reports: line charts (several series,
 * legend, optional y = x reference line), bar charts and histograms, axes with
 * nice ticks and labels. Charts are built as libxml2 nodes (so every label is
 * escaped) and inserted into an HTML page or serialised on their own. */
#ifndef RDM_SVG_H
#define RDM_SVG_H

#include <libxml/tree.h>
#include <stddef.h>

#include "readmit.h"

/* One line series: n points (x[i], y[i]). Non-finite points are skipped (the
 * line is broken there). */
typedef struct rdm_svg_series {
    const char *name; /* legend label (may be NULL: no legend entry) */
    const double *x;
    const double *y;
    int n;
    int dashed;  /* 0 solid; 1 the reference dash ("no skill" lines); 2, 3, ...
                  * distinct dash patterns, so overlaid series differ in more
                  * than colour */
    int markers; /* 1: draw a dot at every point (calibration bins); 2: dots only, no
                  * line (a scatter) */
} rdm_svg_series;

/* Chart layout. Axis bounds: when lo >= hi the axis is scaled to the data and
 * extended to nice tick values. */
typedef struct rdm_svg_chart {
    const char *title; /* drawn on top and used as the accessible label */
    const char *xlabel;
    const char *ylabel;
    int width, height; /* pixels; 0 = 480 x 320 */
    double xmin, xmax;
    double ymin, ymax;
    int diagonal;   /* draw the y = x reference line (dashed grey) */
    int horizontal; /* bar charts: bars grow to the right, labels on the left */
} rdm_svg_chart;

/* Line chart. Returns a new, unlinked <svg> element owned by the caller (link
 * it into a document with xmlAddChild, or xmlFreeNode it); NULL with err on
 * bad input (no series, n < 0, NULL arrays) or allocation failure. */
xmlNodePtr rdm_svg_line_chart(const rdm_svg_chart *c, const rdm_svg_series *s, int ns,
                              rdm_err *err);

/* Bar chart: one bar per label with the given value (non-negative values or
 * mixed; the value axis always includes 0). With c->horizontal the labels go
 * on the left (feature names); else under the bars, thinned out when crowded
 * (histograms). Ownership as for rdm_svg_line_chart. */
xmlNodePtr rdm_svg_bar_chart(const rdm_svg_chart *c, const char *const *labels,
                             const double *values, int n, rdm_err *err);

/* "Nice" tick values covering [lo, hi] with about `target` ticks (steps of 1,
 * 2 or 5 times a power of ten). Writes at most `max` ticks to out, returns the
 * count (0 if max is 0). *step (may be NULL) gets the spacing. lo == hi is
 * widened to a unit interval around the value. */
int rdm_svg_nice_ticks(double lo, double hi, int target, double *out, int max, double *step);

/* Compact text for a number: "0", "0.2", "0.681", "1234", "15k", "1.23M",
 * "1e-05", "n/a" for NaN. Always NUL-terminated within n bytes. */
void rdm_svg_fmt(double v, char *out, size_t n);

/* `v` with exactly `decimals` (0..9) digits after the point: the same bytes as
 * snprintf(out, n, "%.*f", decimals, v), without printf in the common case
 * (|v| * 10^decimals below 2^31 and not within 1e-6 of a rounding tie; every
 * other value goes through snprintf). Returns the length written (at most
 * n - 1; n >= 32 keeps every fast-path result whole). */
size_t rdm_svg_fixed(double v, int decimals, char *out, size_t n);

/* Serialise a chart on its own as an XML document (with the SVG namespace)
 * into out (appended): for tests and for saving .svg files. The node is not
 * consumed. */
int rdm_svg_to_xml(xmlNodePtr svg, rdm_buf *out, rdm_err *err);

#endif
