/* test_util.c - util.c: array growth (capacities and overflow), error
 * messages (first one kept, prefixes, truncation), byte buffer growth. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readmit.h"

int test_util_register(void);

/* Capacities worked out by hand: start at 8, double until need fits. */
static void test_grow_capacities(void)
{
    static const struct {
        size_t cap, need, want_cap;
    } cases[] = {
        {0, 0, 0},  {0, 1, 8},    {0, 8, 8},     {0, 9, 16},      {8, 8, 8},
        {8, 9, 16}, {8, 17, 32},  {16, 15, 16},  {3, 4, 6},       {0, 100, 128},
        {5, 6, 10}, {10, 41, 80}, {64, 65, 128}, {1, 1000, 1024},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t cap = cases[i].cap;
        void *p = cap ? calloc(cap, sizeof(int)) : NULL;
        CU_ASSERT_EQUAL(rdm_grow(&p, &cap, cases[i].need, sizeof(int)), RDM_OK);
        CU_ASSERT_EQUAL(cap, cases[i].want_cap);
        if (cases[i].need) {
            CU_ASSERT_PTR_NOT_NULL(p);
            if (p)
                ((int *)p)[cases[i].need - 1] = 7; /* the last needed slot is writable */
        }
        free(p);
    }
}

static void test_grow_overflow(void)
{
    static const struct {
        size_t need, elem;
    } cases[] = {
        {SIZE_MAX, 2},
        {SIZE_MAX / 8 + 1, 8},
        {(SIZE_MAX / 16) + 1, 16},
        {2, 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int keep = 0;
        void *p = &keep;
        size_t cap = 1;
        CU_ASSERT_EQUAL(rdm_grow(&p, &cap, cases[i].need, cases[i].elem), RDM_ENOMEM);
        CU_ASSERT_PTR_EQUAL(p, &keep); /* unchanged on failure */
        CU_ASSERT_EQUAL(cap, 1);
    }
}

/* Growing element by element keeps every value written so far. */
static void test_grow_keeps_contents(void)
{
    long *a = NULL;
    size_t cap = 0;
    int ok = 1;
    for (size_t n = 0; n < 1000 && ok; n++) {
        void *v = a;
        ok = rdm_grow(&v, &cap, n + 1, sizeof *a) == RDM_OK;
        a = v;
        if (ok)
            a[n] = (long)(n * n);
    }
    CU_ASSERT_TRUE_FATAL(ok);
    CU_ASSERT_TRUE(cap >= 1000);
    size_t bad = 0;
    for (size_t n = 0; n < 1000; n++)
        bad += a[n] != (long)(n * n);
    CU_ASSERT_EQUAL(bad, 0);
    free(a);
}

/* Parallel arrays sharing one capacity: each grows to the same capacity
 * and keeps its contents; on overflow the capacity stays. */
static void test_grow_all(void)
{
    int *a = NULL;
    double *b = NULL;
    size_t cap = 0;
    const size_t esz[2] = {sizeof *a, sizeof *b};
    for (size_t n = 0; n < 100; n++) {
        void *v[2] = {a, b};
        int rc = rdm_grow_all(v, esz, 2, &cap, n + 1);
        a = v[0];
        b = v[1];
        CU_ASSERT_EQUAL_FATAL(rc, RDM_OK);
        a[n] = (int)n;
        b[n] = (double)n / 2;
    }
    CU_ASSERT_EQUAL(cap, 128);
    size_t bad = 0;
    for (size_t n = 0; n < 100; n++)
        bad += a[n] != (int)n || b[n] != (double)n / 2;
    CU_ASSERT_EQUAL(bad, 0);
    const size_t huge[2] = {sizeof *a, SIZE_MAX / 64};
    void *v[2] = {a, b};
    CU_ASSERT_EQUAL(rdm_grow_all(v, huge, 2, &cap, 200), RDM_ENOMEM);
    CU_ASSERT_EQUAL(cap, 128); /* the int array grew, the capacity did not */
    CU_ASSERT_PTR_EQUAL(v[1], b);
    free(v[0]);
    free(b);
}

static void test_buf_growth(void)
{
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_buf_addc(&b, 'x'), RDM_OK);
    CU_ASSERT_EQUAL(b.cap, 64);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "0123456789"), RDM_OK);
    CU_ASSERT_EQUAL(b.len, 1001);
    CU_ASSERT_EQUAL(b.cap, 1024);
    CU_ASSERT_EQUAL(b.data[1001], '\0');
    CU_ASSERT_EQUAL(strncmp(b.data, "x0123456789012", 14), 0);
    CU_ASSERT_EQUAL(rdm_buf_reserve(&b, SIZE_MAX - 10), RDM_ENOMEM);
    CU_ASSERT_EQUAL(b.len, 1001);
    rdm_buf_release(&b);
}

/* rdm_errf keeps the first message; rdm_err_prefix adds "prefix: ". */
static void test_err_prefix(void)
{
    static const struct {
        const char *first, *second; /* messages written with rdm_errf (second may be NULL) */
        const char *pre1, *pre2;    /* prefixes added in this order (may be NULL) */
        const char *want;
        int want_code;
    } cases[] = {
        {"bad value", NULL, NULL, NULL, "bad value", RDM_EINVAL},
        {"bad value", "ignored", NULL, NULL, "bad value", RDM_EINVAL},
        {"bad value", NULL, "config", NULL, "config: bad value", RDM_EINVAL},
        {"line 3", NULL, "x.csv", "ingest", "ingest: x.csv: line 3", RDM_EINVAL},
        {"", NULL, "config", NULL, "", RDM_EINVAL},
        {NULL, NULL, "config", NULL, "", 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rdm_err err = {0};
        if (cases[i].first)
            CU_ASSERT_EQUAL(rdm_errf(&err, RDM_EINVAL, "%s", cases[i].first), RDM_EINVAL);
        if (cases[i].second)
            CU_ASSERT_EQUAL(rdm_errf(&err, RDM_EIO, "%s", cases[i].second), RDM_EIO);
        if (cases[i].pre1)
            rdm_err_prefix(&err, "%s", cases[i].pre1);
        if (cases[i].pre2)
            rdm_err_prefix(&err, "%s", cases[i].pre2);
        CU_ASSERT_STRING_EQUAL(err.msg, cases[i].want);
        CU_ASSERT_EQUAL(err.code, cases[i].want_code);
    }
    rdm_err_prefix(NULL, "nothing happens");
    CU_ASSERT_EQUAL(rdm_errf(NULL, RDM_EDB, "x"), RDM_EDB);
}

/* Long prefixes and messages are cut to the buffer, never overrun it. */
static void test_err_prefix_truncates(void)
{
    char longs[2 * RDM_ERR_MSG];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';

    static const struct {
        size_t msg_len, pre_len, want_len;
    } cases[] = {
        {10, 5, 17},
        {RDM_ERR_MSG - 1, 3, RDM_ERR_MSG - 1},
        {10, RDM_ERR_MSG + 100, RDM_ERR_MSG - 1},
        {RDM_ERR_MSG - 8, 4, RDM_ERR_MSG - 2},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rdm_err err = {0};
        rdm_errf(&err, RDM_EIO, "%.*s", (int)cases[i].msg_len, longs);
        rdm_err_prefix(&err, "%.*s", (int)cases[i].pre_len, longs);
        CU_ASSERT_EQUAL(strlen(err.msg), cases[i].want_len);
        CU_ASSERT_TRUE(strstr(err.msg, ": ") != NULL);
    }
}

/* rdm_fmt_long writes what printf's "%ld" writes, LONG_MIN included. */
static void test_fmt_long(void)
{
    const long cases[] = {0,     1,          -1,       9,        10,          -10,
                          12345, -987654321, LONG_MAX, LONG_MIN, LONG_MIN + 1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[24], want[32];
        int n = snprintf(want, sizeof want, "%ld", cases[i]);
        CU_ASSERT_EQUAL(rdm_fmt_long(cases[i], got), (size_t)n);
        CU_ASSERT_STRING_EQUAL(got, want);
    }
}

static void test_errno_text(void)
{
    char buf[128], tiny[8];
    CU_ASSERT_STRING_EQUAL(rdm_errno_text(ENOENT, buf, sizeof buf), "No such file or directory");
    CU_ASSERT_PTR_EQUAL(rdm_errno_text(EACCES, buf, sizeof buf), buf);
    CU_ASSERT_STRING_EQUAL(buf, "Permission denied");
    rdm_errno_text(ENOENT, tiny, sizeof tiny); /* cut, never overrun */
    CU_ASSERT_TRUE(strlen(tiny) < sizeof tiny);
}

int test_util_register(void)
{
    CU_pSuite s = CU_add_suite("util", NULL, NULL);
    if (!s)
        return -1;
    return (CU_ADD_TEST(s, test_grow_capacities) && CU_ADD_TEST(s, test_grow_overflow) &&
            CU_ADD_TEST(s, test_grow_keeps_contents) && CU_ADD_TEST(s, test_grow_all) &&
            CU_ADD_TEST(s, test_buf_growth) && CU_ADD_TEST(s, test_err_prefix) &&
            CU_ADD_TEST(s, test_err_prefix_truncates) && CU_ADD_TEST(s, test_errno_text) &&
            CU_ADD_TEST(s, test_fmt_long))
               ? 0
               : -1;
}
