/* history.h - patient history features: for each encounter, what the earlier
 * encounters of the same patient (lower encounter_id) say. Only those are
 * known at this encounter's discharge: nothing of this encounter or of later
 * ones enters (the leakage sentinel in test_history.c checks it).
 *
 *  - encounters: earlier encounters of the patient (each one an inpatient stay);
 *  - inpatient_days: days in hospital over those stays (time_in_hospital);
 *  - emergency: those admitted as an emergency (admission_type_id 1) or from
 *    the emergency room (admission_source_id 7). */
#ifndef RDM_HISTORY_H
#define RDM_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"
#include "schema.h"

enum { RDM_HIST_ENCOUNTERS, RDM_HIST_INPATIENT_DAYS, RDM_HIST_EMERGENCY, RDM_NHIST };

/* Feature names, "history_encounters", ... (static). */
const char *rdm_history_name(int k);

/* One encounter as history reads it. */
typedef struct rdm_hist_row {
    int64_t patient, encounter;
    int days;      /* time_in_hospital (0 when missing) */
    int emergency; /* 0/1 */
} rdm_hist_row;

/* The history row of a raw record (values by schema column). Returns 0, or
 * -1 when patient_nbr or encounter_id is missing or not an integer. */
int rdm_history_row(const char *const values[RDM_NCOLS], rdm_hist_row *out);

/* out[i * RDM_NHIST + k] = feature k of row i, computed from the rows j with
 * rows[j].patient == rows[i].patient and rows[j].encounter < rows[i].encounter.
 * O(n log n). RDM_ENOMEM with err on failure. */
int rdm_history_compute(const rdm_hist_row *rows, size_t n, float *out, rdm_err *err);

#endif
