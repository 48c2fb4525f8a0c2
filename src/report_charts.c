/* report_charts.c - charts and their point tables, shared by the pages. */
#include "report_charts.h"

#include <math.h>
#include <string.h>

void rdm_report_chart(rdm_html_page *pg, xmlNodePtr parent, const rdm_svg_chart *c,
                      const rdm_svg_series *s, int ns)
{
    rdm_err e = {0};
    xmlNodePtr svg = rdm_svg_line_chart(c, s, ns, &e);
    if (svg)
        rdm_html_adopt(pg, parent, svg);
    else
        rdm_html_para(pg, parent, "muted", "chart: %s", e.msg);
}

/* A point coordinate as rdm_html_tdnum writes it (4 decimals, "n/a" for NaN)
 * into out (at least 64 bytes); returns the length. */
static size_t num_text(double v, char *out)
{
    if (isnan(v)) {
        memcpy(out, "n/a", 4);
        return 3;
    }
    return rdm_svg_fixed(v, 4, out, 64);
}

void rdm_report_points(rdm_html_page *pg, xmlNodePtr parent, const char *summary,
                       const rdm_svg_series *s, int ns, const char *xname, const char *yname)
{
    xmlNodePtr d = rdm_html_el(pg, parent, "details", NULL);
    rdm_html_el(pg, d, "summary", summary);
    const char *H[3] = {"series", xname, yname};
    xmlNodePtr tb = rdm_html_table(pg, d, "points", H, 3);
    /* thousands of rows: written directly (escaped), not as a node per cell */
    rdm_buf *b = rdm_html_slot(pg, tb);
    if (!b)
        return;
    rdm_buf name = RDM_BUF_INIT;
    for (int k = 0; k < ns && !pg->oom; k++) {
        rdm_buf_reset(&name);
        if (rdm_buf_adds(&name, "<tr><td>") ||
            rdm_html_escape(&name, s[k].name ? s[k].name : "",
                            strlen(s[k].name ? s[k].name : "")) ||
            rdm_buf_adds(&name, "</td><td>")) {
            pg->oom = 1;
            break;
        }
        for (int i = 0; i < s[k].n; i++) {
            char row[160];
            size_t l = 0;
            l += num_text(s[k].x[i], row + l);
            memcpy(row + l, "</td><td>", 9);
            l += 9;
            l += num_text(s[k].y[i], row + l);
            memcpy(row + l, "</td></tr>\n", 11);
            l += 11;
            if (rdm_buf_add(b, name.data, name.len) || rdm_buf_add(b, row, l)) {
                pg->oom = 1;
                break;
            }
        }
    }
    rdm_buf_release(&name);
}
