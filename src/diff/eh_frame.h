// The records of an object's .eh_frame: enough structure to carry the frame
// descriptions of copied functions into a patch, so that the process's
// unwinder (C++ exceptions, forced unwinds, backtraces) can walk through the
// new code.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace graft::diff {

struct EhRecord {
  uint64_t offset = 0;      // of the length field
  uint64_t size = 0;        // including the length field
  bool cie = false;
  uint64_t cie_offset = 0;  // FDEs: offset of their CIE
};

// Fails on 64-bit DWARF records, which GCC does not emit for x86-64 or arm64.
Result<std::vector<EhRecord>> ParseEhFrame(std::span<const uint8_t> data);

}  // namespace graft::diff
