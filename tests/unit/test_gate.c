/* test_gate.c - the promotion gate's decision and the rollback target, both
 * pure (gate.c): no database. Table-driven: one row per case. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "gate.h"

int test_gate_register(void);

typedef struct gate_case {
    const char *what;
    const char *metric;
    double new_score;
    int champion; /* 0: none */
    double champion_score;
    double min_metric, min_gain;
    /* expected */
    int passed, floor_ok, gain_ok;
    double gain; /* NaN: no champion */
    const char *reason_has;
} gate_case;

static const gate_case CASES[] = {
    {"first version over the floor", "roc_auc", 0.66, 0, NAN, 0.55, 0.0, 1, 1, 1, NAN,
     "gate passed: validation roc_auc 0.6600 meets floor 0.5500; no champion"},
    {"first version under the floor", "roc_auc", 0.52, 0, NAN, 0.55, 0.0, 0, 0, 1, NAN,
     "gate failed: validation roc_auc 0.5200 misses floor 0.5500; no champion"},
    {"beats the champion by more than min_gain", "roc_auc", 0.70, 3, 0.68, 0.55, 0.01, 1, 1, 1,
     0.02, "gain +0.0200 over champion v3 (0.6800) >= min_gain 0.0100"},
    {"better but by less than min_gain", "roc_auc", 0.685, 3, 0.68, 0.55, 0.01, 0, 1, 0, 0.005,
     "gain +0.0050 over champion v3 (0.6800) < min_gain 0.0100"},
    {"equal to the champion with min_gain 0", "pr_auc", 0.30, 2, 0.30, 0.0, 0.0, 1, 1, 1, 0.0,
     "gate passed"},
    {"worse than the champion", "accuracy", 0.80, 2, 0.85, 0.5, 0.0, 0, 1, 0, -0.05,
     "gain -0.0500"},
    /* lower is better: the gain is champion - new, the floor is a ceiling */
    {"log loss lower than the champion's", "log_loss", 0.30, 1, 0.35, 0.0, 0.01, 1, 1, 1, 0.05,
     "gain +0.0500 over champion v1"},
    {"log loss higher than the champion's", "log_loss", 0.36, 1, 0.35, 0.0, 0.0, 0, 1, 0, -0.01,
     "gate failed"},
    {"log loss over its ceiling", "log_loss", 0.40, 0, NAN, 0.38, 0.0, 0, 0, 1, NAN,
     "misses floor 0.3800"},
    {"log loss under its ceiling", "log_loss", 0.37, 0, NAN, 0.38, 0.0, 1, 1, 1, NAN,
     "meets floor 0.3800"},
    {"brier: lower is better", "brier", 0.08, 4, 0.09, 0.0, 0.0, 1, 1, 1, 0.01, "gate passed"},
    {"a NaN score never passes", "roc_auc", NAN, 0, NAN, 0.0, 0.0, 0, 0, 1, NAN, "gate failed"},
    {"a NaN champion score blocks the gain", "roc_auc", 0.7, 2, NAN, 0.5, 0.0, 0, 1, 0, NAN,
     "gate failed"},
};

static void test_gate_decide_table(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const gate_case *c = &CASES[i];
        rdm_gate_input in = {
            c->metric, 7, c->new_score, c->champion, c->champion_score, c->min_metric, c->min_gain,
            1234,      5};
        rdm_gate_decision d;
        rdm_gate_decide(&in, &d);
        int ok = d.passed == c->passed && d.floor_ok == c->floor_ok && d.gain_ok == c->gain_ok &&
                 d.move == (c->passed ? RDM_GATE_TO_CHAMPION : RDM_GATE_TO_CHALLENGER) &&
                 (isnan(c->gain) ? isnan(d.gain) : fabs(d.gain - c->gain) < 1e-12) &&
                 strstr(d.reason, c->reason_has) != NULL &&
                 strstr(d.reason, "1234 validation rows of snapshot 5") != NULL;
        if (!ok)
            fprintf(stderr, "\ngate case '%s': passed=%d floor=%d gain_ok=%d gain=%g reason=%s\n",
                    c->what, d.passed, d.floor_ok, d.gain_ok, d.gain, d.reason);
        CU_ASSERT_TRUE(ok);
    }
}

static void test_gate_direction(void)
{
    rdm_gate_decision d;
    rdm_gate_input in = {"log_loss", 2, 0.3, 1, 0.4, 0, 0, 10, 1};
    rdm_gate_decide(&in, &d);
    CU_ASSERT_FALSE(d.higher_better);
    in.metric = "roc_auc";
    rdm_gate_decide(&in, &d);
    CU_ASSERT_TRUE(d.higher_better);
    CU_ASSERT_FALSE(d.passed); /* 0.3 after 0.4 is worse for an AUC */
}

typedef struct rollback_case {
    const char *what;
    rdm_alias_move h[6];
    int n, champion, want;
} rollback_case;

static const rollback_case RB[] = {
    {"no history", {{0, 0, 0}}, 0, 0, 0},
    {"first champion only: nothing before it", {{0, 1, 0}}, 1, 1, 0},
    {"one promotion: back to the first", {{0, 1, 0}, {1, 2, 0}}, 2, 2, 1},
    {"two promotions: back one step", {{0, 1, 0}, {1, 2, 0}, {2, 3, 0}}, 3, 3, 2},
    {"after a rollback, a second goes one further back",
     {{0, 1, 0}, {1, 2, 0}, {2, 3, 0}, {3, 2, 1}},
     4,
     2,
     1},
    {"no champion now", {{0, 1, 0}, {1, 2, 0}}, 2, 0, 0},
    {"the champion itself is skipped on the stack", {{0, 1, 0}, {1, 2, 0}, {2, 1, 0}}, 3, 1, 2},
};

static void test_gate_rollback_table(void)
{
    for (size_t i = 0; i < sizeof RB / sizeof RB[0]; i++) {
        int got = rdm_gate_rollback_target(RB[i].h, RB[i].n, RB[i].champion);
        if (got != RB[i].want)
            fprintf(stderr, "\nrollback case '%s': got %d, want %d\n", RB[i].what, got, RB[i].want);
        CU_ASSERT_EQUAL(got, RB[i].want);
    }
}

int test_gate_register(void)
{
    CU_pSuite s = CU_add_suite("gate", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_gate_decide_table) && CU_ADD_TEST(s, test_gate_direction) &&
            CU_ADD_TEST(s, test_gate_rollback_table))
               ? 0
               : -1;
}
