/* report_groups.c - the table of performance by patient group. */
#include "report_groups.h"

#include <math.h>
#include <stdio.h>

#include "site.h"

void rdm_report_groups_table(rdm_html_page *pg, xmlNodePtr parent, const json_t *set)
{
    static const char *const H[] = {
        "group",    "encounters", "patients", "ROC AUC", "interval", "mean predicted",
        "observed", "flagged",    "TPR",      "FPR",     ""};
    xmlNodePtr tb = rdm_html_table(pg, parent, "sortable", H, 11);
    const json_t *gs = json_object_get(set, "groups");
    for (size_t k = 0; k <= json_array_size(gs); k++) {
        const json_t *g = k ? json_array_get(gs, k - 1) : json_object_get(set, "overall");
        xmlNodePtr tr = rdm_html_el(pg, tb, "tr", NULL);
        char name[96], iv[48];
        snprintf(name, sizeof name, "%s%s%s", k ? rdm_rpt_str(g, "attribute") : "all", k ? " " : "",
                 k ? rdm_rpt_str(g, "level") : "");
        rdm_html_td(pg, tr, name);
        rdm_html_tdint(pg, tr, rdm_rpt_int(g, "n", 0));
        rdm_html_tdint(pg, tr, rdm_rpt_int(g, "patients", 0));
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(g, "roc_auc"));
        if (isnan(rdm_rpt_num(g, "roc_auc_lo")))
            snprintf(iv, sizeof iv, "n/a");
        else
            snprintf(iv, sizeof iv, "[%.3f, %.3f]", rdm_rpt_num(g, "roc_auc_lo"),
                     rdm_rpt_num(g, "roc_auc_hi"));
        rdm_html_td(pg, tr, iv);
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(g, "mean_p"));
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(g, "observed"));
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(g, "positive_rate"));
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(g, "tpr"));
        rdm_html_tdnum(pg, tr, 3, rdm_rpt_num(g, "fpr"));
        xmlNodePtr td = rdm_html_td(pg, tr, NULL);
        if (json_is_true(json_object_get(g, "below")))
            rdm_html_badge(pg, td, "below overall", "failed");
    }
}
