// Each relocated field is read back from the target and checked to denote
// what the original object meant: the same named symbol, the PLT stub or GOT
// slot of the same import, the same string literal, or (recursively) the same
// compiler-made table. Linker relaxations of GOT loads are accepted.
#include "userspace/run_pre.h"

#include <elf.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace graft::userspace {

using diff::Entity;
using diff::EntityKind;

bool RunPreVerifier::VerifyAt(int entity, uint64_t address, std::string* why) {
  if (verified_.count({entity, address})) return true;
  verified_.insert({entity, address});  // breaks cycles between tables and code
  const Entity& e = m_.entities()[entity];
  const elf::Section& s = m_.SectionOf(e);
  auto code = target_.bytes_at(address, s.size);
  bool ok = code.size() == s.size;
  if (!ok) *why = fmt::format("{} bytes at {:#x} are not in the target file", s.size, address);
  std::vector<bool> masked(s.size, false);
  auto relocs = m_.RelocsOf(e);
  std::sort(relocs.begin(), relocs.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
  for (size_t k = 0; ok && k < relocs.size(); k++)
    ok = VerifyField(e, relocs[k], s.data, code, relocs[k].offset, address + relocs[k].offset, &masked, why);
  for (size_t i = 0; ok && i < s.size; i++) {
    if (!masked[i] && code[i] != s.data[i]) {
      *why = fmt::format("code differs at +{:#x} (object {:02x}, target {:02x})", i, s.data[i], code[i]);
      ok = false;
    }
  }
  // A failed attempt must not count as verified when another one follows.
  if (!ok) verified_.erase({entity, address});
  return ok;
}

bool RunPreVerifier::VerifyField(const Entity& e, const elf::Relocation& r, std::span<const uint8_t> object,
                                 std::span<const uint8_t> linked, uint64_t off, uint64_t P,
                                 std::vector<bool>* masked, std::string* why) {
  const arch::Arch& arch = m_.arch();
  size_t n = arch.FieldSize(r.type);
  if (off + n > object.size() || off + n > linked.size()) {
    *why = fmt::format("relocation at +{:#x} runs past the end", r.offset);
    return false;
  }
  for (size_t i = 0; i < n; i++) (*masked)[r.offset + i] = true;
  arch::RelocClass cls = arch.Classify(r.type);
  bool got = cls == arch::RelocClass::kGotRelative;
  uint32_t as_type = r.type;
  if (got) {
    bool direct = false;
    if (arch.MatchesRelaxed(r.type, object, linked, off, &direct) && direct) {
      (*masked)[r.offset - 2] = (*masked)[r.offset - 1] = true;
      got = false;
      as_type = R_X86_64_PC32;
    }
  }
  // A thread-local offset names no address to check; the instruction around it still must match.
  if (cls == arch::RelocClass::kTls && arch.TlsAccessOf(r.type) != arch::TlsAccess::kUnsupported) return true;
  if (cls == arch::RelocClass::kTls || cls == arch::RelocClass::kUnsupported) {
    *why = fmt::format("relocation {} at +{:#x} is not supported", arch.RelocName(r.type), r.offset);
    return false;
  }
  uint64_t denoted = arch.Denoted(as_type, linked.data() + off, P, r.addend);
  if (!VerifyReference(e, r, denoted, got, why)) {
    *why = fmt::format("at +{:#x}: {}", r.offset, *why);
    return false;
  }
  return true;
}

bool RunPreVerifier::VerifyLayout(int entity, uint64_t address, uint64_t size, std::string* why) {
  const Entity& e = m_.entities()[entity];
  const elf::Section& s = m_.SectionOf(e);
  auto code = target_.bytes_at(address, size);
  if (code.size() != size) {
    *why = fmt::format("{} bytes at {:#x} are not in the target file", size, address);
    return false;
  }
  const arch::Arch& arch = m_.arch();
  auto ours = arch.Decode(s.data);
  auto theirs = arch.Decode(code);
  if (!ours.ok() || !theirs.ok()) {
    *why = fmt::format("cannot decode: {}", !ours.ok() ? ours.error().message() : theirs.error().message());
    return false;
  }
  const auto& A = ours.value();
  const auto& B = theirs.value();
  auto relocs = m_.RelocsOf(e);
  std::sort(relocs.begin(), relocs.end(), [](auto& a, auto& b) { return a.offset < b.offset; });

  layout_entity_ = entity;
  pending_labels_.clear();
  struct Restore {
    int* entity;
    ~Restore() { *entity = -1; }
  } restore{&layout_entity_};

  // Object offset of each real instruction -> the target's; padding maps to
  // the instruction after it.
  std::map<int64_t, int64_t> map;
  std::vector<std::pair<int64_t, int64_t>> branches;  // (object destination, target destination)
  std::vector<bool> masked(s.size, false);
  size_t i = 0, j = 0, k = 0;
  for (;;) {
    while (i < A.size() && A[i].padding) i++;
    while (j < B.size() && B[j].padding) j++;
    if (i == A.size() || j == B.size()) break;
    const arch::Instruction& a = A[i];
    const arch::Instruction& b = B[j];
    map[a.offset] = b.offset;
    std::vector<const elf::Relocation*> in;
    while (k < relocs.size() && relocs[k].offset < a.offset + a.size) {
      if (relocs[k].offset >= a.offset) in.push_back(&relocs[k]);
      k++;
    }
    auto differ = [&](const char* what) {
      *why = fmt::format("{} at +{:#x} (target +{:#x})", what, a.offset, b.offset);
      return false;
    };
    if (a.opcode != b.opcode) return differ("other instruction");
    auto obj = std::span<const uint8_t>(s.data).subspan(a.offset, a.size);
    auto tgt = std::span<const uint8_t>(code).subspan(b.offset, b.size);
    if (a.relative_branch && in.empty()) {
      if (!b.relative_branch) return differ("branch against non-branch");
      branches.push_back({a.destination, b.destination});
    } else if (a.relative_branch && b.relative_branch && in.size() == 1 &&
               in[0]->offset + arch.FieldSize(in[0]->type) == a.offset + a.size) {
      // A branch out of the function (tail call, cold part): the assembler
      // may have resolved it to a short form; compare where it lands.
      const elf::Relocation& r = *in[0];
      uint64_t dest = address + b.destination;
      uint64_t denoted = dest - r.addend - (a.offset + a.size - r.offset);
      if (!VerifyReference(e, r, denoted, false, why)) {
        *why = fmt::format("at +{:#x}: {}", r.offset, *why);
        return false;
      }
    } else {
      if (a.size != b.size) return differ("other encoding");
      for (const elf::Relocation* r : in)
        if (!VerifyField(e, *r, obj, tgt, r->offset - a.offset, address + b.offset + (r->offset - a.offset), &masked,
                         why))
          return false;
      for (uint32_t x = 0; x < a.size; x++)
        if (!masked[a.offset + x] && obj[x] != tgt[x]) return differ("code differs");
    }
    i++, j++;
  }
  if (i != A.size() || j != B.size()) {
    *why = fmt::format("the function ends differently (object +{:#x}, target +{:#x})",
                       i < A.size() ? A[i].offset : s.size, j < B.size() ? B[j].offset : size);
    return false;
  }
  map[s.size] = size;
  // Padding (and the end) resolve to the next real instruction on both sides.
  auto real_after = [](const std::vector<arch::Instruction>& v, int64_t off, int64_t end) {
    for (const auto& x : v)
      if (x.offset >= off && !x.padding) return static_cast<int64_t>(x.offset);
    return end;
  };
  auto mapped = [&](int64_t obj_off) -> std::optional<int64_t> {
    auto it = map.find(real_after(A, obj_off, s.size));
    if (it == map.end()) return std::nullopt;
    return it->second;
  };
  for (auto [od, td] : branches) {
    auto m = mapped(od);
    if (!m || *m != real_after(B, td, size)) {
      *why = fmt::format("a branch to +{:#x} lands on target +{:#x}, not on the matching instruction", od, td);
      return false;
    }
  }
  for (const LabelRef& l : pending_labels_) {
    int64_t label = l.addend;
    if (l.pc) {
      // A PC-relative table entry counts from the table's start: the nearest
      // offset at or before the entry that the code points at.
      const auto& starts = table_starts_[l.table];
      auto it = starts.upper_bound(l.field);
      if (it == starts.begin()) {
        *why = fmt::format("jump table entry at +{:#x} has no table start the code points at", l.field);
        return false;
      }
      label -= static_cast<int64_t>(l.field - *std::prev(it));
    }
    auto m = mapped(label);
    if (!m || *m != label + l.shift) {
      *why = fmt::format("jump table entry for +{:#x} does not land on the matching instruction", label);
      return false;
    }
  }
  verified_.insert({entity, address});
  return true;
}

// The linker keeps one copy of equal entries of mergeable constant sections
// (.rodata.cst4/8/16) across all objects, in its own order: only the entry
// referenced is where the reference lands, not the rest of the object's section.
bool RunPreVerifier::VerifyMergedConstant(const Entity& t, int64_t offset, uint64_t address, std::string* why) {
  const elf::Section& s = m_.SectionOf(t);
  if (offset < 0 || static_cast<uint64_t>(offset) >= s.data.size()) {
    *why = fmt::format("reference to {}+{:#x} is out of range", s.name, offset);
    return false;
  }
  uint64_t into = static_cast<uint64_t>(offset) % s.entsize;
  auto want = s.data.subspan(offset - into, std::min<uint64_t>(s.entsize, s.data.size() - (offset - into)));
  auto have = target_.bytes_at(address - into, want.size());
  if (have.size() == want.size() && std::equal(want.begin(), want.end(), have.begin())) return true;
  *why = fmt::format("constant {} at {}+{:#x} is not at {:#x} in the target (there: {})", elf::HexBytes(want),
                     s.name, offset - into, address - into, elf::HexBytes(have));
  return false;
}

bool RunPreVerifier::VerifyReference(const Entity& e, const elf::Relocation& r, uint64_t denoted, bool got,
                                     std::string* why) {
  diff::Reference ref = m_.Resolve(r);
  // A place that holds no entity (kernel out-of-line code and tables such as
  // .altinstr_aux or __dyndbg): nothing to compare the field with; the
  // instruction's other bytes still are.
  if (!ref.external && (ref.entity < 0 || static_cast<size_t>(ref.entity) >= m_.entities().size())) return true;
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
      const elf::Section& ts = m_.SectionOf(t);
      if (ts.merge_constants()) {
        int64_t adjust = pc && e.kind == EntityKind::kFunction ? m_.PcAdjust(e, r.offset) : 0;
        return VerifyMergedConstant(t, ref.offset + adjust, denoted + r.addend + adjust, why);
      }
      if (e.kind == EntityKind::kFunction) {
        int64_t adjust = pc ? m_.PcAdjust(e, r.offset) : 0;
        table_starts_[ref.entity].insert(static_cast<uint64_t>(ref.offset + adjust));
      }
      std::string inner;
      if (VerifyAt(ref.entity, denoted + r.addend - ref.offset, &inner)) return true;
      *why = fmt::format("compiler data {} differs: {}", t.key, inner);
      return false;
    }
    default: {
      bool ambiguous = false;
      auto sym = syms_.Find(t.symbol, m_.file(), &ambiguous);
      int64_t delta = ref.offset - r.addend - static_cast<int64_t>(t.symbol_offset);
      if (sym && sym->value + delta == denoted) return true;
      // Several files of one basename (vmlinux's proc.c) or none known (a
      // kernel's symbol map): any local of that name may be the one.
      if (t.local && (!sym || ambiguous || sym->file.empty()))
        for (const elf::Symbol* l : syms_.Locals(t.symbol, m_.file()))
          if (l->value + delta == denoted) return true;
      if (!sym) {
        *why = fmt::format("'{}' is not in the target's symbol table", t.symbol);
        return false;
      }
      // A preemptible global of a shared library is called through its own PLT stub.
      if ((!t.local || sym->type == STT_GNU_IFUNC) && syms_.PltStub(t.symbol) == denoted) return true;
      if (ref.entity == layout_entity_ && e.kind != EntityKind::kFunction) {
        pending_labels_.push_back({m_.EntityOfSection(e.section), r.offset, pc, r.addend,
                                   static_cast<int64_t>(denoted - sym->value)});
        return true;
      }
      *why = fmt::format("reference to '{}' points to {:#x}, but the target has it at {:#x}", t.symbol,
                         denoted, sym->value);
      return false;
    }
  }
}

}  // namespace graft::userspace
