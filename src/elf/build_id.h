// A linked file's GNU build-id read from its program headers alone (a few
// hundred bytes, not the file): enough to tell which content a mapped file
// holds before deciding whether it must be parsed at all.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"

namespace graft::elf {

// Hex build-id of the ELF file at `path`: "" when it has none (or is not
// 64-bit little-endian), nullopt when the file is not ELF at all (a locale
// archive, a font: no build-id to find, nothing to parse); an error only when
// it cannot be opened.
Result<std::optional<std::string>> ReadBuildId(const std::string& path);

}  // namespace graft::elf
