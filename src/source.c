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
#include <unistd.h>

struct rdm_source {
    char *path;
    char *name; /* path or path:entry */
    int fd;     /* plain file */
    struct archive *ar;
    int eof;
};

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
        rdm_errf(err, RDM_EPARSE, "%s: cannot read zip archive: %s", path, archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* Name of the entry to read: *diabetic_data.csv, else the first *.csv. */
static char *zip_pick(const char *path, rdm_err *err)
{
    struct archive *a = zip_open(path, err);
    if (!a)
        return NULL;
    char *first = NULL, *best = NULL;
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *n = archive_entry_pathname(e);
        if (n && archive_entry_filetype(e) == AE_IFREG) {
            if (!best && ends_with_ci(n, "diabetic_data.csv"))
                best = strdup(n);
            else if (!first && ends_with_ci(n, ".csv"))
                first = strdup(n);
        }
        archive_read_data_skip(a);
    }
    if (r != ARCHIVE_EOF) {
        rdm_errf(err, RDM_EPARSE, "%s: broken zip archive: %s", path, archive_error_string(a));
        free(first);
        free(best);
        archive_read_free(a);
        return NULL;
    }
    archive_read_free(a);
    if (best) {
        free(first);
        return best;
    }
    if (!first)
        rdm_errf(err, RDM_EPARSE, "%s: zip archive has no .csv entry", path);
    return first;
}

static int is_zip(const char *path, int *zip, rdm_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rdm_errf(err, RDM_EIO, "%s: %s", path, strerror(errno));
    unsigned char m[4] = {0};
    ssize_t n = read(fd, m, 4);
    int e = errno;
    close(fd);
    if (n < 0)
        return rdm_errf(err, RDM_EIO, "%s: %s", path, strerror(e));
    *zip = n == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
    return RDM_OK;
}

rdm_source *rdm_source_open(const char *path, rdm_err *err)
{
    if (!path || !*path) {
        rdm_errf(err, RDM_EINVAL, "no data source given (data.source, --source or READMIT_DATA)");
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
    if (!zip) {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            rdm_errf(err, RDM_EIO, "%s: %s", path, strerror(errno));
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
            break;
        }
        archive_read_data_skip(s->ar);
    }
    free(entry);
    if (!found) {
        rdm_errf(err, RDM_EPARSE, "%s: zip entry vanished while reading: %s", path,
                 r == ARCHIVE_EOF ? "end of archive" : archive_error_string(s->ar));
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

long rdm_source_read(void *source, char *buf, size_t n, rdm_err *err)
{
    rdm_source *s = source;
    if (s->eof || n == 0)
        return 0;
    if (s->ar) {
        la_ssize_t r = archive_read_data(s->ar, buf, n);
        if (r < 0)
            return rdm_errf(err, RDM_EPARSE, "%s: %s", s->name, archive_error_string(s->ar));
        if (r == 0)
            s->eof = 1;
        return (long)r;
    }
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rdm_errf(err, RDM_EIO, "%s: %s", s->name, strerror(errno));
        if (r == 0)
            s->eof = 1;
        return (long)r;
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

int rdm_source_sha256(const char *path, char out[65], unsigned long long *bytes, rdm_err *err)
{
    rdm_source *s = rdm_source_open(path, err);
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
