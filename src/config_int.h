/* config_int.h - what the configuration's files share (config.c: the
 * settings table, defaults, validation; config_yaml.c: the YAML tree reader;
 * config_text.c: canonical text, printing, fingerprints). Not for other
 * modules: they use config.h. */
#ifndef RDM_CONFIG_INT_H
#define RDM_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

typedef enum {
    T_STR,   /* char *; F_NULLABLE allows null */
    T_INT,   /* int */
    T_LONG,  /* long */
    T_DBL,   /* double */
    T_BOOL,  /* int 0/1 */
    T_ENUM,  /* int index into `names` */
    T_ESTR,  /* char * restricted to `names` */
    T_DLIST, /* rdm_dlist: scalar or sequence of numbers */
    T_LLIST, /* long * + int count at off2: scalar or sequence of integers */
    T_RULES, /* clean.rules */
} key_type;

enum { F_NULLABLE = 1, F_INTEGRAL = 2, F_NOFP = 4, F_NONEMPTY = 8, F_SECRET = 16 };

typedef struct key_def {
    const char *key;
    key_type type;
    size_t off;
    size_t off2;
    const char *def; /* default value as YAML text (NULL for T_RULES) */
    double min, max;
    int flags;
    const char *const *names; /* T_ENUM / T_ESTR */
} key_def;

/* The settings table (config.c), in the order `readmit config` prints. */
extern const key_def rdm_cfg_keys[];
extern const int rdm_cfg_nkeys;

static inline void *rdm_cfg_field(rdm_config *c, size_t off)
{
    return (char *)c + off;
}

static inline const void *rdm_cfg_cfield(const rdm_config *c, size_t off)
{
    return (const char *)c + off;
}

/* The table's entry for dotted `key`, or NULL. */
const key_def *rdm_cfg_find_key(const char *key);
/* True when some key lies under the section `prefix` (no trailing dot). */
int rdm_cfg_is_section(const char *prefix);
/* Comma-separated names allowed directly under `prefix` ("" = top level). */
void rdm_cfg_allowed_children(const char *prefix, char *out, size_t outsz);
/* Shortest %g form that reads back as the same double (.inf for infinity). */
void rdm_cfg_fmt_double(double v, char *out, size_t outsz);
/* Free n rules and the array. */
void rdm_cfg_rules_free(rdm_rule *rules, int n);
/* Set `k` from its default text, read as YAML like a file's value (config_yaml.c). */
int rdm_cfg_set_default(rdm_config *c, const key_def *k, rdm_err *err);

#endif
