// lb_slurm.c: `vibrun slurm`: a sweep as a Slurm job array. The sbatch script names the vibrun
// binary, the script and the output directory by absolute path, so a compute node needs only
// those (and the shared file system); task i runs `vibrun SCRIPT --resume --shard i/N`, so a
// requeued or preempted task (SIGTERM: checkpoint and stop) continues where it stopped.
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_csv.h"

void lb_shell_quote(const char *s, char *out, size_t size) {
    size_t k = 0;
    if (k + 1 < size) out[k++] = '\'';
    for (; *s && k + 5 < size; s++) {
        if (*s == '\'') {
            memcpy(out + k, "'\\''", 4);
            k += 4;
        } else {
            out[k++] = *s;
        }
    }
    if (k + 1 < size) out[k++] = '\'';
    out[k] = '\0';
}

/* " --set k=v" for each --set, shell-quoted, appended to out at *k. */
static void set_args(const lb_opts *o, char *out, size_t size, size_t *k) {
    for (int i = 0; i < o->nsets && *k < size; i++) {
        char q[600];
        lb_shell_quote(o->sets[i], q, sizeof q);
        *k += (size_t)snprintf(out + *k, size - *k, " --set %s", q);
    }
}

void lb_selection_args(const lb_opts *o, char *out, size_t size) {
    size_t k = 0;
    out[0] = '\0';
    if (o->out && strcmp(o->out, "runs") != 0) {
        char q[PATH_MAX + 64];
        lb_shell_quote(o->out, q, sizeof q);
        k += (size_t)snprintf(out + k, size - k, " --out %s", q);
    }
    set_args(o, out, size, &k);
}

int lb_slurm_write(const lb_opts *o, const char *exp_dir, const char *exp_name, int npoints) {
    char exe[PATH_MAX], script[PATH_MAX], out[PATH_MAX], cwd[PATH_MAX], dir[1200], path[1400];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "vibrun: cannot find the vibrun binary (/proc/self/exe): %s\n", strerror(errno));
        return 1;
    }
    exe[n] = '\0';
    lb_script_identity(o->script, script, sizeof script);
    lb_script_identity(o->out, out, sizeof out);         /* exists: the manifest is in it */
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "vibrun: getcwd: %s\n", strerror(errno));
        return 1;
    }
    int tasks = o->slurm_tasks;
    if (tasks > npoints) {
        fprintf(stderr, "vibrun: %d tasks for %d points: using %d tasks\n", tasks, npoints, npoints);
        tasks = npoints;
    }
    snprintf(dir, sizeof dir, "%s/slurm", exp_dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vibrun: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char q_exe[PATH_MAX + 64], q_script[PATH_MAX + 64], q_out[PATH_MAX + 64], q_cwd[PATH_MAX + 64];
    lb_shell_quote(exe, q_exe, sizeof q_exe);
    lb_shell_quote(script, q_script, sizeof q_script);
    lb_shell_quote(out, q_out, sizeof q_out);
    lb_shell_quote(cwd, q_cwd, sizeof q_cwd);
    char sets[8192] = "";
    size_t k = 0;
    set_args(o, sets, sizeof sets, &k);
    char text[32768];
    int len = snprintf(text, sizeof text,
        "#!/bin/bash\n"
        "# Written by `vibrun slurm`: the %d points of %s as a job array of %d tasks; task i trains\n"
        "# shard i/%d (balanced, deterministic) into %s/%s, continuing what a previous run left\n"
        "# (--resume). Submit: sbatch %s/%s.sbatch   Watch: vibrun status %s/%s\n"
        "# When every task has ended: vibrun %s --merge --out %s%s\n"
        "#SBATCH --job-name=vib-%s\n"
        "#SBATCH --array=1-%d\n"
        "#SBATCH --output=%s/%s/slurm/%%x-%%A_%%a.out\n"
        "#SBATCH --ntasks=1\n"
        "#SBATCH --cpus-per-task=%d\n"
        "%s%s%s%s%s%s"
        "export OPENBLAS_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n"
        "cd %s\n"
        "exec %s %s --resume --quiet --out %s --shard \"${SLURM_ARRAY_TASK_ID}/%d\"%s\n",
        npoints, script, tasks, tasks, out, exp_name, dir, exp_name, out, exp_name, script, out, sets,
        exp_name, tasks, out, exp_name, o->slurm_cpus > 0 ? o->slurm_cpus : 1,
        o->slurm_partition ? "#SBATCH --partition=" : "", o->slurm_partition ? o->slurm_partition : "",
        o->slurm_partition ? "\n" : "", o->slurm_time ? "#SBATCH --time=" : "",
        o->slurm_time ? o->slurm_time : "", o->slurm_time ? "\n" : "",
        q_cwd, q_exe, q_script, q_out, tasks, sets);
    snprintf(path, sizeof path, "%s/%s.sbatch", dir, exp_name);
    rt_err err = { 0 };
    if (rt_write_atomic(path, text, (size_t)len, &err) != RT_OK) {
        fprintf(stderr, "vibrun: %s\n", err.msg);
        return 1;
    }
    chmod(path, 0755);
    printf("job array: %s (%d tasks, %d points)\n", path, tasks, npoints);
    if (!o->slurm_submit) {
        printf("submit with: sbatch %s\n", path);
        return 0;
    }
    char cmd[1600], line[256] = "";
    char q_path[1500];
    lb_shell_quote(path, q_path, sizeof q_path);
    snprintf(cmd, sizeof cmd, "sbatch --parsable %s", q_path);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "vibrun: cannot run sbatch: %s\n", strerror(errno));
        return 1;
    }
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    int st = pclose(f);
    line[strcspn(line, ";\n")] = '\0';
    if (st != 0 || !line[0]) {
        fprintf(stderr, "vibrun: sbatch %s failed (exit status %d); is Slurm installed and reachable? "
                "The script is there to submit by hand.\n", path, st);
        return 1;
    }
    printf("submitted job %s\nstatus: %s status %s/%s\nmerge:  %s %s --merge --out %s%s\n", line, lb_cmd(), out,
           exp_name, lb_cmd(), script, out, sets);
    return 0;
}
