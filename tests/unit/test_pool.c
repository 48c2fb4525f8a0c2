/* test_pool.c - the thread pool: every item runs exactly once, thread ids in
 * range, jobs reuse the workers, NULL pool runs serially, shared items by
 * thread blocks (own block first, each item once), bad sizes fail. */
#include <CUnit/CUnit.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "pool.h"

int test_pool_register(void);

typedef struct counts {
    atomic_int *hits; /* per item */
    atomic_int bad_tid;
    int threads;
} counts;

static void count_item(void *arg, size_t item, int tid)
{
    counts *c = arg;
    atomic_fetch_add(&c->hits[item], 1);
    if (tid < 0 || tid >= c->threads)
        atomic_fetch_add(&c->bad_tid, 1);
}

static void test_pool_every_item_once(void)
{
    static const struct {
        int threads;
        size_t items;
    } cases[] = {{1, 1}, {1, 1000}, {2, 0}, {2, 1}, {2, 3}, {2, 10000}, {4, 777}, {64, 100}};

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rdm_err err = {0};
        rdm_pool *p = rdm_pool_create(cases[k].threads, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL(rdm_pool_threads(p), cases[k].threads);
        counts c = {calloc(cases[k].items + 1, sizeof(atomic_int)), 0, cases[k].threads};
        CU_ASSERT_PTR_NOT_NULL_FATAL(c.hits);
        for (int round = 0; round < 3; round++) /* the same workers, job after job */
            rdm_pool_for(p, cases[k].items, count_item, &c);
        int wrong = 0;
        for (size_t i = 0; i < cases[k].items; i++)
            wrong += atomic_load(&c.hits[i]) != 3;
        CU_ASSERT_EQUAL(wrong, 0);
        CU_ASSERT_EQUAL(atomic_load(&c.hits[cases[k].items]), 0);
        CU_ASSERT_EQUAL(atomic_load(&c.bad_tid), 0);
        free(c.hits);
        rdm_pool_free(p);
    }
}

static void test_pool_null_runs_serially(void)
{
    counts c = {calloc(50, sizeof(atomic_int)), 0, 1};
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.hits);
    rdm_pool_for(NULL, 50, count_item, &c);
    int wrong = 0;
    for (size_t i = 0; i < 50; i++)
        wrong += atomic_load(&c.hits[i]) != 1;
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(atomic_load(&c.bad_tid), 0);
    free(c.hits);
    rdm_pool_free(NULL);
}

/* Per-item results combined in item order do not depend on the threads. */
static void square_item(void *arg, size_t item, int tid)
{
    double *out = arg;
    (void)tid;
    out[item] = 1.0 / (double)(item + 1) / (double)(item + 1);
}

static void test_pool_deterministic_sum(void)
{
    double sums[3];
    const int threads[3] = {1, 2, 8};
    for (int k = 0; k < 3; k++) {
        rdm_pool *p = rdm_pool_create(threads[k], NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        double *v = calloc(5000, sizeof *v);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        rdm_pool_for(p, 5000, square_item, v);
        sums[k] = 0;
        for (int i = 0; i < 5000; i++)
            sums[k] += v[i];
        free(v);
        rdm_pool_free(p);
    }
    CU_ASSERT_DOUBLE_EQUAL(sums[0], 1.6447340868469, 1e-12); /* sum of 1/i^2 for i = 1..5000 */
    CU_ASSERT(sums[0] == sums[1] && sums[1] == sums[2]);
}

/* Shared items: a thread alone takes its own block first, then the others'
 * in order, and every item once; on a pool, every item exactly once. */
static void test_pool_share_order(void)
{
    rdm_pool_share s;
    rdm_pool_share_init(&s, 10, 3); /* blocks [0,3) [3,6) [6,10) */
    const size_t want[10] = {6, 7, 8, 9, 0, 1, 2, 3, 4, 5};
    int wrong = 0;
    for (int k = 0; k < 10; k++)
        wrong += rdm_pool_share_next(&s, 2) != want[k];
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 2), SIZE_MAX);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 0), SIZE_MAX);
    rdm_pool_share_init(&s, 0, 2);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 1), SIZE_MAX);
    rdm_pool_share_init(&s, 2, 4); /* fewer items than blocks: some blocks empty */
    size_t a = rdm_pool_share_next(&s, 0), b = rdm_pool_share_next(&s, 0);
    CU_ASSERT(a < 2 && b < 2 && a != b);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 3), SIZE_MAX);
    rdm_pool_share_init(&s, 5, 0); /* threads clamped to 1: one block */
    for (size_t k = 0; k < 5; k++)
        CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 0), k);
    /* blocks of given sizes [0,1) [1,1) [1,6): thread 1's own is empty */
    const size_t ends[3] = {1, 1, 6}, want1[6] = {1, 2, 3, 4, 5, 0};
    rdm_pool_share_init_ends(&s, ends, 3);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 2), 1);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 0), 0);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 0), 2); /* its own done: the next block's */
    rdm_pool_share_init_ends(&s, ends, 3);
    wrong = 0;
    for (int k = 0; k < 6; k++)
        wrong += rdm_pool_share_next(&s, 1) != want1[k];
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(rdm_pool_share_next(&s, 2), SIZE_MAX);
}

typedef struct sharejob {
    rdm_pool_share s;
    atomic_int *hits;
    atomic_int mine; /* items a thread took from its own block */
    size_t n;
    int nt;
} sharejob;

static void share_job(void *arg, int tid, rdm_pool *p)
{
    sharejob *sj = arg;
    (void)p;
    for (size_t i; (i = rdm_pool_share_next(&sj->s, tid)) != SIZE_MAX;) {
        atomic_fetch_add(&sj->hits[i], 1);
        if (i >= sj->n * (size_t)tid / (size_t)sj->nt &&
            i < sj->n * (size_t)(tid + 1) / (size_t)sj->nt)
            atomic_fetch_add(&sj->mine, 1);
    }
}

static void test_pool_share_every_item_once(void)
{
    static const struct {
        int threads;
        size_t items;
    } cases[] = {{1, 7}, {2, 1}, {2, 9}, {3, 1000}, {4, 3}, {8, 20000}};

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rdm_pool *p = rdm_pool_create(cases[k].threads, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        sharejob *sj = malloc(sizeof *sj);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sj);
        sj->hits = calloc(cases[k].items, sizeof(atomic_int));
        CU_ASSERT_PTR_NOT_NULL_FATAL(sj->hits);
        sj->n = cases[k].items;
        sj->nt = cases[k].threads;
        atomic_init(&sj->mine, 0);
        for (int round = 0; round < 3; round++) {
            rdm_pool_share_init(&sj->s, sj->n, sj->nt);
            rdm_pool_run(p, share_job, sj);
        }
        int wrong = 0;
        for (size_t i = 0; i < sj->n; i++)
            wrong += atomic_load(&sj->hits[i]) != 3;
        CU_ASSERT_EQUAL(wrong, 0);
        if (sj->nt == 1) /* the only thread: every item is its own */
            CU_ASSERT_EQUAL(atomic_load(&sj->mine), 3 * (int)sj->n);
        free(sj->hits);
        free(sj);
        rdm_pool_free(p);
    }
}

static void test_pool_sizes(void)
{
    rdm_err err = {0};
    CU_ASSERT_PTR_NULL(rdm_pool_create(-1, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EINVAL);
    int n = rdm_ncpu();
    CU_ASSERT(n >= 1 && n <= RDM_POOL_MAX);
    rdm_pool *p = rdm_pool_create(0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(rdm_pool_threads(p), n);
    rdm_pool_free(p);
    p = rdm_pool_create(RDM_POOL_MAX + 10, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(rdm_pool_threads(p), RDM_POOL_MAX);
    rdm_pool_free(p);
}

int test_pool_register(void)
{
    CU_pSuite s = CU_add_suite("pool", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_pool_every_item_once) &&
            CU_ADD_TEST(s, test_pool_null_runs_serially) &&
            CU_ADD_TEST(s, test_pool_deterministic_sum) && CU_ADD_TEST(s, test_pool_share_order) &&
            CU_ADD_TEST(s, test_pool_share_every_item_once) && CU_ADD_TEST(s, test_pool_sizes))
               ? 0
               : -1;
}
