/* test_train.c - the patient split (dataset.c), metrics by name (metrics.c), the
 * code version and actor texts the commands pass to train and the registry. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "dataset.h"
#include "metrics.h"
#include "registry.h"
#include "train.h"

/* Bounds of the default 70/15/15 split, worked out by hand from k = patient mod
 * 100. */
static void test_split_bounds(void)
{
    CU_ASSERT_EQUAL(rdm_split_of(0, 70, 85), RDM_SPLIT_TRAIN);
    CU_ASSERT_EQUAL(rdm_split_of(69, 70, 85), RDM_SPLIT_TRAIN);
    CU_ASSERT_EQUAL(rdm_split_of(70, 70, 85), RDM_SPLIT_VALID);
    CU_ASSERT_EQUAL(rdm_split_of(84, 70, 85), RDM_SPLIT_VALID);
    CU_ASSERT_EQUAL(rdm_split_of(85, 70, 85), RDM_SPLIT_TEST);
    CU_ASSERT_EQUAL(rdm_split_of(99, 70, 85), RDM_SPLIT_TEST);
    /* only the last two digits matter */
    CU_ASSERT_EQUAL(rdm_split_of(8222157, 70, 85), RDM_SPLIT_TRAIN);  /* 57 */
    CU_ASSERT_EQUAL(rdm_split_of(55629189, 70, 85), RDM_SPLIT_TEST);  /* 89 */
    CU_ASSERT_EQUAL(rdm_split_of(86047875, 70, 85), RDM_SPLIT_VALID); /* 75 */
    CU_ASSERT_EQUAL(rdm_split_of(100, 70, 85), RDM_SPLIT_TRAIN);      /* 0 */
    /* a negative number still maps to 0..99 (-1 -> 99) */
    CU_ASSERT_EQUAL(rdm_split_of(-1, 70, 85), RDM_SPLIT_TEST);
    CU_ASSERT_EQUAL(rdm_split_of(-30, 70, 85), RDM_SPLIT_VALID); /* 70 */
    /* other bounds: 50/100 -> no test split */
    CU_ASSERT_EQUAL(rdm_split_of(99, 50, 100), RDM_SPLIT_VALID);
    CU_ASSERT_EQUAL(rdm_split_of(49, 50, 100), RDM_SPLIT_TRAIN);
}

/* Exactly 70, 15 and 15 of the residues 0..99 land in train/valid/test, and a
 * patient's encounters (same patient_nbr) always share one split. */
static void test_split_proportions_and_patient(void)
{
    int count[RDM_NSPLITS] = {0};
    for (long long p = 1000; p < 1100; p++)
        count[rdm_split_of(p, 70, 85)]++;
    CU_ASSERT_EQUAL(count[RDM_SPLIT_TRAIN], 70);
    CU_ASSERT_EQUAL(count[RDM_SPLIT_VALID], 15);
    CU_ASSERT_EQUAL(count[RDM_SPLIT_TEST], 15);
    /* the split depends on the patient number alone: against k = p mod 100 */
    for (long long p = 0; p < 5000; p += 37) {
        long long k = p % 100;
        int want = k < 70 ? RDM_SPLIT_TRAIN : k < 85 ? RDM_SPLIT_VALID : RDM_SPLIT_TEST;
        CU_ASSERT_EQUAL(rdm_split_of(p, 70, 85), want);
    }
}

static void test_split_names_and_metric_direction(void)
{
    CU_ASSERT_STRING_EQUAL(rdm_split_name(RDM_SPLIT_TRAIN), "train");
    CU_ASSERT_STRING_EQUAL(rdm_split_name(RDM_SPLIT_VALID), "valid");
    CU_ASSERT_STRING_EQUAL(rdm_split_name(RDM_SPLIT_TEST), "test");
    CU_ASSERT_TRUE(rdm_metric_higher_better("roc_auc"));
    CU_ASSERT_TRUE(rdm_metric_higher_better("pr_auc"));
    CU_ASSERT_TRUE(rdm_metric_higher_better("accuracy"));
    CU_ASSERT_FALSE(rdm_metric_higher_better("log_loss"));
    CU_ASSERT_FALSE(rdm_metric_higher_better("brier"));
}

/* Metric by name against hand-worked values: p = (0.9, 0.2, 0.6, 0.4),
 * y = (1, 0, 0, 1): pairs (pos, neg) = (0.9>0.2, 0.9>0.6, 0.4>0.2, 0.4<0.6) ->
 * AUC 3/4; accuracy at 0.5: rows 1 and 2 right -> 1/2. */
static void test_metric_by_name(void)
{
    const double p[] = {0.9, 0.2, 0.6, 0.4};
    const float y[] = {1, 0, 0, 1};
    CU_ASSERT_DOUBLE_EQUAL(rdm_metric_by_name("roc_auc", p, y, 4), 0.75, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(rdm_metric_by_name("accuracy", p, y, 4), 0.5, 1e-12);
    /* log loss: -(ln 0.9 + ln 0.8 + ln 0.4 + ln 0.4) / 4 = 0.5402714;
     * Brier: (0.01 + 0.04 + 0.36 + 0.36) / 4 = 0.1925 */
    CU_ASSERT_DOUBLE_EQUAL(rdm_metric_by_name("log_loss", p, y, 4), 0.5402714, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(rdm_metric_by_name("brier", p, y, 4), 0.1925, 1e-12);
    CU_ASSERT_TRUE(isnan(rdm_metric_by_name("nonsense", p, y, 4)));
}

/* What the command passes in is what runs and history record: the code
 * version and the actor are formatted into the caller's buffers. */
static void test_code_version_and_actor(void)
{
    char v[RDM_CODE_VERSION_MAX], w[RDM_CODE_VERSION_MAX];
    rdm_code_version(v, NULL);
    CU_ASSERT_STRING_EQUAL(v, RDM_VERSION);
    rdm_code_version(w, "");
    CU_ASSERT_STRING_EQUAL(w, RDM_VERSION);
    rdm_code_version(w, "abc123");
    CU_ASSERT_STRING_EQUAL(w, RDM_VERSION "+abc123");
    CU_ASSERT_STRING_EQUAL(v, RDM_VERSION); /* the first buffer is untouched */
    char a[64], b[64];
    rdm_registry_actor(a, sizeof a, "ann@host1", "promote");
    rdm_registry_actor(b, sizeof b, NULL, NULL);
    CU_ASSERT_STRING_EQUAL(a, "ann@host1 (readmit promote)");
    CU_ASSERT_STRING_EQUAL(b, "unknown (readmit ?)");
    char small[8];
    rdm_registry_actor(small, sizeof small, "ann@host1", "promote");
    CU_ASSERT_EQUAL(strlen(small), 7);
}

int test_train_register(void);

int test_train_register(void)
{
    CU_pSuite s = CU_add_suite("train", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_split_bounds) &&
            CU_ADD_TEST(s, test_split_proportions_and_patient) &&
            CU_ADD_TEST(s, test_split_names_and_metric_direction) &&
            CU_ADD_TEST(s, test_metric_by_name) && CU_ADD_TEST(s, test_code_version_and_actor))
               ? 0
               : -1;
}
