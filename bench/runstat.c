/*
 * runstat.c - tc-runstat: run a program, record its exit and peak RSS.
 *
 * Usage: tc-runstat STATFILE [NAME=VALUE...] PROGRAM [ARG...]
 * The NAME=VALUE pairs are added to the program's environment only (as
 * env(1) does), so an LD_PRELOAD meant for the benchmark does not load
 * into tc-runstat itself, whose memory would count in the floor below.
 * Writes one line to STATFILE:
 *   status=N maxrss_kib=N minflt=N utime_s=F stime_s=F
 * where status is the exit code, or minus the signal number that killed
 * the program; tc-runstat itself exits with the program's code (128+signal
 * after a signal). Its own errors exit 127 with one line on stderr.
 *
 * Why this exists instead of wait4() in the Python driver: Linux carries a
 * process's peak RSS across execve (the old image's high-water mark is
 * kept in ru_maxrss), and a child forked from Python starts as a copy of
 * the interpreter, so every benchmark would report at least the driver's
 * ~17 MiB. Spawned from this small program instead, the floor is about
 * 1 MiB, and ru_maxrss measures the benchmark.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

extern char **environ;

static double seconds(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    int prog = 2;
    for (; prog < argc && strchr(argv[prog], '=') != NULL; prog++) {
        char *eq = strchr(argv[prog], '=');
        *eq = '\0';
        if (argv[prog][0] == '\0' || setenv(argv[prog], eq + 1, 1) != 0) {
            fprintf(stderr, "tc-runstat: bad assignment '%s=%s'\n", argv[prog], eq + 1);
            return 127;
        }
    }
    if (prog >= argc) {
        fprintf(stderr, "usage: tc-runstat STATFILE [NAME=VALUE...] PROGRAM [ARG...]\n");
        return 127;
    }
    FILE *stat = fopen(argv[1], "w");
    if (stat == NULL) {
        fprintf(stderr, "tc-runstat: cannot write %s: %s\n", argv[1], strerror(errno));
        return 127;
    }
    pid_t pid;
    int err = posix_spawn(&pid, argv[prog], NULL, NULL, argv + prog, environ);
    if (err != 0) {
        fprintf(stderr, "tc-runstat: cannot run %s: %s\n", argv[prog], strerror(err));
        return 127;
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "tc-runstat: wait4: %s\n", strerror(errno));
            return 127;
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    fprintf(stat, "status=%d maxrss_kib=%ld minflt=%ld utime_s=%.3f stime_s=%.3f\n", code,
            ru.ru_maxrss, ru.ru_minflt, seconds(ru.ru_utime), seconds(ru.ru_stime));
    if (fclose(stat) != 0) {
        fprintf(stderr, "tc-runstat: cannot write %s: %s\n", argv[1], strerror(errno));
        return 127;
    }
    return code >= 0 ? code : 128 - code;
}
