// Threads can be created or exit while we stop the others, so the task list
// is read again until a pass finds nothing new and the kernel's own thread
// count agrees (reading /proc/PID/task while threads come and go can skip
// one). A thread that exits while seized is dropped; a process that exits is
// an error naming it. Every wait has a deadline.
#include "process/stopped_process.h"

#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "process/proc_maps.h"

namespace graft::process {

// The state letter of a thread (R, S, D, Z, T, ...), '?' when unknown.
static char TaskState(pid_t pid, pid_t tid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

static std::vector<pid_t> ListTasks(pid_t pid, size_t* zombies = nullptr) {
  std::vector<pid_t> out;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    // A leader that called pthread_exit stays a zombie while the other
    // threads run; it never reaches an interrupt stop, so skip it.
    if (TaskState(pid, std::atoi(e->d_name)) == 'Z') {
      if (zombies) ++*zombies;
      continue;
    }
    out.push_back(std::atoi(e->d_name));
  }
  closedir(d);
  return out;
}

ThreadState* StoppedProcess::Find(pid_t tid) {
  for (ThreadState& t : threads_)
    if (t.tid == tid) return &t;
  return nullptr;
}

Result<int> StoppedProcess::PollStop(pid_t tid, std::chrono::steady_clock::time_point deadline) {
  // Stops normally arrive within microseconds: spin briefly, then sleep a
  // little longer each time, so a slow thread does not cost a busy CPU.
  for (int round = 0;; round++) {
    int status = 0;
    pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Err("thread {} of process {}: wait failed: {}", tid, pid_, std::strerror(errno));
    }
    if (r == tid) {
      if (WIFEXITED(status) || WIFSIGNALED(status))
        return Err("process {} exited while graft was working on it (thread {} is gone)", pid_, tid);
      if (WIFSTOPPED(status)) return status;
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    if (round < 200)
      sched_yield();
    else
      usleep(std::min(1000, 10 * (round - 199)));
  }
}

Result<int> StoppedProcess::WaitStop(pid_t tid, std::chrono::milliseconds budget) {
  auto now = std::chrono::steady_clock::now();
  GRAFT_ASSIGN(int st, PollStop(tid, now + budget));
  if (st != -1) return st;
  // Too slow: interrupt it where it is so it can be let go, and say why.
  ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  char state = TaskState(pid_, tid);
  auto again = PollStop(tid, std::chrono::steady_clock::now() + std::chrono::milliseconds(1000));
  if (!again.ok() || *again == -1) {
    if (std::find(unreleased_.begin(), unreleased_.end(), tid) == unreleased_.end()) unreleased_.push_back(tid);
    Forget(tid);
  } else if ((*again >> 16) != PTRACE_EVENT_STOP && WSTOPSIG(*again) != SIGTRAP) {
    if (ThreadState* t = Find(tid)) t->pending_signal = WSTOPSIG(*again);
  }
  if (ThreadState* t = Find(tid)) ptrace(PTRACE_GETREGS, tid, nullptr, &t->regs);
  return Err("thread {} of process {} did not stop within {} ms (state {}{}); nothing was changed in it",
             tid, pid_, budget.count(), state, state == 'D' ? ": uninterruptible sleep, e.g. slow I/O" : "");
}

Status StoppedProcess::Seize(const std::vector<pid_t>& tids, std::vector<pid_t>& seized) {
  for (pid_t tid : tids) {
    if (ptrace(PTRACE_SEIZE, tid, nullptr, PTRACE_O_TRACESYSGOOD) != 0) {
      if (errno == ESRCH) continue;  // exited meanwhile
      if (errno == EPERM && threads_.empty() && seized.empty())
        return Err("process {}: not permitted to trace it (run graft as root or the same user; "
                   "is another debugger attached?)", pid_);
      return Err("process {}: cannot attach to thread {}: {}", pid_, tid, std::strerror(errno));
    }
    seized.push_back(tid);
    ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  }
  return OkStatus();
}

Status StoppedProcess::WaitInterrupted(const std::vector<pid_t>& seized) {
  Status result = OkStatus();
  for (pid_t tid : seized) {
    ThreadState t;
    t.tid = tid;
    // Held from here on, so that whatever happens Resume() lets it go.
    threads_.push_back(t);
    // Wait for the interrupt stop; a signal may be reported first: keep it for later.
    bool gone = false;
    for (;;) {
      auto st = WaitStop(tid);
      if (!st.ok()) {
        if (!ProcessExists(pid_)) return st.error();
        gone = !ProcessExists(tid);
        if (!gone && result.ok()) result = st.error();  // too slow: give up this stop
        break;
      }
      int s = *st;
      if ((s >> 16) == PTRACE_EVENT_STOP) {
        Find(tid)->event_stop = true;
        break;
      }
      int sig = WSTOPSIG(s);
      if (sig != SIGTRAP) Find(tid)->pending_signal = sig;
      // Let it go on (without delivering) to reach the interrupt stop.
      ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    }
    if (gone) {
      Forget(tid);
      continue;
    }
    ThreadState* held = Find(tid);
    if (held && ptrace(PTRACE_GETREGS, tid, nullptr, &held->regs) != 0 && result.ok())
      result = Err("thread {}: cannot read registers: {}", tid, std::strerror(errno));
  }
  return result;
}

// The kernel's count of the group's threads (zombie leader included).
bool StoppedProcess::CountMatches(size_t zombies) const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0) return std::stoul(line.substr(8)) == threads_.size() + zombies;
  return false;
}

Status StoppedProcess::Stop() {
  stopped_ = true;
  for (int pass = 0; pass < 1000; pass++) {
    size_t zombies = 0;
    std::vector<pid_t> tasks = ListTasks(pid_, &zombies);
    if (tasks.empty() && threads_.empty())
      return Err("process {} does not exist: it exited (or graft may not see it)", pid_);
    std::vector<pid_t> fresh, seized;
    for (pid_t tid : tasks)
      if (seen_.insert(tid).second) fresh.push_back(tid);
    if (fresh.empty()) {
      if (threads_.empty()) return Err("process {} exited while graft was stopping it", pid_);
      // Every thread we hold is stopped and cannot clone; if the kernel
      // counts more, a listing missed one (or one is still exiting).
      if (CountMatches(zombies)) return OkStatus();
      sched_yield();
      continue;
    }
    Status s = Seize(fresh, seized);
    Status w = WaitInterrupted(seized);  // always reap what was seized
    GRAFT_TRY(s);
    GRAFT_TRY(w);
  }
  return Err("process {} keeps creating or ending threads faster than graft can stop them; nothing was "
             "changed, try again", pid_);
}

Status StoppedProcess::StopOne() {
  stopped_ = true;
  for (pid_t tid : ListTasks(pid_)) {
    std::vector<pid_t> seized;
    GRAFT_TRY(Seize({tid}, seized));
    GRAFT_TRY(WaitInterrupted(seized));
    if (!threads_.empty()) return OkStatus();
  }
  return Err("process {} does not exist: it exited (or graft may not see it)", pid_);
}

Status StoppedProcess::Release(pid_t tid, bool trace_syscalls) {
  ThreadState* t = Find(tid);
  if (!t) return Err("thread {} is not held by graft", tid);
  if (ptrace(trace_syscalls ? PTRACE_SYSCALL : PTRACE_CONT, tid, nullptr, t->pending_signal) != 0)
    return Err("thread {}: cannot resume it: {}", tid, std::strerror(errno));
  t->pending_signal = 0;
  t->running = true;
  t->event_stop = false;
  return OkStatus();
}

void StoppedProcess::Forget(pid_t tid) {
  threads_.erase(std::remove_if(threads_.begin(), threads_.end(), [&](auto& t) { return t.tid == tid; }),
                 threads_.end());
}

Status StoppedProcess::Halt(const std::function<bool(pid_t, int)>& on_stop) {
  std::vector<pid_t> running;
  for (ThreadState& t : threads_)
    if (t.running) running.push_back(t.tid);
  for (pid_t tid : running) ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  Status result = OkStatus();
  for (pid_t tid : running) {
    for (;;) {
      auto st = WaitStop(tid);
      ThreadState* t = Find(tid);
      if (!st.ok()) {
        if (!ProcessExists(pid_)) return st.error();
        if (!ProcessExists(tid)) Forget(tid);
        else if (result.ok()) result = st.error();
        break;
      }
      if (!t) break;
      int s = *st;
      if ((s >> 16) == PTRACE_EVENT_STOP) {
        t->event_stop = true;
        t->running = false;
        break;
      }
      if (on_stop && on_stop(tid, s)) {
        // Held where it is; the interrupt still pending is dropped at detach.
        t->running = false;
        break;
      }
      int sig = WSTOPSIG(s);
      if (sig == (SIGTRAP | 0x80)) {
        // A thread traced at system calls reports the interrupt as a
        // system-call stop. Held there, an injected call would be confused
        // with the pending one: ask again, so it comes to an interrupt stop
        // (a blocking call it enters is interrupted and restarts later).
        ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
      } else if (sig != SIGTRAP) {
        t->pending_signal = sig;
      }
      ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    }
    if (ThreadState* t = Find(tid); t && !t->running) ptrace(PTRACE_GETREGS, tid, nullptr, &t->regs);
  }
  if (!result.ok()) return result;
  return Stop();  // threads created while they ran
}

void StoppedProcess::Resume() {
  if (!stopped_) return;
  // Nothing may stay released: a running tracee cannot be detached.
  bool any_running = false;
  for (ThreadState& t : threads_) any_running |= t.running;
  if (any_running) (void)Halt(nullptr);
  for (ThreadState& t : threads_) ptrace(PTRACE_DETACH, t.tid, nullptr, t.pending_signal);
  // A thread that never reached its stop may have reached it since.
  for (pid_t tid : unreleased_) {
    int status;
    if (waitpid(tid, &status, __WALL | WNOHANG) == tid && WIFSTOPPED(status)) ptrace(PTRACE_DETACH, tid, nullptr, 0);
  }
  unreleased_.clear();
  threads_.clear();
  stopped_ = false;
}

}  // namespace graft::process
