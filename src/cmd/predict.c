/* predict.c - readmit predict: score a CSV of raw records with a model file or
 * a registry reference, through rdm_model_score. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "csv.h"
#include "explain.h"
#include "model.h"
#include "registry.h"
#include "schema.h"

static const char HELP[] =
    "usage: readmit predict --model MODEL --input CSV [--output FILE] "
    "[options]\n"
    "\n"
    "Score every record of CSV (the source format: a header with the column\n"
    "names, '?' for missing; the readmitted column, if present, is ignored) "
    "and\n"
    "write CSV with a header: encounter_id,probability,decision, one line per\n"
    "input record, in input order. probability has six decimals, as in the\n"
    "HTTP API's answers; decision is 1 when probability >= the model's\n"
    "threshold. Unknown columns are ignored; a header that lacks a\n"
    "column the model reads is an error (with --allow-missing, such columns\n"
    "count as missing in every record). A malformed record stops the run\n"
    "before anything is written.\n"
    "\n"
    "  --model MODEL       a model file, or a registry reference: champion,\n"
    "                      challenger, NAME:VERSION, NAME@ALIAS, VERSION\n"
    "  --input CSV         records to score ('-' = stdin)\n"
    "  --output FILE       where to write (default stdout)\n"
    "  --allow-missing     score even when the header lacks columns the model "
    "reads\n"
    "  --explain           add base_value (log-odds) and top_contributions: the\n"
    "                      five input fields that moved this record's log-odds\n"
    "                      most, as \"field=value:+0.1234; ...\" (exact\n"
    "                      contributions, the same as POST /api/v1/predict with\n"
    "                      \"explain\": true)\n" CMD_READ_HELP;

static long read_file(void *ud, char *buf, size_t n, rdm_err *err)
{
    FILE *f = ud;
    size_t got = fread(buf, 1, n, f);
    if (got == 0 && ferror(f))
        return rdm_errf(err, RDM_EIO, "read: %s", strerror(errno));
    return (long)got;
}

/* Fail naming the columns the model reads that the header `map` (schema
 * index per CSV column) lacks: a CSV from the wrong source would otherwise
 * be scored as if those values were all missing. */
static int check_columns(const rdm_model *m, const int *map, int nh, const char *label,
                         rdm_err *err)
{
    rdm_buf miss = RDM_BUF_INIT;
    int n = 0, rc = RDM_OK;
    for (int k = 0; k < rdm_model_input_count(m) && !rc; k++) {
        const rdm_input_field *f = rdm_model_input(m, k);
        int found = 0;
        for (int i = 0; i < nh && !found; i++)
            found = map[i] == f->col;
        if (!found && n++ < 10)
            rc = rdm_buf_printf(&miss, "%s%s", miss.len ? ", " : "", f->name);
    }
    if (rc)
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    else if (n)
        rc = rdm_errf(err, RDM_ESCHEMA,
                      "%s: header lacks %d column%s the model reads: %s%s (add them "
                      "with '?' values, or pass --allow-missing to score them as "
                      "missing)",
                      label, n, n == 1 ? "" : "s", miss.data, n > 10 ? ", ..." : "");
    rdm_buf_release(&miss);
    return rc;
}

#define TOP_CONTRIBUTIONS 5

/* ,base_value,"field=value:+0.123; ..." (the largest contributions first) */
static int add_explanation(rdm_buf *out, const char *const values[RDM_NCOLS],
                           const rdm_explanation *ex)
{
    int rc = rdm_buf_printf(out, ",%.17g,\"", ex->base_value);
    for (int k = 0; !rc && k < ex->n && k < TOP_CONTRIBUTIONS; k++) {
        const char *v = values[ex->c[k].col];
        if (!v || !v[0])
            v = "?";
        rc = rdm_buf_printf(out, "%s%s=", k ? "; " : "", ex->c[k].field);
        for (const char *p = v; !rc && *p; p++) /* CSV quoting: double the quotes */
            rc = *p == '"' ? rdm_buf_adds(out, "\"\"") : rdm_buf_addc(out, *p);
        if (!rc)
            rc = rdm_buf_printf(out, ":%+.4f", ex->c[k].contribution);
    }
    return rc ? rc : rdm_buf_addc(out, '"');
}

static int score_csv(const rdm_model *m, const rdm_explainer *x, FILE *in, const char *label,
                     int allow_missing, rdm_buf *out, long *rows, rdm_err *err)
{
    rdm_csv *csv = rdm_csv_create(read_file, in, 1 << 20, label, err);
    if (!csv)
        return RDM_ENOMEM;
    int rc = rdm_csv_read_header(csv, err);
    int map[4096];
    const char *const *names = NULL;
    int nh = rc ? 0 : rdm_csv_header(csv, &names);
    if (nh > 4096) {
        rc = rdm_errf(err, RDM_ESCHEMA, "%s: too many columns (%d)", label, nh);
        nh = 0;
    }
    int id_col = -1;
    for (int i = 0; i < nh; i++) {
        map[i] = rdm_schema_find(names[i]);
        if (map[i] == RDM_C_ENCOUNTER_ID)
            id_col = i;
    }
    if (!rc && !allow_missing)
        rc = check_columns(m, map, nh, label, err);
    double thr = rdm_model_threshold(m);
    if (!rc)
        rc =
            rdm_buf_adds(out, x ? "encounter_id,probability,decision,base_value,top_contributions\n"
                                : "encounter_id,probability,decision\n");
    rdm_csv_record rec;
    while (!rc) {
        int r = rdm_csv_next(csv, &rec, err);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == 0)
            break;
        if (rec.problem) {
            rc = rdm_errf(err, RDM_EPARSE, "%s: %s (nothing written)", label, rec.reason);
            break;
        }
        const char *values[RDM_NCOLS] = {0};
        for (int i = 0; i < rec.nfields && i < nh; i++)
            if (map[i] >= 0)
                values[map[i]] = rec.fields[i];
        double p = 0;
        rdm_explanation ex;
        rc = x ? rdm_explain(x, values, &ex, NULL, err) : rdm_model_score(m, values, &p, NULL, err);
        if (x)
            p = ex.prob;
        if (rc) {
            rdm_err_prefix(err, "%s:%ld", label, rec.line);
            break;
        }
        (*rows)++;
        const char *id = id_col >= 0 && id_col < rec.nfields ? rec.fields[id_col] : "";
        if (id_col < 0 || strpbrk(id, ",\"\r\n"))
            rc = rdm_buf_printf(out, "%ld,%.6f,%d", *rows, p, p >= thr);
        else
            rc = rdm_buf_printf(out, "%s,%.6f,%d", id, p, p >= thr);
        if (!rc && x)
            rc = add_explanation(out, values, &ex);
        if (!rc)
            rc = rdm_buf_addc(out, '\n');
    }
    rdm_csv_free(csv);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *model = NULL, *input = NULL, *output = NULL;
    int allow_missing = 0, explain = 0;
    rdm_explainer *x = NULL;
    const cmd_opt opts[] = {
        {"--model", &model, NULL},     {"--input", &input, NULL},
        {"--output", &output, NULL},   {"--allow-missing", NULL, &allow_missing},
        {"--explain", NULL, &explain}, {0}};
    int rc = cmd_parse(&ctx, "predict", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    if (!model || !input) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("predict", "--model and --input are required");
    }
    rc = cmd_load_config(&ctx);
    if (rc != EXIT_OK) {
        cmd_ctx_release(&ctx);
        return rc;
    }
    rdm_err err = {0};
    rdm_db *db = NULL;
    rdm_buf bytes = RDM_BUF_INIT, out = RDM_BUF_INIT;
    rdm_model *m = NULL;
    FILE *in = NULL;
    rdm_model_info info;
    if (!rdm_registry_ref_is_file(model) && !(db = cmd_connect(&ctx))) {
        rc = EXIT_FAIL;
        goto done;
    }
    if (rdm_registry_fetch(db, &ctx.cfg, model, &bytes, &info, &err) ||
        !(m = rdm_model_load_bytes(bytes.data, bytes.len, &err))) {
        rdm_err_prefix(&err, "model %s", model);
        rc = cmd_fail("predict", &err);
        goto done;
    }
    in = strcmp(input, "-") ? fopen(input, "rb") : stdin;
    if (!in) {
        rdm_errf(&err, RDM_EIO, "%s: %s", input, strerror(errno));
        rc = cmd_fail("predict", &err);
        goto done;
    }
    long rows = 0;
    if (explain && !(x = rdm_explainer_create(m, &err))) {
        rc = cmd_fail("predict", &err);
        goto done;
    }
    if (score_csv(m, x, in, strcmp(input, "-") ? input : "stdin", allow_missing, &out, &rows,
                  &err)) {
        rc = cmd_fail("predict", &err);
        goto done;
    }
    if (output) {
        if (rdm_write_file_atomic(output, out.data, out.len, &err)) {
            rc = cmd_fail("predict", &err);
            goto done;
        }
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)) {
        fprintf(stderr, "readmit predict: writing stdout: %s\n", strerror(errno));
        rc = EXIT_FAIL;
        goto done;
    }
    if (!ctx.quiet) {
        if (info.version)
            fprintf(stderr,
                    "predict: %ld records scored with %s version %d%s%s (%s, sha256 "
                    "%.12s)\n",
                    rows, info.name, info.version, info.alias[0] ? " = " : "", info.alias,
                    rdm_model_type_name(m), info.sha256);
        else
            fprintf(stderr, "predict: %ld records scored with %s (%s, sha256 %.12s)\n", rows, model,
                    rdm_model_type_name(m), info.sha256);
    }
    rc = EXIT_OK;
done:
    rdm_explainer_free(x);
    if (in && in != stdin)
        fclose(in);
    rdm_model_free(m);
    rdm_buf_release(&bytes);
    rdm_buf_release(&out);
    rdm_db_close(db);
    cmd_ctx_release(&ctx);
    return rc;
}
