/* replay.c - drift scenarios and request bodies for replayed traffic. */
#include "replay.h"

#include <string.h>

#include "api.h"

int rdm_replay_scenario_parse(const char *name)
{
    static const char *const N[] = {"none", "age", "admission", "payer"};
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, N[i]))
            return i;
    return -1;
}

void rdm_replay_apply(rdm_replay_scenario s, const char *values[RDM_NCOLS])
{
    static const char *const AGES[] = {"[0-10)",  "[10-20)", "[20-30)", "[30-40)", "[40-50)",
                                       "[50-60)", "[60-70)", "[70-80)", "[80-90)", "[90-100)"};
    if (s == RDM_REPLAY_AGE) {
        int c = rdm_schema_find("age");
        for (int i = 0; i < 10 && values[c]; i++)
            if (!strcmp(values[c], AGES[i])) {
                values[c] = AGES[i + 2 < 10 ? i + 2 : 9];
                break;
            }
    } else if (s == RDM_REPLAY_ADMISSION) {
        int c = rdm_schema_find("admission_source_id");
        if (values[c] && !strcmp(values[c], "7"))
            values[c] = "1";
    } else if (s == RDM_REPLAY_PAYER) {
        values[rdm_schema_find("payer_code")] = "?";
    }
}

static int is_number(const char *v)
{
    size_t i = v[0] == '-';
    if (!v[i] || (v[i] == '0' && v[i + 1]))
        return 0;
    for (; v[i]; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return i < 19;
}

int rdm_replay_body(const char *const values[RDM_NCOLS], rdm_buf *out)
{
    const rdm_column *cols = rdm_schema_columns();
    int rc = rdm_buf_addc(out, '{'), first = 1;
    for (int c = 0; rc == RDM_OK && c < RDM_NCOLS; c++) {
        const char *v = values[c];
        if (c == RDM_C_READMITTED || rdm_value_is_missing(v))
            continue;
        rc = rdm_buf_printf(out, "%s\"%s\":", first ? "" : ",", cols[c].name);
        first = 0;
        if (rc == RDM_OK)
            rc = cols[c].kind != RDM_COL_CAT && cols[c].kind != RDM_COL_DIAG && is_number(v)
                     ? rdm_buf_adds(out, v)
                     : rdm_api_json_str(out, v, strlen(v));
    }
    return rc == RDM_OK ? rdm_buf_addc(out, '}') : rc;
}
