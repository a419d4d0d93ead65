/* A small multi-threaded service that graft patches in the end-to-end tests.
 * compute() is the function the fix changes (FIXED: x*3 instead of x*2).
 * Threads: main prints compute(21) every 20 ms; "spin N" adds N threads that
 * call compute() in a tight loop; a reader thread blocks in read() on a FIFO
 * and answers each line; SIGUSR1's handler calls compute(); "serve PORT"
 * answers TCP requests "n\n" with compute(n). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

long calls;          /* state the patch must keep using */
int factor_base = 2; /* unchanged global */

__attribute__((noinline)) long compute(long x) {
  calls++;
#ifdef FIXED
  if (x < 0) return -1; /* the "security fix" */
  return x * (factor_base + 1);
#else
  return x * factor_base;
#endif
}

static volatile sig_atomic_t handler_spin;
static void on_usr1(int sig) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, "signal %ld\n", compute(10));
  write(1, buf, n);
  while (handler_spin) { /* a handler that runs for a while */ }
}

static void *spinner(void *arg) {
  volatile long sink = 0;
  for (;;) sink += compute(1);
  return NULL;
}

static void *reader(void *arg) {
  const char *fifo = arg;
  int fd = open(fifo, O_RDWR);
  char buf[128];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { printf("reader: read failed: %s\n", strerror(errno)); fflush(stdout); return NULL; }
    buf[n] = 0;
    printf("fifo %ld\n", compute(atol(buf)));
    fflush(stdout);
  }
}

static void *server(void *arg) {
  int ls = *(int *)arg;
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) { if (errno == EINTR) continue; perror("accept"); exit(3); }
    char buf[64];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf - 1)) > 0) {
      buf[n] = 0;
      char out[64];
      int m = snprintf(out, sizeof out, "%ld\n", compute(atol(buf)));
      if (write(c, out, m) != m) break;
    }
    close(c);
  }
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t t;
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "spin")) {
      int n = atoi(argv[++i]);
      for (int k = 0; k < n; k++) pthread_create(&t, NULL, spinner, NULL);
    } else if (!strcmp(argv[i], "fifo")) {
      pthread_create(&t, NULL, reader, argv[++i]);
    } else if (!strcmp(argv[i], "handler-spin")) {
      handler_spin = 1;
    } else if (!strcmp(argv[i], "serve")) {
      int port = atoi(argv[++i]);
      static int ls;
      ls = socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 64)) { perror("bind"); return 2; }
      for (int k = 0; k < 4; k++) pthread_create(&t, NULL, server, &ls);
    }
  }
  printf("ready %d\n", getpid());
  fflush(stdout);
  for (;;) {
    printf("value %ld\n", compute(21));
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
