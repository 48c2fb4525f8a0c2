/* envelope.h - the file that carries a model between installations (readmit
 * model export / import): a gzip-compressed tar holding three members,
 *   manifest.json  {"format": "readmit-model-export", "format_version": 1,
 *                   "members": {"lineage.json": {"size": N, "sha256": H},
 *                               "model.model": {"size": N, "sha256": H}}}
 *   lineage.json   what the exporting registry knew about the model
 *                  (transfer.h fills it; any JSON object here)
 *   model.model    the model file, byte for byte as the registry stores it
 * so `tar xzf` gives a model `readmit predict --model` reads. Both members
 * are checked against the manifest: a damaged file never yields other bytes
 * than were packed. This module only packs, unpacks and verifies; no
 * database. */
#ifndef RDM_ENVELOPE_H
#define RDM_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>

#include "readmit.h"

#define RDM_ENVELOPE_FORMAT   "readmit-model-export"
#define RDM_ENVELOPE_VERSION  1
#define RDM_ENVELOPE_MANIFEST "manifest.json"
#define RDM_ENVELOPE_LINEAGE  "lineage.json"
#define RDM_ENVELOPE_MODEL    "model.model"

/* Append the envelope of the model (`n` bytes at `model`) with `lineage`
 * (borrowed; a JSON object) to `out`. RDM_EINVAL (lineage not an object),
 * RDM_ENOMEM, RDM_EIO (libarchive). On failure `out` is as it was. */
int rdm_envelope_pack(const json_t *lineage, const void *model, size_t n, rdm_buf *out,
                      rdm_err *err) __attribute__((warn_unused_result));

/* Read the envelope in `data` (`n` bytes); `label` (the file name) starts
 * every error message. On success *lineage is a new reference (an object)
 * and the model's bytes are appended to `model`, both members' size and
 * sha256 checked against the manifest. Errors:
 * RDM_EPARSE (not an envelope, truncated or damaged archive, a member
 * missing, repeated or unknown, a manifest that is not the format's JSON),
 * RDM_EVERSION (another format_version), RDM_EINVAL (size or checksum
 * mismatch), RDM_ENOMEM. On failure *lineage is NULL and `model` is as it
 * was. */
int rdm_envelope_unpack(const void *data, size_t n, const char *label, json_t **lineage,
                        rdm_buf *model, rdm_err *err) __attribute__((warn_unused_result));

#endif
