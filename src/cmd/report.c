/* report.c - readmit report (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit report: not implemented yet\n");
    return EXIT_FAIL;
}
