/* secret.h - keep secrets out of what readmit prints: passwords in libpq
 * connection strings. */
#ifndef RDM_SECRET_H
#define RDM_SECRET_H

/* What a masked secret is replaced with. */
#define RDM_SECRET_MASK "****"

/* Copy of the libpq connection string `ci` with every secret replaced by
 * RDM_SECRET_MASK: the password of a URI's user information
 * (postgresql://user:SECRET@host/db), `password` and `sslpassword` query
 * parameters of a URI, and the `password` / `sslpassword` values of key=value
 * conninfo (quoted or not). Everything else is kept as written. NULL gives
 * NULL. Returns a malloc'd string owned by the caller, or NULL when out of
 * memory. */
char *rdm_secret_mask_conninfo(const char *ci);

#endif
