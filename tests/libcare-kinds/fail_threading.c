/* fail_threading: a chain of threads, started from a constructor; each spends
 * a while in stage() and starts the next thread from inside it, so at every
 * instant some thread is in stage(), and new threads keep appearing. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static void *link_body(void *arg);

static void nap_ms(long ms) {
  struct timespec t = {0, ms * 1000 * 1000};
  nanosleep(&t, NULL);
}

__attribute__((noipa)) int stage(long depth, pthread_t *next) {
  nap_ms(50);
#ifdef FIXED
  printf("stage PATCHED %ld\n", depth);
  (void)next;
  return 0;
#else
  int started = pthread_create(next, NULL, link_body, (void *)(depth + 1)) == 0;
  printf("stage UNPATCHED %ld\n", depth);
  nap_ms(100);
  return started;
#endif
}

static void *link_body(void *arg) {
  pthread_t next;
  if (stage((long)arg, &next))
    pthread_join(next, NULL);
  return NULL;
}

static pthread_t first;

__attribute__((constructor)) static void start_chain(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_create(&first, NULL, link_body, (void *)0L);
}

int main(void) { pthread_join(first, NULL); }
