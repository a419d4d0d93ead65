/* Variants the engine must refuse: a changed initial value of a global. */
#include <stdio.h>
#ifdef FIXED
int threshold = 20;
#else
int threshold = 10;
#endif
__attribute__((noinline)) int over(int x) { return x > threshold; }
int main(void) { for (;;) { printf("%d\n", over(15)); } }
