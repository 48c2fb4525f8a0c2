/* bench.h - readmit-fcgi-bench: the serving benchmark helpers. */
#ifndef RDM_FCGI_BENCH_H
#define RDM_FCGI_BENCH_H

/* Time the handler and the model on the bodies in a file (one JSON body per
 * line) for about `seconds` each; prints one BENCH_SCORE line. */
int srv_bench_score(const char *model_path, const char *bodies_path, double seconds);

#endif
