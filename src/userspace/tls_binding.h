// Thread-local references of patch code, bound to the running program's own
// TLS: a local-exec or module offset becomes the constant the target's linker
// would have written; initial-exec and dynamic accesses read a cell of the
// bundle that holds the thread-pointer offset or the {module id, offset} pair
// for __tls_get_addr, filled from the target's layout or from the GOT slots
// ld.so filled in the process. A new thread-local variable is refused earlier
// (diff/plan_builder.cc): existing threads would have no storage for it.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "arch/arch.h"
#include "bundle/bundle.h"
#include "diff/plan.h"
#include "elf/target_symbols.h"
#include "elf/target_tls.h"

namespace graft::userspace {

class TlsBinder {
 public:
  TlsBinder(const std::string& target_path, const elf::TargetSymbols& syms, const elf::TargetTls& tls,
            const arch::Arch& arch, bundle::Bundle& out)
      : target_(target_path), syms_(syms), tls_(tls), arch_(arch), out_(out) {}

  // For a relocation whose type is thread-local: writes the field of
  // out.sections[section] in place and returns nullopt, or returns the
  // relocation that points the instruction at a cell of the bundle.
  Result<std::optional<bundle::Reloc>> Bind(uint32_t section, const diff::PlanReloc& pr);

 private:
  struct Word {
    uint64_t constant = 0;
    const elf::TlsGotSlot* slot = nullptr;  // read in the process; the constant is added
  };
  uint32_t Cell(const std::string& name, const std::vector<Word>& words);
  std::optional<Word> ModuleId(const std::string& name, bool defined_here) const;

  std::string target_;
  const elf::TargetSymbols& syms_;
  const elf::TargetTls& tls_;
  const arch::Arch& arch_;
  bundle::Bundle& out_;
  std::map<std::string, uint32_t> cells_;
};

}  // namespace graft::userspace
