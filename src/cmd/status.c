/* status.c - readmit status (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit status: not implemented yet\n");
    return EXIT_FAIL;
}
