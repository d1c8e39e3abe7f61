/*
** fuzz.h: what the fuzz targets share. Each target (fuzz_<name>.c) defines LLVMFuzzerTestOneInput
** and feeds the bytes to one of vibrun's readers the way a user's file reaches it: written to a
** file in a private directory, then loaded by path. Built two ways (tests/fuzz/CMakeLists.txt):
** with clang's libFuzzer for `make fuzz`, and with driver.c as a plain program that replays the
** seed corpus and every input a fuzzer once crashed on (tests/fuzz/regress/), as a ctest of every
** build, the sanitizer build included.
*/
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's private directory (made once per process, removed at exit). */
const char *fuzz_dir(void);
/* Writes bytes to fuzz_dir()/name (replacing it) and returns the path, in a static buffer per slot
** (slot 0..3, so a target can hold several paths at once). */
const char *fuzz_file(int slot, const char *name, const uint8_t *data, size_t size);
/* Splits data at the first occurrence of the separator line "\n--8<--\n": part 0 before it, part 1
** after it (empty when there is none). Loaders that take two files read one from each part. */
void fuzz_split(const uint8_t *data, size_t size, const uint8_t **p0, size_t *n0, const uint8_t **p1,
                size_t *n1);

#endif
