/* gbt_route.h - which way one record goes at every split of a boosted-trees
 * model, for explanations (which need the direction at every node, not only
 * the leaf reached).
 *
 * The split tests are laid out once per model, numeric and categorical
 * apart: a record then costs one branch-free pass over the numeric splits (a
 * compare per node) and one over the categorical ones (a bit per node, from
 * the code of the value, or one slot for missing and unknown values). The directions
 * are those of the scorer's own test (rdm_gbt_route), bit for bit. */
#ifndef RDM_GBT_ROUTE_H
#define RDM_GBT_ROUTE_H

#include <stddef.h>

#include "gbt.h"

typedef struct rdm_gbt_router rdm_gbt_router;

/* Lay out the splits of `m` as they are now (a copy: `m` may change or go
 * afterwards). Returns a router owned by the caller, or NULL with err
 * (RDM_ENOMEM). */
rdm_gbt_router *rdm_gbt_router_create(const rdm_gbt *m, rdm_err *err);
void rdm_gbt_router_free(rdm_gbt_router *r);

/* Bytes of scratch rdm_gbt_router_route needs (the slot of each categorical
 * feature split on). */
size_t rdm_gbt_router_scratch_size(const rdm_gbt_router *r);

/* For every internal node k (rdm_gbt_node's numbering): goes_left[k] = 1 when
 * row x (rdm_gbt_nfeatures floats) takes the left child, else 0; the entries
 * of leaves are not written. `scratch`: rdm_gbt_router_scratch_size bytes,
 * aligned for int32_t. No allocation; thread-safe on a shared router. */
void rdm_gbt_router_route(const rdm_gbt_router *r, const float *x, unsigned char *goes_left,
                          void *scratch);

#endif
