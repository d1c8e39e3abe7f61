// lb_lock.c: the per-point lock that tells a point being trained (by this or another vibrun, on
// this or another node of a shared file system) from one that is free.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "lb_impl.h"

/* <dir>/lock holds a POSIX record lock while a process trains the point, and that process's pid
** and host. fcntl locks (not flock) because F_GETLK tests a lock without taking it and tells
** the holder's pid; they work over NFS too. The lock goes with the process (kill -9 included). */
int lb_lock_point(const char *dir, long *holder) {
    char path[1200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    *holder = 0;
    if (fd < 0) return -1;
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) *holder = fl.l_pid;
        if (!*holder) *holder = -1;
        close(fd);
        return -1;
    }
    char host[256] = "?", text[300];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    int k = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) != 0 || write(fd, text, (size_t)k) != k) { /* informative only */ }
    return fd;
}

/* The pid holding dir/lock, or 0 when no live process holds it. */
long lb_lock_holder(const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    long pid = 0;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) pid = fl.l_pid ? fl.l_pid : -1;
    close(fd);
    return pid;
}
