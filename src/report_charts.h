/* report_charts.h - chart blocks shared by the report pages: an SVG line
 * chart placed on a page, and the table of every plotted point. */
#ifndef RDM_REPORT_CHARTS_H
#define RDM_REPORT_CHARTS_H

#include "html.h"
#include "svg.h"

/* The line chart under parent, or a note saying why it could not be drawn. */
void rdm_report_chart(rdm_html_page *pg, xmlNodePtr parent, const rdm_svg_chart *c,
                      const rdm_svg_series *s, int ns);
/* A <details> block (summary text) holding the table of every point of the
 * ns series: series name, x (xname), y (yname), 4 decimals ("n/a" for NaN).
 * Written into a raw slot: thousands of rows. */
void rdm_report_points(rdm_html_page *pg, xmlNodePtr parent, const char *summary,
                       const rdm_svg_series *s, int ns, const char *xname, const char *yname);

#endif
