// Call stacks of stopped threads, unwound with DWARF CFI (.eh_frame) through
// libdw, because the programs graft patches are built without frame pointers.
// Signal frames are followed too, so code interrupted by a handler counts.
//
// Fail closed: a stack is `complete` only when every frame was unwound from
// frame descriptions and the walk ended where the CFI says the stack ends
// (_start, clone). A frame in code without CFI (JIT code, hand-written asm),
// a read error or a stack deeper than the cap leaves it incomplete, and the
// caller must then treat the thread as possibly inside anything.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::process {

struct ThreadStack {
  pid_t tid = 0;
  std::vector<uint64_t> pcs;  // innermost first; outer entries are return addresses minus one
  // The stack pointer in each frame (0: unknown). A caller's is its callee's
  // CFA, so the callee's return address is stored at sps[i + 1] - 8.
  std::vector<uint64_t> sps;
  std::vector<bool> activation;  // frame i was interrupted (signal frame), not a call
  bool complete = false;      // reached the outermost frame through CFI alone
  std::string error;          // why it is not complete
};

// Code libdw cannot find frame descriptions for by itself, because no ELF
// file backs it (graft's own patch mappings): the mapping's range and its
// .eh_frame as it lies in memory.
struct ExtraUnwindTables {
  uint64_t start = 0, end = 0;   // the mapping that holds the code
  uint64_t eh_frame_address = 0;
  std::vector<uint8_t> eh_frame;  // zero-terminated, relocated for its address
};

class StackUnwinder {
 public:
  // Frames beyond this make the stack incomplete (deep recursion is still
  // fine; a runaway or corrupt stack is not read forever while threads wait).
  static constexpr size_t kMaxFrames = 32768;

  // Reads the module list (/proc/PID/maps) and CFI; do this before stopping threads.
  static Result<std::unique_ptr<StackUnwinder>> Create(pid_t pid, std::vector<ExtraUnwindTables> extra = {});
  ~StackUnwinder();
  // REQUIRES: every thread of the process seized and stopped by this process.
  Result<std::vector<ThreadStack>> Unwind(const std::vector<pid_t>& tids);

 private:
  StackUnwinder() = default;
  pid_t pid_ = 0;
  void* dwfl_ = nullptr;  // Dwfl*
  bool attached_ = false;
  struct Synthetic;
  std::vector<std::unique_ptr<Synthetic>> synthetic_;  // outlive dwfl_
};

}  // namespace graft::process
