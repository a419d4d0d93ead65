// Run-pre verification at build time: the original object's code, relocated
// to where the target has it, must be byte-identical to the target's code.
// That proves the patch was built from the code that runs, so the new code's
// assumptions (struct layouts, callee behaviour) hold.
#pragma once

#include <set>
#include <string>

#include "diff/object_model.h"
#include "elf/target_symbols.h"

namespace graft::userspace {

class RunPreVerifier {
 public:
  RunPreVerifier(const diff::ObjectModel& original, const elf::ObjectFile& target,
                 const elf::TargetSymbols& symbols)
      : m_(original), target_(target), syms_(symbols) {}

  // Verifies `entity` of the original object placed at link-time `address`
  // of the target; *why says what differs.
  bool VerifyAt(int entity, uint64_t address, std::string* why);

 private:
  bool VerifyReference(const diff::Entity& e, const elf::Relocation& r, uint64_t denoted, bool got,
                       std::string* why);
  const diff::ObjectModel& m_;
  const elf::ObjectFile& target_;
  const elf::TargetSymbols& syms_;
  std::set<std::pair<int, uint64_t>> verified_;
};

}  // namespace graft::userspace
