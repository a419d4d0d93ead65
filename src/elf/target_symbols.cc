// PLT stubs are found by decoding them rather than by assuming a layout:
// every stub holds `jmp *disp(%rip)` through its GOT slot, with or without
// endbr64/bnd prefixes (.plt, .plt.sec, .plt.got), so the slot tells which
// symbol the stub calls.
#include "elf/target_symbols.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace graft::elf {

TargetSymbols::TargetSymbols(const ObjectFile& file) : file_(file) {
  auto add = [&](const Symbol& s) {
    if (!s.defined() || s.name.empty() || s.type == STT_SECTION || s.type == STT_FILE) return;
    if (s.local()) {
      locals_.emplace(s.file + '\0' + s.name, &s);
      locals_by_name_.emplace(s.name, &s);
    } else {
      globals_.emplace(s.name, &s);
      // GNU ld names copy-relocated and versioned symbols "stderr@GLIBC_2.2.5" in .symtab.
      size_t at = s.name.find('@');
      if (at != std::string::npos && at > 0) globals_.emplace(s.name.substr(0, at), &s);
    }
    if (s.type == STT_FUNC || s.type == STT_GNU_IFUNC) functions_.push_back(&s);
  };
  for (const Symbol& s : file.symbols()) add(s);
  has_symtab_ = !file.symbols().empty();
  for (const Symbol& s : file.dynamic_symbols())
    if (!globals_.count(s.name)) add(s);
  std::sort(functions_.begin(), functions_.end(),
            [](const Symbol* a, const Symbol* b) { return a->value < b->value; });

  for (const Relocation& r : file.dynamic_relocations()) {
    if (r.type != R_X86_64_JUMP_SLOT && r.type != R_X86_64_GLOB_DAT) continue;
    if (r.symbol >= file.dynamic_symbols().size()) continue;
    got_.emplace(file.dynamic_symbols()[r.symbol].name, r.offset);
  }
  // An IFUNC called inside its own file goes through a PLT stub whose slot
  // has an IRELATIVE relocation naming the resolver, not the symbol.
  std::unordered_map<uint64_t, std::vector<std::string>> ifunc_names;  // resolver -> IFUNC symbols
  for (const auto* table : {&file.symbols(), &file.dynamic_symbols()})
    for (const Symbol& s : *table)
      if (s.type == STT_GNU_IFUNC && s.defined()) ifunc_names[s.value].push_back(s.name);
  std::unordered_map<uint64_t, std::vector<std::string>> ifunc_slot;
  for (const Relocation& r : file.dynamic_relocations()) {
    if (r.type != R_X86_64_IRELATIVE) continue;
    auto it = ifunc_names.find(static_cast<uint64_t>(r.addend));
    if (it == ifunc_names.end()) continue;
    for (const std::string& name : it->second) ifunc_got_.emplace(name, r.offset);
    ifunc_slot[r.offset] = it->second;
  }
  std::unordered_map<uint64_t, std::string> slot_name;
  for (auto& [name, slot] : got_) slot_name[slot] = name;
  for (const Section& s : file.sections()) {
    if (s.name != ".plt" && s.name != ".plt.sec" && s.name != ".plt.got") continue;
    uint64_t ent = s.entsize ? s.entsize : 16;
    for (size_t i = 0; i + 6 <= s.data.size(); i++) {
      if (s.data[i] != 0xff || s.data[i + 1] != 0x25) continue;
      int32_t disp;
      std::memcpy(&disp, &s.data[i + 2], 4);
      uint64_t slot = s.addr + i + 6 + disp;
      uint64_t stub = s.addr + (i / ent) * ent;
      if (auto ifunc = ifunc_slot.find(slot); ifunc != ifunc_slot.end())
        for (const std::string& name : ifunc->second) ifunc_plt_.emplace(name, stub);
      auto it = slot_name.find(slot);
      if (it == slot_name.end()) continue;
      plt_.emplace(it->second, stub);
    }
  }
}

std::optional<Symbol> TargetSymbols::Find(const std::string& name, const std::string& file,
                                          bool* ambiguous) const {
  if (ambiguous) *ambiguous = false;
  auto [lo, hi] = locals_.equal_range(file + '\0' + name);
  if (lo != hi) {
    if (std::next(lo) != hi && ambiguous) *ambiguous = true;
    return *lo->second;
  }
  return FindGlobal(name);
}

std::vector<const Symbol*> TargetSymbols::Locals(const std::string& name, const std::string& file) const {
  std::vector<const Symbol*> out;
  auto [lo, hi] = locals_.equal_range(file + '\0' + name);
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  if (out.empty()) {
    auto [nlo, nhi] = locals_.equal_range(std::string(1, '\0') + name);
    for (auto it = nlo; it != nhi; ++it) out.push_back(it->second);
  }
  return out;
}

std::optional<Symbol> TargetSymbols::FindGlobal(const std::string& name) const {
  auto [lo, hi] = globals_.equal_range(name);
  const Symbol* best = nullptr;
  for (auto it = lo; it != hi; ++it)
    if (!best || (best->bind == STB_WEAK && it->second->bind == STB_GLOBAL)) best = it->second;
  if (best) return *best;
  auto [llo, lhi] = locals_by_name_.equal_range(name);
  // The linker resolved the reference inside the target (no import of that
  // name exists), so the only local of that name is the definition.
  bool imported = got_.count(name) || plt_.count(name);
  for (const Symbol& d : file_.dynamic_symbols()) imported |= !d.defined() && d.name == name;
  if (llo != lhi && std::next(llo) == lhi && !imported) return *llo->second;
  return std::nullopt;
}

std::optional<uint64_t> TargetSymbols::PltStub(const std::string& name) const {
  auto it = plt_.find(name);
  if (it != plt_.end()) return it->second;
  it = ifunc_plt_.find(name);
  if (it != ifunc_plt_.end()) return it->second;
  return std::nullopt;
}

std::optional<uint64_t> TargetSymbols::IfuncSlot(const std::string& name) const {
  auto it = ifunc_got_.find(name);
  if (it == ifunc_got_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> TargetSymbols::GotSlot(const std::string& name) const {
  auto it = got_.find(name);
  if (it == got_.end()) return std::nullopt;
  return it->second;
}

const Symbol* TargetSymbols::FunctionAt(uint64_t addr) const {
  auto it = std::upper_bound(functions_.begin(), functions_.end(), addr,
                             [](uint64_t a, const Symbol* s) { return a < s->value; });
  while (it != functions_.begin()) {
    --it;
    if (addr < (*it)->value + std::max<uint64_t>((*it)->size, 1)) return *it;
    if ((*it)->value + (*it)->size <= addr) break;
  }
  return nullptr;
}

}  // namespace graft::elf
