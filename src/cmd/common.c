/* common.c - option parsing, config loading and connection shared by subcommands. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "registry.h"

/* Which common options a command takes (beyond -c and -o). */
enum { OPT_JSON = 1, OPT_QUIET = 2, OPT_STAMP = 4 };

static int common_opt(cmd_ctx *ctx, int argc, char **argv, int *i, int which);

int cmd_common_opt(cmd_ctx *ctx, int argc, char **argv, int *i)
{
    return common_opt(ctx, argc, argv, i, OPT_JSON | OPT_QUIET | OPT_STAMP);
}

/* The value of option `name` at argv[*i] ("--name VALUE" or "--name=VALUE"):
 * 1 with *value set, 0 if argv[*i] is not that option, -1 if the value is missing. */
static int opt_value(const char *name, int argc, char **argv, int *i, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=' && name[0] == '-' && name[1] == '-') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

int cmd_parse(cmd_ctx *ctx, const char *cmd, const char *help, int argc, char **argv,
              const cmd_opt *opts)
{
    int which = 0, have_pos = 0;
    for (const cmd_opt *o = opts; o && (o->name || o->value || o->flag); o++)
        which |= o->flag == &ctx->json ? OPT_JSON : 0;
    if (strstr(help, "--quiet"))
        which |= OPT_QUIET;
    if (strstr(help, "--stamp"))
        which |= OPT_STAMP;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = common_opt(ctx, argc, argv, &i, which);
        if (c < 0) {
            cmd_ctx_release(ctx);
            return cmd_usage_error(cmd, "option %s needs a value", a);
        }
        if (c > 0)
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(help, stdout);
            cmd_ctx_release(ctx);
            return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
        }
        const cmd_opt *o = opts;
        int pos = 0; /* positional entries fill in order */
        for (; o && (o->name || o->value || o->flag); o++) {
            if (!o->name) {
                c = (a[0] != '-' || !a[1]) && pos++ == have_pos ? 2 : 0; /* "-" alone: stdin */
            } else if (o->value) {
                c = opt_value(o->name, argc, argv, &i, o->value);
            } else {
                c = !strcmp(a, o->name);
            }
            if (c)
                break;
        }
        if (c < 0) {
            cmd_ctx_release(ctx);
            return cmd_usage_error(cmd, "option %s needs a value", a);
        }
        if (c == 2) {
            *o->value = a;
            have_pos++;
            continue;
        }
        if (c == 1) {
            if (o->flag)
                *o->flag = 1;
            continue;
        }
        cmd_ctx_release(ctx);
        return cmd_usage_error(cmd, "unknown %s '%s'", a[0] == '-' && a[1] ? "option" : "argument",
                               a);
    }
    return CMD_RUN;
}

rdm_db *cmd_open(cmd_ctx *ctx, int *rc)
{
    rdm_db *db = NULL;
    *rc = cmd_load_config(ctx);
    if (*rc == EXIT_OK && !(db = cmd_connect(ctx)))
        *rc = EXIT_FAIL;
    if (!db)
        cmd_ctx_release(ctx);
    return db;
}

static int common_opt(cmd_ctx *ctx, int argc, char **argv, int *i, int which)
{
    const char *a = argv[*i];
    int has_next = *i + 1 < argc;
    if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
        if (!has_next)
            return -1;
        ctx->config_path = argv[++*i];
        return 1;
    }
    if (!strncmp(a, "--config=", 9)) {
        ctx->config_path = a + 9;
        return 1;
    }
    if (!strcmp(a, "-o")) {
        if (!has_next)
            return -1;
        void *o = ctx->overrides;
        if (rdm_grow(&o, &ctx->overrides_cap, (size_t)ctx->noverrides + 1, sizeof(char *)))
            return -1;
        ctx->overrides = o;
        ctx->overrides[ctx->noverrides++] = argv[++*i];
        return 1;
    }
    if ((which & OPT_STAMP) && !strcmp(a, "--stamp")) {
        if (!has_next)
            return -1;
        ctx->stamp = argv[++*i];
        return 1;
    }
    if ((which & OPT_QUIET) && (!strcmp(a, "-q") || !strcmp(a, "--quiet"))) {
        ctx->quiet = 1;
        rdm_log_level = RDM_LOG_WARN;
        return 1;
    }
    if ((which & OPT_JSON) && !strcmp(a, "--json")) {
        ctx->json = 1;
        return 1;
    }
    return 0;
}

int cmd_load_config(cmd_ctx *ctx)
{
    rdm_err err = {0};
    if (rdm_config_defaults(&ctx->cfg, &err))
        goto fail;
    ctx->cfg_loaded = 1;
    const char *path = ctx->config_path;
    if (!path) {
        const char *env = getenv("READMIT_CONFIG");
        path = env && *env ? env : "conf/readmit.yaml";
    }
    if (rdm_config_load(&ctx->cfg, path, &err))
        goto fail;
    /* the environment names the source and the model cache unless -o does */
    if (rdm_config_apply_env(&ctx->cfg, getenv, &err))
        goto fail;
    for (int i = 0; i < ctx->noverrides; i++)
        if (rdm_config_set(&ctx->cfg, ctx->overrides[i], &err))
            goto fail;
    if (rdm_config_validate(&ctx->cfg, &err))
        goto fail;
    return EXIT_OK;
fail:
    fprintf(stderr, "readmit: config: %s\n", err.msg);
    return EXIT_USAGE;
}

void cmd_actor(char *out, size_t n, const char *cmd)
{
    const char *user = getenv("USER");
    if (!user || !*user)
        user = getenv("LOGNAME");
    char pwbuf[1024];
    struct passwd pw, *found = NULL;
    if ((!user || !*user) && getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &found) == 0 && found)
        user = found->pw_name; /* cron, systemd and containers often set no USER */
    char host[256], who[320];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(who, sizeof who, "%s@%s", user && *user ? user : "unknown", host);
    rdm_registry_actor(out, n, who, cmd);
}

rdm_db *cmd_connect(cmd_ctx *ctx)
{
    rdm_err err = {0};
    rdm_db *db = rdm_db_connect(&ctx->cfg, &err);
    if (!db) {
        fprintf(stderr, "readmit: %s\n", err.msg);
        return NULL;
    }
    int applied = 0;
    if (rdm_db_migrate(db, &applied, &err)) {
        fprintf(stderr, "readmit: %s\n", err.msg);
        rdm_db_close(db);
        return NULL;
    }
    if (applied)
        rdm_log(RDM_LOG_INFO, "db migrations_applied=%d", applied);
    return db;
}

void cmd_ctx_release(cmd_ctx *ctx)
{
    if (ctx->cfg_loaded)
        rdm_config_release(&ctx->cfg);
    free(ctx->overrides);
    ctx->overrides = NULL;
    ctx->noverrides = 0;
    ctx->overrides_cap = 0;
    ctx->cfg_loaded = 0;
}

int cmd_fail(const char *cmd, const rdm_err *err)
{
    fprintf(stderr, "readmit %s: %s\n", cmd, err && err->msg[0] ? err->msg : "failed");
    return EXIT_FAIL;
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "readmit %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see readmit %s --help)\n", cmd);
    return EXIT_USAGE;
}

int cmd_stamp(const cmd_ctx *ctx, const char *fingerprint, rdm_err *err)
{
    if (!ctx->stamp)
        return RDM_OK;
    rdm_buf old = RDM_BUF_INIT;
    rdm_err ignore = {0};
    size_t n = strlen(fingerprint);
    int same = rdm_read_file(ctx->stamp, &old, &ignore) == RDM_OK && old.len == n + 1 &&
               memcmp(old.data, fingerprint, n) == 0;
    rdm_buf_release(&old);
    if (same)
        return RDM_OK;
    rdm_buf b = RDM_BUF_INIT;
    int rc = rdm_buf_printf(&b, "%s\n", fingerprint);
    if (rc == RDM_OK)
        rc = rdm_write_file_atomic(ctx->stamp, b.data, b.len, err);
    rdm_buf_release(&b);
    return rc;
}

void cmd_progress_init(cmd_progress *p, const cmd_ctx *ctx)
{
    p->start = p->last = rdm_now();
    p->on = !ctx->quiet && isatty(STDERR_FILENO);
    p->shown = 0;
}

void cmd_progress_cb(void *ud, const char *what, double done, double total, const char *detail)
{
    cmd_progress *p = ud;
    double now = rdm_now();
    if (!p->on || now - p->start < 1.0 || (p->shown && now - p->last < 0.2 && done < total))
        return;
    p->last = now;
    p->shown = 1;
    char count[96];
    if (total < 0) { /* no count: the detail says it all */
        fprintf(stderr, "\r\033[K%s, %.0f s", detail ? detail : what, now - p->start);
        fflush(stderr);
        return;
    }
    if (total > 0)
        snprintf(count, sizeof count, "%.0f of %.0f (%.0f%%)", done, total, 100.0 * done / total);
    else
        snprintf(count, sizeof count, "%.0f", done);
    /* \r and clear to end of line: the line is rewritten in place */
    fprintf(stderr, "\r\033[K%s: %s%s%s, %.0f s", what, count, detail ? ", " : "",
            detail ? detail : "", now - p->start);
    fflush(stderr);
}

void cmd_progress_end(cmd_progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}
