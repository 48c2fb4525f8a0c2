/* test_predqueue.c - the prediction log's queue of formatted batches: order
 * across memory and the queue file, a chunk put back first, memory moved to
 * the file, the file's stored offset and its removal, the size limit; and
 * the batch rows' scan that replay relies on. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "predbatch.h"
#include "predqueue.h"

int test_predqueue_register(void);

static char dir[64];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* A chunk "<tag>" repeated to `len` bytes. */
static void chunk(char *out, char tag, size_t len)
{
    memset(out, tag, len);
}

/* Take the next span and check its first byte and size. */
static void take_is(rdm_predq *q, char tag, size_t len, int from_file)
{
    rdm_buf out = RDM_BUF_INIT;
    rdm_predq_span sp;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_predq_take(q, len, &out, &sp, &err), 1);
    CU_ASSERT_EQUAL(sp.from_file, from_file);
    CU_ASSERT_EQUAL(out.len, len);
    CU_ASSERT_EQUAL(sp.len, len);
    CU_ASSERT(out.len > 0 && out.data[0] == tag && out.data[out.len - 1] == tag);
    rdm_predq_done(q, &sp);
    rdm_buf_release(&out);
}

/* Queue a copy of data[0..len) as the log does: a buffer of its own. */
static int push(rdm_predq *q, const char *data, size_t len, uint64_t rows, int64_t oldest_us,
                int mem_ok, int *to_file, rdm_err *err)
{
    rdm_buf b = RDM_BUF_INIT;
    int rc = rdm_buf_add(&b, data, len) != RDM_OK
                 ? RDM_ENOMEM
                 : rdm_predq_push_buf(q, &b, rows, oldest_us, mem_ok, to_file, err);
    rdm_buf_release(&b);
    return rc;
}

static void test_order(void)
{
    char path[128], a[100], b[100], c[100];
    path_in(path, sizeof path, "order.queue");
    rdm_predq q;
    rdm_predq_init(&q, path, 1 << 20, 150); // room for one chunk of 100 in memory
    chunk(a, 'a', sizeof a);
    chunk(b, 'b', sizeof b);
    chunk(c, 'c', sizeof c);
    int to_file = -1;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(push(&q, a, sizeof a, 1, 10, 1, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(to_file, 0);
    CU_ASSERT_EQUAL(push(&q, b, sizeof b, 2, 20, 1, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(to_file, 1); // memory full
    CU_ASSERT_EQUAL(push(&q, c, sizeof c, 3, 30, 1, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(to_file, 1); // the file holds unsent rows: in order behind them
    CU_ASSERT_EQUAL(access(path, F_OK), 0);
    CU_ASSERT_EQUAL(rdm_predq_oldest(&q), 10);
    take_is(&q, 'a', 100, 0);
    CU_ASSERT_EQUAL(rdm_predq_oldest(&q), 20);
    take_is(&q, 'b', 100, 1);
    take_is(&q, 'c', 100, 1);
    CU_ASSERT(rdm_predq_empty(&q));
    CU_ASSERT_EQUAL(access(path, F_OK), -1); // all sent: no file left
    CU_ASSERT_EQUAL(rdm_predq_oldest(&q), 0);
    rdm_predq_release(&q);
}

/* A buffer pushed to memory is queued itself (no copy) and the pusher gets
 * the storage of a chunk taken before; one pushed to the file is copied and
 * stays the pusher's. */
static void test_push_buf(void)
{
    char path[128];
    path_in(path, sizeof path, "buf.queue");
    rdm_predq q;
    rdm_predq_init(&q, path, 1 << 20, 150);
    rdm_buf rows = RDM_BUF_INIT, out = RDM_BUF_INIT;
    rdm_err err = {0};
    int to_file = -1;
    CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&rows, "aaaaaaaaaa", 10), RDM_OK);
    char *first = rows.data;
    CU_ASSERT_EQUAL(rdm_predq_push_buf(&q, &rows, 1, 10, 1, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(to_file, 0);
    CU_ASSERT(rows.data == NULL && rows.len == 0); // nothing taken yet: no spare
    rdm_predq_span sp;
    CU_ASSERT_EQUAL_FATAL(rdm_predq_take(&q, 100, &out, &sp, &err), 1);
    CU_ASSERT(out.data == first && out.len == 10 && sp.rows == 1 && !sp.from_file);
    rdm_predq_done(&q, &sp);
    // the next take leaves the first buffer as the spare; the next push gets it
    CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&rows, "bbbbb", 5), RDM_OK);
    char *second = rows.data;
    CU_ASSERT_EQUAL(rdm_predq_push_buf(&q, &rows, 2, 20, 1, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_predq_take(&q, 100, &out, &sp, &err), 1);
    CU_ASSERT(out.data == second && out.len == 5 && out.data[0] == 'b');
    rdm_predq_done(&q, &sp);
    CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&rows, "cccccccccc", 10), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predq_push_buf(&q, &rows, 3, 30, 1, &to_file, &err), RDM_OK);
    CU_ASSERT(rows.data == first && rows.len == 0); // reused
    // not in memory (mem_ok 0): copied to the file, the buffer stays
    CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&rows, "dddd", 4), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predq_push_buf(&q, &rows, 4, 40, 0, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(to_file, 1);
    CU_ASSERT(rows.data == first && rows.len == 4);
    take_is(&q, 'c', 10, 0);
    take_is(&q, 'd', 4, 1);
    CU_ASSERT(rdm_predq_empty(&q));
    rdm_buf_release(&rows);
    rdm_buf_release(&out);
    rdm_predq_release(&q);
}

static void test_putback_and_spill(void)
{
    char path[128], a[64], b[64];
    path_in(path, sizeof path, "back.queue");
    rdm_predq q;
    rdm_predq_init(&q, path, 1 << 20, 1 << 20);
    chunk(a, 'a', sizeof a);
    chunk(b, 'b', sizeof b);
    int to_file = 0;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(push(&q, a, sizeof a, 5, 1, 1, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(push(&q, b, sizeof b, 7, 2, 1, &to_file, &err), RDM_OK);
    rdm_buf out = RDM_BUF_INIT;
    rdm_predq_span sp;
    CU_ASSERT_EQUAL(rdm_predq_take(&q, 1 << 20, &out, &sp, &err), 1);
    CU_ASSERT_EQUAL(out.data[0], 'a');
    // not stored: back to the front, then the database is away: both to the file, in order
    CU_ASSERT_EQUAL(rdm_predq_putback(&q, &out, &sp), RDM_OK);
    uint64_t moved = 0, dropped = 0;
    CU_ASSERT_EQUAL(rdm_predq_spill_mem(&q, 0, &moved, &dropped, &err), RDM_OK);
    CU_ASSERT_EQUAL(moved, 12);
    CU_ASSERT_EQUAL(dropped, 0);
    CU_ASSERT_EQUAL(q.nmem, 0);
    // not in memory while the file holds rows (mem_ok or not)
    CU_ASSERT_EQUAL(push(&q, a, sizeof a, 1, 3, 1, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(to_file, 1);
    // two segments at most 128 bytes: 'a' and 'b' together, the stored offset after them
    CU_ASSERT_EQUAL(rdm_predq_take(&q, 128, &out, &sp, &err), 1);
    CU_ASSERT_EQUAL(sp.rows, 12);
    CU_ASSERT_EQUAL(out.len, 128);
    CU_ASSERT(out.data[0] == 'a' && out.data[64] == 'b');
    rdm_predq_done(&q, &sp);
    // a writer killed now: another reads the rows after the stored offset
    rdm_buf file = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_read_file(path, &file, &err), RDM_OK);
    size_t at = rdm_predq_file_rows(file.data, file.len);
    CU_ASSERT_EQUAL(at, RDM_PREDQ_HEADER + 128);
    CU_ASSERT_EQUAL(file.len - at, 64);
    CU_ASSERT(at < file.len && file.data[at] == 'a');
    CU_ASSERT_EQUAL(rdm_predq_file_rows("PGCOPY\n\377\r\n", 11), 0); // no queue file
    rdm_buf_release(&file);
    rdm_buf_release(&out);
    rdm_predq_release(&q);
    CU_ASSERT_EQUAL(access(path, F_OK), 0); // unsent rows: the file stays for another writer
    unlink(path);
}

static void test_limit(void)
{
    char path[128], a[100];
    path_in(path, sizeof path, "limit.queue");
    rdm_predq q;
    rdm_predq_init(&q, path, 250, 0);
    chunk(a, 'a', sizeof a);
    int to_file = 0;
    rdm_err err = {0};
    CU_ASSERT_EQUAL(push(&q, a, sizeof a, 1, 1, 0, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(push(&q, a, sizeof a, 1, 1, 0, &to_file, &err), RDM_OK);
    CU_ASSERT_EQUAL(push(&q, a, sizeof a, 1, 1, 0, &to_file, &err), RDM_ESTATE);
    // sent rows no longer count against the limit
    take_is(&q, 'a', 100, 1);
    CU_ASSERT_EQUAL(push(&q, a, sizeof a, 1, 1, 0, &to_file, &err), RDM_OK);
    rdm_predq_release(&q);
    unlink(path);
}

/* The rows the encoder writes, scanned one by one as a replay does. */
static void test_row_scan(void)
{
    rdm_predbatch b;
    rdm_buf out = RDM_BUF_INIT;
    rdm_predbatch_init(&b);
    rdm_predbatch_item it = {1700000000000000,
                             "w-1",
                             0,
                             NULL,
                             NULL,
                             NULL,
                             "champion",
                             0.5,
                             1,
                             0.3,
                             10,
                             NULL,
                             NULL,
                             NULL,
                             "{}",
                             2,
                             0, NULL, 0, NULL, 0, 0};
    CU_ASSERT_EQUAL(rdm_predbatch_begin(&b, &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", 4, &it, &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", 9, &it, &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "x", 2, &it, &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_end(&b, &out), RDM_OK);
    const char *p = out.data + RDM_PREDBATCH_HEADER;
    size_t left = out.len - RDM_PREDBATCH_HEADER;
    rdm_predbatch_row r;
    CU_ASSERT_EQUAL_FATAL(rdm_predbatch_row_scan(p, left, &r), 1);
    CU_ASSERT_EQUAL(r.n, 2);
    CU_ASSERT(r.writer_len == 1 && r.writer[0] == 'w');
    CU_ASSERT_EQUAL(r.seq_lo, 4);
    CU_ASSERT_EQUAL(r.seq_hi, 9);
    CU_ASSERT_EQUAL(r.aside, 0);
    // a torn row is no row
    rdm_predbatch_row t;
    CU_ASSERT_EQUAL(rdm_predbatch_row_scan(p, r.len - 1, &t), -1);
    p += r.len;
    left -= r.len;
    CU_ASSERT_EQUAL_FATAL(rdm_predbatch_row_scan(p, left, &r), 1);
    CU_ASSERT(r.n == 1 && r.writer[0] == 'x' && r.seq_lo == 2 && r.seq_hi == 2);
    // a row marked set aside is still walked over, and said to be
    char *m = out.data + (p - out.data);
    m[0] = (char)(RDM_PREDBATCH_ASIDE >> 8);
    m[1] = (char)(RDM_PREDBATCH_ASIDE & 0xff);
    CU_ASSERT_EQUAL_FATAL(rdm_predbatch_row_scan(p, left, &r), 1);
    CU_ASSERT_EQUAL(r.aside, 1);
    CU_ASSERT_EQUAL(left - r.len, RDM_PREDBATCH_TRAILER);
    CU_ASSERT_EQUAL(rdm_predbatch_row_scan(p + r.len, left - r.len, &r), 0); // the trailer
    // the first row with its prediction ids: one field more, the ids last
    rdm_predbatch_row w;
    const char *row0 = out.data + RDM_PREDBATCH_HEADER;
    CU_ASSERT_EQUAL_FATAL(rdm_predbatch_row_scan(row0, out.len, &w), 1);
    rdm_buf ids = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_predbatch_row_ids(&ids, row0, w.len, w.n, 41), RDM_OK);
    const unsigned char *u = (const unsigned char *)ids.data;
    CU_ASSERT_EQUAL(u[0] << 8 | u[1], RDM_PREDBATCH_FIELDS + 1);
    CU_ASSERT_EQUAL(ids.len, w.len + 4 + 20 + 2 * 12);
    CU_ASSERT_EQUAL(memcmp(ids.data + 2, row0 + 2, w.len - 2), 0);
    rdm_pbarray a;
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, u + w.len + 4, 20 + 2 * 12, RDM_OID_INT8), 0);
    CU_ASSERT_EQUAL(a.n, 2);
    const unsigned char *e = NULL;
    size_t el = 0;
    for (int64_t want = 41; want < 43; want++) {
        CU_ASSERT_EQUAL_FATAL(rdm_pbarray_next(&a, &e, &el), 1);
        CU_ASSERT_EQUAL(el, 8);
        int64_t got = 0;
        for (int k = 0; k < 8; k++)
            got = got << 8 | e[k];
        CU_ASSERT_EQUAL(got, want);
    }
    CU_ASSERT_EQUAL(rdm_pbarray_next(&a, &e, &el), 0);
    // the ids field alone is the end of that row
    rdm_buf f = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_predbatch_ids_field(&f, w.n, 41), RDM_OK);
    CU_ASSERT(f.len == 4 + 20 + 2 * 12 && !memcmp(f.data, ids.data + w.len, f.len));
    // rows queued before group_values and group_codes (24 fields) and
    // before input_keys too (23: this one without its last 3 fields) are
    // sent with NULL for what they have not; set aside, each is still
    // walked over as a row of its fields
    CU_ASSERT_EQUAL(w.fields, RDM_PREDBATCH_FIELDS);
    rdm_buf old = RDM_BUF_INIT, sent = RDM_BUF_INIT, want = RDM_BUF_INIT;
    const size_t tail = 4 + 4 + 12 + 4 + 6; /* NULL input_keys, empty group_values, 2 codes */
    CU_ASSERT_EQUAL_FATAL(memcmp(row0 + w.len - tail, "\xff\xff\xff\xff", 4), 0);
    for (int k = 0; k < 2; k++) {
        const int nf = k ? RDM_PREDBATCH_FIELDS_V1 : RDM_PREDBATCH_FIELDS_V2;
        const size_t cut = k ? tail : tail - 4;
        rdm_buf_reset(&old);
        rdm_buf_reset(&sent);
        rdm_buf_reset(&want);
        CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&old, row0, w.len - cut), RDM_OK);
        old.data[1] = (char)nf;
        rdm_predbatch_row v;
        CU_ASSERT_EQUAL_FATAL(rdm_predbatch_row_scan(old.data, old.len, &v), 1);
        CU_ASSERT(v.fields == nf && v.len == old.len && v.n == 2 && v.seq_hi == 9 && !v.aside);
        CU_ASSERT_EQUAL_FATAL(rdm_predbatch_row_ids(&sent, old.data, old.len, v.n, 41), RDM_OK);
        CU_ASSERT(rdm_buf_add(&want, ids.data, w.len - tail) == RDM_OK &&
                  rdm_buf_add(&want, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
                              12) == RDM_OK && /* NULL input_keys, group_values, group_codes */
                  rdm_buf_add(&want, f.data, f.len) == RDM_OK);
        CU_ASSERT(sent.len == want.len && !memcmp(sent.data, want.data, want.len));
        const unsigned mark = rdm_predbatch_aside_mark(nf);
        CU_ASSERT_EQUAL(mark, k ? RDM_PREDBATCH_ASIDE_V1 : RDM_PREDBATCH_ASIDE_V2);
        old.data[0] = (char)(mark >> 8);
        old.data[1] = (char)(mark & 0xff);
        CU_ASSERT_EQUAL(rdm_predbatch_row_scan(old.data, old.len, &v), 1);
        CU_ASSERT(v.aside && v.len == old.len && v.fields == nf);
    }
    CU_ASSERT_EQUAL(rdm_predbatch_aside_mark(RDM_PREDBATCH_FIELDS), RDM_PREDBATCH_ASIDE);
    rdm_buf_release(&want);
    rdm_buf_release(&old);
    rdm_buf_release(&sent);
    rdm_buf_release(&f);
    rdm_buf_release(&ids);
    rdm_buf_release(&out);
    rdm_predbatch_release(&b);
}

static int suite_init(void)
{
    snprintf(dir, sizeof dir, "/tmp/readmit-predq-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int suite_clean(void)
{
    return rmdir(dir);
}

int test_predqueue_register(void)
{
    CU_pSuite s = CU_add_suite("predqueue", suite_init, suite_clean);
    if (!s)
        return -1;
    CU_add_test(s, "memory first, then the file, in push order", test_order);
    CU_add_test(s, "a pushed buffer queued itself, storage reused", test_push_buf);
    CU_add_test(s, "put back first; memory to the file; stored offset", test_putback_and_spill);
    CU_add_test(s, "the file's limit counts unsent rows", test_limit);
    CU_add_test(s, "batch rows scanned as replay reads them, given their ids", test_row_scan);
    return 0;
}
