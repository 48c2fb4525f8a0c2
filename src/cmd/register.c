/* register.c - readmit register (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_register(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit register: not implemented yet\n");
    return EXIT_FAIL;
}
