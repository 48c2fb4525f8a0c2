/* predict.c - readmit predict (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_predict(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit predict: not implemented yet\n");
    return EXIT_FAIL;
}
