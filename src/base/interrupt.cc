#include "base/interrupt.h"

#include <signal.h>

#include <initializer_list>

namespace graft {

static volatile sig_atomic_t g_signal = 0;

static void Record(int sig) { g_signal = sig; }

void CatchInterrupts() {
  struct sigaction sa = {};
  sa.sa_handler = Record;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

void NoteInterrupt(int sig) { g_signal = sig; }

bool InterruptRequested() { return g_signal != 0; }
int InterruptSignal() { return g_signal; }

}  // namespace graft
