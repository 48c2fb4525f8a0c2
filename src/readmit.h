/* readmit.h - core types shared by every module: error codes, error buffer, logging. */
#ifndef READMIT_H
#define READMIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define RDM_VERSION "0.1.0"

/* Status codes: 0 is success, failures are negative. */
enum {
    RDM_OK = 0,
    RDM_ENOMEM = -1,    /* allocation failed */
    RDM_EIO = -2,       /* file or socket I/O */
    RDM_EPARSE = -3,    /* malformed input (CSV, YAML, JSON, model file) */
    RDM_EINVAL = -4,    /* bad argument or value */
    RDM_EDB = -5,       /* database error */
    RDM_ESCHEMA = -6,   /* input does not match the expected schema */
    RDM_EVERSION = -7,  /* unsupported format version */
    RDM_ENOTFOUND = -8, /* no such object (model, run, version) */
    RDM_EVALID = -9,    /* data validation failed */
    RDM_ESTATE = -10,   /* operation not possible in the current state */
};

#define RDM_ERR_MSG 512

/* Caller-owned error buffer. The first message written is kept; outer layers
 * may add context with rdm_err_prefix(). */
typedef struct rdm_err {
    int code;
    char msg[RDM_ERR_MSG];
} rdm_err;

/* Fill `err` (may be NULL) unless it already holds a message; returns `code`. */
int rdm_errf(rdm_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepend "prefix: " to the message held in `err` (no-op if empty or NULL). */
void rdm_err_prefix(rdm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the buffer. */
void rdm_err_clear(rdm_err *err);
/* Short name of a status code ("parse error", ...). */
const char *rdm_strerror(int code);
/* Text of errno value `e` in the caller's buffer (thread-safe; strerror_r). */
const char *rdm_errno_text(int e, char *buf, size_t n);

/* Logging: one line per event on the sink (stderr by default). */
enum { RDM_LOG_DEBUG = 0, RDM_LOG_INFO = 1, RDM_LOG_WARN = 2, RDM_LOG_ERROR = 3, RDM_LOG_OFF = 4 };

extern int rdm_log_level;
typedef void (*rdm_log_sink)(int level, const char *line, void *ud);
void rdm_log_set_sink(rdm_log_sink sink, void *ud);
void rdm_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rdm_log(level, ...)                      \
    do {                                         \
        if ((level) >= rdm_log_level)            \
            rdm_log_write((level), __VA_ARGS__); \
    } while (0)

/* Growable byte buffer, always NUL-terminated (data may also hold NULs). */
typedef struct rdm_buf {
    char *data;
    size_t len;
    size_t cap;
} rdm_buf;

#define RDM_BUF_INIT \
    {                \
        NULL, 0, 0   \
    }
int rdm_buf_reserve(rdm_buf *b, size_t extra) __attribute__((warn_unused_result));
int rdm_buf_add(rdm_buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int rdm_buf_adds(rdm_buf *b, const char *s) __attribute__((warn_unused_result));
int rdm_buf_addc(rdm_buf *b, char c) __attribute__((warn_unused_result));
int rdm_buf_printf(rdm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
__attribute__((warn_unused_result));
/* Append x exactly as printf("%.6f", x) writes it in the C locale (the
 * probabilities of readmit predict and of the HTTP answers), without printf
 * for the usual values. */
int rdm_buf_add_fixed6(rdm_buf *b, double x) __attribute__((warn_unused_result));
/* The decimal text of v, as printf's "%ld" writes it, NUL-terminated in out
 * (at least 24 bytes); returns its length. */
size_t rdm_fmt_long(long v, char *out);
void rdm_buf_reset(rdm_buf *b); /* len = 0, keeps the storage */
void rdm_buf_release(rdm_buf *b);
/* Give the storage to the caller (free() it); the buffer becomes empty. */
char *rdm_buf_take(rdm_buf *b);

/* Grow the array *p (*cap elements of `elem` bytes each) so that it holds at
 * least `need` elements: the capacity doubles (from 8) until it is enough.
 * Returns RDM_OK, or RDM_ENOMEM with *p and *cap unchanged when the
 * allocation fails or need * elem would overflow. Pass a `void *` copy of a
 * typed pointer: `void *v = a; if (rdm_grow(&v, &cap, n, sizeof *a)) ...; a = v;` */
int rdm_grow(void **p, size_t *cap, size_t need, size_t elem) __attribute__((warn_unused_result));
/* rdm_grow for n parallel arrays that share one capacity: ps[i] holds
 * elements of elems[i] bytes. *cap changes only when every array grew; an
 * array that did grow before a failure keeps its larger block, so copy the
 * pointers back in either case:
 * `void *a[2] = {x, y}; rc = rdm_grow_all(a, e, 2, &cap, n); x = a[0]; y = a[1];` */
int rdm_grow_all(void **ps, const size_t *elems, int n, size_t *cap, size_t need)
    __attribute__((warn_unused_result));

/* Read a whole file into `out` (appended). */
int rdm_read_file(const char *path, rdm_buf *out, rdm_err *err);
/* Write `n` bytes to `path`. A regular file or a missing path is replaced
 * atomically (temp file in the same directory, fsync, rename); a symbolic
 * link is followed and its target replaced (the link stays); a device, FIFO
 * or socket is written in place (streamed, never replaced by a file); a
 * directory is refused (RDM_EINVAL). Write errors (e.g. /dev/full) are
 * RDM_EIO naming the path and the cause. */
int rdm_write_file_atomic(const char *path, const void *data, size_t n, rdm_err *err);
/* mkdir -p */
int rdm_mkdirs(const char *path, rdm_err *err);

/* SHA-256 of a buffer as 64 lowercase hex chars + NUL. */
void rdm_sha256_hex(const void *data, size_t n, char out[65]);
/* Incremental SHA-256. */
typedef struct rdm_sha256 rdm_sha256;
rdm_sha256 *rdm_sha256_new(void);
void rdm_sha256_update(rdm_sha256 *h, const void *data, size_t n);
void rdm_sha256_final(rdm_sha256 *h, char out[65]); /* also frees h */

/* Progress of a long operation, for a caller that shows it (the readmit
 * command prints it on a terminal). `what` names the step ("ingest", "train
 * gbt lr=0.1"); done/total count the step's own unit (total <= 0: unknown);
 * `detail` may be NULL ("valid roc_auc 0.6712"). Called from the calling
 * thread only. */
typedef void (*rdm_progress_fn)(void *ud, const char *what, double done, double total,
                                const char *detail);

/* Monotonic seconds, for progress and durations. */
double rdm_now(void);
/* UTC wall clock as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ". */
void rdm_utc_now(char out[32]);

#endif
