/* db.h - PostgreSQL access (libpq): connection, named SQL from sql/,
 * parameterised statements, transactions, COPY in/out and migrations. */
#ifndef RDM_DB_H
#define RDM_DB_H

#include <libpq-fe.h>

#include "config.h"
#include "readmit.h"

typedef struct rdm_db rdm_db;

/* Conninfo that rdm_db_connect() uses for `c`: DATABASE_URL if set; else ""
 * (libpq environment) if PGHOST is set; else the private cluster's socket.
 * Returns a malloc'd string owned by the caller. */
char *rdm_db_conninfo(const rdm_config *c);

/* Connect. Returns a handle owned by the caller (rdm_db_close), or NULL with err. */
rdm_db *rdm_db_connect(const rdm_config *c, rdm_err *err);
void rdm_db_close(rdm_db *db);
/* The underlying connection (borrowed). */
PGconn *rdm_db_conn(rdm_db *db);

/* Text of the embedded statement sql/<name>.sql (e.g. "raw_insert_batch",
 * "schema/001_raw"), or NULL. */
const char *rdm_sql(const char *name);
/* Names of all embedded statements, NULL-terminated, sorted. */
const char *const *rdm_sql_names(void);

/* Run the named statement with text parameters (NULL = SQL NULL). Returns the
 * result (PQclear it) on success (COMMAND_OK or TUPLES_OK), or NULL with err
 * naming the statement and the server's message. */
PGresult *rdm_db_query(rdm_db *db, const char *name, int nparams, const char *const *params,
                       rdm_err *err);
/* Same, discarding the result. */
int rdm_db_exec(rdm_db *db, const char *name, int nparams, const char *const *params, rdm_err *err)
    __attribute__((warn_unused_result));
/* Run SQL text without parameters; for text from rdm_sql() that may hold
 * several statements (the migration files). Prefer rdm_db_exec(). */
int rdm_db_exec_sql(rdm_db *db, const char *sql, rdm_err *err) __attribute__((warn_unused_result));

int rdm_db_begin(rdm_db *db, rdm_err *err) __attribute__((warn_unused_result));
int rdm_db_commit(rdm_db *db, rdm_err *err) __attribute__((warn_unused_result));
void rdm_db_rollback(rdm_db *db); /* best effort, never fails */

/* COPY ... FROM STDIN with the named statement; then put data, then end.
 * rdm_db_copy_end(db, NULL, err) finishes; with a message it aborts the COPY. */
int rdm_db_copy_in_begin(rdm_db *db, const char *name, rdm_err *err)
    __attribute__((warn_unused_result));
int rdm_db_copy_put(rdm_db *db, const char *data, size_t n, rdm_err *err)
    __attribute__((warn_unused_result));
int rdm_db_copy_end(rdm_db *db, const char *abort_msg, rdm_err *err);

/* COPY ... TO STDOUT with the named statement: `row` is called for each line
 * (text format, including the trailing newline; not NUL-terminated). A non-zero
 * return from `row` stops (the error is returned). */
typedef int (*rdm_copy_row_fn)(const char *line, size_t len, void *ud, rdm_err *err);
int rdm_db_copy_out(rdm_db *db, const char *name, rdm_copy_row_fn row, void *ud, rdm_err *err);

/* Split one COPY text-format line into fields in place: `\N` -> NULL, escapes
 * decoded. `line` is modified; fields point into it. Returns the field count
 * or -1 if more than `max`. */
int rdm_copy_split(char *line, size_t len, char **fields, int max);
/* Append `v` escaped for COPY text format (NULL -> \N) to out. */
int rdm_copy_escape(rdm_buf *out, const char *v) __attribute__((warn_unused_result));

/* Apply every embedded sql/schema/NNN_*.sql not yet recorded in
 * public.schema_migrations, each in its own transaction. *applied gets the
 * number applied (0 when up to date). */
int rdm_db_migrate(rdm_db *db, int *applied, rdm_err *err);

#endif
