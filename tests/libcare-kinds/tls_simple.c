/* tls_simple: the fix reads the executable's thread-local variable and checks
 * it is the running thread's own storage (value set and address taken before). */
#include <stdio.h>
#include <unistd.h>

__thread unsigned tls_value;
unsigned *tls_seen;

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  if (tls_seen == &tls_value && tls_value == 0xC0FFEE)
    printf("tls PATCHED same storage %d\n", n);
  else
    printf("tls WRONG storage %p %p %x %d\n", (void *)tls_seen, (void *)&tls_value, tls_value, n);
#else
  printf("tls UNPATCHED %d\n", n);
#endif
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  tls_value = 0xC0FFEE;
  tls_seen = &tls_value;
  for (int n = 0;; n++) {
    greet(n);
    usleep(20000);
  }
}
