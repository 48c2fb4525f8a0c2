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

/* The design as the objective reads it. Each row's positions are split into
 * the "unit" ones, whose value is 1 in every row (one-hot levels: the margin
 * adds the weight, the gradient adds g, no value is loaded), and the others;
 * column indexes are kept in 16 bits when the dimension allows (a third of
 * the CSR's memory traffic per pass), else the CSR is read as it is. Rows
 * are cut into chunks whose number depends on the row count only and the
 * chunks' sums are added in chunk order, so the objective and its gradient
 * are the same for any number of threads. */
enum { CHUNK_MIN_ROWS = 2048, MAX_CHUNKS = 64, LOG_ROWS = 16 };

typedef struct design {
    const rdm_csr *X;
    const float *y;
    int nu, nv;        /* unit and valued positions per row (compact form) */
    uint16_t *uc, *vc; /* n * nu, n * nv column indexes; NULL: read X */
    float *vv;         /* n * nv values */
    size_t chunk_rows, nchunks;
} design;

typedef struct evalctx {
    design D;
    rdm_pool *pool;
    const double *wb;
    double *grad; /* NULL for the loss only */
    double *gbuf; /* nchunks * (d + 1) */
    double *loss; /* nchunks */
} evalctx;

static void eval_csr(const evalctx *c, size_t lo, size_t hi, double *grad, double *loss_out)
{
    const rdm_csr *X = c->D.X;
    int d = X->d, nnz = X->nnz;
    const double *w = c->wb;
    double b = c->wb[d], loss = 0;
    for (size_t r = lo; r < hi; r++) {
        const int32_t *ci = X->cols + r * (size_t)nnz;
        const float *cv = X->val + r * (size_t)nnz;
        double z = b;
        for (int k = 0; k < nnz; k++)
            z += (double)cv[k] * w[ci[k]];
        double y = c->D.y[r] > 0.5f ? 1.0 : 0.0;
        // log(1 + e^z) - y z, stably, with one exp
        double ez = exp(-fabs(z));
        loss += (z > 0 ? z : 0) + log1p(ez) - y * z;
        if (grad) {
            double p = z >= 0 ? 1.0 / (1.0 + ez) : ez / (1.0 + ez);
            double g = p - y;
            for (int k = 0; k < nnz; k++)
                grad[ci[k]] += g * (double)cv[k];
            grad[d] += g;
        }
    }
    *loss_out = loss;
}

static void eval_compact(const evalctx *c, size_t lo, size_t hi, double *grad, double *loss_out)
{
    const design *D = &c->D;
    int d = D->X->d, nu = D->nu, nv = D->nv;
    const double *w = c->wb;
    double b = c->wb[d], loss = 0, prod = 1;
    int inprod = 0;
    for (size_t r = lo; r < hi; r++) {
        const uint16_t *u = D->uc + r * (size_t)nu, *vc = D->vc + r * (size_t)nv;
        const float *vv = D->vv + r * (size_t)nv;
        /* four partial sums: one chain of dependent additions would cost
         * the add latency per entry */
        double z0 = 0, z1 = 0, z2 = 0, z3 = 0;
        int k = 0;
        for (; k + 4 <= nu; k += 4) {
            z0 += w[u[k]];
            z1 += w[u[k + 1]];
            z2 += w[u[k + 2]];
            z3 += w[u[k + 3]];
        }
        for (; k < nu; k++)
            z0 += w[u[k]];
        for (k = 0; k + 2 <= nv; k += 2) {
            z1 += (double)vv[k] * w[vc[k]];
            z2 += (double)vv[k + 1] * w[vc[k + 1]];
        }
        for (; k < nv; k++)
            z3 += (double)vv[k] * w[vc[k]];
        double z = b + ((z0 + z1) + (z2 + z3));
        double y = D->y[r] > 0.5f ? 1.0 : 0.0;
        // log(1 + e^z) - y z = max(z, 0) - y z + log(1 + e^-|z|), one exp
        // per row and one log per LOG_ROWS rows: the product of LOG_ROWS
        // factors in (1, 2] neither overflows nor loses more than a few ulps
        double ez = exp(-fabs(z));
        loss += (z > 0 ? z : 0) - y * z;
        prod *= 1.0 + ez;
        if (++inprod == LOG_ROWS) {
            loss += log(prod);
            prod = 1;
            inprod = 0;
        }
        if (grad) {
            double p = z >= 0 ? 1.0 / (1.0 + ez) : ez / (1.0 + ez);
            double g = p - y;
            for (k = 0; k < nu; k++)
                grad[u[k]] += g;
            for (k = 0; k < nv; k++)
                grad[vc[k]] += g * (double)vv[k];
            grad[d] += g;
        }
    }
    *loss_out = loss + log(prod);
}

static void chunk_item(void *arg, size_t item, int tid)
{
    evalctx *c = arg;
    (void)tid;
    size_t n = c->D.X->n, lo = item * c->D.chunk_rows;
    size_t hi = lo + c->D.chunk_rows < n ? lo + c->D.chunk_rows : n;
    int d = c->D.X->d;
    double *g = c->grad ? c->gbuf + item * (size_t)(d + 1) : NULL;
    if (g)
        memset(g, 0, (size_t)(d + 1) * sizeof *g);
    if (c->D.uc)
        eval_compact(c, lo, hi, g, &c->loss[item]);
    else
        eval_csr(c, lo, hi, g, &c->loss[item]);
}

static double objective_ctx(evalctx *ctx, double l2, const double *wb, double *grad)
{
    int d = ctx->D.X->d;
    size_t nc = ctx->D.nchunks;
    ctx->wb = wb;
    ctx->grad = grad;
    rdm_pool_for(ctx->pool, nc, chunk_item, ctx);
    double loss = 0;
    if (grad)
        memset(grad, 0, (size_t)(d + 1) * sizeof *grad);
    for (size_t t = 0; t < nc; t++) {
        loss += ctx->loss[t];
        if (grad) {
            const double *g = ctx->gbuf + t * (size_t)(d + 1);
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
    free(ctx->loss);
    free(ctx->D.uc);
    free(ctx->D.vc);
    free(ctx->D.vv);
    memset(ctx, 0, sizeof *ctx);
}

/* The compact form of X (see design); left NULL when d does not fit 16 bits
 * or memory is short (X is then read as it is: the same sums up to rounding,
 * in another order). */
static void compact(design *D)
{
    const rdm_csr *X = D->X;
    size_t n = X->n;
    int nnz = X->nnz;
    if (X->d > 65535 || nnz <= 0)
        return;
    char *unit = malloc((size_t)nnz);
    if (!unit)
        return;
    memset(unit, 1, (size_t)nnz);
    for (size_t r = 0; r < n; r++)
        for (int k = 0; k < nnz; k++)
            if (X->val[r * (size_t)nnz + (size_t)k] != 1.0f)
                unit[k] = 0;
    int nu = 0;
    for (int k = 0; k < nnz; k++)
        nu += unit[k];
    int nv = nnz - nu;
    D->uc = malloc((n * (size_t)nu + 1) * sizeof *D->uc);
    D->vc = malloc((n * (size_t)nv + 1) * sizeof *D->vc);
    D->vv = malloc((n * (size_t)nv + 1) * sizeof *D->vv);
    if (!D->uc || !D->vc || !D->vv) {
        free(D->uc);
        free(D->vc);
        free(D->vv);
        D->uc = D->vc = NULL;
        D->vv = NULL;
        free(unit);
        return;
    }
    D->nu = nu;
    D->nv = nv;
    for (size_t r = 0; r < n; r++) {
        const int32_t *ci = X->cols + r * (size_t)nnz;
        const float *cv = X->val + r * (size_t)nnz;
        uint16_t *u = D->uc + r * (size_t)nu, *vc = D->vc + r * (size_t)nv;
        float *vv = D->vv + r * (size_t)nv;
        for (int k = 0; k < nnz; k++)
            if (unit[k]) {
                *u++ = (uint16_t)ci[k];
            } else {
                *vc++ = (uint16_t)ci[k];
                *vv++ = cv[k];
            }
    }
    free(unit);
}

static int ctx_init(evalctx *ctx, const rdm_csr *X, const float *y, int threads)
{
    memset(ctx, 0, sizeof *ctx);
    int T = threads <= 0 ? rdm_ncpu() : threads > RDM_POOL_MAX ? RDM_POOL_MAX : threads;
    size_t n = X->n, rows = (n + MAX_CHUNKS - 1) / MAX_CHUNKS;
    ctx->D.X = X;
    ctx->D.y = y;
    ctx->D.chunk_rows = rows > CHUNK_MIN_ROWS ? rows : CHUNK_MIN_ROWS;
    ctx->D.nchunks = (n + ctx->D.chunk_rows - 1) / ctx->D.chunk_rows;
    if ((size_t)T > ctx->D.nchunks)
        T = ctx->D.nchunks ? (int)ctx->D.nchunks : 1;
    ctx->gbuf = malloc((ctx->D.nchunks + 1) * (size_t)(X->d + 1) * sizeof *ctx->gbuf);
    ctx->loss = malloc((ctx->D.nchunks + 1) * sizeof *ctx->loss);
    ctx->pool = T > 1 ? rdm_pool_create(T, NULL) : NULL;
    if (!ctx->gbuf || !ctx->loss || (T > 1 && !ctx->pool)) {
        ctx_release(ctx);
        return RDM_ENOMEM;
    }
    compact(&ctx->D);
    return RDM_OK;
}

double rdm_logreg_objective(const rdm_csr *X, const float *y, double l2, const double *wb,
                            double *grad, int threads)
{
    evalctx ctx;
    if (ctx_init(&ctx, X, y, threads) != RDM_OK)
        return NAN;
    double f = objective_ctx(&ctx, l2, wb, grad);
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
 * start, in the centred coordinates the fit moves in (see centred):
 * rate (1 - rate) var(x_j) + l2 / n. One-hot columns of rare levels have tiny
 * curvature; scaling them makes L-BFGS converge in far fewer iterations. */
static void precondition(const rdm_csr *X, const double *mean, double rate, double l2, double *H0)
{
    int d = X->d;
    double inv_n = 1.0 / (double)X->n, c0 = rate * (1 - rate);
    for (size_t k = 0; k < X->n * (size_t)X->nnz; k++)
        H0[X->cols[k]] += (double)X->val[k] * X->val[k];
    for (int j = 0; j < d; j++) {
        double var = H0[j] * inv_n - mean[j] * mean[j];
        H0[j] = 1.0 / (c0 * (var > 0 ? var : 0) + l2 * inv_n + 1e-12);
    }
    H0[d] = 1.0 / c0;
}

/* The fit moves in centred coordinates: x = (w, c) with the intercept
 * b = c - w . mean, i.e. the margin is c + sum w_j (x_j - mean_j). The
 * objective is the same function (the intercept is not penalised), so its
 * minimiser is the same model; but the one-hot columns of a field, which sum
 * to 1 and so move with the intercept, no longer do once centred, and L-BFGS
 * needs far fewer iterations. F and its gradient in x, from the sparse
 * evaluation at (w, b); raw: d + 1 scratch. */
static double centred(evalctx *ctx, double l2, const double *mean, const double *x, double *raw,
                      double *grad)
{
    int d = ctx->D.X->d;
    double wm = 0;
    for (int j = 0; j < d; j++) {
        raw[j] = x[j];
        wm += x[j] * mean[j];
    }
    raw[d] = x[d] - wm;
    double f = objective_ctx(ctx, l2, raw, grad);
    if (grad)
        for (int j = 0; j < d; j++)
            grad[j] -= mean[j] * grad[d];
    return f;
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
static int line_search(evalctx *ctx, const rdm_csr *X, double l2, const double *mean, double *raw,
                       const double *x, double f, const double *dir, double dg, double *xn,
                       double *gn, double *fn, int *nevals)
{
    int D = X->d + 1;
    double inv_n = 1.0 / (double)X->n, step = 1.0;
    for (int ls = 0; ls < 40; ls++) {
        for (int j = 0; j < D; j++)
            xn[j] = x[j] + step * dir[j];
        *fn = centred(ctx, l2, mean, xn, raw, gn) * inv_n;
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
    double *mem = calloc((size_t)D * (8 + 2 * LBFGS_M), sizeof *mem);
    evalctx ctx = {0};
    rdm_logreg *m = calloc(1, sizeof *m);
    if (!mem || !m || ctx_init(&ctx, X, y, prm.threads) != RDM_OK ||
        !(m->w = malloc((size_t)d * sizeof *m->w)) ||
        !(m->mean = calloc((size_t)d, sizeof *m->mean)))
        goto nomem;
    double *x = mem, *g = x + D, *xn = g + D, *gn = xn + D, *dir = gn + D, *q = dir + D;
    lbfgs L = {D, q + D, q + D + (size_t)D * LBFGS_M, q + D + 2 * (size_t)D * LBFGS_M, {0}, {0},
               0, 0};
    double *raw = L.H0 + D, *mean = m->mean;
    /* the training mean of each column: the centring, and explanations */
    for (size_t e = 0; e < X->n * (size_t)X->nnz; e++)
        mean[X->cols[e]] += X->val[e];
    for (int j = 0; j < d; j++)
        mean[j] *= inv_n;
    // start at w = 0, b = logit(base rate)
    double pos = 0;
    for (size_t r = 0; r < X->n; r++)
        pos += y[r] > 0.5f;
    double rate = (pos + 0.5) / (n + 1.0);
    x[d] = log(rate / (1 - rate));
    precondition(X, mean, rate, l2, L.H0);
    double f = centred(&ctx, l2, mean, x, raw, g) * inv_n;
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
        if (!line_search(&ctx, X, l2, mean, raw, x, f, dir, dg, xn, gn, &fn, &nevals))
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
    memcpy(m->w, x, (size_t)d * sizeof *m->w);
    m->b = x[d] - dot(x, mean, d); /* back from the centred coordinates */
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
