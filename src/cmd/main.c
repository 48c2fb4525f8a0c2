/* main.c - the readmit command: git-style dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
    const char *name;
    cmd_fn fn;
    const char *help;
} COMMANDS[] = {
    {"db", cmd_db, "database: init/migrate the schema, show the connection"},
    {"ingest", cmd_ingest, "load the source CSV (or UCI zip) into raw.* in batches"},
    {"clean", cmd_clean, "type, filter, validate and profile new raw batches into clean.*"},
    {"train", cmd_train, "train the configured models on the clean snapshot (runs in registry.*)"},
    {"register", cmd_register, "register the best run of the latest training; gate champion"},
    {"promote", cmd_promote, "make a model version the champion (manual)"},
    {"rollback", cmd_rollback, "move champion back to the previous champion"},
    {"predict", cmd_predict, "score a CSV with a model file or registry reference"},
    {"report", cmd_report, "write the static HTML experiment reports"},
    {"status", cmd_status, "batches, row counts, validation, runs and versions"},
    {"synth", cmd_synth, "write a synthetic CSV with the dataset's schema (for tests)"},
    {"config", cmd_config, "print the effective configuration"},
    {"outcomes", cmd_outcomes, "load observed outcomes of served encounters"},
    {"monitor", cmd_monitor, "prediction log: live and estimated performance, drift, retrain"},
    {"replay", cmd_replay, "send records through the HTTP API as live traffic, then outcomes"},
};

#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f,
            "usage: readmit COMMAND [options]   (readmit COMMAND --help for details)\n\n"
            "readmit %s: predicts 30-day readmission of diabetic patients and runs the\n"
            "model's life: ingest -> clean -> train -> register/promote -> report -> serve.\n\n"
            "Commands:\n",
            RDM_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("readmit %s\n", RDM_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name))
            return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "readmit: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
