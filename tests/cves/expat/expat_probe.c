/* A long-running libexpat user for the expat cases of the CVE corpus. Each
 * line on standard input names a probe, answered with one line; each runs in
 * a forked child (fork_probe.h).
 *   negbuf     XML_ParseBuffer with a negative length     (CVE-2024-45490)
 *   stopfresh  XML_StopParser on a parser never started   (CVE-2024-50602) */
#include "../fork_probe.h"

#include <expat.h>

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
    run_forked(probe, line);
  }
  return 0;
}
