/* cmdline.c - the command's edge of readmit-fcgi (and readmit-fcgi-bench):
 * options, the config file, the environment; then the socket, the shared
 * block, the follower and the supervisor, in that order. Nothing below this
 * file reads the environment. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "schema.h"
#include "server.h"

static int arg_int(const char *s, int *out)
{
    long v;
    if (rdm_parse_long(s, &v) != 0 || v < 0 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

static int fail(const char *msg, int status)
{
    fprintf(stderr, "readmit-fcgi: %s\n", msg);
    return status;
}

/* The config file first, so that -o overrides apply on top of it. */
static int load_config(srv_cmd *c, int argc, char **argv)
{
    rdm_err err = {0};
    const char *config = "conf/readmit.yaml";
    if (rdm_config_defaults(&c->cfg, &err) != RDM_OK)
        return fail(err.msg, 1);
    for (int i = 1; i < argc; i++)
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            config = argv[++i];
    if ((access(config, R_OK) == 0 && rdm_config_load(&c->cfg, config, &err) != RDM_OK) ||
        rdm_config_apply_env(&c->cfg, getenv, &err) != RDM_OK) {
        rdm_config_release(&c->cfg);
        return fail(err.msg, 2);
    }
    return -1;
}

/* One option at argv[*i]: 0 taken, 1 unknown or bad, 2 --help. */
static int option(srv_cmd *c, int argc, char **argv, int *i, int bench)
{
    const char *a = argv[*i];
    int has = *i + 1 < argc;
    rdm_err err = {0};
    if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && has) {
        ++*i;
    } else if (strcmp(a, "-o") == 0 && has) {
        if (rdm_config_set(&c->cfg, argv[++*i], &err) != RDM_OK) {
            fprintf(stderr, "readmit-fcgi: %s\n", err.msg);
            return 1;
        }
    } else if (strcmp(a, "--model") == 0 && has) {
        c->model_ref = argv[++*i];
    } else if (strcmp(a, "--socket") == 0 && has) {
        c->sock_opt = argv[++*i];
    } else if (strcmp(a, "--bind") == 0 && has) {
        struct in_addr ia;
        c->bind_addr = argv[++*i];
        return inet_pton(AF_INET, c->bind_addr, &ia) != 1;
    } else if (strcmp(a, "--port") == 0 && has) {
        return arg_int(argv[++*i], &c->port) != 0;
    } else if (strcmp(a, "--workers") == 0 && has) {
        return arg_int(argv[++*i], &c->workers) != 0;
    } else if (strcmp(a, "--threads") == 0 && has) {
        return arg_int(argv[++*i], &c->threads) != 0 || c->threads < 1 ||
               c->threads > SRV_MAX_THREADS;
    } else if (strcmp(a, "--pidfile") == 0 && has) {
        c->pidfile = argv[++*i];
    } else if (strcmp(a, "--print-config") == 0) {
        c->print_config = 1;
    } else if (bench && strcmp(a, "--bench-score") == 0 && has) {
        c->bench_file = argv[++*i];
    } else if (bench && strcmp(a, "--empty") == 0) {
        c->empty = 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        return 2;
    } else {
        return 1;
    }
    return 0;
}

int srv_cmd_parse(srv_cmd *c, int argc, char **argv, const char *usage, int bench)
{
    memset(c, 0, sizeof *c);
    c->model_ref = NULL;
    c->bind_addr = "127.0.0.1";
    c->port = c->workers = c->threads = -1;
    int rc = load_config(c, argc, argv);
    if (rc >= 0)
        return rc;
    for (int i = 1; i < argc; i++) {
        int o = option(c, argc, argv, &i, bench);
        if (o == 2) {
            fputs(usage, stdout);
            rdm_config_release(&c->cfg);
            return 0;
        }
        if (o) {
            fputs(usage, stderr);
            rdm_config_release(&c->cfg);
            return 2;
        }
    }
    rdm_err err = {0};
    if (rdm_config_validate(&c->cfg, &err) != RDM_OK) {
        rdm_config_release(&c->cfg);
        return fail(err.msg, 2);
    }
    if (c->workers < 0)
        c->workers = c->cfg.serve.workers;
    if (c->workers <= 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        c->workers = nc > 0 ? (int)nc : 1;
    }
    if (c->workers > SRV_MAX_WORKERS)
        c->workers = SRV_MAX_WORKERS;
    if (!c->model_ref)
        c->model_ref = c->cfg.serve.model;
    if (c->threads < 0)
        c->threads = c->cfg.serve.threads;
    if (c->port < 0)
        c->port = c->cfg.serve.fcgi_port;
    c->cache_dir = c->cfg.registry.cache_dir;
    return -1;
}

void srv_cmd_print_config(const srv_cmd *c)
{
    /* values are checked by the config loader; paths quoted for the shell */
    const rdm_config *g = &c->cfg;
    printf("http_port=%d\nfcgi_port=%d\nworkers=%d\nthreads=%d\nmax_body_bytes=%ld\n"
           "max_instances=%ld\npoll_seconds=%d\nread_timeout=%g\nmodel_name='%s'\n"
           "report_dir='%s'\nsocket='%s'\ndata_source='%s'\nuser='%s'\nsocket_group='%s'\n"
           "spill_dir='%s'\n",
           g->serve.http_port, c->port, c->workers, c->threads, g->serve.max_body_bytes,
           g->serve.max_instances, g->serve.poll_seconds, g->serve.read_timeout,
           g->registry.model_name, g->report.dir, c->sock_opt ? c->sock_opt : g->serve.socket,
           g->data.source ? g->data.source : "", g->serve.user ? g->serve.user : "",
           g->serve.socket_group ? g->serve.socket_group : "",
           g->monitor.spill_dir ? g->monitor.spill_dir : "");
}

static void write_pidfile(const char *path)
{
    char pid[32];
    rdm_err err = {0};
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (rdm_write_file_atomic(path, pid, (size_t)n, &err) != RDM_OK)
        rdm_log(RDM_LOG_WARN, "pidfile: %s", err.msg);
}

int srv_cmd_serve(srv_cmd *c, srv_handler_fn handler, int follow)
{
    rdm_err err = {0};
    srv_listen_opts lo = {c->sock_opt ? c->sock_opt : c->cfg.serve.socket, c->bind_addr, c->port,
                          c->cfg.serve.socket_group, c->cfg.serve.user};
    srv_opts o;
    memset(&o, 0, sizeof o);
    o.workers = c->workers;
    o.threads = c->threads;
    o.max_instances = c->cfg.serve.max_instances;
    o.max_body_bytes = c->cfg.serve.max_body_bytes;
    o.read_timeout = c->cfg.serve.read_timeout;
    o.handler = handler;
    o.follow_model = follow;
    o.cfg = follow ? &c->cfg : NULL; /* the real server logs its predictions */
    if (FCGX_Init() != 0)
        return fail("FCGX_Init failed", 1);
    char bind[600];
    o.listen_fd = srv_listen_open(&lo, bind, sizeof bind, &err);
    if (o.listen_fd < 0)
        return fail(err.msg, 1);
    if (c->pidfile)
        write_pidfile(c->pidfile);
    if (srv_drop_privileges(&lo, &err) != RDM_OK)
        return fail(err.msg, 1);
    srv_shared *sh = srv_shared_create();
    if (!sh)
        return fail("cannot map the shared block", 1);
    srv_follower *f = NULL;
    if (follow) {
        srv_follow_opts fo = {&c->cfg, c->model_ref, c->cache_dir};
        f = srv_follower_new(&fo, sh, &err);
        if (!f) {
            srv_shared_free(sh);
            return fail(err.msg, 1);
        }
    }
    rdm_log(RDM_LOG_INFO, "readmit-fcgi listening on %s: %d workers x %d threads, %s%s", bind,
            o.workers, o.threads, follow ? "model " : "",
            follow ? c->model_ref : "empty responder");
    int rc = srv_supervise(&o, sh, f, &err) == 0 ? 0 : 1;
    if (rc)
        rdm_log(RDM_LOG_ERROR, "%s", err.msg);
    if (c->port <= 0)
        unlink(lo.socket_path);
    if (c->pidfile)
        unlink(c->pidfile);
    srv_follower_free(f);
    srv_shared_free(sh);
    close(o.listen_fd);
    rdm_log(RDM_LOG_INFO, "stopped");
    return rc;
}

void srv_cmd_release(srv_cmd *c)
{
    rdm_config_release(&c->cfg);
}
