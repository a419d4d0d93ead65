// SIGINT/SIGTERM/SIGHUP as a request, not a death: work that holds a process
// stopped finishes its current step, undoes what it started and reports.
// This is graft's one piece of process-wide state, because a signal handler
// can only reach a global.
#pragma once

namespace graft {

// Installs handlers that only record the request.
void CatchInterrupts();
// Records a request from a handler of the caller's own (async-signal-safe).
void NoteInterrupt(int sig);
// Whether one of those signals arrived since CatchInterrupts().
bool InterruptRequested();
// The signal that arrived (0: none), for the exit status 128+N.
int InterruptSignal();

}  // namespace graft
