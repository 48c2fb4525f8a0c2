/* listen.c - the FastCGI socket: a Unix socket (default) or TCP on the
 * loopback, who may connect to it, and dropping root once it is bound. */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

/* Create the socket's directory. */
static int socket_dir(const char *path, rdm_err *err)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return RDM_OK;
    *slash = '\0';
    return dir[0] ? rdm_mkdirs(dir, err) : RDM_OK;
}

/* Only the owner, and the group when one is configured (nginx's), may
 * connect: never the world. */
static int socket_access(const srv_listen_opts *lo, rdm_err *err)
{
    char msg[128];
    mode_t mode = 0600;
    if (lo->socket_group && lo->socket_group[0]) {
        struct group *g = getgrnam(lo->socket_group);
        if (!g)
            return rdm_errf(err, RDM_EINVAL, "serve.socket_group: no group '%s'", lo->socket_group);
        if (chown(lo->socket_path, (uid_t)-1, g->gr_gid) != 0)
            return rdm_errf(err, RDM_EIO, "chown %s: %s", lo->socket_path,
                            rdm_errno_text(errno, msg, sizeof msg));
        mode = 0660;
    }
    if (lo->user && lo->user[0] && geteuid() == 0) {
        struct passwd *pw = getpwnam(lo->user);
        if (!pw)
            return rdm_errf(err, RDM_EINVAL, "serve.user: no user '%s'", lo->user);
        if (chown(lo->socket_path, pw->pw_uid, (gid_t)-1) != 0)
            return rdm_errf(err, RDM_EIO, "chown %s: %s", lo->socket_path,
                            rdm_errno_text(errno, msg, sizeof msg));
    }
    if (chmod(lo->socket_path, mode) != 0)
        return rdm_errf(err, RDM_EIO, "chmod %s: %s", lo->socket_path,
                        rdm_errno_text(errno, msg, sizeof msg));
    return RDM_OK;
}

int srv_listen_open(const srv_listen_opts *lo, char *bind_text, size_t n, rdm_err *err)
{
    if (lo->port > 0) {
        snprintf(bind_text, n, "%s:%d", lo->bind_addr, lo->port);
    } else {
        if (socket_dir(lo->socket_path, err) != RDM_OK)
            return -1;
        unlink(lo->socket_path);
        snprintf(bind_text, n, "%s", lo->socket_path);
    }
    /* the socket exists for a moment with the umask's mode: keep it private */
    mode_t old = umask(077);
    int fd = FCGX_OpenSocket(bind_text, 1024);
    int e = errno;
    umask(old);
    if (fd < 0) {
        char msg[128];
        rdm_errf(err, RDM_EIO, "cannot listen on %s: %s", bind_text,
                 rdm_errno_text(e, msg, sizeof msg));
        return -1;
    }
    /* the workers poll, then accept: another process may have taken the
     * connection in between, so accept must not block */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        char msg[128];
        rdm_errf(err, RDM_EIO, "%s: %s", bind_text, rdm_errno_text(errno, msg, sizeof msg));
        close(fd);
        return -1;
    }
    if (lo->port <= 0 && socket_access(lo, err) != RDM_OK) {
        close(fd);
        unlink(lo->socket_path);
        return -1;
    }
    return fd;
}

int srv_drop_privileges(const srv_listen_opts *lo, rdm_err *err)
{
    if (geteuid() != 0 || !lo->user || !lo->user[0])
        return RDM_OK;
    struct passwd *pw = getpwnam(lo->user);
    if (!pw)
        return rdm_errf(err, RDM_EINVAL, "serve.user: no user '%s'", lo->user);
    char msg[128];
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return rdm_errf(err, RDM_EIO, "cannot become user %s: %s", lo->user,
                        rdm_errno_text(errno, msg, sizeof msg));
    /* make sure there is no way back */
    if (setuid(0) == 0)
        return rdm_errf(err, RDM_EIO, "still able to regain root after becoming %s", lo->user);
    /* libpq looks for ~/.postgresql and ~/.pgpass: the new user's, not root's */
    if (setenv("HOME", pw->pw_dir, 1) != 0)
        return rdm_errf(err, RDM_ENOMEM, "out of memory");
    rdm_log(RDM_LOG_INFO, "running as user %s (uid %d)", pw->pw_name, (int)pw->pw_uid);
    return RDM_OK;
}
