/* frame_finish: the function to replace sleeps inside itself, so the thread is
 * almost always in it; the patch waits for it to return (run until safe). */
#include <stdio.h>
#include <time.h>

__attribute__((noipa)) void greet(int n) {
  struct timespec nap = {0, 150 * 1000 * 1000};
#ifdef FIXED
  printf("greet PATCHED %d\n", n);
#else
  printf("greet UNPATCHED %d\n", n);
#endif
  nanosleep(&nap, NULL);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++)
    greet(n);
}
