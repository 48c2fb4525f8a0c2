/* httpc.h - a minimal HTTP/1.1 client for loopback traffic (readmit replay):
 * one keep-alive connection, POST with a body, the status and body of the
 * answer (Content-Length or chunked). */
#ifndef RDM_HTTPC_H
#define RDM_HTTPC_H

#include "readmit.h"

typedef struct rdm_httpc rdm_httpc;

/* A client for http://HOST:PORT (host is a numeric IPv4 address or
 * "localhost"); it connects on first use. NULL with err on a bad URL. */
rdm_httpc *rdm_httpc_create(const char *url, rdm_err *err);
void rdm_httpc_free(rdm_httpc *c);

/* POST `body` to `path`; *status gets the HTTP status and `resp` the body
 * (reset first). A broken connection is re-opened once. RDM_EIO with err when
 * no answer came (the request may or may not have been served). */
int rdm_httpc_post(rdm_httpc *c, const char *path, const char *body, size_t len, int *status,
                   rdm_buf *resp, rdm_err *err);

#endif
