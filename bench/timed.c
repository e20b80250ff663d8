// Runs one command as `COMMAND < IN > OUT` would, and reports what `time` would: wall seconds,
// how it ended and its peak resident memory (ru_maxrss, the kernel's own count). `deno task
// bench` times the piped clients with it, so nothing of the harness sits in their data path.
// Built from source like loadgen.c.
//
//   timed IN OUT LIMIT_SECONDS COMMAND [ARGS...]
//
// The command's stderr is this program's. After LIMIT_SECONDS it is killed (signal 9).
// Prints one JSON line: {"code":N,"signal":N,"seconds":S,"peak_rss_kib":K}
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int signal) {
  (void)signal;
  kill(child, SIGKILL);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: timed IN OUT LIMIT_SECONDS COMMAND [ARGS...]\n");
    return 2;
  }
  int in = open(argv[1], O_RDONLY);
  int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) {
    perror("timed: open");
    return 2;
  }
  struct timespec started, ended;
  clock_gettime(CLOCK_MONOTONIC, &started);
  child = fork();
  if (child < 0) {
    perror("timed: fork");
    return 2;
  }
  if (child == 0) {
    dup2(in, 0);
    dup2(out, 1);
    close(in);
    close(out);
    execvp(argv[4], argv + 4);
    perror("timed: exec");
    _exit(127);
  }
  close(in);
  close(out);
  signal(SIGALRM, on_alarm);
  alarm((unsigned)atoi(argv[3]));
  int status;
  struct rusage usage;
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      perror("timed: wait4");
      return 2;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &ended);
  double seconds = (ended.tv_sec - started.tv_sec) + (ended.tv_nsec - started.tv_nsec) / 1e9;
  printf("{\"code\":%d,\"signal\":%d,\"seconds\":%.4f,\"peak_rss_kib\":%ld}\n",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
         seconds, usage.ru_maxrss);
  return 0;
}
