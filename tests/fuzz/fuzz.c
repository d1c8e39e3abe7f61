// fuzz.c: the private directory and file helpers of fuzz.h.
#define _XOPEN_SOURCE 700         /* nftw */
#include "fuzz.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_dir(void) {
    if (dir[0]) nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void) {
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/vibfuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(remove_dir);
    }
    return dir;
}

const char *fuzz_file(int slot, const char *name, const uint8_t *data, size_t size) {
    static char paths[4][512];
    if (slot < 0 || slot > 3) abort();
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(paths[slot], "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(paths[slot]);
        abort();
    }
    return paths[slot];
}

void fuzz_split(const uint8_t *data, size_t size, const uint8_t **p0, size_t *n0, const uint8_t **p1,
                size_t *n1) {
    static const char sep[] = "\n--8<--\n";
    size_t k = sizeof sep - 1;
    *p0 = data;
    *n0 = size;
    *p1 = data + size;
    *n1 = 0;
    for (size_t i = 0; size >= k && i <= size - k; i++)
        if (memcmp(data + i, sep, k) == 0) {
            *n0 = i;
            *p1 = data + i + k;
            *n1 = size - i - k;
            return;
        }
}
