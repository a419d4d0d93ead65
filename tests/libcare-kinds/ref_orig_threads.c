/* ref_orig_threads: three threads; two run the function the fix changes
 * (it then calls an existing function), one runs code the fix leaves alone. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void report_fixed(long id) { printf("worker%ld PATCHED\n", id); }
__attribute__((noipa)) void steady(long id) { printf("steady%ld UNPATCHED\n", id); }

__attribute__((noipa)) void report(long id) {
#ifdef FIXED
  report_fixed(id);
#else
  printf("worker%ld UNPATCHED\n", id);
#endif
}

static void *steady_loop(void *arg) {
  for (;;) {
    steady((long)arg);
    usleep(20000);
  }
}

static void *worker_loop(void *arg) {
  for (;;) {
    report((long)arg);
    usleep(20000);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_t t[3];
  pthread_create(&t[0], NULL, steady_loop, (void *)1L);
  pthread_create(&t[1], NULL, worker_loop, (void *)2L);
  pthread_create(&t[2], NULL, worker_loop, (void *)3L);
  pthread_join(t[0], NULL);
}
