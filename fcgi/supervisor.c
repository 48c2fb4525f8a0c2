/* supervisor.c - the prefork supervisor: forks the workers, restarts dead
 * ones with back-off, runs the model follower between signals; SIGHUP
 * reloads the model, SIGTERM/SIGINT drain the workers and return. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

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
    const srv_opts *o;
    srv_shared *sh;
    srv_follower *f;
    worker w[SRV_MAX_WORKERS];
} sup;

/* In the child: default signal dispositions, then the worker. */
static void child(sup *s, int i) __attribute__((noreturn));

static void child(sup *s, int i)
{
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    srv_follower_forget(s->f);
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
    srv_worker_main(s->o, s->sh, i);
}

static int spawn(sup *s, int i)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        child(s, i);
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        char msg[128];
        rdm_log(RDM_LOG_ERROR, "fork failed: %s", rdm_errno_text(e, msg, sizeof msg));
        s->w[i].restart_at = rdm_now() + 1.0;
        return -1;
    }
    s->w[i].pid = pid;
    s->w[i].started = rdm_now();
    s->w[i].restart_at = 0;
    return 0;
}

/* Back-off before restarting a worker that died `quick` times in a row
 * within 5 s of its start: 0, then 0.1 s doubling up to 10 s. */
static double backoff(int quick)
{
    double delay = 0;
    if (quick > 0) {
        delay = 0.1;
        for (int k = 1; k < quick && delay < 10.0; k++)
            delay *= 2;
        if (delay > 10.0)
            delay = 10.0;
    }
    return delay;
}

static void reap(sup *s)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < s->o->workers; i++) {
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
            double delay = backoff(s->w[i].quick_deaths);
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

static void shutdown_all(sup *s)
{
    rdm_log(RDM_LOG_INFO, "stopping: draining %d workers", s->o->workers);
    for (int i = 0; i < s->o->workers; i++)
        if (s->w[i].pid > 0)
            kill(s->w[i].pid, SIGTERM);
    double deadline = rdm_now() + 15.0;
    for (;;) {
        int alive = 0;
        for (int i = 0; i < s->o->workers; i++) {
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
            for (int i = 0; i < s->o->workers; i++)
                if (s->w[i].pid > 0)
                    kill(s->w[i].pid, SIGKILL);
            deadline = rdm_now() + 5.0;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int install_signals(rdm_err *err)
{
    if (pipe(sig_pipe) != 0) {
        char msg[128];
        return rdm_errf(err, RDM_EIO, "pipe: %s", rdm_errno_text(errno, msg, sizeof msg));
    }
    for (int k = 0; k < 2; k++) {
        fcntl(sig_pipe[k], F_SETFL, O_NONBLOCK);
        fcntl(sig_pipe[k], F_SETFD, FD_CLOEXEC);
    }
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
    return RDM_OK;
}

/* Sleep until a signal, a notification, or the next due time. Returns 1
 * when the follower's socket became readable. */
static int wait_event(sup *s)
{
    double now = rdm_now();
    double wake = s->f ? srv_follower_wake(s->f) : now + 3600;
    for (int i = 0; i < s->o->workers; i++)
        if (s->w[i].restart_at > 0 && s->w[i].restart_at < wake)
            wake = s->w[i].restart_at;
    int timeout = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
    int fd = s->f ? srv_follower_fd(s->f) : -1;
    struct pollfd pf[2] = {{sig_pipe[0], POLLIN, 0}, {fd, POLLIN, 0}};
    poll(pf, fd >= 0 ? 2 : 1, timeout);
    char drain[64];
    while (read(sig_pipe[0], drain, sizeof drain) > 0) {
    }
    return fd >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR));
}

int srv_supervise(const srv_opts *o, srv_shared *sh, srv_follower *f, rdm_err *err)
{
    static sup s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.sh = sh;
    s.f = f;
    if (install_signals(err) != RDM_OK)
        return -1;
    if (f)
        srv_follower_start(f);
    for (int i = 0; i < o->workers; i++)
        spawn(&s, i);
    while (!got_term) {
        int readable = wait_event(&s);
        if (got_term)
            break;
        if (got_chld) {
            got_chld = 0;
            reap(&s);
        }
        int force = got_hup;
        got_hup = 0;
        if (f)
            srv_follower_step(f, readable, force);
        double now = rdm_now();
        for (int i = 0; i < o->workers; i++)
            if (s.w[i].pid == 0 && s.w[i].restart_at > 0 && now >= s.w[i].restart_at) {
                atomic_fetch_add(&sh->worker_restarts, 1);
                spawn(&s, i);
            }
    }
    shutdown_all(&s);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    return 0;
}
