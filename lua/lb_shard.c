// lb_shard.c: how a sweep is shared out: balanced deterministic shards for --shard and Slurm job
// arrays, and the CPUs this process may use for --jobs.
#define _GNU_SOURCE                     /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "lb_impl.h"

void lb_shard_assign(const double *cost, int n, int nshards, int *shard) {
    /* Longest processing time first: points by decreasing cost (ties: sweep order) go to the
    ** least loaded shard (ties: the lowest). Equal costs give round-robin in sweep order. */
    int *order = rt_xmalloc((size_t)(n ? n : 1) * sizeof *order);
    double *load = rt_xcalloc((size_t)nshards, sizeof *load);
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) {                   /* insertion sort: stable, n is small */
        int x = order[i], j = i - 1;
        while (j >= 0 && cost[order[j]] < cost[x]) order[j + 1] = order[j], j--;
        order[j + 1] = x;
    }
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int s = 1; s < nshards; s++)
            if (load[s] < load[best]) best = s;
        shard[order[i]] = best;
        load[best] += cost[order[i]];
    }
    free(order);
    free(load);
}

int lb_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
