/* Benchmark target for bench/apply_rate.sh: a quiet two-thread program, as a
 * fleet of idle service processes looks. The main thread calls compute()
 * (what the fix changes) once a second; a second thread sleeps. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

volatile long total;

__attribute__((noinline)) long compute(long x) {
#ifdef FIXED
  if (x < 0) return -1;
  return x * 3;
#else
  return x * 2;
#endif
}

static void *sleeper(void *arg) {
  for (;;) pause();
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, sleeper, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    total += compute(21);
    sleep(1);
  }
}
