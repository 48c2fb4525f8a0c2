/* main.c - readmit-fcgi: the prefork supervisor. Opens the FastCGI socket,
 * forks the workers, restarts dead ones with back-off, follows the registry
 * champion (LISTEN/NOTIFY + polling) and publishes it to the workers through
 * shared memory; SIGHUP reloads, SIGTERM drains and exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "model.h"
#include "readmit.h"
#include "registry.h"
#include "server.h"

static const char USAGE[] =
    "usage: readmit-fcgi [options]\n"
    "FastCGI server of the readmit model (run behind nginx; see scripts/serve.sh).\n"
    "  -c, --config FILE   configuration (default conf/readmit.yaml)\n"
    "  -o KEY=VALUE        override one setting (e.g. -o serve.workers=4)\n"
    "  --model REF         model to serve: a registry reference (default \"champion\",\n"
    "                      followed across promotions) or a .model file (SIGHUP reloads it)\n"
    "  --socket PATH       Unix socket (default serve.socket)\n"
    "  --port N            TCP port on 127.0.0.1 instead of the socket (serve.fcgi_port)\n"
    "  --bind ADDR         IPv4 address the --port listens on (default 127.0.0.1)\n"
    "  --workers N         worker processes (serve.workers; 0 = cores)\n"
    "  --threads N         request threads per worker (default 1)\n"
    "  --pidfile FILE      write the supervisor pid here\n"
    "  --empty             answer every request with a constant body (benchmark ceiling)\n"
    "  --print-config      print the serve settings as shell variables and exit\n"
    "  --bench-score FILE  time parsing + scoring of the JSON bodies in FILE (one per\n"
    "                      line) with the --model file, print the figures and exit\n";

static volatile sig_atomic_t got_term, got_hup, got_chld;
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGTERM || sig == SIGINT)
        got_term = 1;
    else if (sig == SIGHUP)
        got_hup = 1;
    else if (sig == SIGCHLD)
        got_chld = 1;
    if (sig_pipe[1] >= 0) {
        ssize_t r = write(sig_pipe[1], "x", 1);
        (void)r;
    }
    errno = saved;
}

typedef struct worker {
    pid_t pid;
    double started;
    double restart_at; /* > 0: restart due at this time */
    int quick_deaths;  /* consecutive deaths soon after start */
} worker;

typedef struct sup {
    rdm_config cfg;
    srv_opts o;
    srv_shared *sh;
    worker w[SRV_MAX_WORKERS];
    const char *model_ref;
    int file_mode;
    rdm_db *db;
    double next_connect, connect_backoff, next_poll;
    char failed_sha[65]; /* last champion that failed to load: not retried until it changes */
    char socket_path[512];
    const char *pidfile;
} sup;

static int spawn(sup *s, int i)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        if (s->db)
            close(rdm_db_socket(s->db));
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigset_t keep;
        sigemptyset(&keep);
        sigaddset(&keep, SIGTERM);
        sigaddset(&keep, SIGINT);
        sigaddset(&keep, SIGHUP);
        sigaddset(&keep, SIGCHLD);
        sigprocmask(SIG_SETMASK, &keep, NULL);
        srv_worker_main(&s->o, s->sh, i);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        rdm_log(RDM_LOG_ERROR, "fork failed: %s", strerror(errno));
        s->w[i].restart_at = rdm_now() + 1.0;
        return -1;
    }
    s->w[i].pid = pid;
    s->w[i].started = rdm_now();
    s->w[i].restart_at = 0;
    return 0;
}

static void reap(sup *s)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < s->o.workers; i++) {
            if (s->w[i].pid != pid)
                continue;
            double now = rdm_now();
            s->w[i].pid = 0;
            if (got_term)
                break;
            if (now - s->w[i].started < 5.0)
                s->w[i].quick_deaths++;
            else
                s->w[i].quick_deaths = 0;
            double delay = 0;
            if (s->w[i].quick_deaths > 0) {
                delay = 0.1;
                for (int k = 1; k < s->w[i].quick_deaths && delay < 10.0; k++)
                    delay *= 2;
                if (delay > 10.0)
                    delay = 10.0;
            }
            s->w[i].restart_at = now + delay;
            atomic_store(&s->sh->w[i].inflight, 0);
            if (WIFSIGNALED(status))
                rdm_log(RDM_LOG_WARN, "worker %d pid=%d killed by signal %d; restart in %.1fs", i,
                        (int)pid, WTERMSIG(status), delay);
            else
                rdm_log(RDM_LOG_WARN, "worker %d pid=%d exited with status %d; restart in %.1fs", i,
                        (int)pid, WEXITSTATUS(status), delay);
        }
    }
}

/* ---- the model source ---- */

static void db_drop(sup *s, const char *why)
{
    if (s->db) {
        rdm_log(RDM_LOG_WARN, "registry database lost (%s); serving the loaded model, reconnecting",
                why);
        rdm_db_close(s->db);
        s->db = NULL;
    }
    atomic_store(&s->sh->db_ok, 0);
    s->next_connect = rdm_now() + s->connect_backoff;
    s->connect_backoff = s->connect_backoff < 15 ? s->connect_backoff * 2 : 30;
}

static void db_try_connect(sup *s)
{
    if (s->db || rdm_now() < s->next_connect)
        return;
    rdm_err err = {0};
    s->db = rdm_db_connect(&s->cfg, &err);
    if (!s->db) {
        if (atomic_load(&s->sh->db_ok) != 0 || s->connect_backoff <= 1.0)
            rdm_log(RDM_LOG_WARN, "registry: %s", err.msg);
        atomic_store(&s->sh->db_ok, 0);
        s->next_connect = rdm_now() + s->connect_backoff;
        s->connect_backoff = s->connect_backoff < 15 ? s->connect_backoff * 2 : 30;
        return;
    }
    /* a channel name, not a value: no parameter is involved */
    if (rdm_db_exec(s->db, RDM_SQL_REGISTRY_LISTEN, 0, NULL, &err) != RDM_OK) {
        rdm_log(RDM_LOG_WARN, "registry: LISTEN failed: %s", err.msg);
        db_drop(s, "LISTEN failed");
        return;
    }
    s->connect_backoff = 1.0;
    atomic_store(&s->sh->db_ok, 1);
    rdm_log(RDM_LOG_INFO, "registry database connected; listening on %s", RDM_REGISTRY_CHANNEL);
}

/* Remember what is served, for a cold start while the database is down. */
static void save_serving(sup *s, const srv_model_ref *ref)
{
    char path[600], text[800];
    snprintf(path, sizeof path, "%s/serving-%s.txt", RDM_MODEL_CACHE_DIR,
             s->cfg.registry.model_name);
    int n = snprintf(text, sizeof text, "%s %s %s\n", ref->version, ref->sha256, ref->path);
    rdm_err err = {0};
    if (rdm_write_file_atomic(path, text, (size_t)n, &err) != RDM_OK)
        rdm_log(RDM_LOG_WARN, "cannot save %s: %s", path, err.msg);
}

static void load_serving(sup *s)
{
    char path[600];
    snprintf(path, sizeof path, "%s/serving-%s.txt", RDM_MODEL_CACHE_DIR,
             s->cfg.registry.model_name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    srv_model_ref ref;
    memset(&ref, 0, sizeof ref);
    if (fscanf(f, "%31s %64s %511s", ref.version, ref.sha256, ref.path) == 3 &&
        access(ref.path, R_OK) == 0) {
        snprintf(ref.name, sizeof ref.name, "%s", s->cfg.registry.model_name);
        snprintf(ref.alias, sizeof ref.alias, "champion");
        srv_model_publish(s->sh, &ref);
        rdm_log(RDM_LOG_INFO, "database unreachable: serving the cached champion version %s",
                ref.version);
    }
    fclose(f);
}

/* Check the champion; fetch, verify and publish it when it changed. */
static void refresh(sup *s, int force)
{
    if (s->file_mode) {
        srv_model_ref ref;
        srv_model_ref_read(s->sh, &ref);
        if (!force && ref.path[0])
            return;
        rdm_err err = {0};
        rdm_buf b = RDM_BUF_INIT;
        memset(&ref, 0, sizeof ref);
        if (rdm_read_file(s->model_ref, &b, &err) != RDM_OK) {
            atomic_fetch_add(&s->sh->sup_load_failures, 1);
            rdm_log(RDM_LOG_ERROR, "model %s: %s", s->model_ref, err.msg);
            rdm_buf_release(&b);
            return;
        }
        rdm_sha256_hex(b.data, b.len, ref.sha256);
        rdm_buf_release(&b);
        snprintf(ref.path, sizeof ref.path, "%s", s->model_ref);
        snprintf(ref.name, sizeof ref.name, "%s", s->cfg.registry.model_name);
        snprintf(ref.version, sizeof ref.version, "file:%.12s", ref.sha256);
        srv_model_publish(s->sh, &ref);
        atomic_fetch_add(&s->sh->sup_loads, 1);
        return;
    }
    db_try_connect(s);
    if (!s->db)
        return;
    rdm_err err = {0};
    int version = 0;
    char sha[65] = "";
    const char *name = s->cfg.registry.model_name;
    if (rdm_registry_alias_get(s->db, name, "champion", &version, sha, &err) != RDM_OK) {
        if (!rdm_db_ok(s->db))
            db_drop(s, err.msg);
        else
            rdm_log(RDM_LOG_WARN, "registry: %s", err.msg);
        return;
    }
    atomic_store(&s->sh->db_ok, 1);
    srv_model_ref cur;
    srv_model_ref_read(s->sh, &cur);
    /* a pinned version ("3", "NAME:3") never changes: fetched once */
    if (!strstr(s->model_ref, "champion") && !strstr(s->model_ref, "challenger") && cur.path[0] &&
        !force)
        return;
    char vtext[32];
    snprintf(vtext, sizeof vtext, "%d", version);
    if (version == 0)
        return; /* no champion yet: workers answer 503 (or keep a cached one) */
    if (!force && strcmp(cur.version, vtext) == 0 && strcmp(cur.sha256, sha) == 0)
        return;
    if (!force && strcmp(s->failed_sha, sha) == 0)
        return;
    rdm_buf b = RDM_BUF_INIT;
    rdm_model_info info;
    memset(&info, 0, sizeof info);
    double t0 = rdm_now();
    if (rdm_registry_fetch(s->db, &s->cfg, s->model_ref, &b, &info, &err) != RDM_OK) {
        atomic_fetch_add(&s->sh->sup_load_failures, 1);
        rdm_log(RDM_LOG_ERROR, "registry: fetching %s failed: %s", s->model_ref, err.msg);
        if (!rdm_db_ok(s->db))
            db_drop(s, err.msg);
        rdm_buf_release(&b);
        return;
    }
    /* check it loads before any worker tries it */
    rdm_model *m = rdm_model_load_bytes(b.data, b.len, &err);
    srv_model_ref ref;
    memset(&ref, 0, sizeof ref);
    snprintf(ref.path, sizeof ref.path, "%s/%s.model", RDM_MODEL_CACHE_DIR, info.sha256);
    if (!m || rdm_mkdirs(RDM_MODEL_CACHE_DIR, &err) != RDM_OK ||
        rdm_write_file_atomic(ref.path, b.data, b.len, &err) != RDM_OK) {
        atomic_fetch_add(&s->sh->sup_load_failures, 1);
        snprintf(s->failed_sha, sizeof s->failed_sha, "%s", info.sha256);
        rdm_log(RDM_LOG_ERROR, "model %s version %d does not load (%s); still serving version %s",
                info.name, info.version, err.msg, cur.version[0] ? cur.version : "(none)");
        rdm_model_free(m);
        rdm_buf_release(&b);
        return;
    }
    rdm_model_free(m);
    rdm_buf_release(&b);
    snprintf(ref.name, sizeof ref.name, "%s", info.name);
    snprintf(ref.version, sizeof ref.version, "%d", info.version);
    snprintf(ref.alias, sizeof ref.alias, "%s", info.alias);
    snprintf(ref.sha256, sizeof ref.sha256, "%s", info.sha256);
    srv_model_publish(s->sh, &ref);
    atomic_fetch_add(&s->sh->sup_loads, 1);
    s->failed_sha[0] = '\0';
    save_serving(s, &ref);
    rdm_log(RDM_LOG_INFO, "serving %s version %d sha256=%.12s (fetched in %.1f ms)", info.name,
            info.version, info.sha256, (rdm_now() - t0) * 1e3);
}

static void log_notification(const char *channel, const char *payload, void *ud)
{
    (void)ud;
    rdm_log(RDM_LOG_INFO, "registry: notification %s '%s'", channel, payload);
}

/* Drain notifications; returns 1 when one arrived. */
static int notified(sup *s)
{
    if (!s->db)
        return 0;
    rdm_err err = {0};
    int n = rdm_db_notifications(s->db, log_notification, NULL, &err);
    if (n < 0) {
        db_drop(s, err.msg);
        return 0;
    }
    return n > 0;
}

static void shutdown_all(sup *s)
{
    rdm_log(RDM_LOG_INFO, "stopping: draining %d workers", s->o.workers);
    for (int i = 0; i < s->o.workers; i++)
        if (s->w[i].pid > 0)
            kill(s->w[i].pid, SIGTERM);
    double deadline = rdm_now() + 15.0;
    for (;;) {
        int alive = 0;
        for (int i = 0; i < s->o.workers; i++) {
            if (s->w[i].pid <= 0)
                continue;
            pid_t r = waitpid(s->w[i].pid, NULL, WNOHANG);
            if (r == s->w[i].pid || (r < 0 && errno == ECHILD))
                s->w[i].pid = 0;
            else
                alive++;
        }
        if (!alive)
            break;
        if (rdm_now() > deadline) {
            for (int i = 0; i < s->o.workers; i++)
                if (s->w[i].pid > 0)
                    kill(s->w[i].pid, SIGKILL);
            deadline = rdm_now() + 5.0;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int arg_int(const char *s, int *out)
{
    long v;
    if (rdm_parse_long(s, &v) != 0 || v < 0 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    static sup s;
    rdm_err err = {0};
    const char *config = "conf/readmit.yaml";
    const char *sock_opt = NULL;
    const char *bind_addr = "127.0.0.1";
    int port = -1, workers = -1, threads = 1, print_config = 0;
    const char *bench = NULL;
    s.model_ref = "champion";
    if (rdm_config_defaults(&s.cfg, &err) != RDM_OK) {
        fprintf(stderr, "readmit-fcgi: %s\n", err.msg);
        return 1;
    }
    /* the config file first, then -o overrides in order */
    for (int i = 1; i < argc; i++)
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            config = argv[++i];
    if (access(config, R_OK) == 0 && rdm_config_load(&s.cfg, config, &err) != RDM_OK) {
        fprintf(stderr, "readmit-fcgi: %s\n", err.msg);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && has) {
            i++;
        } else if (strcmp(a, "-o") == 0 && has) {
            if (rdm_config_set(&s.cfg, argv[++i], &err) != RDM_OK) {
                fprintf(stderr, "readmit-fcgi: %s\n", err.msg);
                return 2;
            }
        } else if (strcmp(a, "--model") == 0 && has) {
            s.model_ref = argv[++i];
        } else if (strcmp(a, "--socket") == 0 && has) {
            sock_opt = argv[++i];
        } else if (strcmp(a, "--bind") == 0 && has) {
            struct in_addr ia;
            bind_addr = argv[++i];
            if (inet_pton(AF_INET, bind_addr, &ia) != 1)
                goto usage;
        } else if (strcmp(a, "--port") == 0 && has) {
            if (arg_int(argv[++i], &port) != 0)
                goto usage;
        } else if (strcmp(a, "--workers") == 0 && has) {
            if (arg_int(argv[++i], &workers) != 0)
                goto usage;
        } else if (strcmp(a, "--threads") == 0 && has) {
            if (arg_int(argv[++i], &threads) != 0 || threads < 1 || threads > 256)
                goto usage;
        } else if (strcmp(a, "--pidfile") == 0 && has) {
            s.pidfile = argv[++i];
        } else if (strcmp(a, "--bench-score") == 0 && has) {
            bench = argv[++i];
        } else if (strcmp(a, "--print-config") == 0) {
            print_config = 1;
        } else if (strcmp(a, "--empty") == 0) {
            s.o.empty = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else {
            goto usage;
        }
    }
    if (rdm_config_validate(&s.cfg, &err) != RDM_OK) {
        fprintf(stderr, "readmit-fcgi: %s\n", err.msg);
        return 2;
    }
    if (workers < 0)
        workers = s.cfg.serve.workers;
    if (workers <= 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        workers = nc > 0 ? (int)nc : 1;
    }
    if (workers > SRV_MAX_WORKERS)
        workers = SRV_MAX_WORKERS;
    if (port < 0)
        port = s.cfg.serve.fcgi_port;
    s.file_mode = rdm_registry_ref_is_file(s.model_ref);
    if (bench) {
        int rc = srv_bench_score(s.model_ref, bench, 2.0);
        rdm_config_release(&s.cfg);
        return rc;
    }
    if (print_config) {
        /* values are checked by the config loader; quote the path for the shell */
        printf("http_port=%d\nfcgi_port=%d\nworkers=%d\nmax_body_bytes=%ld\nmax_instances=%ld\n"
               "poll_seconds=%d\nmodel_name='%s'\nreport_dir='%s'\nsocket='%s'\ndata_source='%s'\n",
               s.cfg.serve.http_port, port, workers, s.cfg.serve.max_body_bytes,
               s.cfg.serve.max_instances, s.cfg.serve.poll_seconds, s.cfg.registry.model_name,
               s.cfg.report.dir, sock_opt ? sock_opt : s.cfg.serve.socket,
               s.cfg.data.source ? s.cfg.data.source : "");
        rdm_config_release(&s.cfg);
        return 0;
    }

    s.o.workers = workers;
    s.o.threads = threads;
    s.o.max_instances = s.cfg.serve.max_instances;
    s.o.max_body_bytes = s.cfg.serve.max_body_bytes;
    s.o.empty_body = "{\"model\":{\"name\":\"readmission\",\"version\":\"1\"},\"encounter_id\":"
                     "\"12345\",\"probability\":0.123456,\"decision\":false,\"threshold\":0.5,"
                     "\"warnings\":[]}\n";

    if (FCGX_Init() != 0) {
        fprintf(stderr, "readmit-fcgi: FCGX_Init failed\n");
        return 1;
    }
    char bind[600];
    if (port > 0) {
        snprintf(bind, sizeof bind, "%s:%d", bind_addr, port);
        s.socket_path[0] = '\0';
    } else {
        snprintf(s.socket_path, sizeof s.socket_path, "%s",
                 sock_opt ? sock_opt : s.cfg.serve.socket);
        snprintf(bind, sizeof bind, "%s", s.socket_path);
        char dir[512];
        snprintf(dir, sizeof dir, "%s", s.socket_path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            if (dir[0] && rdm_mkdirs(dir, &err) != RDM_OK) {
                fprintf(stderr, "readmit-fcgi: %s\n", err.msg);
                return 1;
            }
        }
        unlink(s.socket_path);
    }
    s.o.listen_fd = FCGX_OpenSocket(bind, 1024);
    if (s.o.listen_fd < 0) {
        fprintf(stderr, "readmit-fcgi: cannot listen on %s: %s\n", bind, strerror(errno));
        return 1;
    }
    if (s.socket_path[0])
        chmod(s.socket_path, 0666); /* nginx workers run as another user */

    s.sh = mmap(NULL, sizeof *s.sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s.sh == MAP_FAILED) {
        fprintf(stderr, "readmit-fcgi: mmap: %s\n", strerror(errno));
        return 1;
    }
    memset(s.sh, 0, sizeof *s.sh);
    atomic_store(&s.sh->db_ok, s.file_mode ? -1 : 0);

    if (pipe(sig_pipe) != 0) {
        fprintf(stderr, "readmit-fcgi: pipe: %s\n", strerror(errno));
        return 1;
    }
    fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    fcntl(sig_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(sig_pipe[1], F_SETFD, FD_CLOEXEC);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (s.pidfile) {
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
        if (rdm_write_file_atomic(s.pidfile, pid, (size_t)n, &err) != RDM_OK)
            rdm_log(RDM_LOG_WARN, "pidfile: %s", err.msg);
    }

    s.connect_backoff = 1.0;
    refresh(&s, 0);
    if (!s.file_mode && !s.db)
        load_serving(&s);
    s.next_poll = rdm_now() + s.cfg.serve.poll_seconds;
    rdm_log(RDM_LOG_INFO, "readmit-fcgi listening on %s: %d workers x %d threads, model %s%s", bind,
            workers, threads, s.model_ref, s.o.empty ? " (empty responder)" : "");
    for (int i = 0; i < workers; i++)
        spawn(&s, i);

    while (!got_term) {
        double now = rdm_now();
        double wake = s.next_poll;
        for (int i = 0; i < workers; i++)
            if (s.w[i].restart_at > 0 && s.w[i].restart_at < wake)
                wake = s.w[i].restart_at;
        if (!s.file_mode && !s.db && s.next_connect < wake)
            wake = s.next_connect;
        int timeout = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
        struct pollfd pf[2] = {{sig_pipe[0], POLLIN, 0}, {-1, POLLIN, 0}};
        if (s.db)
            pf[1].fd = rdm_db_socket(s.db);
        poll(pf, s.db ? 2 : 1, timeout);
        char drain[64];
        while (read(sig_pipe[0], drain, sizeof drain) > 0) {
        }
        if (got_term)
            break;
        if (got_chld) {
            got_chld = 0;
            reap(&s);
        }
        int force = got_hup;
        got_hup = 0;
        int note = s.db && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && notified(&s);
        now = rdm_now();
        if (force || note || now >= s.next_poll ||
            (!s.file_mode && !s.db && now >= s.next_connect)) {
            if (force)
                rdm_log(RDM_LOG_INFO, "SIGHUP: reloading the model");
            refresh(&s, force);
            s.next_poll = rdm_now() + s.cfg.serve.poll_seconds;
        }
        now = rdm_now();
        for (int i = 0; i < workers; i++)
            if (s.w[i].pid == 0 && s.w[i].restart_at > 0 && now >= s.w[i].restart_at) {
                atomic_fetch_add(&s.sh->worker_restarts, 1);
                spawn(&s, i);
            }
    }
    shutdown_all(&s);
    if (s.socket_path[0])
        unlink(s.socket_path);
    if (s.pidfile)
        unlink(s.pidfile);
    rdm_db_close(s.db);
    rdm_config_release(&s.cfg);
    munmap(s.sh, sizeof *s.sh);
    rdm_log(RDM_LOG_INFO, "stopped");
    return 0;
usage:
    fputs(USAGE, stderr);
    rdm_config_release(&s.cfg);
    return 2;
}
