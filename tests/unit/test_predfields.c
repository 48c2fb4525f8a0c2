/* test_predfields.c - the prediction log's scan of the logged fields gives
 * the parser's values, or declines. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "predfields.h"
#include "schema.h"

int test_predfields_register(void);

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Where the scan takes a body (len bytes, NUL-terminated), its fields are
 * the parser's; returns whether it took it. `served`: the parser must take
 * it too (else only a body both take is compared: the scan is for served
 * bodies and does not validate the other fields). */
static int agrees_n(const char *body, size_t len, int served)
{
    rdm_predfields pf;
    int took = rdm_predfields_scan(body, len, &pf);
    if (!took)
        return 0;
    rdm_api_request req = RDM_API_REQUEST_INIT;
    rdm_api_error e;
    int st = rdm_api_parse_predict(body, len, 1000, &req, &e);
    if (served)
        CU_ASSERT_EQUAL(st, RDM_HTTP_OK);
    if (st == RDM_HTTP_OK) {
        const rdm_api_record *r = &req.recs[0];
        CU_ASSERT_EQUAL(req.n, 1);
        CU_ASSERT_STRING_EQUAL(pf.id, r->id);
        CU_ASSERT(same_text(pf.patient, r->values[RDM_C_PATIENT_NBR]));
        CU_ASSERT(same_text(pf.race, r->values[rdm_schema_find("race")]));
        CU_ASSERT(same_text(pf.gender, r->values[rdm_schema_find("gender")]));
        CU_ASSERT(same_text(pf.age, r->values[rdm_schema_find("age")]));
    }
    rdm_api_request_release(&req);
    return took;
}

static int agrees(const char *body)
{
    return agrees_n(body, strlen(body), 1);
}

static void test_taken_as_parsed(void)
{
    static const char *const taken[] = {
        "{}",
        " { } ",
        "{\"encounter_id\":\"149190\",\"race\":\"Caucasian\",\"gender\":\"Female\",\"age\":"
        "\"[10-20)\",\"weight\":null,\"time_in_hospital\":\"3\",\"diag_2\":\"250.01\"}",
        "{\"encounter_id\":12,\"patient_nbr\":\"9\",\"num_lab_procedures\":\"0\"}",
        "{\"encounter_id\":\"x-1\",\"weight\":\"?\",\"payer_code\":null,\"race\":\"?\"}",
        "{\"encounter_id\":null,\"patient_nbr\":null,\"race\":\"\",\"gender\":null}",
        "{ \"age\" : \"[70-80)\" , \"patient_nbr\" : 8675309 }",
        /* the fields anywhere, other values non-plain (the parser decodes them) */
        "{\"time_in_hospital\":3.0,\"race\":\"Other\",\"diag_1\":250.83,\"age\":\"[0-10)\"}",
        "{\"medical_specialty\":\"Caf\xc3\xa9\",\"gender\":\"Male\",\"explain\":true}",
        /* a value that spells a key is no key */
        "{\"race\":\"age\",\"age\":\"[50-60)\"}",
        /* every printable byte but the quote and the backslash is plain */
        "{\"race\":\"AZaz09 !#$%&'()*+,-./:;<=>?@[]^_`{|}~\"}",
        "{\"encounter_id\":\"012345678901234567890123456789012345678901234\"}",
    };
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
        CU_ASSERT(agrees(taken[i]));
}

static void test_declined(void)
{
    static const char *const declined[] = {
        /* a batch, wherever "instances" stands */
        "{\"instances\":[{\"race\":\"Other\"}]}",
        "{\"explain\":false,\"instances\":[{\"race\":\"Other\"}]}",
        /* escapes anywhere (a key may be escaped into a logged one) */
        "{\"r\\u0061ce\":\"Other\"}",
        "{\"race\":\"Cau\\\"c\"}",
        "{\"diag_1\":\"\\u0032\",\"race\":\"Other\"}",
        /* values the parser would decode or refuse */
        "{\"race\":\"Caf\xc3\xa9\"}",
        "{\"race\":7}",
        "{\"encounter_id\":1234567890123456}",
        "{\"encounter_id\":012}",
        "{\"encounter_id\":-1}",
        "{\"encounter_id\":1.5}",
        "{\"encounter_id\":true}",
        "{\"encounter_id\":\"0123456789012345678901234567890123456789012345\"}",
        "{\"patient_nbr\":\"12a\"}",
        "{\"patient_nbr\":-5}",
        /* no object, or no end */
        "[{}]",
        "5",
        "",
        "{\"race\":\"x",
        "{\"race\":nul",
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
        rdm_predfields pf;
        CU_ASSERT_EQUAL(rdm_predfields_scan(declined[i], strlen(declined[i]), &pf), 0);
    }
    /* a NUL inside the body */
    static const char nul[] = "{\"race\":\"a\"}\0{}";
    rdm_predfields pf;
    CU_ASSERT_EQUAL(rdm_predfields_scan(nul, sizeof nul - 1, &pf), 0);
}

/* The API's corpus of hostile bodies: whatever both read, they read alike. */
static void test_hostile_corpus(void)
{
    DIR *d = opendir("data/bad-bodies");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *de;
    int both = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "data/bad-bodies/%s", de->d_name);
        rdm_buf body = RDM_BUF_INIT;
        if (rdm_read_file(path, &body, NULL) == RDM_OK && body.data) {
            char *text = malloc(body.len + 1); /* NUL-terminated, as the log's bodies are */
            CU_ASSERT_PTR_NOT_NULL_FATAL(text);
            memcpy(text, body.data, body.len);
            text[body.len] = '\0';
            both += agrees_n(text, body.len, 0);
            free(text);
        }
        rdm_buf_release(&body);
    }
    closedir(d);
    CU_ASSERT(both > 0); /* some are plain records */
}

/* A batch body's records by the one pass: each where it lies, with the
 * fields the parser gives it; returns whether the pass took the body. */
static int batch_agrees(const char *body, size_t want, int served)
{
    size_t n = strlen(body), at[16], len[16];
    static rdm_predfields pf[16];
    CU_ASSERT_FATAL(want <= 16);
    rdm_predkeyless kl = RDM_PREDKEYLESS_INIT;
    if (!rdm_predfields_batch(body, n, want, at, len, pf, &kl)) {
        rdm_predkeyless_release(&kl);
        return 0;
    }
    rdm_api_request req = RDM_API_REQUEST_INIT;
    rdm_api_error e;
    int st = rdm_api_parse_predict(body, n, 1000, &req, &e);
    CU_ASSERT_EQUAL_FATAL(st == RDM_HTTP_OK, served);
    CU_ASSERT_FATAL(!served || req.n == want);
    for (size_t k = 0; k < want; k++) {
        CU_ASSERT_EQUAL(body[at[k]], '{');
        CU_ASSERT_EQUAL(body[at[k] + len[k] - 1], '}');
        if (served) {
            const rdm_api_record *r = &req.recs[k];
            CU_ASSERT_STRING_EQUAL(pf[k].id, r->id);
            CU_ASSERT(same_text(pf[k].patient, r->values[RDM_C_PATIENT_NBR]));
            CU_ASSERT(same_text(pf[k].race, r->values[rdm_schema_find("race")]));
            CU_ASSERT(same_text(pf[k].gender, r->values[rdm_schema_find("gender")]));
            CU_ASSERT(same_text(pf[k].age, r->values[rdm_schema_find("age")]));
        }
        /* the record alone, scanned as a single body, gives the same */
        char one[4096];
        CU_ASSERT_FATAL(len[k] < sizeof one);
        memcpy(one, body + at[k], len[k]);
        one[len[k]] = '\0';
        rdm_predfields single;
        CU_ASSERT_FATAL(rdm_predfields_scan(one, len[k], &single));
        CU_ASSERT_STRING_EQUAL(single.id, pf[k].id);
        CU_ASSERT(same_text(single.patient, pf[k].patient));
        CU_ASSERT(same_text(single.race, pf[k].race));
        CU_ASSERT(same_text(single.gender, pf[k].gender));
        CU_ASSERT(same_text(single.age, pf[k].age));
        /* and the same keyless form as the record alone */
        rdm_predkeyless one_kl = RDM_PREDKEYLESS_INIT;
        CU_ASSERT_FATAL(rdm_predfields_scan_keyless(one, len[k], &single, &one_kl));
        CU_ASSERT_EQUAL(single.keyless, pf[k].keyless);
        if (single.keyless && pf[k].keyless) {
            CU_ASSERT_EQUAL(single.nkeys, pf[k].nkeys);
            CU_ASSERT_EQUAL(single.vals_len, pf[k].vals_len);
            CU_ASSERT_EQUAL(single.keys_len, pf[k].keys_len);
            CU_ASSERT(!memcmp(one_kl.vals.data + single.vals_off, kl.vals.data + pf[k].vals_off,
                              single.vals_len));
            CU_ASSERT(!memcmp(one_kl.keys.data + single.keys_off, kl.keys.data + pf[k].keys_off,
                              single.keys_len));
        }
        rdm_predkeyless_release(&one_kl);
    }
    rdm_predkeyless_release(&kl);
    rdm_api_request_release(&req);
    return 1;
}

/* The keyless form as jansson reads the record: every value a string
 * without a control byte, or null, else none (0). */
static int keyless_expected(const char *body, rdm_buf *vals, rdm_buf *keys, uint32_t *nkeys)
{
    json_t *o = json_loads(body, JSON_DECODE_ANY, NULL);
    int ok = json_is_object(o) && json_object_size(o) > 0;
    const char *k;
    json_t *v;
    *nkeys = 0;
    json_object_foreach(o, k, v)
    {
        if (!ok)
            break;
        size_t kn = strlen(k);
        unsigned char be[4] = {(unsigned char)(kn >> 24), (unsigned char)(kn >> 16),
                               (unsigned char)(kn >> 8), (unsigned char)kn};
        CU_ASSERT_EQUAL_FATAL(rdm_buf_add(keys, be, 4), RDM_OK);
        CU_ASSERT_EQUAL_FATAL(rdm_buf_add(keys, k, kn), RDM_OK);
        CU_ASSERT_EQUAL_FATAL(rdm_buf_addc(vals, 0x1f), RDM_OK);
        if (json_is_null(v)) {
            CU_ASSERT_EQUAL_FATAL(rdm_buf_addc(vals, 0x1e), RDM_OK);
        } else if (json_is_string(v)) {
            const char *t = json_string_value(v);
            for (const char *c = t; *c; c++)
                ok = ok && (unsigned char)*c >= 0x20;
            CU_ASSERT_EQUAL_FATAL(rdm_buf_add(vals, t, strlen(t)), RDM_OK);
        } else {
            ok = 0;
        }
        (*nkeys)++;
    }
    json_decref(o);
    return ok;
}

/* A record's keyless form, written as it is scanned: jansson's reading of
 * it; none for numbers, booleans or control bytes; appended to what the
 * buffers hold, nothing kept of a record declined. */
static void test_keyless_form(void)
{
    static const char *const bodies[] = {
        "{\"race\":\"Caucasian\",\"gender\":\"Female\",\"age\":\"[70-80)\",\"weight\":null,"
        "\"diag_1\":\"428\"}",
        " { \"encounter_id\" : \"12\" ,\n\"race\" : null , \"x\":\"\"} ",
        "{\"a\":\"\",\"b\":\"1\",\"c\":\"12\",\"d\":\"1234567\",\"e\":\"12345678\",\"f\":"
        "\"123456789\",\"g\":\"123456789012345\",\"h\":\"1234567890123456\",\"i\":"
        "\"12345678901234567\",\"jjjjjjjjjjjjjjjjjj\":\"Caf\xc3\xa9\"}",
        "{\"race\":\"Other\"}",
        "{\"race\":\"A\",\"time_in_hospital\":3}",
        "{\"race\":\"A\",\"x\":true}",
        "{\"race\":\"A\",\"x\":\"long enough\x01 to reach a word\"}",
        "{\"race\":\"A\",\"x\":\"a\x1f\"}",
        /* a control byte in each place of a word, and just before the quote */
        "{\"race\":\"A\",\"x\":\"\x01"
        "bcdefghijk\",\"y\":\"z\"}",
        "{\"race\":\"A\",\"x\":\"abcdefg\x01\",\"y\":\"z\"}",
        "{\"race\":\"A\",\"x\":\"abcdefgh\x1f\",\"y\":\"z\"}",
        "{\"race\":\"A\",\"x\":\"abc\x1f\",\"y\":\"z\"}",
        "{\"race\":\"A\",\"x\":\"abcdefghijklmno\x1e\",\"y\":\"z\"}",
        /* control bytes after the string, in the same word: taken */
        "{\"race\":\"A\",\"x\":\"ab\", \t\n\"y\":\"z\"}",
        "{\"race\":\"A\",\"x\":\"abcdefghi\"\r\n,\"y\":\"z\"}",
        "{\"race\":\"A\",\"k\x02\":\"v\"}",
        "{\"race\":\"A\",\"kkkkkkkkkkkkkkkkkkkk\x7f\":\"v\x7f\"}",
        "{}",
    };
    rdm_predkeyless kl = RDM_PREDKEYLESS_INIT;
    int some = 0, none = 0;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        rdm_buf vals = RDM_BUF_INIT, keys = RDM_BUF_INIT;
        uint32_t nkeys;
        int want = keyless_expected(bodies[i], &vals, &keys, &nkeys);
        size_t vals_at = kl.vals.len, keys_at = kl.keys.len;
        rdm_predfields pf;
        CU_ASSERT_FATAL(rdm_predfields_scan_keyless(bodies[i], strlen(bodies[i]), &pf, &kl));
        CU_ASSERT_EQUAL(pf.keyless, want);
        if (pf.keyless && want) {
            CU_ASSERT_EQUAL(pf.nkeys, nkeys);
            CU_ASSERT_EQUAL(pf.vals_off, vals_at);
            CU_ASSERT_EQUAL(pf.keys_off, keys_at);
            CU_ASSERT_EQUAL_FATAL(pf.vals_len, vals.len);
            CU_ASSERT_EQUAL_FATAL(pf.keys_len, keys.len);
            CU_ASSERT(!memcmp(kl.vals.data + pf.vals_off, vals.data, vals.len));
            CU_ASSERT(!memcmp(kl.keys.data + pf.keys_off, keys.data, keys.len));
            some++;
        } else {
            CU_ASSERT_EQUAL(kl.vals.len, vals_at);
            CU_ASSERT_EQUAL(kl.keys.len, keys_at);
            none++;
        }
        rdm_buf_release(&vals);
        rdm_buf_release(&keys);
    }
    CU_ASSERT(some >= 4 && none >= 6);
    /* a body the one pass declines (a batch) keeps nothing either */
    size_t vals_at = kl.vals.len;
    rdm_predfields pf;
    static const char batch[] = "{\"instances\":[{\"race\":\"A\"}]}";
    CU_ASSERT_EQUAL(rdm_predfields_scan_keyless(batch, sizeof batch - 1, &pf, &kl), 0);
    CU_ASSERT_EQUAL(kl.vals.len, vals_at);
    CU_ASSERT_EQUAL(pf.keyless, 0);
    rdm_predkeyless_release(&kl);
}

/* Records scanned one after another with one buffer (each matched against
 * the keys of the one before) read exactly as each scanned alone: the same
 * keys, keys that part from the last record's midway, fewer, more, a key
 * that is a prefix of the last one's, a record with no keyless form. */
static void test_keys_template(void)
{
    static const char *const recs[] = {
        "{\"race\":\"A\",\"gender\":\"F\",\"age\":\"[40-50)\",\"x\":\"1\"}",
        "{\"race\":\"B\",\"gender\":\"M\",\"age\":\"[50-60)\",\"x\":\"2\"}",
        "{\"race\":\"B\",\"gender\":\"M\",\"agex\":\"[50-60)\",\"x\":\"2\"}",
        "{\"race\":\"B\",\"gender\":\"M\",\"ag\":\"[50-60)\",\"x\":\"2\"}",
        "{\"race\":\"C\",\"gender\":\"M\"}",
        "{\"race\":\"C\",\"gender\":\"M\",\"age\":\"[60-70)\",\"a_much_longer_key_name\":null}",
        "{\"race\":\"C\",\"gender\":\"M\",\"age\":\"[60-70)\",\"a_much_longer_key_name\":3}",
        "{\"race\":\"D\",\"gender\":\"M\",\"age\":\"[60-70)\",\"a_much_longer_key_name\":\"\"}",
        "{\"encounter_id\":12,\"race\":\"E\",\"gender\":\"F\"}",
        "{\"encounter_id\":13,\"race\":\"E\",\"gender\":\"F\"}",
        "{\"gender\":\"F\",\"encounter_id\":14,\"race\":\"E\"}",
        "{\"race\":\"E\",\"race\":\"F\",\"gender\":\"F\"}",
        "{}",
        "{\"race\":\"E\",\"race\":\"F\",\"gender\":\"F\"}",
    };
    const size_t n = sizeof recs / sizeof recs[0];
    rdm_predkeyless kl = RDM_PREDKEYLESS_INIT;
    int matched = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < n; i++) {
            rdm_predkeyless one = RDM_PREDKEYLESS_INIT;
            rdm_predfields a, b;
            const size_t len = strlen(recs[i]);
            matched += kl.ntkeys > 0;
            rdm_buf_reset(&kl.vals), rdm_buf_reset(&kl.keys);
            CU_ASSERT_FATAL(rdm_predfields_scan_keyless(recs[i], len, &a, &kl));
            CU_ASSERT_FATAL(rdm_predfields_scan_keyless(recs[i], len, &b, &one));
            CU_ASSERT_EQUAL(a.keyless, b.keyless);
            CU_ASSERT_STRING_EQUAL(a.id, b.id);
            CU_ASSERT((a.race && b.race && !strcmp(a.race, b.race)) || (!a.race && !b.race));
            CU_ASSERT((a.age && b.age && !strcmp(a.age, b.age)) || (!a.age && !b.age));
            if (a.keyless && b.keyless) {
                CU_ASSERT_EQUAL(a.nkeys, b.nkeys);
                CU_ASSERT_EQUAL_FATAL(a.keys_len, b.keys_len);
                CU_ASSERT_EQUAL_FATAL(a.vals_len, b.vals_len);
                CU_ASSERT(
                    !memcmp(kl.keys.data + a.keys_off, one.keys.data + b.keys_off, a.keys_len));
                CU_ASSERT(
                    !memcmp(kl.vals.data + a.vals_off, one.vals.data + b.vals_off, a.vals_len));
            }
            rdm_predkeyless_release(&one);
        }
    CU_ASSERT(matched >= (int)n); /* the template was there for most */
    /* a batch's records: each against the one before */
    static const char batch[] =
        "{\"instances\":[{\"race\":\"A\",\"age\":\"[0-10)\"},{\"race\":\"B\",\"age\":\"[10-20)\"},"
        "{\"race\":\"C\",\"ag\":\"[10-20)\"},{\"race\":\"D\",\"age\":\"[10-20)\"}]}";
    size_t at[4], ln[4];
    static rdm_predfields pf[4];
    rdm_buf_reset(&kl.vals), rdm_buf_reset(&kl.keys);
    CU_ASSERT_FATAL(rdm_predfields_batch(batch, sizeof batch - 1, 4, at, ln, pf, &kl));
    for (int k = 0; k < 4; k++) {
        char rec[128];
        rdm_predkeyless one = RDM_PREDKEYLESS_INIT;
        rdm_predfields s;
        CU_ASSERT_FATAL(ln[k] < sizeof rec);
        memcpy(rec, batch + at[k], ln[k]);
        rec[ln[k]] = '\0';
        CU_ASSERT_FATAL(rdm_predfields_scan_keyless(rec, ln[k], &s, &one));
        CU_ASSERT_FATAL(pf[k].keyless && s.keyless);
        CU_ASSERT_EQUAL_FATAL(pf[k].keys_len, s.keys_len);
        CU_ASSERT(!memcmp(kl.keys.data + pf[k].keys_off, one.keys.data + s.keys_off, s.keys_len));
        CU_ASSERT_EQUAL_FATAL(pf[k].vals_len, s.vals_len);
        CU_ASSERT(!memcmp(kl.vals.data + pf[k].vals_off, one.vals.data + s.vals_off, s.vals_len));
        rdm_predkeyless_release(&one);
    }
    rdm_predkeyless_release(&kl);
}

static void test_batch_one_pass(void)
{
    static const struct {
        const char *body;
        size_t n;
        int served;
    } taken[] = {
        {"{\"instances\":[{\"encounter_id\":\"1\",\"race\":\"Caucasian\",\"gender\":\"Female\","
         "\"age\":\"[10-20)\",\"weight\":null,\"diag_2\":\"250.01\"},{\"encounter_id\":\"2\","
         "\"patient_nbr\":\"77\",\"race\":\"?\",\"age\":\"[0-10)\"}]}",
         2, 1},
        /* white space everywhere, a key before and after, unicode outside
         * the logged fields */
        {" {\n \"explain\" : false ,\t\"instances\" : [ { } ,\n"
         "{ \"encounter_id\" : 12 , \"patient_nbr\" : 8675309 } ,{\"race\":\"age\",\"age\":"
         "\"[50-60)\",\"medical_specialty\":\"Caf\xc3\xa9\"} ] } ",
         3, 1},
        {"{\"instances\":[{\"race\":\"Other\"}],\"explain\":true}", 1, 1},
        /* nulls, missing and empty values, numbers as strings and as numbers */
        {"{\"instances\":[{\"encounter_id\":null,\"patient_nbr\":null,\"race\":\"\",\"gender\":"
         "null},{\"time_in_hospital\":3.0,\"num_lab_procedures\":41,\"race\":\"Other\"},"
         "{\"patient_nbr\":\"123\",\"encounter_id\":\"x-1\"}]}",
         3, 1},
        /* strings of every length about the eight-byte steps */
        {"{\"instances\":[{\"race\":\"a\",\"diag_1\":\"\",\"gender\":\"Male\",\"diag_2\":"
         "\"abcdefg\"},"
         "{\"race\":\"abcdefgh\",\"diag_3\":\"abcdefghijklmno\",\"age\":\"abcdefghijklmnopq\"},"
         "{\"medical_specialty\":\"x\",\"race\":\"AfricanAmerican\",\"payer_code\":\"abcdefghi\"}]"
         "}",
         3, 1},
        /* values that are no records' beside them: found, not validated */
        {"{\"meta\":{\"a\":[1,\"]}\",{}]},\"instances\":[{\"race\":\"Other\"}],\"x\":\"y\"}", 1, 0},
        {"{\"instances\":[]}", 0, 0}, /* refused when served */
    };

    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
        CU_ASSERT(batch_agrees(taken[i].body, taken[i].n, taken[i].served));

    static const struct {
        const char *body;
        size_t n;
    } declined[] = {
        {"{\"instances\":[{\"race\":\"Other\"}]}", 2},                      /* fewer records */
        {"{\"instances\":[{\"race\":\"Other\"},{}]}", 1},                   /* more */
        {"{\"instances\":[{\"race\":\"O\\\"ther\"}]}", 1},                  /* an escape */
        {"{\"note\":\"\\u0041\",\"instances\":[{\"race\":\"Other\"}]}", 1}, /* anywhere */
        {"{\"instances\":[{\"race\":\"Caf\xc3\xa9\"}]}", 1},                /* not plain */
        {"{\"instances\":[{\"race\":7}]}", 1},                              /* a number */
        {"{\"instances\":[{\"encounter_id\":-1}]}", 1},
        {"{\"instances\":[{\"patient_nbr\":\"12a\"}]}", 1},
        {"{\"instances\":[{\"diag\":{\"race\":\"x\"}}]}", 1}, /* nested */
        {"{\"instances\":[{\"diag\":[1,2]}]}", 1},
        {"{\"instances\":[{\"instances\":[]}]}", 1},
        {"{\"instances\":[5]}", 1},
        {"{\"instances\":{}}", 0},
        {"{\"race\":\"Other\"}", 1}, /* no batch */
        {"[{\"race\":\"Other\"}]", 1},
        {"{\"instances\":[{\"race\":\"Other\"}", 1}, /* no end */
        {"{\"instances\":[{\"race\":\"Oth", 1},
        {"{\"instances\":[{\"race\":nul", 1},
        {"", 0},
    };

    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
        size_t at[4], len[4];
        rdm_predfields pf[4];
        CU_ASSERT_EQUAL(rdm_predfields_batch(declined[i].body, strlen(declined[i].body),
                                             declined[i].n, at, len, pf, NULL),
                        0);
    }
    /* a NUL inside the body */
    static const char nul[] = "{\"instances\":[{\"race\":\"a\0\"}]}";
    size_t at[1], len[1];
    rdm_predfields pf[1];
    CU_ASSERT_EQUAL(rdm_predfields_batch(nul, sizeof nul - 1, 1, at, len, pf, NULL), 0);
    /* a body that ends inside a string, one byte short: every cut declined */
    static const char whole[] = "{\"instances\":[{\"encounter_id\":\"149190\",\"race\":"
                                "\"Caucasian\",\"age\":\"[10-20)\"}]}";
    for (size_t cut = 0; cut + 1 < sizeof whole - 1; cut++) {
        char *b = malloc(cut + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        memcpy(b, whole, cut);
        b[cut] = '\0';
        CU_ASSERT_EQUAL(rdm_predfields_batch(b, cut, 1, at, len, pf, NULL), 0);
        free(b);
    }
    CU_ASSERT_EQUAL(rdm_predfields_batch(whole, sizeof whole - 1, 1, at, len, pf, NULL), 1);
}

/* The prediction after `pos` as the response's keys say, by plain search:
 * the first "probability" key from pos, the first "decision" and
 * "threshold" after it (strtod for the numbers). */
static int ref_next(const char *r, size_t *pos, double *p, int *d, double *thr)
{
    const char *s = strstr(r + *pos, "\"probability\":");
    if (!s)
        return 0;
    const char *sd = strstr(s, "\"decision\":"), *st = strstr(s, "\"threshold\":");
    *p = strtod(s + 14, NULL);
    *d = sd && sd[11] == 't';
    *thr = st ? strtod(st + 12, NULL) : 0;
    *pos = (size_t)(s - r) + 14;
    return 1;
}

static void test_response_predictions(void)
{
    static const char *const resp[] = {
        /* as the pool writes them: a batch and a single record */
        "{\"model\":{\"name\":\"readmission\",\"version\":\"3\"},\"predictions\":[{\"encounter_"
        "id\":"
        "\"149190\",\"probability\":0.080233,\"decision\":false,\"threshold\":0.137884,"
        "\"warnings\":[]},{\"encounter_id\":\"62256\",\"probability\":0.943376,\"decision\":true,"
        "\"threshold\":0.137884,\"warnings\":[]},{\"encounter_id\":null,\"probability\":1.000000,"
        "\"decision\":true,\"threshold\":0.5,\"warnings\":[\"unknown value\"]}]}",
        "{\"model\":{\"name\":\"readmission\",\"version\":\"file:383fe2afec1b\"},\"encounter_id\":"
        "\"149190\",\"probability\":0.080233,\"decision\":false,\"threshold\":0.137884,"
        "\"warnings\":[]}\n",
        /* other orders, keys between, white space: the first after the key */
        "{\"predictions\":[{\"decision\":true,\"threshold\":0.3,\"probability\":0.25},"
        "{\"probability\":0.75,\"threshold\":0.2,\"decision\":false}]}",
        "{\"probability\":0.5,\"why\":\"y\",\"decision\":true,\"threshold\":0.125}",
        "{\"probability\": 0.5 ,\"decision\": true,\"threshold\": 1e-3}",
        "{\"probability\":0.5, \"decision\":true, \"threshold\":0.25}",
        "{\"probability\":0.5,\"decision\":true ,\"threshold\":0.25}",
        /* numbers strtod takes the long way, out of range, negative */
        "{\"probability\":1e-05,\"decision\":false,\"threshold\":2.5E-1}",
        "{\"probability\":0.12345678901234567,\"decision\":false,\"threshold\":-0.5}",
        "{\"probability\":-0.25,\"decision\":false,\"threshold\":100}",
        /* missing decision or threshold; no key after the last */
        "{\"probability\":0.5}",
        "{\"probability\":0.5,\"decision\":true}",
        "{\"probability\":0.5,\"threshold\":0.1}",
        /* 'y' and near-keys elsewhere */
        "{\"yy\":\"probability\",\"xprobability\":0.9,\"probabilityy\":0.8,\"probability\":0.7,"
        "\"decision\":false,\"threshold\":0.6}",
        "{\"encounter_id\":\"y\",\"probability\":",
        "\"probability\":",
        "",
    };
    for (size_t i = 0; i < sizeof resp / sizeof resp[0]; i++) {
        const char *r = resp[i];
        size_t n = strlen(r), pa = 0, pb = 0;
        uint32_t rows = 0;
        for (;;) {
            double p1 = -9, t1 = -9, p2 = -9, t2 = -9;
            int d1 = -9, d2 = -9;
            int a = rdm_predresp_next(r, n, &pa, &p1, &d1, &t1),
                b = ref_next(r, &pb, &p2, &d2, &t2);
            CU_ASSERT_EQUAL(a, b);
            if (!a || !b)
                break;
            rows++;
            CU_ASSERT_EQUAL(pa, pb);
            CU_ASSERT_DOUBLE_EQUAL(p1, p2, 0);
            CU_ASSERT_EQUAL(d1, d2);
            CU_ASSERT_DOUBLE_EQUAL(t1, t2, 0);
            CU_ASSERT_FATAL(rows < 10);
        }
        CU_ASSERT_EQUAL(rdm_predresp_rows(r, n), rows);
    }
    /* the three predictions of the first: read as written */
    size_t pos = 0;
    double p, t;
    int d;
    CU_ASSERT(rdm_predresp_next(resp[0], strlen(resp[0]), &pos, &p, &d, &t));
    CU_ASSERT(p == 0.080233 && d == 0 && t == 0.137884);
    CU_ASSERT(rdm_predresp_next(resp[0], strlen(resp[0]), &pos, &p, &d, &t));
    CU_ASSERT(p == 0.943376 && d == 1);
    CU_ASSERT(rdm_predresp_next(resp[0], strlen(resp[0]), &pos, &p, &d, &t));
    CU_ASSERT(p == 1.0 && d == 1 && t == 0.5);
    CU_ASSERT(!rdm_predresp_next(resp[0], strlen(resp[0]), &pos, &p, &d, &t));
    /* a response cut anywhere is read within its bytes: a copy of each
     * prefix without a NUL after it (ASan sees a read past it) */
    const char *full = resp[0];
    for (size_t cut = 0; cut <= strlen(full); cut++) {
        char *b = malloc(cut ? cut : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        memcpy(b, full, cut);
        size_t at = 0;
        uint32_t k = 0;
        while (rdm_predresp_next(b, cut, &at, &p, &d, &t) && k < 5)
            k++;
        CU_ASSERT(k <= 3);
        CU_ASSERT_EQUAL(rdm_predresp_rows(b, cut), k);
        free(b);
    }
}

/* Random batches (a fixed seed): values of every length up to 70 about the
 * 64-byte blocks, white space or none, numbers, nulls; the one pass agrees
 * with the parser on each. */
/* Random bodies for the tests below: a linear congruential generator, and
 * the nk keys of one record (keys[order[f]], each once) written at body + k
 * with varied white space and values (null, integers for the ids and
 * counts, strings; with `missing` also "?" and ""); the new length. */
static const char *const rnd_keys[] = {"encounter_id", "patient_nbr",
                                       "race",         "gender",
                                       "age",          "diag_1",
                                       "diag_2",       "medical_specialty",
                                       "payer_code",   "num_lab_procedures"};
static const char *const rnd_spaces[] = {"", " ", "\n  ", "\t"};

static unsigned rnd(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static size_t random_keys(char *body, size_t k, unsigned *seed, const size_t *order, size_t nk,
                          int missing)
{
    for (size_t f = 0; f < nk; f++) {
        const char *sp = rnd_spaces[rnd(seed) % 4];
        size_t key = order[f];
        k += (size_t)sprintf(body + k, "%s%s\"%s\"%s:%s", f ? "," : "", sp, rnd_keys[key], sp, sp);
        int kind = (int)(rnd(seed) % (missing ? 7 : 6));
        if (kind == 0) {
            k += (size_t)sprintf(body + k, "null");
        } else if (kind == 1 && (key <= 1 || key == 9)) {
            k += (size_t)sprintf(body + k, "%u", 1 + rnd(seed) % 90000);
        } else if (kind == 6) {
            k += (size_t)sprintf(body + k, "\"%s\"", rnd(seed) % 2 ? "?" : "");
        } else {
            size_t vl = rnd(seed) % 71;
            body[k++] = '"';
            if (key <= 1 || key == 9) /* ids and counts: digits */
                for (size_t c = 0; c < vl % 6 + 1; c++)
                    body[k++] = (char)('1' + rnd(seed) % 9);
            else
                for (size_t c = 0; c < vl; c++)
                    body[k++] = (char)("abc XYZ-[)(0.9,:{}]"[rnd(seed) % 19]);
            body[k++] = '"';
        }
        k += (size_t)sprintf(body + k, "%s", rnd_spaces[rnd(seed) % 4]);
    }
    return k;
}

static void test_batch_random(void)
{
    static const size_t in_order[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    unsigned seed = 12345;
    char *body = malloc(16384);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    for (int round = 0; round < 300; round++) {
        size_t nrec = 1 + rnd(&seed) % 8, k = 0;
        k += (size_t)sprintf(body + k, "{%s\"instances\":[", rnd_spaces[rnd(&seed) % 4]);
        for (size_t r = 0; r < nrec; r++) {
            k += (size_t)sprintf(body + k, "%s{", r ? "," : "");
            size_t nk = rnd(&seed) % 10;
            k = random_keys(body, k, &seed, in_order, nk, 0);
            k += (size_t)sprintf(body + k, "}");
        }
        k += (size_t)sprintf(body + k, "]}");
        body[k] = '\0';
        CU_ASSERT(batch_agrees(body, nrec, 1));
    }
    free(body);
}

/* ---- the parser's layout of a body (rdm_api_parse_predict_layout) ---- */

/* The layout of `body` as the parser gives it (empty: none); the parser's
 * record count and kind in *n, *batch. */
static void layout_of(const char *body, size_t len, rdm_buf *lay, size_t *n, int *batch)
{
    rdm_api_request req;
    rdm_api_error e;
    rdm_buf_reset(lay);
    *n = 0;
    *batch = 0;
    if (rdm_api_parse_predict_layout(body, len, 1000, &req, &e, lay) == RDM_HTTP_OK) {
        *n = req.n;
        *batch = req.batch;
        rdm_api_request_release(&req);
    } else {
        CU_ASSERT_EQUAL(lay->len, 0); /* a refused body has none */
    }
}

static void same_fields(const rdm_predfields *a, const rdm_predkeyless *ka, const rdm_predfields *b,
                        const rdm_predkeyless *kb)
{
    CU_ASSERT_STRING_EQUAL(a->id, b->id);
    CU_ASSERT(same_text(a->patient, b->patient));
    CU_ASSERT(same_text(a->race, b->race));
    CU_ASSERT(same_text(a->gender, b->gender));
    CU_ASSERT(same_text(a->age, b->age));
    CU_ASSERT_EQUAL(a->keyless, b->keyless);
    if (a->keyless && b->keyless) {
        CU_ASSERT_EQUAL(a->nkeys, b->nkeys);
        CU_ASSERT_EQUAL_FATAL(a->vals_len, b->vals_len);
        CU_ASSERT_EQUAL_FATAL(a->keys_len, b->keys_len);
        CU_ASSERT(!memcmp(ka->vals.data + a->vals_off, kb->vals.data + b->vals_off, a->vals_len));
        CU_ASSERT(!memcmp(ka->keys.data + a->keys_off, kb->keys.data + b->keys_off, a->keys_len));
    }
}

/* Where the parser gives a layout of `body`, reading it gives what the scan
 * of the body gives: the same records, spans, fields and keyless forms,
 * byte for byte. `kl`, `sk`: the two sides' keyless buffers, kept across
 * calls as the writer keeps them (their templates carry over). Returns
 * 1 when there was a layout. */
static int layout_agrees(const char *body, rdm_predkeyless *kl, rdm_predkeyless *sk)
{
    size_t n = strlen(body), want;
    int batch;
    rdm_buf lay = RDM_BUF_INIT;
    layout_of(body, n, &lay, &want, &batch);
    if (!lay.len) {
        rdm_buf_release(&lay);
        return 0;
    }
    CU_ASSERT_FATAL(want >= 1 && want <= 16);
    size_t at[16], len[16], at2[16], len2[16];
    static rdm_predfields a[16], b[16];
    rdm_buf_reset(&kl->vals), rdm_buf_reset(&kl->keys);
    rdm_buf_reset(&sk->vals), rdm_buf_reset(&sk->keys);
    /* the layout says what kind of body it is: the other kind is declined,
     * leaving nothing in kl */
    CU_ASSERT(!rdm_predfields_layout(body, n, lay.data, lay.len, want, !batch, at, len, a, kl));
    CU_ASSERT_EQUAL(kl->vals.len, 0);
    CU_ASSERT_EQUAL(kl->keys.len, 0);
    int took = rdm_predfields_layout(body, n, lay.data, lay.len, want, batch, at, len, a, kl);
    int scanned = batch ? rdm_predfields_batch(body, n, want, at2, len2, b, sk)
                        : rdm_predfields_scan_keyless(body, n, b, sk);
    CU_ASSERT(took);
    CU_ASSERT_EQUAL(scanned, took);
    for (size_t k = 0; took && scanned && k < want; k++) {
        if (batch) {
            CU_ASSERT_EQUAL(at[k], at2[k]);
            CU_ASSERT_EQUAL(len[k], len2[k]);
        }
        same_fields(&a[k], kl, &b[k], sk);
    }
    /* a layout that is not whole, or not of this body, is declined */
    const size_t vals_len = kl->vals.len, keys_len = kl->keys.len;
    CU_ASSERT(!rdm_predfields_layout(body, n, lay.data, lay.len - 1, want, batch, at, len, a, kl));
    CU_ASSERT(!rdm_predfields_layout(body, n, lay.data, lay.len, want + 1, batch, at, len, a, kl));
    if (n > 2)
        CU_ASSERT(!rdm_predfields_layout(body + 1, n - 1, lay.data, lay.len, want, batch, at, len,
                                         a, kl));
    CU_ASSERT_EQUAL(kl->vals.len, vals_len); /* declined: nothing kept */
    CU_ASSERT_EQUAL(kl->keys.len, keys_len);
    rdm_buf_release(&lay);
    return 1;
}

static void test_layout_agrees(void)
{
    static const char *const fixed[] = {
        "{\"encounter_id\":\"1\",\"patient_nbr\":\"7\",\"race\":\"Caucasian\","
        "\"gender\":\"Female\",\"age\":\"[70-80)\",\"payer_code\":\"?\"}",
        " { \"race\" : null ,\n\"gender\":\"\", \"age\":\"?\",\"encounter_id\": 12 } ",
        "{\"patient_nbr\":88,\"num_lab_procedures\":41,\"race\":\"Other\"}",
        "{}",
        "{\"instances\":[{\"race\":\"AfricanAmerican\",\"age\":\"[10-20)\"}]}",
        "{ \"instances\" : [ {\"encounter_id\":\"5\"} ,\n {\"encounter_id\":6,\"race\":null},{} ] "
        "}",
        "{\"instances\":[{\"gender\":\"Male\",\"race\":\"Asian\"},"
        "{\"race\":\"Asian\",\"gender\":\"Male\"}]}",
    };
    rdm_predkeyless kl = RDM_PREDKEYLESS_INIT, sk = RDM_PREDKEYLESS_INIT;
    int with = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        with += layout_agrees(fixed[i], &kl, &sk);
    CU_ASSERT_EQUAL(with, (int)(sizeof fixed / sizeof *fixed));
    /* bodies the parser leaves to jansson have none */
    CU_ASSERT(!layout_agrees("{\"race\":\"O\\\"ther\"}", &kl, &sk));
    CU_ASSERT(!layout_agrees("{\"race\":\"Other\",\"explain\":true}", &kl, &sk));
    CU_ASSERT(!layout_agrees("{\"race\":7}", &kl, &sk));
    /* random single records and batches, with the keys in varied orders */
    unsigned seed = 777;
    char *body = malloc(16384);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    int laid = 0;
    for (int round = 0; round < 400; round++) {
        int as_batch = (int)(rnd(&seed) % 2);
        size_t nrec = as_batch ? 1 + rnd(&seed) % 8 : 1, k = 0;
        if (as_batch)
            k += (size_t)sprintf(body + k, "{%s\"instances\":[", rnd_spaces[rnd(&seed) % 4]);
        size_t order[10];
        for (size_t f = 0; f < 10; f++)
            order[f] = f;
        if (rnd(&seed) % 3 == 0) /* another order than the columns' */
            for (size_t f = 9; f > 0; f--) {
                size_t j = rnd(&seed) % (f + 1), t = order[f];
                order[f] = order[j], order[j] = t;
            }
        for (size_t r = 0; r < nrec; r++) {
            k += (size_t)sprintf(body + k, "%s%s{", r ? "," : "", rnd_spaces[rnd(&seed) % 4]);
            k = random_keys(body, k, &seed, order, rnd(&seed) % 11, 1);
            k += (size_t)sprintf(body + k, "}");
        }
        if (as_batch)
            k += (size_t)sprintf(body + k, "]}");
        body[k] = '\0';
        laid += layout_agrees(body, &kl, &sk);
    }
    CU_ASSERT(laid > 300); /* most are bodies the parser takes */
    free(body);
    rdm_predkeyless_release(&kl);
    rdm_predkeyless_release(&sk);
}

/* Any byte of a layout changed: read without a fault (the sanitizers'
 * runs check it), and a layout for another body's bytes is declined. */
static void test_layout_damaged(void)
{
    const char *body = "{\"instances\":[{\"encounter_id\":\"1\",\"race\":\"Caucasian\","
                       "\"age\":\"[70-80)\"},{\"patient_nbr\":5,\"gender\":null}]}";
    size_t n = strlen(body), want;
    int batch;
    rdm_buf lay = RDM_BUF_INIT;
    layout_of(body, n, &lay, &want, &batch);
    CU_ASSERT_FATAL(lay.len > 0 && want == 2 && batch == 1);
    char *copy = malloc(lay.len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    size_t at[2], len[2];
    static rdm_predfields f[2];
    rdm_predkeyless kl = RDM_PREDKEYLESS_INIT;
    int accepted = 0, declined = 0;
    for (size_t i = 0; i < lay.len; i++) {
        static const unsigned char flips[] = {0x01, 0x10, 0x80, 0xff};
        for (size_t j = 0; j < sizeof flips; j++) {
            memcpy(copy, lay.data, lay.len);
            copy[i] = (char)(copy[i] ^ flips[j]);
            if (rdm_predfields_layout(body, n, copy, lay.len, want, 1, at, len, f, &kl)) {
                accepted++;
                CU_ASSERT(at[0] < n && len[0] <= n - at[0]);
                CU_ASSERT(at[1] < n && len[1] <= n - at[1]);
            } else {
                declined++;
            }
        }
    }
    CU_ASSERT(declined > accepted); /* most damage is seen */
    /* the same layout over other bytes of the same length */
    char *other = strdup(body);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    char *q = strstr(other, "[70-80)");
    q[-1] = 'x'; /* a string no longer starts with a quote */
    CU_ASSERT(!rdm_predfields_layout(other, n, lay.data, lay.len, want, 1, at, len, f, &kl));
    free(other);
    free(copy);
    rdm_buf_release(&lay);
    rdm_predkeyless_release(&kl);
}

int test_predfields_register(void)
{
    CU_pSuite s = CU_add_suite("predfields", NULL, NULL);
    if (!s ||
        !CU_add_test(s, "logged fields taken as the parser gives them", test_taken_as_parsed) ||
        !CU_add_test(s, "anything unusual is left to the parser", test_declined) ||
        !CU_add_test(s, "the hostile corpus: read alike where both read it", test_hostile_corpus) ||
        !CU_add_test(s, "a batch's records and fields in one pass", test_batch_one_pass) ||
        !CU_add_test(s, "a record's keyless form as jansson reads it", test_keyless_form) ||
        !CU_add_test(s, "records matched against the last one's keys read as alone",
                     test_keys_template) ||
        !CU_add_test(s, "a response's predictions as its keys say", test_response_predictions) ||
        !CU_add_test(s, "random batches: the one pass agrees with the parser", test_batch_random) ||
        !CU_add_test(s, "the parser's layout read as the scan reads the body",
                     test_layout_agrees) ||
        !CU_add_test(s, "a damaged layout read safely, a foreign one declined",
                     test_layout_damaged))
        return -1;
    return 0;
}
