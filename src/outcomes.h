/* outcomes.h - observed outcomes: parsing an outcomes CSV into rows ready
 * for COPY and rejected rows with their reason. Storing them is the monitor
 * database module's job (monitor_db.h).
 *
 * File format: a header naming at least `encounter_id` and `readmitted`, and
 * optionally `observed_at` (other columns are ignored); `readmitted` as in
 * the data (`<30`, `>30`, `NO`) or 0/1 (1 = readmitted within 30 days);
 * `observed_at` an ISO 8601 date or time (UTC unless it carries an offset),
 * empty = when it is loaded. */
#ifndef RDM_OUTCOMES_H
#define RDM_OUTCOMES_H

#include <stddef.h>

#include "readmit.h"

/* Label of a readmitted value: 1 for "<30" or "1", 0 for ">30", "NO" or
 * "0"; -1 for anything else. */
int rdm_outcome_label(const char *v);
/* 1 when `s` is an accepted observed_at value: YYYY-MM-DD, optionally
 * followed by 'T' or ' ' and HH:MM[:SS[.fff]] and 'Z' or +HH[:MM] / -HH[:MM]. */
int rdm_outcome_time_ok(const char *s);

typedef struct rdm_outcomes_parsed {
    rdm_buf rows;    /* COPY text: encounter_id, readmitted, label, observed_at, line_no */
    rdm_buf rejects; /* COPY text: line_no, raw, reason */
    long read;       /* data records read */
    long valid;
    long rejected;
} rdm_outcomes_parsed;

/* Parse the CSV in data[0..n); `label` (e.g. the file name) prefixes
 * messages. A header without the required columns fails with RDM_ESCHEMA;
 * bad rows are rejects, not failures. Release with rdm_outcomes_parsed_release. */
int rdm_outcomes_parse(const char *data, size_t n, const char *label, rdm_outcomes_parsed *out,
                       rdm_err *err);
void rdm_outcomes_parsed_release(rdm_outcomes_parsed *p);

#endif
