// Call stacks of stopped threads, unwound with DWARF CFI (.eh_frame) through
// libdw, because the programs graft patches are built without frame pointers.
// Signal frames are followed too, so code interrupted by a handler counts.
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
  bool complete = true;       // false when unwinding stopped early
  std::string error;
};

class StackUnwinder {
 public:
  // Reads the module list (/proc/PID/maps) and CFI; do this before stopping threads.
  static Result<std::unique_ptr<StackUnwinder>> Create(pid_t pid);
  ~StackUnwinder();
  // REQUIRES: every thread of the process seized and stopped by this process.
  Result<std::vector<ThreadStack>> Unwind(const std::vector<pid_t>& tids);

 private:
  StackUnwinder() = default;
  pid_t pid_ = 0;
  void* dwfl_ = nullptr;  // Dwfl*
  bool attached_ = false;
};

}  // namespace graft::process
