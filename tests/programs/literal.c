/* A fix that only changes a string literal, for the literal test: report()'s
 * format string changes; `banner` is a writable variable pointing to a
 * literal that does not change (but moves in the pool when the test builds
 * with -O0 or -fno-merge-constants, which put literals in one plain .rodata). */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

__attribute__((noinline)) void report(const char *who, long n) {
#ifdef FIXED
  printf("%s: served %ld requests (fixed)\n", who, n);
#else
  printf("%s: %ld\n", who, n);
#endif
  fflush(stdout);
}

const char *banner = "service";

static void *worker(void *arg) {
  for (long n = 0;; n++) {
    report(banner, n);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
  }
}
