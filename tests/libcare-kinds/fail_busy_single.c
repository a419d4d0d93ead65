/* fail_busy_single: the function to replace is the program's serving loop; it
 * is always on the stack (below the calls it makes) and never returns. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void say(const char *state, int n) { printf("serve %s %d\n", state, n); }

__attribute__((noipa)) void serve_forever(void) {
  for (int n = 0;; n++) {
#ifdef FIXED
    say("PATCHED", n);
#else
    say("UNPATCHED", n);
#endif
    usleep(20000);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  serve_forever();
}
