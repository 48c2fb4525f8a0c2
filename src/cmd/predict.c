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
#include "pool.h"
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
    "                      most, as \"field=value:+0.1234; ...\", a code\n"
    "                      followed by its meaning when the model has one,\n"
    "                      \"admission_type_id=1 (Emergency):+0.0123\" (exact\n"
    "                      contributions, the same as POST /api/v1/predict with\n"
    "                      \"explain\": true)\n"
    "  --threads N         scoring threads (default 0: every core); the output\n"
    "                      is the same for any number\n" CMD_READ_HELP;

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

/* Text inside a quoted CSV field: quotes doubled. */
static int add_quoted(rdm_buf *out, const char *s)
{
    int rc = RDM_OK;
    for (const char *p = s; !rc && *p; p++)
        rc = *p == '"' ? rdm_buf_adds(out, "\"\"") : rdm_buf_addc(out, *p);
    return rc;
}

/* ,base_value,"field=value:+0.123; ..." (the largest contributions first);
 * a code with a meaning in the model's input schema (IDs_mapping.csv) is
 * followed by it: "admission_type_id=1 (Emergency):+0.0123" */
static int add_explanation(rdm_buf *out, const rdm_model *m, const char *const values[RDM_NCOLS],
                           const rdm_explanation *ex)
{
    int rc = rdm_buf_printf(out, ",%.17g,\"", ex->base_value);
    for (int k = 0; !rc && k < ex->n && k < TOP_CONTRIBUTIONS; k++) {
        const char *v = values[ex->c[k].col];
        if (!v || !v[0])
            v = "?";
        const char *meaning = rdm_model_label(m, ex->c[k].col, v);
        rc = rdm_buf_printf(out, "%s%s=", k ? "; " : "", ex->c[k].field);
        if (!rc)
            rc = add_quoted(out, v);
        if (!rc && meaning)
            rc = rdm_buf_adds(out, " (");
        if (!rc && meaning)
            rc = add_quoted(out, meaning);
        if (!rc && meaning)
            rc = rdm_buf_addc(out, ')');
        if (!rc)
            rc = rdm_buf_printf(out, ":%+.4f", ex->c[k].contribution);
    }
    return rc ? rc : rdm_buf_addc(out, '"');
}

/* Without explanations records are read a batch at a time; a batch is
 * scored and its lines written in chunks spread over the threads (each
 * chunk into its own buffer, joined in input order: the output does not
 * depend on the threads) while the caller's thread reads the next batch.
 * The first record that fails, in input order, stops the run as it would
 * one record at a time. */
#define BATCH_ROWS   8192
#define CHUNK_ROWS   256
#define BATCH_CHUNKS (BATCH_ROWS / CHUNK_ROWS)

typedef struct batch {
    long first_row; /* records before this batch */
    size_t n;
    rdm_buf text;       /* the fields the model reads and the id, NUL-terminated */
    size_t *off;        /* n * RDM_NCOLS: offset of the field in text + 1; 0 = absent */
    size_t *idoff;      /* n: offset of the id + 1; 0 = the row number stands for it */
    long *line;         /* n: source line */
    const char **cells; /* n * RDM_NCOLS, into text */
    double *prob;
    int stop, eof; /* how reading ended: a failure (perr) or the end of the input */
    rdm_err perr;
    rdm_buf out[BATCH_CHUNKS];
    int rc[BATCH_CHUNKS];
    rdm_err err[BATCH_CHUNKS];
    size_t bad[BATCH_CHUNKS]; /* the failing record */
} batch;

/* What reading and scoring share. */
typedef struct reader {
    const rdm_model *m;
    double thr;
    rdm_csv *csv;
    const int *map;
    int nh, id_col;
    const char *label;
    batch *cur, *next; /* the batch being scored, the one being read */
} reader;

static int batch_init(batch *b)
{
    memset(b, 0, sizeof *b);
    b->off = malloc((size_t)BATCH_ROWS * RDM_NCOLS * sizeof *b->off);
    b->cells = malloc((size_t)BATCH_ROWS * RDM_NCOLS * sizeof *b->cells);
    b->idoff = malloc(BATCH_ROWS * sizeof *b->idoff);
    b->line = malloc(BATCH_ROWS * sizeof *b->line);
    b->prob = malloc(BATCH_ROWS * sizeof *b->prob);
    return b->off && b->cells && b->idoff && b->line && b->prob ? RDM_OK : RDM_ENOMEM;
}

static void batch_release(batch *b)
{
    rdm_buf_release(&b->text);
    for (int c = 0; c < BATCH_CHUNKS; c++)
        rdm_buf_release(&b->out[c]);
    free(b->off);
    free(b->cells);
    free(b->idoff);
    free(b->line);
    free(b->prob);
}

/* Keep record `rec` as the batch's next: the fields the model reads (the
 * last of duplicate columns, as one record at a time) and its id. The
 * reader's decoded fields usually lie one after the other in one span: then
 * the span is copied at once, else field by field. */
static int batch_add(batch *b, const reader *rd, const rdm_csv_record *rec)
{
    size_t *off = b->off + b->n * RDM_NCOLS, need = 0;
    int nf = rec->nfields < rd->nh ? rec->nfields : rd->nh, idc = rd->id_col;
    const char *id = idc >= 0 && idc < rec->nfields ? rec->fields[idc] : "";
    int use_id = idc >= 0 && !strpbrk(id, ",\"\r\n");
    const char *lo = nf > 0 ? rec->fields[0] : NULL, *hi = lo;
    int span = nf > 0;
    for (int i = 0; i < nf; i++) {
        const char *f = rec->fields[i];
        need += rd->map[i] >= 0 ? rec->lens[i] + 1 : 0;
        if (f < lo)
            lo = f;
        if (f + rec->lens[i] + 1 > hi)
            hi = f + rec->lens[i] + 1;
    }
    span = span && (size_t)(hi - lo) <= 2 * need + 64 && (!use_id || (id >= lo && id < hi));
    need = span ? (size_t)(hi - lo) : need + (use_id ? strlen(id) + 1 : 0);
    if (rdm_buf_reserve(&b->text, need))
        return RDM_ENOMEM;
    char *t = b->text.data;
    size_t len = b->text.len;
    memset(off, 0, RDM_NCOLS * sizeof *off);
    b->idoff[b->n] = 0;
    if (span) {
        memcpy(t + len, lo, (size_t)(hi - lo));
        for (int i = 0; i < nf; i++)
            if (rd->map[i] >= 0)
                off[rd->map[i]] = len + (size_t)(rec->fields[i] - lo) + 1;
        if (use_id)
            b->idoff[b->n] = len + (size_t)(id - lo) + 1;
        len += (size_t)(hi - lo);
    } else {
        for (int i = 0; i < nf; i++)
            if (rd->map[i] >= 0) {
                off[rd->map[i]] = len + 1;
                memcpy(t + len, rec->fields[i], rec->lens[i] + 1);
                len += rec->lens[i] + 1;
            }
        if (use_id) {
            size_t k = strlen(id) + 1;
            b->idoff[b->n] = len + 1;
            memcpy(t + len, id, k);
            len += k;
        }
    }
    b->text.len = len;
    b->line[b->n++] = rec->line;
    return RDM_OK;
}

/* Read up to BATCH_ROWS records into b (empty on entry). */
static void batch_read(batch *b, const reader *rd)
{
    rdm_csv_record rec;
    while (b->n < BATCH_ROWS && !b->stop && !b->eof) {
        int r = rdm_csv_next(rd->csv, &rec, &b->perr);
        if (r < 0)
            b->stop = r;
        else if (r == 0)
            b->eof = 1;
        else if (rec.problem)
            b->stop =
                rdm_errf(&b->perr, RDM_EPARSE, "%s: %s (nothing written)", rd->label, rec.reason);
        else if (batch_add(b, rd, &rec))
            b->stop = rdm_errf(&b->perr, RDM_ENOMEM, "out of memory");
    }
}

/* One output line: id,probability,decision (the probability as "%.6f"). */
static int add_line(rdm_buf *o, const char *id, long row, double p, double thr)
{
    char num[24];
    size_t n;
    if (id) {
        n = strlen(id);
    } else { /* the row number stands for the id */
        char *q = num + sizeof num;
        unsigned long v = (unsigned long)row;
        do {
            *--q = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        n = (size_t)(num + sizeof num - q);
        id = q;
    }
    int rc = rdm_buf_reserve(o, n + 1);
    if (rc)
        return rc;
    memcpy(o->data + o->len, id, n);
    o->len += n;
    o->data[o->len++] = ',';
    if ((rc = rdm_buf_add_fixed6(o, p)))
        return rc;
    return rdm_buf_add(o, p >= thr ? ",1\n" : ",0\n", 3);
}

static void score_chunk(const reader *rd, batch *b, size_t c)
{
    size_t lo = c * CHUNK_ROWS, hi = lo + CHUNK_ROWS < b->n ? lo + CHUNK_ROWS : b->n, ok;
    rdm_buf *o = &b->out[c];
    rdm_buf_reset(o);
    b->rc[c] = RDM_OK;
    b->err[c].code = 0;
    b->err[c].msg[0] = '\0';
    const char *const *rows[CHUNK_ROWS];
    for (size_t i = lo * RDM_NCOLS; i < hi * RDM_NCOLS; i++)
        b->cells[i] = b->off[i] ? b->text.data + b->off[i] - 1 : NULL;
    for (size_t i = lo; i < hi; i++)
        rows[i - lo] = b->cells + i * RDM_NCOLS;
    /* the failing record and its message as rdm_model_score gives them */
    if ((b->rc[c] = rdm_model_score_block(rd->m, rows, hi - lo, b->prob + lo, NULL, &ok,
                                          &b->err[c])) != RDM_OK) {
        b->bad[c] = lo + ok;
        return;
    }
    int rc = RDM_OK;
    for (size_t i = lo; i < hi && !rc; i++)
        rc = add_line(o, b->idoff[i] ? b->text.data + b->idoff[i] - 1 : NULL,
                      b->first_row + (long)i + 1, b->prob[i], rd->thr);
    if (rc) {
        b->rc[c] = rdm_errf(&b->err[c], RDM_ENOMEM, "out of memory");
        b->bad[c] = lo;
    }
}

/* The pool job: every thread scores chunks of the current batch; the
 * caller's thread first reads the next batch, when there is one to read. */
static void predict_job(void *arg, int tid, rdm_pool *p)
{
    reader *rd = arg;
    if (tid == 0 && rd->next)
        batch_read(rd->next, rd);
    size_t nc = (rd->cur->n + CHUNK_ROWS - 1) / CHUNK_ROWS, c;
    while ((c = rdm_pool_next(p)) < nc)
        score_chunk(rd, rd->cur, c);
}

/* Append the scored batch's lines to out, or fail with its first error. */
static int batch_finish(batch *b, const char *label, rdm_buf *out, rdm_err *err)
{
    size_t nc = (b->n + CHUNK_ROWS - 1) / CHUNK_ROWS;
    for (size_t c = 0; c < nc; c++)
        if (b->rc[c]) {
            if (err)
                *err = b->err[c];
            rdm_err_prefix(err, "%s:%ld", label, b->line[b->bad[c]]);
            return b->rc[c];
        }
    for (size_t c = 0; c < nc; c++)
        if (rdm_buf_add(out, b->out[c].data, b->out[c].len))
            return rdm_errf(err, RDM_ENOMEM, "out of memory");
    if (b->stop) {
        if (err)
            *err = b->perr;
        return b->stop;
    }
    return RDM_OK;
}

static int score_batches(reader *rd, rdm_pool *pool, rdm_buf *out, long *rows, rdm_err *err)
{
    batch bt[2];
    int rc = batch_init(&bt[0]), rc1 = batch_init(&bt[1]);
    if (rc || rc1)
        rc = rdm_errf(err, RDM_ENOMEM, "out of memory");
    else
        batch_read(&bt[0], rd);
    for (int k = 0; !rc; k ^= 1) {
        batch *cur = &bt[k], *next = &bt[k ^ 1];
        rd->cur = cur;
        rd->next = cur->stop || cur->eof ? NULL : next;
        next->first_row = cur->first_row + (long)cur->n;
        rdm_pool_run(pool, predict_job, rd);
        rc = batch_finish(cur, rd->label, out, err);
        *rows = next->first_row;
        if (!rd->next)
            break;
        cur->n = 0;
        rdm_buf_reset(&cur->text);
    }
    batch_release(&bt[0]);
    batch_release(&bt[1]);
    return rc;
}

static int score_csv(const rdm_model *m, const rdm_explainer *x, rdm_pool *pool, FILE *in,
                     const char *label, int allow_missing, rdm_buf *out, long *rows, rdm_err *err)
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
    if (!rc && !x) {
        reader rd = {m, thr, csv, map, nh, id_col, label, NULL, NULL};
        rc = score_batches(&rd, pool, out, rows, err);
        rdm_csv_free(csv);
        return rc;
    }
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
            rc = add_explanation(out, m, values, &ex);
        if (!rc)
            rc = rdm_buf_addc(out, '\n');
    }
    rdm_csv_free(csv);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    cmd_ctx ctx = {0};
    const char *model = NULL, *input = NULL, *output = NULL, *threads = NULL;
    int allow_missing = 0, explain = 0;
    rdm_explainer *x = NULL;
    const cmd_opt opts[] = {{"--model", &model, NULL},
                            {"--input", &input, NULL},
                            {"--output", &output, NULL},
                            {"--allow-missing", NULL, &allow_missing},
                            {"--explain", NULL, &explain},
                            {"--threads", &threads, NULL},
                            {0}};
    int rc = cmd_parse(&ctx, "predict", HELP, argc, argv, opts);
    if (rc != CMD_RUN)
        return rc;
    if (!model || !input) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("predict", "--model and --input are required");
    }
    char *end = NULL;
    long nthreads = threads ? strtol(threads, &end, 10) : 0;
    if (threads && (end == threads || *end || nthreads < 0 || nthreads > RDM_POOL_MAX)) {
        cmd_ctx_release(&ctx);
        return cmd_usage_error("predict", "--threads takes a number of threads, 0 to 64");
    }
    rc = cmd_load_config(&ctx);
    if (rc != EXIT_OK) {
        cmd_ctx_release(&ctx);
        return rc;
    }
    rdm_err err = {0};
    rdm_pool *pool = NULL;
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
    if (!explain && !(pool = rdm_pool_create((int)nthreads, &err))) {
        rc = cmd_fail("predict", &err);
        goto done;
    }
    if (explain && !(x = rdm_explainer_create(m, &err))) {
        rc = cmd_fail("predict", &err);
        goto done;
    }
    if (score_csv(m, x, pool, in, strcmp(input, "-") ? input : "stdin", allow_missing, &out, &rows,
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
    rdm_pool_free(pool);
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
