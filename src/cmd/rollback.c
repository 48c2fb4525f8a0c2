/* rollback.c - readmit rollback (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_rollback(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit rollback: not implemented yet\n");
    return EXIT_FAIL;
}
