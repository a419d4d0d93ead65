// The record of an applied patch, kept inside the patched process itself: the
// first page of the patch's code mapping (a memfd named "graft:ID") holds it.
// `graft list` and `graft revert` read it back, so the truth about what is
// applied survives graft restarts and needs no state file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "process/proc_maps.h"
#include "process/stack_unwinder.h"

namespace graft::userspace {

struct PatchedFunction {
  std::string name;
  uint64_t site = 0;      // where the jump is written (function entry, past endbr64)
  uint64_t address = 0;   // old function start
  uint64_t size = 0;      // old function size
  uint64_t target = 0;    // new code entry
  std::vector<uint8_t> original;  // bytes the jump replaced
  std::vector<uint8_t> jump;      // the jump itself
};

struct PatchRecord {
  std::string id;
  std::string description;
  std::vector<std::string> cves;
  std::vector<std::string> supersedes;
  std::string target_name;
  std::string target_build_id;
  uint64_t code_start = 0, code_size = 0, data_start = 0, data_size = 0;
  int64_t applied_at = 0;  // unix seconds
  // The new code's unwind tables and the storage of their registration with
  // the process's unwinder (libgcc's __register_frame_info); 0: none. The
  // storage is zero until registration, so it also says whether it happened.
  uint64_t eh_frame = 0, unwind_object = 0;
  // Return traps (see run_until_safe.h): `trap_count` pieces of code of
  // arch::Arch::kReturnTrapSize bytes at trap_code, each with 16 bytes of
  // data (resume address, saved register) at trap_data. 0: none.
  uint64_t trap_code = 0, trap_data = 0, trap_count = 0;
  std::vector<PatchedFunction> functions;
};

inline constexpr char kMappingPrefix[] = "/memfd:graft:";

std::vector<uint8_t> EncodeRecord(const PatchRecord& r);  // page-padded
Result<PatchRecord> DecodeRecord(const std::vector<uint8_t>& bytes);

struct AppliedPatch {
  PatchRecord record;
  bool active = false;  // every jump in place; false: mapped but not switched (an interrupted apply)
  std::string state;    // "active", "inactive", "partial"
};

// Every graft patch mapped in `pid`, read from the process.
Result<std::vector<AppliedPatch>> ReadAppliedPatches(pid_t pid);

// The frame descriptions of the patches' code, for unwinding stacks that run
// through it (libdw finds no file behind a memfd mapping).
Result<std::vector<process::ExtraUnwindTables>> UnwindTablesOf(pid_t pid, const std::vector<AppliedPatch>& applied);

}  // namespace graft::userspace
