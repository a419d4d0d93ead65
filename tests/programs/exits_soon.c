/* Sits inside the function the fix changes for a while, then exits: graft
 * must report that the process went away, not crash or hang. */
#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) int linger(int seconds) {
#ifdef FIXED
  if (seconds < 0) return -1;
#endif
  sleep(seconds);
  return seconds;
}
int main(void) {
  printf("ready\n");
  fflush(stdout);
  return linger(1) - 1;
}
