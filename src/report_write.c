/* report_write.c - the site writer: build pages on the thread pool, write
 * only those whose bytes changed, keep a manifest so that a page whose inputs
 * are unchanged is not even built, and fingerprint the whole site. It knows
 * nothing of what the pages are: each job brings its builder. */
#include "report_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xmlversion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

int rdm_report_write_if_changed(const char *path, const void *data, size_t n, int *written,
                                rdm_err *err)
{
    if (written)
        *written = 0;
    /* compare with the page on disk without reading more than it takes */
    int same = 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == n) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            same = 1;
            char chunk[65536];
            for (size_t at = 0; same && at < n;) {
                size_t want = n - at < sizeof chunk ? n - at : sizeof chunk;
                ssize_t got = read(fd, chunk, want);
                if (got < 0 && errno == EINTR)
                    continue;
                if (got <= 0 || memcmp(chunk, (const char *)data + at, (size_t)got) != 0)
                    same = 0;
                else
                    at += (size_t)got;
            }
            if (same) { /* nothing after n bytes either */
                ssize_t extra = read(fd, chunk, 1);
                same = extra == 0;
            }
            close(fd);
        }
    }
    if (same)
        return RDM_OK;
    /* temp file + rename: readers never see a half-written page. No fsync:
     * pages are regenerated from the database at will, and syncing hundreds
     * of pages would dominate the run time. The temporary name is unique per
     * thread as well as per process. */
    static unsigned long seq;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(),
             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    char msg[128];
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return rdm_errf(err, RDM_EIO, "%s: %s", tmp, rdm_errno_text(errno, msg, sizeof msg));
    const char *p = data;
    size_t left = n;
    int ok = 1;
    while (left && ok) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = 0;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return rdm_errf(err, RDM_EIO, "%s: %s", path, rdm_errno_text(e, msg, sizeof msg));
    }
    if (written)
        *written = 1;
    return RDM_OK;
}

/* The manifest kept next to the pages: for each run page, the hash of its
 * inputs when it was built, the hash of its bytes and the file's size and
 * modification time then. A page whose inputs hash the same and whose file
 * is untouched is not built again. */
#define MANIFEST       ".report-manifest"
#define MANIFEST_MAGIC "readmit-report-manifest 1\n"

typedef struct manifest_entry {
    char name[64];
    char input[65];
    char digest[65];
    long long size, mtime_ns;
} manifest_entry;

typedef struct manifest {
    manifest_entry *e;
    size_t n;
} manifest;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const manifest_entry *)a)->name, ((const manifest_entry *)b)->name);
}

/* Best effort: a missing or unreadable manifest is an empty one. */
static void manifest_load(const char *dir, manifest *m)
{
    memset(m, 0, sizeof *m);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, MANIFEST);
    rdm_buf b = RDM_BUF_INIT;
    rdm_err ignore = {0};
    if (rdm_read_file(path, &b, &ignore) ||
        strncmp(b.data, MANIFEST_MAGIC, strlen(MANIFEST_MAGIC))) {
        rdm_buf_release(&b);
        return;
    }
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    m->e = calloc(lines + 1, sizeof *m->e);
    char *save = NULL;
    for (char *l = strtok_r(b.data + strlen(MANIFEST_MAGIC), "\n", &save); m->e && l;
         l = strtok_r(NULL, "\n", &save)) {
        manifest_entry e;
        memset(&e, 0, sizeof e);
        if (sscanf(l, "%63s %64s %64s %lld %lld", e.name, e.input, e.digest, &e.size,
                   &e.mtime_ns) == 5 &&
            strlen(e.input) == 64 && strlen(e.digest) == 64)
            m->e[m->n++] = e;
    }
    if (m->e)
        qsort(m->e, m->n, sizeof *m->e, entry_cmp);
    rdm_buf_release(&b);
}

static const manifest_entry *manifest_find(const manifest *m, const char *name)
{
    manifest_entry key;
    snprintf(key.name, sizeof key.name, "%s", name);
    return m->n ? bsearch(&key, m->e, m->n, sizeof key, entry_cmp) : NULL;
}

static int file_sig(const char *path, long long *size, long long *mtime_ns)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    *size = (long long)sb.st_size;
    *mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    return 0;
}

/* What the page generator is: this executable's bytes and the libraries'
 * versions, so that a new build never keeps a page the old one made. */
static int generator_id(char out[65])
{
    rdm_buf b = RDM_BUF_INIT;
    rdm_err ignore = {0};
    int rc = rdm_read_file("/proc/self/exe", &b, &ignore);
    if (!rc && (rdm_buf_adds(&b, xmlParserVersion) || rdm_buf_adds(&b, jansson_version_str())))
        rc = RDM_ENOMEM;
    if (!rc)
        rdm_sha256_hex(b.data, b.len, out);
    rdm_buf_release(&b);
    return rc;
}

typedef struct site_work {
    const char *dir;
    const manifest *old;
    const char *gen; /* generator id, NULL: no page is skipped */
    rdm_report_job *jobs;
    size_t njobs;
    rdm_buf *scratch; /* one page buffer per pool thread */
    int failed;       /* set once a page fails: later pages are skipped */
} site_work;

static void run_job(site_work *w, rdm_report_job *j, rdm_buf *page)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", w->dir, j->name);
    if (j->input && w->gen && j->input(j->ctx, j->item, w->gen, page, j->input_hash))
        j->input_hash[0] = '\0';
    const manifest_entry *e = j->input_hash[0] ? manifest_find(w->old, j->name) : NULL;
    long long size, mtime;
    if (e && !strcmp(e->input, j->input_hash) && file_sig(path, &size, &mtime) == 0 &&
        size == e->size && mtime == e->mtime_ns) {
        memcpy(j->digest, e->digest, sizeof j->digest); /* same inputs, file untouched */
        return;
    }
    rdm_buf_reset(page);
    j->rc = j->build(j->ctx, j->item, page, &j->err);
    if (j->rc)
        return;
    rdm_sha256_hex(page->data, page->len, j->digest);
    j->rc = rdm_report_write_if_changed(path, page->data, page->len, &j->written, &j->err);
}

/* One page: each is its own libxml2 document and the site is only read, so
 * pages are independent items of the pool. */
static void page_item(void *arg, size_t k, int tid)
{
    site_work *w = arg;
    if (__atomic_load_n(&w->failed, __ATOMIC_RELAXED))
        return;
    run_job(w, &w->jobs[k], &w->scratch[tid]);
    if (w->jobs[k].rc)
        __atomic_store_n(&w->failed, 1, __ATOMIC_RELAXED);
}

/* Small sites are built on the caller's thread alone: starting threads would
 * cost more than it saves. */
#define PARALLEL_FROM 9

static int build_all(site_work *w, rdm_err *err)
{
    xmlInitParser();
    rdm_pool *pool = NULL;
    if (w->njobs >= PARALLEL_FROM) {
        rdm_err perr = {0};
        pool = rdm_pool_create(0, &perr);
        if (!pool) /* still correct on one thread */
            rdm_log(RDM_LOG_WARN, "report: pages built on one thread: %s", perr.msg);
    }
    int threads = pool ? rdm_pool_threads(pool) : 1;
    w->scratch = calloc((size_t)threads, sizeof *w->scratch);
    if (!w->scratch) {
        rdm_pool_free(pool);
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    }
    rdm_pool_for(pool, w->njobs, page_item, w);
    rdm_pool_free(pool);
    for (int t = 0; t < threads; t++)
        rdm_buf_release(&w->scratch[t]);
    free(w->scratch);
    w->scratch = NULL;
    return RDM_OK;
}

/* The first failure in page order into rc/err; stats, fingerprint and the
 * new manifest over the pages that were built. */
static int collect(const char *dir, rdm_report_job *jobs, size_t n, rdm_report_stats *st,
                   rdm_buf *man, rdm_err *err)
{
    int rc = RDM_OK;
    rdm_sha256 *h = rdm_sha256_new();
    if (!h)
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    int man_ok = rdm_buf_adds(man, MANIFEST_MAGIC) == RDM_OK;
    for (size_t k = 0; k < n; k++) {
        rdm_report_job *j = &jobs[k];
        if (j->rc) {
            if (!rc) {
                rc = j->rc;
                if (err)
                    *err = j->err;
            }
            continue;
        }
        if (!j->digest[0])
            continue; /* not built: a page before it failed */
        rdm_sha256_update(h, j->name, strlen(j->name) + 1);
        rdm_sha256_update(h, j->digest, 64);
        st->pages++;
        st->written += j->written;
        char path[4096];
        long long size, mtime;
        snprintf(path, sizeof path, "%s/%s", dir, j->name);
        if (man_ok && j->input_hash[0] && file_sig(path, &size, &mtime) == 0)
            man_ok = rdm_buf_printf(man, "%s %s %s %lld %lld\n", j->name, j->input_hash, j->digest,
                                    size, mtime) == RDM_OK;
    }
    rdm_sha256_final(h, st->fingerprint);
    if (!man_ok)
        rdm_buf_reset(man);
    return rc;
}

static int job_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Remove the pages under dir/<sub> (for each sub in prune) that no job wrote:
 * pages of runs and trainings the site no longer has. */
static int prune_pages(const char *dir, const char *const *prune, const rdm_report_job *jobs,
                       size_t n, int *removed, rdm_err *err)
{
    const char **names = malloc((n + 1) * sizeof *names);
    if (!names)
        return rdm_errf(err, RDM_ENOMEM, "report: out of memory");
    for (size_t k = 0; k < n; k++)
        names[k] = jobs[k].name;
    qsort(names, n, sizeof *names, job_cmp);
    int rc = RDM_OK;
    for (int d = 0; prune && prune[d] && !rc; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, prune[d]);
        DIR *dh = opendir(path);
        if (!dh)
            continue;
        struct dirent *e;
        while (!rc && (e = readdir(dh))) {
            size_t l = strlen(e->d_name);
            if (l < 6 || strcmp(e->d_name + l - 5, ".html"))
                continue;
            char name[600];
            snprintf(name, sizeof name, "%s/%s", prune[d], e->d_name);
            const char *key = name;
            if (bsearch(&key, names, n, sizeof *names, job_cmp))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, name);
            if (unlink(path) != 0 && errno != ENOENT) {
                char msg[128];
                rc = rdm_errf(err, RDM_EIO, "%s: %s", path, rdm_errno_text(errno, msg, sizeof msg));
            } else {
                (*removed)++;
            }
        }
        closedir(dh);
    }
    free(names);
    return rc;
}

int rdm_report_write_pages(const char *dir, rdm_report_job *jobs, size_t n,
                           const char *const *prune, rdm_report_stats *st, rdm_err *err)
{
    rdm_report_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    site_work w;
    memset(&w, 0, sizeof w);
    w.dir = dir;
    w.jobs = jobs;
    w.njobs = n;
    manifest old;
    manifest_load(dir, &old);
    w.old = &old;
    char gen[65];
    w.gen = generator_id(gen) == RDM_OK ? gen : NULL;
    int rc = build_all(&w, err);
    free(old.e);
    if (rc)
        return rc;
    rdm_buf man = RDM_BUF_INIT;
    rc = collect(dir, jobs, n, st, &man, err);
    if (!rc && man.len) { /* best effort: without it the next run builds every page */
        char path[4096];
        rdm_err ignore = {0};
        snprintf(path, sizeof path, "%s/%s", dir, MANIFEST);
        if (rdm_report_write_if_changed(path, man.data, man.len, NULL, &ignore))
            rdm_log(RDM_LOG_WARN, "report manifest not written: %s", ignore.msg);
    }
    rdm_buf_release(&man);
    if (!rc)
        rc = prune_pages(dir, prune, jobs, n, &st->removed, err);
    return rc;
}
