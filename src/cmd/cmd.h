/* cmd.h - shared pieces of the readmit subcommands (thin layers over src/). */
#ifndef RDM_CMD_H
#define RDM_CMD_H

#include "config.h"
#include "db.h"
#include "readmit.h"

/* Exit codes: 0 ok, 1 failure, 2 usage or configuration error. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Options common to every subcommand, parsed by cmd_common_opt(). */
typedef struct cmd_ctx {
    const char *config_path; /* -c/--config, default conf/readmit.yaml */
    const char *stamp;       /* --stamp FILE: rewritten only when the stage changed something */
    int quiet;               /* -q */
    int json;                /* --json */
    char **overrides;        /* -o key=value (argv pointers) */
    int noverrides;
    size_t overrides_cap;
    rdm_config cfg;
    int cfg_loaded;
} cmd_ctx;

/* Each subcommand: argv[0] is the subcommand name. Returns an exit code. */
typedef int (*cmd_fn)(int argc, char **argv);

/* A subcommand's own option for cmd_parse(). `name` NULL: a positional
 * argument (several such entries take the positional arguments in order). `value` set: the option takes a value (given as
 * "--name VALUE" or "--name=VALUE"; argv pointer stored there); otherwise
 * `flag` is set to 1. */
typedef struct cmd_opt {
    const char *name;
    const char **value;
    int *flag;
} cmd_opt;

/* cmd_parse() result meaning "go on and run the command". */
#define CMD_RUN (-1)

/* Parse argv[1..] for subcommand `cmd`: the common options (-c, -o, -q,
 * --stamp; --json only when `opts` lists it with flag &ctx->json), -h/--help
 * (prints `help` on stdout), then `opts` (terminated by an entry with name
 * and value and flag all NULL). Returns CMD_RUN, or an exit code to return at
 * once (EXIT_OK after --help, EXIT_USAGE after printing a usage error); ctx is
 * released in the latter case. */
int cmd_parse(cmd_ctx *ctx, const char *cmd, const char *help, int argc, char **argv,
              const cmd_opt *opts);
/* Load the config and connect (applying migrations). On failure prints the
 * error, releases ctx, stores the exit code in *rc and returns NULL. The
 * connection is owned by the caller (rdm_db_close). */
rdm_db *cmd_open(cmd_ctx *ctx, int *rc);

/* If argv[*i] is a common option (-c, -o, -q, --stamp, --json), consume it (and its
 * value) and return 1; return -1 on a missing value; 0 if not a common option. */
int cmd_common_opt(cmd_ctx *ctx, int argc, char **argv, int *i);
/* Load the config (defaults, file, -o overrides, validation). Prints the error
 * and returns EXIT_USAGE on failure. */
int cmd_load_config(cmd_ctx *ctx);
/* Who runs command `cmd`, as the registry's history records it:
 * "user@host (readmit CMD)" ($USER or $LOGNAME, gethostname). */
void cmd_actor(char *out, size_t n, const char *cmd);
/* Connect to the database and apply migrations. Prints the error, returns NULL. */
rdm_db *cmd_connect(cmd_ctx *ctx);
void cmd_ctx_release(cmd_ctx *ctx);
/* Print "readmit CMD: message" for err on stderr and return EXIT_FAIL. */
int cmd_fail(const char *cmd, const rdm_err *err);
/* Print a usage error and return EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Rewrite the stamp file with `fingerprint` if it differs from its content
 * (so make re-runs downstream stages only on change). No-op without --stamp. */
int cmd_stamp(const cmd_ctx *ctx, const char *fingerprint, rdm_err *err);

/* Progress on stderr for the library's callbacks: one line rewritten in
 * place, only when stderr is a terminal, not with -q, and only once the
 * operation has run for a second. Pass the struct as `ud` of cmd_progress_cb
 * (an rdm_progress_fn); total < 0 shows only the detail. */
typedef struct cmd_progress {
    double start, last;
    int on, shown;
} cmd_progress;

void cmd_progress_init(cmd_progress *p, const cmd_ctx *ctx);
void cmd_progress_cb(void *ud, const char *what, double done, double total, const char *detail);
/* Clear the progress line (before printing the command's result). */
void cmd_progress_end(cmd_progress *p);

/* The option lines of `readmit CMD --help` that commands share. A command
 * accepts -q and --stamp only when its help lists them (cmd_parse checks), so
 * what --help shows is what the command takes: --stamp for the pipeline
 * stages, -q for every command. */
#define CMD_HELP_CONFIG                                                                     \
    "  -c, --config FILE   configuration (default conf/readmit.yaml; env READMIT_CONFIG)\n" \
    "  -o KEY=VALUE        override one setting (e.g. -o data.batch_rows=5000)\n"
#define CMD_HELP_QUIET "  -q, --quiet         no progress or log lines: results and errors only\n"
#define CMD_HELP_STAMP \
    "      --stamp FILE    stamp file for make: rewritten only when something changed\n"
#define CMD_HELP_HELP "  -h, --help          this help\n"
/* pipeline stages (ingest, clean, train, register, report) */
#define CMD_COMMON_HELP \
    "Common options:\n" CMD_HELP_CONFIG CMD_HELP_QUIET CMD_HELP_STAMP CMD_HELP_HELP
/* every other command */
#define CMD_READ_HELP "Common options:\n" CMD_HELP_CONFIG CMD_HELP_QUIET CMD_HELP_HELP

int cmd_db(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_promote(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_versions(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_outcomes(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif
