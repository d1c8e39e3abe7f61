/* testutil.h: helpers shared by the Criterion tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Path under the shared data directory (../shared/data/<rel>) into buf, or NULL when the shared
** directory is absent (the caller then skips with cr_skip_test). */
const char *tu_shared(const char *rel, char *buf, size_t size);
/* A fresh empty directory under the test's working directory; returns its path (static). */
const char *tu_tmpdir(const char *tag);
/* Writes size bytes to path; asserts on failure. */
void tu_write_file(const char *path, const void *data, size_t size);
/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL if missing. */
char *tu_read_file(const char *path, size_t *size);
/* Asserts (cr_expect) that two files exist and hold the same bytes. */
void tu_expect_same_file(const char *a, const char *b);
/* Runs a shell command, returns its exit status (0..255), output captured into out (may be NULL). */
int tu_run(const char *cmd, char *out, size_t outsize);

#endif
