/* test_files.c - rdm_write_file_atomic on every kind of path: missing,
 * regular, symbolic link, directory, device (/dev/full), FIFO. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "readmit.h"
#include "registry.h"

int test_files_register(void);

static char dir[64];

static int setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/readmit-files-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

static int file_is(const char *path, const char *want)
{
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    int ok = rdm_read_file(path, &b, &err) == RDM_OK && b.len == strlen(want) &&
             memcmp(b.data, want, b.len) == 0;
    rdm_buf_release(&b);
    return ok;
}

static void test_atomic_missing_and_regular(void)
{
    char p[PATH_MAX];
    path_of(p, "plain.txt");
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_write_file_atomic(p, "one\n", 4, &err), RDM_OK);
    CU_ASSERT_TRUE(file_is(p, "one\n"));
    CU_ASSERT_EQUAL(rdm_write_file_atomic(p, "two\n", 4, &err), RDM_OK);
    CU_ASSERT_TRUE(file_is(p, "two\n"));
    struct stat st;
    CU_ASSERT_EQUAL(lstat(p, &st), 0);
    CU_ASSERT_TRUE(S_ISREG(st.st_mode));
}

static void test_atomic_symlink_kept(void)
{
    char target[PATH_MAX], link[PATH_MAX];
    path_of(target, "target.txt");
    path_of(link, "link.txt");
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_write_file_atomic(target, "old", 3, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
    CU_ASSERT_EQUAL(rdm_write_file_atomic(link, "new", 3, &err), RDM_OK);
    struct stat st;
    CU_ASSERT_EQUAL(lstat(link, &st), 0);
    CU_ASSERT_TRUE(S_ISLNK(st.st_mode)); /* the link is still a link */
    CU_ASSERT_TRUE(file_is(target, "new"));
}

static void test_atomic_directory_refused(void)
{
    char d[PATH_MAX], inside[PATH_MAX];
    path_of(d, "adir");
    path_of(inside, "adir/keep");
    CU_ASSERT_EQUAL_FATAL(mkdir(d, 0755), 0);
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_write_file_atomic(inside, "k", 1, &err), RDM_OK);
    rdm_err e2 = {0};
    CU_ASSERT_EQUAL(rdm_write_file_atomic(d, "x", 1, &e2), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "is a directory"));
    struct stat st;
    CU_ASSERT_EQUAL(stat(d, &st), 0);
    CU_ASSERT_TRUE(S_ISDIR(st.st_mode));
    CU_ASSERT_TRUE(file_is(inside, "k"));
}

/* The devices written to: as root, private nodes in the test directory
 * (a broken rdm_write_file_atomic must never replace the system's /dev/full
 * or /dev/null); otherwise the system's, which a non-root user cannot
 * replace. */
static int device(char *out, const char *name, unsigned minor)
{
    if (geteuid() != 0) {
        snprintf(out, PATH_MAX, "/dev/%s", name);
        return 0;
    }
    path_of(out, name);
    return mknod(out, S_IFCHR | 0666, makedev(1, minor));
}

static void test_atomic_dev_full(void)
{
    char full[PATH_MAX], null[PATH_MAX];
    if (device(full, "full", 7) != 0 || device(null, "null", 3) != 0) {
        fprintf(stderr, "\nmknod in %s: %s\n", dir, strerror(errno));
        CU_FAIL("cannot make device nodes to write to");
        return;
    }
    struct stat before, after;
    CU_ASSERT_EQUAL_FATAL(stat(full, &before), 0);
    CU_ASSERT_TRUE_FATAL(S_ISCHR(before.st_mode));
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_write_file_atomic(full, "data", 4, &err), RDM_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, full));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, strerror(ENOSPC)));
    CU_ASSERT_EQUAL(stat(full, &after), 0);
    CU_ASSERT_TRUE(S_ISCHR(after.st_mode)); /* still the device */
    CU_ASSERT_EQUAL(before.st_rdev, after.st_rdev);
    /* the null device takes the bytes and stays a device */
    rdm_err e2 = {0};
    CU_ASSERT_EQUAL(rdm_write_file_atomic(null, "data", 4, &e2), RDM_OK);
    CU_ASSERT_EQUAL(stat(null, &after), 0);
    CU_ASSERT_TRUE(S_ISCHR(after.st_mode));
}

static void test_atomic_fifo_streamed(void)
{
    char fifo[PATH_MAX], got[PATH_MAX];
    path_of(fifo, "pipe");
    path_of(got, "from-pipe.txt");
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    CU_ASSERT_TRUE_FATAL(pid >= 0);
    if (pid == 0) { /* reader: copy the FIFO to a file; never wait forever */
        alarm(20);
        int in = open(fifo, O_RDONLY), out = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char buf[256];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                _exit(1);
        _exit(in >= 0 && out >= 0 ? 0 : 1);
    }
    rdm_err err = {0};
    CU_ASSERT_EQUAL(rdm_write_file_atomic(fifo, "through the pipe\n", 17, &err), RDM_OK);
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_TRUE(file_is(got, "through the pipe\n"));
    struct stat st;
    CU_ASSERT_EQUAL(lstat(fifo, &st), 0);
    CU_ASSERT_TRUE(S_ISFIFO(st.st_mode)); /* not replaced by a regular file */
}

/* the model cache's file name, shared by the registry and the serving pool */
static void test_cache_path(void)
{
    char sha[65], out[128];
    memset(sha, 'a', 64);
    sha[64] = '\0';
    CU_ASSERT_EQUAL(rdm_registry_cache_path(out, sizeof out, "var/models", sha), 1);
    CU_ASSERT_TRUE(strncmp(out, "var/models/", 11) == 0 && strcmp(out + 11 + 64, ".model") == 0);
    CU_ASSERT_EQUAL(strlen(out), 11 + 64 + 6);
    CU_ASSERT_EQUAL(rdm_registry_cache_path(out, sizeof out, "", sha), 0);
    CU_ASSERT_EQUAL(rdm_registry_cache_path(out, sizeof out, NULL, sha), 0);
    /* one byte short: refused and left empty, never truncated */
    char small[11 + 64 + 6];
    CU_ASSERT_EQUAL(rdm_registry_cache_path(small, sizeof small, "var/models", sha), 0);
    CU_ASSERT_EQUAL(small[0], '\0');
    CU_ASSERT_EQUAL(rdm_registry_cache_path(small, sizeof small, "var/model", sha), 1);
}

int test_files_register(void)
{
    CU_pSuite s = CU_add_suite("files", setup, teardown);
    return (s && CU_ADD_TEST(s, test_atomic_missing_and_regular) &&
            CU_ADD_TEST(s, test_atomic_symlink_kept) &&
            CU_ADD_TEST(s, test_atomic_directory_refused) && CU_ADD_TEST(s, test_atomic_dev_full) &&
            CU_ADD_TEST(s, test_atomic_fifo_streamed) && CU_ADD_TEST(s, test_cache_path))
               ? 0
               : -1;
}
