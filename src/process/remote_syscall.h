// System calls made by a stopped thread of the target on graft's behalf
// (memfd_create, mmap, munmap, close). Each call is self-restoring: before the
// thread's registers are touched, a signal frame holding its original state is
// written below its stack, and the call runs through a `syscall; ret` gadget
// that returns into the C library's rt_sigreturn trampoline. If graft dies at
// any instant, the thread finishes the call and returns to exactly where it
// was, registers, FPU state and signal mask included.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "process/proc_maps.h"
#include "process/stopped_process.h"

namespace graft::process {

struct SyscallGadgets {
  uint64_t syscall_ret = 0;  // syscall; ret
  uint64_t sigreturn = 0;    // mov $15, %rax; syscall  (__restore_rt)
};

// Scans the process's executable mappings (the C library, usually) for gadgets.
Result<SyscallGadgets> FindSyscallGadgets(pid_t pid, const std::vector<Mapping>& maps);
// The first of each gadget in `code`, which lies at `address` (0: none there).
SyscallGadgets ScanGadgets(std::span<const uint8_t> code, uint64_t address);
// Whether the process holds the gadgets' code at their addresses now (for
// gadgets remembered from another process mapping the same file).
bool GadgetsInPlace(const ProcessMemory& mem, const SyscallGadgets& g);

class RemoteSyscall {
 public:
  // `thread` must be one of `proc`'s stopped threads.
  static Result<RemoteSyscall> Prepare(StoppedProcess& proc, pid_t thread, const SyscallGadgets& gadgets);

  // Runs syscall `nr`; returns its raw result (negative errno on failure).
  Result<long> Call(long nr, std::vector<uint64_t> args);
  // Calls the function at `function` (integer or pointer arguments; the
  // return value is not kept) on the thread's stack below the safety frame.
  // It returns into rt_sigreturn, so the thread ends as it was even if graft
  // dies during the call. The function must not need locks the stopped
  // thread may hold. Invalidates scratch data.
  Status CallFunction(uint64_t function, std::vector<uint64_t> args);
  // Copies `bytes` onto the thread's stack scratch area (below the red zone
  // and the safety frame) and returns their address, for pointer arguments.
  Result<uint64_t> PushScratch(const std::vector<uint8_t>& bytes);

 private:
  RemoteSyscall(StoppedProcess& p, pid_t t) : proc_(p), tid_(t) {}
  Status BuildSafetyFrame();

  StoppedProcess& proc_;
  pid_t tid_;
  SyscallGadgets gadgets_;
  user_regs_struct original_{};  // what the thread must resume with (restart applied)
  std::vector<uint8_t> xstate_;
  uint64_t sigmask_ = 0;
  uint64_t frame_sp_ = 0;    // rsp during the call: points at the sigreturn gadget address
  uint64_t scratch_top_ = 0; // scratch grows down from here
};

}  // namespace graft::process
