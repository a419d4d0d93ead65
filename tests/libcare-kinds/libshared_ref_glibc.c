/* shared_ref_glibc: a shared library's function changes what it passes to
 * the C library, and calls a C library function the library never imported. */
#include <stdio.h>

void greet(int n) {
#ifdef FIXED
  char line[64];
  snprintf(line, sizeof line, "lib PATCHED via puts %d", n);
  puts(line);
#else
  printf("lib UNPATCHED %d\n", n);
#endif
}
