/* The parts of the agent's dlopen hook, timed one by one in a loop (the
 * end-to-end dlopen times of dlopen_cost.c vary by more than the hook
 * costs): the counter check a dlopen that loads nothing pays, the index
 * stat and build-id walk a new load pays (every object's notes read, or
 * only new ones'), and the search for a return address to borrow that
 * follows an unload. Built by bench/dlopen_cost.sh
 * with the agent's sources included, so their static functions are here.
 * Usage: dlopen_hook_parts ITER [EXTRA...]   (GRAFT_AGENT_DIR: the index) */
#include "../src/agent/borrowed_ret.c"
#include "../src/agent/patch_request.c"

#include <dlfcn.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: a busy machine does not count */
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int count(struct dl_phdr_info *info, size_t size, void *n) {
  (void)info, (void)size;
  ++*(int *)n;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int iter = atoi(argv[1]);
  for (int i = 2; i < argc; i++)
    if (!dlopen(argv[i], RTLD_NOW)) return fprintf(stderr, "%s\n", dlerror()), 1;
  int objects = 0;
  dl_iterate_phdr(count, &objects);
  graft_agent_check(NULL); /* reads the environment and the index once */

  double t0 = now_ns();
  for (int i = 0; i < iter; i++) graft_agent_check("x");
  double unchanged = (now_ns() - t0) / iter;

  /* A new load: the index stat, then the walk, which reads the notes of the
   * objects not seen yet — all of them here (a process's first check, or
   * after an unload), none of them below (so a real new load costs the
   * second figure plus one object's share of the first). */
  int pending = 0;
  t0 = now_ns();
  for (int i = 0; i < iter; i++) {
    struct scan s = {0};
    memset(clean, 0, sizeof clean);
    nclean = 0;
    if (load_index()) dl_iterate_phdr(check_object, &s);
    pending += s.npending;
  }
  double all_read = (now_ns() - t0) / iter;
  t0 = now_ns();
  for (int i = 0; i < iter; i++) {
    struct scan s = {0};
    if (load_index()) dl_iterate_phdr(check_object, &s);
    pending += s.npending;
  }
  double none_read = (now_ns() - t0) / iter;

  t0 = now_ns();
  const void *r = NULL;
  for (int i = 0; i < iter; i++) {
    last.ret = NULL;
    int exact;
    r = graft_borrowed_ret((const void *)main, &exact);
  }
  double borrow = (now_ns() - t0) / iter;
  printf("%d %.0f %.0f %.0f %.0f %s\n", objects, unchanged, all_read, none_read, borrow,
         r && !pending ? "ok" : "unexpected");
  return 0;
}
