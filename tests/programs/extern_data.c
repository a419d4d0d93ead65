/* The fix reads opterr, a variable of glibc that the unpatched program never
 * used (so the program has no copy of it), for the extern-data test. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

long calls;

__attribute__((noinline)) long status(long n) {
  calls++;
#ifdef FIXED
  return 1000 * opterr + n;
#else
  return n;
#endif
}

int main(void) {
  printf("ready\n");
  fflush(stdout);
  for (long n = 0;; n++) {
    printf("status %ld\n", status(n % 10));
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
