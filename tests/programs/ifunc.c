/* Calls into IFUNCs, for the IFUNC test: scale() is an IFUNC of the program
 * itself (its resolver picks scale_by_three); the fix adds calls to strchr, a
 * glibc IFUNC the unpatched program never calls, and to lib_triple, an IFUNC
 * of ifunc_lib.c it never calls either. A call that reached a resolver
 * instead of the implementation would print a pointer. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static long scale_by_three(long x) { return x * 3; }
static long (*resolve_scale(void))(long) { return scale_by_three; }
long scale(long x) __attribute__((ifunc("resolve_scale")));
long lib_warm(void);
long lib_triple(long x);

static const char *volatile input = "key:value";

__attribute__((noinline)) long measure(void) {
#ifdef FIXED
  const char *colon = strchr(input, ':');
  return 1000 + scale(colon ? colon - input : -1) + lib_triple(100);
#else
  return scale(strlen(input));
#endif
}

static void *worker(void *arg) {
  for (;;) {
    printf("measure %ld\n", measure());
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  lib_warm();
  pthread_create(&t, NULL, worker, NULL);
  printf("ready\n");
  fflush(stdout);
  worker(NULL);
}
