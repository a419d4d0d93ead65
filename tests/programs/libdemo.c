/* A shared library whose function the shared-library test patches in two
 * processes at once. */
#include <stdio.h>
int lib_counter;
__attribute__((noinline)) int lib_value(int x) {
  lib_counter++;
#ifdef FIXED
  return x + 1000;
#else
  return x + 1;
#endif
}
