/* secret.c - mask passwords in libpq connection strings before they are shown. */
#include "secret.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "readmit.h"

static int is_secret_key(const char *k, size_t n)
{
    return (n == 8 && !strncmp(k, "password", n)) || (n == 11 && !strncmp(k, "sslpassword", n));
}

static int uri_prefix(const char *s)
{
    static const char *const P[] = {"postgresql://", "postgres://"};
    for (size_t i = 0; i < sizeof P / sizeof P[0]; i++)
        if (!strncmp(s, P[i], strlen(P[i])))
            return (int)strlen(P[i]);
    return 0;
}

/* URI: user:SECRET@ in the authority (libpq takes the first '@' before any
 * '/' as the end of the user information), then ?k=v&k=v parameters. */
static int mask_uri(rdm_buf *b, const char *ci, size_t pre)
{
    const char *p = ci + pre, *at = p;
    while (*at && *at != '@' && *at != '/')
        at++;
    const char *colon = *at == '@' ? memchr(p, ':', (size_t)(at - p)) : NULL;
    int rc = rdm_buf_add(b, ci, pre);
    if (colon && colon + 1 < at) {
        rc = rc ? rc : rdm_buf_add(b, p, (size_t)(colon + 1 - p));
        rc = rc ? rc : rdm_buf_adds(b, RDM_SECRET_MASK);
        p = at;
    }
    const char *q = strchr(p, '?');
    if (!q)
        return rc ? rc : rdm_buf_adds(b, p);
    rc = rc ? rc : rdm_buf_add(b, p, (size_t)(q + 1 - p));
    for (p = q + 1; *p && !rc;) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (eq && is_secret_key(p, (size_t)(eq - p)) && eq + 1 < p + n) {
            rc = rdm_buf_add(b, p, (size_t)(eq + 1 - p));
            rc = rc ? rc : rdm_buf_adds(b, RDM_SECRET_MASK);
        } else {
            rc = rdm_buf_add(b, p, n);
        }
        p += n;
        if (*p == '&' && !rc)
            rc = rdm_buf_addc(b, *p++);
    }
    return rc;
}

/* key = value pairs separated by spaces; a value is 'quoted' (with \' and \\
 * escapes) or runs to the next space. */
static int mask_kv(rdm_buf *b, const char *ci)
{
    const char *p = ci;
    int rc = RDM_OK;
    while (*p && !rc) {
        const char *start = p;
        while (isspace((unsigned char)*p))
            p++;
        const char *key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - key);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=') /* not a pair: keep the rest as written */
            return rdm_buf_adds(b, start);
        p++;
        while (isspace((unsigned char)*p))
            p++;
        const char *val = p;
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (*p == '\'')
                p++;
        } else {
            while (*p && !isspace((unsigned char)*p))
                p++;
        }
        rc = rdm_buf_add(b, start, (size_t)(val - start));
        if (is_secret_key(key, klen) && p > val)
            rc = rc ? rc : rdm_buf_adds(b, RDM_SECRET_MASK);
        else
            rc = rc ? rc : rdm_buf_add(b, val, (size_t)(p - val));
    }
    return rc;
}

char *rdm_secret_mask_conninfo(const char *ci)
{
    if (!ci)
        return NULL;
    rdm_buf b = RDM_BUF_INIT;
    int pre = uri_prefix(ci);
    int rc = pre ? mask_uri(&b, ci, (size_t)pre) : mask_kv(&b, ci);
    if (rc) {
        rdm_buf_release(&b);
        return NULL;
    }
    return rdm_buf_take(&b);
}
