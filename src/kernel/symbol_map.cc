#include "kernel/symbol_map.h"

#include <fstream>
#include <sstream>

namespace graft::kernel {

Result<std::vector<MapSymbol>> ReadSymbolMap(const std::string& path) {
  std::ifstream map(path);
  if (!map) return Err("cannot read {}: the kernel's symbol map", path);
  std::vector<MapSymbol> out;
  std::string line;
  while (std::getline(map, line)) {
    // "address type name"; kallsyms lines with a fourth field ("[module]")
    // belong to modules, not vmlinux.
    std::istringstream in(line);
    std::string addr, type, name, module;
    if (!(in >> addr >> type >> name) || type.size() != 1 || (in >> module)) continue;
    char t = type[0];
    // Absolute symbols stay: kallsyms lists per-CPU variables as 'A'.
    if (t == 'U' || t == 'w' || t == 'v') continue;
    MapSymbol s;
    s.address = std::strtoull(addr.c_str(), nullptr, 16);
    s.type = t;
    s.name = std::move(name);
    out.push_back(std::move(s));
  }
  // Debian ships an 83-byte placeholder as /boot/System.map-*.
  if (out.size() < 1000)
    return Err("{} holds {} symbols: not the kernel's symbol map (Debian's /boot/System.map is a "
               "placeholder; the real one is in linux-image-<release>-dbg). Give --system-map with that "
               "file or a copy of /proc/kallsyms from a host running the kernel", path, out.size());
  return out;
}

uint64_t MapTextAddress(const std::vector<MapSymbol>& map) {
  for (const MapSymbol& s : map)
    if (s.name == "_text") return s.address;
  return 0;
}

}  // namespace graft::kernel
