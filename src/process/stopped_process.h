// Every thread of a process held still under ptrace. PTRACE_SEIZE +
// PTRACE_INTERRUPT (never SIGSTOP), so that if graft dies the kernel detaches
// and the threads simply run on: nothing is left stopped.
//
// REQUIRES: one StoppedProcess per process at a time, used from one thread.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <chrono>
#include <functional>
#include <set>
#include <map>
#include <vector>

#include "base/status.h"

namespace graft::process {

struct ThreadState {
  pid_t tid = 0;
  int pending_signal = 0;  // signal that arrived while stopping; re-delivered on resume
  bool event_stop = false; // in PTRACE_EVENT_STOP (safe to run injected syscalls)
  bool running = false;    // let go for a while (still seized): see Release()/Halt()
  user_regs_struct regs{};
};

class StoppedProcess {
 public:
  explicit StoppedProcess(pid_t pid) : pid_(pid) {}
  ~StoppedProcess() { Resume(); }
  StoppedProcess(const StoppedProcess&) = delete;
  StoppedProcess& operator=(const StoppedProcess&) = delete;

  // Seizes and stops every thread, including ones created meanwhile. All
  // threads of a pass are interrupted before any is waited for, so they stop
  // in parallel and the first stopped waits least. Called again after some
  // threads ran (Halt), it takes in threads created in the meantime.
  Status Stop();
  // Lets a held thread run on, still seized: with `trace_syscalls` it stops
  // at each system call. A signal kept for it is delivered now.
  Status Release(pid_t tid, bool trace_syscalls);
  // Interrupts every released thread and waits until it is held again;
  // `on_stop` sees each other stop on the way (a system call, a signal) and
  // returns true when that stop is where the thread should stay.
  Status Halt(const std::function<bool(pid_t, int)>& on_stop);
  // A released thread that ended.
  void Forget(pid_t tid);
  // Seizes and stops only the thread-group leader (or the first live thread):
  // enough for injected system calls that do not touch code others run.
  Status StopOne();
  // Detaches from every thread, re-delivering signals that arrived.
  void Resume();

  pid_t pid() const { return pid_; }
  std::vector<ThreadState>& threads() { return threads_; }
  ThreadState* Find(pid_t tid);
  // Waits for the next stop of `tid`, at most `budget`. On timeout the
  // thread is interrupted so that it can be let go where it is (a thread in
  // uninterruptible sleep may not stop even then: it is released when the
  // tracing process exits, which is why graft works in a short-lived worker).
  Result<int> WaitStop(pid_t tid, std::chrono::milliseconds budget = kStopBudget);
  // How long a thread may take to reach a stop graft asked for.
  static constexpr std::chrono::milliseconds kStopBudget{3000};

 private:
  Status Seize(const std::vector<pid_t>& tids, std::vector<pid_t>& seized);
  Status WaitInterrupted(const std::vector<pid_t>& seized);
  Result<int> PollStop(pid_t tid, std::chrono::steady_clock::time_point deadline);
  bool CountMatches(size_t zombies) const;

  pid_t pid_;
  std::vector<ThreadState> threads_;
  std::vector<pid_t> unreleased_;  // seized but never stopped: let go by our exit
  std::set<pid_t> seen_;           // every thread Stop() has met
  bool stopped_ = false;
};

}  // namespace graft::process
