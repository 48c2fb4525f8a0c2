/* synth.c - readmit synth (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_synth(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit synth: not implemented yet\n");
    return EXIT_FAIL;
}
