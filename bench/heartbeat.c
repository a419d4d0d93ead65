/* Benchmark target. "heartbeat N": N threads loop { beat(); sleep 100 us }
 * and track the largest gap between two iterations; each line on stdin
 * "reset" / "report" resets or prints the largest gap (us) over all threads.
 * "callcost": prints the ns per call of beat() over 50M calls, twice a
 * second, so a patched and an unpatched run can be compared. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile long counter;
static double max_gap_us;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) long beat(long x) {
#ifdef FIXED
  if (x < 0) return 0;
#endif
  counter += x;
  return counter;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void *heart(void *arg) {
  double last = now_us();
  for (;;) {
    beat(1);
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
    double t = now_us(), gap = t - last;
    last = t;
    if (gap > max_gap_us) {
      pthread_mutex_lock(&mu);
      if (gap > max_gap_us) max_gap_us = gap;
      pthread_mutex_unlock(&mu);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "callcost")) {
    printf("ready\n");
    fflush(stdout);
    for (;;) {
      double t0 = now_us();
      for (long i = 0; i < 50000000; i++) beat(1);
      printf("ns_per_call %.3f\n", (now_us() - t0) * 1000.0 / 50000000);
      fflush(stdout);
    }
  }
  int n = argc > 2 ? atoi(argv[2]) : 1;
  for (int i = 0; i < n; i++) {
    pthread_t t;
    pthread_create(&t, NULL, heart, NULL);
  }
  printf("ready\n");
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    pthread_mutex_lock(&mu);
    if (!strncmp(line, "report", 6)) printf("max_gap_us %.1f\n", max_gap_us);
    max_gap_us = 0;
    pthread_mutex_unlock(&mu);
    fflush(stdout);
  }
  return 0;
}
