// Threads can be created or exit while we stop the others, so the task list
// is read again until a pass finds nothing new. A thread that exits while
// seized is dropped; a process that exits is an error naming it.
#include "process/stopped_process.h"

#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>

#include "process/proc_maps.h"

namespace graft::process {

static std::vector<pid_t> ListTasks(pid_t pid) {
  std::vector<pid_t> out;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.push_back(std::atoi(e->d_name));
  closedir(d);
  return out;
}

ThreadState* StoppedProcess::Find(pid_t tid) {
  for (ThreadState& t : threads_)
    if (t.tid == tid) return &t;
  return nullptr;
}

Result<int> StoppedProcess::WaitStop(pid_t tid) {
  for (;;) {
    int status = 0;
    pid_t r = waitpid(tid, &status, __WALL);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Err("thread {} of process {}: wait failed: {}", tid, pid_, std::strerror(errno));
    }
    if (WIFEXITED(status) || WIFSIGNALED(status))
      return Err("process {} exited while graft was working on it (thread {} is gone)", pid_, tid);
    if (!WIFSTOPPED(status)) continue;
    return status;
  }
}

Status StoppedProcess::Stop() {
  std::set<pid_t> seen;
  stopped_ = true;
  for (int pass = 0; pass < 100; pass++) {
    std::vector<pid_t> tasks = ListTasks(pid_);
    if (tasks.empty() && threads_.empty())
      return Err("process {} does not exist: it exited (or graft may not see it)", pid_);
    bool fresh = false;
    for (pid_t tid : tasks) {
      if (seen.count(tid)) continue;
      seen.insert(tid);
      if (ptrace(PTRACE_SEIZE, tid, nullptr, PTRACE_O_TRACESYSGOOD) != 0) {
        if (errno == ESRCH) continue;  // exited meanwhile
        if (errno == EPERM && threads_.empty())
          return Err("process {}: not permitted to trace it (run graft as root or the same user; "
                     "is another debugger attached?)", pid_);
        return Err("process {}: cannot attach to thread {}: {}", pid_, tid, std::strerror(errno));
      }
      if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0 && errno == ESRCH) continue;
      ThreadState t;
      t.tid = tid;
      // Wait for the interrupt stop; a signal may be reported first: keep it for later.
      for (;;) {
        auto st = WaitStop(tid);
        if (!st.ok()) {
          if (!ProcessExists(pid_)) return st.error();
          break;  // this thread exited; others go on
        }
        int s = *st;
        if ((s >> 16) == PTRACE_EVENT_STOP) {
          t.event_stop = true;
          break;
        }
        int sig = WSTOPSIG(s);
        if (sig != SIGTRAP) t.pending_signal = sig;
        // Let it go on (without delivering) to reach the interrupt stop.
        ptrace(PTRACE_CONT, tid, nullptr, nullptr);
      }
      if (!t.event_stop) continue;
      if (ptrace(PTRACE_GETREGS, tid, nullptr, &t.regs) != 0)
        return Err("thread {}: cannot read registers: {}", tid, std::strerror(errno));
      threads_.push_back(t);
      fresh = true;
    }
    if (!fresh && pass > 0) return OkStatus();
  }
  return Err("process {} keeps creating threads; could not stop them all", pid_);
}

void StoppedProcess::Resume() {
  if (!stopped_) return;
  for (ThreadState& t : threads_) ptrace(PTRACE_DETACH, t.tid, nullptr, t.pending_signal);
  threads_.clear();
  stopped_ = false;
}

}  // namespace graft::process
