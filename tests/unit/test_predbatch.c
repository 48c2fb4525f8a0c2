/* test_predbatch.c - log batches as binary COPY rows: the stream's framing,
 * one row per model and writer, NULL elements, and the array reader on what
 * the encoder wrote. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "predbatch.h"
#include "predfields.h"

int test_predbatch_register(void);

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The fields of the binary row at *p (advanced past it); 0 at the trailer. */
static int next_row(const unsigned char **p, rdm_copy_field f[26])
{
    unsigned n = (unsigned)((*p)[0] << 8 | (*p)[1]);
    *p += 2;
    if (n == 0xffff)
        return 0;
    CU_ASSERT_EQUAL_FATAL(n, 26);
    for (unsigned i = 0; i < n; i++) {
        uint32_t len = be32(*p);
        *p += 4;
        f[i].data = len == UINT32_MAX ? NULL : *p;
        f[i].len = len == UINT32_MAX ? 0 : len;
        *p += f[i].len;
    }
    return 1;
}

static void test_stream(void)
{
    rdm_predbatch b;
    rdm_buf out = RDM_BUF_INIT;
    rdm_predbatch_init(&b);
    int64_t enc = 1234567890123, pat = 42;
    int32_t ver = 3;
    // the first input is copied at once (not stable: overwritten after the
    // add), the second borrowed until its row is written
    char in0[] = "{\"a\":1}";
    rdm_predbatch_item it[3] = {
        {1700000000000001, "w1-7", 0, &enc, &pat, &ver, "champion", 0.25, 0, 0.3, 900, "Asian",
         "Female", "[70-80)", in0, 7, 0, NULL, 0, NULL, 0, 0},
        {1700000000000000, "w1-8", 1, NULL, NULL, &ver, "champion", 0.75, 1, 0.3, 901, NULL, NULL,
         NULL, "{\"é\":2}", 8, 1, NULL, 0, NULL, 0, 0},
        {1700000000000002, "w1-9", 0, &enc, &pat, NULL, "", 0.5, 1, 0.4, 902, "Other", "Male",
         "[10-20)", "{}", 2, 1, NULL, 0, NULL, 0, 0},
    };
    CU_ASSERT_EQUAL(rdm_predbatch_begin(&b, &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w1", 7, &it[0], &out), RDM_OK);
    memset(in0, 'X', 7);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w1", 8, &it[1], &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "other", "w1", 9, &it[2], &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_end(&b, &out), RDM_OK);
    CU_ASSERT_EQUAL(b.rows, 2);
    const unsigned char *p = (const unsigned char *)out.data;
    CU_ASSERT_EQUAL_FATAL(memcmp(p, "PGCOPY\n\377\r\n\0", 11), 0);
    p += 19;
    rdm_copy_field f[26];
    CU_ASSERT_FATAL(next_row(&p, f));
    CU_ASSERT(f[0].len == 1 && f[0].data[0] == 'm');
    CU_ASSERT_EQUAL(be32(f[1].data), 2);                                  /* n */
    CU_ASSERT_EQUAL(be64(f[2].data), 1700000000000000 - 946684800000000); /* first */
    CU_ASSERT_EQUAL(be64(f[3].data), 1700000000000001 - 946684800000000); /* last */
    CU_ASSERT(f[4].len == 2 && !memcmp(f[4].data, "w1", 2));
    CU_ASSERT_EQUAL(be64(f[5].data), 7);
    CU_ASSERT_EQUAL(be64(f[6].data), 8);
    /* served_at */
    rdm_pbarray a;
    const unsigned char *e = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[7].data, f[7].len, RDM_OID_TIMESTAMPTZ), 0);
    CU_ASSERT_EQUAL(a.n, 2);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && len == 8);
    CU_ASSERT_EQUAL(be64(e), 1700000000000001 - 946684800000000);
    /* the wrong element type is refused */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[7].data, f[7].len, RDM_OID_INT8), -1);
    /* encounter_id: the second is NULL, and the array says it has NULLs */
    CU_ASSERT_EQUAL(be32(f[10].data + 4), 1);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[10].data, f[10].len, RDM_OID_INT8), 0);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && be64(e) == 1234567890123);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && e == NULL);
    CU_ASSERT_EQUAL(rdm_pbarray_next(&a, &e, &len), 0);
    /* probability: float8 bits */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[14].data, f[14].len, RDM_OID_FLOAT8), 0);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && be64(e) == 0x3fd0000000000000);
    /* decision int2 */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[15].data, f[15].len, RDM_OID_INT2), 0);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && len == 2 && e[1] == 0);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && len == 2 && e[1] == 1);
    /* race, gender, age: NULL arrays, coded instead: the batch's values in
     * order of first appearance, three codes per prediction (0: NULL) */
    CU_ASSERT(!f[18].data && !f[19].data && !f[20].data);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[24].data, f[24].len, RDM_OID_TEXT), 0);
    CU_ASSERT_EQUAL(a.n, 3);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && len == 5 && !memcmp(e, "Asian", 5));
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && len == 6 && !memcmp(e, "Female", 6));
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && len == 7 && !memcmp(e, "[70-80)", 7));
    CU_ASSERT(f[25].len == 6 && !memcmp(f[25].data, "\1\2\3\0\0\0", 6));
    /* version, alias and threshold alike for both: one element each */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[12].data, f[12].len, RDM_OID_INT4), 0);
    CU_ASSERT_EQUAL(a.n, 1);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && len == 4 && be32(e) == 3);
    CU_ASSERT_EQUAL(rdm_pbarray_next(&a, &e, &len), 0);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[13].data, f[13].len, RDM_OID_TEXT), 0);
    CU_ASSERT(a.n == 1 && rdm_pbarray_next(&a, &e, &len) == 1 && len == 8 &&
              !memcmp(e, "champion", 8));
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[16].data, f[16].len, RDM_OID_FLOAT8), 0);
    CU_ASSERT_EQUAL(a.n, 1);
    /* the latencies differ: one each */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[17].data, f[17].len, RDM_OID_INT4), 0);
    CU_ASSERT_EQUAL(a.n, 2);
    /* input_end and the inputs they cut */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[21].data, f[21].len, RDM_OID_INT4), 0);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && be32(e) == 7);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && be32(e) == 15);
    CU_ASSERT(f[22].len == 15 && !memcmp(f[22].data, "{\"a\":1}{\"é\":2}", 15));
    CU_ASSERT_PTR_NULL(f[23].data); /* no input stored without its keys */
    /* the other model: a row of its own; no version is a NULL element */
    CU_ASSERT_FATAL(next_row(&p, f));
    CU_ASSERT(f[0].len == 5 && !memcmp(f[0].data, "other", 5));
    CU_ASSERT_EQUAL(be32(f[1].data), 1);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[12].data, f[12].len, RDM_OID_INT4), 0);
    CU_ASSERT(rdm_pbarray_next(&a, &e, &len) == 1 && e == NULL);
    /* its own group values: the first row's are not carried over */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[24].data, f[24].len, RDM_OID_TEXT), 0);
    CU_ASSERT(a.n == 3 && rdm_pbarray_next(&a, &e, &len) == 1 && len == 5 &&
              !memcmp(e, "Other", 5));
    CU_ASSERT(f[25].len == 3 && !memcmp(f[25].data, "\1\2\3", 3));
    CU_ASSERT_FALSE(next_row(&p, f));
    CU_ASSERT_EQUAL((size_t)(p - (const unsigned char *)out.data), out.len);
    rdm_predbatch_release(&b);
    rdm_buf_release(&out);
}

/* The inputs of a row and its keys (NULL: none) after add()ing `in`. */
static void keyless_row(const char *const *in, size_t n, rdm_buf *inputs, rdm_buf *keys)
{
    rdm_predbatch b;
    rdm_buf out = RDM_BUF_INIT;
    rdm_predbatch_init(&b);
    CU_ASSERT_EQUAL(rdm_predbatch_begin(&b, &out), RDM_OK);
    for (size_t i = 0; i < n; i++) {
        rdm_predbatch_item it = {1700000000000000,
                                 "w-1",
                                 0,
                                 NULL,
                                 NULL,
                                 NULL,
                                 "",
                                 0.5,
                                 0,
                                 0.5,
                                 1,
                                 NULL,
                                 NULL,
                                 NULL,
                                 in[i],
                                 strlen(in[i]),
                                 1, NULL, 0, NULL, 0, 0};
        CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", i, &it, &out), RDM_OK);
    }
    CU_ASSERT_EQUAL(rdm_predbatch_end(&b, &out), RDM_OK);
    const unsigned char *p = (const unsigned char *)out.data + RDM_PREDBATCH_HEADER;
    rdm_copy_field f[26];
    CU_ASSERT_FATAL(next_row(&p, f));
    rdm_buf_reset(inputs);
    rdm_buf_reset(keys);
    CU_ASSERT_EQUAL(rdm_buf_add(inputs, f[22].data, f[22].len), RDM_OK);
    rdm_pbarray a;
    const unsigned char *e;
    size_t len;
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[23].data, f[23].len, RDM_OID_TEXT), 0);
    while (rdm_pbarray_next(&a, &e, &len) == 1)
        CU_ASSERT(rdm_buf_add(keys, e, len) == RDM_OK && rdm_buf_addc(keys, ',') == RDM_OK);
    CU_ASSERT_EQUAL(f[21].len, 20 + 8 * n); /* input_end */
    rdm_predbatch_release(&b);
    rdm_buf_release(&out);
}

static void test_keyless_inputs(void)
{
    rdm_buf in = RDM_BUF_INIT, keys = RDM_BUF_INIT;
    // string and null values with the first one's keys: values only
    const char *same[] = {"{\"race\":\"Asian\",\"age\":null,\"w\":\"\"}",
                          " { \"race\" : \"é x\" , \"age\" : \"[1-2)\", \"w\":null }\n"};
    keyless_row(same, 2, &in, &keys);
    CU_ASSERT_STRING_EQUAL(keys.data, "race,age,w,");
    CU_ASSERT(in.len == 22 && !memcmp(in.data,
                                      "\x1f"
                                      "Asian\x1f\x1e\x1f"
                                      "\x1f"
                                      "é x\x1f[1-2)\x1f\x1e",
                                      22));
    // other keys, another order, a number, an escape, nesting, a control
    // character, trailing bytes: as sent
    const char *other[] = {"{\"a\":\"1\",\"b\":\"2\"}",
                           "{\"b\":\"2\",\"a\":\"1\"}",
                           "{\"a\":1,\"b\":\"2\"}",
                           "{\"a\":\"\\u0041\",\"b\":\"2\"}",
                           "{\"a\":{},\"b\":\"2\"}",
                           "{\"a\":\"\x1f\",\"b\":\"2\"}",
                           "{\"a\":\"1\",\"b\":\"2\"}x",
                           "{\"a\":\"1\"}",
                           "{\"a\":\"1\",\"b\":\"2\",\"c\":null}",
                           "{\"a\":\"1\"",
                           "{\"a\":\"1\",\"b\":nul}"};
    keyless_row(other, sizeof other / sizeof *other, &in, &keys);
    CU_ASSERT_STRING_EQUAL(keys.data, "a,b,");
    size_t want = 4;
    for (size_t i = 1; i < sizeof other / sizeof *other; i++)
        want += strlen(other[i]);
    CU_ASSERT(in.len == want &&
              !memcmp(in.data,
                      "\x1f"
                      "1\x1f"
                      "2",
                      4) &&
              !memcmp(in.data + 4, other[1], strlen(other[1])));
    // a single key, or one key twice: no keys for the batch
    const char *none[] = {"{\"a\":\"\"}", "{\"a\":\"1\",\"a\":\"2\"}", "{}"};
    keyless_row(none, 3, &in, &keys);
    CU_ASSERT_EQUAL(keys.len, 0);
    CU_ASSERT(in.len == 27 && !memcmp(in.data, "{\"a\":\"\"}{\"a\":\"1\",\"a\":\"2\"}{}", 27));
    rdm_buf_release(&in);
    rdm_buf_release(&keys);
}

/* Version, alias and threshold: one element when alike, else one each. */
static void test_batch_constants(void)
{
    rdm_predbatch b;
    rdm_buf out = RDM_BUF_INIT;
    rdm_predbatch_init(&b);
    int32_t v1 = 1, v2 = 2;
    rdm_predbatch_item it[3] = {
        {1700000000000000, "w-1", 0, NULL, NULL, &v1, "a", 0.5, 1, 0.3, 1, NULL, NULL, NULL, "{}",
         2, 1, NULL, 0, NULL, 0, 0},
        {1700000000000000, "w-2", 0, NULL, NULL, &v1, "a", 0.5, 1, 0.4, 1, NULL, NULL, NULL, "{}",
         2, 1, NULL, 0, NULL, 0, 0},
        {1700000000000000, "w-3", 0, NULL, NULL, NULL, "b", 0.5, 1, 0.3, 1, NULL, NULL, NULL, "{}",
         2, 1, NULL, 0, NULL, 0, 0},
    };
    CU_ASSERT_EQUAL(rdm_predbatch_begin(&b, &out), RDM_OK);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", (uint64_t)i + 1, &it[i], &out), RDM_OK);
    // a second row: the same version twice, then another
    it[2].version = &v2;
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "x", (uint64_t)i + 1, &it[0], &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "x", 3, &it[2], &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_end(&b, &out), RDM_OK);
    const unsigned char *p = (const unsigned char *)out.data + RDM_PREDBATCH_HEADER;
    rdm_copy_field f[26];
    rdm_pbarray a;
    const unsigned char *e;
    size_t len;
    CU_ASSERT_FATAL(next_row(&p, f));
    /* versions 1, 1, NULL; aliases a, a, b; thresholds 0.3, 0.4, 0.3 */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[12].data, f[12].len, RDM_OID_INT4), 0);
    CU_ASSERT_EQUAL(a.n, 3);
    CU_ASSERT_EQUAL(be32(f[12].data + 4), 1); /* has NULLs */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[13].data, f[13].len, RDM_OID_TEXT), 0);
    CU_ASSERT_EQUAL(a.n, 3);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[16].data, f[16].len, RDM_OID_FLOAT8), 0);
    CU_ASSERT_EQUAL(a.n, 3);
    CU_ASSERT_FATAL(next_row(&p, f));
    /* versions 1, 1, 2: one each; the aliases a, a, b too; thresholds 0.3 */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[12].data, f[12].len, RDM_OID_INT4), 0);
    CU_ASSERT_EQUAL(a.n, 3);
    CU_ASSERT_EQUAL(be32(f[12].data + 4), 0);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[16].data, f[16].len, RDM_OID_FLOAT8), 0);
    CU_ASSERT(a.n == 1 && rdm_pbarray_next(&a, &e, &len) == 1 && be64(e) == 0x3fd3333333333333);
    CU_ASSERT_FALSE(next_row(&p, f));
    rdm_predbatch_release(&b);
    rdm_buf_release(&out);
}

static void test_full_batch_splits(void)
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
                             "",
                             0.5,
                             0,
                             0.5,
                             1,
                             NULL,
                             NULL,
                             NULL,
                             "{}",
                             2,
                             1, NULL, 0, NULL, 0, 0};
    CU_ASSERT_EQUAL(rdm_predbatch_begin(&b, &out), RDM_OK);
    for (int i = 0; i < RDM_PREDBATCH_MAX_ROWS + 1; i++)
        CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", (uint64_t)i, &it, &out), RDM_OK);
    /* a new writer closes the batch too */
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "v", 1, &it, &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_end(&b, &out), RDM_OK);
    CU_ASSERT_EQUAL(b.rows, 3);
    rdm_predbatch_release(&b);
    rdm_buf_release(&out);
}

/* Race, gender and age codes: a value met again (in another field too)
 * keeps its code; no values at all is an empty array; more distinct values
 * than a batch holds start a new row, each row's codes its own values'. */
static void test_group_codes(void)
{
    rdm_predbatch b;
    rdm_buf out = RDM_BUF_INIT;
    rdm_predbatch_init(&b);
    rdm_predbatch_item it = {1700000000000000, "w-1", 0, NULL, NULL, NULL, "", 0.5, 0, 0.5, 1,
                             NULL, NULL, NULL, "{}", 2, 1, NULL, 0, NULL, 0, 0};
    char race[16], age[16];
    CU_ASSERT_EQUAL(rdm_predbatch_begin(&b, &out), RDM_OK);
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "none", 1, &it, &out), RDM_OK);
    it.race = "X";
    it.gender = "Y";
    it.age = "X";
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", 1, &it, &out), RDM_OK);
    it.gender = NULL;
    it.age = "Y";
    CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", 2, &it, &out), RDM_OK);
    /* 2 values, then 2 new ones a prediction: 126 of them fit in 255 */
    for (int i = 0; i < 128; i++) {
        snprintf(race, sizeof race, "r%d", i);
        snprintf(age, sizeof age, "a%d", i);
        it.race = race;
        it.gender = "Y";
        it.age = age;
        CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", "w", 3 + (uint64_t)i, &it, &out), RDM_OK);
    }
    CU_ASSERT_EQUAL(rdm_predbatch_end(&b, &out), RDM_OK);
    CU_ASSERT_EQUAL(b.rows, 3);
    const unsigned char *p = (const unsigned char *)out.data + RDM_PREDBATCH_HEADER;
    rdm_copy_field f[26];
    rdm_pbarray a;
    const unsigned char *e;
    size_t len;
    CU_ASSERT_FATAL(next_row(&p, f));
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[24].data, f[24].len, RDM_OID_TEXT), 0);
    CU_ASSERT_EQUAL(a.n, 0);
    CU_ASSERT_EQUAL(be32(f[24].data), 0); /* no dimension */
    CU_ASSERT(f[25].len == 3 && !memcmp(f[25].data, "\0\0\0", 3));
    CU_ASSERT_FATAL(next_row(&p, f));
    CU_ASSERT_EQUAL(be32(f[1].data), 128);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[24].data, f[24].len, RDM_OID_TEXT), 0);
    CU_ASSERT_EQUAL(a.n, 254);
    CU_ASSERT_EQUAL_FATAL(f[25].len, 3 * 128);
    CU_ASSERT(!memcmp(f[25].data, "\1\2\1\1\0\2", 6));
    CU_ASSERT(!memcmp(f[25].data + 6, "\3\2\4", 3));
    /* the last of the row: r125, Y, a125, the last two values */
    const unsigned char *last = f[25].data + 3 * 127;
    CU_ASSERT(last[0] == 253 && last[1] == 2 && last[2] == 254);
    int seen = 0;
    for (uint32_t k = 0; k < a.n && rdm_pbarray_next(&a, &e, &len) == 1; k++) {
        if (k + 1 == 253)
            seen += len == 4 && !memcmp(e, "r125", 4);
        if (k + 1 == 254)
            seen += len == 4 && !memcmp(e, "a125", 4);
    }
    CU_ASSERT_EQUAL(seen, 2);
    /* the 127th would bring the 256th value: a row of its own */
    CU_ASSERT_FATAL(next_row(&p, f));
    CU_ASSERT_EQUAL(be32(f[1].data), 2);
    CU_ASSERT_EQUAL(be64(f[5].data), 129); /* seq_lo of the new row */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, f[24].data, f[24].len, RDM_OID_TEXT), 0);
    CU_ASSERT(a.n == 5 && rdm_pbarray_next(&a, &e, &len) == 1 && len == 4 &&
              !memcmp(e, "r126", 4));
    CU_ASSERT(f[25].len == 6 && !memcmp(f[25].data, "\1\2\3\4\2\5", 6));
    CU_ASSERT_FALSE(next_row(&p, f));
    rdm_predbatch_release(&b);
    rdm_buf_release(&out);
}

static void test_malformed_arrays(void)
{
    static const unsigned char two_dims[20] = {0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 20};
    static const unsigned char empty[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20};
    static const unsigned char torn[28] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0,
                                           0, 1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0,  0, 1};
    rdm_pbarray a;
    const unsigned char *e;
    size_t len;
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, two_dims, sizeof two_dims, RDM_OID_INT8), -1);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, empty, sizeof empty, RDM_OID_INT8), 0);
    CU_ASSERT_EQUAL(a.n, 0);
    CU_ASSERT_EQUAL(rdm_pbarray_next(&a, &e, &len), 0);
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, torn, sizeof torn, RDM_OID_INT8), 0);
    CU_ASSERT_EQUAL(rdm_pbarray_next(&a, &e, &len), -1); /* 8 bytes said, 4 there */
    CU_ASSERT_EQUAL(rdm_pbarray_open(&a, NULL, 0, RDM_OID_INT8), 0);
    CU_ASSERT_EQUAL(a.n, 0);
}

/* Rows built from the keyless forms the field scan gives are the rows the
 * encoder builds reading each input itself, byte for byte: first inputs
 * that set the keys or cannot, keys in another order, fewer or more keys,
 * a number, one key, a batch's records. */
static void test_keyless_given(void)
{
    static const char *const in[] = {
        "{\"race\":\"A\",\"x\":3}",              /* not keyless: the next sets the keys */
        "{\"race\":\"Caucasian\",\"age\":\"[70-80)\",\"weight\":null}",
        "{\"race\":\"Other\",\"age\":\"[10-20)\",\"weight\":\"?\"}",
        "{\"age\":\"[10-20)\",\"race\":\"Other\",\"weight\":\"?\"}", /* another order */
        "{\"race\":\"Other\",\"age\":\"[10-20)\"}",                  /* fewer keys */
        " {\"race\" : \"AfricanAmerican\", \"age\":\"[0-10)\" ,\"weight\":null } ",
        "{\"race\":\"Other\",\"age\":\"[10-20)\",\"weight\":\"?\",\"z\":\"\"}",
        "{\"only\":\"one\"}",
    };
    const size_t n = sizeof in / sizeof in[0];
    rdm_buf out[2] = {RDM_BUF_INIT, RDM_BUF_INIT};
    int given = 0;
    for (int mode = 0; mode < 2; mode++) {
        rdm_predbatch b;
        rdm_predbatch_init(&b);
        CU_ASSERT_EQUAL(rdm_predbatch_begin(&b, &out[mode]), RDM_OK);
        /* twice over: the second round starts a batch of its own */
        for (size_t r = 0; r < 2 * n; r++) {
            const char *input = in[r % n];
            rdm_predfields pf;
            rdm_predkeyless kl = RDM_PREDKEYLESS_INIT;
            CU_ASSERT_FATAL(rdm_predfields_scan_keyless(input, strlen(input), &pf, &kl));
            rdm_predbatch_item it = {1700000000000000 + (int64_t)r, "w-1", 0, NULL, NULL, NULL,
                                     "", 0.5, 0, 0.5, 1, pf.race, NULL, pf.age, input,
                                     strlen(input), 0, NULL, 0, NULL, 0, 0};
            if (mode == 1 && pf.keyless) {
                it.kl_vals = kl.vals.data + pf.vals_off;
                it.kl_vals_len = pf.vals_len;
                it.kl_keys = kl.keys.data + pf.keys_off;
                it.kl_keys_len = pf.keys_len;
                it.kl_nkeys = pf.nkeys;
                given++;
            }
            CU_ASSERT_EQUAL(rdm_predbatch_add(&b, "m", r < n ? "w" : "v", r, &it, &out[mode]),
                            RDM_OK);
            rdm_predkeyless_release(&kl);
        }
        CU_ASSERT_EQUAL(rdm_predbatch_end(&b, &out[mode]), RDM_OK);
        CU_ASSERT_EQUAL(b.rows, 2);
        rdm_predbatch_release(&b);
    }
    CU_ASSERT_EQUAL(given, 2 * 7);
    CU_ASSERT_EQUAL_FATAL(out[0].len, out[1].len);
    CU_ASSERT(!memcmp(out[0].data, out[1].data, out[0].len));
    rdm_buf_release(&out[0]);
    rdm_buf_release(&out[1]);
}

int test_predbatch_register(void)
{
    CU_pSuite s = CU_add_suite("predbatch", NULL, NULL);
    if (!s || !CU_add_test(s, "a stream of batch rows", test_stream) ||
        !CU_add_test(s, "inputs stored without their keys", test_keyless_inputs) ||
        !CU_add_test(s, "keyless forms given by the field scan: the same rows", test_keyless_given) ||
        !CU_add_test(s, "version, alias and threshold once when alike", test_batch_constants) ||
        !CU_add_test(s, "a full batch or another writer starts a row", test_full_batch_splits) ||
        !CU_add_test(s, "race, gender and age as codes", test_group_codes) ||
        !CU_add_test(s, "malformed arrays are refused", test_malformed_arrays))
        return -1;
    return 0;
}
