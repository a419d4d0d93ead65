/* A target with N MiB of touched heap (argv[1]) and one function to patch:
 * the cost of graft's suspended-stack scan, which reads anonymous memory
 * while the threads are stopped (docs/benchmarks.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) long f(long x) {
#ifdef FIXED
  return x * 3;
#else
  return x * 2;
#endif
}

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
  char *p = malloc(mb << 20);
  memset(p, 1, mb << 20);
  printf("ready %d\n", p[mb]);
  fflush(stdout);
  for (;;) {
    printf("v %ld\n", f(21));
    fflush(stdout);
    usleep(100000);
  }
}
