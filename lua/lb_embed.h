/* lb_embed.h: files compiled into the binary (the Lua DSL and the gnuplot scripts), see embed.cmake. */
#ifndef LB_EMBED_H
#define LB_EMBED_H

#include <stddef.h>

typedef struct lb_embedded {
    const char *name;           /* file name without directory, e.g. "vib.lua" */
    const char *data;           /* NUL-terminated */
    size_t size;
} lb_embedded;

extern const lb_embedded vib_embedded_files[];  /* ends with a {NULL, NULL, 0} entry */

/* The embedded file of that name, or NULL. */
const lb_embedded *lb_embedded_find(const char *name);

#endif
