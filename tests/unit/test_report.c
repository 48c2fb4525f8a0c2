/* test_report.c - report pages from an in-memory site: escaping, numbers, write-if-changed,
 * checker. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "html.h"
#include "report.h"
#include "site.h"

int test_report_register(void);

#define EVIL  "<script>alert(1)</script>"
#define EVIL2 "\\\"><img src=x onerror=alert(1)>"

static const char SITE[] =
    "{\"model_name\": \"readmission\","
    " \"runs\": [{\"run_id\": 2, \"training_id\": 1, \"model_type\": \"gbt\", \"name\": \"gbt " EVIL
    "\","
    "   \"status\": \"finished\", \"selected\": true, \"threshold\": 0.15, \"duration_s\": 1.5,"
    "   \"rows_train\": 700, \"rows_valid\": 150, \"rows_test\": 150, \"batch_ids\": \"1-2\","
    "   \"artifact_sha256\": \"abc123\", \"params\": {\"lr\": \"0.1\", \"leaves\": \"31\"},"
    "   \"valid\": {\"roc_auc\": 0.67125, \"tp\": 10, \"fp\": 20, \"tn\": 110, \"fn\": 10},"
    "   \"test\": {\"roc_auc\": 0.68149, \"roc_auc_ci_low\": 0.66, \"roc_auc_ci_high\": 0.70,"
    "            \"tp\": 9, \"fp\": 21, \"tn\": 112, \"fn\": 8, \"accuracy\": 0.8}},"
    "  {\"run_id\": 1, \"training_id\": 1, \"model_type\": \"gbt\", \"name\": \"gbt b\","
    "   \"status\": \"failed\", \"error\": \"" EVIL2
    "\", \"params\": {\"lr\": \"0.1\", \"leaves\": \"15\"},"
    "   \"valid\": {}, \"test\": {}}],"
    " \"versions\": [{\"version\": 1, \"run_id\": 2, \"sha256\": \"abc123\", \"aliases\": "
    "[\"champion\"]}],"
    " \"history\": [{\"at\": \"2024-01-02T03:04:05+00:00\", \"alias\": \"champion\", "
    "\"from_version\": null,"
    "   \"to_version\": 1, \"action\": \"register\", \"reason\": \"gate " EVIL
    "\", \"actor\": \"me\","
    "   \"gate\": {\"new\": 0.67, \"min_metric\": 0.5}}],"
    " \"curves\": {\"2\": {\"test\": {\"roc\": [[0, 0], [0.5, 0.8], [1, 1]],"
    "                               \"pr\": [[0, 1], [1, 0.1]],"
    "                               \"calibration\": [{\"bin\": 0, \"lo\": 0, \"hi\": 0.1, \"n\": "
    "100,"
    "                                  \"mean_pred\": 0.05, \"frac_pos\": 0.07}]},"
    "                      \"train\": {\"importance\": [{\"feature\": \"" EVIL "\", \"gain\": 3},"
    "                                                 {\"feature\": \"number_inpatient\", "
    "\"gain\": 1}]}}},"
    " \"data\": {\"batches\": [{\"batch_id\": 1, \"source_path\": \"/x/s.csv\", \"rows_read\": "
    "10}],"
    "   \"raw_rejects\": [{\"reason\": \"bad " EVIL "\", \"count\": 1, \"examples\":"
    "      [{\"batch_id\": 1, \"line_no\": 5, \"hex\": \"3c623eff00\"}]}],"
    "   \"suspicious\": [{\"column\": \"medical_specialty\", \"value\": \"" EVIL2
    "\", \"count\": 1}],"
    "   \"profile\": {\"snapshot_id\": 1, \"profile\": {\"rows\": 10, \"class_balance\":"
    "      {\"negative\": 9, \"positive\": 1, \"positive_rate\": 0.1},"
    "      \"columns\": [{\"name\": \"medical_specialty\", \"kind\": \"categorical\", \"missing\": "
    "0,"
    "        \"top\": [{\"value\": \"" EVIL "\", \"count\": 4, \"target_rate\": 0.25}]},"
    "       {\"name\": \"time_in_hospital\", \"kind\": \"numeric\", \"histogram\":"
    "        {\"edges\": [1, 2, 3], \"counts\": [4, 6]}}]}}}}";

static rdm_report_site *site(void)
{
    json_error_t je;
    json_t *s = json_loads(SITE, 0, &je);
    if (!s) {
        fprintf(stderr, "fixture: line %d col %d: %s\n", je.line, je.column, je.text);
        return NULL;
    }
    rdm_err err = {0};
    rdm_report_site *rs = rdm_report_site_new(s, &err);
    if (!rs)
        fprintf(stderr, "fixture: %s\n", err.msg);
    return rs;
}

/* Parse HTML and return how many nodes match expr (-1 on parse failure). */
static int count(const rdm_buf *b, const char *expr)
{
    htmlDocPtr d = htmlReadMemory(b->data, (int)b->len, "p.html", "UTF-8",
                                  HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    if (!d)
        return -1;
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, c);
    int n = o && o->nodesetval ? o->nodesetval->nodeNr : 0;
    if (o && o->type == XPATH_NUMBER)
        n = (int)o->floatval;
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    xmlFreeDoc(d);
    return n;
}

static void no_markup(const rdm_buf *b)
{
    CU_ASSERT_PTR_NULL(strstr(b->data, "<img"));
    CU_ASSERT_PTR_NULL(strstr(b->data, "<script>alert"));
    CU_ASSERT_EQUAL(count(b, "//script"), 1); /* the sort script only */
    CU_ASSERT_EQUAL(count(b, "//img"), 0);
}

static void test_index(void)
{
    rdm_report_site *s = site();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_index(s, &b, &err), RDM_OK);
    CU_ASSERT_EQUAL(strncmp(b.data, "<!DOCTYPE html>", 15), 0);
    no_markup(&b);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "gate &lt;script&gt;alert(1)&lt;/script&gt;"));
    CU_ASSERT_EQUAL(count(&b, "//tr[@class='champion']"), 2);  /* versions and runs tables */
    CU_ASSERT_EQUAL(count(&b, "//a[@href='runs/2.html']"), 2); /* versions + runs */
    CU_ASSERT_EQUAL(count(&b, "//a[@href='runs/1.html']"), 1);
    /* key parameters: only leaves differs between the two gbt runs */
    CU_ASSERT_EQUAL(count(&b, "//td[.='leaves=31']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//td[.='0.6713']"), 2); /* 0.67125 rounds to 0.6713 */
    CU_ASSERT_EQUAL(count(&b, "//td[.='none']"), 1);   /* from_version null */
    /* the gate's numbers behind a toggle, formatted */
    CU_ASSERT_EQUAL(count(&b, "//details/table[@class='gate']//td[.='min_metric']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//details/table[@class='gate']//td[.='0.5000']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//td[.='me (host not recorded)']"), 1);
    /* run names, and the training links to its compare page */
    CU_ASSERT_EQUAL(count(&b, "//td[@class='run-name']"), 2);
    CU_ASSERT_EQUAL(count(&b, "//td[@class='run-name' and .='gbt b']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//a[@href='compare/1.html']"), 2);
    /* runs of any training can be ticked for compare.html#runs=... */
    CU_ASSERT_EQUAL(count(&b, "//input[@type='checkbox' and @class='pick']"), 2);
    CU_ASSERT_EQUAL(count(&b, "//input[@class='pick' and @value='1']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//a[@id='compare-picked']"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "input.pick:checked"));
    /* accuracy columns say their threshold */
    CU_ASSERT_EQUAL(count(&b, "//th[.='test accuracy at 0.5']"), 1);
    /* the champion over trainings */
    CU_ASSERT_EQUAL(count(&b, "//h2[@id='champion-trend']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//svg[.//text[.='Champion validation ROC AUC by training']]"), 1);
    rdm_buf_release(&b);
    rdm_report_site_free(s);
}

static void test_run_page(void)
{
    rdm_report_site *s = site();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    json_t *run = json_array_get(json_object_get(rdm_report_site_json(s), "runs"), 0);
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_run(s, run, &b, &err), RDM_OK);
    no_markup(&b);
    CU_ASSERT_EQUAL(count(&b, "//td[@id='m-test-roc_auc' and .='0.6815']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//td[@id='m-test-roc_auc_ci' and .='0.6600 to 0.7000']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//td[@id='cm-test-tp' and .='9']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//td[@id='cm-valid-tn' and .='110']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//svg"), 4);                   /* ROC, PR, calibration, importance */
    CU_ASSERT_EQUAL(count(&b, "//path[@class='series']"), 5); /* roc+diag, pr+no skill, calib */
    /* the importance table holds the escaped feature name and its share */
    CU_ASSERT_EQUAL(count(&b, "//td[.='" EVIL "']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//td[.='75.0']"), 1);
    /* model card limitation from the CI: width 0.04 */
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "interval is 0.0400 wide"));
    rdm_buf_reset(&b);
    run = json_array_get(json_object_get(rdm_report_site_json(s), "runs"), 1);
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_run(s, run, &b, &err), RDM_OK);
    no_markup(&b);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "\"&gt;&lt;img src=x onerror=alert(1)&gt;"));
    rdm_buf_release(&b);
    rdm_report_site_free(s);
}

static void test_compare_and_data(void)
{
    rdm_report_site *s = site();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    /* compare.html: the selected run of each training (here one) */
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_compare(s, &b, &err), RDM_OK);
    no_markup(&b);
    CU_ASSERT_EQUAL(count(&b, "(//table[@class='compare'])[1]/thead//a"), 1);
    CU_ASSERT_EQUAL(count(&b, "//a[@href='compare/1.html']"), 1);
    /* and every run, column by column, for the runs ticked on the index */
    CU_ASSERT_EQUAL(count(&b, "//div[@id='picked-table']//thead//th[@data-run]"), 2);
    CU_ASSERT_EQUAL(count(&b, "//div[@id='picked-table']//tr[th='name']/td[@data-run='1']"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "location.hash"));
    rdm_buf_reset(&b);
    /* compare/1.html: both runs of training 1 */
    json_t *runs = json_object_get(rdm_report_site_json(s), "runs");
    json_t *r1 = json_array_get(runs, 1), *r2 = json_array_get(runs, 0);
    json_object_set_new(json_object_get(r1, "valid"), "roc_auc", json_real(0.6));
    json_object_set_new(json_object_get(r1, "valid"), "log_loss", json_real(0.30));
    json_object_set_new(json_object_get(r2, "valid"), "log_loss", json_real(0.35));
    json_object_set_new(json_object_get(r2, "params"), "gbt_only", json_string("3"));
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_compare_training(s, 1, &b, &err), RDM_OK);
    no_markup(&b);
    CU_ASSERT_EQUAL(count(&b, "//table[@class='compare']/thead//a"), 2);
    CU_ASSERT_EQUAL(count(&b, "//a[@href='../runs/1.html']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//th[.='leaves']"), 1);   /* differs */
    CU_ASSERT_EQUAL(count(&b, "//th[.='lr']"), 0);       /* equal: hidden */
    CU_ASSERT_EQUAL(count(&b, "//th[.='gbt_only']"), 0); /* one run has it: no difference */
    /* the best of each metric: higher ROC AUC (run 2, first), lower log loss (run 1) */
    CU_ASSERT_EQUAL(count(&b, "//tr[th='validation ROC AUC']/td[1][@class='num best' and "
                              ".='0.6713']"),
                    1);
    CU_ASSERT_EQUAL(count(&b, "//tr[th='validation log loss']/td[2][@class='num best' and "
                              ".='0.3000']"),
                    1);
    CU_ASSERT_EQUAL(count(&b, "//td[@class='num best']"), 2);
    CU_ASSERT_EQUAL(count(&b, "//th[.='test F1 at the chosen threshold']"), 1);
    /* ROC and PR overlaid: run 2's curves and the no-skill lines */
    CU_ASSERT_EQUAL(count(&b, "//h2[@id='roc']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//h2[@id='pr']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//path[@class='series']"), 4);
    rdm_buf_reset(&b);
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_data(s, &b, &err), RDM_OK);
    no_markup(&b);
    CU_ASSERT_EQUAL(count(&b, "//div[.='1:5: <b>\\xff\\x00']"), 1);
    CU_ASSERT_EQUAL(count(&b, "//td[.='" EVIL "']"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CU_ASSERT_EQUAL(count(&b, "//g[@class='bars']/rect"), 2 + 1); /* histogram 2 bars, top 1 */
    rdm_buf_release(&b);
    /* an empty site still renders every page */
    rdm_report_site *e = rdm_report_site_new(json_object(), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(rdm_report_page_index(e, &b, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_report_page_compare(e, &b, &err), RDM_OK);
    CU_ASSERT_EQUAL(rdm_report_page_data(e, &b, &err), RDM_OK);
    rdm_buf_release(&b);
    rdm_report_site_free(e);
    rdm_report_site_free(s);
}

static void test_bytes_text(void)
{
    rdm_buf b = RDM_BUF_INIT;
    const unsigned char in[] = {'a', '<', 0xc3, 0x28, '\n', 0x7f, 'z'};
    CU_ASSERT_EQUAL(rdm_html_bytes_text(in, sizeof in, 100, &b), RDM_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "a<\\xc3(\\x0a\\x7fz");
    rdm_buf_reset(&b);
    CU_ASSERT_EQUAL(rdm_html_bytes_text(in, sizeof in, 2, &b), RDM_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "a<...");
    rdm_buf_release(&b);
}

static void expect_escape(const char *in, size_t n, const char *want)
{
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_html_escape(&b, in, n), RDM_OK);
    CU_ASSERT_STRING_EQUAL(b.data ? b.data : "", want);
    rdm_buf_release(&b);
}

static void test_escape(void)
{
    expect_escape("", 0, "");
    expect_escape("plain text 0.1234", 17, "plain text 0.1234");
    expect_escape("a&b<c>\"d'e", 10, "a&amp;b&lt;c&gt;&quot;d&#39;e");
    expect_escape(EVIL, strlen(EVIL), "&lt;script&gt;alert(1)&lt;/script&gt;");
    expect_escape(EVIL2, strlen(EVIL2), "\\&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect_escape("<!--x-->", 8, "&lt;!--x--&gt;");
    expect_escape("t\tn\nr\r\x01\x7f", 8, "t\tn\nr???");
    expect_escape("nul\0x", 5, "nul?x");
    expect_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    expect_escape("\xc3\x28", 2, "?(");                  /* truncated sequence */
    expect_escape("\xc0\xaf", 2, "??");                  /* overlong '/' */
    expect_escape("\xed\xa0\x80", 3, "???");             /* UTF-16 surrogate */
    expect_escape("\xf4\x90\x80\x80", 4, "????");        /* above U+10FFFF */
    expect_escape("\xc2\x85|\xc2\xa0", 5, "?|\xc2\xa0"); /* C1 control; NBSP kept */
    expect_escape("\xe2\x82", 2, "??");                  /* cut at the end */
    /* appends */
    rdm_buf b = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_buf_adds(&b, "x"), RDM_OK);
    CU_ASSERT_EQUAL(rdm_html_escape(&b, "<", 1), RDM_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "x&lt;");
    rdm_buf_release(&b);
}

static void test_parse_pairs(void)
{
    double *xy = NULL;
    int n = -1;
    const char *t = " [[0, 0], [0.5,1e-3] ,[1.00000000000000000000, -2.5E+1]] ";
    CU_ASSERT_EQUAL_FATAL(rdm_rpt_parse_pairs(t, strlen(t), &xy, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_DOUBLE_EQUAL(xy[0], 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(xy[1], 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(xy[2], 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(xy[3], 0, 0); /* y follows x */
    CU_ASSERT_DOUBLE_EQUAL(xy[4], 0.001, 0);
    CU_ASSERT_DOUBLE_EQUAL(xy[5], -25, 0);
    free(xy);
    CU_ASSERT_EQUAL(rdm_rpt_parse_pairs("[]", 2, &xy, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    free(xy);
    static const char *const BAD[] = {
        "",          "[",        "[[1,2]",  "[[1,2]] x", "[[1,null]]", "[[1,2,3]]", "[[0x10,2]]",
        "[[inf,1]]", "[[+1,2]]", "[[-,2]]", "[[1,2],]",  "{\"a\":1}",  "[[1 2]]",   NULL};
    for (int i = 0; BAD[i]; i++) {
        CU_ASSERT_EQUAL(rdm_rpt_parse_pairs(BAD[i], strlen(BAD[i]), &xy, &n), -1);
        CU_ASSERT_PTR_NULL(xy);
    }
    /* only the given length is read */
    CU_ASSERT_EQUAL(rdm_rpt_parse_pairs("[[1,2]]garbage", 7, &xy, &n), 0);
    CU_ASSERT_EQUAL(n, 1);
    free(xy);
}

/* The points tables are written directly: every point of every series, in
 * order, escaped, and a marker-like value in the data stays text. */
static void test_points_tables(void)
{
    rdm_report_site *s = site();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    json_t *run = json_array_get(json_object_get(rdm_report_site_json(s), "runs"), 0);
    json_object_set_new(run, "model_type", json_string("<!--rdm-slot-0--><b>x</b>"));
    rdm_buf b = RDM_BUF_INIT;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_run(s, run, &b, &err), RDM_OK);
    no_markup(&b);
    CU_ASSERT_PTR_NULL(strstr(b.data, "<!--rdm-slot"));
    CU_ASSERT_PTR_NULL(strstr(b.data, "<b>"));
    /* ROC: 3 test points + 2 no-skill; PR: 2 test points + 2 no-skill (rate 17/150) */
    CU_ASSERT_EQUAL(count(&b, "//table[@class='points']"), 2);
    CU_ASSERT_EQUAL(count(&b, "(//table[@class='points'])[1]/tbody/tr"), 5);
    CU_ASSERT_EQUAL(count(&b, "(//table[@class='points'])[2]/tbody/tr"), 4);
    CU_ASSERT_EQUAL(count(&b, "(//table[@class='points'])[1]/tbody/tr[2][td[1]='test' and "
                              "td[2]='0.5000' and td[3]='0.8000']"),
                    1);
    CU_ASSERT_EQUAL(count(&b, "(//table[@class='points'])[2]/tbody/tr[4][td[1]='no skill (test)' "
                              "and td[2]='1.0000' and td[3]='0.1133']"),
                    1);
    rdm_buf_release(&b);
    rdm_report_site_free(s);

    /* a point that is not a number is shown as n/a (and not drawn) */
    json_error_t je;
    json_t *j = json_loads("{\"runs\": [{\"run_id\": 7, \"name\": \"n\"}], \"curves\": {\"7\": "
                           "{\"valid\": {\"roc\": [[0, 0], [null, 0.5], [1, 1]]}}}}",
                           0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    s = rdm_report_site_new(j, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    run = json_array_get(json_object_get(rdm_report_site_json(s), "runs"), 0);
    CU_ASSERT_EQUAL_FATAL(rdm_report_page_run(s, run, &b, &err), RDM_OK);
    CU_ASSERT_EQUAL(count(&b, "//table[@class='points']/tbody/tr[2][td[2]='n/a' and "
                              "td[3]='0.5000']"),
                    1);
    rdm_buf_release(&b);
    rdm_report_site_free(s);
    /* not an object */
    CU_ASSERT_PTR_NULL(rdm_report_site_new(json_array(), &err));
    CU_ASSERT_EQUAL(err.code, RDM_EINVAL);
}

static void test_write_and_check(void)
{
    char dir[] = "/tmp/readmit-test-report.XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    rdm_report_site *s = site();
    rdm_report_stats st;
    rdm_err err = {0};
    CU_ASSERT_EQUAL_FATAL(rdm_report_write_site(s, dir, &st, &err), RDM_OK);
    CU_ASSERT_EQUAL(st.pages, 7); /* index, compare, data, monitor, 2 runs, compare/1 */
    CU_ASSERT_EQUAL(st.written, 7);
    CU_ASSERT_EQUAL(st.removed, 0);
    char fp[65];
    memcpy(fp, st.fingerprint, sizeof fp);
    CU_ASSERT_EQUAL(rdm_report_write_site(s, dir, &st, &err), RDM_OK);
    CU_ASSERT_EQUAL(st.written, 0);
    CU_ASSERT_STRING_EQUAL(st.fingerprint, fp);
    /* one run changes: only its page is rewritten */
    json_t *run = json_array_get(json_object_get(rdm_report_site_json(s), "runs"), 1);
    json_object_set_new(run, "name", json_string("renamed"));
    CU_ASSERT_EQUAL(rdm_report_write_site(s, dir, &st, &err), RDM_OK);
    CU_ASSERT_EQUAL(st.written, 4); /* runs/1, compare/1, index and compare.html (names) */
    CU_ASSERT_STRING_NOT_EQUAL(st.fingerprint, fp);

    /* a page whose inputs are unchanged is not built again while its file is
     * untouched (same size and modification time, as recorded in the
     * manifest); a touched file is rebuilt and restored */
    char page[512], mf[512];
    snprintf(page, sizeof page, "%s/runs/2.html", dir);
    snprintf(mf, sizeof mf, "%s/.report-manifest", dir);
    CU_ASSERT_EQUAL(access(mf, F_OK), 0);
    rdm_buf orig = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_read_file(page, &orig, &err), RDM_OK);
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(page, &sb), 0);
    rdm_buf tampered = RDM_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(rdm_buf_add(&tampered, orig.data, orig.len), RDM_OK);
    char *at = strstr(tampered.data, "Run 2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    at[0] = 'X';
    FILE *f = fopen(page, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(tampered.data, 1, tampered.len, f), tampered.len);
    CU_ASSERT_EQUAL(fclose(f), 0);
    struct timespec ts[2] = {sb.st_atim, sb.st_mtim};
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, page, ts, 0), 0);
    CU_ASSERT_EQUAL(rdm_report_write_site(s, dir, &st, &err), RDM_OK);
    CU_ASSERT_EQUAL(st.written, 0);
    rdm_buf now = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_read_file(page, &now, &err), RDM_OK);
    CU_ASSERT(now.len == tampered.len && !memcmp(now.data, tampered.data, now.len)); /* skipped */
    rdm_buf_reset(&now);
    struct timespec older[2] = {{1000000000, 0}, {1000000000, 0}};
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, page, older, 0), 0);
    CU_ASSERT_EQUAL(rdm_report_write_site(s, dir, &st, &err), RDM_OK);
    CU_ASSERT_EQUAL(st.written, 1);
    CU_ASSERT_EQUAL(rdm_read_file(page, &now, &err), RDM_OK);
    CU_ASSERT(now.len == orig.len && !memcmp(now.data, orig.data, now.len)); /* rebuilt */
    /* without the manifest every page is built and compared: nothing to write */
    CU_ASSERT_EQUAL(unlink(mf), 0);
    CU_ASSERT_EQUAL(rdm_report_write_site(s, dir, &st, &err), RDM_OK);
    CU_ASSERT_EQUAL(st.written, 0);
    CU_ASSERT_EQUAL(access(mf, F_OK), 0);
    rdm_buf_release(&now);
    rdm_buf_release(&tampered);
    rdm_buf_release(&orig);

    /* pages of runs and trainings the site does not have are removed; other
     * files are left alone */
    static const char *const ORPHANS[] = {"runs/99.html", "compare/77.html", "runs/notes.txt"};
    for (int i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, ORPHANS[i]);
        CU_ASSERT_EQUAL(rdm_report_write_if_changed(p, "x", 1, NULL, &err), RDM_OK);
    }
    CU_ASSERT_EQUAL(rdm_report_write_site(s, dir, &st, &err), RDM_OK);
    CU_ASSERT_EQUAL(st.removed, 2);
    CU_ASSERT_EQUAL(st.written, 0);
    for (int i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, ORPHANS[i]);
        CU_ASSERT_EQUAL(access(p, F_OK) == 0, i == 2);
    }

    const char *names[] = {"index.html",  "compare.html", "data.html",
                           "runs/1.html", "runs/2.html",  "compare/1.html"};
    for (int i = 0; i < 6; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        int problems = -1;
        rdm_buf msgs = RDM_BUF_INIT;
        CU_ASSERT_EQUAL(rdm_report_check_page(p, &problems, &msgs, &err), RDM_OK);
        CU_ASSERT_EQUAL(problems, 0);
        if (problems)
            fprintf(stderr, "%s", msgs.data);
        rdm_buf_release(&msgs);
    }
    /* the checker finds a broken link, an external URL and a parse error */
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.html", dir);
    const char *html = "<!DOCTYPE html><html><head><title>x</title></head><body>"
                       "<a href=\"runs/99.html\">x</a><a href=\"https://example.com/\">y</a>"
                       "<blink>z</blink></body></html>";
    CU_ASSERT_EQUAL(rdm_report_write_if_changed(bad, html, strlen(html), NULL, &err), RDM_OK);
    int problems = 0;
    rdm_buf msgs = RDM_BUF_INIT;
    CU_ASSERT_EQUAL(rdm_report_check_page(bad, &problems, &msgs, &err), RDM_OK);
    CU_ASSERT_EQUAL(problems, 3);
    CU_ASSERT_PTR_NOT_NULL(msgs.data ? strstr(msgs.data, "broken link runs/99.html") : NULL);
    CU_ASSERT_PTR_NOT_NULL(msgs.data ? strstr(msgs.data, "external URL") : NULL);
    CU_ASSERT_PTR_NOT_NULL(msgs.data ? strstr(msgs.data, "blink") : NULL);
    rdm_buf_release(&msgs);
    int written = -1;
    CU_ASSERT_EQUAL(rdm_report_write_if_changed(bad, html, strlen(html), &written, &err), RDM_OK);
    CU_ASSERT_EQUAL(written, 0);

    rdm_report_site_free(s);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void expect_sentence(const char *row, const char *want)
{
    json_error_t je;
    json_t *h = json_loads(row, 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char out[1024];
    rdm_rpt_history_sentence(h, out, sizeof out);
    if (strcmp(out, want))
        fprintf(stderr, "history sentence:\n  got  %s\n  want %s\n", out, want);
    CU_ASSERT_STRING_EQUAL(out, want);
    json_decref(h);
}

static void test_words(void)
{
    /* the gate's reason as a sentence, for every kind of alias change */
    expect_sentence(
        "{\"alias\": \"champion\", \"action\": \"register\", \"to_version\": 3,"
        " \"gate\": {\"metric\": \"roc_auc\", \"passed\": true, \"floor_ok\": true,"
        " \"new_score\": 0.6704, \"champion_version\": 2, \"champion_score\": 0.6674,"
        " \"gain\": 0.003, \"min_gain\": 0.001, \"min_metric\": 0.5}}",
        "v3 became champion: its validation ROC AUC of 0.6704 beats champion v2 "
        "(0.6674) by 0.0030, at least 0.0010 was needed, and meets the floor of 0.5000.");
    expect_sentence(
        "{\"alias\": \"champion\", \"action\": \"register\", \"to_version\": 1,"
        " \"gate\": {\"metric\": \"log_loss\", \"passed\": true, \"floor_ok\": true,"
        " \"new_score\": 0.31, \"champion_version\": null, \"min_gain\": 0.001,"
        " \"min_metric\": 0.5}}",
        "v1 became champion, the first one: its validation log loss of 0.3100 meets the "
        "floor of 0.5000.");
    expect_sentence("{\"alias\": \"challenger\", \"action\": \"register\", \"to_version\": 4,"
                    " \"gate\": {\"metric\": \"roc_auc\", \"passed\": false, \"floor_ok\": true,"
                    " \"new_score\": 0.665, \"champion_version\": 3, \"champion_score\": 0.6704,"
                    " \"gain\": -0.0054, \"min_gain\": 0.001, \"min_metric\": 0.5}}",
                    "v4 became challenger, not champion: its validation ROC AUC of 0.6650 against "
                    "champion v3 (0.6704) is a gain of -0.0054, short of the 0.0010 needed.");
    expect_sentence(
        "{\"alias\": \"challenger\", \"action\": \"register\", \"to_version\": 5,"
        " \"gate\": {\"metric\": \"roc_auc\", \"passed\": false, \"floor_ok\": false,"
        " \"new_score\": 0.45, \"min_metric\": 0.5}}",
        "v5 became challenger, not champion: its validation ROC AUC of 0.4500 misses the "
        "floor of 0.5000.");
    expect_sentence("{\"alias\": \"champion\", \"action\": \"rollback\", \"from_version\": 3,"
                    " \"to_version\": 2, \"reason\": \"manual rollback: drift in batch 7\","
                    " \"gate\": {\"action\": \"rollback\"}}",
                    "Rolled back by hand from v3 to v2: drift in batch 7");
    expect_sentence("{\"alias\": \"champion\", \"action\": \"promote\", \"to_version\": 2}",
                    "Promoted by hand from no version to v2.");
    expect_sentence("{\"alias\": \"challenger\", \"action\": \"promote\", \"to_version\": null,"
                    " \"reason\": \"x\"}",
                    "Promoted by hand from no version to v0: x");
    expect_sentence("{\"alias\": \"champion\", \"reason\": \"old text\", \"to_version\": 1}",
                    "old text");
    /* who */
    char out[256];
    rdm_rpt_actor_text("ana@ward7 (readmit promote)", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "ana on ward7, readmit promote");
    rdm_rpt_actor_text("ana (readmit register)", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "ana, readmit register (host not recorded)");
    rdm_rpt_actor_text(NULL, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "unknown");

    /* numbers for people */
    static const struct {
        const char *in, *want;
    } NUM[] = {{"0.050000000000000003", "0.05"},
               {"0.1", "0.1"},
               {"31", "31"},
               {"1e-05", "1e-05"},
               {"-2.50", "-2.5"},
               {"gbt", "gbt"},
               {"0.05x", "0.05x"},
               {"", ""},
               {"nan", "nan"},
               {"0.30000000000000004", "0.3"},
               {"123456789", "123456789"}};

    for (size_t i = 0; i < sizeof NUM / sizeof NUM[0]; i++) {
        char buf[64];
        const char *got = rdm_html_fmt_value(NUM[i].in, buf, sizeof buf);
        if (strcmp(got, NUM[i].want))
            fprintf(stderr, "fmt_value(%s) = %s, want %s\n", NUM[i].in, got, NUM[i].want);
        CU_ASSERT_STRING_EQUAL(got, NUM[i].want);
    }
}

int test_report_register(void)
{
    CU_pSuite s = CU_add_suite("report", NULL, NULL);
    if (!s || !CU_add_test(s, "index page", test_index) ||
        !CU_add_test(s, "run page numbers and escaping", test_run_page) ||
        !CU_add_test(s, "compare and data pages", test_compare_and_data) ||
        !CU_add_test(s, "bytes shown safely", test_bytes_text) ||
        !CU_add_test(s, "escaping helper", test_escape) ||
        !CU_add_test(s, "curve text decoded", test_parse_pairs) ||
        !CU_add_test(s, "points tables written directly", test_points_tables) ||
        !CU_add_test(s, "write only changed pages; checker", test_write_and_check) ||
        !CU_add_test(s, "alias history in words, numbers for people", test_words))
        return -1;
    return 0;
}
