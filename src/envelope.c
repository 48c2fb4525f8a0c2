/* envelope.c - pack and unpack the model export file (a gzip'd tar of a
 * manifest, the lineage and the model; envelope.h), verifying sizes and
 * sha256 sums. */
#include "envelope.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The members in the order they are written; the manifest describes the
 * others. A member larger than its bound is not one of ours (a lineage with
 * curves is a few hundred kB; a model is bounded as the registry bounds it). */
enum { MANIFEST, LINEAGE, MODEL, NMEMBERS };

static const struct {
    const char *name;
    size_t max;
} MEMBERS[NMEMBERS] = {
    {RDM_ENVELOPE_MANIFEST, 1u << 20},
    {RDM_ENVELOPE_LINEAGE, 64u << 20},
    {RDM_ENVELOPE_MODEL, (size_t)INT_MAX},
};

static const char *ar_error(struct archive *a)
{
    const char *m = archive_error_string(a);
    return m && *m ? m : "truncated or damaged archive";
}

/* ---- pack ---- */

static la_ssize_t write_cb(struct archive *a, void *ud, const void *p, size_t n)
{
    if (rdm_buf_add(ud, p, n)) {
        archive_set_error(a, ENOMEM, "out of memory");
        return -1;
    }
    return (la_ssize_t)n;
}

static int add_member(struct archive *a, const char *name, const void *p, size_t n, rdm_err *err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)n);
    archive_entry_set_mtime(e, time(NULL), 0);
    int rc = RDM_OK;
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (n && archive_write_data(a, p, n) != (la_ssize_t)n))
        rc = rdm_errf(err, RDM_EIO, "writing %s: %s", name, ar_error(a));
    archive_entry_free(e);
    return rc;
}

/* {"size": n, "sha256": ...} of n bytes at p */
static json_t *describe(const void *p, size_t n)
{
    char sha[65];
    rdm_sha256_hex(p, n, sha);
    return json_pack("{s:I, s:s}", "size", (json_int_t)n, "sha256", sha);
}

int rdm_envelope_pack(const json_t *lineage, const void *model, size_t n, rdm_buf *out,
                      rdm_err *err)
{
    if (!json_is_object(lineage))
        return rdm_errf(err, RDM_EINVAL, "lineage is not a JSON object");
    const char *body[NMEMBERS] = {NULL, NULL, model};
    size_t len[NMEMBERS] = {0, 0, n};
    char *ltext = json_dumps(lineage, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *mtext = NULL;
    if (ltext) {
        body[LINEAGE] = ltext;
        len[LINEAGE] = strlen(ltext);
        json_t *m =
            json_pack("{s:s, s:i, s:{s:o, s:o}}", "format", RDM_ENVELOPE_FORMAT, "format_version",
                      RDM_ENVELOPE_VERSION, "members", RDM_ENVELOPE_LINEAGE,
                      describe(ltext, len[LINEAGE]), RDM_ENVELOPE_MODEL, describe(model, n));
        mtext = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(m);
    }
    if (!mtext) {
        free(ltext);
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    }
    body[MANIFEST] = mtext;
    len[MANIFEST] = strlen(mtext);
    size_t before = out->len;
    int rc = RDM_OK;
    struct archive *a = archive_write_new();
    if (!a) {
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto done;
    }
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open(a, out, NULL, write_cb, NULL) != ARCHIVE_OK) {
        rc = rdm_errf(err, RDM_EIO, "cannot write the archive: %s", ar_error(a));
        goto done;
    }
    for (int i = 0; i < NMEMBERS && rc == RDM_OK; i++)
        rc = add_member(a, MEMBERS[i].name, body[i], len[i], err);
    if (archive_write_close(a) != ARCHIVE_OK && rc == RDM_OK)
        rc = rdm_errf(err, RDM_EIO, "cannot write the archive: %s", ar_error(a));
done:
    archive_write_free(a);
    free(mtext);
    free(ltext);
    if (rc)
        out->len = before;
    return rc;
}

/* ---- unpack ---- */

/* The member's bytes (its declared size, at most `max`) into `b`,
 * NUL-terminated. */
static int read_member(struct archive *a, struct archive_entry *e, const char *label, int which,
                       rdm_buf *b, rdm_err *err)
{
    const char *name = MEMBERS[which].name;
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 ||
        (unsigned long long)archive_entry_size(e) > MEMBERS[which].max)
        return rdm_errf(err, RDM_EPARSE, "%s: member %s has no size or is too large", label, name);
    size_t want = (size_t)archive_entry_size(e);
    if (rdm_buf_reserve(b, want + 1))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    while (b->len < want) {
        la_ssize_t got = archive_read_data(a, b->data + b->len, want - b->len);
        if (got < 0)
            return rdm_errf(err, RDM_EPARSE, "%s: %s: %s (truncated or damaged file)", label, name,
                            ar_error(a));
        if (got == 0)
            return rdm_errf(err, RDM_EPARSE, "%s: %s: truncated (%zu of %zu bytes)", label, name,
                            b->len, want);
        b->len += (size_t)got;
    }
    b->data[b->len] = '\0';
    return RDM_OK;
}

/* Every member, once each, into part[]. */
static int read_members(struct archive *a, const char *label, rdm_buf part[NMEMBERS], rdm_err *err)
{
    int have[NMEMBERS] = {0}, r, rc = RDM_OK;
    struct archive_entry *e;
    while (rc == RDM_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        int k = 0;
        while (k < NMEMBERS && !(name && !strcmp(name, MEMBERS[k].name)))
            k++;
        if (k == NMEMBERS)
            return rdm_errf(err, RDM_EPARSE,
                            "%s: unexpected member '%s' (an export holds %s, %s and %s)", label,
                            name ? name : "?", RDM_ENVELOPE_MANIFEST, RDM_ENVELOPE_LINEAGE,
                            RDM_ENVELOPE_MODEL);
        if (have[k]++)
            return rdm_errf(err, RDM_EPARSE, "%s: member %s appears twice", label, name);
        if (archive_entry_filetype(e) != AE_IFREG)
            return rdm_errf(err, RDM_EPARSE, "%s: member %s is not a regular file", label, name);
        rc = read_member(a, e, label, k, &part[k], err);
    }
    if (rc)
        return rc;
    if (r != ARCHIVE_EOF)
        return rdm_errf(err, RDM_EPARSE, "%s: %s (truncated or damaged file)", label, ar_error(a));
    for (int k = 0; k < NMEMBERS; k++)
        if (!have[k])
            return rdm_errf(err, RDM_EPARSE,
                            "%s: no %s in the archive (not a readmit model export?)", label,
                            MEMBERS[k].name);
    return RDM_OK;
}

/* Check member `k`'s bytes against its entry in the manifest's "members". */
static int check_member(const json_t *members, const rdm_buf *b, int k, const char *label,
                        rdm_err *err)
{
    const char *name = MEMBERS[k].name;
    const json_t *d = json_object_get(members, name);
    const json_t *size = json_object_get(d, "size");
    const char *want = json_string_value(json_object_get(d, "sha256"));
    if (!json_is_integer(size) || !want)
        return rdm_errf(err, RDM_EPARSE, "%s: %s: members.%s needs size and sha256", label,
                        RDM_ENVELOPE_MANIFEST, name);
    if (json_integer_value(size) < 0 || (size_t)json_integer_value(size) != b->len)
        return rdm_errf(err, RDM_EINVAL,
                        "%s: %s has %zu bytes, the manifest says %" JSON_INTEGER_FORMAT
                        " (damaged file)",
                        label, name, b->len, json_integer_value(size));
    char got[65];
    rdm_sha256_hex(b->data, b->len, got);
    if (strcmp(got, want) != 0)
        return rdm_errf(err, RDM_EINVAL,
                        "%s: checksum mismatch: %s has sha256 %s, the manifest says %s "
                        "(damaged file)",
                        label, name, got, want);
    return RDM_OK;
}

/* Parse and check the manifest, then the members it describes; *lineage gets
 * the parsed lineage. */
static int verify(rdm_buf part[NMEMBERS], const char *label, json_t **lineage, rdm_err *err)
{
    json_error_t je;
    json_t *m = json_loadb(part[MANIFEST].data, part[MANIFEST].len, 0, &je);
    if (!m)
        return rdm_errf(err, RDM_EPARSE, "%s: %s: line %d, column %d: %s", label,
                        RDM_ENVELOPE_MANIFEST, je.line, je.column, je.text);
    const char *format = json_string_value(json_object_get(m, "format"));
    const json_t *fv = json_object_get(m, "format_version");
    int rc = RDM_OK;
    if (!format || strcmp(format, RDM_ENVELOPE_FORMAT) != 0)
        rc = rdm_errf(err, RDM_EPARSE, "%s: %s: format is not \"%s\"", label, RDM_ENVELOPE_MANIFEST,
                      RDM_ENVELOPE_FORMAT);
    else if (!json_is_integer(fv))
        rc = rdm_errf(err, RDM_EPARSE, "%s: %s: no format_version", label, RDM_ENVELOPE_MANIFEST);
    else if (json_integer_value(fv) != RDM_ENVELOPE_VERSION)
        rc = rdm_errf(err, RDM_EVERSION,
                      "%s: format_version %" JSON_INTEGER_FORMAT " (this readmit reads %d)", label,
                      json_integer_value(fv), RDM_ENVELOPE_VERSION);
    for (int k = LINEAGE; k < NMEMBERS && rc == RDM_OK; k++)
        rc = check_member(json_object_get(m, "members"), &part[k], k, label, err);
    json_decref(m);
    if (rc)
        return rc;
    json_t *l = json_loadb(part[LINEAGE].data, part[LINEAGE].len, 0, &je);
    if (!json_is_object(l)) {
        json_decref(l);
        return rdm_errf(err, RDM_EPARSE, "%s: %s is not a JSON object", label,
                        RDM_ENVELOPE_LINEAGE);
    }
    *lineage = l;
    return RDM_OK;
}

int rdm_envelope_unpack(const void *data, size_t n, const char *label, json_t **lineage,
                        rdm_buf *model, rdm_err *err)
{
    *lineage = NULL;
    if (n == 0)
        return rdm_errf(err, RDM_EPARSE, "%s: empty file", label);
    rdm_buf part[NMEMBERS] = {RDM_BUF_INIT, RDM_BUF_INIT, RDM_BUF_INIT};
    json_t *l = NULL;
    int rc = RDM_OK;
    struct archive *a = archive_read_new();
    if (!a)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_format_tar(a) != ARCHIVE_OK)
        rc = rdm_errf(err, RDM_EIO, "%s: %s", label, ar_error(a));
    else if (archive_read_open_memory(a, data, n) != ARCHIVE_OK)
        rc = rdm_errf(err, RDM_EPARSE,
                      "%s: cannot be read as a model export (a .tgz of %s, %s and %s): %s", label,
                      RDM_ENVELOPE_MANIFEST, RDM_ENVELOPE_LINEAGE, RDM_ENVELOPE_MODEL, ar_error(a));
    if (rc == RDM_OK)
        rc = read_members(a, label, part, err);
    if (rc == RDM_OK)
        rc = verify(part, label, &l, err);
    if (rc == RDM_OK && rdm_buf_add(model, part[MODEL].data, part[MODEL].len))
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (rc == RDM_OK) {
        *lineage = l;
        l = NULL;
    }
    json_decref(l);
    archive_read_free(a);
    for (int k = 0; k < NMEMBERS; k++)
        rdm_buf_release(&part[k]);
    return rc;
}
