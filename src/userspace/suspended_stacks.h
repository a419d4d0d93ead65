// Suspended coroutines (ucontext, fibers, green threads) keep their stacks in
// ordinary memory and are invisible to the unwinder, which walks only the
// stacks threads run on. A coroutine suspended inside a function being
// replaced would resume in the old code; one suspended in patch code being
// reverted would return into unmapped memory. So before a switch graft looks
// for return addresses into the code being switched saved anywhere in the
// process's anonymous writable memory (heap, mmap'd stacks) outside the
// threads' own stacks. A value counts only if it lies in that code right
// after a possible call instruction. Stale copies (a coroutine's dead stack
// area) also count: that errs on the side of "busy".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/arch.h"
#include "base/status.h"
#include "process/proc_maps.h"
#include "process/stopped_process.h"

namespace graft::userspace {

struct CodeRange {
  uint64_t lo = 0, hi = 0;
  std::string what;
};

struct SavedReturn {
  uint64_t where = 0;  // the memory word holding it
  uint64_t value = 0;
  std::string what;    // the code range it returns into
  std::string mapping; // the memory it was found in
};

// Anonymous memory beyond this is not scanned (the pause would grow); the
// check then says so through `skipped`.
inline constexpr uint64_t kSuspendedScanBudget = 256ull << 20;

// REQUIRES: every thread of `proc` stopped (their stack pointers say which
// memory is a thread's stack).
Result<std::optional<SavedReturn>> FindSavedReturn(process::StoppedProcess& proc, const process::ProcessMemory& mem,
                                                   const std::vector<CodeRange>& code, const arch::Arch& arch,
                                                   bool* skipped);

}  // namespace graft::userspace
