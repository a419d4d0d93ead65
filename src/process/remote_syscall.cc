// The frame follows the kernel's x86_64 rt_sigframe: pretcode, ucontext
// (flags, link, altstack, sigcontext, sigmask), siginfo, then the XSAVE area
// exactly as PTRACE_GETREGSET(NT_X86_XSTATE) returns it, whose software
// bytes already carry the magic the kernel checks, plus FP_XSTATE_MAGIC2.
#include "process/remote_syscall.h"

#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

namespace graft::process {

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#endif

static constexpr uint64_t kRedZone = 128;
static constexpr uint32_t kFpXstateMagic2 = 0x46505845;
static constexpr uint64_t kUcFpXstate = 0x1, kUcSigcontextSs = 0x2, kUcStrictRestoreSs = 0x4;

static const uint8_t kSyscallRet[] = {0x0f, 0x05, 0xc3};
static const uint8_t kRestoreRt[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

SyscallGadgets ScanGadgets(std::span<const uint8_t> b, uint64_t address) {
  SyscallGadgets g;
  auto it = std::search(b.begin(), b.end(), std::begin(kSyscallRet), std::end(kSyscallRet));
  if (it != b.end()) g.syscall_ret = address + (it - b.begin());
  it = std::search(b.begin(), b.end(), std::begin(kRestoreRt), std::end(kRestoreRt));
  if (it != b.end()) g.sigreturn = address + (it - b.begin());
  return g;
}

bool GadgetsInPlace(const ProcessMemory& mem, const SyscallGadgets& g) {
  if (!g.syscall_ret || !g.sigreturn) return false;
  auto a = mem.Read(g.syscall_ret, sizeof kSyscallRet);
  auto b = mem.Read(g.sigreturn, sizeof kRestoreRt);
  return a.ok() && b.ok() && std::equal(a->begin(), a->end(), std::begin(kSyscallRet), std::end(kSyscallRet)) &&
         std::equal(b->begin(), b->end(), std::begin(kRestoreRt), std::end(kRestoreRt));
}

Result<SyscallGadgets> FindSyscallGadgets(pid_t pid, const std::vector<Mapping>& maps) {
  GRAFT_ASSIGN(ProcessMemory mem, ProcessMemory::Open(pid));
  SyscallGadgets g;
  // The C library first: it has both, and is mapped in every dynamic process.
  std::vector<const Mapping*> order;
  for (const Mapping& m : maps)
    if (m.exec() && m.path.find("libc.so") != std::string::npos) order.push_back(&m);
  for (const Mapping& m : maps)
    if (m.exec() && m.path.find("libc.so") == std::string::npos && m.path.find("graft:") == std::string::npos)
      order.push_back(&m);
  for (const Mapping* m : order) {
    if (m->end - m->start > (64u << 20)) continue;
    auto bytes = mem.Read(m->start, m->end - m->start);
    if (!bytes.ok()) continue;
    SyscallGadgets found = ScanGadgets(*bytes, m->start);
    if (!g.syscall_ret) g.syscall_ret = found.syscall_ret;
    if (!g.sigreturn) g.sigreturn = found.sigreturn;
    if (g.syscall_ret && g.sigreturn) return g;
  }
  return Err("process {}: found no `syscall; ret` and rt_sigreturn code to borrow (not a glibc "
             "program?); graft cannot inject system calls safely into it", pid);
}

// A thread stopped while blocked in a system call resumes by restarting it;
// the kernel would do that on the way out of the interrupt stop, but graft
// resumes threads from other stops, so it applies the restart rule itself.
static user_regs_struct WithRestart(user_regs_struct r) {
  long ret = static_cast<long>(r.rax);
  if (static_cast<long>(r.orig_rax) >= 0) {
    if (ret == -512 || ret == -513 || ret == -514) {  // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND
      r.rax = r.orig_rax;
      r.rip -= 2;
    } else if (ret == -516) {  // ERESTART_RESTARTBLOCK
      r.rax = SYS_restart_syscall;
      r.rip -= 2;
    }
  }
  r.orig_rax = static_cast<unsigned long long>(-1);
  return r;
}

Result<RemoteSyscall> RemoteSyscall::Prepare(StoppedProcess& proc, pid_t tid, const SyscallGadgets& gadgets) {
  ThreadState* t = proc.Find(tid);
  if (!t) return Err("thread {} is not stopped for graft", tid);
  RemoteSyscall rs(proc, tid);
  rs.gadgets_ = gadgets;
  rs.original_ = WithRestart(t->regs);
  // Start from the interrupted state with restart applied; the thread resumes from there.
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &rs.original_) != 0)
    return Err("thread {}: cannot set registers: {}", tid, std::strerror(errno));
  t->regs = rs.original_;
  rs.xstate_.resize(64 * 1024);
  iovec iov{rs.xstate_.data(), rs.xstate_.size()};
  if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) != 0)
    return Err("thread {}: cannot read FPU state: {}", tid, std::strerror(errno));
  rs.xstate_.resize(iov.iov_len);
  if (ptrace(static_cast<__ptrace_request>(PTRACE_GETSIGMASK), tid, sizeof(uint64_t), &rs.sigmask_) != 0)
    return Err("thread {}: cannot read signal mask: {}", tid, std::strerror(errno));
  GRAFT_TRY(rs.BuildSafetyFrame());
  return rs;
}

Status RemoteSyscall::BuildSafetyFrame() {
  const user_regs_struct& r = original_;
  // Layout, growing down from below the red zone: [fpstate][siginfo][ucontext][pretcode]
  uint64_t top = (r.rsp - kRedZone) & ~uint64_t(63);
  uint64_t fp_size = xstate_.size() + 4;
  uint64_t fpstate = (top - fp_size) & ~uint64_t(63);
  constexpr uint64_t kUcontext = 8 + 8 + 24 + 256 + 8, kSiginfo = 128;
  // 8 mod 16, as the kernel places signal frames: a function called with
  // rsp = frame then sees the stack alignment of a normal call.
  uint64_t frame = ((fpstate - kSiginfo - kUcontext - 8) & ~uint64_t(15)) - 8;
  // At the `ret` after the syscall, rsp = frame: it pops pretcode (the
  // sigreturn gadget) and rt_sigreturn finds the frame at rsp - 8.
  std::vector<uint8_t> buf(top - frame, 0);
  auto put64 = [&](uint64_t at, uint64_t v) { std::memcpy(&buf[at - frame], &v, 8); };
  auto put16 = [&](uint64_t at, uint16_t v) { std::memcpy(&buf[at - frame], &v, 2); };
  put64(frame, gadgets_.sigreturn);
  uint64_t uc = frame + 8;
  put64(uc, kUcFpXstate | kUcSigcontextSs | kUcStrictRestoreSs);
  put64(uc + 8, 0);
  put64(uc + 16, 0);                 // uc_stack.ss_sp
  put64(uc + 24, 3);                 // ss_flags: invalid on purpose, so the altstack stays as it is
  put64(uc + 32, 0);                 // ss_size
  uint64_t sc = uc + 40;
  const uint64_t gp[] = {r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi,
                         r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.eflags};
  for (size_t i = 0; i < 18; i++) put64(sc + 8 * i, gp[i]);
  put16(sc + 144, static_cast<uint16_t>(r.cs));
  put16(sc + 146, static_cast<uint16_t>(r.gs));
  put16(sc + 148, static_cast<uint16_t>(r.fs));
  put16(sc + 150, static_cast<uint16_t>(r.ss));
  put64(sc + 184, fpstate);          // after err, trapno, oldmask, cr2
  put64(uc + 40 + 256, sigmask_);
  std::memcpy(&buf[fpstate - frame], xstate_.data(), xstate_.size());
  std::memcpy(&buf[fpstate - frame + xstate_.size()], &kFpXstateMagic2, 4);
  GRAFT_ASSIGN(ProcessMemory mem, ProcessMemory::Open(proc_.pid()));
  GRAFT_TRY(mem.Write(frame, buf));
  frame_sp_ = frame;
  scratch_top_ = frame - 64;
  return OkStatus();
}

Status RemoteSyscall::CallFunction(uint64_t function, std::vector<uint64_t> args) {
  args.resize(6, 0);
  user_regs_struct r = original_;
  r.rip = function;
  r.orig_rax = static_cast<unsigned long long>(-1);
  r.rax = 0;
  r.rdi = args[0], r.rsi = args[1], r.rdx = args[2], r.rcx = args[3], r.r8 = args[4], r.r9 = args[5];
  // The return address is the frame's pretcode: the function returns into
  // rt_sigreturn, which restores the thread whether or not graft still runs.
  r.rsp = frame_sp_;
  ThreadState* t = proc_.Find(tid_);
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &r) != 0)
    return Err("thread {}: cannot set registers: {}", tid_, std::strerror(errno));
  bool in_sigreturn = false;
  for (;;) {
    if (ptrace(PTRACE_SYSCALL, tid_, nullptr, nullptr) != 0)
      return Err("thread {}: cannot resume for a call: {}", tid_, std::strerror(errno));
    // A function can block on a lock a stopped thread holds. After the
    // deadline graft lets go: the thread finishes the call by itself once the
    // others run, and returns through the safety frame to where it was.
    auto waited = proc_.WaitStop(tid_);
    if (!waited.ok())
      return Err("thread {}: the call to {:#x} did not return in time ({}); it completes on its own once the "
                 "process runs", tid_, function, waited.error().message()).WithKind(ErrorKind::kPartial);
    int st = *waited;
    if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
      user_regs_struct now;
      if (ptrace(PTRACE_GETREGS, tid_, nullptr, &now) != 0)
        return Err("thread {}: cannot read registers: {}", tid_, std::strerror(errno));
      if (in_sigreturn) break;  // exit of rt_sigreturn: the original state is back
      // Entry of the gadget's rt_sigreturn: the function has returned.
      in_sigreturn = now.orig_rax == SYS_rt_sigreturn && now.rip >= gadgets_.sigreturn &&
                     now.rip <= gadgets_.sigreturn + 16;
      continue;
    }
    int sig = WSTOPSIG(st);
    if ((st >> 16) != 0 || sig == SIGTRAP) continue;
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT) {
      // The function faulted: put the thread back as it was and keep the signal from it.
      ptrace(PTRACE_SETREGS, tid_, nullptr, &original_);
      return Err("thread {}: the call to {:#x} raised signal {}", tid_, function, sig);
    }
    if (t) t->pending_signal = sig;  // delivered after graft lets go
  }
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &original_) != 0)
    return Err("thread {}: cannot restore registers: {}", tid_, std::strerror(errno));
  return OkStatus();
}

Result<uint64_t> RemoteSyscall::PushScratch(const std::vector<uint8_t>& bytes) {
  // Scratch lives below the frame, still in the thread's own stack pages.
  uint64_t at = (scratch_top_ - bytes.size()) & ~uint64_t(15);
  GRAFT_ASSIGN(ProcessMemory mem, ProcessMemory::Open(proc_.pid()));
  GRAFT_TRY(mem.Write(at, bytes));
  scratch_top_ = at;
  return at;
}

Result<long> RemoteSyscall::Call(long nr, std::vector<uint64_t> args) {
  args.resize(6, 0);
  user_regs_struct r = original_;
  r.rip = gadgets_.syscall_ret;
  r.rax = nr;
  r.orig_rax = static_cast<unsigned long long>(-1);
  r.rdi = args[0];
  r.rsi = args[1];
  r.rdx = args[2];
  r.r10 = args[3];
  r.r8 = args[4];
  r.r9 = args[5];
  // Below the frame and scratch so the kernel's own use of the stack (none for
  // a syscall) cannot clobber them; `ret` pops the frame's pretcode.
  r.rsp = frame_sp_;
  ThreadState* t = proc_.Find(tid_);
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &r) != 0)
    return Err("thread {}: cannot set registers: {}", tid_, std::strerror(errno));
  // Syscall entry, then exit; signals that arrive meanwhile are kept for later.
  int stops = 0;
  long result = 0;
  while (stops < 2) {
    if (ptrace(PTRACE_SYSCALL, tid_, nullptr, nullptr) != 0)
      return Err("thread {}: cannot resume for a system call: {}", tid_, std::strerror(errno));
    GRAFT_ASSIGN(int st, proc_.WaitStop(tid_));
    if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
      stops++;
      continue;
    }
    if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP && t) t->pending_signal = WSTOPSIG(st);
  }
  user_regs_struct after;
  if (ptrace(PTRACE_GETREGS, tid_, nullptr, &after) != 0)
    return Err("thread {}: cannot read registers: {}", tid_, std::strerror(errno));
  result = static_cast<long>(after.rax);
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &original_) != 0)
    return Err("thread {}: cannot restore registers: {}", tid_, std::strerror(errno));
  return result;
}

}  // namespace graft::process
