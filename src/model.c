/* model.c - the model artifact (schema + encoder + scorer + threshold + metadata),
 * its versioned, checksummed text format, and the one scoring path. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "gbt.h"
#include "logreg.h"
#include "text.h"

#define MAGIC "readmit-model"
/* 1: no labels section; 2: "labels N" after the inputs (version 1 files
 * still load, with no labels). */
#define FORMAT_VERSION 2

struct rdm_model {
    rdm_model_type type;
    rdm_encoder *enc;
    rdm_logreg *lr;
    rdm_gbt *gbt;
    double baseline;
    double threshold;
    int nmeta;
    size_t metacap;      /* capacity of keys and vals */
    char **keys, **vals; /* sorted by key */
    int ninput;
    rdm_input_field inputs[RDM_NCOLS];
    long format; /* format version of the loaded file */
    int nlabels;

    struct label {
        int col;
        char *level, *text;
    } * labels; /* sorted by column, then level */

    const char **label_of[RDM_NCOLS]; /* per input: labels parallel to its levels */
};

static const char *TYPE_NAMES[] = {"baseline", "logreg", "gbt"};

void rdm_model_free(rdm_model *m)
{
    if (!m)
        return;
    rdm_encoder_free(m->enc);
    rdm_logreg_free(m->lr);
    rdm_gbt_free(m->gbt);
    for (int i = 0; i < m->nmeta; i++) {
        free(m->keys[i]);
        free(m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    for (int i = 0; i < m->nlabels; i++) {
        free(m->labels[i].level);
        free(m->labels[i].text);
    }
    free(m->labels);
    for (int i = 0; i < RDM_NCOLS; i++)
        free(m->label_of[i]);
    free(m);
}

static int is_feature_col(const rdm_column *c)
{
    return c->kind != RDM_COL_ID && c->kind != RDM_COL_TARGET;
}

/* Input schema: every feature column the encoder reads (all feature columns
 * without an encoder). */
static void build_inputs(rdm_model *m)
{
    const rdm_column *sc = rdm_schema_columns();
    m->ninput = 0;
    for (int c = 0; c < RDM_NCOLS; c++) {
        if (!is_feature_col(&sc[c]) || (m->enc && !rdm_encoder_uses(m->enc, c)))
            continue;
        rdm_input_field *f = &m->inputs[m->ninput++];
        f->col = c;
        f->name = sc[c].name;
        f->categorical = sc[c].kind != RDM_COL_INT;
        f->levels = m->enc ? rdm_encoder_levels(m->enc, c) : sc[c].levels;
        f->min = f->categorical ? NAN : (double)sc[c].min;
        f->max = f->categorical ? NAN : (double)sc[c].max;
    }
}

const char *rdm_model_label(const rdm_model *m, int col, const char *level)
{
    for (int i = 0; level && i < m->nlabels; i++)
        if (m->labels[i].col == col && !strcmp(m->labels[i].level, level))
            return m->labels[i].text;
    return NULL;
}

/* Each categorical input's labels, parallel to its levels (NULL when none of
 * its levels has one). RDM_OK or RDM_ENOMEM. */
static int fill_labels(rdm_model *m)
{
    for (int i = 0; i < m->ninput; i++) {
        rdm_input_field *f = &m->inputs[i];
        free(m->label_of[i]);
        m->label_of[i] = NULL;
        f->labels = NULL;
        size_t k = 0, any = 0;
        while (f->categorical && f->levels && f->levels[k])
            any += rdm_model_label(m, f->col, f->levels[k++]) != NULL;
        if (!any)
            continue;
        if (!(m->label_of[i] = calloc(k + 1, sizeof *m->label_of[i])))
            return RDM_ENOMEM;
        for (size_t j = 0; j < k; j++)
            m->label_of[i][j] = rdm_model_label(m, f->col, f->levels[j]);
        f->labels = m->label_of[i];
    }
    return RDM_OK;
}

int rdm_model_set_label(rdm_model *m, int col, const char *level, const char *text, rdm_err *err)
{
    if (col < 0 || col >= RDM_NCOLS || !level || !*level || !text || !*text ||
        strlen(level) > 100 || strlen(text) >= 4096 || strchr(text, '\n') || strchr(level, '\n'))
        return rdm_errf(err, RDM_EINVAL, "model: bad label for column %d", col);
    int at = 0;
    while (at < m->nlabels && (m->labels[at].col < col || (m->labels[at].col == col &&
                                                           strcmp(m->labels[at].level, level) < 0)))
        at++;
    char *t = strdup(text);
    if (!t)
        return rdm_errf(err, RDM_ENOMEM, "model: out of memory");
    if (at < m->nlabels && m->labels[at].col == col && !strcmp(m->labels[at].level, level)) {
        free(m->labels[at].text);
        m->labels[at].text = t;
    } else {
        char *l = strdup(level);
        struct label *nl = realloc(m->labels, (size_t)(m->nlabels + 1) * sizeof *nl);
        if (!l || !nl) {
            free(l);
            free(t);
            if (nl)
                m->labels = nl;
            return rdm_errf(err, RDM_ENOMEM, "model: out of memory");
        }
        m->labels = nl;
        memmove(nl + at + 1, nl + at, (size_t)(m->nlabels - at) * sizeof *nl);
        nl[at] = (struct label){col, l, t};
        m->nlabels++;
    }
    return fill_labels(m) == RDM_OK ? RDM_OK : rdm_errf(err, RDM_ENOMEM, "model: out of memory");
}

static int check_dims(const rdm_model *m, rdm_err *err)
{
    if (m->type == RDM_MODEL_LOGREG) {
        if (!m->lr || !m->enc)
            return rdm_errf(err, RDM_EINVAL, "model: logreg needs an encoder and weights");
        if (rdm_logreg_dim(m->lr) != rdm_encoder_lin_dim(m->enc))
            return rdm_errf(err, RDM_EINVAL, "model: logreg has %d weights, encoder %d features",
                            rdm_logreg_dim(m->lr), rdm_encoder_lin_dim(m->enc));
    } else if (m->type == RDM_MODEL_GBT) {
        if (!m->gbt || !m->enc)
            return rdm_errf(err, RDM_EINVAL, "model: gbt needs an encoder and trees");
        if (rdm_gbt_nfeatures(m->gbt) != rdm_encoder_tree_dim(m->enc))
            return rdm_errf(err, RDM_EINVAL, "model: gbt has %d features, encoder %d",
                            rdm_gbt_nfeatures(m->gbt), rdm_encoder_tree_dim(m->enc));
    } else if (!(m->baseline >= 0 && m->baseline <= 1)) {
        return rdm_errf(err, RDM_EINVAL, "model: baseline probability %g not in [0, 1]",
                        m->baseline);
    }
    if (!isfinite(m->threshold))
        return rdm_errf(err, RDM_EINVAL, "model: threshold is not finite");
    return RDM_OK;
}

rdm_model *rdm_model_create(rdm_model_type type, struct rdm_encoder *enc, void *scorer,
                            double baseline_prob, double threshold, rdm_err *err)
{
    rdm_model *m = calloc(1, sizeof *m);
    if (!m) {
        rdm_encoder_free(enc);
        if (type == RDM_MODEL_LOGREG)
            rdm_logreg_free(scorer);
        else if (type == RDM_MODEL_GBT)
            rdm_gbt_free(scorer);
        rdm_errf(err, RDM_ENOMEM, "model: out of memory");
        return NULL;
    }
    m->type = type;
    m->enc = enc;
    if (type == RDM_MODEL_LOGREG)
        m->lr = scorer;
    else if (type == RDM_MODEL_GBT)
        m->gbt = scorer;
    m->baseline = type == RDM_MODEL_BASELINE ? baseline_prob : NAN;
    m->threshold = threshold;
    if ((unsigned)type > RDM_MODEL_GBT) {
        rdm_errf(err, RDM_EINVAL, "model: unknown type %d", (int)type);
        rdm_model_free(m);
        return NULL;
    }
    if (check_dims(m, err) != RDM_OK) {
        rdm_model_free(m);
        return NULL;
    }
    build_inputs(m);
    return m;
}

static int valid_key(const char *k)
{
    if (!*k)
        return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_' || *k == '.' || *k == '-'))
            return 0;
    return 1;
}

int rdm_model_set_meta(rdm_model *m, const char *key, const char *value, rdm_err *err)
{
    if (!valid_key(key) || strlen(key) > 100)
        return rdm_errf(err, RDM_EINVAL, "model: bad metadata key '%.40s'", key);
    if (value && strlen(value) >= 4096)
        return rdm_errf(err, RDM_EINVAL, "model: metadata value of '%s' is too long", key);
    int i = 0;
    while (i < m->nmeta && strcmp(m->keys[i], key) < 0)
        i++;
    char *v = strdup(value ? value : "");
    if (!v)
        return rdm_errf(err, RDM_ENOMEM, "model: out of memory");
    if (i < m->nmeta && strcmp(m->keys[i], key) == 0) {
        free(m->vals[i]);
        m->vals[i] = v;
        return RDM_OK;
    }
    char *k = strdup(key);
    void *a[2] = {m->keys, m->vals};
    const size_t e[2] = {sizeof *m->keys, sizeof *m->vals};
    int grown = k && rdm_grow_all(a, e, 2, &m->metacap, (size_t)m->nmeta + 1) == RDM_OK;
    m->keys = a[0];
    m->vals = a[1];
    if (!grown) {
        free(k);
        free(v);
        return rdm_errf(err, RDM_ENOMEM, "model: out of memory");
    }
    memmove(m->keys + i + 1, m->keys + i, (size_t)(m->nmeta - i) * sizeof *m->keys);
    memmove(m->vals + i + 1, m->vals + i, (size_t)(m->nmeta - i) * sizeof *m->vals);
    m->keys[i] = k;
    m->vals[i] = v;
    m->nmeta++;
    return RDM_OK;
}

void rdm_model_set_threshold(rdm_model *m, double threshold)
{
    m->threshold = threshold;
}

const struct rdm_encoder *rdm_model_encoder(const rdm_model *m)
{
    return m->enc;
}

const struct rdm_gbt *rdm_model_gbt(const rdm_model *m)
{
    return m->gbt;
}

double rdm_model_baseline_prob(const rdm_model *m)
{
    return m->type == RDM_MODEL_BASELINE ? m->baseline : NAN;
}

rdm_model_type rdm_model_get_type(const rdm_model *m)
{
    return m->type;
}

const char *rdm_model_type_name(const rdm_model *m)
{
    return TYPE_NAMES[m->type];
}

double rdm_model_threshold(const rdm_model *m)
{
    return m->threshold;
}

const char *rdm_model_meta(const rdm_model *m, const char *key)
{
    for (int i = 0; i < m->nmeta; i++)
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    return NULL;
}

int rdm_model_meta_count(const rdm_model *m)
{
    return m->nmeta;
}

void rdm_model_meta_at(const rdm_model *m, int i, const char **key, const char **value)
{
    if (i < 0 || i >= m->nmeta) {
        *key = *value = NULL;
        return;
    }
    *key = m->keys[i];
    *value = m->vals[i];
}

int rdm_model_input_count(const rdm_model *m)
{
    return m->ninput;
}

const rdm_input_field *rdm_model_input(const rdm_model *m, int i)
{
    return i >= 0 && i < m->ninput ? &m->inputs[i] : NULL;
}

/* ---------------------------------------------------------------- scoring */

static double sigmoid(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

/* Baseline without an encoder: still reject unusable integers, so every model
 * accepts and rejects the same records. */
static int check_ints(const char *const values[RDM_NCOLS], rdm_err *err)
{
    const rdm_column *sc = rdm_schema_columns();
    char buf[64];
    for (int c = 0; c < RDM_NCOLS; c++) {
        if (sc[c].kind != RDM_COL_INT || rdm_value_is_missing(values[c]))
            continue;
        rdm_value_normalize(values[c], buf, sizeof buf);
        long x;
        if (rdm_value_is_missing(buf))
            continue;
        if (rdm_parse_long(buf, &x) != 0)
            return rdm_errf(err, RDM_EINVAL, "field '%s': not an integer: '%.40s'", sc[c].name,
                            buf);
        if (x < sc[c].min || x > sc[c].max)
            return rdm_errf(err, RDM_EINVAL, "field '%s': %ld is out of range [%ld, %ld]",
                            sc[c].name, x, sc[c].min, sc[c].max);
    }
    return RDM_OK;
}

/* The scorer half of the path, on encoded rows (one or a block): the same
 * code for raw records and for rows encoded beforehand. */
static double lin_prob(const rdm_model *m, const int32_t *idx, const float *val)
{
    return sigmoid(rdm_logreg_margin(m->lr, idx, val, rdm_encoder_lin_nnz(m->enc)));
}

static void tree_probs(const rdm_model *m, const float *X, size_t n, double *prob)
{
    rdm_gbt_margins(m->gbt, X, n, prob);
    for (size_t i = 0; i < n; i++)
        prob[i] = sigmoid(prob[i]);
}

int rdm_model_score(const rdm_model *m, const char *const values[RDM_NCOLS], double *prob,
                    rdm_warnings *w, rdm_err *err)
{
    if (!m || !values || !prob)
        return rdm_errf(err, RDM_EINVAL, "score: NULL argument");
    if (w)
        w->n = 0;
    float x[RDM_ENC_MAX_TREE];
    int rc;
    switch (m->type) {
    case RDM_MODEL_LOGREG: {
        int32_t idx[RDM_ENC_MAX_NNZ];
        float val[RDM_ENC_MAX_NNZ];
        rc = rdm_encoder_lin_row(m->enc, values, idx, val, w, err);
        if (rc)
            return rc;
        *prob = lin_prob(m, idx, val);
        return RDM_OK;
    }
    case RDM_MODEL_GBT:
        rc = rdm_encoder_tree_row(m->enc, values, x, w, err);
        if (rc)
            return rc;
        tree_probs(m, x, 1, prob); /* a block of one, as rdm_model_score_rows */
        return RDM_OK;
    default:
        rc = m->enc ? rdm_encoder_tree_row(m->enc, values, x, w, err) : check_ints(values, err);
        if (rc)
            return rc;
        *prob = m->baseline;
        return RDM_OK;
    }
}

/* Rows of a boosted-trees model are encoded a block at a time and the trees
 * walk the whole block (rdm_gbt_margins): the same probabilities, bit for
 * bit, as rdm_model_score on each row. */
#define SCORE_BLOCK 32

int rdm_model_score_block(const rdm_model *m, const char *const *const *rows, size_t n,
                          double *prob, rdm_warnings *w, size_t *nok, rdm_err *err)
{
    if (!m || !nok || (n > 0 && (!rows || !prob)))
        return rdm_errf(err, RDM_EINVAL, "score: NULL argument");
    *nok = 0;
    if (m->type != RDM_MODEL_GBT) {
        for (size_t r = 0; r < n; r++, (*nok)++) {
            int rc = rdm_model_score(m, rows[r], &prob[r], w ? &w[r] : NULL, err);
            if (rc)
                return rc;
        }
        return RDM_OK;
    }
    float X[SCORE_BLOCK * RDM_ENC_MAX_TREE];
    for (size_t a = 0; a < n; a += SCORE_BLOCK) {
        size_t k = n - a < SCORE_BLOCK ? n - a : SCORE_BLOCK, ok = 0;
        int rc = rdm_encoder_tree_block(m->enc, rows + a, k, X, w ? w + a : NULL, &ok, err);
        tree_probs(m, X, ok, prob + a); /* rows before a failing one are scored */
        *nok = a + ok;
        if (rc != RDM_OK)
            return rc;
    }
    return RDM_OK;
}

int rdm_model_score_rows(const rdm_model *m, const char *const *cells, const size_t *idx, size_t n,
                         double *prob, rdm_err *err)
{
    if (!m || (n > 0 && (!cells || !prob)))
        return rdm_errf(err, RDM_EINVAL, "score: NULL argument");
    const char *const *rows[SCORE_BLOCK];
    for (size_t a = 0; a < n; a += SCORE_BLOCK) {
        size_t k = n - a < SCORE_BLOCK ? n - a : SCORE_BLOCK, ok;
        for (size_t i = 0; i < k; i++)
            rows[i] = cells + (idx ? idx[a + i] : a + i) * RDM_NCOLS;
        int rc = rdm_model_score_block(m, rows, k, prob + a, NULL, &ok, err);
        if (rc) {
            rdm_err_prefix(err, "row %zu", a + ok + 1);
            return rc;
        }
    }
    return RDM_OK;
}

int rdm_model_score_encoded(const rdm_model *m, const float *tree_x, const int32_t *lin_cols,
                            const float *lin_vals, size_t n, double *prob, rdm_err *err)
{
    if (!m || (n > 0 && !prob))
        return rdm_errf(err, RDM_EINVAL, "score: NULL argument");
    if (m->type == RDM_MODEL_GBT && (tree_x || n == 0)) {
        size_t d = (size_t)rdm_encoder_tree_dim(m->enc);
        for (size_t a = 0; a < n; a += SCORE_BLOCK) /* the blocks of rdm_model_score_rows */
            tree_probs(m, tree_x + a * d, n - a < SCORE_BLOCK ? n - a : SCORE_BLOCK, prob + a);
        return RDM_OK;
    }
    if (m->type == RDM_MODEL_LOGREG && ((lin_cols && lin_vals) || n == 0)) {
        size_t nnz = (size_t)rdm_encoder_lin_nnz(m->enc);
        for (size_t r = 0; r < n; r++)
            prob[r] = lin_prob(m, lin_cols + r * nnz, lin_vals + r * nnz);
        return RDM_OK;
    }
    return rdm_errf(err, RDM_EINVAL, "score: no encoded rows of this model's kind (%s)",
                    TYPE_NAMES[m->type]);
}

int rdm_model_encoder_text_is(const rdm_model *m, const char *text, size_t n)
{
    rdm_buf b = RDM_BUF_INIT;
    int same = m && m->enc && rdm_encoder_save(m->enc, &b, NULL) == RDM_OK && b.len == n &&
               !memcmp(b.data, text, n);
    rdm_buf_release(&b);
    return same;
}

const struct rdm_logreg *rdm_model_logreg(const rdm_model *m)
{
    return m->type == RDM_MODEL_LOGREG ? m->lr : NULL;
}

/* ---------------------------------------------------------------- importance */

typedef struct impent {
    double v;
    int j;
} impent;

static int cmp_imp(const void *a, const void *b)
{
    const impent *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->j - y->j;
}

int rdm_model_feature_importance(const rdm_model *m, const char **names, double *values, int cap)
{
    if (m->type == RDM_MODEL_BASELINE)
        return 0;
    int d = m->type == RDM_MODEL_GBT ? rdm_encoder_tree_dim(m->enc) : rdm_encoder_lin_dim(m->enc);
    if (cap <= 0)
        return d;
    impent *e = malloc((size_t)d * sizeof *e);
    double *g = malloc((size_t)d * sizeof *g);
    if (!e || !g) {
        free(e);
        free(g);
        return -1;
    }
    if (m->type == RDM_MODEL_GBT) {
        rdm_gbt_importance(m->gbt, g);
    } else {
        const double *w = rdm_logreg_coef(m->lr);
        for (int j = 0; j < d; j++)
            g[j] = fabs(w[j]) * rdm_encoder_lin_scale(m->enc, j);
    }
    for (int j = 0; j < d; j++) {
        e[j].v = g[j];
        e[j].j = j;
    }
    qsort(e, (size_t)d, sizeof *e, cmp_imp);
    for (int k = 0; k < d && k < cap; k++) {
        names[k] = m->type == RDM_MODEL_GBT ? rdm_encoder_tree_name(m->enc, e[k].j)
                                            : rdm_encoder_lin_name(m->enc, e[k].j);
        values[k] = e[k].v;
    }
    free(e);
    free(g);
    return d;
}

/* ---------------------------------------------------------------- save */

static const char *input_kind(const rdm_column *c)
{
    switch (c->kind) {
    case RDM_COL_INT:
        return "int";
    case RDM_COL_CODE:
        return "code";
    case RDM_COL_DIAG:
        return "diag";
    default:
        return "cat";
    }
}

/* Magic, type, threshold, metadata and input lines. RDM_OK or RDM_ENOMEM. */
static int save_header(const rdm_model *m, rdm_buf *b)
{
    const rdm_column *sc = rdm_schema_columns();
    int rc = rdm_buf_printf(b, "%s %d\ntype %s\nthreshold %.17g\nbaseline %.17g\nmeta %d\n", MAGIC,
                            FORMAT_VERSION, TYPE_NAMES[m->type], m->threshold,
                            m->type == RDM_MODEL_BASELINE ? m->baseline : 0.0, m->nmeta);
    for (int i = 0; i < m->nmeta && rc == RDM_OK; i++)
        if ((rc = rdm_text_put(b, m->keys[i])) == RDM_OK && (rc = rdm_buf_addc(b, ' ')) == RDM_OK &&
            (rc = rdm_text_put(b, m->vals[i])) == RDM_OK)
            rc = rdm_buf_addc(b, '\n');
    if (rc == RDM_OK)
        rc = rdm_buf_printf(b, "inputs %d\n", m->ninput);
    for (int i = 0; i < m->ninput && rc == RDM_OK; i++)
        rc = rdm_buf_printf(b, "%s %s\n", m->inputs[i].name, input_kind(&sc[m->inputs[i].col]));
    if (rc == RDM_OK)
        rc = rdm_buf_printf(b, "labels %d\n", m->nlabels);
    for (int i = 0; i < m->nlabels && rc == RDM_OK; i++)
        if ((rc = rdm_buf_printf(b, "%s ", sc[m->labels[i].col].name)) == RDM_OK &&
            (rc = rdm_text_put(b, m->labels[i].level)) == RDM_OK &&
            (rc = rdm_buf_addc(b, ' ')) == RDM_OK &&
            (rc = rdm_text_put(b, m->labels[i].text)) == RDM_OK)
            rc = rdm_buf_addc(b, '\n');
    return rc == RDM_OK ? RDM_OK : RDM_ENOMEM;
}

/* The encoder and scorer sections. */
static int save_sections(const rdm_model *m, rdm_buf *b, rdm_err *err)
{
    int rc = m->enc ? rdm_encoder_save(m->enc, b, err)
                    : (rdm_buf_adds(b, "encoder none\n") ? RDM_ENOMEM : RDM_OK);
    if (rc == RDM_ENOMEM && !m->enc)
        return rdm_errf(err, RDM_ENOMEM, "model: out of memory");
    if (rc != RDM_OK)
        return rc;
    if (rdm_buf_printf(b, "scorer %s\n", TYPE_NAMES[m->type]))
        return rdm_errf(err, RDM_ENOMEM, "model: out of memory");
    if (m->type == RDM_MODEL_LOGREG)
        return rdm_logreg_save(m->lr, b, err);
    if (m->type == RDM_MODEL_GBT)
        return rdm_gbt_save(m->gbt, b, err);
    return RDM_OK;
}

int rdm_model_save_bytes(const rdm_model *m, rdm_buf *out, rdm_err *err)
{
    rdm_buf b = RDM_BUF_INIT;
    int rc = save_header(m, &b);
    if (rc != RDM_OK) {
        rc = rdm_errf(err, RDM_ENOMEM, "model: out of memory");
        goto done;
    }
    if ((rc = save_sections(m, &b, err)) != RDM_OK)
        goto done;
    char hex[65];
    rdm_sha256_hex(b.data, b.len, hex);
    if (rdm_buf_printf(&b, "checksum sha256 %s\n", hex) || rdm_buf_add(out, b.data, b.len))
        rc = rdm_errf(err, RDM_ENOMEM, "model: out of memory");
done:
    rdm_buf_release(&b);
    return rc;
}

int rdm_model_save_file(const rdm_model *m, const char *path, rdm_err *err)
{
    rdm_buf b = RDM_BUF_INIT;
    int rc = rdm_model_save_bytes(m, &b, err);
    if (!rc)
        rc = rdm_write_file_atomic(path, b.data, b.len, err);
    rdm_buf_release(&b);
    return rc;
}

/* ---------------------------------------------------------------- load */

#define CK_PREFIX "checksum sha256 "
#define CK_LINE   (sizeof CK_PREFIX - 1 + 64 + 1)

/* Magic, version and checksum; *body_len = bytes covered by the checksum. */
static int check_envelope(const char *d, size_t n, size_t *body_len, rdm_err *err)
{
    size_t ml = sizeof MAGIC - 1;
    if (n < ml + 1 || memcmp(d, MAGIC " ", ml + 1) != 0)
        return rdm_errf(err, RDM_EPARSE, "not a readmit model file (no '%s' header)", MAGIC);
    size_t i = ml + 1;
    long v = 0;
    int digits = 0;
    while (i < n && d[i] >= '0' && d[i] <= '9' && digits < 9) {
        v = v * 10 + (d[i] - '0');
        i++;
        digits++;
    }
    if (i >= n)
        return rdm_errf(err, RDM_EPARSE, "model file is truncated (in the header)");
    if (digits == 0 || d[i] != '\n')
        return rdm_errf(err, RDM_EPARSE, "model file header: bad format version");
    if (v > FORMAT_VERSION)
        return rdm_errf(err, RDM_EVERSION,
                        "model format version %ld is newer than this readmit supports (%d)", v,
                        FORMAT_VERSION);
    if (v < 1)
        return rdm_errf(err, RDM_EPARSE, "model file header: bad format version %ld", v);
    if (n < CK_LINE || d[n - 1] != '\n' || memcmp(d + n - CK_LINE, CK_PREFIX, CK_LINE - 65) != 0 ||
        (n > CK_LINE && d[n - CK_LINE - 1] != '\n'))
        return rdm_errf(err, RDM_EPARSE,
                        "model file is truncated or corrupted (no checksum line at the end)");
    char want[65], got[65];
    memcpy(want, d + n - 65, 64);
    want[64] = '\0';
    rdm_sha256_hex(d, n - CK_LINE, got);
    if (strcmp(want, got) != 0)
        return rdm_errf(err, RDM_EPARSE, "model file is corrupted (checksum mismatch)");
    *body_len = n - CK_LINE;
    return RDM_OK;
}

static int parse_type(rdm_text *t, rdm_model_type *type, rdm_err *err)
{
    char buf[32];
    int rc = rdm_text_word(t, buf, sizeof buf, "model type", err);
    if (rc)
        return rc;
    for (int i = 0; i < 3; i++)
        if (strcmp(buf, TYPE_NAMES[i]) == 0) {
            *type = (rdm_model_type)i;
            return RDM_OK;
        }
    return rdm_errf(err, RDM_EPARSE, "line %d: unknown model type '%s'", t->line, buf);
}

/* "<key> <value>" lines: the version, type, threshold, baseline and
 * metadata. */
static int load_head(rdm_text *t, rdm_model *m, rdm_err *err)
{
    char key[128], val[4096];
    long nmeta = 0, ver = 0;
    int rc = rdm_text_expect(t, MAGIC, err);
    if (!rc)
        rc = rdm_text_long(t, &ver, 1, FORMAT_VERSION, "version", err);
    m->format = ver;
    if (!rc)
        rc = rdm_text_eol(t, err);
    if (!rc)
        rc = rdm_text_expect(t, "type", err);
    if (!rc)
        rc = parse_type(t, &m->type, err);
    if (!rc)
        rc = rdm_text_eol(t, err);
    if (!rc)
        rc = rdm_text_expect(t, "threshold", err);
    if (!rc)
        rc = rdm_text_double(t, &m->threshold, "threshold", err);
    if (!rc)
        rc = rdm_text_eol(t, err);
    if (!rc)
        rc = rdm_text_expect(t, "baseline", err);
    if (!rc)
        rc = rdm_text_double(t, &m->baseline, "baseline", err);
    if (!rc)
        rc = rdm_text_eol(t, err);
    if (!rc)
        rc = rdm_text_expect(t, "meta", err);
    if (!rc)
        rc = rdm_text_long(t, &nmeta, 0, 10000, "metadata count", err);
    if (!rc)
        rc = rdm_text_eol(t, err);
    for (long i = 0; i < nmeta && !rc; i++) {
        rc = rdm_text_word(t, key, sizeof key, "metadata key", err);
        if (!rc)
            rc = rdm_text_word(t, val, sizeof val, "metadata value", err);
        if (!rc)
            rc = rdm_text_eol(t, err);
        if (!rc && i > 0 && strcmp(m->keys[i - 1], key) >= 0)
            rc = rdm_errf(err, RDM_EPARSE, "line %d: metadata keys not sorted", t->line - 1);
        if (!rc)
            rc = rdm_model_set_meta(m, key, val, err);
    }
    return rc;
}

/* The input lines: schema column of each in incol[], their number in
 * *ninput. */
static int load_inputs(rdm_text *t, int incol[RDM_NCOLS], long *ninput, rdm_err *err)
{
    char key[128], kind[16];
    int rc = rdm_text_expect(t, "inputs", err);
    if (!rc)
        rc = rdm_text_long(t, ninput, 0, RDM_NCOLS, "input count", err);
    if (!rc)
        rc = rdm_text_eol(t, err);
    for (long i = 0; i < *ninput && !rc; i++) {
        rc = rdm_text_word(t, key, sizeof key, "input name", err);
        if (!rc)
            rc = rdm_text_word(t, kind, sizeof kind, "input kind", err);
        if (!rc)
            rc = rdm_text_eol(t, err);
        if (rc)
            break;
        incol[i] = rdm_schema_find(key);
        if (incol[i] < 0 || strcmp(kind, input_kind(&rdm_schema_columns()[incol[i]])) != 0)
            rc = rdm_errf(err, RDM_ESCHEMA, "model input '%s' (%s) does not match this schema", key,
                          kind);
    }
    return rc;
}

/* The labels section (format 2 on): "labels N", then N lines
 * "<field> <level> <label>". */
static int load_labels(rdm_text *t, rdm_model *m, rdm_err *err)
{
    char field[128], level[128], text[4096];
    long n = 0;
    if (m->format < 2)
        return RDM_OK;
    int rc = rdm_text_expect(t, "labels", err);
    if (!rc)
        rc = rdm_text_long(t, &n, 0, 100000, "label count", err);
    if (!rc)
        rc = rdm_text_eol(t, err);
    for (long i = 0; i < n && !rc; i++) {
        rc = rdm_text_word(t, field, sizeof field, "label field", err);
        if (!rc)
            rc = rdm_text_word(t, level, sizeof level, "label level", err);
        if (!rc)
            rc = rdm_text_word(t, text, sizeof text, "label text", err);
        if (!rc)
            rc = rdm_text_eol(t, err);
        int col = rc ? -1 : rdm_schema_find(field);
        if (!rc && col < 0)
            rc = rdm_errf(err, RDM_ESCHEMA, "line %d: label of unknown field '%s'", t->line - 1,
                          field);
        if (!rc)
            rc = rdm_model_set_label(m, col, level, text, err);
    }
    return rc;
}

/* The encoder and scorer sections, up to the end of the text. */
static int load_sections(rdm_text *t, rdm_model *m, rdm_err *err)
{
    rdm_model_type stype;
    int rc;
    if (t->end - t->p >= 13 && memcmp(t->p, "encoder none\n", 13) == 0) {
        t->p += 13;
        t->line++;
    } else {
        size_t used = 0;
        m->enc = rdm_encoder_load(t->p, (size_t)(t->end - t->p), &used, err);
        if (!m->enc)
            return err && err->code ? err->code : RDM_EPARSE;
        for (const char *q = t->p; q < t->p + used; q++)
            t->line += *q == '\n';
        t->p += used;
    }
    if ((rc = rdm_text_expect(t, "scorer", err)) || (rc = parse_type(t, &stype, err)) ||
        (rc = rdm_text_eol(t, err)))
        return rc;
    if (stype != m->type)
        return rdm_errf(err, RDM_EPARSE, "line %d: scorer '%s' does not match type '%s'",
                        t->line - 1, TYPE_NAMES[stype], TYPE_NAMES[m->type]);
    size_t used = 0, left = (size_t)(t->end - t->p);
    if (m->type == RDM_MODEL_LOGREG && !(m->lr = rdm_logreg_load(t->p, left, &used, err)))
        return err && err->code ? err->code : RDM_EPARSE;
    if (m->type == RDM_MODEL_GBT && !(m->gbt = rdm_gbt_load(t->p, left, &used, err)))
        return err && err->code ? err->code : RDM_EPARSE;
    t->p += used < left ? used : left;
    if (t->p != t->end)
        return rdm_errf(err, RDM_EPARSE, "unexpected data after the scorer section");
    return RDM_OK;
}

/* The inputs listed in the file are those the encoder reads. */
static int check_inputs(const rdm_model *m, const int *incol, long ninput, rdm_err *err)
{
    if (ninput != m->ninput)
        return rdm_errf(err, RDM_ESCHEMA, "model lists %ld inputs, its encoder reads %d", ninput,
                        m->ninput);
    for (int i = 0; i < m->ninput; i++)
        if (incol[i] != m->inputs[i].col)
            return rdm_errf(err, RDM_ESCHEMA, "model input %d ('%s') does not match its encoder",
                            i + 1, m->inputs[i].name);
    return RDM_OK;
}

rdm_model *rdm_model_load_bytes(const void *data, size_t n, rdm_err *err)
{
    const char *d = data;
    size_t body = 0;
    if (!data)
        n = 0;
    if (check_envelope(d ? d : "", n, &body, err) != RDM_OK)
        return NULL;
    rdm_model *m = calloc(1, sizeof *m);
    if (!m) {
        rdm_errf(err, RDM_ENOMEM, "model: out of memory");
        return NULL;
    }
    rdm_text t = {d, d + body, 1};
    int incol[RDM_NCOLS] = {0};
    long ninput = 0;
    if (load_head(&t, m, err) || load_inputs(&t, incol, &ninput, err) || load_labels(&t, m, err) ||
        load_sections(&t, m, err))
        goto fail;
    if (m->type != RDM_MODEL_BASELINE)
        m->baseline = NAN;
    if (check_dims(m, err) != RDM_OK)
        goto fail;
    build_inputs(m);
    if (check_inputs(m, incol, ninput, err) != RDM_OK)
        goto fail;
    if (fill_labels(m) != RDM_OK) {
        rdm_errf(err, RDM_ENOMEM, "model: out of memory");
        goto fail;
    }
    return m;
fail:
    rdm_err_prefix(err, "loading model");
    rdm_model_free(m);
    return NULL;
}

rdm_model *rdm_model_load_file(const char *path, rdm_err *err)
{
    rdm_buf b = RDM_BUF_INIT;
    if (rdm_read_file(path, &b, err) != RDM_OK) {
        rdm_buf_release(&b);
        return NULL;
    }
    rdm_model *m = rdm_model_load_bytes(b.data ? b.data : "", b.len, err);
    if (!m)
        rdm_err_prefix(err, "%s", path);
    rdm_buf_release(&b);
    return m;
}
