/* status.c - pipeline status document (batches, row counts, clean snapshot). */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* Column `col` of a result row as JSON: type 'i' integer, 's' string, 'b'
 * boolean; SQL NULL -> null. Returns a new reference (NULL on ENOMEM). */
static json_t *cell(rdm_res *r, int row, const char *col, char type)
{
    if (rdm_res_isnull(r, row, col))
        return json_null();
    switch (type) {
    case 'i':
        return json_integer((json_int_t)rdm_res_ll(r, row, col));
    case 'b':
        return json_boolean(rdm_res_bool(r, row, col));
    default:
        return json_string(rdm_res_text(r, row, col));
    }
}

/* Set o[k] = v (stealing v); remember a failure in *bad. */
static void put(json_t *o, const char *k, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, k, v))
        *bad = 1;
}

/* Object from one result row: keys[i] (a column of the result) with types[i]. */
static json_t *row_object(rdm_res *r, int row, const char *const *keys, const char *types, int *bad)
{
    json_t *o = json_object();
    if (!o) {
        *bad = 1;
        return NULL;
    }
    for (int i = 0; keys[i]; i++)
        put(o, keys[i], cell(r, row, keys[i], types[i]), bad);
    return o;
}

static long long geti(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* ---- section "batches" + "rows" ---- */

static int build_batches(rdm_db *db, const rdm_config *cfg, json_t *root, rdm_err *err)
{
    (void)cfg;
    static const char *const KEYS[] = {
        "batch_id",      "batch_no",      "source",         "source_sha256",       "rows_read",
        "rows_accepted", "rows_rejected", "finished_at",    "snapshot_id",         "rows_in",
        "rows_clean",    "rows_filtered", "rows_duplicate", "rows_clean_rejected", NULL};
    static const char TYPES[] = "iissiiisiiiiii";
    rdm_res *r = rdm_db_query(db, RDM_SQL_STATUS_SELECT_BATCHES, 0, NULL, err);
    if (!r)
        return RDM_EDB;
    int bad = 0;
    json_t *arr = json_array();
    long long t[10] = {0};
    for (int i = 0; arr && i < rdm_res_rows(r); i++) {
        json_t *o = row_object(r, i, KEYS, TYPES, &bad);
        if (!o)
            break;
        int cleaned = !rdm_res_isnull(r, i, "snapshot_id");
        put(o, "cleaned", json_boolean(cleaned), &bad);
        t[0]++;
        t[1] += geti(o, "rows_read");
        t[2] += geti(o, "rows_accepted");
        t[3] += geti(o, "rows_rejected");
        if (cleaned) {
            t[4]++;
            t[5] += geti(o, "rows_clean");
            t[6] += geti(o, "rows_clean_rejected");
            t[7] += geti(o, "rows_filtered");
            t[8] += geti(o, "rows_duplicate");
        }
        if (json_array_append_new(arr, o))
            bad = 1;
    }
    int rc = rdm_res_check(r, err);
    rdm_res_free(r);
    put(root, "batches", arr, &bad);
    if (rc)
        return rc;
    json_t *rows = json_object();
    if (rows) {
        put(rows, "raw_batches", json_integer(t[0]), &bad);
        put(rows, "raw_read", json_integer(t[1]), &bad);
        put(rows, "raw_accepted", json_integer(t[2]), &bad);
        put(rows, "raw_rejected", json_integer(t[3]), &bad);
        put(rows, "clean_batches", json_integer(t[4]), &bad);
        put(rows, "pending_batches", json_integer(t[0] - t[4]), &bad);
        put(rows, "clean", json_integer(t[5]), &bad);
        put(rows, "clean_rejected", json_integer(t[6]), &bad);
        put(rows, "filtered", json_integer(t[7]), &bad);
        put(rows, "duplicates", json_integer(t[8]), &bad);
    }
    put(root, "rows", rows, &bad);
    return bad ? rdm_errf(err, RDM_ENOMEM, "status: out of memory") : RDM_OK;
}

static int text_batches(const json_t *root, rdm_buf *out)
{
    static const char *const KEYS[] = {"batch_id",      "batch_no",       "rows_read",
                                       "rows_accepted", "rows_rejected",  "rows_clean",
                                       "rows_filtered", "rows_duplicate", "rows_clean_rejected",
                                       "snapshot_id",   "finished_at",    NULL};
    static const char *const HEAD[] = {"batch",     "no",       "read",         "accepted",
                                       "rejected",  "clean",    "filtered",     "dup",
                                       "clean-rej", "snapshot", "loaded (UTC)", NULL};
    const json_t *b = json_object_get(root, "batches");
    const json_t *rows = json_object_get(root, "rows");
    int rc = rdm_buf_adds(out, "Batches\n");
    if (!rc && json_array_size(b) == 0)
        rc = rdm_buf_adds(out, "  (none: run readmit ingest)\n");
    else if (!rc)
        rc = rdm_status_table(out, b, KEYS, HEAD);
    if (!rc && rows)
        rc = rdm_buf_printf(out,
                            "\nRows\n"
                            "  raw:   %lld batches, %lld read = %lld accepted + %lld rejected\n"
                            "  clean: %lld batches cleaned, %lld pending; %lld clean rows, %lld "
                            "filtered, %lld duplicates, %lld rejected by validation\n",
                            geti(rows, "raw_batches"), geti(rows, "raw_read"),
                            geti(rows, "raw_accepted"), geti(rows, "raw_rejected"),
                            geti(rows, "clean_batches"), geti(rows, "pending_batches"),
                            geti(rows, "clean"), geti(rows, "filtered"), geti(rows, "duplicates"),
                            geti(rows, "clean_rejected"));
    return rc;
}

/* ---- section "snapshot" + "last_failure" ---- */

static json_t *snapshot(rdm_db *db, const char *status, int *bad, rdm_err *err)
{
    static const char *const KEYS[] = {"snapshot_id", "created_at", "fingerprint", "rows",
                                       "positives",   "status",     "message",     NULL};
    static const char TYPES[] = "issiiss";
    const char *p[] = {status};
    rdm_res *r = rdm_db_query(db, RDM_SQL_STATUS_SELECT_SNAPSHOT, 1, p, err);
    if (!r) {
        *bad = -1;
        return NULL;
    }
    if (rdm_res_rows(r) == 0) {
        rdm_res_free(r);
        return json_null();
    }
    json_t *o = row_object(r, 0, KEYS, TYPES, bad);
    if (o) {
        long long rows = geti(o, "rows"), pos = geti(o, "positives");
        put(o, "positive_rate", json_real(rows ? (double)pos / (double)rows : 0.0), bad);
        json_t *ids = json_array();
        const char *bids = rdm_res_text(r, 0, "batch_ids");
        char *list = strdup(bids ? bids : "");
        if (ids && list) {
            for (char *s = strtok(list, ","); s; s = strtok(NULL, ","))
                if (json_array_append_new(ids, json_integer(strtoll(s, NULL, 10))))
                    *bad = 1;
        }
        free(list);
        put(o, "batch_ids", ids, bad);
        if (strcmp(status, "ok") == 0)
            json_object_del(o, "message");
    }
    if (rdm_res_check(r, err)) {
        *bad = -1;
        json_decref(o);
        o = NULL;
    }
    rdm_res_free(r);
    if (!o)
        return NULL;
    static const char *const VKEYS[] = {"batch_id", "rule",   "severity", "violations",
                                        "checked",  "passed", NULL};
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", geti(o, "snapshot_id"));
    const char *vp[] = {sid};
    r = rdm_db_query(db, RDM_SQL_STATUS_SELECT_VALIDATION, 1, vp, err);
    if (!r) {
        *bad = -1;
        json_decref(o);
        return NULL;
    }
    json_t *rules = json_array(), *v = json_object();
    long failed = 0;
    for (int i = 0; rules && i < rdm_res_rows(r); i++) {
        json_t *x = row_object(r, i, VKEYS, "issiib", bad);
        if (x && !json_is_true(json_object_get(x, "passed")))
            failed++;
        if (!x || json_array_append_new(rules, x))
            *bad = 1;
    }
    if (v) {
        put(v, "checks", json_integer(rdm_res_rows(r)), bad);
        put(v, "failed", json_integer(failed), bad);
        put(v, "rules", rules, bad);
    } else {
        json_decref(rules);
    }
    if (rdm_res_check(r, err))
        *bad = -1;
    rdm_res_free(r);
    put(o, "validation", v, bad);
    if (*bad < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int build_snapshot(rdm_db *db, const rdm_config *cfg, json_t *root, rdm_err *err)
{
    (void)cfg;
    int bad = 0;
    json_t *ok = snapshot(db, "ok", &bad, err);
    if (bad < 0)
        return RDM_EDB;
    json_t *failed = snapshot(db, "failed", &bad, err);
    if (bad < 0) {
        json_decref(ok);
        return RDM_EDB;
    }
    if (json_is_object(failed) && json_is_object(ok) &&
        geti(failed, "snapshot_id") < geti(ok, "snapshot_id")) {
        json_decref(failed);
        failed = json_null();
    }
    put(root, "snapshot", ok, &bad);
    put(root, "last_failure", failed, &bad);
    return bad ? rdm_errf(err, RDM_ENOMEM, "status: out of memory") : RDM_OK;
}

static int text_validation(const json_t *s, rdm_buf *out)
{
    static const char *const KEYS[] = {"batch_id", "rule",   "severity", "violations",
                                       "checked",  "passed", NULL};
    static const char *const HEAD[] = {"batch",   "rule",   "severity", "violations",
                                       "checked", "passed", NULL};
    const json_t *v = json_object_get(s, "validation");
    const json_t *rules = json_object_get(v, "rules");
    json_t *shown = json_array();
    if (!shown)
        return RDM_ENOMEM;
    size_t i;
    json_t *x;
    json_array_foreach(rules, i, x)
    {
        if (!json_is_true(json_object_get(x, "passed")) || geti(x, "violations") > 0)
            json_array_append(shown, x);
    }
    int rc = rdm_buf_printf(out, "  validation: %lld checks, %lld not passed%s\n",
                            geti(v, "checks"), geti(v, "failed"),
                            json_array_size(shown) ? "; checks with violations:" : "");
    if (!rc && json_array_size(shown))
        rc = rdm_status_table(out, shown, KEYS, HEAD);
    json_decref(shown);
    return rc;
}

static int text_snapshot(const json_t *root, rdm_buf *out)
{
    const json_t *s = json_object_get(root, "snapshot");
    int rc = rdm_buf_adds(out, "\nClean snapshot\n");
    if (!rc && !json_is_object(s))
        rc = rdm_buf_adds(out, "  (none: run readmit clean)\n");
    else if (!rc) {
        rc = rdm_buf_printf(
            out, "  snapshot %lld at %s: %lld rows, %lld positive (%.2f%%), fingerprint %.16s\n",
            geti(s, "snapshot_id"), json_string_value(json_object_get(s, "created_at")),
            geti(s, "rows"), geti(s, "positives"),
            100.0 * json_real_value(json_object_get(s, "positive_rate")),
            json_string_value(json_object_get(s, "fingerprint")));
        rc = rc ? rc : text_validation(s, out);
    }
    const json_t *f = json_object_get(root, "last_failure");
    if (!rc && json_is_object(f)) {
        rc = rdm_buf_printf(out, "\nLast clean run FAILED (run %lld at %s): %s\n",
                            geti(f, "snapshot_id"),
                            json_string_value(json_object_get(f, "created_at")),
                            json_string_value(json_object_get(f, "message")));
        rc = rc ? rc : text_validation(f, out);
    }
    return rc;
}

/* ---- sections ---- */

typedef struct section {
    const char *name;
    int (*build)(rdm_db *db, const rdm_config *cfg, json_t *root, rdm_err *err);
    int (*text)(const json_t *root, rdm_buf *out);
} section;

/* Runs of the latest training and the registered versions with their aliases. */
static int build_registry(rdm_db *db, const rdm_config *cfg, json_t *root, rdm_err *err)
{
    return rdm_registry_status_json(db, cfg, root, err);
}

static int text_registry(const json_t *root, rdm_buf *out)
{
    const json_t *r = json_object_get(root, "registry");
    if (!json_is_object(r))
        return RDM_OK;
    char champ[32], chall[32];
    const json_t *c = json_object_get(r, "champion"), *h = json_object_get(r, "challenger");
    snprintf(champ, sizeof champ, json_is_integer(c) ? "v%lld" : "none",
             (long long)json_integer_value(c));
    snprintf(chall, sizeof chall, json_is_integer(h) ? "v%lld" : "none",
             (long long)json_integer_value(h));
    int rc = rdm_buf_printf(out, "\nModel %s: %lld versions, champion %s, challenger %s\n",
                            json_string_value(json_object_get(r, "model_name")),
                            geti(r, "versions"), champ, chall);
    const json_t *t = json_object_get(r, "latest_training");
    if (!rc && json_is_object(t))
        rc = rdm_buf_printf(
            out, "Latest training %lld: %lld runs, %lld finished, %lld failed, selected run %lld\n",
            geti(t, "training_id"), geti(t, "runs"), geti(t, "finished"), geti(t, "failed"),
            geti(t, "selected_run_id"));
    const json_t *runs = json_object_get(r, "runs");
    if (!rc && json_array_size(runs))
        rc = rdm_buf_printf(out, "  %6s  %-8s  %-34s  %-8s  %8s  %8s  %s\n", "run", "type", "name",
                            "status", "valid", "test", "");
    size_t i;
    const json_t *x;
    json_array_foreach(runs, i, x)
    {
        if (rc)
            break;
        char v[32] = "-", te[32] = "-", ver[32] = "";
        const json_t *jv = json_object_get(x, "valid"), *jt = json_object_get(x, "test");
        if (json_is_number(jv))
            snprintf(v, sizeof v, "%.4f", json_number_value(jv));
        if (json_is_number(jt))
            snprintf(te, sizeof te, "%.4f", json_number_value(jt));
        if (json_is_integer(json_object_get(x, "version")))
            snprintf(ver, sizeof ver, "v%lld", geti(x, "version"));
        rc = rdm_buf_printf(out, "  %6lld  %-8s  %-34.34s  %-8s  %8s  %8s  %s%s\n",
                            geti(x, "run_id"), json_string_value(json_object_get(x, "model_type")),
                            json_string_value(json_object_get(x, "name")),
                            json_string_value(json_object_get(x, "status")), v, te,
                            json_is_true(json_object_get(x, "selected")) ? "selected " : "", ver);
    }
    return rc;
}

static const section SECTIONS[] = {
    {"batches", build_batches, text_batches},
    {"snapshot", build_snapshot, text_snapshot},
    {"registry", build_registry, text_registry},
};
#define NSECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])

json_t *rdm_status_build(rdm_db *db, const rdm_config *cfg, rdm_err *err)
{
    json_t *root = json_object();
    if (!root) {
        rdm_errf(err, RDM_ENOMEM, "status: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < NSECTIONS; i++) {
        if (SECTIONS[i].build(db, cfg, root, err)) {
            rdm_err_prefix(err, "status %s", SECTIONS[i].name);
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

int rdm_status_text(const json_t *status, rdm_buf *out)
{
    for (size_t i = 0; i < NSECTIONS; i++) {
        int rc = SECTIONS[i].text(status, out);
        if (rc)
            return rc;
    }
    return RDM_OK;
}

/* ---- text tables ---- */

static int fmt_value(const json_t *v, char *buf, size_t n)
{
    if (!v || json_is_null(v))
        snprintf(buf, n, "-");
    else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.4g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, n, "%s", json_is_true(v) ? "yes" : "no");
    else if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else
        snprintf(buf, n, "?");
    return json_is_number(v);
}

int rdm_status_table(rdm_buf *out, const json_t *rows, const char *const *keys,
                     const char *const *headers)
{
    enum { MAXC = 24 };

    size_t w[MAXC] = {0};
    int right[MAXC] = {0};
    int nc = 0;
    while (nc < MAXC && keys[nc])
        nc++;
    for (int c = 0; c < nc; c++)
        w[c] = strlen(headers[c]);
    char buf[256];
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (int c = 0; c < nc; c++) {
            if (fmt_value(json_object_get(row, keys[c]), buf, sizeof buf))
                right[c] = 1;
            size_t l = strlen(buf);
            if (l > w[c])
                w[c] = l;
        }
    }
    int rc = rdm_buf_adds(out, " ");
    for (int c = 0; c < nc && !rc; c++)
        rc = rdm_buf_printf(out, right[c] ? " %*s" : " %-*s", (int)w[c], headers[c]);
    while (!rc && out->len && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
    rc = rc ? rc : rdm_buf_adds(out, "\n ");
    for (int c = 0; c < nc && !rc; c++) {
        rc = rdm_buf_addc(out, ' ');
        for (size_t k = 0; k < w[c] && !rc; k++)
            rc = rdm_buf_addc(out, '-');
    }
    rc = rc ? rc : rdm_buf_addc(out, '\n');
    json_array_foreach(rows, i, row)
    {
        if (rc)
            break;
        rc = rdm_buf_adds(out, " ");
        for (int c = 0; c < nc && !rc; c++) {
            fmt_value(json_object_get(row, keys[c]), buf, sizeof buf);
            rc = rdm_buf_printf(out, right[c] ? " %*s" : " %-*s", (int)w[c], buf);
        }
        while (!rc && out->len && out->data[out->len - 1] == ' ')
            out->data[--out->len] = '\0';
        rc = rc ? rc : rdm_buf_addc(out, '\n');
    }
    return rc;
}
