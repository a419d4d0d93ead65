/* Answers from the first line of main(): a process started after a patch
 * was installed must run the fixed code from its very first call. compute()
 * is the program's own function the fix changes; lib_value() is in
 * libdemo.so, which another fix changes. Then it exits. */
#include <stdio.h>

int lib_value(int x);

__attribute__((noipa)) long compute(long x) {
#ifdef FIXED
  return x * 3;
#else
  return x * 2;
#endif
}

int main(void) {
  long v = compute(21);
  printf("compute %ld lib %d\n", v, lib_value(1));
  return 0;
}
