/* Shared by the corpus's probe programs: runs one probe in a forked child
 * and reports "crashed SIGNAME" when the child dies of a signal. A fork runs
 * the parent's code as it is at that moment, patched or not, so a crash in
 * the buggy library shows without killing the process graft patches. */
#ifndef GRAFT_TESTS_CVES_FORK_PROBE_H
#define GRAFT_TESTS_CVES_FORK_PROBE_H

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_forked(void (*probe)(const char*), const char* arg) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    probe(arg);
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) printf("crashed %s\n", sigabbrev_np(WTERMSIG(status)));
}

#endif
