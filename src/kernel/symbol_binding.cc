#include "kernel/symbol_binding.h"

#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "elf/object_file.h"

namespace graft::kernel {

Result<SymbolBinder> SymbolBinder::Load(const KernelSymbolSources& src) {
  SymbolBinder b;
  b.src_ = src;
  std::ifstream symvers(src.module_symvers);
  if (!symvers) return Err("cannot read {}: the kernel's exported symbols (install the headers of that kernel)", src.module_symvers);
  std::string line;
  while (std::getline(symvers, line)) {
    // crc <TAB> symbol <TAB> module <TAB> export type <TAB> namespace
    std::istringstream in(line);
    std::string crc, name;
    if (in >> crc >> name) b.exports_.insert(name);
  }
  if (!src.system_map.empty()) {
    std::ifstream map(src.system_map);
    if (!map) return Err("cannot read {}: the kernel's symbol map", src.system_map);
    size_t symbols = 0;
    while (std::getline(map, line)) {
      // "address type name" (System.map, /proc/kallsyms); kallsyms lines with
      // a fourth field ("[module]") belong to modules, not vmlinux.
      std::istringstream in(line);
      std::string addr, type, name, module;
      if (!(in >> addr >> type >> name) || type.size() != 1 || (in >> module)) continue;
      char t = type[0];
      // 'A'/'a': per-CPU variables (their "address" is the offset in the
      // per-CPU area, which is what code using them needs); the livepatch
      // core finds them by name like any other.
      if (t == 'U' || t == 'w') continue;
      b.vmlinux_[name].push_back({"", std::islower(static_cast<unsigned char>(t)) != 0,
                                  std::strtoull(addr.c_str(), nullptr, 16)});
      symbols++;
    }
    // Debian ships an 83-byte placeholder as /boot/System.map-*.
    if (symbols < 1000)
      return Err("{} holds {} symbols: not the kernel's symbol map (Debian's /boot/System.map is a "
                 "placeholder; the real one is in linux-image-<release>-dbg). Give --system-map with that "
                 "file or a copy of /proc/kallsyms from a host running the kernel", src.system_map, symbols);
  }
  if (src.object != "vmlinux") {
    if (src.module_file.empty())
      return Err("patching module {} needs its .ko file (--target-module) to find its symbols", src.object);
    GRAFT_ASSIGN(auto ko, elf::ObjectFile::Open(src.module_file));
    // Positions count what the module's kallsyms keeps once it runs: named
    // symbols of allocated sections other than .init ones (freed after init).
    const auto& secs = ko->sections();
    for (const elf::Symbol& s : ko->symbols()) {
      if (!s.defined() || s.name.empty() || s.type == STT_SECTION || s.type == STT_FILE) continue;
      if (s.shndx >= secs.size() || !secs[s.shndx].alloc() || secs[s.shndx].name.rfind(".init", 0) == 0) continue;
      b.module_[s.name].push_back({s.file, s.local()});
    }
  }
  return b;
}

Result<int> SymbolBinder::Position(const std::string& obj, const std::string& name, const std::string& file) const {
  const auto& table = obj == "vmlinux" ? vmlinux_ : module_;
  auto it = table.find(name);
  if (it == table.end())
    return Err("'{}' is not a symbol of {} ({})", name, obj,
               obj == "vmlinux" ? src_.system_map : src_.module_file);
  if (it->second.size() == 1) return 0;
  for (size_t i = 0; i < it->second.size(); i++)
    if (!file.empty() && it->second[i].file == file) return static_cast<int>(i) + 1;
  if (obj == "vmlinux" && !file.empty())
    if (int near = NearestToFile(it->second, file)) return near;
  return Err("'{}' is defined {} times in {} and {} cannot tell which one {} means; patching it needs the "
             "object's symbol table with file names", name, it->second.size(), obj,
             obj == "vmlinux" ? "System.map" : "the module", file.empty() ? "the patch" : file);
}

void SymbolBinder::AddFileSymbols(const std::string& file, const std::vector<std::string>& names) {
  auto& v = file_symbols_[file];
  v.insert(v.end(), names.begin(), names.end());
}

int SymbolBinder::NearestToFile(const std::vector<Definition>& defs, const std::string& file) const {
  auto f = file_symbols_.find(file);
  if (f == file_symbols_.end()) return 0;
  std::vector<uint64_t> anchors;  // where the file's uniquely named symbols are
  for (const std::string& n : f->second) {
    auto it = vmlinux_.find(n);
    if (it != vmlinux_.end() && it->second.size() == 1 && it->second[0].address) anchors.push_back(it->second[0].address);
  }
  if (anchors.size() < 2) return 0;
  std::sort(anchors.begin(), anchors.end());
  // A copy inside the span of the file's own symbols, and only one.
  int found = 0;
  for (size_t i = 0; i < defs.size(); i++) {
    auto next = std::lower_bound(anchors.begin(), anchors.end(), defs[i].address);
    if (next == anchors.begin() || next == anchors.end()) continue;
    // Between two of the file's symbols with nothing of another file's known
    // between them: no gap larger than the file's own code allows (64 KiB).
    if (*next - *(next - 1) > 64 * 1024) continue;
    if (found) return 0;
    found = static_cast<int>(i) + 1;
  }
  return found;
}

Result<int> SymbolBinder::FunctionPosition(const std::string& name, const std::string& file) const {
  return Position(src_.object, name, file);
}

Result<Binding> SymbolBinder::Bind(const diff::Referent& r) const {
  using K = diff::Referent::Kind;
  const bool module_target = src_.object != "vmlinux";
  auto klp = [&](const std::string& obj, const std::string& name, const std::string& file) -> Result<Binding> {
    GRAFT_ASSIGN(int pos, Position(obj, name, file));
    return Binding{true, ".klp.sym." + obj + "." + name + "," + std::to_string(pos)};
  };
  if (r.kind == K::kExisting) {
    // Defined in the patched object. Exported globals of vmlinux bind like any
    // module's references; everything else goes through livepatch symbols.
    if (!module_target && !r.local && Exported(r.name)) return Binding{false, r.name};
    return klp(src_.object, r.name, r.local ? r.file : "");
  }
  if (r.kind == K::kExternal) {
    // __this_module of the patched module, not of the patch.
    if (module_target && (module_.count(r.name) || r.name == "__this_module")) return klp(src_.object, r.name, "");
    if (Exported(r.name)) return Binding{false, r.name};
    if (vmlinux_.count(r.name)) return klp("vmlinux", r.name, "");
    return Err("'{}' is neither exported by the kernel nor defined in {}; the patch cannot reach it", r.name,
               module_target ? src_.object + " or vmlinux" : std::string("vmlinux"));
  }
  return Err("internal: copied referent passed to Bind");
}

}  // namespace graft::kernel
