/*
** fault.c: an LD_PRELOAD shim that makes one of vibrun's writes fail, as a full disk or a failing
** device would. It counts the calls through which a write reports failure, in the order vibrun
** makes them: fflush and fclose of a stream open for writing, write, fsync and rename. (A full
** disk also shortens an fwrite, but the stream then keeps an error that its fflush or fclose
** reports: failing those covers it, without faking the stream's error flag.) With VIB_FAULT_AT=k
** the k-th such call fails with ENOSPC (rename with EIO), after doing nothing (fsync, rename,
** write) or after its work (fflush, fclose: the data may be half out, as on a real full disk). VIB_FAULT_COUNT=FILE writes the number of calls made to FILE at
** exit, so that a test can fail each of them in turn (tests/fault/fault_inject.sh);
** VIB_FAULT_TRACE=1 lists them.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long calls, fail_at = -1;
static int ready;
static pid_t owner;         /* the process counted: not its children (gnuplot, --jobs workers) */

static void fault_exit(void) {
    const char *path = getenv("VIB_FAULT_COUNT");
    if (!path || getpid() != owner) return;
    FILE *(*real_fopen)(const char *, const char *) = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
    int (*real_fclose)(FILE *) = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
    FILE *f = real_fopen(path, "a");
    if (f) {
        fprintf(f, "%ld\n", calls);
        real_fclose(f);
    }
}

static void init(void) {
    if (ready) return;
    ready = 1;
    const char *who = getenv("VIB_FAULT_PID");
    if (who && atol(who) != (long)getpid()) return;  /* a program the counted one started */
    owner = getpid();
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)owner);
    setenv("VIB_FAULT_PID", pid, 1);
    const char *at = getenv("VIB_FAULT_AT");
    if (at) fail_at = atol(at);
    atexit(fault_exit);
}

/* Whether this call is the one to fail (counting it either way, in the counted process only).
** VIB_FAULT_TRACE=1 names each counted call on stderr, to say which one a failure was. */
static int hit(const char *name) {
    init();
    if (owner == 0 || getpid() != owner) return 0;
    ++calls;
    if (getenv("VIB_FAULT_TRACE")) fprintf(stderr, "fault: call %ld: %s%s\n", calls, name, calls == fail_at ? " (fails)" : "");
    return calls == fail_at;
}

static int writable(FILE *f) {
    if (!f) return 0;
    int fl = fcntl(fileno(f), F_GETFL);
    return fl != -1 && (fl & O_ACCMODE) != O_RDONLY && fileno(f) > 2;
}

#define REAL(ret, name, args) static ret(*real_##name) args; \
    if (!real_##name) real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name)

int fflush(FILE *f) {
    REAL(int, fflush, (FILE *));
    if (!writable(f)) return real_fflush(f);
    int r = real_fflush(f);
    if (hit("fflush")) {
        errno = ENOSPC;
        return EOF;
    }
    return r;
}

int fclose(FILE *f) {
    REAL(int, fclose, (FILE *));
    if (!writable(f)) return real_fclose(f);
    int r = real_fclose(f);
    if (hit("fclose")) {
        errno = ENOSPC;
        return EOF;
    }
    return r;
}

ssize_t write(int fd, const void *p, size_t n) {
    REAL(ssize_t, write, (int, const void *, size_t));
    if (fd > 2 && hit("write")) {
        errno = ENOSPC;
        return -1;
    }
    return real_write(fd, p, n);
}

int fsync(int fd) {
    REAL(int, fsync, (int));
    if (hit("fsync")) {
        errno = ENOSPC;
        return -1;
    }
    return real_fsync(fd);
}

int rename(const char *from, const char *to) {
    REAL(int, rename, (const char *, const char *));
    if (hit("rename")) {
        errno = EIO;
        return -1;
    }
    return real_rename(from, to);
}
