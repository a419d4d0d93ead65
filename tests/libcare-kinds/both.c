/* both (and patchlevel): one patch for the executable, one for the library it
 * calls. LEVEL=1 builds patchlevel's first, intermediate fix. */
#include <stdio.h>
#include <unistd.h>

void lib_greet(int n);

__attribute__((noipa)) void greet(int n) {
  lib_greet(n);
#if defined(FIXED) && LEVEL == 1
  printf("binary SEMIPATCHED %d\n", n);
#elif defined(FIXED)
  printf("binary PATCHED %d\n", n);
#endif
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++) {
    greet(n);
    usleep(20000);
  }
}
