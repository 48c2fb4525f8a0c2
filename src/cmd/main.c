/* main.c - the readmit command: git-style dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    {"runs", cmd_runs, "list, filter, sort, show and compare training runs"},
    {"versions", cmd_versions, "the registered model's versions and their aliases"},
    {"history", cmd_history, "the registered model's alias history (promotions, rollbacks)"},
    {"model", cmd_model, "export a model version with its lineage to a file; import one"},
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
            "usage: readmit COMMAND [options]\n"
            "       readmit help COMMAND    (or readmit COMMAND --help) for a command's options\n"
            "       readmit --version       print the version\n\n"
            "readmit %s: predicts 30-day readmission of diabetic patients and runs the\n"
            "model's life: ingest -> clean -> train -> register/promote -> report -> serve.\n\n"
            "Commands:\n",
            RDM_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(f, "\nExit status (every command):\n"
               "  0  success\n"
               "  1  the command failed (data, database, files); the message says why\n"
               "  2  usage or configuration error (unknown option, bad setting)\n");
}

static cmd_fn find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, COMMANDS[i].name))
            return COMMANDS[i].fn;
    return NULL;
}

static int unknown(const char *name)
{
    fprintf(stderr, "readmit: unknown command '%s'\n\n", name);
    usage(stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("readmit %s\n", RDM_VERSION);
        return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
    }
    if (!strcmp(argv[1], "help")) {
        cmd_fn fn = find(argv[2]);
        if (!fn)
            return unknown(argv[2]);
        char help[] = "--help";
        char *av[] = {argv[2], help, NULL};
        return fn(2, av);
    }
    /* informational log lines are for a person at a terminal (or READMIT_VERBOSE=1,
     * which make V=1 sets); pipes, cron and make logs get results and warnings */
    const char *verbose = getenv("READMIT_VERBOSE");
    if (!isatty(STDERR_FILENO) && !(verbose && !strcmp(verbose, "1")))
        rdm_log_level = RDM_LOG_WARN;
    cmd_fn fn = find(argv[1]);
    return fn ? fn(argc - 1, argv + 1) : unknown(argv[1]);
}
