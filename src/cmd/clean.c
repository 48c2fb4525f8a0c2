/* clean.c - readmit clean (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_clean(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit clean: not implemented yet\n");
    return EXIT_FAIL;
}
