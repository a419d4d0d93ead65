/* Threads that each count in thread-local storage, for the TLS test. Every
 * worker sets its own id once and calls tick() every 20 ms; tick() counts in
 * __thread variables and the fix changes what it reports, so after the patch
 * each thread must still see its own count and id (the same storage).
 * Built as an executable (local-exec access) or, with -DLIB, as the body of a
 * shared library (general/local-dynamic, or initial-exec with
 * -ftls-model=initial-exec) driven by tls_user.c. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

__thread long tls_count;        /* .tbss, global */
__thread int tls_base = 7;      /* .tdata: a non-zero offset in the block */
static __thread int tls_id;     /* static: local-dynamic in a library */

__attribute__((noinline)) void tls_set_id(int id) { tls_id = id; }

__attribute__((noinline)) long tick(void) {
  tls_count++;
#ifdef FIXED
  return 1000000 + tls_id * 10000 + tls_base * 1000 + tls_count;
#else
  return tls_id * 10000 + tls_count;
#endif
}

#ifndef LIB
static void *worker(void *arg) {
  int id = (int)(long)arg;
  tls_set_id(id);
  for (;;) {
    long v = tick();
    printf("t%d %ld\n", id, v);
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  for (long i = 1; i <= 4; i++) pthread_create(&t, NULL, worker, (void *)i);
  printf("ready\n");
  fflush(stdout);
  worker((void *)5);
}
#endif
