/* runs.c - readmit runs: placeholder replaced below. */
#include "cmd.h"

int cmd_runs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return EXIT_USAGE;
}
