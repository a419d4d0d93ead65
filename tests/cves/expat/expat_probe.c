/* A long-running libexpat user for the expat cases of the CVE corpus. Each
 * line on standard input names a probe, answered with one line. The probe
 * runs in a forked child (a fork runs the parent's code as it is at that
 * moment, patched or not) so a crash in the buggy library is reported as
 * "crashed SIGNAME" and the process graft patches lives on.
 *   negbuf     XML_ParseBuffer with a negative length     (CVE-2024-45490)
 *   stopfresh  XML_StopParser on a parser never started   (CVE-2024-50602) */
#define _GNU_SOURCE
#include <expat.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void probe(const char* what) {
  XML_Parser p = XML_ParserCreate(NULL);
  enum XML_Status st;
  if (strcmp(what, "negbuf") == 0) {
    void* buf = XML_GetBuffer(p, 64);
    memcpy(buf, "<doc>", 5);
    st = XML_ParseBuffer(p, -1, XML_FALSE);
  } else if (strcmp(what, "stopfresh") == 0) {
    st = XML_StopParser(p, XML_FALSE);
  } else {
    printf("unknown probe %s\n", what);
    return;
  }
  printf("status %d error %d\n", (int)st, (int)XML_GetErrorCode(p));
  XML_ParserFree(p);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    pid_t pid = fork();
    if (pid == 0) {
      probe(line);
      fflush(stdout);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) printf("crashed %s\n", sigabbrev_np(WTERMSIG(status)));
  }
  return 0;
}
