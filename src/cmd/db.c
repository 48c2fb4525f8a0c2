/* db.c - readmit db: apply migrations, show the schema state, print the conninfo. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "secret.h"

static const char HELP[] =
    "usage: readmit db migrate|status|url [options]\n"
    "\n"
    "  migrate   apply the schema migrations (sql/schema/NNN_*.sql) not yet\n"
    "            applied; applying twice is a no-op\n"
    "  status    server, database and user; applied and pending migrations\n"
    "  url       print the libpq connection string readmit uses (password masked)\n"
    "\n" CMD_READ_HELP;

static int db_status(rdm_db *db, rdm_err *err)
{
    rdm_res *r = rdm_db_query(db, RDM_SQL_STATUS_SELECT_SERVER, 0, NULL, err);
    if (!r)
        return RDM_EDB;
    const char *dbn = rdm_res_text(r, 0, "database"), *user = rdm_res_text(r, 0, "user"),
               *ver = rdm_res_text(r, 0, "version");
    int rc = rdm_res_check(r, err);
    if (rc == RDM_OK)
        printf("database %s, user %s, PostgreSQL %s\n", dbn, user, ver);
    rdm_res_free(r);
    if (rc)
        return rc;
    if (rdm_db_exec(db, RDM_SQL_META_CREATE_MIGRATIONS, 0, NULL, err))
        return RDM_EDB;
    if (!(r = rdm_db_query(db, RDM_SQL_STATUS_SELECT_MIGRATIONS, 0, NULL, err)))
        return RDM_EDB;
    int pending = 0;
    for (int id = 0; id < RDM_SQL_COUNT; id++) {
        const char *name = rdm_sql_name((rdm_sql_id)id), *at = NULL;
        if (strncmp(name, "schema/", 7) != 0)
            continue;
        for (int i = 0; i < rdm_res_rows(r) && !at; i++) {
            const char *v = rdm_res_text(r, i, "version");
            if (v && !strcmp(v, name + 7))
                at = rdm_res_text(r, i, "applied_at");
        }
        printf("  %-24s %s\n", name + 7, at ? at : "pending");
        pending += !at;
    }
    rc = rdm_res_check(r, err);
    rdm_res_free(r);
    if (rc)
        return rc;
    printf("%d pending migration%s%s\n", pending, pending == 1 ? "" : "s",
           pending ? " (run: readmit db migrate)" : "");
    return RDM_OK;
}

int cmd_db(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *what = NULL;
    const cmd_opt opts[] = {{NULL, &what, NULL}, {0}};
    int rc = cmd_parse(&ctx, "db", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    if (!what || (strcmp(what, "migrate") && strcmp(what, "status") && strcmp(what, "url"))) {
        cmd_ctx_release(&ctx);
        if (what)
            return cmd_usage_error("db", "unknown action '%s': migrate, status or url", what);
        return cmd_usage_error("db", "which action: migrate, status or url?");
    }
    rc = cmd_load_config(&ctx);
    if (rc != EXIT_OK) {
        cmd_ctx_release(&ctx);
        return rc;
    }
    rdm_err err = {0};
    if (!strcmp(what, "url")) {
        char *ci = rdm_db_conninfo(&ctx.cfg);
        char *shown = rdm_secret_mask_conninfo(ci);
        if (shown)
            puts(shown[0] ? shown : "(libpq environment: PGHOST etc.)");
        else
            rc = EXIT_FAIL;
        free(shown);
        free(ci);
        cmd_ctx_release(&ctx);
        return rc;
    }
    rdm_db *db = rdm_db_connect(&ctx.cfg, &err);
    if (!db) {
        cmd_ctx_release(&ctx);
        return cmd_fail("db", &err);
    }
    if (!strcmp(what, "migrate")) {
        int applied = 0;
        if (rdm_db_migrate(db, &applied, &err) == RDM_OK)
            printf("migrations: %d applied%s\n", applied, applied ? "" : " (up to date)");
        else
            rc = cmd_fail("db", &err);
    } else if (db_status(db, &err) != RDM_OK) {
        rc = cmd_fail("db", &err);
    }
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc;
}
