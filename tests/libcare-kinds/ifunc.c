/* ifunc: the fix calls a library function that is an IFUNC (its symbol is a
 * resolver) and that the running program never called, so nothing resolved it. */
#include <stdio.h>
#include <unistd.h>

void lib_plain(int n);
void lib_chosen(int n);

__attribute__((noipa)) void greet(int n) {
#ifdef FIXED
  lib_chosen(n);
#else
  lib_plain(n);
#endif
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++) {
    greet(n);
    usleep(20000);
  }
}
