/* Threads created inside the function being replaced, without pause: each
 * thread runs hot(), which starts the next thread and stays inside until that
 * one has entered hot() too. At every instant some thread of each chain is
 * inside hot(), so no consistent switch exists: graft must refuse, never
 * report the patch applied. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_long entered;

static void *chain(void *arg);

__attribute__((noinline)) void hot(atomic_int *my_flag) {
  atomic_fetch_add(&entered, 1);
  if (my_flag) atomic_store(my_flag, 1);  /* tell the creator we are inside */
  atomic_int next = 0;
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  while (pthread_create(&t, &a, chain, &next) != 0) usleep(100);
  pthread_attr_destroy(&a);
  while (!atomic_load(&next)) ; /* stay inside until the next one is */
#ifdef FIXED
  atomic_fetch_add(&entered, 1000000);
#endif
}

static void *chain(void *arg) {
  hot(arg);
  return NULL;
}

int main(int argc, char **argv) {
  int chains = argc > 1 ? atoi(argv[1]) : 3;
  for (int i = 0; i < chains; i++) {
    pthread_t t;
    pthread_create(&t, NULL, chain, NULL);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    sleep(1);
    printf("entered %ld\n", atomic_load(&entered));
    fflush(stdout);
  }
}
