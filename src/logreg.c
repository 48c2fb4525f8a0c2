/* logreg.c - L2 logistic regression on a constant-row-length CSR design, L-BFGS solver. */
#include "logreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "pool.h"
#include "text.h"

struct rdm_logreg {
    int d;
    double *w;
    double b;
    double l2;
    double *mean; /* training mean of each column (NULL: not known) */
};

void rdm_logreg_params_default(rdm_logreg_params *p)
{
    p->l2 = 1.0;
    p->max_iter = 200;
    p->tol = 1e-6;
    p->threads = 0;
    p->progress = NULL;
    p->progress_ud = NULL;
}

/* ---------------------------------------------------------------- objective */

typedef struct chunk {
    const rdm_csr *X;
    const float *y;
    const double *wb;
    size_t lo, hi;
    double *grad; /* d + 1, NULL for loss only */
    double loss;
} chunk;

static void eval_chunk(chunk *c)
{
    const rdm_csr *X = c->X;
    int d = X->d, nnz = X->nnz;
    const double *w = c->wb;
    double b = c->wb[d], loss = 0;
    if (c->grad)
        memset(c->grad, 0, (size_t)(d + 1) * sizeof *c->grad);
    for (size_t r = c->lo; r < c->hi; r++) {
        const int32_t *ci = X->cols + r * (size_t)nnz;
        const float *cv = X->val + r * (size_t)nnz;
        double z = b;
        for (int k = 0; k < nnz; k++)
            z += (double)cv[k] * w[ci[k]];
        double y = c->y[r] > 0.5f ? 1.0 : 0.0;
        // log(1 + e^z) - y z, stably, with one exp
        double ez = exp(-fabs(z));
        loss += (z > 0 ? z : 0) + log1p(ez) - y * z;
        if (c->grad) {
            double p = z >= 0 ? 1.0 / (1.0 + ez) : ez / (1.0 + ez);
            double g = p - y;
            for (int k = 0; k < nnz; k++)
                c->grad[ci[k]] += g * (double)cv[k];
            c->grad[d] += g;
        }
    }
    c->loss = loss;
}

/* Scratch for threaded evaluation: the pool and one gradient buffer per
 * chunk. The rows are cut into `threads` chunks whatever the pool does, and
 * their sums are added in chunk order: the result depends on the thread count
 * only. */
typedef struct evalctx {
    int threads;
    rdm_pool *pool;
    chunk ch[RDM_POOL_MAX];
    double *gbuf; /* threads * (d + 1) */
} evalctx;

static void chunk_item(void *arg, size_t item, int tid)
{
    evalctx *ctx = arg;
    (void)tid;
    eval_chunk(&ctx->ch[item]);
}

static double objective_ctx(evalctx *ctx, const rdm_csr *X, const float *y, double l2,
                            const double *wb, double *grad)
{
    int d = X->d, T = ctx->threads;
    size_t n = X->n;
    if ((size_t)T > n / 2048 + 1)
        T = (int)(n / 2048 + 1);
    for (int t = 0; t < T; t++) {
        chunk *c = &ctx->ch[t];
        c->X = X;
        c->y = y;
        c->wb = wb;
        c->lo = n * (size_t)t / (size_t)T;
        c->hi = n * (size_t)(t + 1) / (size_t)T;
        c->grad = grad ? (t == 0 ? grad : ctx->gbuf + (size_t)t * (size_t)(d + 1)) : NULL;
    }
    rdm_pool_for(ctx->pool, (size_t)T, chunk_item, ctx);
    double loss = 0;
    for (int t = 0; t < T; t++) {
        loss += ctx->ch[t].loss;
        if (grad && t > 0) {
            const double *g = ctx->ch[t].grad;
            for (int j = 0; j <= d; j++)
                grad[j] += g[j];
        }
    }
    double pen = 0;
    for (int j = 0; j < d; j++)
        pen += wb[j] * wb[j];
    loss += 0.5 * l2 * pen;
    if (grad)
        for (int j = 0; j < d; j++)
            grad[j] += l2 * wb[j];
    return loss;
}

static void ctx_release(evalctx *ctx)
{
    rdm_pool_free(ctx->pool);
    free(ctx->gbuf);
    ctx->pool = NULL;
    ctx->gbuf = NULL;
}

static int ctx_init(evalctx *ctx, int threads, int d)
{
    ctx->threads = threads <= 0 ? rdm_ncpu() : threads > RDM_POOL_MAX ? RDM_POOL_MAX : threads;
    ctx->gbuf = malloc((size_t)ctx->threads * (size_t)(d + 1) * sizeof *ctx->gbuf);
    ctx->pool = rdm_pool_create(ctx->threads, NULL);
    if (!ctx->gbuf || !ctx->pool) {
        ctx_release(ctx);
        return RDM_ENOMEM;
    }
    return RDM_OK;
}

double rdm_logreg_objective(const rdm_csr *X, const float *y, double l2, const double *wb,
                            double *grad, int threads)
{
    evalctx ctx;
    if (ctx_init(&ctx, threads, X->d) != RDM_OK)
        return NAN;
    double f = objective_ctx(&ctx, X, y, l2, wb, grad);
    ctx_release(&ctx);
    return f;
}

/* ---------------------------------------------------------------- L-BFGS */

#define LBFGS_M 10

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double maxabs(const double *a, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        if (fabs(a[i]) > m)
            m = fabs(a[i]);
    return m;
}

/* L-BFGS memory: the last LBFGS_M steps s and gradient changes y. */
typedef struct lbfgs {
    int D;
    double *S, *Yv, *H0; /* LBFGS_M * D, LBFGS_M * D, D (diagonal preconditioner) */
    double rho[LBFGS_M], alpha[LBFGS_M];
    int stored, head;
} lbfgs;

/* Diagonal preconditioner: the inverse of the Hessian diagonal of F/n at the
 * start, rate (1 - rate) mean(x_j^2) + l2 / n. One-hot columns of rare levels
 * have tiny curvature; scaling them makes L-BFGS converge in far fewer
 * iterations. */
static void precondition(const rdm_csr *X, double rate, double l2, double *H0)
{
    int d = X->d;
    double inv_n = 1.0 / (double)X->n, c0 = rate * (1 - rate);
    for (size_t k = 0; k < X->n * (size_t)X->nnz; k++)
        H0[X->cols[k]] += (double)X->val[k] * X->val[k];
    for (int j = 0; j < d; j++)
        H0[j] = 1.0 / (c0 * H0[j] * inv_n + l2 * inv_n + 1e-12);
    H0[d] = 1.0 / c0;
}

/* Search direction from gradient g (q: scratch); returns dir . g (< 0). */
static double lbfgs_direction(lbfgs *L, const double *g, double *q, double *dir)
{
    int D = L->D;
    const double *S = L->S, *Yv = L->Yv, *H0 = L->H0;
    // two-loop recursion
    memcpy(q, g, (size_t)D * sizeof *q);
    for (int i = 0; i < L->stored; i++) {
        int s = (L->head - 1 - i + LBFGS_M) % LBFGS_M;
        L->alpha[s] = L->rho[s] * dot(S + (size_t)s * D, q, D);
        const double *ys = Yv + (size_t)s * D;
        for (int j = 0; j < D; j++)
            q[j] -= L->alpha[s] * ys[j];
    }
    // initial inverse Hessian: the diagonal preconditioner, scaled so that
    // it agrees with the latest curvature pair
    double gamma = 1.0;
    if (L->stored > 0) {
        int s = (L->head - 1 + LBFGS_M) % LBFGS_M;
        const double *ys = Yv + (size_t)s * D;
        double yhy = 0;
        for (int j = 0; j < D; j++)
            yhy += ys[j] * H0[j] * ys[j];
        gamma = dot(S + (size_t)s * D, ys, D) / yhy;
    }
    for (int j = 0; j < D; j++)
        q[j] *= gamma * H0[j];
    for (int i = L->stored - 1; i >= 0; i--) {
        int s = (L->head - 1 - i + LBFGS_M) % LBFGS_M;
        double beta = L->rho[s] * dot(Yv + (size_t)s * D, q, D);
        const double *ss = S + (size_t)s * D;
        for (int j = 0; j < D; j++)
            q[j] += ss[j] * (L->alpha[s] - beta);
    }
    for (int j = 0; j < D; j++)
        dir[j] = -q[j];
    double dg = dot(dir, g, D);
    if (!(dg < 0)) { // not a descent direction: restart from steepest descent
        L->stored = 0;
        for (int j = 0; j < D; j++)
            dir[j] = -H0[j] * g[j];
        dg = dot(dir, g, D);
    }
    return dg;
}

/* Remember the step x -> xn with gradients g -> gn (when it has curvature). */
static void lbfgs_push(lbfgs *L, const double *x, const double *xn, const double *g,
                       const double *gn)
{
    int D = L->D;
    double *sn = L->S + (size_t)L->head * D, *yn = L->Yv + (size_t)L->head * D;
    for (int j = 0; j < D; j++) {
        sn[j] = xn[j] - x[j];
        yn[j] = gn[j] - g[j];
    }
    double sy = dot(sn, yn, D);
    if (sy > 1e-12 * dot(yn, yn, D)) {
        L->rho[L->head] = 1.0 / sy;
        L->head = (L->head + 1) % LBFGS_M;
        if (L->stored < LBFGS_M)
            L->stored++;
    }
}

/* Backtracking (Armijo) line search from x along dir: xn, gn (scaled by
 * 1/n) and *fn at the accepted step. Returns 1, or 0 when no step of the 40
 * tried decreases F/n enough (no progress possible at double precision). */
static int line_search(evalctx *ctx, const rdm_csr *X, const float *y, double l2, const double *x,
                       double f, const double *dir, double dg, double *xn, double *gn, double *fn,
                       int *nevals)
{
    int D = X->d + 1;
    double inv_n = 1.0 / (double)X->n, step = 1.0;
    for (int ls = 0; ls < 40; ls++) {
        for (int j = 0; j < D; j++)
            xn[j] = x[j] + step * dir[j];
        *fn = objective_ctx(ctx, X, y, l2, xn, gn) * inv_n;
        (*nevals)++;
        if (*fn <= f + 1e-4 * step * dg) {
            for (int j = 0; j < D; j++)
                gn[j] *= inv_n;
            return 1;
        }
        step *= 0.5;
    }
    return 0;
}

static int check_design(const rdm_csr *X, double l2, rdm_err *err)
{
    if (X->n == 0 || X->d <= 0 || X->nnz < 0 || !(l2 >= 0))
        return rdm_errf(err, RDM_EINVAL, "logreg: empty design or negative l2");
    for (size_t k = 0; k < X->n * (size_t)X->nnz; k++)
        if (X->cols[k] < 0 || X->cols[k] >= X->d || !isfinite(X->val[k]))
            return rdm_errf(err, RDM_EINVAL, "logreg: bad design entry at row %zu",
                            k / (size_t)X->nnz + 1);
    return RDM_OK;
}

rdm_logreg *rdm_logreg_fit(const rdm_csr *X, const float *y, const rdm_logreg_params *p,
                           rdm_logreg_info *info, rdm_err *err)
{
    rdm_logreg_params prm;
    if (p)
        prm = *p;
    else
        rdm_logreg_params_default(&prm);
    if (check_design(X, prm.l2, err) != RDM_OK)
        return NULL;
    int d = X->d, D = d + 1;
    double n = (double)X->n, inv_n = 1.0 / n, l2 = prm.l2;
    double *mem = calloc((size_t)D * (7 + 2 * LBFGS_M), sizeof *mem);
    evalctx ctx = {0};
    rdm_logreg *m = calloc(1, sizeof *m);
    if (!mem || !m || ctx_init(&ctx, prm.threads, d) != RDM_OK ||
        !(m->w = malloc((size_t)d * sizeof *m->w)))
        goto nomem;
    double *x = mem, *g = x + D, *xn = g + D, *gn = xn + D, *dir = gn + D, *q = dir + D;
    lbfgs L = {D, q + D, q + D + (size_t)D * LBFGS_M, q + D + 2 * (size_t)D * LBFGS_M, {0}, {0},
               0, 0};
    // start at w = 0, b = logit(base rate)
    double pos = 0;
    for (size_t r = 0; r < X->n; r++)
        pos += y[r] > 0.5f;
    double rate = (pos + 0.5) / (n + 1.0);
    x[d] = log(rate / (1 - rate));
    precondition(X, rate, l2, L.H0);
    double f = objective_ctx(&ctx, X, y, l2, x, g) * inv_n;
    for (int j = 0; j < D; j++)
        g[j] *= inv_n;
    int k = 0, converged = 0, nevals = 1;
    double gnorm = maxabs(g, D);
    while (k < prm.max_iter) {
        if (gnorm <= prm.tol) {
            converged = 1;
            break;
        }
        double dg = lbfgs_direction(&L, g, q, dir), fn = f;
        if (!line_search(&ctx, X, y, l2, x, f, dir, dg, xn, gn, &fn, &nevals))
            break;
        lbfgs_push(&L, x, xn, g, gn);
        double fold = f;
        memcpy(x, xn, (size_t)D * sizeof *x);
        memcpy(g, gn, (size_t)D * sizeof *g);
        f = fn;
        gnorm = maxabs(g, D);
        k++;
        if (prm.progress)
            prm.progress(k, f, gnorm, prm.progress_ud);
        // relative reduction test of L-BFGS-B (factr 1e7 * machine epsilon)
        if (fold - f <= 2.220446049250313e-09 * fmax(fmax(fabs(fold), fabs(f)), 1.0)) {
            converged = 1;
            break;
        }
    }
    if (gnorm <= prm.tol)
        converged = 1;
    m->d = d;
    m->l2 = l2;
    m->b = x[d];
    memcpy(m->w, x, (size_t)d * sizeof *m->w);
    m->mean = calloc((size_t)d, sizeof *m->mean);
    if (m->mean) { /* for explanations against the training mean */
        for (size_t e = 0; e < X->n * (size_t)X->nnz; e++)
            m->mean[X->cols[e]] += X->val[e];
        for (int j = 0; j < d; j++)
            m->mean[j] *= inv_n;
    }
    if (info) {
        info->iterations = k;
        info->evaluations = nevals;
        info->converged = converged;
        info->objective = f;
        info->grad_norm = gnorm;
    }
    free(mem);
    ctx_release(&ctx);
    return m;
nomem:
    free(mem);
    rdm_logreg_free(m);
    ctx_release(&ctx);
    rdm_errf(err, RDM_ENOMEM, "logreg: out of memory");
    return NULL;
}

/* ---------------------------------------------------------------- model */

rdm_logreg *rdm_logreg_create(int d, const double *w, double b, rdm_err *err)
{
    rdm_logreg *m = calloc(1, sizeof *m);
    if (m)
        m->w = malloc((size_t)(d > 0 ? d : 1) * sizeof *m->w);
    if (!m || !m->w || d <= 0) {
        if (m)
            free(m->w);
        free(m);
        rdm_errf(err, d <= 0 ? RDM_EINVAL : RDM_ENOMEM, "logreg: cannot create (d = %d)", d);
        return NULL;
    }
    m->d = d;
    m->b = b;
    if (w)
        memcpy(m->w, w, (size_t)d * sizeof *m->w);
    else
        memset(m->w, 0, (size_t)d * sizeof *m->w);
    return m;
}

void rdm_logreg_free(rdm_logreg *m)
{
    if (!m)
        return;
    free(m->w);
    free(m->mean);
    free(m);
}

int rdm_logreg_dim(const rdm_logreg *m)
{
    return m->d;
}

const double *rdm_logreg_coef(const rdm_logreg *m)
{
    return m->w;
}

double rdm_logreg_intercept(const rdm_logreg *m)
{
    return m->b;
}

const double *rdm_logreg_means(const rdm_logreg *m)
{
    return m->mean;
}

double rdm_logreg_get_l2(const rdm_logreg *m)
{
    return m->l2;
}

double rdm_logreg_margin(const rdm_logreg *m, const int32_t *cols, const float *val, int nnz)
{
    double z = m->b;
    for (int k = 0; k < nnz; k++)
        z += (double)val[k] * m->w[cols[k]];
    return z;
}

int rdm_logreg_save(const rdm_logreg *m, rdm_buf *out, rdm_err *err)
{
    int rc = rdm_buf_printf(out, "logreg %d %.17g\nintercept %.17g\n", m->d, m->l2, m->b);
    for (int j = 0; j < m->d && !rc; j++)
        rc = rdm_buf_printf(out, "%.17g\n", m->w[j]);
    if (!rc && m->mean) {
        rc = rdm_buf_adds(out, "means\n");
        for (int j = 0; j < m->d && !rc; j++)
            rc = rdm_buf_printf(out, "%.17g\n", m->mean[j]);
    }
    if (!rc)
        rc = rdm_buf_adds(out, "end logreg\n");
    return rc ? rdm_errf(err, RDM_ENOMEM, "logreg: out of memory") : RDM_OK;
}

rdm_logreg *rdm_logreg_load(const char *text, size_t n, size_t *used, rdm_err *err)
{
    rdm_text t = {text, text + n, 1};
    long d;
    double l2, b;
    rdm_logreg *m = NULL;
    int rc = rdm_text_expect(&t, "logreg", err);
    if (!rc)
        rc = rdm_text_long(&t, &d, 1, (long)(n / 2 + 1), "dimension", err);
    if (!rc)
        rc = rdm_text_double(&t, &l2, "l2", err);
    if (!rc)
        rc = rdm_text_eol(&t, err);
    if (!rc)
        rc = rdm_text_expect(&t, "intercept", err);
    if (!rc)
        rc = rdm_text_double(&t, &b, "intercept", err);
    if (!rc)
        rc = rdm_text_eol(&t, err);
    if (rc)
        goto fail;
    m = rdm_logreg_create((int)d, NULL, b, err);
    if (!m)
        goto fail;
    m->l2 = l2;
    for (long j = 0; j < d; j++) {
        if ((rc = rdm_text_double(&t, &m->w[j], "weight", err)) || (rc = rdm_text_eol(&t, err)))
            goto fail;
        if (!isfinite(m->w[j])) {
            rdm_errf(err, RDM_EPARSE, "line %d: weight is not finite", t.line - 1);
            goto fail;
        }
    }
    if (!isfinite(b)) {
        rdm_errf(err, RDM_EPARSE, "intercept is not finite");
        goto fail;
    }
    if (t.end - t.p >= 6 && memcmp(t.p, "means\n", 6) == 0) { /* optional (older files lack it) */
        if ((rc = rdm_text_expect(&t, "means", err)) || (rc = rdm_text_eol(&t, err)))
            goto fail;
        if (!(m->mean = malloc((size_t)d * sizeof *m->mean))) {
            rdm_errf(err, RDM_ENOMEM, "out of memory");
            goto fail;
        }
        for (long j = 0; j < d; j++)
            if ((rc = rdm_text_double(&t, &m->mean[j], "mean", err)) ||
                (rc = rdm_text_eol(&t, err)))
                goto fail;
    }
    if ((rc = rdm_text_expect(&t, "end", err)) || (rc = rdm_text_expect(&t, "logreg", err)) ||
        (rc = rdm_text_eol(&t, err)))
        goto fail;
    if (used)
        *used = (size_t)(t.p - text);
    return m;
fail:
    rdm_err_prefix(err, "logreg");
    rdm_logreg_free(m);
    return NULL;
}
