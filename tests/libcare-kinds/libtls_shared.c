/* tls_shared: a shared library built with -ftls-model=initial-exec counts in
 * a thread-local variable; the fix moves the counting into greet(), which did
 * not touch the variable before, and must continue the same count. */
#include <stdio.h>

static __thread int tls_count = 100;

__attribute__((noipa)) void lib_old_words(int n) {
  tls_count++;
  printf("lib UNPATCHED tls_count=%d %d\n", tls_count, n);
}

void greet(int n) {
#ifdef FIXED
  tls_count++;
  printf("lib PATCHED tls_count=%d %d\n", tls_count, n);
#else
  lib_old_words(n);
#endif
}
