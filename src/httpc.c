/* httpc.c - minimal keep-alive HTTP/1.1 client over TCP. */
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct rdm_httpc {
    struct sockaddr_in addr;
    char host[80];
    int fd;
    rdm_buf in; /* bytes read and not consumed */
};

rdm_httpc *rdm_httpc_create(const char *url, rdm_err *err)
{
    char host[64];
    int port = 80;
    if (strncmp(url, "http://", 7) != 0 || sscanf(url + 7, "%63[^:/]:%d", host, &port) < 1 ||
        port <= 0 || port > 65535) {
        rdm_errf(err, RDM_EINVAL, "url '%s': expected http://HOST:PORT", url);
        return NULL;
    }
    rdm_httpc *c = calloc(1, sizeof *c);
    if (!c) {
        rdm_errf(err, RDM_ENOMEM, "out of memory");
        return NULL;
    }
    c->fd = -1;
    snprintf(c->host, sizeof c->host, "%s:%d", host, port);
    c->addr.sin_family = AF_INET;
    c->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &c->addr.sin_addr) !=
        1) {
        free(c);
        rdm_errf(err, RDM_EINVAL, "url '%s': host must be a numeric IPv4 address", url);
        return NULL;
    }
    return c;
}

void rdm_httpc_free(rdm_httpc *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    rdm_buf_release(&c->in);
    free(c);
}

static void disconnect(rdm_httpc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    rdm_buf_reset(&c->in);
}

static int connect_once(rdm_httpc *c, rdm_err *err)
{
    if (c->fd >= 0)
        return RDM_OK;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        char msg[128];
        return rdm_errf(err, RDM_EIO, "socket: %s", rdm_errno_text(errno, msg, sizeof msg));
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&c->addr, sizeof c->addr) != 0) {
        int e = errno;
        disconnect(c);
        char msg[128];
        return rdm_errf(err, RDM_EIO, "connect %s: %s", c->host,
                        rdm_errno_text(e, msg, sizeof msg));
    }
    return RDM_OK;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read more bytes into c->in; 0 at end of stream, -1 on error. */
static int fill(rdm_httpc *c)
{
    if (rdm_buf_reserve(&c->in, 16384) != RDM_OK)
        return -1;
    ssize_t r;
    do
        r = recv(c->fd, c->in.data + c->in.len, 16384, 0);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r == 0 ? 0 : -1;
    c->in.len += (size_t)r;
    c->in.data[c->in.len] = '\0';
    return 1;
}

static void consume(rdm_httpc *c, size_t n)
{
    memmove(c->in.data, c->in.data + n, c->in.len - n);
    c->in.len -= n;
    c->in.data[c->in.len] = '\0';
}

/* Read one response; 0 ok, -1 when the connection broke. */
static int read_response(rdm_httpc *c, int *status, rdm_buf *resp)
{
    char *end;
    while (!c->in.data || !(end = strstr(c->in.data, "\r\n\r\n")))
        if (fill(c) <= 0)
            return -1;
    size_t head = (size_t)(end - c->in.data) + 4;
    if (sscanf(c->in.data, "HTTP/1.%*d %d", status) != 1)
        return -1;
    long clen = -1;
    int chunked = 0, close_after = 0;
    for (char *l = strstr(c->in.data, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (!strncasecmp(l + 2, "Content-Length:", 15))
            clen = atol(l + 17);
        else if (!strncasecmp(l + 2, "Transfer-Encoding: chunked", 26))
            chunked = 1;
        else if (!strncasecmp(l + 2, "Connection: close", 17))
            close_after = 1;
    }
    consume(c, head);
    if (!chunked) {
        if (clen < 0)
            return -1;
        while (c->in.len < (size_t)clen)
            if (fill(c) <= 0)
                return -1;
        if (rdm_buf_add(resp, c->in.data, (size_t)clen) != RDM_OK)
            return -1;
        consume(c, (size_t)clen);
    } else {
        for (;;) {
            char *nl;
            while (!(nl = strstr(c->in.data ? c->in.data : "", "\r\n")))
                if (fill(c) <= 0)
                    return -1;
            long n = strtol(c->in.data, NULL, 16);
            size_t hl = (size_t)(nl - c->in.data) + 2;
            while (c->in.len < hl + (size_t)n + 2)
                if (fill(c) <= 0)
                    return -1;
            if (n > 0 && rdm_buf_add(resp, c->in.data + hl, (size_t)n) != RDM_OK)
                return -1;
            consume(c, hl + (size_t)n + 2);
            if (n == 0)
                break;
        }
    }
    if (close_after)
        disconnect(c);
    return 0;
}

int rdm_httpc_post(rdm_httpc *c, const char *path, const char *body, size_t len, int *status,
                   rdm_buf *resp, rdm_err *err)
{
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      path, c->host, len);
    for (int attempt = 0; attempt < 2; attempt++) {
        rdm_buf_reset(resp);
        int rc = connect_once(c, err);
        if (rc != RDM_OK)
            return rc;
        if (send_all(c->fd, head, (size_t)hn) == 0 && send_all(c->fd, body, len) == 0 &&
            read_response(c, status, resp) == 0)
            return RDM_OK;
        disconnect(c); // a kept-alive connection the server closed: try a fresh one once
    }
    return rdm_errf(err, RDM_EIO, "POST %s%s: no answer", c->host, path);
}
