/* What dlopen costs a process, for bench/dlopen_cost.sh: LIB loaded and
 * unloaded ITER times (each load is new to the agent's hook: it reads its
 * counters, stats the index and compares every loaded object's build-id),
 * then ITER dlopens of LIB while it stays loaded (the hook's counter check
 * only). EXTRA libraries are loaded first and stay, to vary how many objects
 * each check walks. Prints one line: objects, ns per load+unload, ns per
 * dlopen of a loaded library.
 * Usage: dlopen_cost LIB ITER [EXTRA...] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int count(struct dl_phdr_info *info, size_t size, void *n) {
  (void)info, (void)size;
  ++*(int *)n;
  return 0;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: a busy machine does not count */
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int iter = atoi(argv[2]);
  for (int i = 3; i < argc; i++)
    if (!dlopen(argv[i], RTLD_NOW)) return fprintf(stderr, "%s\n", dlerror()), 1;
  int objects = 0;
  dl_iterate_phdr(count, &objects);
  double t0 = now_ns();
  for (int i = 0; i < iter; i++) {
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) return fprintf(stderr, "%s\n", dlerror()), 1;
    dlclose(h);
  }
  double load = (now_ns() - t0) / iter;
  void *keep = dlopen(argv[1], RTLD_NOW);
  t0 = now_ns();
  for (int i = 0; i < iter; i++) dlclose(dlopen(argv[1], RTLD_NOW));
  double loaded = (now_ns() - t0) / iter;
  dlclose(keep);
  printf("%d %.0f %.0f\n", objects, load, loaded);
  return 0;
}
