/* ref_rodata: the fix picks another entry of an existing read-only table and
 * reads an existing static pointer: both bound to the running program's data. */
#include <stdio.h>
#include <unistd.h>

struct verdict {
  int code;
  const char *text;
};
static const struct verdict verdicts[] = {{0, "UNPATCHED"}, {1, "PATCHED"}};
static const char *where = "from the rodata table";

__attribute__((noipa)) const struct verdict *pick(void) {
#ifdef FIXED
  return &verdicts[1];
#else
  return &verdicts[0];
#endif
}

__attribute__((noipa)) void greet(int n) {
  const struct verdict *v = pick();
  printf("greet %s %s code=%d %d\n", v->text, where, v->code, n);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int n = 0;; n++) {
    greet(n);
    usleep(20000);
  }
}
