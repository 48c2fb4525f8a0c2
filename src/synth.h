/* synth.h - synthetic encounters with the dataset's exact 50-column schema,
 * realistic value domains and a target that depends on the features, for
 * tests and demos (the real rows never enter the project).
 *
 * Deterministic: the same (rows, seed, dirty) gives the same bytes on every
 * platform (own xoshiro256** generator seeded by splitmix64; no rand()).
 *
 * Clean rows (lines 2 .. rows+1): unique increasing encounter_id; patient_nbr
 * repeats for about a quarter of the rows (with the same race, gender and
 * age band); readmitted is "<30" for about 11% of the rows, driven by
 * number_inpatient, number_emergency, discharge_disposition_id, age, the
 * interaction of a circulatory diag_1 with age >= 70, an A1C result of >8
 * without a medication change, and a missing medical_specialty; about 2% of
 * the rows have a discharge_disposition_id in {11, 13, 14, 19, 20, 21}
 * (expired or hospice). LF line ends, no quoting needed.
 *
 * --dirty appends RDM_SYNTH_NDIRTY rows after the clean ones, in the order of
 * rdm_synth_dirty() (dirty row i starts on line rows + 2 + i; only the
 * "multiline" row spans two lines and it comes after every other row but the
 * last):
 *   0 few_fields      49 fields                           raw reject: field count
 *   1 many_fields     51 fields                           raw reject: field count
 *   2 bad_utf8        race "Cauc\xE9sian" (Latin-1)       raw reject: invalid UTF-8 (race)
 *   3 long_field      medical_specialty of 5000 bytes     raw reject: field too long
 *   4 stray_quote     payer_code M"C                      raw reject: stray quote (payer_code)
 *   5 unknown_gender  gender "Robot"                      accepted (clean's business)
 *   6 out_of_range    time_in_hospital 99                 accepted
 *   7 not_integer     num_lab_procedures "forty"          accepted
 *   8 duplicate_id    encounter_id of the first row       accepted
 *   9 script          medical_specialty <script>alert(1)</script>   accepted
 *  10 img             medical_specialty "><img src=x onerror=alert(1)>  accepted (quoted)
 *  11 multiline       medical_specialty "Surgery, General\nNight"   accepted (quoted, 2 lines)
 *  12 unterminated    medical_specialty opens a quote that never closes, last line of the
 *                     file                                raw reject: unterminated quote
 * (the first clean row's encounter_id is duplicated, so `rows` must be >= 1).
 */
#ifndef RDM_SYNTH_H
#define RDM_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "readmit.h"

#define RDM_SYNTH_NDIRTY 13

typedef struct rdm_synth_dirty_row {
    const char *name;    /* "few_fields", ... */
    int raw_reject;      /* 1: ingest must put it in raw.rejects */
    const char *problem; /* rdm_csv_problem_name() of the expected reject, or NULL */
    const char *column;  /* column named in the reason, or NULL */
} rdm_synth_dirty_row;

/* The table above (static, RDM_SYNTH_NDIRTY entries). */
const rdm_synth_dirty_row *rdm_synth_dirty(void);
/* Source line of dirty row i in a file of `rows` clean rows. */
long rdm_synth_dirty_line(long rows, int i);

/* Byte sink: return 0, or a negative RDM_E* with err filled. */
typedef int (*rdm_synth_write_fn)(void *ud, const char *p, size_t n, rdm_err *err);

/* Write the header and `rows` clean rows (and the dirty rows when `dirty`)
 * to `write`. rows must be >= 0 (>= 1 with dirty). */
int rdm_synth(long rows, uint64_t seed, int dirty, rdm_synth_write_fn write, void *ud, rdm_err *err)
    __attribute__((warn_unused_result));

/* A synthetic code-label mapping file in the layout of the UCI
 * IDs_mapping.csv (three stacked "code,description" tables separated by a
 * "," line, CRLF) for every code the generator writes: code 1 of each is
 * "Emergency", "Discharged to home" and " Physician Referral" (with the
 * leading blank some labels have), the others "Synthetic ... N" (quoted,
 * some with a comma). Appended to `out`. */
int rdm_synth_mapping(rdm_buf *out, rdm_err *err) __attribute__((warn_unused_result));

/* Convenience: the whole file appended to `out` (for tests and small files). */
int rdm_synth_buf(long rows, uint64_t seed, int dirty, rdm_buf *out, rdm_err *err)
    __attribute__((warn_unused_result));

#endif
