/* rawrec.h - an accepted source row as raw.records stores it: its fields,
 * exactly as decoded from the CSV, in one text value. Fields are separated
 * by RDM_RAWREC_SEP (0x1f, the unit separator); a 0x1e or 0x1f inside a
 * value is written as 0x1e 0x02 or 0x1e 0x01, so 0x1e never stands alone
 * and the second byte of a pair is never 0x1e (raw.record_field and the
 * view raw.encounters decode the same layout, migration 012). */
#ifndef RDM_RAWREC_H
#define RDM_RAWREC_H

#include <stddef.h>

#define RDM_RAWREC_SEP '\x1f'
#define RDM_RAWREC_ESC '\x1e'

/* Write the record of the n fields f[i] (lens[i] bytes each) at `w`, escaped
 * for COPY text format (\\, \t, \n, \r) as one COPY field; `w` has room for
 * the sum of 2 * lens[i] + 1. Returns the end of what was written. */
char *rdm_rawrec_put_copy(char *w, char *const *f, const size_t *lens, int n);

/* Split record rec[0..len) in place into at most `max` fields: f[i] points
 * into rec (NUL-terminated) and n[i] is its length, escapes decoded. Returns
 * the field count, or -1 when there are more than `max` fields or a 0x1e is
 * not followed by 0x01 or 0x02. rec[len] must be writable. */
int rdm_rawrec_split(char *rec, size_t len, char **f, size_t *n, int max);

#endif
