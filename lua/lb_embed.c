// lb_embed.c: lookup in the table of embedded files.
#include "lb_embed.h"

#include <string.h>

const lb_embedded *lb_embedded_find(const char *name) {
    for (const lb_embedded *e = vib_embedded_files; e->name; e++)
        if (strcmp(e->name, name) == 0) return e;
    return NULL;
}
