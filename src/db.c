/* db.c - the libpq boundary: connections, statements by id, results by column
 * name, COPY, LISTEN/NOTIFY, migrations. */
#include "db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rdm_db {
    PGconn *conn;
    const char *copy_name;
    char sqlstate[6]; /* of the last error, "" when the server sent none */
};

struct rdm_res {
    PGresult *pg;
    const char *name; /* statement name, for messages */
    int bad;          /* a getter problem was recorded */
    char why[256];
};

/* Generated from sql/ by the build (build/gen/sql_gen.c); indexed by rdm_sql_id. */
extern const char *const rdm_sql_gen_names[];
extern const char *const rdm_sql_gen_texts[];
extern const int rdm_sql_gen_count;

const char *rdm_sql_name(rdm_sql_id id)
{
    return (int)id >= 0 && (int)id < rdm_sql_gen_count ? rdm_sql_gen_names[id] : NULL;
}

const char *rdm_sql_text(rdm_sql_id id)
{
    return (int)id >= 0 && (int)id < rdm_sql_gen_count ? rdm_sql_gen_texts[id] : NULL;
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

/* The message of `r` (or of the connection), trailing newlines removed. */
static int result_error(rdm_db *db, const PGresult *r, const char *what, rdm_err *err)
{
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
    char buf[RDM_ERR_MSG];
    snprintf(buf, sizeof buf, "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return rdm_errf(err, RDM_EDB, "sql %s: %s", what, buf);
}

rdm_db *rdm_db_connect(const rdm_config *c, rdm_err *err)
{
    rdm_db *db = NULL;
    PGconn *conn = NULL;
    char *ci = rdm_db_conninfo(c);
    if (!ci) {
        rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto fail;
    }
    conn = PQconnectdb(ci);
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[RDM_ERR_MSG];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        /* name the target by host, database and user, never by the conninfo
         * text: a DATABASE_URL may hold a password */
        const char *host = PQhost(conn), *dbn = PQdb(conn), *user = PQuser(conn);
        rdm_errf(err, RDM_EDB, "cannot connect to PostgreSQL (host %s, database %s, user %s): %s%s",
                 host && *host ? host : "default", dbn && *dbn ? dbn : "default",
                 user && *user ? user : "default", msg,
                 (getenv("DATABASE_URL") || getenv("PGHOST"))
                     ? ""
                     : " (is the private server running? try: make db-start)");
        goto fail;
    }
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    if (!(db = calloc(1, sizeof *db))) {
        rdm_errf(err, RDM_ENOMEM, "out of memory");
        goto fail;
    }
    db->conn = conn;
    conn = NULL;
    /* the session settings every statement and COPY of ours assumes */
    if (PQsetClientEncoding(db->conn, "UTF8") != 0) {
        result_error(db, NULL, "client_encoding UTF8", err);
        goto fail;
    }
    if (rdm_db_exec(db, RDM_SQL_META_SET_DATESTYLE, 0, NULL, err) != RDM_OK)
        goto fail;
    free(ci);
    return db;
fail:
    free(ci);
    PQfinish(conn);
    rdm_db_close(db);
    return NULL;
}

void rdm_db_close(rdm_db *db)
{
    if (!db)
        return;
    PQfinish(db->conn);
    free(db);
}

int rdm_db_ok(const rdm_db *db)
{
    return db && PQstatus(db->conn) == CONNECTION_OK;
}

const char *rdm_db_sqlstate(const rdm_db *db)
{
    return db ? db->sqlstate : "";
}

int rdm_db_socket(const rdm_db *db)
{
    return db ? PQsocket(db->conn) : -1;
}

/* ---- statements ---- */

rdm_res *rdm_db_query_bin(rdm_db *db, rdm_sql_id id, int nparams, const char *const *params,
                          const int *lens, int binary_result, rdm_err *err)
{
    enum { MAXP = 64 };

    const char *sql = rdm_sql_text(id), *name = rdm_sql_name(id);
    if (!sql) {
        rdm_errf(err, RDM_EINVAL, "no SQL statement %d in sql/", (int)id);
        return NULL;
    }
    if (nparams < 0 || nparams > MAXP) {
        rdm_errf(err, RDM_EINVAL, "sql %s: %d parameters", name, nparams);
        return NULL;
    }
    int fmts[MAXP];
    for (int i = 0; lens && i < nparams; i++)
        fmts[i] = lens[i] >= 0;
    rdm_res *res = calloc(1, sizeof *res);
    if (!res) {
        rdm_errf(err, RDM_ENOMEM, "out of memory");
        return NULL;
    }
    res->name = name;
    res->pg = PQexecParams(db->conn, sql, nparams, NULL, params, lens, lens ? fmts : NULL,
                           binary_result ? 1 : 0);
    ExecStatusType st = PQresultStatus(res->pg);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        result_error(db, res->pg, name, err);
        rdm_res_free(res);
        return NULL;
    }
    return res;
}

rdm_res *rdm_db_query(rdm_db *db, rdm_sql_id id, int nparams, const char *const *params,
                      rdm_err *err)
{
    return rdm_db_query_bin(db, id, nparams, params, NULL, 0, err);
}

int rdm_db_exec(rdm_db *db, rdm_sql_id id, int nparams, const char *const *params, rdm_err *err)
{
    rdm_res *r = rdm_db_query(db, id, nparams, params, err);
    if (!r)
        return err && err->code ? err->code : RDM_EDB;
    rdm_res_free(r);
    return RDM_OK;
}

json_t *rdm_db_json(rdm_db *db, rdm_sql_id id, int nparams, const char *const *params, rdm_err *err)
{
    rdm_res *r = rdm_db_query(db, id, nparams, params, err);
    if (!r)
        return NULL;
    json_t *j = NULL;
    const char *v = rdm_res_single(r);
    if (rdm_res_check(r, err) == RDM_OK) {
        json_error_t je;
        if (rdm_res_rows(r) != 1 || !v)
            rdm_errf(err, RDM_EDB, "sql %s: expected one JSON value", r->name);
        else if (!(j = json_loads(v, JSON_DECODE_ANY, &je)))
            rdm_errf(err, RDM_EPARSE,
                     "sql %s: invalid JSON from the database: line %d column %d: %s", r->name,
                     je.line, je.column, je.text);
    }
    rdm_res_free(r);
    return j;
}

/* SQL text that may hold several statements (the migration files). */
static int exec_script(rdm_db *db, const char *sql, const char *name, rdm_err *err)
{
    PGresult *r = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = RDM_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = result_error(db, r, name, err);
    PQclear(r);
    return rc;
}

/* ---- results ---- */

static void res_bad(rdm_res *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void res_bad(rdm_res *r, const char *fmt, ...)
{
    if (r->bad)
        return;
    r->bad = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

int rdm_res_rows(const rdm_res *r)
{
    return r ? PQntuples(r->pg) : 0;
}

int rdm_res_col(const rdm_res *r, const char *name)
{
    return r ? PQfnumber(r->pg, name) : -1;
}

/* Column index of `col` for row `row`, or -1 (recorded). */
static int cell(rdm_res *r, int row, const char *col)
{
    int c = PQfnumber(r->pg, col);
    if (c < 0) {
        res_bad(r, "no column '%s'", col);
        return -1;
    }
    if (row < 0 || row >= PQntuples(r->pg)) {
        res_bad(r, "column '%s': no row %d (%d rows)", col, row, PQntuples(r->pg));
        return -1;
    }
    return c;
}

int rdm_res_isnull(rdm_res *r, int row, const char *col)
{
    int c = cell(r, row, col);
    return c < 0 || PQgetisnull(r->pg, row, c);
}

const char *rdm_res_text(rdm_res *r, int row, const char *col)
{
    int c = cell(r, row, col);
    if (c < 0 || PQgetisnull(r->pg, row, c))
        return NULL;
    return PQgetvalue(r->pg, row, c);
}

void rdm_res_copy(rdm_res *r, int row, const char *col, char *out, size_t size)
{
    const char *v = rdm_res_text(r, row, col);
    if (size)
        snprintf(out, size, "%s", v ? v : "");
}

long long rdm_res_ll(rdm_res *r, int row, const char *col)
{
    const char *v = rdm_res_text(r, row, col);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
        res_bad(r, "column '%s' row %d: '%.40s' is not an integer", col, row, v);
        return 0;
    }
    return x;
}

int rdm_res_int(rdm_res *r, int row, const char *col)
{
    long long x = rdm_res_ll(r, row, col);
    if (x < INT_MIN || x > INT_MAX) {
        res_bad(r, "column '%s' row %d: %lld is out of range", col, row, x);
        return 0;
    }
    return (int)x;
}

double rdm_res_double(rdm_res *r, int row, const char *col)
{
    const char *v = rdm_res_text(r, row, col);
    if (!v)
        return NAN;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end) {
        res_bad(r, "column '%s' row %d: '%.40s' is not a number", col, row, v);
        return NAN;
    }
    return x;
}

const char *rdm_res_single(rdm_res *r)
{
    if (PQnfields(r->pg) != 1) {
        res_bad(r, "%d columns where one value was expected", PQnfields(r->pg));
        return NULL;
    }
    if (PQntuples(r->pg) < 1 || PQgetisnull(r->pg, 0, 0))
        return NULL;
    return PQgetvalue(r->pg, 0, 0);
}

int rdm_res_bool(rdm_res *r, int row, const char *col)
{
    const char *v = rdm_res_text(r, row, col);
    if (!v)
        return 0;
    if (strcmp(v, "t") && strcmp(v, "f"))
        res_bad(r, "column '%s' row %d: '%.40s' is not a boolean", col, row, v);
    return !strcmp(v, "t");
}

const void *rdm_res_bytes(rdm_res *r, int row, const char *col, size_t *len)
{
    int c = cell(r, row, col);
    *len = 0;
    if (c < 0 || PQgetisnull(r->pg, row, c))
        return NULL;
    *len = (size_t)PQgetlength(r->pg, row, c);
    return PQgetvalue(r->pg, row, c);
}

int rdm_res_check(const rdm_res *r, rdm_err *err)
{
    if (!r || !r->bad)
        return RDM_OK;
    return rdm_errf(err, RDM_EDB, "sql %s: %s", r->name ? r->name : "?", r->why);
}

void rdm_res_free(rdm_res *r)
{
    if (!r)
        return;
    PQclear(r->pg);
    free(r);
}

/* ---- transactions ---- */

int rdm_db_begin(rdm_db *db, rdm_err *err)
{
    return rdm_db_exec(db, RDM_SQL_META_BEGIN, 0, NULL, err);
}

int rdm_db_commit(rdm_db *db, rdm_err *err)
{
    return rdm_db_exec(db, RDM_SQL_META_COMMIT, 0, NULL, err);
}

void rdm_db_rollback(rdm_db *db)
{
    if (db && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        PQclear(PQexecParams(db->conn, rdm_sql_text(RDM_SQL_META_ROLLBACK), 0, NULL, NULL, NULL,
                             NULL, 0));
}

/* ---- COPY ---- */

int rdm_db_copy_in_begin(rdm_db *db, rdm_sql_id id, rdm_err *err)
{
    const char *sql = rdm_sql_text(id), *name = rdm_sql_name(id);
    if (!sql)
        return rdm_errf(err, RDM_EINVAL, "no SQL statement %d in sql/", (int)id);
    PGresult *r = PQexec(db->conn, sql);
    int rc = RDM_OK;
    if (PQresultStatus(r) != PGRES_COPY_IN)
        rc = result_error(db, r, name, err);
    PQclear(r);
    if (rc == RDM_OK)
        db->copy_name = name;
    return rc;
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

int rdm_db_copy_out(rdm_db *db, rdm_sql_id id, rdm_copy_row_fn row, void *ud, rdm_err *err)
{
    const char *sql = rdm_sql_text(id), *name = rdm_sql_name(id);
    if (!sql)
        return rdm_errf(err, RDM_EINVAL, "no SQL statement %d in sql/", (int)id);
    PGresult *r = PQexec(db->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        int rc = result_error(db, r, name, err);
        PQclear(r);
        return rc;
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

/* ---- binary COPY out ---- */

static const unsigned char COPY_SIGNATURE[11] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                                 '\n', 0xff, '\r', '\n', 0};

static uint64_t be_uint(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

typedef struct bin_ctx {
    const char *name;
    int nfields;
    int header_seen, trailer_seen;
    rdm_copy_field *f;
    rdm_copy_bin_fn row;
    void *ud;
} bin_ctx;

static int bin_error(const bin_ctx *c, const char *what, rdm_err *err)
{
    return rdm_errf(err, RDM_EDB, "%s: binary COPY data: %s", c->name, what);
}

/* One CopyData message: the file header (first message only), then whole rows,
 * or the trailer. */
static int bin_chunk(const char *data, size_t len, void *ud, rdm_err *err)
{
    bin_ctx *c = ud;
    const unsigned char *p = (const unsigned char *)data, *end = p + len;
    if (!c->header_seen) {
        if (len < 19 || memcmp(p, COPY_SIGNATURE, sizeof COPY_SIGNATURE))
            return bin_error(c, "no signature", err);
        uint64_t ext = be_uint(p + 15, 4);
        if ((size_t)(end - p) < 19 + ext)
            return bin_error(c, "truncated header", err);
        p += 19 + ext;
        c->header_seen = 1;
    }
    while (p < end) {
        if (c->trailer_seen || end - p < 2)
            return bin_error(c, "data after the end", err);
        int16_t nf = (int16_t)be_uint(p, 2);
        p += 2;
        if (nf == -1) {
            c->trailer_seen = 1;
            continue;
        }
        if (nf != c->nfields)
            return rdm_errf(err, RDM_EDB, "%s: expected %d columns from the database, got %d",
                            c->name, c->nfields, (int)nf);
        for (int i = 0; i < nf; i++) {
            if (end - p < 4)
                return bin_error(c, "truncated row", err);
            int32_t n = (int32_t)be_uint(p, 4);
            p += 4;
            if (n < 0) {
                c->f[i] = (rdm_copy_field){NULL, 0};
                continue;
            }
            if (end - p < n)
                return bin_error(c, "truncated field", err);
            c->f[i] = (rdm_copy_field){p, (size_t)n};
            p += n;
        }
        int rc = c->row(c->f, c->ud, err);
        if (rc != RDM_OK)
            return rc;
    }
    return RDM_OK;
}

int rdm_db_copy_out_bin(rdm_db *db, rdm_sql_id id, int nfields, rdm_copy_bin_fn row, void *ud,
                        rdm_err *err)
{
    bin_ctx c = {rdm_sql_name(id), nfields, 0, 0, NULL, row, ud};
    c.f = calloc(nfields > 0 ? (size_t)nfields : 1, sizeof *c.f);
    if (!c.f)
        return rdm_errf(err, RDM_ENOMEM, "%s: out of memory", c.name ? c.name : "copy");
    int rc = rdm_db_copy_out(db, id, bin_chunk, &c, err);
    if (rc == RDM_OK && !c.trailer_seen)
        rc = bin_error(&c, "no end marker", err);
    free(c.f);
    return rc;
}

int64_t rdm_copy_int(const rdm_copy_field *f, int64_t dflt)
{
    if (!f->data)
        return dflt;
    switch (f->len) {
    case 2:
        return (int16_t)be_uint(f->data, 2);
    case 4:
        return (int32_t)be_uint(f->data, 4);
    case 8:
        return (int64_t)be_uint(f->data, 8);
    default:
        return dflt;
    }
}

double rdm_copy_float8(const rdm_copy_field *f, double dflt)
{
    if (!f->data || f->len != 8)
        return dflt;
    uint64_t u = be_uint(f->data, 8);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

double rdm_copy_epoch(const rdm_copy_field *f, double dflt)
{
    if (!f->data || f->len != 8)
        return dflt;
    /* microseconds since 2000-01-01 UTC; date_part('epoch') divides the
     * microseconds since 1970 as a double by 1e6 */
    int64_t us = (int64_t)be_uint(f->data, 8);
    return (double)(us + INT64_C(946684800000000)) / 1000000.0;
}

/* ---- LISTEN / NOTIFY ---- */

int rdm_db_wait(rdm_db *db, int timeout_ms, rdm_err *err)
{
    int fd = rdm_db_socket(db);
    if (fd < 0)
        return rdm_errf(err, RDM_EDB, "no database connection");
    struct pollfd pf = {fd, POLLIN, 0};
    int n;
    do
        n = poll(&pf, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        char msg[128];
        return rdm_errf(err, RDM_EIO, "poll on the database socket: %s",
                        rdm_errno_text(errno, msg, sizeof msg));
    }
    return n > 0;
}

int rdm_db_notifications(rdm_db *db, rdm_notify_fn fn, void *ud, rdm_err *err)
{
    if (!db || !PQconsumeInput(db->conn))
        return db ? result_error(db, NULL, "notifications", err)
                  : rdm_errf(err, RDM_EDB, "no database connection");
    int count = 0;
    PGnotify *n;
    while ((n = PQnotifies(db->conn)) != NULL) {
        if (fn)
            fn(n->relname, n->extra ? n->extra : "", ud);
        PQfreemem(n);
        count++;
    }
    return count;
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
        /* NULL only for the two raw characters \N, not for an escaped
         * backslash followed by N (the text "\N") */
        if (p - start == 2 && w - start == 2 && start[0] == '\\' && start[1] == 'N')
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
    size_t n = strlen(v);
    if (rdm_buf_reserve(out, 2 * n))
        return RDM_ENOMEM;
    out->len = (size_t)(rdm_copy_escape_to(out->data + out->len, v, n) - out->data);
    out->data[out->len] = '\0';
    return RDM_OK;
}

char *rdm_copy_escape_to(char *w, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        switch (c) {
        case '\\':
            *w++ = '\\';
            *w++ = '\\';
            break;
        case '\t':
            *w++ = '\\';
            *w++ = 't';
            break;
        case '\n':
            *w++ = '\\';
            *w++ = 'n';
            break;
        case '\r':
            *w++ = '\\';
            *w++ = 'r';
            break;
        default:
            *w++ = c;
        }
    }
    return w;
}

static int migration_done(rdm_db *db, const char *ver, int *done, rdm_err *err)
{
    const char *p1[] = {ver};
    rdm_res *r = rdm_db_query(db, RDM_SQL_META_SELECT_MIGRATION, 1, p1, err);
    if (!r)
        return RDM_EDB;
    *done = rdm_res_rows(r) > 0;
    rdm_res_free(r);
    return RDM_OK;
}

int rdm_db_migrate(rdm_db *db, int *applied, rdm_err *err)
{
    *applied = 0;
    int rc = rdm_db_exec(db, RDM_SQL_META_CREATE_MIGRATIONS, 0, NULL, err);
    if (rc)
        return rc;
    for (int id = 0; id < RDM_SQL_COUNT; id++) {
        const char *name = rdm_sql_name((rdm_sql_id)id);
        if (strncmp(name, "schema/", 7) != 0)
            continue;
        const char *ver = name + 7;
        const char *p1[] = {ver};
        int done = 0;
        if ((rc = migration_done(db, ver, &done, err)))
            goto fail;
        if (done)
            continue;
        if ((rc = rdm_db_begin(db, err)))
            goto fail;
        /* serialise concurrent migrators, then look again */
        if ((rc = rdm_db_exec(db, RDM_SQL_META_LOCK_MIGRATIONS, 0, NULL, err)) ||
            (rc = migration_done(db, ver, &done, err)))
            goto fail;
        if (done) {
            rdm_db_rollback(db);
            continue;
        }
        if ((rc = exec_script(db, rdm_sql_text((rdm_sql_id)id), name, err))) {
            rdm_err_prefix(err, "migration %s", ver);
            goto fail;
        }
        if ((rc = rdm_db_exec(db, RDM_SQL_META_INSERT_MIGRATION, 1, p1, err)) ||
            (rc = rdm_db_commit(db, err)))
            goto fail;
        (*applied)++;
    }
    return RDM_OK;
fail:
    rdm_db_rollback(db);
    return rc;
}
