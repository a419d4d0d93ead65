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
#include <fstream>
#include <set>
#include <string>

#include "process/proc_maps.h"

namespace graft::process {

static std::vector<pid_t> ListTasks(pid_t pid) {
  std::vector<pid_t> out;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    // A leader that called pthread_exit stays a zombie while the other
    // threads run; it never reaches an interrupt stop, so skip it.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/task/" + e->d_name + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') continue;
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
  for (pid_t tid : seized) {
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
  }
  return OkStatus();
}

Status StoppedProcess::Stop() {
  std::set<pid_t> seen;
  stopped_ = true;
  for (int pass = 0; pass < 100; pass++) {
    std::vector<pid_t> tasks = ListTasks(pid_);
    if (tasks.empty() && threads_.empty())
      return Err("process {} does not exist: it exited (or graft may not see it)", pid_);
    std::vector<pid_t> fresh, seized;
    for (pid_t tid : tasks)
      if (seen.insert(tid).second) fresh.push_back(tid);
    if (fresh.empty()) {
      if (threads_.empty()) return Err("process {} exited while graft was stopping it", pid_);
      return OkStatus();
    }
    Status s = Seize(fresh, seized);
    Status w = WaitInterrupted(seized);  // always reap what was seized
    GRAFT_TRY(s);
    GRAFT_TRY(w);
  }
  return Err("process {} keeps creating threads; could not stop them all", pid_);
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

void StoppedProcess::Resume() {
  if (!stopped_) return;
  for (ThreadState& t : threads_) ptrace(PTRACE_DETACH, t.tid, nullptr, t.pending_signal);
  threads_.clear();
  stopped_ = false;
}

}  // namespace graft::process
