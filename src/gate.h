/* gate.h - moving the champion: `readmit register` (a new version of the
 * selected run, judged by the promotion gate), `promote` and `rollback`.
 *
 * The gate's decision is a pure function (rdm_gate_decide) of the two scores
 * and the configuration, so it is tested without a database; the rest reads
 * the data through dataset.h, scores through rdm_model_score and stores
 * through registry.h. */
#ifndef RDM_GATE_H
#define RDM_GATE_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "readmit.h"
#include "registry.h"

/* ---- the decision (pure) ---- */

typedef struct rdm_gate_input {
    const char *metric;    /* selection metric (metrics.c names it and its direction) */
    int new_version;       /* the candidate's version number */
    double new_score;      /* candidate on the current validation split (NaN: unknown) */
    int champion;          /* champion version, 0 when there is none */
    double champion_score; /* champion on the same rows (ignored without one) */
    double min_metric;     /* floor (a ceiling for a loss; 0 disables a loss ceiling) */
    double min_gain;       /* required improvement over the champion */
    size_t valid_rows;     /* for the reason text */
    long long snapshot_id; /* for the reason text */
} rdm_gate_input;

typedef enum rdm_gate_move {
    RDM_GATE_TO_CHAMPION = 1,  /* passed: the candidate becomes champion */
    RDM_GATE_TO_CHALLENGER = 2 /* failed: the candidate becomes challenger */
} rdm_gate_move;

typedef struct rdm_gate_decision {
    rdm_gate_move move;
    int passed;
    int higher_better;
    int floor_ok, gain_ok;
    double gain;      /* improvement in the metric's direction; NaN without a champion */
    char reason[512]; /* one line, as stored in the alias history */
} rdm_gate_decision;

/* Pass iff the score is finite, meets the floor (higher-is-better: score >=
 * min_metric; lower-is-better: min_metric <= 0 or score <= min_metric) and,
 * with a champion, gains at least min_gain over it (lower-is-better: the gain
 * is champion - new). */
void rdm_gate_decide(const rdm_gate_input *in, rdm_gate_decision *out);

/* Version a rollback returns to: replay the history (a promotion pushes the
 * champion it replaced, a rollback pops), drop the current champion from the
 * top. 0 when there is none. Pure. */
int rdm_gate_rollback_target(const rdm_alias_move *h, int n, int champion);

/* ---- the operations ---- */

/* Outcome of register / promote / rollback, for printing. */
typedef struct rdm_gate_result {
    int version;           /* the new (register) or target (promote/rollback) version */
    int already;           /* register: the selected run was already this version;
                              promote: the version was already the champion */
    int passed;            /* gate outcome (register), 1 for promote/rollback */
    int had_champion;      /* a champion existed before */
    int old_champion;      /* its version (0 if none) */
    int champion;          /* champion version after the operation */
    char metric[32];       /* selection metric */
    double new_score;      /* new version on the current validation split */
    double champion_score; /* old champion on the same split (NaN if none) */
    double min_metric, min_gain;
    size_t valid_rows;
    char reason[512]; /* as stored in the history */
} rdm_gate_result;

/* Register the selected run of the latest training of cfg->registry.model_name
 * as version N+1 (input schema + an example validation record), then apply
 * the gate: re-score the current champion and the new version on the current
 * validation split (rebuilt from the current clean snapshot). Pass: champion
 * -> new (the previous champion keeps no alias); fail: challenger -> new.
 * Each alias change is appended to the history; a champion change sends
 * NOTIFY readmit_model 'NAME:VERSION'. Re-running with no new training
 * registers nothing (res->already = 1). `actor` is recorded in the history. */
int rdm_gate_register(rdm_db *db, const rdm_config *cfg, const char *actor, rdm_gate_result *res,
                      rdm_err *err);

/* Make `version` the champion (manual). reason may be NULL ("manual").
 * Promoting the current champion changes nothing and succeeds
 * (res->already = 1). */
int rdm_gate_promote(rdm_db *db, const rdm_config *cfg, int version, const char *reason,
                     const char *actor, rdm_gate_result *res, rdm_err *err);

/* Champion back to the previous champion according to the history
 * (rdm_gate_rollback_target). RDM_ESTATE when there is none. */
int rdm_gate_rollback(rdm_db *db, const rdm_config *cfg, const char *reason, const char *actor,
                      rdm_gate_result *res, rdm_err *err);

#endif
