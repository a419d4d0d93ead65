#include "kernel/symbol_binding.h"

#include <elf.h>

#include <algorithm>
#include <fstream>
#include <sstream>

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
    GRAFT_ASSIGN(b.map_, ReadSymbolMap(src.system_map));
    uint64_t text = MapTextAddress(b.map_);
    if (!text && src.link_text)  // run-pre reads code at the map's addresses
      return Err("{} shows no address for _text (kallsyms hides addresses from users other than root): copy "
                 "/proc/kallsyms as root, or give linux-image-<release>-dbg's System.map", src.system_map);
    if (text && src.link_text) b.kaslr_ = text - src.link_text;
    for (const MapSymbol& m : b.map_) {
      SymbolCandidate c;
      c.address = m.address;
      c.local = m.local();
      b.vmlinux_[m.name].push_back(c);
    }
    b.AttributeTwins();
  }
  if (src.object != "vmlinux") {
    if (src.module_file.empty())
      return Err("patching module {} needs its .ko file (--target-module) to find its symbols", src.object);
    GRAFT_ASSIGN(auto ko, elf::ObjectFile::Open(src.module_file));
    // Positions count what the module's kallsyms keeps once it runs: named
    // symbols of allocated sections other than .init ones (freed after init),
    // in symbol-table order.
    const auto& secs = ko->sections();
    for (const elf::Symbol& s : ko->symbols()) {
      if (!s.defined() || s.name.empty() || s.type == STT_SECTION || s.type == STT_FILE) continue;
      if (s.shndx >= secs.size() || !secs[s.shndx].alloc() || secs[s.shndx].name.rfind(".init", 0) == 0) continue;
      SymbolCandidate c;
      c.address = s.value;
      c.local = s.local();
      c.attributed = true;
      c.file = s.file;
      c.size = s.size;
      b.module_[s.name].push_back(c);
    }
  }
  for (const elf::ObjectFile* o : src.originals)
    for (const elf::Symbol& s : o->symbols())
      if (s.defined() && (s.type == STT_FUNC || s.type == STT_OBJECT)) {
        b.original_sizes_[{s.local() ? s.file : "", s.name}] = s.size;
        if (s.local()) b.original_locals_[s.file].push_back(s.name);
      }
  for (auto& [file, names] : b.original_locals_) std::sort(names.begin(), names.end());
  return b;
}

// vmlinux's symbol table gives file and size of each static whose name the
// map lists more than once, matched by name and link-time address.
void SymbolBinder::AttributeTwins() {
  if (!src_.vmlinux) return;
  std::map<std::string, std::vector<const elf::Symbol*>> by_name;
  for (const auto& [name, defs] : vmlinux_)
    if (defs.size() > 1) by_name[name];
  for (const elf::Symbol& s : src_.vmlinux->symbols())
    if (auto it = by_name.find(s.name); it != by_name.end() && s.defined()) it->second.push_back(&s);
  // The locals of each STT_FILE group a twin lives in (the symbol table
  // lists a file's locals after its STT_FILE entry).
  std::map<size_t, std::vector<std::string>> groups;  // index of the STT_FILE symbol -> names
  const auto& all = src_.vmlinux->symbols();
  auto group_of = [&](const elf::Symbol* s) {
    size_t i = s - all.data();
    while (i > 0 && all[i].type != STT_FILE) i--;
    return i;
  };
  for (auto& [name, syms] : by_name)
    for (SymbolCandidate& c : vmlinux_[name])
      for (const elf::Symbol* s : syms)
        if (s->value == c.address - kaslr_) {
          c.attributed = true;
          c.file = s->local() ? s->file : "";
          c.size = s->size;
          if (!s->local()) continue;
          size_t g = group_of(s);
          auto [it, fresh] = groups.try_emplace(g);
          if (fresh) {
            for (size_t i = g + 1; i < all.size() && all[i].type != STT_FILE && all[i].local(); i++)
              if (all[i].type == STT_FUNC || all[i].type == STT_OBJECT) it->second.push_back(all[i].name);
            std::sort(it->second.begin(), it->second.end());
          }
          c.neighbours = it->second;
        }
}

Result<int> SymbolBinder::Position(const std::string& obj, const std::string& name, bool local,
                                   const std::string& file, bool reference) const {
  const auto& table = obj == "vmlinux" ? vmlinux_ : module_;
  auto it = table.find(name);
  if (it == table.end())
    return Err("'{}' is not a symbol of {} ({})", name, obj,
               obj == "vmlinux" ? src_.system_map : src_.module_file);
  if (it->second.size() == 1) return 0;
  PositionQuery q;
  q.reference = reference;
  q.object = obj;
  q.name = name;
  q.local = local;
  q.file = file;
  if (auto sz = original_sizes_.find({local ? file : "", name}); sz != original_sizes_.end()) q.size = sz->second;
  if (auto n = original_locals_.find(file); local && n != original_locals_.end()) q.neighbours = n->second;
  if (obj == "vmlinux") {
    if (src_.same_code)
      q.same_code = [this, name, file](uint64_t address) { return src_.same_code(name, file, address - kaslr_); };
    q.without_files_hint = src_.without_files_hint;
  }
  return PickPosition(it->second, q);
}

Result<uint64_t> SymbolBinder::LinkAddress(const std::string& name, int position) const {
  auto it = vmlinux_.find(name);
  if (it == vmlinux_.end() || position < 0 || static_cast<size_t>(std::max(position, 1)) > it->second.size())
    return Err("'{}' is not a symbol of vmlinux ({})", name, src_.system_map);
  return it->second[std::max(position, 1) - 1].address - kaslr_;
}

Result<int> SymbolBinder::FunctionPosition(const std::string& name, const std::string& file) const {
  return Position(src_.object, name, !file.empty(), file);
}

Result<Binding> SymbolBinder::Bind(const diff::Referent& r) const {
  using K = diff::Referent::Kind;
  const bool module_target = src_.object != "vmlinux";
  auto klp = [&](const std::string& obj, const std::string& name, const std::string& file) -> Result<Binding> {
    GRAFT_ASSIGN(int pos, Position(obj, name, !file.empty(), file, /*reference=*/true));
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
