/* util.c - error buffer, logging, byte buffer, files, hashing, clocks. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "readmit.h"

int rdm_errf(rdm_err *err, int code, const char *fmt, ...)
{
    if (err && err->msg[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    } else if (err && err->code == 0) {
        err->code = code;
    }
    return code;
}

void rdm_err_prefix(rdm_err *err, const char *fmt, ...)
{
    if (!err || err->msg[0] == '\0')
        return;
    char pre[RDM_ERR_MSG], old[RDM_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t np = strlen(pre);
    if (np > sizeof err->msg - 3)
        np = sizeof err->msg - 3;
    memcpy(err->msg, pre, np);
    memcpy(err->msg + np, ": ", 2);
    size_t room = sizeof err->msg - np - 3, no = strlen(old);
    if (no > room)
        no = room;
    memcpy(err->msg + np + 2, old, no);
    err->msg[np + 2 + no] = '\0';
}

void rdm_err_clear(rdm_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

const char *rdm_errno_text(int e, char *buf, size_t n)
{
    if (n == 0)
        return "";
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
}

const char *rdm_strerror(int code)
{
    switch (code) {
    case RDM_OK:
        return "ok";
    case RDM_ENOMEM:
        return "out of memory";
    case RDM_EIO:
        return "I/O error";
    case RDM_EPARSE:
        return "parse error";
    case RDM_EINVAL:
        return "invalid value";
    case RDM_EDB:
        return "database error";
    case RDM_ESCHEMA:
        return "schema mismatch";
    case RDM_EVERSION:
        return "unsupported version";
    case RDM_ENOTFOUND:
        return "not found";
    case RDM_EVALID:
        return "validation failed";
    case RDM_ESTATE:
        return "invalid state";
    default:
        return "unknown error";
    }
}

/* ---- logging ---- */

int rdm_log_level = RDM_LOG_INFO;
static rdm_log_sink log_sink;
static void *log_ud;

void rdm_log_set_sink(rdm_log_sink sink, void *ud)
{
    log_sink = sink;
    log_ud = ud;
}

void rdm_log_write(int level, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char ts[32], line[2048];
    rdm_utc_now(ts);
    int n = snprintf(line, sizeof line, "%s %s ", ts, names[level < 0 ? 0 : level > 3 ? 3 : level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (log_sink)
        log_sink(level, line, log_ud);
    else
        fprintf(stderr, "%s\n", line);
}

/* ---- arrays and buffer ---- */

int rdm_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return RDM_OK;
    if (elem == 0 || need > SIZE_MAX / elem)
        return RDM_ENOMEM;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    if (c > SIZE_MAX / elem)
        c = need;
    void *q = realloc(*p, c * elem);
    if (!q)
        return RDM_ENOMEM;
    *p = q;
    *cap = c;
    return RDM_OK;
}

int rdm_grow_all(void **ps, const size_t *elems, int n, size_t *cap, size_t need)
{
    size_t c = SIZE_MAX;
    for (int i = 0; i < n; i++) {
        size_t ci = *cap;
        if (rdm_grow(&ps[i], &ci, need, elems[i]))
            return RDM_ENOMEM;
        if (ci < c)
            c = ci;
    }
    if (n > 0)
        *cap = c;
    return RDM_OK;
}

int rdm_buf_reserve(rdm_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return RDM_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return RDM_OK;
    if (need < 64)
        need = 64; /* buffers start at 64 bytes */
    void *p = b->data;
    if (rdm_grow(&p, &b->cap, need, 1))
        return RDM_ENOMEM;
    b->data = p;
    return RDM_OK;
}

int rdm_buf_add(rdm_buf *b, const void *p, size_t n)
{
    if (rdm_buf_reserve(b, n))
        return RDM_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return RDM_OK;
}

int rdm_buf_adds(rdm_buf *b, const char *s)
{
    return rdm_buf_add(b, s, strlen(s));
}

int rdm_buf_addc(rdm_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return RDM_OK;
    }
    return rdm_buf_add(b, &c, 1);
}

int rdm_buf_printf(rdm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RDM_EINVAL;
    if (rdm_buf_reserve(b, (size_t)n))
        return RDM_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RDM_OK;
}

/* Probabilities take a short path: x * 1e6 is within 1e-9 of the exact
 * scaled value, so unless its fraction is within 1e-6 of a rounding tie the
 * nearest integer is the one printf rounds to; anything else goes through
 * printf. */
size_t rdm_fmt_long(long v, char *out)
{
    char tmp[24];
    size_t n = 0, k = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[n++] = '-';
    while (n)
        out[k++] = tmp[--n];
    out[k] = '\0';
    return k;
}

int rdm_buf_add_fixed6(rdm_buf *b, double x)
{
    if (!(x >= 0 && x < 1000) || signbit(x))
        return rdm_buf_printf(b, "%.6f", x);
    double y = x * 1e6, fl = floor(y), fr = y - fl;
    if (!(fabs(fr - 0.5) > 1e-6))
        return rdm_buf_printf(b, "%.6f", x);
    if (rdm_buf_reserve(b, 16))
        return RDM_ENOMEM;
    unsigned long v = (unsigned long)fl + (fr > 0.5);
    char tmp[16], *q = tmp + sizeof tmp;
    for (int i = 0; i < 6; i++, v /= 10)
        *--q = (char)('0' + v % 10);
    *--q = '.';
    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t n = (size_t)(tmp + sizeof tmp - q);
    memcpy(b->data + b->len, q, n);
    b->len += n;
    b->data[b->len] = '\0';
    return RDM_OK;
}

void rdm_buf_reset(rdm_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void rdm_buf_release(rdm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *rdm_buf_take(rdm_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- files ---- */

int rdm_read_file(const char *path, rdm_buf *out, rdm_err *err)
{
    char msg[128];
    FILE *f = fopen(path, "rb");
    if (!f)
        return rdm_errf(err, RDM_EIO, "%s: %s", path, rdm_errno_text(errno, msg, sizeof msg));
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (rdm_buf_add(out, chunk, n)) {
            fclose(f);
            return rdm_errf(err, RDM_ENOMEM, "%s: out of memory", path);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return rdm_errf(err, RDM_EIO, "%s: read error", path);
    if (!out->data && rdm_buf_reserve(out, 0))
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    return RDM_OK;
}

static int write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* RDM_EIO "path: [what]cause" from errno (thread-safe text). */
static int io_error(rdm_err *err, const char *path, const char *what)
{
    char msg[128];
    int e = errno;
    return rdm_errf(err, RDM_EIO, "%s: %s%s", path, what, rdm_errno_text(e, msg, sizeof msg));
}

/* Temp file in the same directory, fsync, rename over `path`. */
static int replace_file(const char *path, const void *data, size_t n, rdm_err *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp), rc = RDM_OK;
    if (fd < 0) {
        rc = io_error(err, path, "");
        goto done;
    }
    if (write_all(fd, data, n) != 0 || fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
        rc = io_error(err, path, "");
        close(fd);
        unlink(tmp);
        goto done;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        rc = io_error(err, path, "");
        unlink(tmp);
    }
done:
    free(tmp);
    return rc;
}

/* Write into what is there (a device, a FIFO, a socket): no temp file. */
static int stream_file(const char *path, const void *data, size_t n, rdm_err *err)
{
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return io_error(err, path, "");
    int rc = RDM_OK;
    if (write_all(fd, data, n) != 0)
        rc = io_error(err, path, "write failed: ");
    if (close(fd) != 0 && rc == RDM_OK)
        rc = io_error(err, path, "write failed: ");
    return rc;
}

int rdm_write_file_atomic(const char *path, const void *data, size_t n, rdm_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return io_error(err, path, "");
        return replace_file(path, data, n, err);
    }
    if (S_ISLNK(st.st_mode)) {
        /* replace what the link points to, never the link itself */
        char *target = realpath(path, NULL);
        if (!target)
            return io_error(err, path, "symbolic link to nothing usable: ");
        int rc = rdm_write_file_atomic(target, data, n, err);
        free(target);
        return rc;
    }
    if (S_ISDIR(st.st_mode))
        return rdm_errf(err, RDM_EINVAL, "%s: is a directory, not a file", path);
    if (S_ISREG(st.st_mode))
        return replace_file(path, data, n, err);
    return stream_file(path, data, n, err);
}

int rdm_mkdirs(const char *path, rdm_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return rdm_errf(err, RDM_EINVAL, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            char msg[128];
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return rdm_errf(err, RDM_EIO, "mkdir %s: %s", buf,
                                rdm_errno_text(errno, msg, sizeof msg));
            buf[i] = c;
        }
    }
    return RDM_OK;
}

/* ---- hashing ---- */

struct rdm_sha256 {
    EVP_MD_CTX *ctx;
};

rdm_sha256 *rdm_sha256_new(void)
{
    rdm_sha256 *h = malloc(sizeof *h);
    if (!h)
        return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }
    return h;
}

void rdm_sha256_update(rdm_sha256 *h, const void *data, size_t n)
{
    if (h && n)
        EVP_DigestUpdate(h->ctx, data, n);
}

void rdm_sha256_final(rdm_sha256 *h, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    out[0] = '\0';
    if (!h)
        return;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void rdm_sha256_hex(const void *data, size_t n, char out[65])
{
    rdm_sha256 *h = rdm_sha256_new();
    rdm_sha256_update(h, data, n);
    rdm_sha256_final(h, out);
}

/* ---- clocks ---- */

double rdm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void rdm_utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
