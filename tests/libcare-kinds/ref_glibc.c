/* ref_glibc: the fix calls C library functions (snprintf, puts) that the
 * running program never imported: no PLT stub of its own to reuse. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  char line[64];
  snprintf(line, sizeof line, "greet PATCHED via puts %d", n);
  puts(line);
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
