/* report_drift.c - how far each batch's distributions are from the whole
 * clean snapshot (the data training reads), for the data page: read with
 * sql/report_copy_batch_drift.sql into site.data.drift. */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "site.h"

static int drift_row(const char *line, size_t len, void *ud, rdm_err *err)
{
    json_t *arr = ud;
    char *copy = malloc(len + 1);
    if (!copy)
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    memcpy(copy, line, len);
    copy[len] = '\0';
    char *f[6];
    int n = rdm_copy_split(copy, len, f, 6);
    int rc = RDM_OK;
    if (n != 5 || !f[0] || !f[1] || !f[2] || !f[3] || !f[4]) {
        rc = rdm_errf(err, RDM_EPARSE, "report_copy_batch_drift: unexpected row");
    } else {
        json_t *o = json_pack("{s:s, s:I, s:I, s:f, s:f}", "column", f[0], "batch_id",
                              (json_int_t)atoll(f[1]), "rows", (json_int_t)atoll(f[2]), "psi",
                              strtod(f[3], NULL), "tvd", strtod(f[4], NULL));
        if (!o || json_array_append_new(arr, o))
            rc = rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    free(copy);
    return rc;
}

int rdm_report_load_drift(rdm_db *db, rdm_report_site *site, rdm_err *err)
{
    json_t *data = json_object_get(rdm_report_site_json(site), "data");
    json_t *arr = json_array();
    if (!json_is_object(data) || !arr) {
        json_decref(arr);
        return json_is_object(data) ? rdm_errf(err, RDM_ENOMEM, "report: out of memory") : RDM_OK;
    }
    int rc = rdm_db_copy_out(db, RDM_SQL_REPORT_COPY_BATCH_DRIFT, drift_row, arr, err);
    if (!rc && json_object_set_new(data, "drift", arr))
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    if (rc)
        json_decref(arr);
    return rc;
}
