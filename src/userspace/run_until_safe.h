// Running busy threads out of the functions being switched, as LibCare's
// "run until safe" does, but without breakpoints, so that a graft killed at
// any instant leaves nothing behind that could hurt the target.
//
// A busy thread's return address out of the outermost busy function is
// pointed at a return trap in graft's own patch mapping (arch::Arch's
// EncodeReturnTrap): code that saves the return value, makes a harmless
// system call and jumps on to the real return address. Every thread then
// runs; the busy ones with system-call tracing, so graft sees each arrive at
// its trap and parks it there, at the real return address with its return
// value back, outside every busy function. Parked threads stay stopped while
// the others run, until everyone is clear. If graft dies, a thread that
// reaches its trap makes the system call and returns as if nothing happened.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "arch/arch.h"
#include "process/proc_maps.h"
#include "process/stack_unwinder.h"
#include "process/stopped_process.h"

namespace graft::userspace {

struct TrapArea {
  uint64_t code = 0, data = 0, count = 0;  // see PatchRecord::trap_*
  // Trap i: its code, and its two data words: where it jumps on, and the
  // return value it keeps while it makes its system call.
  static constexpr uint64_t kCellSize = 16;
  uint64_t Code(uint64_t i) const { return code + i * arch::Arch::kReturnTrapSize; }
  uint64_t ResumeCell(uint64_t i) const { return data + i * kCellSize; }
  uint64_t SavedCell(uint64_t i) const { return data + i * kCellSize + 8; }
};

class ReturnTrapper {
 public:
  ReturnTrapper(process::StoppedProcess& proc, const process::ProcessMemory& mem, const arch::Arch& arch,
                TrapArea area)
      : proc_(proc), mem_(mem), arch_(arch), area_(area) {}
  ~ReturnTrapper() { (void)DisarmAll(); }

  // Points the return out of frame `frame` of `stack` at a free trap. Fails,
  // saying why, when that cannot be done safely (the stack is not complete,
  // the frame was interrupted by a signal, the return address is not where
  // the frame descriptions say, no trap is free).
  Status Arm(const process::ThreadStack& stack, size_t frame);
  // Marks traps a stack still returns into or runs in (armed by a graft that
  // was killed): they keep their resume address and are not handed out.
  void Reserve(const process::ThreadStack& stack);
  bool IsArmed(pid_t tid) const { return armed_.count(tid) && !armed_.at(tid).parked; }
  bool IsParked(pid_t tid) const { return armed_.count(tid) && armed_.at(tid).parked; }
  bool AllParked() const;
  // Lets every thread but the parked ones run until each armed thread is
  // parked or `deadline` passes, then stops every thread again.
  Status Run(std::chrono::steady_clock::time_point deadline);
  // REQUIRES: every thread stopped. Puts back the return address of each
  // armed thread that has not left its function (its frame is still live).
  Status DisarmAll();

 private:
  struct Armed {
    size_t trap;
    uint64_t slot;    // where the return address is stored on the thread's stack
    uint64_t resume;  // the real return address
    bool in_trap_call = false;
    bool parked = false;
  };
  uint64_t TrapAt(size_t i) const { return area_.Code(i); }
  // Handles a stop of an armed thread; true when it is now parked.
  bool OnStop(pid_t tid, int status);
  Status Park(pid_t tid, Armed& a);

  process::StoppedProcess& proc_;
  const process::ProcessMemory& mem_;
  const arch::Arch& arch_;
  TrapArea area_;
  std::map<pid_t, Armed> armed_;
  std::set<size_t> reserved_;
};

}  // namespace graft::userspace
