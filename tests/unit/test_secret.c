/* test_secret.c - passwords masked in every form of libpq connection string. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

int test_secret_register(void);

static const struct {
    const char *in, *want;
} CASES[] = {
    /* URIs: user information */
    {"postgresql://app:s3cret@db.example:5432/readmit",
     "postgresql://app:****@db.example:5432/readmit"},
    {"postgres://app:s3cret@db/readmit", "postgres://app:****@db/readmit"},
    {"postgresql://app:p%40ss%3Aw0rd@db/readmit?sslmode=verify-full",
     "postgresql://app:****@db/readmit?sslmode=verify-full"},
    {"postgresql://app:x@h1:5432,h2:5433/readmit", "postgresql://app:****@h1:5432,h2:5433/readmit"},
    /* no password, or an empty one: nothing to hide, kept as written */
    {"postgresql://app@db/readmit", "postgresql://app@db/readmit"},
    {"postgresql://app:@db/readmit", "postgresql://app:@db/readmit"},
    {"postgresql:///readmit?host=/run/pg", "postgresql:///readmit?host=/run/pg"},
    {"postgresql://db:5432/readmit", "postgresql://db:5432/readmit"},
    /* a ':' after the host is a port, not a password */
    {"postgresql://db:5432/x@y", "postgresql://db:5432/x@y"},
    /* URI query parameters */
    {"postgresql://db/readmit?user=app&password=s3cret&sslmode=require",
     "postgresql://db/readmit?user=app&password=****&sslmode=require"},
    {"postgresql://db/readmit?sslpassword=keypass", "postgresql://db/readmit?sslpassword=****"},
    {"postgresql://u:a@db/r?password=b", "postgresql://u:****@db/r?password=****"},
    {"postgresql://db/r?passwordx=kept&password=", "postgresql://db/r?passwordx=kept&password="},
    /* key=value conninfo */
    {"host=db dbname=readmit user=app password=s3cret",
     "host=db dbname=readmit user=app password=****"},
    {"password=s3cret host=db", "password=**** host=db"},
    {"host=db password = 's3 cr\\'et' sslmode=verify-full",
     "host=db password = **** sslmode=verify-full"},
    {"host='/var/pg/run' dbname='readmit' user='readmit'",
     "host='/var/pg/run' dbname='readmit' user='readmit'"},
    {"sslpassword=k host=db", "sslpassword=**** host=db"},
    {"passfile=/etc/pgpass host=db", "passfile=/etc/pgpass host=db"},
    {"  host=db  ", "  host=db  "},
    {"", ""},
    /* not conninfo at all: kept */
    {"garbage without pairs", "garbage without pairs"},
};

static void test_mask_table(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char *got = rdm_secret_mask_conninfo(CASES[i].in);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        if (strcmp(got, CASES[i].want) != 0)
            fprintf(stderr, "\ncase %zu: '%s' -> '%s', want '%s'\n", i, CASES[i].in, got,
                    CASES[i].want);
        CU_ASSERT_STRING_EQUAL(got, CASES[i].want);
        free(got);
    }
}

static void test_mask_never_leaks(void)
{
    /* whatever the form, the secret itself never survives */
    static const char *const FORMS[] = {
        "postgresql://u:Tr0ub4dor@h/d", "postgresql://h/d?password=Tr0ub4dor", "password=Tr0ub4dor",
        "password='Tr0ub4dor'",         "host=h password=Tr0ub4dor dbname=d",
    };
    for (size_t i = 0; i < sizeof FORMS / sizeof FORMS[0]; i++) {
        char *got = rdm_secret_mask_conninfo(FORMS[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_PTR_NULL(strstr(got, "Tr0ub4dor"));
        CU_ASSERT_PTR_NOT_NULL(strstr(got, RDM_SECRET_MASK));
        free(got);
    }
    CU_ASSERT_PTR_NULL(rdm_secret_mask_conninfo(NULL));
}

int test_secret_register(void)
{
    CU_pSuite s = CU_add_suite("secret", NULL, NULL);
    return (s && CU_ADD_TEST(s, test_mask_table) && CU_ADD_TEST(s, test_mask_never_leaks)) ? 0 : -1;
}
