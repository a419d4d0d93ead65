// Module ids and offsets of shared libraries are chosen by ld.so at load time
// (and a library may even be in dynamic TLS), so they are never guessed: they
// come from a GOT slot of the target that ld.so filled for the same module.
#include "userspace/tls_binding.h"

#include <elf.h>

#include <cstring>

namespace graft::userspace {

using Kind = elf::TlsGotSlot::Kind;

std::optional<TlsBinder::Word> TlsBinder::ModuleId(const std::string& name, bool defined_here) const {
  if (const elf::TlsGotSlot* s = tls_.Slot(Kind::kModuleId, name)) return Word{0, s};
  if (!defined_here) return std::nullopt;
  if (tls_.main_executable()) return Word{1, nullptr};  // ld.so gives the program's block id 1
  if (const elf::TlsGotSlot* s = tls_.OwnSlot(Kind::kModuleId)) return Word{0, s};
  return std::nullopt;
}

uint32_t TlsBinder::Cell(const std::string& name, const std::vector<Word>& words) {
  std::string key = name;
  for (const Word& w : words) key += fmt::format(":{}:{}", w.constant, w.slot ? w.slot->slot : 0);
  auto it = cells_.find(key);
  if (it != cells_.end()) return it->second;
  bundle::Section s;
  s.name = "tls:" + name;
  s.kind = bundle::Section::Kind::kRodata;
  s.align = 16;
  s.bytes.assign(8 * words.size(), 0);
  s.size = s.bytes.size();
  for (size_t i = 0; i < words.size(); i++) {
    if (!words[i].slot) {
      std::memcpy(&s.bytes[8 * i], &words[i].constant, 8);
      continue;
    }
    bundle::Reloc r;
    r.offset = 8 * i;
    r.type = R_X86_64_64;
    r.kind = bundle::Reloc::Kind::kTargetWord;
    r.address = words[i].slot->slot;
    r.addend = static_cast<int64_t>(words[i].constant);
    r.symbol = name;
    s.relocs.push_back(r);
  }
  uint32_t idx = out_.sections.size();
  out_.sections.push_back(std::move(s));
  cells_[key] = idx;
  return idx;
}

Result<std::optional<bundle::Reloc>> TlsBinder::Bind(uint32_t section, const diff::PlanReloc& pr) {
  const diff::Referent& to = pr.to;
  std::string what = fmt::format("thread-local '{}' ({})", to.name, arch_.RelocName(pr.type));
  if (to.kind == diff::Referent::Kind::kCopied)
    return Err("{}: a thread-local reference to a copied section; graft only binds existing variables", what);
  bool ambiguous = false;
  auto sym = to.local ? syms_.Find(to.name, to.file, &ambiguous) : syms_.FindGlobal(to.name);
  if (sym && ambiguous)
    return Err("{}: several static thread-local '{}' exist in files named {} in {}", what, to.name, to.file, target_);
  bool here = sym && sym->type == STT_TLS;
  if (sym && !here)
    return Err("{}: {} has '{}', but not as a thread-local variable", what, target_, to.name);
  if (!here && to.kind == diff::Referent::Kind::kExisting)
    return Err("{}: not in {}'s symbol table; the target is stripped or was built from other sources", what,
               target_);
  uint64_t off = here ? sym->value : 0;  // linked TLS symbols hold their offset in the module's block
  std::vector<Word> cell;
  switch (arch_.TlsAccessOf(pr.type)) {
    case arch::TlsAccess::kLocalExec:
    case arch::TlsAccess::kModuleOffset: {
      bool local_exec = arch_.TlsAccessOf(pr.type) == arch::TlsAccess::kLocalExec;
      if (!here || (local_exec && !tls_.main_executable()))
        return Err("{}: {} access needs the variable in the program's own block, but {} {}; compile the patch "
                   "with the flags the target was built with (-fPIC for a shared library)", what,
                   local_exec ? "a local-exec" : "a local-dynamic", target_,
                   here ? "is a shared library" : "does not define it");
      int64_t value = local_exec ? tls_.ExecutableTpOffset(off) : static_cast<int64_t>(off);
      bundle::Section& s = out_.sections[section];
      if (pr.offset + arch_.FieldSize(pr.type) > s.bytes.size())
        return Err("{}: relocation at +{:#x} lies outside {}", what, pr.offset, s.name);
      GRAFT_TRY(arch_.Apply(pr.type, &s.bytes[pr.offset], 0, value, pr.addend));
      return std::optional<bundle::Reloc>();
    }
    case arch::TlsAccess::kInitialExec:
      if (here && tls_.main_executable()) {
        cell.push_back({static_cast<uint64_t>(tls_.ExecutableTpOffset(off)), nullptr});
      } else if (const elf::TlsGotSlot* s = tls_.Slot(Kind::kTpOffset, to.name);
                 s && (!here || s->block_offset == static_cast<int64_t>(off))) {
        cell.push_back({0, s});
      } else if (const elf::TlsGotSlot* own = here ? tls_.OwnSlot(Kind::kTpOffset) : nullptr) {
        // Every variable of a block sits at a fixed distance from the one ld.so placed for us.
        cell.push_back({off - static_cast<uint64_t>(own->block_offset), own});
      } else {
        return Err("{}: {} holds no initial-exec offset {}; its static TLS offset is known only to the "
                   "dynamic linker. Compile the patch with the TLS model the target uses", what, target_,
                   here ? "for its thread-local block" : "for that variable of another library");
      }
      break;
    case arch::TlsAccess::kGeneralDynamic:
    case arch::TlsAccess::kLocalDynamic: {
      bool general = arch_.TlsAccessOf(pr.type) == arch::TlsAccess::kGeneralDynamic;
      const elf::TlsGotSlot* pair_off = general ? tls_.Slot(Kind::kModuleOffset, to.name) : nullptr;
      const elf::TlsGotSlot* pair_mod = general ? tls_.Slot(Kind::kModuleId, to.name) : nullptr;
      if (pair_off && pair_mod) {  // the pair ld.so resolved, interposition included
        cell = {{0, pair_mod}, {0, pair_off}};
        break;
      }
      auto module = here ? ModuleId(general ? to.name : "", true) : std::nullopt;
      if (!module)
        return Err("{}: {} {}; the module id ld.so gave it is unknown. Compile the patch with the TLS model "
                   "the target uses", what, target_,
                   here ? "has no GOT slot with its module id" : "never reached that variable of another library");
      cell = {*module, {general ? off : 0, nullptr}};
      break;
    }
    default:
      return Err("{}: this thread-local access is not supported; compile with -mtls-dialect=gnu", what);
  }
  bundle::Reloc r;
  r.offset = pr.offset;
  r.type = R_X86_64_PC32;
  r.addend = pr.addend;
  r.kind = bundle::Reloc::Kind::kSection;
  r.section = Cell(to.name, cell);
  r.symbol = out_.sections[r.section].name;
  return std::optional<bundle::Reloc>(r);
}

}  // namespace graft::userspace
