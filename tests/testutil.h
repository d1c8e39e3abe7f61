/* testutil.h: helpers shared by the Criterion tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "nn_model.h"
#include "nn_obj.h"

/* Path under the shared data directory (../shared/data/<rel>) into buf, or NULL when the shared
** directory is absent (the caller then calls tu_skip). */
const char *tu_shared(const char *rel, char *buf, size_t size);
/* Skips the test, giving the reason (printf format): what it needs is missing here. Under CI
** (VIB_CI set, as .ci/run does) the test fails instead: CI installs every package and has
** ../shared, so something missing there is a broken CI, not a reason to test less. */
void tu_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
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
/* The source tree ($VIB_SOURCE) and the vibrun binary ($VIBRUN), both set by ctest; asserts. */
const char *tu_source_dir(void);
const char *tu_vibrun(void);
/* Starts argv (argv[0] the program, NULL-terminated) in dir with its stdout and stderr written to
** the file log; with new_group, in a process group of its own (so that a test can signal the
** group). Returns the child's pid; the caller waits for it. */
pid_t tu_spawn(const char *dir, const char *log, bool new_group, const char *const argv[]);
/* Polls the file path every 50 ms until it holds text; false when timeout_s passes first. */
bool tu_wait_for_text(const char *path, const char *text, double timeout_s);
/* A fresh directory (tu_tmpdir) holding tiny.csv: three Gaussian blobs in 4-D, 400 rows,
** columns x1..x4, y; the data of the tests/lua scripts. */
const char *tu_tiny_dir(const char *tag);
/* The 12-character point directories of a run directory runs/<exp>, sorted; their count (<= max). */
int tu_point_dirs(const char *exp_dir, char names[][64], int max);
/* A layer as a script would declare it: kind k with out units, named name, at "<script>:<line0 + k>"
** (each kind on its own line, so an error names which layer). */
nn_layer_spec tu_layer(const char *script, int line0, nn_layer_kind k, int out, const char *name);
/* A term of kind k on layer ("" for the output) with weight, declared at where ("x.lua:7"); name
** NULL keeps the kind's default name. */
nn_term_spec tu_term(const char *where, nn_term_kind k, const char *name, const char *layer, float weight);

#endif
