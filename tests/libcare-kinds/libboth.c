/* The library half of both/patchlevel: one format string, a changed word. */
#include <stdio.h>

static const char *format = "lib %s %d\n";

void lib_greet(int n) {
#if defined(FIXED) && LEVEL == 1
  printf(format, "SEMIPATCHED", n);
#elif defined(FIXED)
  printf(format, "PATCHED", n);
#else
  printf(format, "UNPATCHED", n);
#endif
}
