/* The fix uses variables of libfar.so that the unpatched program never
 * referenced (no copy relocations): compiled as a PIE, every access is a
 * 32-bit PC-relative operand that cannot reach a library from the patch.
 * The forms: a load into a register (mov), a read-modify-write with an
 * immediate (addl $3), a store (mov %reg), a compare with an immediate that
 * follows the displacement (cmpl $N), a 16-bit load (movzwl), a 16-bit
 * store (movw, needs a borrowed register), all in one function. */
#include <stdio.h>
#include <string.h>
#include <time.h>

int far_get_counter(void);
long far_get_total(void);
int far_get_small(void);
#ifdef FIXED
extern int far_counter;
extern long far_total;
extern const char *far_name;
extern short far_small;
#endif

long calls;

__attribute__((noipa)) long step(long n) {
  calls++;
#ifdef FIXED
  far_counter += 3;
  far_total = n * 2;
  if (far_counter > 100000000) return -1;
  far_small = (short)(far_small + 1);
  return (long)strlen(far_name) * 1000 + far_total;
#else
  return n;
#endif
}

int main(void) {
  printf("ready\n");
  fflush(stdout);
  for (long n = 0;; n++) {
    long r = step(n);
    printf("step %ld -> %ld counter %d total %ld small %d\n", n, r, far_get_counter(), far_get_total(),
           far_get_small());
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
