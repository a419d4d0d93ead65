/* Prints lib_value(1) from libdemo.so every 20 ms. */
#include <stdio.h>
#include <time.h>
int lib_value(int);
int main(void) {
  for (;;) {
    printf("lib %d\n", lib_value(1));
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}
