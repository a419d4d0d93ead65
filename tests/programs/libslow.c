/* A library whose constructor takes its time: a thread that dlopens it sits
 * inside dlopen (under the agent's hook) long enough for graft to stop and
 * unwind it there. */
#include <time.h>

__attribute__((constructor)) static void take_time(void) {
  struct timespec ts = {4, 0};
  nanosleep(&ts, 0);
}

int slow_value(int x) { return x; }
