/* Sits inside the function the fix changes for a while, then exits from
 * inside it (so graft cannot run it out of the function first): graft must
 * report that the process went away, not crash or hang. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) int linger(int seconds) {
#ifdef FIXED
  if (seconds < 0) return -1;
#endif
  sleep(seconds);
  if (seconds > 0) exit(0);
  return seconds;
}
int main(void) {
  printf("ready\n");
  fflush(stdout);
  return linger(1) - 1;
}
