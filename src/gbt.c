/* gbt.c - histogram gradient-boosted trees for binary log loss: quantile
 * binning, leaf-wise growth with histogram subtraction, native categorical
 * splits, learned missing direction, pthread feature-parallel histograms
 * (results independent of the thread count), text form. */
#include "gbt.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GBT_FORMAT 1
#define MAX_CODES 255 /* categories per categorical feature (codes 0..254) */
#define CHUNK                                                                  \
  8192 /* rows per chunk in reductions: fixed, so sums do not depend on        \
          threads */
#define EDGE_SAMPLE 200000 /* rows used to compute the quantile bin edges */
#define CAT_SMOOTH                                                             \
  50.0 /* hessian added to each category when ordering categories */
#define MIN_GAIN 1e-10

/* ---- model
 * ----------------------------------------------------------------------------
 */

typedef struct gnode {
  int feat; /* -1 = leaf */
  int left; /* absolute node index */
  int right;
  int cat;   /* word offset of the left-category bitset in m->cats; -1 = numeric
                split */
  float thr; /* numeric: x <= thr goes left */
  int dleft; /* missing (and unknown categories) go left */
  double value; /* leaf value (learning rate applied) */
  double gain;  /* split gain (internal nodes) */
} gnode;

struct rdm_gbt {
  int d;
  int *ncat;
  double base;
  int ntrees;
  int *tstart; /* ntrees + 1 entries: first node of each tree */
  int tcap;
  gnode *nodes;
  int nn, ncap;
  uint32_t *cats;
  int nw, wcap;
};

static int ncat_words(int k) { return (k + 31) / 32; }

void rdm_gbt_params_default(rdm_gbt_params *p) {
  p->learning_rate = 0.05;
  p->max_iter = 1000;
  p->max_leaves = 31;
  p->max_depth = 0;
  p->max_bins = 255;
  p->min_child_weight = 20.0;
  p->l2 = 20.0;
  p->subsample = 1.0;
  p->colsample = 1.0;
  p->early_stopping = 20;
  p->threads = 0;
  p->seed = 1;
}

static rdm_gbt *model_new(int d, const int *ncat) {
  rdm_gbt *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->d = d;
  m->ncat = calloc((size_t)d, sizeof *m->ncat);
  m->tcap = 64;
  m->tstart = calloc((size_t)m->tcap + 1, sizeof *m->tstart);
  if (!m->ncat || !m->tstart) {
    rdm_gbt_free(m);
    return NULL;
  }
  if (ncat)
    memcpy(m->ncat, ncat, (size_t)d * sizeof *ncat);
  return m;
}

void rdm_gbt_free(rdm_gbt *m) {
  if (!m)
    return;
  free(m->ncat);
  free(m->tstart);
  free(m->nodes);
  free(m->cats);
  free(m);
}

/* Append `k` nodes; returns the index of the first, or -1. */
static int model_add_nodes(rdm_gbt *m, int k) {
  if (m->nn + k > m->ncap) {
    int cap = m->ncap ? m->ncap : 256;
    while (cap < m->nn + k)
      cap *= 2;
    gnode *nd = realloc(m->nodes, (size_t)cap * sizeof *nd);
    if (!nd)
      return -1;
    m->nodes = nd;
    m->ncap = cap;
  }
  int first = m->nn;
  for (int i = 0; i < k; i++) {
    gnode *q = &m->nodes[first + i];
    memset(q, 0, sizeof *q);
    q->feat = -1;
    q->left = q->right = q->cat = -1;
  }
  m->nn += k;
  return first;
}

static int model_add_words(rdm_gbt *m, int k) {
  if (m->nw + k > m->wcap) {
    int cap = m->wcap ? m->wcap : 64;
    while (cap < m->nw + k)
      cap *= 2;
    uint32_t *w = realloc(m->cats, (size_t)cap * sizeof *w);
    if (!w)
      return -1;
    m->cats = w;
    m->wcap = cap;
  }
  int first = m->nw;
  memset(m->cats + first, 0, (size_t)k * sizeof *m->cats);
  m->nw += k;
  return first;
}

/* Open a new tree at the end of the node array. */
static int model_begin_tree(rdm_gbt *m) {
  if (m->ntrees + 1 > m->tcap) {
    int cap = m->tcap * 2;
    int *t = realloc(m->tstart, ((size_t)cap + 1) * sizeof *t);
    if (!t)
      return -1;
    m->tstart = t;
    m->tcap = cap;
  }
  m->tstart[m->ntrees] = m->nn;
  return 0;
}

static void model_end_tree(rdm_gbt *m) {
  m->ntrees++;
  m->tstart[m->ntrees] = m->nn;
}

static inline int go_left(const rdm_gbt *m, const gnode *q, float v) {
  if (q->cat >= 0) {
    int k = m->ncat[q->feat];
    if (v >= 0.0f && v < (float)k && v == floorf(v)) {
      int code = (int)v;
      return (int)((m->cats[q->cat + code / 32] >> (code % 32)) & 1u);
    }
    return q->dleft;
  }
  if (isnan(v))
    return q->dleft;
  return v <= q->thr;
}

static inline double tree_value(const rdm_gbt *m, int t, const float *x) {
  const gnode *nd = m->nodes;
  int k = m->tstart[t];
  while (nd[k].feat >= 0) {
    const gnode *q = &nd[k];
    k = go_left(m, q, x[q->feat]) ? q->left : q->right;
  }
  return nd[k].value;
}

double rdm_gbt_margin(const rdm_gbt *m, const float *x) {
  double s = m->base;
  for (int t = 0; t < m->ntrees; t++)
    s += tree_value(m, t, x);
  return s;
}

int rdm_gbt_ntrees(const rdm_gbt *m) { return m ? m->ntrees : 0; }

int rdm_gbt_nfeatures(const rdm_gbt *m) { return m ? m->d : 0; }

void rdm_gbt_importance(const rdm_gbt *m, double *gain) {
  for (int j = 0; j < m->d; j++)
    gain[j] = 0.0;
  int end = m->tstart[m->ntrees];
  for (int k = 0; k < end; k++)
    if (m->nodes[k].feat >= 0)
      gain[m->nodes[k].feat] += m->nodes[k].gain;
}

/* ---- thread pool
 * ---------------------------------------------------------------------- */

typedef void (*job_fn)(void *arg, int tid, int nt);

typedef struct pool pool;
typedef struct wstart {
  pool *p;
  int tid;
} wstart;

struct pool {
  int nt;
  pthread_t *th;
  wstart *ws;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  atomic_ulong gen;
  atomic_int pending;
  atomic_int quit;
  job_fn fn;
  void *arg;
};

/* Yield rather than pause: when the machine is busy, the thread being waited
 * for may need this core. With nothing else runnable, sched_yield returns at
 * once and this is a spin. */
static inline void cpu_relax(void) { sched_yield(); }

/* Spin (yielding) up to ~100 us for *v to differ from `old` (a region is often
 * only a few hundred microseconds long: sleeping on a condition variable each
 * time would cost more). */
static void spin_while_eq_ulong(atomic_ulong *v, unsigned long old,
                                atomic_int *quit) {
  double t0 = 0;
  for (unsigned k = 1;; k++) {
    if (atomic_load(v) != old || atomic_load(quit))
      return;
    cpu_relax();
    if ((k & 15u) == 0) {
      double t = rdm_now();
      if (t0 == 0)
        t0 = t;
      else if (t - t0 > 100e-6)
        return;
    }
  }
}

static void spin_while_pending(atomic_int *v) {
  double t0 = 0;
  for (unsigned k = 1;; k++) {
    if (atomic_load(v) == 0)
      return;
    cpu_relax();
    if ((k & 15u) == 0) {
      double t = rdm_now();
      if (t0 == 0)
        t0 = t;
      else if (t - t0 > 100e-6)
        return;
    }
  }
}

static void *pool_main(void *a) {
  wstart *w = a;
  pool *p = w->p;
  unsigned long seen = 0;
  for (;;) {
    spin_while_eq_ulong(&p->gen, seen, &p->quit);
    pthread_mutex_lock(&p->mu);
    while (p->gen == seen && !p->quit)
      pthread_cond_wait(&p->go, &p->mu);
    if (p->quit) {
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    seen = p->gen;
    job_fn fn = p->fn;
    void *arg = p->arg;
    pthread_mutex_unlock(&p->mu);
    fn(arg, w->tid, p->nt);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0)
      pthread_cond_signal(&p->done);
    pthread_mutex_unlock(&p->mu);
  }
}

static void pool_free(pool *p) {
  if (!p)
    return;
  if (p->started) {
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
      pthread_join(p->th[i], NULL);
  }
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->go);
  pthread_cond_destroy(&p->done);
  free(p->th);
  free(p->ws);
  free(p);
}

/* nt threads in all: the caller's thread is number 0. */
static pool *pool_new(int nt) {
  pool *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->nt = nt;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->go, NULL);
  pthread_cond_init(&p->done, NULL);
  if (nt > 1) {
    p->th = calloc((size_t)nt, sizeof *p->th);
    p->ws = calloc((size_t)nt, sizeof *p->ws);
    if (!p->th || !p->ws) {
      pool_free(p);
      return NULL;
    }
    for (int i = 1; i < nt; i++) {
      p->ws[i].p = p;
      p->ws[i].tid = i;
      if (pthread_create(&p->th[p->started], NULL, pool_main, &p->ws[i]) != 0) {
        pool_free(p);
        return NULL;
      }
      p->started++;
    }
  }
  return p;
}

static void pool_run(pool *p, job_fn fn, void *arg) {
  if (p->nt <= 1) {
    fn(arg, 0, 1);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->pending = p->nt - 1;
  p->gen++;
  pthread_cond_broadcast(&p->go);
  pthread_mutex_unlock(&p->mu);
  fn(arg, 0, p->nt);
  spin_while_pending(&p->pending);
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0)
    pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

/* ---- random numbers (splitmix64)
 * ------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double rng_unif(uint64_t *s) {
  return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- fitting
 * -------------------------------------------------------------------------- */

typedef struct ghpair {
  float g, h;
} ghpair;

typedef struct ghsum {
  double g, h;
} ghsum;

typedef struct split {
  double gain;
  int feat;
  int tbin; /* numeric: bins <= tbin go left */
  int dleft;
  double gl, hl, gr, hr;
  uint32_t set[8]; /* categorical: bins (= codes) going left */
} split;

typedef struct leaf {
  int node; /* absolute node index in the model */
  uint32_t begin, end;
  int depth;
  double g, h;
  ghsum *hist;
  int can_split;
  split best;
} leaf;

typedef struct fitctx {
  size_t n;
  int d;
  const int *ncat;
  const float *X;
  int *nb;        /* non-missing bins per feature; the missing bin is nb[j] */
  float *edges;   /* upper edges, MAX_CODES per feature (numeric only) */
  int *off;       /* histogram offset per feature */
  int tb;         /* histogram entries in all */
  uint8_t *bins;  /* row-major n x d */
  uint8_t *cbins; /* column-major d x n (row partitioning) */
  ghpair *gh;
  uint32_t *idx, *tmp;
  int *fl, nf; /* features used by the current tree */
  double l2, mcw;
  int max_depth;
  pool *pool;
  rdm_err ferr; /* first error from a worker (edges) */
  float **wbuf; /* per-thread scratch for edges */
  uint32_t **wkey;
} fitctx;

/* ---- bin edges ---- */

static void radix_sort_u32(uint32_t *a, uint32_t *tmp, size_t n) {
  size_t cnt[2048];
  uint32_t *src = a, *dst = tmp;
  for (int pass = 0; pass < 3; pass++) {
    int shift = pass * 11;
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++)
      cnt[(src[i] >> shift) & 2047u]++;
    size_t s = 0;
    for (int b = 0; b < 2048; b++) {
      size_t c = cnt[b];
      cnt[b] = s;
      s += c;
    }
    for (size_t i = 0; i < n; i++)
      dst[cnt[(src[i] >> shift) & 2047u]++] = src[i];
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a)
    memcpy(a, src, n * sizeof *a);
}

static uint32_t f2key(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static float key2f(uint32_t k) {
  uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static float midpoint(float a, float b) {
  float f = (float)(((double)a + (double)b) * 0.5);
  if (!(f < b) || f < a)
    f = a;
  return f;
}

/* Quantile edges of numeric feature j from the (sampled) rows. */
static void feature_edges(fitctx *c, int j, int maxb, uint32_t *key,
                          uint32_t *tmp) {
  size_t n = c->n, step_n = n > EDGE_SAMPLE ? EDGE_SAMPLE : n, cnt = 0;
  float *e = c->edges + (size_t)j * MAX_CODES;
  for (size_t s = 0; s < step_n; s++) {
    size_t i =
        n > EDGE_SAMPLE ? (size_t)((double)s * (double)n / (double)step_n) : s;
    float v = c->X[i * (size_t)c->d + (size_t)j];
    if (isnan(v))
      continue;
    if (v == 0.0f)
      v = 0.0f; /* -0 -> +0 */
    key[cnt++] = f2key(v);
  }
  if (cnt == 0) {
    c->nb[j] = 1;
    e[0] = INFINITY;
    return;
  }
  radix_sort_u32(key, tmp, cnt);
  /* distinct values and counts, compacted in place: key[] distinct, tmp[]
   * counts */
  size_t nu = 0;
  for (size_t i = 0; i < cnt; i++) {
    if (nu > 0 && key[nu - 1] == key[i]) {
      tmp[nu - 1]++;
    } else {
      key[nu] = key[i];
      tmp[nu] = 1;
      nu++;
    }
  }
  int nbins = 0;
  if (nu <= (size_t)maxb) {
    for (size_t u = 0; u + 1 < nu; u++)
      e[nbins++] = midpoint(key2f(key[u]), key2f(key[u + 1]));
  } else {
    size_t remaining = cnt, acc = 0;
    for (size_t u = 0; u + 1 < nu && nbins < maxb - 1; u++) {
      acc += tmp[u];
      double target = (double)remaining / (double)(maxb - nbins);
      if ((double)acc >= target) {
        e[nbins++] = midpoint(key2f(key[u]), key2f(key[u + 1]));
        remaining -= acc;
        acc = 0;
      }
    }
  }
  e[nbins++] = INFINITY;
  c->nb[j] = nbins;
}

typedef struct edgejob {
  fitctx *c;
  int maxb;
} edgejob;

static void edge_job(void *arg, int tid, int nt) {
  edgejob *ej = arg;
  fitctx *c = ej->c;
  for (int j = tid; j < c->d; j += nt)
    if (c->ncat[j] == 0)
      feature_edges(c, j, ej->maxb, c->wkey[tid], (uint32_t *)c->wbuf[tid]);
}

static inline int value_bin(const fitctx *c, int j, float v) {
  int k = c->ncat[j];
  if (k > 0) {
    if (v >= 0.0f && v < (float)k && v == floorf(v))
      return (int)v;
    return k;
  }
  if (isnan(v))
    return c->nb[j];
  const float *e = c->edges + (size_t)j * MAX_CODES;
  int lo = 0, hi = c->nb[j] - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (v <= e[mid])
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

static void bin_job(void *arg, int tid, int nt) {
  fitctx *c = arg;
  size_t nch = (c->n + CHUNK - 1) / CHUNK;
  for (size_t ch = (size_t)tid; ch < nch; ch += (size_t)nt) {
    size_t lo = ch * CHUNK, hi = lo + CHUNK < c->n ? lo + CHUNK : c->n;
    for (size_t i = lo; i < hi; i++) {
      const float *x = c->X + i * (size_t)c->d;
      uint8_t *b = c->bins + i * (size_t)c->d;
      for (int j = 0; j < c->d; j++) {
        b[j] = (uint8_t)value_bin(c, j, x[j]);
        c->cbins[(size_t)j * c->n + i] = b[j];
      }
    }
  }
}

/* ---- split finding ---- */

static inline double score(double g, double h, double l2) {
  return g * g / (h + l2);
}

static void split_numeric(const fitctx *c, int j, const ghsum *hj, double G,
                          double H, split *s) {
  int nb = c->nb[j];
  double gm = hj[nb].g, hm = hj[nb].h, l2 = c->l2, mcw = c->mcw;
  double parent = score(G, H, l2);
  int has_missing = hm > 1e-12;
  double gl = 0, hl = 0;
  for (int t = 0; t < nb; t++) {
    gl += hj[t].g;
    hl += hj[t].h;
    for (int dl = 0; dl <= has_missing; dl++) {
      double lg = gl + (dl ? gm : 0), lh = hl + (dl ? hm : 0);
      double rg = G - lg, rh = H - lh;
      if (lh < mcw || rh < mcw)
        continue;
      double gain = score(lg, lh, l2) + score(rg, rh, l2) - parent;
      if (gain > s->gain) {
        s->gain = gain;
        s->feat = j;
        s->tbin = t;
        s->dleft = has_missing ? dl : lh >= rh;
        s->gl = lg;
        s->hl = lh;
        s->gr = rg;
        s->hr = rh;
      }
    }
  }
}

typedef struct catord {
  double key;
  int code;
} catord;

static int catord_cmp(const void *a, const void *b) {
  const catord *x = a, *y = b;
  if (x->key < y->key)
    return -1;
  if (x->key > y->key)
    return 1;
  return (x->code > y->code) - (x->code < y->code);
}

static void split_categorical(const fitctx *c, int j, const ghsum *hj, double G,
                              double H, split *s) {
  int k = c->ncat[j];
  double gm = hj[k].g, hm = hj[k].h, l2 = c->l2, mcw = c->mcw;
  double parent = score(G, H, l2);
  int has_missing = hm > 1e-12;
  catord ord[MAX_CODES];
  int m = 0;
  for (int b = 0; b < k; b++) {
    if (hj[b].h > 1e-12) {
      ord[m].key = hj[b].g / (hj[b].h + CAT_SMOOTH);
      ord[m].code = b;
      m++;
    }
  }
  if (m == 0)
    return;
  qsort(ord, (size_t)m, sizeof *ord, catord_cmp);
  double gl = 0, hl = 0;
  int best_p = -1;
  for (int p = 0; p < m; p++) {
    gl += hj[ord[p].code].g;
    hl += hj[ord[p].code].h;
    for (int dl = 0; dl <= has_missing; dl++) {
      double lg = gl + (dl ? gm : 0), lh = hl + (dl ? hm : 0);
      double rg = G - lg, rh = H - lh;
      if (lh < mcw || rh < mcw)
        continue;
      double gain = score(lg, lh, l2) + score(rg, rh, l2) - parent;
      if (gain > s->gain) {
        s->gain = gain;
        s->feat = j;
        s->tbin = -1;
        s->dleft = has_missing ? dl : lh >= rh;
        s->gl = lg;
        s->hl = lh;
        s->gr = rg;
        s->hr = rh;
        best_p = p;
      }
    }
  }
  if (best_p >= 0) {
    memset(s->set, 0, sizeof s->set);
    for (int p = 0; p <= best_p; p++)
      s->set[ord[p].code / 32] |= 1u << (ord[p].code % 32);
  }
}

static void split_init(split *s) {
  memset(s, 0, sizeof *s);
  s->gain = MIN_GAIN;
  s->feat = -1;
}

static void find_split(const fitctx *c, const leaf *lf, int j, split *s) {
  split_init(s);
  if (!lf->can_split)
    return;
  const ghsum *hj = lf->hist + c->off[j];
  if (c->ncat[j] > 0)
    split_categorical(c, j, hj, lf->g, lf->h, s);
  else
    split_numeric(c, j, hj, lf->g, lf->h, s);
}

/* ---- histogram job: build a (rows), b = parent - a, best split per feature
 * ---- */

typedef struct histjob {
  fitctx *c;
  leaf *a, *b;
  split *ra, *rb; /* per active feature */
} histjob;

static void hist_job(void *arg, int tid, int nt) {
  histjob *hjb = arg;
  fitctx *c = hjb->c;
  int lo = (int)((long)c->nf * tid / nt),
      hi = (int)((long)c->nf * (tid + 1) / nt);
  if (lo >= hi)
    return;
  leaf *a = hjb->a;
  ghsum *H = a->hist;
  const int *fl = c->fl;
  for (int q = lo; q < hi; q++) {
    int j = fl[q];
    int nbj = c->ncat[j] > 0 ? c->ncat[j] : c->nb[j];
    memset(H + c->off[j], 0, (size_t)(nbj + 1) * sizeof *H);
  }
  const uint8_t *bins = c->bins;
  const ghpair *gh = c->gh;
  const uint32_t *idx = c->idx;
  size_t d = (size_t)c->d;
  int nq = hi - lo;
  int lof[256];
  const int *fq = fl + lo;
  int *offq = nq <= 256 ? lof : NULL;
  if (offq)
    for (int q = 0; q < nq; q++)
      offq[q] = c->off[fq[q]];
  if (c->nf == c->d && offq) {
    /* every feature is active: fl[q] == q */
    for (uint32_t k = a->begin; k < a->end; k++) {
      uint32_t i = idx[k];
      const uint8_t *r = bins + (size_t)i * d + lo;
      double g = gh[i].g, h = gh[i].h;
      for (int q = 0; q < nq; q++) {
        ghsum *e = H + offq[q] + r[q];
        e->g += g;
        e->h += h;
      }
    }
  } else
    for (uint32_t k = a->begin; k < a->end; k++) {
      uint32_t i = idx[k];
      const uint8_t *r = bins + (size_t)i * d;
      double g = gh[i].g, h = gh[i].h;
      if (offq) {
        for (int q = 0; q < nq; q++) {
          ghsum *e = H + offq[q] + r[fq[q]];
          e->g += g;
          e->h += h;
        }
      } else {
        for (int q = 0; q < nq; q++) {
          ghsum *e = H + c->off[fq[q]] + r[fq[q]];
          e->g += g;
          e->h += h;
        }
      }
    }
  for (int q = lo; q < hi; q++) {
    int j = fl[q];
    if (hjb->b) {
      int nbj = c->ncat[j] > 0 ? c->ncat[j] : c->nb[j];
      ghsum *pb = hjb->b->hist + c->off[j];
      const ghsum *pa = H + c->off[j];
      for (int t = 0; t <= nbj; t++) {
        pb[t].g -= pa[t].g;
        pb[t].h -= pa[t].h;
      }
      find_split(c, hjb->b, j, &hjb->rb[q]);
    }
    find_split(c, a, j, &hjb->ra[q]);
  }
}

static void reduce_best(const fitctx *c, const split *r, split *best) {
  split_init(best);
  for (int q = 0; q < c->nf; q++)
    if (r[q].feat >= 0 && r[q].gain > best->gain)
      *best = r[q];
}

/* ---- gradients, loss, prediction updates ---- */

typedef struct gradjob {
  fitctx *c;
  const float *y;
  const double *margin;
  double *part; /* per chunk: loss sum */
} gradjob;

static inline double logloss1(double z, double y) {
  /* -(y log p + (1-y) log(1-p)) with p = sigmoid(z), stable */
  double l = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
  return l - y * z;
}

static void grad_job(void *arg, int tid, int nt) {
  gradjob *gj = arg;
  fitctx *c = gj->c;
  size_t nch = (c->n + CHUNK - 1) / CHUNK;
  for (size_t ch = (size_t)tid; ch < nch; ch += (size_t)nt) {
    size_t lo = ch * CHUNK, hi = lo + CHUNK < c->n ? lo + CHUNK : c->n;
    double s = 0;
    for (size_t i = lo; i < hi; i++) {
      double z = gj->margin[i], yi = gj->y[i];
      double e = exp(-fabs(z)); /* one exp gives both p and the loss */
      double p = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      double h = p * (1.0 - p);
      c->gh[i].g = (float)(p - yi);
      c->gh[i].h = (float)(h > 1e-16 ? h : 1e-16);
      s += log1p(e) + (z > 0 ? z : 0) - yi * z;
    }
    gj->part[ch] = s;
  }
}

typedef struct validjob {
  const rdm_gbt *m;
  int tree;
  const float *X;
  const float *y;
  size_t n;
  double *margin;
  double *part;
} validjob;

static void valid_job(void *arg, int tid, int nt) {
  validjob *vj = arg;
  size_t nch = (vj->n + CHUNK - 1) / CHUNK, d = (size_t)vj->m->d;
  for (size_t ch = (size_t)tid; ch < nch; ch += (size_t)nt) {
    size_t lo = ch * CHUNK, hi = lo + CHUNK < vj->n ? lo + CHUNK : vj->n;
    double s = 0;
    for (size_t i = lo; i < hi; i++) {
      if (vj->tree >= 0)
        vj->margin[i] += tree_value(vj->m, vj->tree, vj->X + i * d);
      if (vj->y)
        s += logloss1(vj->margin[i], vj->y[i]);
    }
    vj->part[ch] = s;
  }
}

/* Binned traversal of the training rows (used with row subsampling). */
typedef struct binjob {
  fitctx *c;
  const rdm_gbt *m;
  int tree;
  const int *tbin; /* per node of the tree (relative) */
  double *margin;
} binjob;

static void bintrav_job(void *arg, int tid, int nt) {
  binjob *bj = arg;
  fitctx *c = bj->c;
  const rdm_gbt *m = bj->m;
  int root = m->tstart[bj->tree];
  size_t nch = (c->n + CHUNK - 1) / CHUNK, d = (size_t)c->d;
  for (size_t ch = (size_t)tid; ch < nch; ch += (size_t)nt) {
    size_t lo = ch * CHUNK, hi = lo + CHUNK < c->n ? lo + CHUNK : c->n;
    for (size_t i = lo; i < hi; i++) {
      const uint8_t *r = c->bins + i * d;
      int k = root;
      while (m->nodes[k].feat >= 0) {
        const gnode *q = &m->nodes[k];
        int b = r[q->feat], left;
        if (q->cat >= 0)
          left = b >= m->ncat[q->feat]
                     ? q->dleft
                     : (int)((m->cats[q->cat + b / 32] >> (b % 32)) & 1u);
        else
          left = b == c->nb[q->feat] ? q->dleft : b <= bj->tbin[k - root];
        k = left ? q->left : q->right;
      }
      bj->margin[i] += m->nodes[k].value;
    }
  }
}

static double sum_parts(const double *part, size_t n) {
  double s = 0;
  size_t nch = (n + CHUNK - 1) / CHUNK;
  for (size_t ch = 0; ch < nch; ch++)
    s += part[ch];
  return s;
}

/* Stable partition of idx[begin,end) by the split of node q; returns the first
 * right index. */
static uint32_t partition_rows(fitctx *c, const rdm_gbt *m, const gnode *q,
                               int tbin, uint32_t begin, uint32_t end) {
  uint32_t nl = begin, nr = 0;
  int j = q->feat, miss = q->cat >= 0 ? m->ncat[j] : c->nb[j];
  const uint8_t *col = c->cbins + (size_t)j * c->n;
  for (uint32_t k = begin; k < end; k++) {
    uint32_t i = c->idx[k];
    int b = col[i], left;
    if (b == miss)
      left = q->dleft;
    else if (q->cat >= 0)
      left = (int)((m->cats[q->cat + b / 32] >> (b % 32)) & 1u);
    else
      left = b <= tbin;
    if (left)
      c->idx[nl++] = i;
    else
      c->tmp[nr++] = i;
  }
  memcpy(c->idx + nl, c->tmp, (size_t)nr * sizeof *c->tmp);
  return nl;
}

static int check_params(size_t n, int d, const int *ncat, const float *y,
                        const rdm_gbt_params *p, rdm_err *err) {
  if (n < 2 || n > 0xffffffffu)
    return rdm_errf(err, RDM_EINVAL,
                    "gbt: %zu training rows (need 2 .. 2^32-1)", n);
  if (d < 1)
    return rdm_errf(err, RDM_EINVAL, "gbt: %d features", d);
  if (!(p->learning_rate > 0 && p->learning_rate <= 10))
    return rdm_errf(err, RDM_EINVAL, "gbt: learning_rate %g not in (0, 10]",
                    p->learning_rate);
  if (p->max_iter < 1)
    return rdm_errf(err, RDM_EINVAL, "gbt: max_iter %d < 1", p->max_iter);
  if (p->max_leaves < 2 || p->max_leaves > 65536)
    return rdm_errf(err, RDM_EINVAL, "gbt: max_leaves %d not in 2..65536",
                    p->max_leaves);
  if (p->max_depth < 0)
    return rdm_errf(err, RDM_EINVAL, "gbt: max_depth %d < 0", p->max_depth);
  if (p->max_bins < 2 || p->max_bins > 255)
    return rdm_errf(err, RDM_EINVAL, "gbt: max_bins %d not in 2..255",
                    p->max_bins);
  if (!(p->min_child_weight >= 0) || !(p->l2 >= 0))
    return rdm_errf(err, RDM_EINVAL,
                    "gbt: min_child_weight and l2 must be >= 0");
  if (!(p->subsample > 0 && p->subsample <= 1) ||
      !(p->colsample > 0 && p->colsample <= 1))
    return rdm_errf(err, RDM_EINVAL,
                    "gbt: subsample and colsample must be in (0, 1]");
  if (p->early_stopping < 0 || p->threads < 0)
    return rdm_errf(err, RDM_EINVAL,
                    "gbt: early_stopping and threads must be >= 0");
  for (int j = 0; ncat && j < d; j++)
    if (ncat[j] < 0 || ncat[j] > MAX_CODES)
      return rdm_errf(err, RDM_EINVAL,
                      "gbt: feature %d: %d categories (at most %d)", j, ncat[j],
                      MAX_CODES);
  for (size_t i = 0; i < n; i++)
    if (y[i] != 0.0f && y[i] != 1.0f)
      return rdm_errf(err, RDM_EINVAL, "gbt: row %zu: label %g is not 0 or 1",
                      i, (double)y[i]);
  return RDM_OK;
}

rdm_gbt *rdm_gbt_fit(const float *X, const float *y, size_t n, int d,
                     const int *ncat_in, const float *Xv, const float *yv,
                     size_t nv, const rdm_gbt_params *p, rdm_gbt_progress cb,
                     void *ud, rdm_err *err) {
  if (!X || !y || !p) {
    rdm_errf(err, RDM_EINVAL, "gbt: missing training data or parameters");
    return NULL;
  }
  if (check_params(n, d, ncat_in, y, p, err) != RDM_OK)
    return NULL;
  if (!Xv || !yv)
    nv = 0;

  fitctx c;
  memset(&c, 0, sizeof c);
  rdm_gbt *m = NULL;
  int *ncat = NULL, *tbin = NULL;
  double *margin = NULL, *vmargin = NULL, *part = NULL, *vpart = NULL;
  ghsum *histmem = NULL;
  ghsum **freeh = NULL;
  leaf *leaves = NULL;
  split *ra = NULL, *rb = NULL;
  int nt = p->threads;
  if (nt == 0) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    nt = ncpu > 0 ? (int)ncpu : 1;
  }
  if (nt > 64)
    nt = 64;

  ncat = calloc((size_t)d, sizeof *ncat);
  if (!ncat)
    goto nomem;
  if (ncat_in)
    memcpy(ncat, ncat_in, (size_t)d * sizeof *ncat);
  c.n = n;
  c.d = d;
  c.ncat = ncat;
  c.X = X;
  c.l2 = p->l2;
  c.mcw = p->min_child_weight > 1e-9 ? p->min_child_weight : 1e-9;
  c.max_depth = p->max_depth;
  c.pool = pool_new(nt);
  c.nb = calloc((size_t)d, sizeof *c.nb);
  c.off = calloc((size_t)d + 1, sizeof *c.off);
  c.edges = malloc((size_t)d * MAX_CODES * sizeof *c.edges);
  c.bins = malloc(n * (size_t)d);
  c.cbins = malloc(n * (size_t)d);
  c.gh = malloc(n * sizeof *c.gh);
  c.idx = malloc(n * sizeof *c.idx);
  c.tmp = malloc(n * sizeof *c.tmp);
  c.fl = malloc((size_t)d * sizeof *c.fl);
  c.wbuf = calloc((size_t)nt, sizeof *c.wbuf);
  c.wkey = calloc((size_t)nt, sizeof *c.wkey);
  margin = malloc(n * sizeof *margin);
  part = malloc(((n + CHUNK - 1) / CHUNK) * sizeof *part);
  if (!c.pool || !c.nb || !c.off || !c.edges || !c.bins || !c.cbins || !c.gh ||
      !c.idx || !c.tmp || !c.fl || !c.wbuf || !c.wkey || !margin || !part)
    goto nomem;
  if (nv) {
    vmargin = malloc(nv * sizeof *vmargin);
    vpart = malloc(((nv + CHUNK - 1) / CHUNK) * sizeof *vpart);
    if (!vmargin || !vpart)
      goto nomem;
  }

  /* bins */
  {
    size_t ns = n > EDGE_SAMPLE ? EDGE_SAMPLE : n;
    for (int t = 0; t < nt; t++) {
      c.wbuf[t] = malloc(ns * sizeof(uint32_t));
      c.wkey[t] = malloc(ns * sizeof(uint32_t));
      if (!c.wbuf[t] || !c.wkey[t])
        goto nomem;
    }
    edgejob ej = {&c, p->max_bins};
    pool_run(c.pool, edge_job, &ej);
    for (int j = 0; j < d; j++) {
      if (ncat[j] > 0)
        c.nb[j] = ncat[j];
      c.off[j + 1] = c.off[j] + c.nb[j] + 1;
    }
    c.tb = c.off[d];
    pool_run(c.pool, bin_job, &c);
  }

  m = model_new(d, ncat);
  histmem = malloc((size_t)p->max_leaves * (size_t)c.tb * sizeof *histmem);
  freeh = malloc((size_t)p->max_leaves * sizeof *freeh);
  leaves = malloc((size_t)p->max_leaves * sizeof *leaves);
  ra = malloc((size_t)d * sizeof *ra);
  rb = malloc((size_t)d * sizeof *rb);
  tbin = malloc(2 * (size_t)p->max_leaves * sizeof *tbin);
  if (!m || !histmem || !freeh || !leaves || !ra || !rb || !tbin)
    goto nomem;

  /* base score */
  double pos = 0;
  for (size_t i = 0; i < n; i++)
    pos += y[i];
  double rate = pos / (double)n;
  if (rate < 1e-6)
    rate = 1e-6;
  if (rate > 1 - 1e-6)
    rate = 1 - 1e-6;
  m->base = log(rate / (1 - rate));
  for (size_t i = 0; i < n; i++)
    margin[i] = m->base;
  for (size_t i = 0; i < nv; i++)
    vmargin[i] = m->base;

  uint64_t rng = p->seed ^ 0x5851f42d4c957f2dULL;
  double best_vloss = INFINITY;
  int best_iter = -1, since_best = 0;
  gradjob gj = {&c, y, margin, part};
  pool_run(c.pool, grad_job, &gj);

  for (int it = 0; it < p->max_iter; it++) {
    /* feature subsample */
    int nf = d;
    for (int j = 0; j < d; j++)
      c.fl[j] = j;
    if (p->colsample < 1.0) {
      nf = (int)(p->colsample * d + 0.5);
      if (nf < 1)
        nf = 1;
      for (int q = 0; q < nf; q++) {
        int r = q + (int)(rng_next(&rng) % (uint64_t)(d - q));
        int t = c.fl[q];
        c.fl[q] = c.fl[r];
        c.fl[r] = t;
      }
      /* ascending order keeps memory access sequential */
      for (int q = 1; q < nf; q++)
        for (int r = q; r > 0 && c.fl[r - 1] > c.fl[r]; r--) {
          int t = c.fl[r];
          c.fl[r] = c.fl[r - 1];
          c.fl[r - 1] = t;
        }
    }
    c.nf = nf;
    /* row subsample */
    uint32_t nin = 0;
    if (p->subsample < 1.0) {
      for (size_t i = 0; i < n; i++)
        if (rng_unif(&rng) < p->subsample)
          c.idx[nin++] = (uint32_t)i;
      if (nin == 0)
        c.idx[nin++] = (uint32_t)(rng_next(&rng) % n);
    } else {
      for (size_t i = 0; i < n; i++)
        c.idx[i] = (uint32_t)i;
      nin = (uint32_t)n;
    }

    /* grow one tree */
    if (model_begin_tree(m) != 0)
      goto nomem;
    int root = model_add_nodes(m, 1);
    if (root < 0)
      goto nomem;
    int nfree = p->max_leaves;
    for (int k = 0; k < p->max_leaves; k++)
      freeh[k] = histmem + (size_t)(p->max_leaves - 1 - k) * (size_t)c.tb;
    leaf *L = &leaves[0];
    memset(L, 0, sizeof *L);
    L->node = root;
    L->begin = 0;
    L->end = nin;
    L->depth = 0;
    {
      double G = 0, Hs = 0;
      for (uint32_t k = 0; k < nin; k++) {
        G += c.gh[c.idx[k]].g;
        Hs += c.gh[c.idx[k]].h;
      }
      L->g = G;
      L->h = Hs;
    }
    L->hist = freeh[--nfree];
    L->can_split = nin >= 2 && L->h >= 2 * c.mcw;
    histjob hjb = {&c, L, NULL, ra, rb};
    pool_run(c.pool, hist_job, &hjb);
    reduce_best(&c, ra, &L->best);
    int nleaves = 1;
    while (nleaves < p->max_leaves) {
      int bl = -1;
      double bg = MIN_GAIN;
      for (int l = 0; l < nleaves; l++)
        if (leaves[l].best.feat >= 0 && leaves[l].best.gain > bg) {
          bg = leaves[l].best.gain;
          bl = l;
        }
      if (bl < 0)
        break;
      leaf P = leaves[bl];
      int kids = model_add_nodes(m, 2);
      if (kids < 0)
        goto nomem;
      gnode *q = &m->nodes[P.node];
      q->feat = P.best.feat;
      q->dleft = P.best.dleft;
      q->gain = P.best.gain;
      q->left = kids;
      q->right = kids + 1;
      if (ncat[q->feat] > 0) {
        int nwd = ncat_words(ncat[q->feat]);
        int w = model_add_words(m, nwd);
        if (w < 0)
          goto nomem;
        q = &m->nodes[P.node];
        q->cat = w;
        memcpy(m->cats + w, P.best.set, (size_t)nwd * sizeof *m->cats);
        q->thr = 0;
      } else {
        q->thr = c.edges[(size_t)q->feat * MAX_CODES + (size_t)P.best.tbin];
      }
      tbin[P.node - root] = P.best.tbin;
      uint32_t mid = partition_rows(&c, m, q, P.best.tbin, P.begin, P.end);
      leaf A, B;
      memset(&A, 0, sizeof A);
      memset(&B, 0, sizeof B);
      A.node = kids;
      A.begin = P.begin;
      A.end = mid;
      A.g = P.best.gl;
      A.h = P.best.hl;
      B.node = kids + 1;
      B.begin = mid;
      B.end = P.end;
      B.g = P.best.gr;
      B.h = P.best.hr;
      A.depth = B.depth = P.depth + 1;
      int dep_ok = c.max_depth == 0 || A.depth < c.max_depth;
      A.can_split = dep_ok && A.end - A.begin >= 2 && A.h >= 2 * c.mcw;
      B.can_split = dep_ok && B.end - B.begin >= 2 && B.h >= 2 * c.mcw;
      leaf *small = A.end - A.begin <= B.end - B.begin ? &A : &B;
      leaf *large = small == &A ? &B : &A;
      large->hist = P.hist;
      small->hist = freeh[--nfree];
      histjob hj2 = {&c, small, large, ra, rb};
      pool_run(c.pool, hist_job, &hj2);
      reduce_best(&c, ra, &small->best);
      reduce_best(&c, rb, &large->best);
      leaves[bl] = A;
      leaves[nleaves++] = B;
    }
    /* leaf values and training margins */
    for (int l = 0; l < nleaves; l++) {
      leaf *lf = &leaves[l];
      double w = -lf->g / (lf->h + c.l2) * p->learning_rate;
      m->nodes[lf->node].value = w;
      if (p->subsample >= 1.0)
        for (uint32_t k = lf->begin; k < lf->end; k++)
          margin[c.idx[k]] += w;
    }
    model_end_tree(m);
    if (p->subsample < 1.0) {
      binjob bj = {&c, m, m->ntrees - 1, tbin, margin};
      pool_run(c.pool, bintrav_job, &bj);
    }
    pool_run(c.pool, grad_job, &gj);
    double tloss = sum_parts(part, n) / (double)n, vloss = NAN;
    if (nv) {
      validjob vj = {m, m->ntrees - 1, Xv, yv, nv, vmargin, vpart};
      pool_run(c.pool, valid_job, &vj);
      vloss = sum_parts(vpart, nv) / (double)nv;
    }
    if (cb)
      cb(it, tloss, vloss, ud);
    if (nv && p->early_stopping > 0) {
      if (best_iter < 0 || vloss < best_vloss - 1e-12 * fabs(best_vloss)) {
        best_vloss = vloss;
        best_iter = it;
        since_best = 0;
      } else if (++since_best >= p->early_stopping) {
        break;
      }
    }
  }
  if (nv && p->early_stopping > 0 && best_iter >= 0 &&
      best_iter + 1 < m->ntrees) {
    m->ntrees = best_iter + 1;
    m->nn = m->tstart[m->ntrees];
    /* drop bitsets of removed trees: they were appended in order */
    int maxw = 0;
    for (int k = 0; k < m->nn; k++)
      if (m->nodes[k].cat >= 0) {
        int e = m->nodes[k].cat + ncat_words(ncat[m->nodes[k].feat]);
        if (e > maxw)
          maxw = e;
      }
    m->nw = maxw;
  }
  goto done;

nomem:
  rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
  rdm_gbt_free(m);
  m = NULL;
done:
  if (c.pool)
    pool_free(c.pool);
  for (int t = 0; t < nt && c.wbuf; t++)
    free(c.wbuf[t]);
  for (int t = 0; t < nt && c.wkey; t++)
    free(c.wkey[t]);
  free(c.wbuf);
  free(c.wkey);
  free(c.nb);
  free(c.off);
  free(c.edges);
  free(c.bins);
  free(c.cbins);
  free(c.gh);
  free(c.idx);
  free(c.tmp);
  free(c.fl);
  free(ncat);
  free(tbin);
  free(margin);
  free(vmargin);
  free(part);
  free(vpart);
  free(histmem);
  free(freeh);
  free(leaves);
  free(ra);
  free(rb);
  return m;
}

/* ---- text form
 * ------------------------------------------------------------------------
 *
 *   gbt 1
 *   features D
 *   ncat c_0 ... c_{D-1}
 *   base <hex float>
 *   trees T
 *   tree <t> <nodes>
 *   leaf <value>
 *   num <feature> <threshold> <default_left> <left> <right> <gain>
 *   cat <feature> <default_left> <left> <right> <gain> <word_0> ... (hex, 32
 * bits each) end
 *
 * Child indices are relative to the tree's first node and always greater than
 * the node's own index, so every path ends at a leaf. */

int rdm_gbt_save(const rdm_gbt *m, rdm_buf *out, rdm_err *err) {
  if (!m || !out)
    return rdm_errf(err, RDM_EINVAL, "gbt: nothing to save");
  int rc = rdm_buf_printf(out, "gbt %d\nfeatures %d\nncat", GBT_FORMAT, m->d);
  for (int j = 0; rc == 0 && j < m->d; j++)
    rc = rdm_buf_printf(out, " %d", m->ncat[j]);
  if (rc == 0)
    rc = rdm_buf_printf(out, "\nbase %a\ntrees %d\n", m->base, m->ntrees);
  for (int t = 0; rc == 0 && t < m->ntrees; t++) {
    int r = m->tstart[t], e = m->tstart[t + 1];
    rc = rdm_buf_printf(out, "tree %d %d\n", t, e - r);
    for (int k = r; rc == 0 && k < e; k++) {
      const gnode *q = &m->nodes[k];
      if (q->feat < 0) {
        rc = rdm_buf_printf(out, "leaf %a\n", q->value);
      } else if (q->cat < 0) {
        rc = rdm_buf_printf(out, "num %d %a %d %d %d %a\n", q->feat,
                            (double)q->thr, q->dleft, q->left - r, q->right - r,
                            q->gain);
      } else {
        rc = rdm_buf_printf(out, "cat %d %d %d %d %a", q->feat, q->dleft,
                            q->left - r, q->right - r, q->gain);
        int nwd = ncat_words(m->ncat[q->feat]);
        for (int w = 0; rc == 0 && w < nwd; w++)
          rc = rdm_buf_printf(out, " %x", (unsigned)m->cats[q->cat + w]);
        if (rc == 0)
          rc = rdm_buf_addc(out, '\n');
      }
    }
  }
  if (rc == 0)
    rc = rdm_buf_adds(out, "end\n");
  if (rc != 0)
    return rdm_errf(err, RDM_ENOMEM, "gbt: out of memory while saving");
  return RDM_OK;
}

typedef struct rd {
  const char *s;
  size_t n, pos;
  int line;
  rdm_err *err;
} rd;

/* Next whitespace-separated token on the current line into tok; 0 when the line
 * has ended. */
static int rd_tok(rd *r, char *tok, size_t cap) {
  while (r->pos < r->n && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t'))
    r->pos++;
  size_t k = 0;
  while (r->pos < r->n && r->s[r->pos] != ' ' && r->s[r->pos] != '\t' &&
         r->s[r->pos] != '\n' && r->s[r->pos] != '\r') {
    if (k + 1 >= cap)
      return -1;
    tok[k++] = r->s[r->pos++];
  }
  tok[k] = '\0';
  return k > 0;
}

static int rd_fail(rd *r, const char *what) {
  return rdm_errf(r->err, RDM_EPARSE, "gbt model line %d: %s", r->line, what);
}

static int rd_eol(rd *r) {
  char tok[8];
  if (rd_tok(r, tok, sizeof tok) != 0)
    return rd_fail(r, "unexpected extra text at end of line");
  if (r->pos < r->n && r->s[r->pos] == '\r')
    r->pos++;
  if (r->pos >= r->n)
    return rd_fail(r, "truncated (line does not end)");
  if (r->s[r->pos] != '\n')
    return rd_fail(r, "bad character");
  r->pos++;
  r->line++;
  return RDM_OK;
}

static int rd_word(rd *r, const char *want) {
  char tok[32];
  if (rd_tok(r, tok, sizeof tok) != 1 || strcmp(tok, want) != 0) {
    char msg[64];
    snprintf(msg, sizeof msg, "expected '%s'", want);
    return rd_fail(r, msg);
  }
  return RDM_OK;
}

static int rd_long(rd *r, long lo, long hi, long *out, const char *what) {
  char tok[32], msg[96];
  if (rd_tok(r, tok, sizeof tok) == 1) {
    char *end;
    long v = strtol(tok, &end, 10);
    if (*end == '\0' && end != tok && v >= lo && v <= hi) {
      *out = v;
      return RDM_OK;
    }
  }
  snprintf(msg, sizeof msg, "%s: expected an integer in %ld..%ld", what, lo,
           hi);
  return rd_fail(r, msg);
}

static int rd_int(rd *r, int lo, int hi, int *out, const char *what) {
  long v = 0;
  int rc = rd_long(r, lo, hi, &v, what);
  if (rc == RDM_OK)
    *out = (int)v;
  return rc;
}

static int rd_double(rd *r, double *out, int allow_inf, const char *what) {
  char tok[64], msg[96];
  if (rd_tok(r, tok, sizeof tok) == 1) {
    char *end;
    double v = strtod(tok, &end);
    if (*end == '\0' && end != tok && !isnan(v) && (allow_inf || isfinite(v))) {
      *out = v;
      return RDM_OK;
    }
  }
  snprintf(msg, sizeof msg, "%s: expected a number", what);
  return rd_fail(r, msg);
}

static int rd_hex32(rd *r, uint32_t *out) {
  char tok[16];
  if (rd_tok(r, tok, sizeof tok) == 1) {
    char *end;
    unsigned long v = strtoul(tok, &end, 16);
    if (*end == '\0' && tok[0] != '-' && tok[0] != '+' && v <= 0xffffffffUL) {
      *out = (uint32_t)v;
      return RDM_OK;
    }
  }
  return rd_fail(r, "category bitset: expected a 32-bit hex word");
}

rdm_gbt *rdm_gbt_load(const char *text, size_t n, size_t *used, rdm_err *err) {
  rd r = {text, n, 0, 1, err};
  rdm_gbt *m = NULL;
  int d, ver, ntrees;
  if (used)
    *used = 0;
  if (!text) {
    rdm_errf(err, RDM_EPARSE, "gbt model: no text");
    return NULL;
  }
  if (rd_word(&r, "gbt") || rd_int(&r, 0, 1000000, &ver, "format version"))
    return NULL;
  if (ver != GBT_FORMAT) {
    rdm_errf(err, RDM_EVERSION,
             "gbt model line %d: format version %d not supported (this build "
             "reads %d)",
             r.line, ver, GBT_FORMAT);
    return NULL;
  }
  if (rd_eol(&r) || rd_word(&r, "features") ||
      rd_int(&r, 1, 1000000, &d, "features") || rd_eol(&r) ||
      rd_word(&r, "ncat"))
    return NULL;
  m = model_new(d, NULL);
  if (!m) {
    rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
    return NULL;
  }
  double base;
  for (int j = 0; j < d; j++)
    if (rd_int(&r, 0, MAX_CODES, &m->ncat[j], "category count"))
      goto fail;
  if (rd_eol(&r) || rd_word(&r, "base") || rd_double(&r, &base, 0, "base") ||
      rd_eol(&r) || rd_word(&r, "trees") ||
      rd_int(&r, 0, 10000000, &ntrees, "trees") || rd_eol(&r))
    goto fail;
  m->base = base;
  for (int t = 0; t < ntrees; t++) {
    int tt, nn;
    if (rd_word(&r, "tree") || rd_int(&r, t, t, &tt, "tree number") ||
        rd_int(&r, 1, 10000000, &nn, "node count") || rd_eol(&r))
      goto fail;
    if (model_begin_tree(m) != 0)
      goto nomem;
    int root = m->nn;
    for (int k = 0; k < nn; k++) {
      char kind[8];
      if (rd_tok(&r, kind, sizeof kind) != 1) {
        rd_fail(&r, "expected a node (leaf, num or cat)");
        goto fail;
      }
      int a = model_add_nodes(m, 1);
      if (a < 0)
        goto nomem;
      gnode *q = &m->nodes[a];
      double v, gain;
      int l, rr;
      if (strcmp(kind, "leaf") == 0) {
        if (rd_double(&r, &v, 0, "leaf value"))
          goto fail;
        q->value = v;
      } else if (strcmp(kind, "num") == 0 || strcmp(kind, "cat") == 0) {
        int is_cat = kind[0] == 'c';
        if (rd_int(&r, 0, d - 1, &q->feat, "feature"))
          goto fail;
        if ((m->ncat[q->feat] > 0) != is_cat) {
          rd_fail(&r, is_cat ? "categorical split on a numeric feature"
                             : "numeric split on a categorical feature");
          goto fail;
        }
        if (!is_cat) {
          if (rd_double(&r, &v, 1, "threshold"))
            goto fail;
          q->thr = (float)v;
        }
        if (rd_int(&r, 0, 1, &q->dleft, "default_left") ||
            rd_int(&r, k + 1, nn - 1, &l, "left child") ||
            rd_int(&r, k + 1, nn - 1, &rr, "right child") ||
            rd_double(&r, &gain, 0, "gain"))
          goto fail;
        q->left = root + l;
        q->right = root + rr;
        q->gain = gain;
        if (is_cat) {
          int nwd = ncat_words(m->ncat[q->feat]);
          int w = model_add_words(m, nwd);
          if (w < 0)
            goto nomem;
          m->nodes[a].cat = w;
          for (int i = 0; i < nwd; i++)
            if (rd_hex32(&r, &m->cats[w + i]))
              goto fail;
        }
      } else {
        rd_fail(&r, "unknown node kind");
        goto fail;
      }
      if (rd_eol(&r))
        goto fail;
    }
    model_end_tree(m);
  }
  if (rd_word(&r, "end"))
    goto fail;
  {
    char tok[8];
    if (rd_tok(&r, tok, sizeof tok) != 0) {
      rd_fail(&r, "unexpected text after 'end'");
      goto fail;
    }
    if (r.pos < r.n && r.s[r.pos] == '\r')
      r.pos++;
    if (r.pos < r.n && r.s[r.pos] == '\n')
      r.pos++;
  }
  if (used)
    *used = r.pos;
  return m;
nomem:
  rdm_errf(err, RDM_ENOMEM, "gbt: out of memory");
fail:
  rdm_gbt_free(m);
  return NULL;
}
