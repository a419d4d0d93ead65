/* Load generator for the serving test: keeps one connection per thread,
 * sends "n\n" and checks the answer is compute(n) of either the old (2n) or
 * the fixed (3n) code; any other answer or a broken connection is a failure.
 * Usage: client PORT SECONDS|STOPFILE [THREADS] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static double seconds;
static const char *stop_file; /* stop when it exists (instead of after `seconds`) */
static long ok_count, fail_count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void *run(void *arg) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  long ok = 0, fail = 0;
  if (connect(s, (struct sockaddr *)&a, sizeof a)) { perror("connect"); fail++; goto out; }
  double end = now() + seconds;
  for (long n = 1; stop_file ? (n % 64 || access(stop_file, F_OK) != 0) : now() < end; n++) {
    char req[32], resp[64];
    int m = snprintf(req, sizeof req, "%ld\n", n);
    if (write(s, req, m) != m) { fail++; break; }
    ssize_t r = read(s, resp, sizeof resp - 1);
    if (r <= 0) { fail++; break; }
    resp[r] = 0;
    long v = atol(resp);
    if (v == 2 * n || v == 3 * n) ok++; else { fail++; fprintf(stderr, "bad answer %ld for %ld\n", v, n); }
    usleep(100); /* a steady stream, not a CPU hog that starves the host */
  }
out:
  pthread_mutex_lock(&mu); ok_count += ok; fail_count += fail; pthread_mutex_unlock(&mu);
  return NULL;
}

int main(int argc, char **argv) {
  port = atoi(argv[1]);
  if (argv[2][0] >= '0' && argv[2][0] <= '9') seconds = atof(argv[2]); else stop_file = argv[2];
  int threads = argc > 3 ? atoi(argv[3]) : 2;
  pthread_t t[64];
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  printf("requests ok=%ld failed=%ld\n", ok_count, fail_count);
  return fail_count ? 1 : 0;
}
