/* ingest.c - readmit ingest (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_ingest(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit ingest: not implemented yet\n");
    return EXIT_FAIL;
}
