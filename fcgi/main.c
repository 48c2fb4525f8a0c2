/* main.c - readmit-fcgi: the FastCGI server of the readmit model (run behind
 * nginx; see scripts/serve.sh). */
#include "server.h"

static const char USAGE[] =
    "usage: readmit-fcgi [options]\n"
    "FastCGI server of the readmit model (run behind nginx; see scripts/serve.sh).\n"
    "  -c, --config FILE   configuration (default conf/readmit.yaml)\n"
    "  -o KEY=VALUE        override one setting (e.g. -o serve.workers=4)\n"
    "  --model REF         model to serve (serve.model): a registry reference (\"champion\",\n"
    "                      followed across promotions; \"3\" or \"NAME:3\" pins a version)\n"
    "                      or a .model file (SIGHUP reloads it)\n"
    "  --socket PATH       Unix socket (default serve.socket)\n"
    "  --port N            TCP port on 127.0.0.1 instead of the socket (serve.fcgi_port)\n"
    "  --bind ADDR         IPv4 address the --port listens on (default 127.0.0.1)\n"
    "  --workers N         worker processes (serve.workers; 0 = cores)\n"
    "  --threads N         request threads per worker (serve.threads)\n"
    "  --pidfile FILE      write the supervisor pid here\n"
    "  --print-config      print the serve settings as shell variables and exit\n"
    "Environment: READMIT_MODEL_CACHE (model cache directory, default var/models).\n";

int main(int argc, char **argv)
{
    srv_cmd c;
    int rc = srv_cmd_parse(&c, argc, argv, USAGE, 0);
    if (rc >= 0)
        return rc;
    if (c.print_config) {
        srv_cmd_print_config(&c);
        srv_cmd_release(&c);
        return 0;
    }
    rc = srv_cmd_serve(&c, srv_route, 1);
    srv_cmd_release(&c);
    return rc;
}
