/* db.c - libpq wrapper: connections, named statements, COPY, migrations. */
#include "db.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rdm_db {
    PGconn *conn;
    const char *copy_name;
};

/* Generated from sql/ by the build (build/sql_gen.c). */
extern const char *const rdm_sql_gen_names[];
extern const char *const rdm_sql_gen_texts[];
extern const int rdm_sql_gen_count;

const char *rdm_sql(const char *name)
{
    int lo = 0, hi = rdm_sql_gen_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(name, rdm_sql_gen_names[mid]);
        if (c == 0)
            return rdm_sql_gen_texts[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *const *rdm_sql_names(void)
{
    return rdm_sql_gen_names;
}

/* Append key='value' to a conninfo string: values are single-quoted with \
 * and ' escaped, so a path or name cannot add keywords of its own. */
static int conninfo_add(rdm_buf *b, const char *key, const char *value)
{
    if (rdm_buf_printf(b, "%s='", key))
        return RDM_ENOMEM;
    for (const char *p = value; *p; p++) {
        if ((*p == '\'' || *p == '\\') && rdm_buf_addc(b, '\\'))
            return RDM_ENOMEM;
        if (rdm_buf_addc(b, *p))
            return RDM_ENOMEM;
    }
    return rdm_buf_addc(b, '\'');
}

char *rdm_db_conninfo(const rdm_config *c)
{
    const char *url = getenv("DATABASE_URL");
    if (url && *url)
        return strdup(url);
    const char *host = getenv("PGHOST");
    if (host && *host) {
        /* libpq takes host, user, password from PG*; the database is
         * PGDATABASE when set, else db.name (so tests can use their own). */
        const char *pgdb = getenv("PGDATABASE");
        if (c->db.dsn || (pgdb && *pgdb))
            return strdup(c->db.dsn ? c->db.dsn : "");
        rdm_buf b = RDM_BUF_INIT;
        if (conninfo_add(&b, "dbname", c->db.name ? c->db.name : "readmit")) {
            rdm_buf_release(&b);
            return NULL;
        }
        return rdm_buf_take(&b);
    }
    if (c->db.dsn && *c->db.dsn)
        return strdup(c->db.dsn);
    char abs[PATH_MAX];
    const char *dir = c->db.socket_dir ? c->db.socket_dir : "var/pg/run";
    if (!realpath(dir, abs))
        snprintf(abs, sizeof abs, "%s", dir);
    rdm_buf b = RDM_BUF_INIT;
    if (conninfo_add(&b, "host", abs) ||
        conninfo_add(&b, " dbname", c->db.name ? c->db.name : "readmit") ||
        rdm_buf_adds(&b, " user='readmit'")) {
        rdm_buf_release(&b);
        return NULL;
    }
    return rdm_buf_take(&b);
}

static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int result_error(rdm_db *db, PGresult *r, const char *what, rdm_err *err);

rdm_db *rdm_db_connect(const rdm_config *c, rdm_err *err)
{
    char *ci = rdm_db_conninfo(c);
    if (!ci) {
        rdm_errf(err, RDM_ENOMEM, "out of memory");
        return NULL;
    }
    PGconn *conn = PQconnectdb(ci);
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[RDM_ERR_MSG];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        /* name the target by host, database and user, never by the conninfo
         * text: a DATABASE_URL may hold a password */
        const char *host = PQhost(conn), *db = PQdb(conn), *user = PQuser(conn);
        rdm_errf(err, RDM_EDB, "cannot connect to PostgreSQL (host %s, database %s, user %s): %s%s",
                 host && *host ? host : "default", db && *db ? db : "default",
                 user && *user ? user : "default", msg,
                 (getenv("DATABASE_URL") || getenv("PGHOST"))
                     ? ""
                     : " (is the private server running? try: make db-start)");
        PQfinish(conn);
        free(ci);
        return NULL;
    }
    free(ci);
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    rdm_db *db = calloc(1, sizeof *db);
    if (!db) {
        PQfinish(conn);
        rdm_errf(err, RDM_ENOMEM, "out of memory");
        return NULL;
    }
    db->conn = conn;
    /* the session settings every statement and COPY of ours assumes */
    if (PQsetClientEncoding(conn, "UTF8") != 0) {
        result_error(db, NULL, "client_encoding UTF8", err);
        rdm_db_close(db);
        return NULL;
    }
    if (rdm_db_exec(db, "meta_set_datestyle", 0, NULL, err) != RDM_OK) {
        rdm_db_close(db);
        return NULL;
    }
    return db;
}

void rdm_db_close(rdm_db *db)
{
    if (!db)
        return;
    PQfinish(db->conn);
    free(db);
}

PGconn *rdm_db_conn(rdm_db *db)
{
    return db ? db->conn : NULL;
}

static int result_error(rdm_db *db, PGresult *r, const char *what, rdm_err *err)
{
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);
    char buf[RDM_ERR_MSG];
    snprintf(buf, sizeof buf, "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return rdm_errf(err, RDM_EDB, "sql %s: %s", what, buf);
}

PGresult *rdm_db_query(rdm_db *db, const char *name, int nparams, const char *const *params,
                       rdm_err *err)
{
    const char *sql = rdm_sql(name);
    if (!sql) {
        rdm_errf(err, RDM_EINVAL, "no SQL statement named '%s' in sql/", name);
        return NULL;
    }
    PGresult *r = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        result_error(db, r, name, err);
        PQclear(r);
        return NULL;
    }
    return r;
}

int rdm_db_exec(rdm_db *db, const char *name, int nparams, const char *const *params, rdm_err *err)
{
    PGresult *r = rdm_db_query(db, name, nparams, params, err);
    if (!r)
        return RDM_EDB;
    PQclear(r);
    return RDM_OK;
}

int rdm_db_exec_sql(rdm_db *db, const char *sql, rdm_err *err)
{
    PGresult *r = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char what[64];
        snprintf(what, sizeof what, "'%.40s'", sql);
        result_error(db, r, what, err);
        PQclear(r);
        return RDM_EDB;
    }
    PQclear(r);
    return RDM_OK;
}

int rdm_db_begin(rdm_db *db, rdm_err *err)
{
    return rdm_db_exec(db, "meta_begin", 0, NULL, err);
}

int rdm_db_commit(rdm_db *db, rdm_err *err)
{
    return rdm_db_exec(db, "meta_commit", 0, NULL, err);
}

void rdm_db_rollback(rdm_db *db)
{
    if (db && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        PQclear(PQexecParams(db->conn, rdm_sql("meta_rollback"), 0, NULL, NULL, NULL, NULL, 0));
}

int rdm_db_copy_in_begin(rdm_db *db, const char *name, rdm_err *err)
{
    const char *sql = rdm_sql(name);
    if (!sql)
        return rdm_errf(err, RDM_EINVAL, "no SQL statement named '%s' in sql/", name);
    PGresult *r = PQexec(db->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        result_error(db, r, name, err);
        PQclear(r);
        return RDM_EDB;
    }
    PQclear(r);
    db->copy_name = name;
    return RDM_OK;
}

int rdm_db_copy_put(rdm_db *db, const char *data, size_t n, rdm_err *err)
{
    while (n > 0) {
        int chunk = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        if (PQputCopyData(db->conn, data, chunk) != 1)
            return result_error(db, NULL, db->copy_name ? db->copy_name : "copy", err);
        data += chunk;
        n -= (size_t)chunk;
    }
    return RDM_OK;
}

int rdm_db_copy_end(rdm_db *db, const char *abort_msg, rdm_err *err)
{
    const char *name = db->copy_name ? db->copy_name : "copy";
    db->copy_name = NULL;
    if (PQputCopyEnd(db->conn, abort_msg) != 1)
        return result_error(db, NULL, name, err);
    int rc = RDM_OK;
    PGresult *r;
    while ((r = PQgetResult(db->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == RDM_OK && !abort_msg)
            rc = result_error(db, r, name, err);
        PQclear(r);
    }
    return abort_msg ? RDM_OK : rc;
}

int rdm_db_copy_out(rdm_db *db, const char *name, rdm_copy_row_fn row, void *ud, rdm_err *err)
{
    const char *sql = rdm_sql(name);
    if (!sql)
        return rdm_errf(err, RDM_EINVAL, "no SQL statement named '%s' in sql/", name);
    PGresult *r = PQexec(db->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        result_error(db, r, name, err);
        PQclear(r);
        return RDM_EDB;
    }
    PQclear(r);
    int rc = RDM_OK;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(db->conn, &buf, 0);
        if (n == -1)
            break;
        if (n < 0) {
            if (rc == RDM_OK)
                rc = result_error(db, NULL, name, err);
            break;
        }
        if (rc == RDM_OK)
            rc = row(buf, (size_t)n, ud, err);
        PQfreemem(buf);
    }
    while ((r = PQgetResult(db->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == RDM_OK)
            rc = result_error(db, r, name, err);
        PQclear(r);
    }
    return rc;
}

int rdm_copy_split(char *line, size_t len, char **fields, int max)
{
    if (len && line[len - 1] == '\n')
        len--;
    int nf = 0;
    char *p = line, *end = line + len;
    for (;;) {
        if (nf >= max)
            return -1;
        char *start = p, *w = p;
        while (p < end && *p != '\t') {
            if (*p == '\\' && p + 1 < end) {
                p++;
                switch (*p) {
                case 'n':
                    *w++ = '\n';
                    break;
                case 't':
                    *w++ = '\t';
                    break;
                case 'r':
                    *w++ = '\r';
                    break;
                case 'b':
                    *w++ = '\b';
                    break;
                case 'f':
                    *w++ = '\f';
                    break;
                case 'v':
                    *w++ = '\v';
                    break;
                case 'N':
                    *w++ = '\\';
                    *w++ = 'N';
                    break; /* marker, checked below */
                default:
                    *w++ = *p;
                    break;
                }
                p++;
            } else {
                *w++ = *p++;
            }
        }
        int at_end = (p >= end);
        *w = '\0';
        if (w - start == 2 && start[0] == '\\' && start[1] == 'N')
            fields[nf++] = NULL;
        else
            fields[nf++] = start;
        if (at_end)
            break;
        p++; /* skip tab */
    }
    return nf;
}

int rdm_copy_escape(rdm_buf *out, const char *v)
{
    if (!v)
        return rdm_buf_add(out, "\\N", 2);
    const char *run = v;
    for (const char *p = v;; p++) {
        char c = *p;
        const char *esc = NULL;
        switch (c) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            break;
        }
        if (esc || c == '\0') {
            if (p > run && rdm_buf_add(out, run, (size_t)(p - run)))
                return RDM_ENOMEM;
            if (c == '\0')
                return RDM_OK;
            if (rdm_buf_add(out, esc, 2))
                return RDM_ENOMEM;
            run = p + 1;
        }
    }
}

static int migration_done(rdm_db *db, const char *ver, int *done, rdm_err *err)
{
    const char *p1[] = {ver};
    PGresult *r = rdm_db_query(db, "meta_select_migration", 1, p1, err);
    if (!r)
        return RDM_EDB;
    *done = PQntuples(r) > 0;
    PQclear(r);
    return RDM_OK;
}

int rdm_db_migrate(rdm_db *db, int *applied, rdm_err *err)
{
    *applied = 0;
    if (rdm_db_exec(db, "meta_create_migrations", 0, NULL, err))
        return RDM_EDB;
    for (const char *const *n = rdm_sql_names(); *n; n++) {
        if (strncmp(*n, "schema/", 7) != 0)
            continue;
        const char *ver = *n + 7;
        const char *p1[] = {ver};
        int done = 0;
        if (migration_done(db, ver, &done, err))
            return RDM_EDB;
        if (done)
            continue;
        if (rdm_db_begin(db, err))
            return RDM_EDB;
        /* serialise concurrent migrators, then look again */
        if (rdm_db_exec(db, "meta_lock_migrations", 0, NULL, err) ||
            migration_done(db, ver, &done, err))
            goto fail;
        if (done) {
            rdm_db_rollback(db);
            continue;
        }
        if (rdm_db_exec_sql(db, rdm_sql(*n), err)) {
            rdm_err_prefix(err, "migration %s", ver);
            goto fail;
        }
        if (rdm_db_exec(db, "meta_insert_migration", 1, p1, err) || rdm_db_commit(db, err))
            goto fail;
        (*applied)++;
    }
    return RDM_OK;
fail:
    rdm_db_rollback(db);
    return RDM_EDB;
}
