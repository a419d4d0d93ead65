/* fail_busy_single_top: the function to replace is the innermost frame: it
 * spins in its own loop (no call to wait in), and never returns. */
#include <stdio.h>

__attribute__((noipa)) void say(const char *state, unsigned long n) { printf("spin %s %lu\n", state, n); }

__attribute__((noipa)) void spin_forever(void) {
  for (unsigned long n = 0;; n++) {
    if (n % (1UL << 24) == 0)
#ifdef FIXED
      say("PATCHED", n >> 24);
#else
      say("UNPATCHED", n >> 24);
#endif
    __asm__ volatile("pause");
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  spin_forever();
}
