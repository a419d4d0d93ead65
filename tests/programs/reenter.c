/* Threads that re-enter hot() at once: each spends all but a few nanoseconds
 * of its time inside it (a loop of calls with nothing in between), so there is
 * practically never a moment when no thread is inside. graft must run them out
 * of hot() (each parks at its return address) instead of hoping for luck. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile long spins = 20000;

__attribute__((noinline)) long hot(long x) {
  long acc = 0;
  for (long i = 0; i < spins; i++) acc += i & 1;
#ifdef FIXED
  return x * 3 + (acc & 0);
#else
  return x * 2 + (acc & 0);
#endif
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) hot(1);
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  for (int i = 0; i < n; i++) {
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    printf("value %ld\n", hot(21));
    fflush(stdout);
    usleep(20000);
  }
}
