/* db.c - readmit db (not implemented yet). */
#include <stdio.h>

#include "cmd.h"

int cmd_db(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "readmit db: not implemented yet\n");
    return EXIT_FAIL;
}
