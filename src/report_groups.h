/* report_groups.h - the table of performance by patient group shared by the
 * run page (test split) and the monitor page (served predictions). */
#ifndef RDM_REPORT_GROUPS_H
#define RDM_REPORT_GROUPS_H

#include <jansson.h>

#include "html.h"

/* The table of one measured set (monitor_groups.h: one element of "versions",
 * or rdm_mongroups_measure_all): the whole, then every group, with a badge on
 * each group whose interval lies wholly below the overall AUC. */
void rdm_report_groups_table(rdm_html_page *pg, xmlNodePtr parent, const json_t *set);

#endif
