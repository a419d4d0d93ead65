// Each relocated field is read back from the target and checked to denote
// what the original object meant: the same named symbol, the PLT stub or GOT
// slot of the same import, the same string literal, or (recursively) the same
// compiler-made table. Linker relaxations of GOT loads are accepted.
#include "userspace/run_pre.h"

#include <elf.h>

#include <algorithm>
#include <vector>

namespace graft::userspace {

using diff::Entity;
using diff::EntityKind;

bool RunPreVerifier::VerifyAt(int entity, uint64_t address, std::string* why) {
  if (verified_.count({entity, address})) return true;
  verified_.insert({entity, address});
  const Entity& e = m_.entities()[entity];
  const elf::Section& s = m_.SectionOf(e);
  auto code = target_.bytes_at(address, s.size);
  if (code.size() != s.size) {
    *why = fmt::format("{} bytes at {:#x} are not in the target file", s.size, address);
    return false;
  }
  std::vector<bool> masked(s.size, false);
  const arch::Arch& arch = m_.arch();
  auto relocs = m_.RelocsOf(e);
  std::sort(relocs.begin(), relocs.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
  for (const elf::Relocation& r : relocs) {
    size_t n = arch.FieldSize(r.type);
    if (r.offset + n > s.size) {
      *why = fmt::format("relocation at +{:#x} runs past the end", r.offset);
      return false;
    }
    for (size_t i = 0; i < n; i++) masked[r.offset + i] = true;
    uint64_t P = address + r.offset;
    arch::RelocClass cls = arch.Classify(r.type);
    bool got = cls == arch::RelocClass::kGotRelative;
    uint32_t as_type = r.type;
    if (got) {
      bool direct = false;
      if (arch.MatchesRelaxed(r.type, s.data, code, r.offset, &direct) && direct) {
        masked[r.offset - 2] = masked[r.offset - 1] = true;
        got = false;
        as_type = R_X86_64_PC32;
      }
    }
    if (cls == arch::RelocClass::kTls || cls == arch::RelocClass::kUnsupported) {
      *why = fmt::format("relocation {} at +{:#x} is not supported", arch.RelocName(r.type), r.offset);
      return false;
    }
    uint64_t denoted = arch.Denoted(as_type, code.data() + r.offset, P, r.addend);
    if (!VerifyReference(e, r, denoted, got, why)) {
      *why = fmt::format("at +{:#x}: {}", r.offset, *why);
      return false;
    }
  }
  for (size_t i = 0; i < s.size; i++) {
    if (!masked[i] && code[i] != s.data[i]) {
      *why = fmt::format("code differs at +{:#x} (object {:02x}, target {:02x})", i, s.data[i], code[i]);
      return false;
    }
  }
  return true;
}

bool RunPreVerifier::VerifyReference(const Entity& e, const elf::Relocation& r, uint64_t denoted, bool got,
                                     std::string* why) {
  diff::Reference ref = m_.Resolve(r);
  std::string name = ref.external ? ref.name : m_.entities()[ref.entity].symbol;
  if (got) {
    auto slot = syms_.GotSlot(name);
    if (slot && *slot == denoted) return true;
    *why = fmt::format("GOT load of '{}' reads {:#x}, not its GOT slot", name, denoted);
    return false;
  }
  if (ref.external) {
    auto def = syms_.FindGlobal(ref.name);
    auto plt = syms_.PltStub(ref.name);
    if ((def && def->value == denoted) || (plt && *plt == denoted)) return true;
    *why = fmt::format("reference to '{}' resolves to {:#x} in the target, which is neither its "
                       "definition nor its PLT stub", ref.name, denoted);
    return false;
  }
  const Entity& t = m_.entities()[ref.entity];
  bool pc = m_.arch().Classify(r.type) != arch::RelocClass::kAbsolute;
  switch (t.kind) {
    case EntityKind::kStrings: {
      int64_t adjust = pc && e.kind == EntityKind::kFunction ? m_.PcAdjust(e, r.offset) : 0;
      auto data = m_.SectionOf(t).data;
      int64_t off = ref.offset + adjust;
      if (off < 0 || static_cast<uint64_t>(off) >= data.size()) {
        *why = "string reference out of range";
        return false;
      }
      size_t end = off;
      while (end < data.size() && data[end] != 0) end++;
      auto want = data.subspan(off, end - off + (end < data.size()));
      auto have = target_.bytes_at(denoted + r.addend + adjust, want.size());
      if (have.size() == want.size() && std::equal(want.begin(), want.end(), have.begin())) return true;
      *why = fmt::format("string literal \"{}\" is not at {:#x} in the target",
                         std::string(want.begin(), want.end() - (end < data.size())), denoted + r.addend + adjust);
      return false;
    }
    case EntityKind::kAnonymous: {
      std::string inner;
      if (VerifyAt(ref.entity, denoted + r.addend - ref.offset, &inner)) return true;
      *why = fmt::format("compiler data {} differs: {}", t.key, inner);
      return false;
    }
    default: {
      bool ambiguous = false;
      auto sym = syms_.Find(t.symbol, m_.file(), &ambiguous);
      if (!sym) {
        *why = fmt::format("'{}' is not in the target's symbol table", t.symbol);
        return false;
      }
      if (sym->value + (ref.offset - r.addend - static_cast<int64_t>(t.symbol_offset)) == denoted) return true;
      // A preemptible global of a shared library is called through its own PLT stub.
      if (!t.local && syms_.PltStub(t.symbol) == denoted) return true;
      *why = fmt::format("reference to '{}' points to {:#x}, but the target has it at {:#x}", t.symbol,
                         denoted, sym->value);
      return false;
    }
  }
}

}  // namespace graft::userspace
