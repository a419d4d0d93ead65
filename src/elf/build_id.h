// A linked file's GNU build-id read from its program headers alone (a few
// hundred bytes, not the file): enough to tell which content a mapped file
// holds before deciding whether it must be parsed at all.
#pragma once

#include <string>

#include "base/status.h"

namespace graft::elf {

// Hex build-id of the ELF file at `path`, "" when it has none (or is not a
// 64-bit little-endian ELF file); an error only when it cannot be read.
Result<std::string> ReadBuildId(const std::string& path);

}  // namespace graft::elf
