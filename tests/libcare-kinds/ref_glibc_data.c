/* ref_glibc_data: the fix writes to stderr, a C library variable the running
 * program never used (so it has no copy relocation for it). */
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  fprintf(stderr, "greet PATCHED on stderr %d\n", n);
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
