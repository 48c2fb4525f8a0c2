/* replay.h - turning source records into live traffic for `readmit replay`:
 * drift scenarios applied to raw records, and the JSON body of one
 * POST /api/v1/predict (raw column names, the target left out). */
#ifndef RDM_REPLAY_H
#define RDM_REPLAY_H

#include "readmit.h"
#include "schema.h"

/* Scenarios: none; "age" shifts every age bracket two decades older (capped
 * at [90-100)); "admission" makes admission source 7 (emergency) disappear
 * (recorded as 1, physician referral, instead); "payer" makes payer_code
 * missing. */
typedef enum {
    RDM_REPLAY_NONE = 0,
    RDM_REPLAY_AGE,
    RDM_REPLAY_ADMISSION,
    RDM_REPLAY_PAYER,
} rdm_replay_scenario;

/* Scenario by name ("none", "age", "admission", "payer"), or -1. */
int rdm_replay_scenario_parse(const char *name);

/* Apply `s` to a record (values by schema column; replaced values point at
 * static strings). */
void rdm_replay_apply(rdm_replay_scenario s, const char *values[RDM_NCOLS]);

/* The request body for one record: every present column except the target,
 * numbers as JSON numbers, "?" and empty values left out (missing).
 * Appends to out. */
int rdm_replay_body(const char *const values[RDM_NCOLS], rdm_buf *out)
    __attribute__((warn_unused_result));

#endif
