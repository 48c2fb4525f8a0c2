/* test_ingest.c - the ingest source: plain CSV and zip (written here with
 * libarchive), entry choice, sha256 of the CSV bytes, clear errors. */
#include <CUnit/CUnit.h>
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "ingest.h"
#include "source.h"

int test_ingest_register(void);

static char dir[64];

static int setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/readmit-test-ingest.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write a zip with the given entries (name, content pairs, NULL-terminated). */
static int write_zip(const char *path, const char *const *entries)
{
    struct archive *a = archive_write_new();
    if (!a || archive_write_set_format_zip(a) != ARCHIVE_OK ||
        archive_write_open_filename(a, path) != ARCHIVE_OK)
        return -1;
    for (int i = 0; entries[i]; i += 2) {
        struct archive_entry *e = archive_entry_new();
        size_t n = strlen(entries[i + 1]);
        archive_entry_set_pathname(e, entries[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)n);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            archive_write_data(a, entries[i + 1], n) != (la_ssize_t)n)
            return -1;
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return 0;
}

static void read_all(rdm_source *s, rdm_buf *out)
{
    char buf[7]; /* small reads on purpose */
    rdm_err err = {0};
    long n;
    while ((n = rdm_source_read(s, buf, sizeof buf, &err)) > 0)
        CU_ASSERT_EQUAL(rdm_buf_add(out, buf, (size_t)n), RDM_OK);
    CU_ASSERT_EQUAL(n, 0);
}

static void test_source_plain(void)
{
    const char *csv = "a,b\r\n1,2\r\n";
    char path[128];
    snprintf(path, sizeof path, "%s/plain.csv", dir);
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_write_file_atomic(path, csv, strlen(csv), &err), RDM_OK);
    rdm_source *s = rdm_source_open(path, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_FALSE(rdm_source_is_zip(s));
    CU_ASSERT_STRING_EQUAL(rdm_source_name(s), path);
    rdm_buf got = RDM_BUF_INIT;
    read_all(s, &got);
    CU_ASSERT_EQUAL(got.len, strlen(csv));
    CU_ASSERT_EQUAL(memcmp(got.data, csv, got.len), 0);
    rdm_buf_release(&got);
    rdm_source_close(s);
    char sha[65], want[65];
    unsigned long long bytes = 0;
    CU_ASSERT_EQUAL(rdm_source_sha256(path, 0, sha, &bytes, &err), RDM_OK);
    rdm_sha256_hex(csv, strlen(csv), want);
    CU_ASSERT_STRING_EQUAL(sha, want);
    CU_ASSERT_EQUAL(bytes, strlen(csv));
}

static void test_source_zip(void)
{
    const char *csv = "a,b\n1,\"x,y\"\n";
    char path[128];
    snprintf(path, sizeof path, "%s/data.zip", dir);
    /* the diabetic_data.csv entry wins over an earlier .csv entry */
    const char *entries[] = {"dataset_diabetes/IDs_mapping.csv", "id,desc\n1,x\n",
                             "dataset_diabetes/diabetic_data.csv", csv, NULL};
    CU_ASSERT_EQUAL_FATAL(write_zip(path, entries), 0);
    rdm_err err = {0};
    rdm_source *s = rdm_source_open(path, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(rdm_source_is_zip(s));
    CU_ASSERT_PTR_NOT_NULL(strstr(rdm_source_name(s), ":dataset_diabetes/diabetic_data.csv"));
    /* through the CSV reader */
    rdm_csv *c = rdm_csv_create(rdm_source_read, s, 0, rdm_source_name(s), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_read_header(c, &err), RDM_OK);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "x,y");
    CU_ASSERT_EQUAL(rdm_csv_next(c, &r, &err), 0);
    rdm_csv_free(c);
    rdm_source_close(s);
    /* the sha256 is the CSV entry's, not the archive's */
    char sha[65], want[65];
    CU_ASSERT_EQUAL(rdm_source_sha256(path, 0, sha, NULL, &err), RDM_OK);
    rdm_sha256_hex(csv, strlen(csv), want);
    CU_ASSERT_STRING_EQUAL(sha, want);

    /* without diabetic_data.csv: two .csv entries are refused, naming them */
    snprintf(path, sizeof path, "%s/two.zip", dir);
    const char *e3[] = {"README.txt",   "hello\n", "x/first.CSV", "p,q\n",
                        "y/second.csv", "r\n",     NULL};
    CU_ASSERT_EQUAL_FATAL(write_zip(path, e3), 0);
    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_source_open(path, 0, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "2 .csv entries (x/first.CSV, y/second.csv)"));
    /* ... and the only one is taken */
    snprintf(path, sizeof path, "%s/other.zip", dir);
    const char *e2[] = {"README.txt", "hello\n", "x/first.CSV", "p,q\n", NULL};
    CU_ASSERT_EQUAL_FATAL(write_zip(path, e2), 0);
    s = rdm_source_open(path, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    rdm_buf got = RDM_BUF_INIT;
    read_all(s, &got);
    CU_ASSERT_EQUAL(got.len, 4);
    CU_ASSERT_EQUAL(memcmp(got.data, "p,q\n", 4), 0);
    rdm_buf_release(&got);
    rdm_source_close(s);
}

static void test_source_errors(void)
{
    char path[128];
    rdm_err err = {0};
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    CU_ASSERT_PTR_NULL(rdm_source_open(path, 0, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing.csv: No such file or directory"));

    rdm_err_clear(&err);
    snprintf(path, sizeof path, "%s/nocsv.zip", dir);
    const char *entries[] = {"notes.txt", "nothing here\n", NULL};
    CU_ASSERT_EQUAL_FATAL(write_zip(path, entries), 0);
    CU_ASSERT_PTR_NULL(rdm_source_open(path, 0, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "zip archive has no .csv entry"));

    rdm_err_clear(&err);
    snprintf(path, sizeof path, "%s/broken.zip", dir);
    const char junk[] = "PK\3\4 this is not really a zip archive";
    CU_ASSERT_EQUAL_FATAL(rdm_write_file_atomic(path, junk, sizeof junk - 1, &err), RDM_OK);
    CU_ASSERT_PTR_NULL(rdm_source_open(path, 0, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "broken.zip"));

    /* named .zip but not one: an error, not a CSV with a strange header */
    rdm_err_clear(&err);
    snprintf(path, sizeof path, "%s/fake.zip", dir);
    CU_ASSERT_EQUAL_FATAL(rdm_write_file_atomic(path, "a,b\n1,2\n", 8, &err), RDM_OK);
    CU_ASSERT_PTR_NULL(rdm_source_open(path, 0, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fake.zip: not a zip archive"));

    rdm_err_clear(&err);
    CU_ASSERT_PTR_NULL(rdm_source_open("", 0, &err));
    CU_ASSERT_EQUAL(err.code, RDM_EINVAL);
}

/* Sources that cannot be read twice are refused up front, by kind. */
static void test_source_not_regular(void)
{
    static const struct {
        const char *path, *kind;
    } CASES[] = {{"/dev/zero", "a character device"}, {NULL, "a FIFO"}, {"/tmp", "a directory"}};

    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/source.fifo", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const char *p = CASES[i].path ? CASES[i].path : fifo;
        rdm_err err = {0};
        char sha[65];
        CU_ASSERT_PTR_NULL(rdm_source_open(p, 0, &err));
        CU_ASSERT_EQUAL(err.code, RDM_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, CASES[i].kind));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a regular file"));
        rdm_err_clear(&err);
        CU_ASSERT_EQUAL(rdm_source_sha256(p, 0, sha, NULL, &err), RDM_EINVAL);
    }
}

/* data.max_source_bytes: reading past it fails, for a plain file and for a
 * zip entry (declared size or not); at the limit it reads. */
static void test_source_limit(void)
{
    char path[128], sha[65];
    rdm_err err = {0};
    const char *csv = "a,b\n1,2\n3,4\n"; /* 12 bytes */
    snprintf(path, sizeof path, "%s/limit.csv", dir);
    CU_ASSERT_EQUAL_FATAL(rdm_write_file_atomic(path, csv, strlen(csv), &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_source_sha256(path, 12, sha, NULL, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_source_sha256(path, 11, sha, NULL, &err), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than 11 bytes of CSV (data.max_source_bytes)"));
    snprintf(path, sizeof path, "%s/limit.zip", dir);
    const char *entries[] = {"diabetic_data.csv", csv, NULL};
    CU_ASSERT_EQUAL_FATAL(write_zip(path, entries), 0);
    rdm_err_clear(&err);
    CU_ASSERT_EQUAL(rdm_source_sha256(path, 12, sha, NULL, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_source_sha256(path, 5, sha, NULL, &err), RDM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "data.max_source_bytes"));
}

/* A truncated zip names what is wrong, never "(null)". */
static void test_source_truncated_zip(void)
{
    char path[128], cut[128];
    snprintf(path, sizeof path, "%s/whole.zip", dir);
    snprintf(cut, sizeof cut, "%s/cut.zip", dir);
    rdm_buf big = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&big, "a,b\n"), RDM_OK);
    for (int i = 0; i < 5000; i++)
        CU_ASSERT_EQUAL_FATAL(rdm_buf_printf(&big, "%d,%d\n", i, i * 7919 % 1000), RDM_OK);
    const char *entries[] = {"diabetic_data.csv", big.data, NULL};
    CU_ASSERT_EQUAL_FATAL(write_zip(path, entries), 0);
    rdm_buf z = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_read_file(path, &z, &err), RDM_OK);
    for (size_t keep = 20; keep < z.len; keep += z.len / 7) {
        CU_ASSERT_EQUAL_FATAL(rdm_write_file_atomic(cut, z.data, keep, &err), RDM_OK);
        char sha[65];
        rdm_err e = {0};
        int rc = rdm_source_sha256(cut, 0, sha, NULL, &e);
        CU_ASSERT_NOT_EQUAL(rc, RDM_OK);
        CU_ASSERT_PTR_NULL(strstr(e.msg, "(null)"));
        CU_ASSERT_TRUE(strlen(e.msg) > 0);
    }
    rdm_buf_release(&z);
    rdm_buf_release(&big);
}

/* tests/data/csv/bom_crlf.csv: BOM, CRLF, a quoted CRLF, doubled quotes,
 * empty fields, no final newline; read from the file through the source. */
static void test_source_fixture(void)
{
    rdm_err err = {0};
    rdm_source *s = rdm_source_open("data/csv/bom_crlf.csv", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    rdm_csv *c = rdm_csv_create(rdm_source_read, s, 0, rdm_source_name(s), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_read_header(c, &err), RDM_OK);
    const char *const *names;
    CU_ASSERT_EQUAL(rdm_csv_header(c, &names), 3);
    CU_ASSERT_STRING_EQUAL(names[0], "id");
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "two\r\nlines");
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_EQUAL(r.last_line, 3);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_EQUAL(r.line, 4);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "say \"hi\"");
    CU_ASSERT_STRING_EQUAL(r.fields[2], "");
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_EQUAL(r.line, 5);
    CU_ASSERT_STRING_EQUAL(r.fields[1], "");
    CU_ASSERT_STRING_EQUAL(r.fields[2], "x,y");
    CU_ASSERT_EQUAL(rdm_csv_next(c, &r, &err), 0);
    rdm_csv_free(c);
    rdm_source_close(s);
}

/* A quoted field far over the limit and longer than one read of the source:
 * one reject for its line, then the next line as the next record (it used to
 * come back as two rejects with the same line number). */
static void test_csv_long_quoted_field(void)
{
    const size_t big = 3u << 20;
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "a,b\n\""), RDM_OK);
    CU_ASSERT_EQUAL_FATAL(rdm_buf_reserve(&b, big + 16), RDM_OK);
    memset(b.data + b.len, 'x', big);
    b.len += big;
    b.data[b.len] = '\0';
    CU_ASSERT_EQUAL_FATAL(rdm_buf_adds(&b, "\",2\n3,4\n"), RDM_OK);
    rdm_err err = {0};
    rdm_csv *c = rdm_csv_open_mem(b.data, b.len, 1024, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_read_header(c, &err), RDM_OK);
    rdm_csv_record r;
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_EQUAL(r.line, 2);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_UNTERMINATED);
    CU_ASSERT_EQUAL_FATAL(rdm_csv_next(c, &r, &err), 1);
    CU_ASSERT_EQUAL(r.line, 3);
    CU_ASSERT_EQUAL(r.problem, RDM_CSV_OK);
    CU_ASSERT_EQUAL_FATAL(r.nfields, 2);
    CU_ASSERT_STRING_EQUAL(r.fields[0], "3");
    CU_ASSERT_STRING_EQUAL(r.fields[1], "4");
    CU_ASSERT_EQUAL(rdm_csv_next(c, &r, &err), 0);
    rdm_csv_free(c);
    rdm_buf_release(&b);
}

/* CR-only line endings: the header says so, instead of a puzzling header. */
static void test_csv_cr_only(void)
{
    static const char *const CASES[] = {"a,b\r1,2\r3,4\r", "a,b\r1,2", "h\"x\",b\r1,2\r"};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        rdm_err err = {0};
        rdm_csv *c = rdm_csv_open_mem(CASES[i], strlen(CASES[i]), 64, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(rdm_csv_read_header(c, &err), RDM_EPARSE);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "CR-only"));
        rdm_csv_free(c);
    }
    /* CRLF and a header ending in CR alone at the end of input are fine */
    static const char *const OK[] = {"a,b\r\n1,2\r\n", "a,b\r"};
    for (size_t i = 0; i < sizeof OK / sizeof OK[0]; i++) {
        rdm_err err = {0};
        rdm_csv *c = rdm_csv_open_mem(OK[i], strlen(OK[i]), 64, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(rdm_csv_read_header(c, &err), RDM_OK);
        rdm_csv_free(c);
    }
}

/* Walk a source of `total` records with rdm_ingest_plan over `done` and
 * batch size `b`; count how often each record would be loaded. */
static void walk(const rdm_ingest_range *done, int nd, unsigned long long total, long b,
                 unsigned char *loaded, int *new_batches, unsigned long long *max_batch)
{
    unsigned long long pos = 0;
    *new_batches = 0;
    *max_batch = 0;
    while (pos < total) {
        rdm_ingest_step st;
        rdm_ingest_plan(done, nd, pos, b, &st);
        CU_ASSERT_TRUE_FATAL(st.count > 0);
        unsigned long long n = pos + st.count > total ? total - pos : st.count;
        if (!st.skip) {
            for (unsigned long long i = pos; i < pos + n; i++)
                loaded[i]++;
            (*new_batches)++;
            if (n > *max_batch)
                *max_batch = n;
        }
        pos += n;
    }
}

typedef struct plan_case {
    const char *what;
    rdm_ingest_range done[4];
    int nd;
    unsigned long long total;
    long batch_rows;
    int want_new; /* new batches */
} plan_case;

/* every record not covered by `done` is loaded exactly once, covered ones
 * never, and no new batch is larger than batch_rows */
static const plan_case PLAN[] = {
    {"nothing loaded yet", {{0, 0}}, 0, 7000, 1500, 5},
    {"everything loaded", {{0, 3000}, {3000, 3000}, {6000, 1000}}, 3, 7000, 3000, 0},
    {"two batches of 1500, then 5000 at a time", {{0, 1500}, {1500, 1500}}, 2, 7000, 5000, 1},
    {"one batch of 5000, then 1500 at a time", {{0, 5000}}, 1, 7000, 1500, 2},
    {"a hole between batches is filled, cut at the next batch",
     {{0, 1000}, {4000, 1000}},
     2,
     7000,
     5000,
     2},
    {"overlapping old batches", {{0, 3000}, {2000, 2000}}, 2, 7000, 2500, 2},
    {"a file that grew", {{0, 2000}, {2000, 2000}, {4000, 1013}}, 3, 9000, 2000, 2},
};

static void test_ingest_plan_table(void)
{
    for (size_t c = 0; c < sizeof PLAN / sizeof PLAN[0]; c++) {
        const plan_case *p = &PLAN[c];
        unsigned char *loaded = calloc(p->total, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(loaded);
        int nb = 0;
        unsigned long long maxb = 0;
        walk(p->done, p->nd, p->total, p->batch_rows, loaded, &nb, &maxb);
        unsigned long long bad = 0;
        for (unsigned long long i = 0; i < p->total; i++) {
            int covered = 0;
            for (int k = 0; k < p->nd; k++)
                covered |= i >= p->done[k].first && i < p->done[k].first + p->done[k].count;
            bad += loaded[i] != (covered ? 0 : 1);
        }
        if (bad || nb != p->want_new || maxb > (unsigned long long)p->batch_rows)
            fprintf(stderr, "\nplan case '%s': %llu records wrong, %d new batches (want %d)\n",
                    p->what, bad, nb, p->want_new);
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(nb, p->want_new);
        CU_ASSERT_TRUE(maxb <= (unsigned long long)p->batch_rows);
        free(loaded);
    }
}

int test_ingest_register(void)
{
    CU_pSuite s = CU_add_suite("ingest", setup, teardown);
    if (!s)
        return -1;
    return (CU_ADD_TEST(s, test_source_plain) && CU_ADD_TEST(s, test_source_zip) &&
            CU_ADD_TEST(s, test_source_errors) && CU_ADD_TEST(s, test_source_not_regular) &&
            CU_ADD_TEST(s, test_source_limit) && CU_ADD_TEST(s, test_source_truncated_zip) &&
            CU_ADD_TEST(s, test_source_fixture) && CU_ADD_TEST(s, test_ingest_plan_table) &&
            CU_ADD_TEST(s, test_csv_long_quoted_field) && CU_ADD_TEST(s, test_csv_cr_only))
               ? 0
               : -1;
}
