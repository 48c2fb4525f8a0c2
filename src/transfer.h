/* transfer.h - moving a registered model version between installations.
 * Export writes one version, its artifact and its lineage (the run's
 * parameters, metrics and curves, the training and data snapshot it came
 * from, who registered it and when, this installation's id) into an envelope
 * file (envelope.h). Import verifies such a file and registers the model as a
 * new version of the configured name, with a run that carries the lineage and
 * a registry.imports row naming the source installation and version. */
#ifndef RDM_TRANSFER_H
#define RDM_TRANSFER_H

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "readmit.h"

typedef struct rdm_transfer_result {
    char name[128];        /* the registered name (here) */
    int version;           /* export: the version written; import: the version here */
    long long run_id;      /* import: the run made for it (0 when already there) */
    char sha256[65];       /* of the model */
    size_t bytes;          /* export: size of the file written */
    int already;           /* import: the model was already `version`; nothing written */
    char source[64];       /* export: this installation; import: the source installation */
    char source_name[128]; /* import: name and version at the source */
    int source_version;
} rdm_transfer_result;

/* Write version `ref` (VERSION, NAME:VERSION, champion, challenger,
 * NAME@ALIAS; not a file) with its lineage to `path` (replaced atomically).
 * `actor` (who exports) is recorded in the lineage. Errors: RDM_EINVAL (a
 * file reference), RDM_ENOTFOUND, RDM_EDB, RDM_EIO (naming `path`). */
int rdm_transfer_export(rdm_db *db, const rdm_config *cfg, const char *ref, const char *actor,
                        const char *path, rdm_transfer_result *res, rdm_err *err)
    __attribute__((warn_unused_result));

/* Read the export at `path`, verify it (checksums, a model this readmit can
 * load) and register its model as the next version of
 * cfg->registry.model_name, in one transaction, with `actor` as who
 * imported it. A model whose bytes are already a version of that name is not
 * registered again: res->already = 1, res->version = that version, RDM_OK.
 * Every error names `path`, and on error nothing is written. Errors:
 * RDM_EIO, RDM_EPARSE, RDM_EVERSION, RDM_EINVAL (checksum), RDM_EDB. */
int rdm_transfer_import(rdm_db *db, const rdm_config *cfg, const char *path, const char *actor,
                        rdm_transfer_result *res, rdm_err *err) __attribute__((warn_unused_result));

/* Read and verify the export at `path` without a database: *lineage gets a
 * new reference (the export's lineage) and res the name, version, sha256
 * and installation it came from. Errors as for import. */
int rdm_transfer_read(const char *path, json_t **lineage, rdm_transfer_result *res, rdm_err *err)
    __attribute__((warn_unused_result));

#endif
