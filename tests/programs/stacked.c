/* Two patches stacked on one call chain: patch A replaces outer(), patch B
 * replaces inner(), which outer() calls. Threads spend most of their time
 * asleep in inner() called from outer(), so after both patches they sleep in
 * B's code and return into A's: reverting A must wait for them, never unmap
 * code a thread will return into. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile int sink;

__attribute__((noinline)) int inner(int x) {
  struct timespec ts = {0, 3000000};
  nanosleep(&ts, NULL);
#ifdef FIXED_B
  return x + 100;
#else
  return x + 1;
#endif
}

__attribute__((noinline)) int outer(int x) {
  int r = inner(x) * 2;
#ifdef FIXED_A
  r += 1000;
#endif
  sink = r;
  return r;
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    outer(1);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    printf("value %d\n", outer(1));
    fflush(stdout);
    usleep(20000);
  }
}
