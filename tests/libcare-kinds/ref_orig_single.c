/* ref_orig_single: the replaced function calls a function of the running
 * program that it did not call before (bound to the original, not copied). */
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void old_words(int n) { printf("greet UNPATCHED %d\n", n); }
__attribute__((noipa)) void new_words(int n) { printf("greet PATCHED via an existing function %d\n", n); }

static int greetings; /* the call is not a tail call: greet() must hold a 5-byte jump */

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  new_words(n);
#else
  old_words(n);
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
