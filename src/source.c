/* source.c - plain CSV or UCI zip as a stream of CSV bytes (libarchive). */
#include "source.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct rdm_source {
    char *path;
    char *name; /* path or path:entry */
    int fd;     /* plain file */
    struct archive *ar;
    int eof;
    unsigned long long total, limit; /* CSV bytes read; at most limit (0: none) */
    long long size;                  /* CSV bytes the zip entry declares, -1: unknown */
};

/* RDM_EIO "name: cause" for errno value e (thread-safe text: the checksum
 * pass runs in a thread) */
static int sys_error(rdm_err *err, const char *name, int e)
{
    char msg[128];
    return rdm_errf(err, RDM_EIO, "%s: %s", name, rdm_errno_text(e, msg, sizeof msg));
}

/* libarchive's message, or a plain one when it has none */
static const char *ar_error(struct archive *a)
{
    const char *m = archive_error_string(a);
    return m && *m ? m : "truncated or corrupt archive";
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static struct archive *zip_open(const char *path, rdm_err *err)
{
    struct archive *a = archive_read_new();
    if (!a) {
        rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        rdm_errf(err, RDM_EPARSE, "%s: cannot read zip archive: %s", path, ar_error(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* Name of the entry to read: *diabetic_data.csv, else the only *.csv. */
static char *zip_pick(const char *path, rdm_err *err)
{
    struct archive *a = zip_open(path, err);
    if (!a)
        return NULL;
    char *best = NULL;
    rdm_buf csvs = RDM_BUF_INIT; /* names of the .csv entries, for the message */
    int ncsv = 0, r, oom = 0;
    struct archive_entry *e;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *n = archive_entry_pathname(e);
        if (n && archive_entry_filetype(e) == AE_IFREG && ends_with_ci(n, ".csv")) {
            if (!best && ends_with_ci(n, "diabetic_data.csv"))
                oom |= !(best = strdup(n));
            if (ncsv++ < 2)
                oom |= rdm_buf_printf(&csvs, "%s%s", ncsv > 1 ? ", " : "", n) != RDM_OK;
            else if (ncsv == 3)
                oom |= rdm_buf_adds(&csvs, ", ...") != RDM_OK;
        }
        archive_read_data_skip(a);
    }
    int rc = RDM_OK;
    if (r != ARCHIVE_EOF)
        rc = rdm_errf(err, RDM_EPARSE, "%s: broken zip archive: %s", path, ar_error(a));
    else if (oom)
        rc = rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
    else if (!best && ncsv == 0)
        rc = rdm_errf(err, RDM_EPARSE, "%s: zip archive has no .csv entry", path);
    else if (!best && ncsv > 1)
        rc = rdm_errf(err, RDM_EPARSE,
                      "%s: zip archive has %d .csv entries (%s) and none is diabetic_data.csv: "
                      "give the CSV file itself as the source",
                      path, ncsv, csvs.data);
    else if (!best) { /* the only .csv */
        char *comma = strstr(csvs.data, ", ");
        if (comma)
            *comma = '\0';
        if (!(best = strdup(csvs.data)))
            rc = rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
    }
    if (rc != RDM_OK) {
        free(best);
        best = NULL;
    }
    rdm_buf_release(&csvs);
    archive_read_free(a);
    return best;
}

static int is_zip(const char *path, int *zip, rdm_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sys_error(err, path, errno);
    unsigned char m[4] = {0};
    ssize_t n = read(fd, m, 4);
    int e = errno;
    close(fd);
    if (n < 0)
        return sys_error(err, path, e);
    *zip = n == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
    return RDM_OK;
}

rdm_source *rdm_source_open(const char *path, long long max_bytes, rdm_err *err)
{
    if (!path || !*path) {
        rdm_errf(err, RDM_EINVAL, "no data source given (data.source, --source or READMIT_DATA)");
        return NULL;
    }
    /* the source is read twice (checksum, then rows): a FIFO or a device
     * would give different bytes each time, or never end */
    struct stat st;
    if (stat(path, &st) != 0) {
        sys_error(err, path, errno);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        rdm_errf(err, RDM_EINVAL,
                 "%s: not a regular file (%s): a source is read twice, once for its checksum "
                 "and once for its rows; copy it to a file first",
                 path,
                 S_ISDIR(st.st_mode)    ? "a directory"
                 : S_ISFIFO(st.st_mode) ? "a FIFO"
                 : S_ISCHR(st.st_mode)  ? "a character device"
                 : S_ISBLK(st.st_mode)  ? "a block device"
                 : S_ISSOCK(st.st_mode) ? "a socket"
                                        : "not a file");
        return NULL;
    }
    int zip = 0;
    if (is_zip(path, &zip, err))
        return NULL;
    size_t plen = strlen(path);
    if (!zip && plen > 4 && strcasecmp(path + plen - 4, ".zip") == 0) {
        rdm_errf(err, RDM_EPARSE, "%s: not a zip archive (no zip signature at the start)", path);
        return NULL;
    }
    rdm_source *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    s->fd = -1;
    s->size = -1;
    s->limit = max_bytes > 0 ? (unsigned long long)max_bytes : 0;
    if (!zip) {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            sys_error(err, path, errno);
            goto fail;
        }
        if (!(s->name = strdup(path))) {
            rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
            goto fail;
        }
        return s;
    }
    char *entry = zip_pick(path, err);
    if (!entry)
        goto fail;
    rdm_buf nb = RDM_BUF_INIT;
    if (rdm_buf_printf(&nb, "%s:%s", path, entry)) {
        free(entry);
        rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    s->name = rdm_buf_take(&nb);
    s->ar = zip_open(path, err);
    if (!s->ar) {
        free(entry);
        goto fail;
    }
    struct archive_entry *e;
    int r, found = 0;
    while ((r = archive_read_next_header(s->ar, &e)) == ARCHIVE_OK) {
        const char *n = archive_entry_pathname(e);
        if (n && strcmp(n, entry) == 0) {
            found = 1;
            if (archive_entry_size_is_set(e))
                s->size = (long long)archive_entry_size(e);
            if (s->limit && archive_entry_size_is_set(e) &&
                (unsigned long long)archive_entry_size(e) > s->limit) {
                rdm_errf(err, RDM_EINVAL,
                         "%s: expands to %lld bytes, more than data.max_source_bytes (%llu)",
                         s->name, (long long)archive_entry_size(e), s->limit);
                free(entry);
                goto fail;
            }
            break;
        }
        archive_read_data_skip(s->ar);
    }
    free(entry);
    if (!found) {
        rdm_errf(err, RDM_EPARSE, "%s: zip entry vanished while reading: %s", path,
                 r == ARCHIVE_EOF ? "end of archive" : ar_error(s->ar));
        goto fail;
    }
    return s;
fail:
    rdm_source_close(s);
    return NULL;
}

void rdm_source_close(rdm_source *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->ar)
        archive_read_free(s->ar);
    free(s->path);
    free(s->name);
    free(s);
}

/* Count what was read against the limit, checked while reading. */
static long counted(rdm_source *s, long r, rdm_err *err)
{
    if (r > 0) {
        s->total += (unsigned long long)r;
        if (s->limit && s->total > s->limit)
            return rdm_errf(err, RDM_EINVAL,
                            "%s: more than %llu bytes of CSV (data.max_source_bytes); refusing "
                            "to read further",
                            s->name, s->limit);
    }
    return r;
}

long rdm_source_read(void *source, char *buf, size_t n, rdm_err *err)
{
    rdm_source *s = source;
    if (s->eof || n == 0)
        return 0;
    if (s->ar) {
        la_ssize_t r = archive_read_data(s->ar, buf, n);
        if (r < 0)
            return rdm_errf(err, RDM_EPARSE, "%s: %s", s->name, ar_error(s->ar));
        if (r == 0)
            s->eof = 1;
        return counted(s, (long)r, err);
    }
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return sys_error(err, s->name, errno);
        if (r == 0)
            s->eof = 1;
        return counted(s, (long)r, err);
    }
}

const char *rdm_source_name(const rdm_source *s)
{
    return s->name;
}

int rdm_source_is_zip(const rdm_source *s)
{
    return s->ar != NULL;
}

long long rdm_source_zip_size(const rdm_source *s)
{
    return s->ar ? s->size : -1;
}

int rdm_source_sha256(const char *path, long long max_bytes, char out[65],
                      unsigned long long *bytes, rdm_err *err)
{
    rdm_source *s = rdm_source_open(path, max_bytes, err);
    if (!s)
        return err ? err->code : RDM_EIO;
    rdm_sha256 *h = rdm_sha256_new();
    char *buf = malloc(1 << 20);
    int rc = RDM_OK;
    unsigned long long total = 0;
    if (!h || !buf) {
        rc = rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (;;) {
        long n = rdm_source_read(s, buf, 1 << 20, err);
        if (n < 0) {
            rc = (int)n;
            goto done;
        }
        if (n == 0)
            break;
        rdm_sha256_update(h, buf, (size_t)n);
        total += (unsigned long long)n;
    }
    rdm_sha256_final(h, out);
    h = NULL;
    if (bytes)
        *bytes = total;
done:
    if (h) {
        char tmp[65];
        rdm_sha256_final(h, tmp);
    }
    free(buf);
    rdm_source_close(s);
    return rc;
}

int rdm_source_zip_member(const char *path, const char *suffix, size_t max_bytes, rdm_buf *out,
                          char *name, size_t name_n, int *found, rdm_err *err)
{
    *found = 0;
    int zip = 0;
    int rc = is_zip(path, &zip, err);
    if (rc != RDM_OK || !zip)
        return rc;
    struct archive *a = zip_open(path, err);
    if (!a)
        return err && err->code ? err->code : RDM_EPARSE;
    struct archive_entry *e;
    int r;
    while (rc == RDM_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *n = archive_entry_pathname(e);
        if (!n || archive_entry_filetype(e) != AE_IFREG || !ends_with_ci(n, suffix)) {
            archive_read_data_skip(a);
            continue;
        }
        const char *base = strrchr(n, '/');
        snprintf(name, name_n, "%s:%s", path, base ? base + 1 : n);
        char buf[8192];
        la_ssize_t got;
        while ((got = archive_read_data(a, buf, sizeof buf)) > 0) {
            if (out->len + (size_t)got > max_bytes) {
                rc = rdm_errf(err, RDM_EINVAL, "%s: larger than %zu bytes", name, max_bytes);
                break;
            }
            if (rdm_buf_add(out, buf, (size_t)got) != RDM_OK) {
                rc = rdm_errf(err, RDM_ENOMEM, "%s: out of memory", name);
                break;
            }
        }
        if (rc == RDM_OK && got < 0)
            rc = rdm_errf(err, RDM_EPARSE, "%s: %s", name, ar_error(a));
        *found = rc == RDM_OK;
        break;
    }
    archive_read_free(a);
    return rc;
}
