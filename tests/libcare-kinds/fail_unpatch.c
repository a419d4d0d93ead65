/* fail_unpatch: the fixed function calls a function that never returns, so
 * after the patch a thread stays in the patched code and a revert must not
 * pull the code from under it. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void loop_forever(void) {
  for (int n = 0;; n++) {
    printf("greet PATCHED, looping %d\n", n);
    usleep(20000);
  }
}

static int greetings; /* not a tail call: greet()'s frame stays below loop_forever() */

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  (void)n;
  loop_forever();
#else
  printf("greet UNPATCHED %d\n", n);
#endif
  greetings++;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++) {
    greet(n);
    usleep(20000);
  }
}
