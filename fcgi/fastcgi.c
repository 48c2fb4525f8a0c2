/* fastcgi.c - the FastCGI record layer of the worker: protocol version 1,
 * the responder role, one request at a time on a connection (what nginx
 * sends: no multiplexing). A request is assembled from whatever bytes have
 * arrived so far, so a connection whose request is still on its way holds
 * no thread; a response is framed in one buffer, sent with one write. */
#include <string.h>

#include "schema.h"
#include "server.h"

enum {
    T_BEGIN = 1,
    T_ABORT = 2,
    T_END = 3,
    T_PARAMS = 4,
    T_STDIN = 5,
    T_STDOUT = 6,
    T_GET_VALUES = 9,
    T_GET_VALUES_RESULT = 10,
    T_UNKNOWN_TYPE = 11
};

#define ROLE_RESPONDER 1
#define FLAG_KEEP_CONN 1
#define MAX_CONTENT    65535
#define MAX_PARAMS     (1u << 20) /* bytes of FCGI_PARAMS per request */

static void put_header(unsigned char *h, int type, int id, size_t len)
{
    h[0] = 1;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    h[4] = (unsigned char)(len >> 8);
    h[5] = (unsigned char)len;
    h[6] = 0; /* no padding */
    h[7] = 0;
}

void srv_fcgi_init(srv_fcgi *c)
{
    memset(c, 0, sizeof *c);
}

void srv_fcgi_release(srv_fcgi *c)
{
    rdm_buf_release(&c->raw);
    rdm_buf_release(&c->params);
    rdm_buf_release(&c->env);
    rdm_buf_release(&c->body);
    rdm_buf_release(&c->reply);
}

void srv_fcgi_next(srv_fcgi *c, size_t keep_cap)
{
    c->id = c->keep = c->params_done = c->complete = 0;
    c->body_seen = 0;
    rdm_buf_reset(&c->params);
    rdm_buf_reset(&c->env);
    rdm_buf_reset(&c->body);
    rdm_buf *all[] = {&c->params, &c->env, &c->body};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]->cap > keep_cap)
            rdm_buf_release(all[i]);
    if (c->raw.len == 0 && c->raw.cap > keep_cap)
        rdm_buf_release(&c->raw);
}

/* A name-value pair length: one byte below 128, else four with the top bit. */
static int nv_len(const unsigned char **p, const unsigned char *end, size_t *out)
{
    if (*p >= end)
        return -1;
    if (!(**p & 0x80)) {
        *out = *(*p)++;
        return 0;
    }
    if (end - *p < 4)
        return -1;
    const unsigned char *q = *p;
    *out = (size_t)(q[0] & 0x7f) << 24 | (size_t)q[1] << 16 | (size_t)q[2] << 8 | q[3];
    *p += 4;
    return 0;
}

/* The parameters as name\0value\0 pairs, for srv_fcgi_param. */
static int build_env(srv_fcgi *c, const char **why)
{
    rdm_buf_reset(&c->env);
    if (c->params.len == 0) /* no parameters at all (params.data may be NULL) */
        return 0;
    const unsigned char *p = (const unsigned char *)c->params.data;
    const unsigned char *end = p + c->params.len;
    while (p < end) {
        size_t nl, vl;
        if (nv_len(&p, end, &nl) != 0 || nv_len(&p, end, &vl) != 0 || (size_t)(end - p) < nl ||
            (size_t)(end - p) - nl < vl) {
            *why = "malformed FastCGI parameters";
            return -1;
        }
        if (rdm_buf_add(&c->env, p, nl) != RDM_OK || rdm_buf_addc(&c->env, '\0') != RDM_OK ||
            rdm_buf_add(&c->env, p + nl, vl) != RDM_OK || rdm_buf_addc(&c->env, '\0') != RDM_OK) {
            *why = "out of memory";
            return -1;
        }
        p += nl + vl;
    }
    return 0;
}

const char *srv_fcgi_param(const srv_fcgi *c, const char *name)
{
    if (c->env.len == 0)
        return NULL;
    const char *p = c->env.data, *end = p + c->env.len;
    while (p < end) {
        const char *v = p + strlen(p) + 1;
        if (strcmp(p, name) == 0)
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

/* A reply to a management record (request id 0): FCGI_GET_VALUES gets an
 * empty result (nothing is promised), any other type FCGI_UNKNOWN_TYPE. */
static int management(srv_fcgi *c, int type)
{
    unsigned char r[16];
    size_t n = 8;
    if (type == T_GET_VALUES) {
        put_header(r, T_GET_VALUES_RESULT, 0, 0);
    } else {
        put_header(r, T_UNKNOWN_TYPE, 0, 8);
        memset(r + 8, 0, 8);
        r[8] = (unsigned char)type;
        n = 16;
    }
    return rdm_buf_add(&c->reply, r, n) == RDM_OK ? 0 : -1;
}

/* One whole record of the request in progress. 0, or -1 with *why. */
static int record(srv_fcgi *c, int type, int id, const unsigned char *p, size_t n, const char **why)
{
    if (type == T_BEGIN) {
        if (c->id) {
            *why = "a second FastCGI request began on a connection before the first ended";
            return -1;
        }
        if (n < 8 || (p[0] << 8 | p[1]) != ROLE_RESPONDER) {
            *why = "FastCGI role not supported (only the responder)";
            return -1;
        }
        c->id = id;
        c->keep = (p[2] & FLAG_KEEP_CONN) != 0;
        return 0;
    }
    if (!c->id || id != c->id) {
        *why = "FastCGI record outside a request";
        return -1;
    }
    switch (type) {
    case T_PARAMS:
        if (c->params_done) {
            *why = "FastCGI parameters after their end";
            return -1;
        }
        if (n == 0) {
            c->params_done = 1;
            return build_env(c, why);
        }
        if (c->params.len + n > MAX_PARAMS || rdm_buf_add(&c->params, p, n) != RDM_OK) {
            *why = "FastCGI parameters too large";
            return -1;
        }
        return 0;
    case T_STDIN:
        if (!c->params_done) {
            *why = "FastCGI request body before the end of its parameters";
            return -1;
        }
        if (n == 0) {
            c->complete = 1;
            return 0;
        }
        c->body_seen += n;
        /* past the limit the bytes are counted, not kept (the caller answers 413) */
        if (c->body_seen <= c->body_limit && rdm_buf_add(&c->body, p, n) != RDM_OK) {
            *why = "out of memory";
            return -1;
        }
        return 0;
    case T_ABORT:
        *why = "FastCGI request aborted by the web server";
        return -1;
    default: /* FCGI_DATA (filter role only) and anything else: ignored */
        return 0;
    }
}

int srv_fcgi_feed(srv_fcgi *c, const char **why)
{
    size_t pos = 0;
    int rc = 0;
    while (!c->complete) {
        size_t avail = c->raw.len - pos;
        if (avail < 8)
            break;
        const unsigned char *h = (const unsigned char *)c->raw.data + pos;
        if (h[0] != 1) {
            *why = "not FastCGI (version 1) records";
            rc = -1;
            break;
        }
        int type = h[1], id = h[2] << 8 | h[3];
        size_t n = (size_t)h[4] << 8 | h[5], total = 8 + n + h[6];
        if (avail < total)
            break;
        pos += total;
        if (id == 0 ? management(c, type) != 0 : record(c, type, id, h + 8, n, why) != 0) {
            if (id == 0)
                *why = "out of memory";
            rc = -1;
            break;
        }
    }
    /* what is left is the start of a record (or the next request) */
    if (pos) {
        memmove(c->raw.data, c->raw.data + pos, c->raw.len - pos);
        c->raw.len -= pos;
    }
    return rc < 0 ? -1 : c->complete;
}

size_t srv_fcgi_want(const srv_fcgi *c)
{
    size_t want = 1u << 16;
    if (c->params_done) {
        /* the rest of the body at once: its records cost 8 bytes per 64 KB */
        const char *cl = srv_fcgi_param(c, "CONTENT_LENGTH");
        long n = 0;
        if (cl && rdm_parse_long(cl, &n) == 0 && n > 0 && (size_t)n > c->body_seen &&
            (size_t)n - c->body_seen < c->body_limit) {
            size_t rest = (size_t)n - c->body_seen;
            rest += (rest / MAX_CONTENT + 2) * 8 + 8;
            if (rest > want)
                want = rest;
        }
    }
    return want;
}

int srv_fcgi_frame(rdm_buf *out, int id)
{
    if (out->len < SRV_FCGI_HEAD)
        return -1;
    size_t payload = out->len - SRV_FCGI_HEAD;
    unsigned char tail[24];
    put_header(tail, T_STDOUT, id, 0);
    put_header(tail + 8, T_END, id, 8);
    memset(tail + 16, 0, 8); /* app status 0, FCGI_REQUEST_COMPLETE */
    if (payload <= MAX_CONTENT) {
        put_header((unsigned char *)out->data, T_STDOUT, id, payload);
        return rdm_buf_add(out, tail, sizeof tail) == RDM_OK ? 0 : -1;
    }
    /* more than one record: a header every 64 KB, in place */
    size_t nrec = (payload + MAX_CONTENT - 1) / MAX_CONTENT;
    size_t extra = (nrec - 1) * 8;
    if (rdm_buf_reserve(out, extra + sizeof tail) != RDM_OK)
        return -1;
    char *d = out->data;
    /* move chunks back to front, each to its final place after the headers before it */
    for (size_t k = nrec; k-- > 1;) {
        size_t from = SRV_FCGI_HEAD + k * MAX_CONTENT;
        size_t len = k == nrec - 1 ? payload - k * MAX_CONTENT : MAX_CONTENT;
        size_t to = from + k * 8;
        memmove(d + to, d + from, len);
        put_header((unsigned char *)d + to - 8, T_STDOUT, id, len);
    }
    put_header((unsigned char *)d, T_STDOUT, id, MAX_CONTENT);
    out->len += extra;
    memcpy(d + out->len, tail, sizeof tail);
    out->len += sizeof tail;
    return 0;
}
