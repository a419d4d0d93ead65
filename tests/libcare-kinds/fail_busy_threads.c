/* fail_busy_threads: one of two threads never leaves the function to replace
 * (its thread body); the other thread runs unrelated code. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) void say(const char *who, const char *state, int n) { printf("%s %s %d\n", who, state, n); }

static void *idle_body(void *arg) {
  (void)arg;
  for (int n = 0;; n++) {
    say("thread1", "UNPATCHED", n);
    usleep(20000);
  }
}

__attribute__((noipa)) void *busy_body(void *arg) {
  (void)arg;
  for (int n = 0;; n++) {
#ifdef FIXED
    say("thread2", "PATCHED", n);
#else
    say("thread2", "UNPATCHED", n);
#endif
    usleep(20000);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_t a, b;
  pthread_create(&a, NULL, idle_body, NULL);
  pthread_create(&b, NULL, busy_body, NULL);
  pthread_join(a, NULL);
}
