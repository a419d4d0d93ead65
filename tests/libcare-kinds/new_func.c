/* new_func: the fix adds a function that did not exist in the running
 * program and calls it from the replaced one. */
#include <stdio.h>
#include <unistd.h>

#ifdef FIXED
__attribute__((noipa)) void announce_fixed(int n) { printf("greet PATCHED by a new function %d\n", n); }
#endif

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  announce_fixed(n);
#else
  printf("greet UNPATCHED %d\n", n);
#endif
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++) {
    greet(n);
    usleep(20000);
  }
}
