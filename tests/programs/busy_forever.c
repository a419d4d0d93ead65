/* A thread that never leaves serve_forever() (blocked in read()); the fix
 * changes serve_forever, so a consistent switch is impossible and graft must
 * give up, naming the function and the thread. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) void serve_forever(int fd) {
  char c;
  for (;;) {
    if (read(fd, &c, 1) <= 0) break;
#ifdef FIXED
    if (c == 'x') continue;
#endif
    printf("got %c\n", c);
  }
}
static void *run(void *arg) { int p[2]; pipe(p); serve_forever(p[0]); return NULL; }
int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, run, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
