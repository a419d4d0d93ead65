/* A program whose patched function dispatches through a jump table (a dense
 * switch, one case moved to a cold part) and a computed goto: after a live
 * patch every case must run the new code's own cases. Each round prints one
 * line with the result of every case: "all r0 r1 ... | g0 g1 ...".
 * FIXED changes case 5 of classify() and op 2 of interp(). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CASES 12

__attribute__((cold, noinline)) static long rare(long x) {
  static volatile long seen;
  seen += x;
  return x * 1000 + 7;
}

__attribute__((noinline)) static long classify(int op, long x) {
  switch (op) {
    case 0: return x + 11;
    case 1: return x * 3 - 1;
    case 2: return x ^ 0x55;
    case 3: return x << 3;
    case 4: return (x >> 1) + 40;
#ifdef FIXED
    case 5: return x * 100 + 1;
#else
    case 5: return x * 7 + 2;
#endif
    case 6: return -x;
    case 7: return x % 13 + 600;
    case 8: return x * x;
    case 9: return (x | 0x300) - 5;
    case 10: return __builtin_expect(x > 1000000, 0) ? rare(x) : x - 99;
    case 11: return rare(x);
    default: return -1;
  }
}

/* A tiny interpreter: ops are label addresses (computed goto). */
__attribute__((noinline)) static long interp(const unsigned char *prog, long x) {
  static const void *const ops[] = {&&op_add, &&op_mul, &&op_twist, &&op_neg, &&op_end};
  goto *ops[*prog++];
op_add:
  x += 5;
  goto *ops[*prog++];
op_mul:
  x *= 3;
  goto *ops[*prog++];
op_twist:
#ifdef FIXED
  x = x * 10 + 3;
#else
  x ^= 0x0f;
#endif
  goto *ops[*prog++];
op_neg:
  x = -x;
  goto *ops[*prog++];
op_end:
  return x;
}

static const unsigned char programs[4][3] = {{0, 4, 4}, {1, 4, 4}, {2, 4, 4}, {3, 4, 4}};

/* volatile: the calls must stay calls with run-time arguments, or -O3 would
 * unroll the loops and specialise classify() and interp() per case. */
static volatile int cases = CASES, nprogs = 4;

/* "once": print one round and exit (the tests take the expected lines from
 * the original and the fixed program run this way). */
int main(int argc, char **argv) {
  int once = argc > 1;
  if (!once) printf("ready\n");
  fflush(stdout);
  for (;;) {
    printf("all");
    for (int op = 0; op < cases; op++) printf(" %ld", classify(op, 20 + op));
    printf(" |");
    for (int p = 0; p < nprogs; p++) printf(" %ld", interp(programs[p], 8));
    printf("\n");
    fflush(stdout);
    if (once) return 0;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
