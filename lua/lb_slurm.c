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
#include "rt_text.h"

void lb_shell_quote(rt_buf *b, const char *s) {
    rt_buf_printf(b, "'");
    for (; *s; s++) {
        if (*s == '\'') rt_buf_printf(b, "'\\''");
        else rt_buf_put(b, s, 1);
    }
    rt_buf_printf(b, "'");
}

/* " --set k=v" for each --set, shell-quoted. */
static void set_args(const lb_opts *o, rt_buf *b) {
    for (int i = 0; i < o->nsets; i++) {
        rt_buf_printf(b, " --set ");
        lb_shell_quote(b, o->sets[i]);
    }
}

void lb_selection_args(const lb_opts *o, rt_buf *b) {
    rt_buf_printf(b, "%s", "");
    if (o->out && strcmp(o->out, "runs") != 0) {
        rt_buf_printf(b, " --out ");
        lb_shell_quote(b, o->out);
    }
    set_args(o, b);
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
    rt_buf q_exe = { 0 }, q_script = { 0 }, q_out = { 0 }, q_cwd = { 0 }, sets = { 0 }, text = { 0 };
    lb_shell_quote(&q_exe, exe);
    lb_shell_quote(&q_script, script);
    lb_shell_quote(&q_out, out);
    lb_shell_quote(&q_cwd, cwd);
    set_args(o, &sets);
    /* #SBATCH --output: sbatch reads quotes and backslashes as the shell does, '#' outside quotes
    ** starts a comment, and '%' starts a file name pattern ('%%' is one '%'). */
    rt_buf logs = { 0 }, q_logs = { 0 }, q_path = { 0 };
    for (const char *c = out; *c; c++) rt_buf_printf(&logs, *c == '%' ? "%%%%" : "%c", *c);
    rt_buf_printf(&logs, "/");
    for (const char *c = exp_name; *c; c++) rt_buf_printf(&logs, *c == '%' ? "%%%%" : "%c", *c);
    rt_buf_printf(&logs, "/slurm/%%x-%%A_%%a.out");
    snprintf(path, sizeof path, "%s/%s.sbatch", dir, exp_name);
    lb_shell_quote(&q_logs, rt_buf_str(&logs));
    lb_shell_quote(&q_path, path);
    rt_buf_printf(&text,
        "#!/bin/bash\n"
        "# Written by `vibrun slurm`: the %d points of %s as a job array of %d tasks; task i trains\n"
        "# shard i/%d (balanced, deterministic) into %s/%s, continuing what a previous run left\n"
        "# (--resume). Submit: sbatch %s   Watch: vibrun status %s/%s\n"
        "# When every task has ended: vibrun %s --merge --out %s%s\n"
        "#SBATCH --job-name=vib-%s\n"
        "#SBATCH --array=1-%d\n"
        "#SBATCH --output=%s\n"
        "#SBATCH --ntasks=1\n"
        "#SBATCH --cpus-per-task=%d\n"
        "%s%s%s%s%s%s"
        "export OPENBLAS_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n"
        "cd %s\n"
        "exec %s %s --resume --quiet --out %s --shard \"${SLURM_ARRAY_TASK_ID}/%d\"%s\n",
        npoints, script, tasks, tasks, out, exp_name, q_path.s, out, exp_name, q_script.s, q_out.s, rt_buf_str(&sets),
        exp_name, tasks, q_logs.s, o->slurm_cpus > 0 ? o->slurm_cpus : 1,
        o->slurm_partition ? "#SBATCH --partition=" : "", o->slurm_partition ? o->slurm_partition : "",
        o->slurm_partition ? "\n" : "", o->slurm_time ? "#SBATCH --time=" : "",
        o->slurm_time ? o->slurm_time : "", o->slurm_time ? "\n" : "",
        q_cwd.s, q_exe.s, q_script.s, q_out.s, tasks, rt_buf_str(&sets));
    rt_err err = { 0 };
    rt_status wst = rt_write_atomic(path, text.s, text.n, &err);
    rt_buf_free(&q_exe);
    rt_buf_free(&q_script);
    rt_buf_free(&q_out);
    rt_buf_free(&q_cwd);
    rt_buf_free(&text);
    rt_buf_free(&logs);
    rt_buf_free(&q_logs);
    if (wst != RT_OK) {
        fprintf(stderr, "vibrun: %s\n", err.msg);
        rt_buf_free(&sets);
        return 1;
    }
    chmod(path, 0755);
    printf("job array: %s (%d tasks, %d points)\n", path, tasks, npoints);
    if (!o->slurm_submit) {
        printf("submit with: sbatch %s\n", q_path.s);
        rt_buf_free(&q_path);
        rt_buf_free(&sets);
        return 0;
    }
    char line[256] = "";
    rt_buf cmd = { 0 };
    rt_buf_printf(&cmd, "sbatch --parsable %s", q_path.s);
    rt_buf_free(&q_path);
    fflush(stdout);
    FILE *f = popen(cmd.s, "r");
    rt_buf_free(&cmd);
    if (!f) {
        rt_buf_free(&sets);
        fprintf(stderr, "vibrun: cannot run sbatch: %s\n", strerror(errno));
        return 1;
    }
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    int st = pclose(f);
    line[strcspn(line, ";\n")] = '\0';
    if (st != 0 || !line[0]) {
        fprintf(stderr, "vibrun: sbatch %s failed (exit status %d); is Slurm installed and reachable? "
                "The script is there to submit by hand.\n", path, st);
        rt_buf_free(&sets);
        return 1;
    }
    printf("submitted job %s\nstatus: %s status %s/%s\nmerge:  %s %s --merge --out %s%s\n", line, lb_cmd(), out,
           exp_name, lb_cmd(), script, out, rt_buf_str(&sets));
    rt_buf_free(&sets);
    return 0;
}
