/* fuzz_fastcgi.c - libFuzzer target for the worker's FastCGI record layer
 * (fcgi/fastcgi.c), which takes apart the bytes nginx sends on a connection.
 *
 * The first input byte picks the size of each read the layer is given; the
 * rest is used twice:
 *  - as raw bytes: fed whole and fed read by read, the outcome (complete,
 *    error and its reason, request id, keep flag, parameters, body, replies
 *    to management records) must be the same;
 *  - as the material of a well-formed request (parameters with one- and
 *    four-byte lengths, split into records of varied sizes, a body in padded
 *    records, a management record in between): fed read by read, it must
 *    complete with every parameter and the body as sent. Its body is then
 *    framed as a response (srv_fcgi_frame, one or more FCGI_STDOUT records)
 *    and taken apart again: the bytes must come back unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define BODY_LIMIT (1u << 20)

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_fastcgi: %s\n", what);
    abort();
}

static void add(rdm_buf *b, const void *p, size_t n)
{
    if (rdm_buf_add(b, p, n) != RDM_OK)
        fail("out of memory");
}

typedef struct outcome {
    int rc;
    const char *why;
    srv_fcgi c;
} outcome;

/* Feed d[0..n) in reads of `step` bytes until the request completes or fails. */
static void run(const uint8_t *d, size_t n, size_t step, outcome *o)
{
    srv_fcgi_init(&o->c);
    o->c.body_limit = BODY_LIMIT;
    o->rc = 0;
    o->why = NULL;
    for (size_t pos = 0; pos < n && o->rc == 0;) {
        size_t k = n - pos < step ? n - pos : step;
        add(&o->c.raw, d + pos, k);
        pos += k;
        o->rc = srv_fcgi_feed(&o->c, &o->why);
    }
}

static int same_buf(const rdm_buf *a, const rdm_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void differential(const uint8_t *d, size_t n, size_t step)
{
    outcome whole, parts;
    run(d, n, n ? n : 1, &whole);
    run(d, n, step, &parts);
    if (whole.rc != parts.rc)
        fail("fed whole and fed in reads: different outcome");
    if (whole.rc < 0 && (!whole.why || !parts.why || strcmp(whole.why, parts.why) != 0))
        fail("fed whole and fed in reads: different error");
    if (whole.c.id != parts.c.id || whole.c.keep != parts.c.keep ||
        whole.c.body_seen != parts.c.body_seen || !same_buf(&whole.c.reply, &parts.c.reply))
        fail("fed whole and fed in reads: different request state");
    if (whole.rc == 1 &&
        (!same_buf(&whole.c.env, &parts.c.env) || !same_buf(&whole.c.body, &parts.c.body)))
        fail("fed whole and fed in reads: different parameters or body");
    srv_fcgi_release(&whole.c);
    srv_fcgi_release(&parts.c);
}

/* Input bytes taken in turn, zeros once they run out. */
typedef struct src {
    const uint8_t *p;
    size_t n, pos;
} src;

static unsigned take(src *s)
{
    return s->pos < s->n ? s->p[s->pos++] : 0;
}

static void header(rdm_buf *b, int type, int id, size_t len, size_t pad)
{
    unsigned char h[8] = {1,
                          (unsigned char)type,
                          (unsigned char)(id >> 8),
                          (unsigned char)id,
                          (unsigned char)(len >> 8),
                          (unsigned char)len,
                          (unsigned char)pad,
                          0};
    add(b, h, 8);
}

/* content as records of type `type` of sizes drawn from s (1..max), padded. */
static void records(rdm_buf *b, src *s, int type, int id, const char *p, size_t n, size_t max)
{
    static const char zeros[255];
    while (n > 0) {
        size_t k = s->pos + 2 <= s->n ? 1 + (take(s) << 8 | take(s)) % max : max;
        if (k > n)
            k = n;
        size_t pad = take(s) % 8;
        header(b, type, id, k, pad);
        add(b, p, k);
        add(b, zeros, pad);
        p += k;
        n -= k;
    }
    header(b, type, id, 0, 0); /* end of the stream */
}

static void nv_len(rdm_buf *b, size_t len, int wide)
{
    if (len < 128 && !wide) {
        unsigned char c = (unsigned char)len;
        add(b, &c, 1);
    } else {
        unsigned char q[4] = {(unsigned char)(0x80 | len >> 24), (unsigned char)(len >> 16),
                              (unsigned char)(len >> 8), (unsigned char)len};
        add(b, q, 4);
    }
}

static void well_formed(const uint8_t *d, size_t n, size_t step)
{
    src s = {d, n, 0};
    int id = 1 + (int)(take(&s) % 65535);
    int keep = take(&s) & 1;
    size_t npar = take(&s) % 12;
    rdm_buf params = {0}, names = {0}, values = {0}, wire = {0}, body = {0};
    size_t nlen[12], vlen[12];
    for (size_t i = 0; i < npar; i++) {
        char name[32];
        int k = snprintf(name, sizeof name, "P%zu_%u", i, take(&s) % 100);
        nlen[i] = (size_t)k;
        vlen[i] = take(&s) % 4 == 0 ? 100 + take(&s) * 4 : take(&s) % 40;
        nv_len(&params, nlen[i], take(&s) % 5 == 0);
        nv_len(&params, vlen[i], vlen[i] < 128 && take(&s) % 5 == 0);
        add(&params, name, nlen[i]);
        add(&names, name, nlen[i] + 1);
        for (size_t j = 0; j < vlen[i]; j++) {
            char c = (char)('a' + take(&s) % 26);
            add(&params, &c, 1);
            add(&values, &c, 1);
        }
    }
    size_t blen = (take(&s) << 8 | take(&s)) % 4096;
    if (take(&s) % 8 == 0)
        blen += 65536 * (1 + take(&s) % 2); /* some bodies span several 64 KB records */
    if (rdm_buf_reserve(&body, blen + 1) != RDM_OK)
        fail("out of memory");
    for (size_t j = 0; j < blen; j++) /* the rest of the input, over and over */
        body.data[j] = s.pos < s.n ? (char)s.p[s.pos + j % (s.n - s.pos)] : (char)j;
    body.len = blen;
    unsigned char begin[8] = {0, 1, (unsigned char)keep, 0, 0, 0, 0, 0};
    header(&wire, 1, id, 8, 0);
    add(&wire, begin, 8);
    if (take(&s) & 1) { /* a management record (FCGI_GET_VALUES) in between */
        header(&wire, 9, 0, 0, 0);
    }
    records(&wire, &s, 4, id, params.data, params.len, 65535);
    records(&wire, &s, 5, id, body.data, body.len, 65535);

    outcome o;
    run((const uint8_t *)wire.data, wire.len, wire.len > 16384 ? step * 97 : step, &o);
    if (o.rc != 1)
        fail(o.why ? o.why : "a well-formed request did not complete");
    if (o.c.id != id || o.c.keep != keep || o.c.body_seen != body.len ||
        !same_buf(&o.c.body, &body))
        fail("a well-formed request: id, keep flag or body differ");
    size_t at_name = 0, at_value = 0;
    for (size_t i = 0; i < npar; i++) {
        const char *got = srv_fcgi_param(&o.c, names.data + at_name);
        if (!got || strlen(got) != vlen[i] ||
            (vlen[i] && memcmp(got, values.data + at_value, vlen[i]) != 0))
            fail("a well-formed request: a parameter differs");
        at_name += nlen[i] + 1;
        at_value += vlen[i];
    }
    if (srv_fcgi_param(&o.c, "NOT_SENT"))
        fail("a parameter that was not sent was found");

    /* the body framed as a response and taken apart again */
    rdm_buf out = {0};
    char head[SRV_FCGI_HEAD] = {0};
    add(&out, head, sizeof head);
    add(&out, body.data, body.len);
    if (srv_fcgi_frame(&out, id) != 0)
        fail("srv_fcgi_frame failed");
    rdm_buf back = {0};
    const unsigned char *p = (const unsigned char *)out.data, *end = p + out.len;
    int ended = 0;
    while (p + 8 <= end) {
        size_t len = (size_t)p[4] << 8 | p[5];
        if (p[0] != 1 || (p[2] << 8 | p[3]) != id || p + 8 + len + p[6] > end)
            fail("a framed response has a bad record");
        if (p[1] == 6 && !ended)
            add(&back, p + 8, len);
        else if (p[1] == 3)
            ended = 1;
        else
            fail("a framed response has an unexpected record");
        p += 8 + len + p[6];
    }
    if (p != end || !ended || !same_buf(&back, &body))
        fail("a framed response does not give back its body");

    rdm_buf *all[] = {&params, &names, &values, &wire, &body, &out, &back};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rdm_buf_release(all[i]);
    srv_fcgi_release(&o.c);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    size_t step = 1 + d[0] % 97;
    differential(d + 1, n - 1, step);
    well_formed(d + 1, n - 1, step);
    return 0;
}
