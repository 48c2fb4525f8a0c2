/* shared.c - the block shared by the supervisor and the workers: an
 * anonymous shared mapping, and the seqlock over the published model. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "server.h"

srv_shared *srv_shared_create(void)
{
    srv_shared *sh =
        mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return NULL;
    memset(sh, 0, sizeof *sh);
    return sh;
}

void srv_shared_free(srv_shared *sh)
{
    if (sh)
        munmap(sh, sizeof *sh);
}

void srv_model_ref_read(srv_shared *sh, srv_model_ref *out)
{
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&sh->model_seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        out->gen = atomic_load_explicit(&sh->model_gen, memory_order_acquire);
        memcpy(out->path, sh->model_path, sizeof out->path);
        memcpy(out->name, sh->model_name, sizeof out->name);
        memcpy(out->version, sh->model_version, sizeof out->version);
        memcpy(out->alias, sh->model_alias, sizeof out->alias);
        memcpy(out->sha256, sh->model_sha256, sizeof out->sha256);
        memcpy(out->metrics, sh->model_metrics, sizeof out->metrics);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&sh->model_seq, memory_order_relaxed) == s1)
            break;
    }
    out->path[sizeof out->path - 1] = '\0';
    out->name[sizeof out->name - 1] = '\0';
    out->version[sizeof out->version - 1] = '\0';
    out->alias[sizeof out->alias - 1] = '\0';
    out->sha256[sizeof out->sha256 - 1] = '\0';
    out->metrics[sizeof out->metrics - 1] = '\0';
}

void srv_model_publish(srv_shared *sh, const srv_model_ref *ref)
{
    atomic_fetch_add_explicit(&sh->model_seq, 1, memory_order_acq_rel);
    atomic_thread_fence(memory_order_release);
    snprintf(sh->model_path, sizeof sh->model_path, "%s", ref->path);
    snprintf(sh->model_name, sizeof sh->model_name, "%s", ref->name);
    snprintf(sh->model_version, sizeof sh->model_version, "%s", ref->version);
    snprintf(sh->model_alias, sizeof sh->model_alias, "%s", ref->alias);
    snprintf(sh->model_sha256, sizeof sh->model_sha256, "%s", ref->sha256);
    snprintf(sh->model_metrics, sizeof sh->model_metrics, "%s", ref->metrics);
    atomic_fetch_add_explicit(&sh->model_gen, 1, memory_order_release);
    atomic_fetch_add_explicit(&sh->model_seq, 1, memory_order_release);
}
