/* simplest: one function's body changes; the fix silences it. The other
 * function keeps printing, so "no greet line" means patched, not hung. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  volatile int silenced = n;
  (void)silenced;
#else
  printf("greet UNPATCHED %d\n", n);
#endif
}

__attribute__((noipa)) void heartbeat(int n) { printf("heartbeat %d\n", n); }

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++) {
    greet(n);
    usleep(15000);
    heartbeat(n);
    usleep(15000);
  }
}
