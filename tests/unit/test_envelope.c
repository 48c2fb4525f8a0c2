/* test_envelope.c - the model export file: round trip, every truncation and
 * every bit flip either refused or harmless, forged manifests refused. The
 * archives built by hand here use libarchive directly, not envelope.c. */
#include <CUnit/CUnit.h>
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

int test_envelope_register(void);

/* sha256("abc"), FIPS 180-2 appendix B.1 */
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static json_t *sample_lineage(void)
{
    return json_pack("{s:s, s:i, s:{s:{s:s}, s:{s:{s:f}}}}", "name", "readmission", "version", 3,
                     "run", "params", "learning_rate", "0.05", "metrics", "valid", "roc_auc",
                     0.671234);
}

static la_ssize_t put(struct archive *a, void *ud, const void *p, size_t n)
{
    (void)a;
    return rdm_buf_add(ud, p, n) ? -1 : (la_ssize_t)n;
}

/* A gzip'd tar of `n` members names[i] = texts[i], written without envelope.c. */
static void hand_tar(rdm_buf *out, int n, const char *const *names, const char *const *texts)
{
    struct archive *a = archive_write_new();
    CU_ASSERT_FATAL(a != NULL);
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    CU_ASSERT_FATAL(archive_write_open(a, out, NULL, put, NULL) == ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(texts[i]));
        CU_ASSERT(archive_write_header(a, e) == ARCHIVE_OK);
        CU_ASSERT(archive_write_data(a, texts[i], strlen(texts[i])) ==
                  (la_ssize_t)strlen(texts[i]));
        archive_entry_free(e);
    }
    CU_ASSERT(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
}

/* The text of member `name` of a gzip'd tar, read without envelope.c (free()). */
static char *member_text(const rdm_buf *tar, const char *name)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    char *text = NULL;
    struct archive_entry *e;
    if (archive_read_open_memory(a, tar->data, tar->len) == ARCHIVE_OK)
        while (!text && archive_read_next_header(a, &e) == ARCHIVE_OK)
            if (!strcmp(archive_entry_pathname(e), name)) {
                size_t n = (size_t)archive_entry_size(e);
                text = calloc(1, n + 1);
                if (text && archive_read_data(a, text, n) != (la_ssize_t)n)
                    text[0] = '\0';
            }
    archive_read_free(a);
    return text;
}

static void test_round_trip(void)
{
    json_t *lin = sample_lineage();
    rdm_buf env = RDM_BUF_INIT, model = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_FATAL(rdm_envelope_pack(lin, "abc", 3, &env, &err) == RDM_OK);
    json_t *back = NULL;
    CU_ASSERT_FATAL(rdm_envelope_unpack(env.data, env.len, "x.tgz", &back, &model, &err) == RDM_OK);
    CU_ASSERT(json_equal(back, lin));
    CU_ASSERT_EQUAL(model.len, 3);
    CU_ASSERT(model.data && !memcmp(model.data, "abc", 3));
    /* the manifest, read as plain tar + JSON, names the model's size and sha256 */
    char *mtext = member_text(&env, RDM_ENVELOPE_MANIFEST);
    json_t *m = mtext ? json_loads(mtext, 0, NULL) : NULL;
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m, "format")), "readmit-model-export");
    const json_t *d = json_object_get(json_object_get(m, "members"), "model.model");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "sha256")), SHA_ABC);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "size")), 3);
    /* and model.model is the model, byte for byte, for tar xzf users */
    char *mm = member_text(&env, RDM_ENVELOPE_MODEL);
    CU_ASSERT(mm && !strcmp(mm, "abc"));
    free(mm);
    json_decref(m);
    free(mtext);
    json_decref(back);
    json_decref(lin);
    rdm_buf_release(&env);
    rdm_buf_release(&model);
}

static void test_binary_model(void)
{
    size_t n = 200000;
    unsigned char *bytes = malloc(n);
    CU_ASSERT_FATAL(bytes != NULL);
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) { /* includes NULs and every byte value */
        x = x * 1103515245u + 12345u;
        bytes[i] = (unsigned char)(x >> 16);
    }
    json_t *lin = sample_lineage(), *back = NULL;
    rdm_buf env = RDM_BUF_INIT, model = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_FATAL(rdm_envelope_pack(lin, bytes, n, &env, &err) == RDM_OK);
    CU_ASSERT(rdm_envelope_unpack(env.data, env.len, "b.tgz", &back, &model, &err) == RDM_OK);
    CU_ASSERT(model.len == n && !memcmp(model.data, bytes, n));
    json_decref(back);
    json_decref(lin);
    rdm_buf_release(&env);
    rdm_buf_release(&model);
    free(bytes);
}

static void test_every_truncation_refused(void)
{
    json_t *lin = sample_lineage();
    rdm_buf env = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_FATAL(rdm_envelope_pack(lin, "abc", 3, &env, &err) == RDM_OK);
    int accepted = 0, unnamed = 0;
    for (size_t cut = 0; cut < env.len; cut++) {
        rdm_buf model = RDM_BUF_INIT;
        json_t *back = NULL;
        rdm_err e = {0};
        if (rdm_envelope_unpack(env.data, cut, "cut.tgz", &back, &model, &e) == RDM_OK)
            accepted++;
        else if (strncmp(e.msg, "cut.tgz: ", 9) != 0 || back || model.len)
            unnamed++;
        json_decref(back);
        rdm_buf_release(&model);
    }
    CU_ASSERT_EQUAL(accepted, 0);
    CU_ASSERT_EQUAL(unnamed, 0); /* every error names the file; nothing returned */
    json_decref(lin);
    rdm_buf_release(&env);
}

static void test_bit_flips_never_change_content(void)
{
    json_t *lin = sample_lineage();
    rdm_buf env = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_FATAL(rdm_envelope_pack(lin, "abc", 3, &env, &err) == RDM_OK);
    int refused = 0, wrong = 0;
    for (size_t i = 0; i < env.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            env.data[i] ^= (char)(1 << bit);
            rdm_buf model = RDM_BUF_INIT;
            json_t *back = NULL;
            rdm_err e = {0};
            if (rdm_envelope_unpack(env.data, env.len, "f.tgz", &back, &model, &e) != RDM_OK)
                refused++;
            else if (!json_equal(back, lin) || model.len != 3 || memcmp(model.data, "abc", 3))
                wrong++; /* a flip in padding or the gzip header may pass, never a changed value */
            json_decref(back);
            rdm_buf_release(&model);
            env.data[i] ^= (char)(1 << bit);
        }
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT(refused > 0);
    json_decref(lin);
    rdm_buf_release(&env);
}

/* unpack of a hand-made archive: the code and a piece of the message */
static void expect_refused(int n, const char *const *names, const char *const *texts, int code,
                           const char *needle)
{
    rdm_buf env = RDM_BUF_INIT, model = RDM_BUF_INIT;
    hand_tar(&env, n, names, texts);
    json_t *back = NULL;
    rdm_err e = {0};
    CU_ASSERT_EQUAL(rdm_envelope_unpack(env.data, env.len, "h.tgz", &back, &model, &e), code);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, needle));
    CU_ASSERT_PTR_NULL(back);
    CU_ASSERT_EQUAL(model.len, 0);
    rdm_buf_release(&env);
    rdm_buf_release(&model);
}

/* A manifest as envelope.c writes one, by hand. */
static void manifest(char *out, size_t n, int version, size_t lsize, const char *lsha,
                     const char *msha)
{
    snprintf(out, n,
             "{\"format\": \"readmit-model-export\", \"format_version\": %d, \"members\": "
             "{\"lineage.json\": {\"size\": %zu, \"sha256\": \"%s\"}, \"model.model\": "
             "{\"size\": 3, \"sha256\": \"%s\"}}}",
             version, lsize, lsha, msha);
}

static void test_forged_manifests_refused(void)
{
    static const char *const names[] = {"manifest.json", "lineage.json", "model.model", "x"};
    const char *lin = "{\"name\": \"readmission\"}";
    char good[512], bad_sha[512], v2[512];
    char real_lsha[65];
    rdm_sha256_hex(lin, strlen(lin), real_lsha);
    manifest(good, sizeof good, 1, strlen(lin), real_lsha, SHA_ABC);
    manifest(bad_sha, sizeof bad_sha, 1, strlen(lin), real_lsha,
             "0000000000000000000000000000000000000000000000000000000000000000");
    manifest(v2, sizeof v2, 2, strlen(lin), real_lsha, SHA_ABC);
    const char *ok[] = {good, lin, "abc"};
    /* the hand-made archive is accepted, so the refusals below are about what they change */
    rdm_buf env = RDM_BUF_INIT, model = RDM_BUF_INIT;
    hand_tar(&env, 3, names, ok);
    json_t *back = NULL;
    rdm_err e = {0};
    CU_ASSERT(rdm_envelope_unpack(env.data, env.len, "h.tgz", &back, &model, &e) == RDM_OK);
    json_decref(back);
    rdm_buf_release(&env);
    rdm_buf_release(&model);

    const char *sha[] = {bad_sha, lin, "abc"};
    expect_refused(3, names, sha, RDM_EINVAL, "h.tgz: checksum mismatch: model.model");
    const char *other[] = {good, lin, "abd"};
    expect_refused(3, names, other, RDM_EINVAL, "checksum mismatch");
    const char *longer[] = {good, lin, "abcd"};
    expect_refused(3, names, longer, RDM_EINVAL, "model.model has 4 bytes, the manifest says 3");
    const char *ver[] = {v2, lin, "abc"};
    expect_refused(3, names, ver, RDM_EVERSION, "format_version 2");
    expect_refused(2, names, ok, RDM_EPARSE, "no model.model");
    const char *extra[] = {good, lin, "abc", "?"};
    expect_refused(4, names, extra, RDM_EPARSE, "unexpected member 'x'");
    const char *notjson[] = {"{", lin, "abc"};
    expect_refused(3, names, notjson, RDM_EPARSE, "h.tgz: manifest.json: line");

    rdm_buf m2 = RDM_BUF_INIT;
    json_t *b2 = NULL;
    CU_ASSERT_EQUAL(rdm_envelope_unpack("hello\n", 6, "t.txt", &b2, &m2, &e), RDM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "t.txt"));
    rdm_buf_release(&m2);
}

int test_envelope_register(void)
{
    CU_pSuite s = CU_add_suite("envelope", NULL, NULL);
    if (!s || !CU_add_test(s, "pack then unpack gives the lineage and bytes", test_round_trip) ||
        !CU_add_test(s, "a binary model of 200 kB round trips", test_binary_model) ||
        !CU_add_test(s, "every truncation is refused, naming the file",
                     test_every_truncation_refused) ||
        !CU_add_test(s, "a bit flip is refused or changes nothing",
                     test_bit_flips_never_change_content) ||
        !CU_add_test(s, "forged manifests are refused", test_forged_manifests_refused))
        return -1;
    return 0;
}
