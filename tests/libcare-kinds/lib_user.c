/* The host program of the shared-library kinds: it only calls the library's
 * greet() in a loop; the patches target the library, never this file. */
#include <stdio.h>
#include <unistd.h>

void greet(int n);

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++) {
    greet(n);
    usleep(20000);
  }
}
