/* promote.c - readmit promote (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_promote(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit promote: not implemented yet\n");
    return EXIT_FAIL;
}
