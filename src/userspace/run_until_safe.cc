// The trap is a system call because every other way to stop a thread at an
// address (int3, a hardware breakpoint, single-stepping) leaves a SIGTRAP
// behind if graft dies at the wrong instant, and SIGTRAP's default action
// ends the process. A system-call stop carries no signal.
#include "userspace/run_until_safe.h"

#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace graft::userspace {

using Clock = std::chrono::steady_clock;

static uint64_t Read64(const process::ProcessMemory& mem, uint64_t at, bool* ok) {
  auto b = mem.Read(at, 8);
  *ok = b.ok() && b->size() == 8;
  uint64_t v = 0;
  if (*ok) std::memcpy(&v, b->data(), 8);
  return v;
}

static Status Write64(const process::ProcessMemory& mem, uint64_t at, uint64_t v) {
  uint8_t b[8];
  std::memcpy(b, &v, 8);
  return mem.Write(at, b);
}

Status ReturnTrapper::Arm(const process::ThreadStack& st, size_t k) {
  if (!area_.count) return Err("the patch mapping has no return traps (applied by an older graft)");
  if (!st.complete) return Err("its stack cannot be read to the end");
  if (k + 1 >= st.pcs.size() || st.activation[k + 1] || !st.sps[k + 1])
    return Err("frame {} does not return by a call's return address", k);
  if (armed_.count(st.tid)) return Err("it is already on its way to a trap");
  // A trap whose code some stack still returns into (armed by an earlier,
  // interrupted graft) is not free.
  std::set<size_t> used = reserved_;
  for (auto& [tid, a] : armed_) used.insert(a.trap);
  size_t trap = area_.count;
  for (size_t i = 0; i < area_.count && trap == area_.count; i++)
    if (!used.count(i)) trap = i;
  if (trap == area_.count) return Err("no free return trap");
  uint64_t slot = st.sps[k + 1] - 8, resume = st.pcs[k + 1] + 1;
  bool ok;
  uint64_t stored = Read64(mem_, slot, &ok);
  if (!ok || stored != resume)
    return Err("the return address of frame {} is not at {:#x} as the frame descriptions say", k, slot);
  // The resume cell first: the trap must never jump through a stale one.
  GRAFT_TRY(Write64(mem_, area_.ResumeCell(trap), resume));
  GRAFT_TRY(Write64(mem_, slot, TrapAt(trap)));
  armed_[st.tid] = Armed{trap, slot, resume};
  return OkStatus();
}

void ReturnTrapper::Reserve(const process::ThreadStack& st) {
  if (!area_.count) return;
  const uint64_t end = TrapAt(area_.count);
  for (size_t i = 0; i < st.pcs.size(); i++) {
    // Return addresses are reported minus one; the innermost pc is exact.
    uint64_t at = i == 0 || st.activation[i] ? st.pcs[i] : st.pcs[i] + 1;
    if (at >= area_.code && at < end) reserved_.insert((at - area_.code) / arch::Arch::kReturnTrapSize);
  }
}

bool ReturnTrapper::AllParked() const {
  for (auto& [tid, a] : armed_)
    if (!a.parked) return false;
  return true;
}

// At the trap's system-call exit: the thread goes to the real return address
// with its return value, and no system call to restart (orig_rax -1, or the
// kernel might take a return value that looks like -ERESTARTSYS for one).
Status ReturnTrapper::Park(pid_t tid, Armed& a) {
  user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &r) != 0) return Err("thread {}: cannot read registers", tid);
  bool ok;
  uint64_t saved = Read64(mem_, area_.SavedCell(a.trap), &ok);
  if (!ok) return Err("thread {}: cannot read its saved return value", tid);
  r.rip = a.resume;
  r.rax = saved;
  r.orig_rax = static_cast<unsigned long long>(-1);
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &r) != 0) return Err("thread {}: cannot set registers", tid);
  if (process::ThreadState* t = proc_.Find(tid)) {
    t->regs = r;
    t->running = false;
    t->event_stop = false;
  }
  a.parked = true;
  return OkStatus();
}

bool ReturnTrapper::OnStop(pid_t tid, int status) {
  auto it = armed_.find(tid);
  if (it == armed_.end() || it->second.parked || WSTOPSIG(status) != (SIGTRAP | 0x80)) return false;
  Armed& a = it->second;
  user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &r) != 0) return false;
  if (r.rip != TrapAt(a.trap) + arch_.ReturnTrapSyscallEnd() ||
      static_cast<long>(r.orig_rax) != arch_.ReturnTrapSyscall())
    return false;
  if (!a.in_trap_call) {
    // Entry: let the harmless call finish, so the thread is at a clean exit.
    a.in_trap_call = true;
    if (ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr) != 0) return false;
    auto st = proc_.WaitStop(tid);
    if (!st.ok() || WSTOPSIG(*st) != (SIGTRAP | 0x80)) return false;
  }
  return Park(tid, a).ok();
}

Status ReturnTrapper::Run(Clock::time_point deadline) {
  std::set<pid_t> running;
  for (process::ThreadState& t : proc_.threads()) {
    if (IsParked(t.tid)) continue;
    GRAFT_TRY(proc_.Release(t.tid, IsArmed(t.tid)));
    running.insert(t.tid);
  }
  while (!AllParked() && Clock::now() < deadline) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
    if (tid < 0 && errno != EINTR) break;
    if (tid <= 0) {
      usleep(50);
      continue;
    }
    if (!running.count(tid)) continue;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      running.erase(tid);
      proc_.Forget(tid);
      armed_.erase(tid);
      if (!process::ProcessExists(proc_.pid()))
        return Err("process {} exited while graft ran its threads out of busy functions", proc_.pid());
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    if (OnStop(tid, status)) {
      running.erase(tid);
      continue;
    }
    // Anything else: on its way, a real signal delivered as it would be.
    int sig = WSTOPSIG(status);
    bool real = (status >> 16) == 0 && sig != SIGTRAP && sig != (SIGTRAP | 0x80);
    ptrace(IsArmed(tid) ? PTRACE_SYSCALL : PTRACE_CONT, tid, nullptr, real ? sig : 0);
  }
  return proc_.Halt([this](pid_t tid, int status) { return OnStop(tid, status); });
}

Status ReturnTrapper::DisarmAll() {
  Status result = OkStatus();
  for (auto& [tid, a] : armed_) {
    if (a.parked) continue;
    process::ThreadState* t = proc_.Find(tid);
    if (!t || t->running) continue;
    uint64_t trap = TrapAt(a.trap);
    user_regs_struct& r = t->regs;
    if (r.rip >= trap && r.rip < trap + arch::Arch::kReturnTrapSize) {
      // Stopped inside the trap: finish its work by hand.
      if (r.rip >= trap + arch_.ReturnTrapSaved()) {
        bool ok;
        uint64_t saved = Read64(mem_, area_.SavedCell(a.trap), &ok);
        if (ok) r.rax = saved;
      }
      r.rip = a.resume;
      r.orig_rax = static_cast<unsigned long long>(-1);
      if (ptrace(PTRACE_SETREGS, tid, nullptr, &r) != 0 && result.ok())
        result = Err("thread {}: cannot move it out of its return trap", tid);
      continue;
    }
    // Still inside its function: its frame is live while the stack pointer
    // is below the slot; put the real return address back.
    bool ok;
    if (r.rsp <= a.slot && Read64(mem_, a.slot, &ok) == trap && ok) {
      Status w = Write64(mem_, a.slot, a.resume);
      if (!w.ok() && result.ok()) result = w;
    }
  }
  armed_.clear();
  return result;
}

}  // namespace graft::userspace
