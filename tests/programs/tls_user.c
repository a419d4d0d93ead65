/* Drives libtls (tls_counter.c built with -DLIB): four threads and main each
 * set their thread-local id in the library once, then print tick() every 20 ms. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

void tls_set_id(int id);
long tick(void);

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
