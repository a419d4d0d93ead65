// vmlinux's symbol map: System.map (from linux-image-R-dbg; Debian's
// /boot/System.map-R is an 83-byte placeholder) or /proc/kallsyms of a host
// running the kernel (KASLR-shifted addresses, module symbols marked
// "[module]"). Lines are kept in the file's order, which is kallsyms order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

struct MapSymbol {
  uint64_t address = 0;
  char type = 0;  // nm letter: lower-case for locals
  std::string name;
  bool local() const { return type >= 'a' && type <= 'z'; }
  bool text() const { return type == 't' || type == 'T'; }
};

// vmlinux's symbols of `path` (not modules', not undefined or weak ones);
// refuses a placeholder map, saying where the real one is.
Result<std::vector<MapSymbol>> ReadSymbolMap(const std::string& path);

// The map's address of `_text`, the start of the kernel's code: minus the
// ELF's .text address it is the KASLR offset. 0 when absent.
uint64_t MapTextAddress(const std::vector<MapSymbol>& map);

}  // namespace graft::kernel
