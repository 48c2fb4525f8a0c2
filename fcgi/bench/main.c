/* main.c - readmit-fcgi-bench: what the serving benchmark needs and the
 * production server does not carry. --empty runs the same supervisor,
 * worker loop and socket setup as readmit-fcgi with a handler that answers
 * a constant prediction-sized body (the ceiling of the pool behind nginx);
 * --bench-score times parsing and scoring in process. */
#include <stdio.h>

#include "../server.h"
#include "bench.h"

static const char USAGE[] =
    "usage: readmit-fcgi-bench --empty [readmit-fcgi options]\n"
    "       readmit-fcgi-bench --model FILE --bench-score BODIES\n"
    "Serving benchmark helpers (make bench-serve).\n"
    "  --empty             serve: answer every request with a constant body, read\n"
    "                      in full first (the ceiling of the pool behind nginx)\n"
    "  --bench-score FILE  time parsing + scoring of the JSON bodies in FILE (one per\n"
    "                      line) with the --model file, print the figures and exit\n"
    "  -c, -o, --socket, --port, --workers, --threads, --pidfile, --print-config:\n"
    "                      as for readmit-fcgi\n";

static const char EMPTY_BODY[] =
    "{\"model\":{\"name\":\"readmission\",\"version\":\"1\"},\"encounter_id\":\"12345\","
    "\"probability\":0.123456,\"decision\":false,\"threshold\":0.5,\"warnings\":[]}\n";

static void empty_handler(srv_request *rq, const srv_opts *o, srv_shared *sh)
{
    (void)o;
    (void)sh;
    rq->route = R_PREDICT;
    rq->status = rdm_buf_add(rq->out, EMPTY_BODY, sizeof EMPTY_BODY - 1) == RDM_OK ? 200 : 503;
}

int main(int argc, char **argv)
{
    srv_cmd c;
    int rc = srv_cmd_parse(&c, argc, argv, USAGE, 1);
    if (rc >= 0)
        return rc;
    if (c.print_config) {
        srv_cmd_print_config(&c);
        rc = 0;
    } else if (c.bench_file) {
        rc = srv_bench_score(c.model_ref, c.bench_file, 2.0);
    } else if (c.empty) {
        rc = srv_cmd_serve(&c, empty_handler, 0);
    } else {
        fputs(USAGE, stderr);
        rc = 2;
    }
    srv_cmd_release(&c);
    return rc;
}
