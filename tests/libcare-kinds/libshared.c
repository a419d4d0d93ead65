/* shared: a patch for a shared library; the replaced function calls another
 * function of the library that it did not call before. */
#include <stdio.h>

__attribute__((noipa)) void lib_old_words(int n) { printf("lib UNPATCHED %d\n", n); }
__attribute__((noipa)) void lib_new_words(int n) { printf("lib PATCHED %d\n", n); }

static int greetings; /* not a tail call, like a function with real work after it */

void greet(int n) {
#ifdef FIXED
  lib_new_words(n);
#else
  lib_old_words(n);
#endif
  greetings++;
}
