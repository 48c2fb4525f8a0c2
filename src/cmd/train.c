/* train.c - readmit train (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit train: not implemented yet\n");
    return EXIT_FAIL;
}
