// Run-pre verification at build time: the original object's code, relocated
// to where the target has it, must be the target's code: byte-identical, or
// the same instructions where only branch encodings and padding differ (what
// an assembler does differently without -ffunction-sections). That proves the
// patch was built from the code that runs, so the new code's assumptions
// (struct layouts, callee behaviour) hold.
#pragma once

#include <map>
#include <set>
#include <span>
#include <vector>
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

  // Verifies function `entity` against `size` bytes at `address` instruction
  // by instruction: the assembler of a build without -ffunction-sections may
  // pick other branch encodings (rel8 against rel32) and other padding, which
  // shifts the code. Accepted when every instruction matches, every branch
  // lands on the corresponding instruction, and every reference (including
  // jump-table entries into the function) denotes the same thing.
  bool VerifyLayout(int entity, uint64_t address, uint64_t size, std::string* why);

 private:
  // Checks one relocated field: `object` and `linked` are the instruction (or
  // data) bytes from the field's instruction start, `off` the field's offset
  // in them and `P` its address in the target.
  bool VerifyField(const diff::Entity& e, const elf::Relocation& r, std::span<const uint8_t> object,
                   std::span<const uint8_t> linked, uint64_t off, uint64_t P, std::vector<bool>* masked,
                   std::string* why);
  bool VerifyReference(const diff::Entity& e, const elf::Relocation& r, uint64_t denoted, bool got,
                       std::string* why);
  // The one entry of mergeable constant section `t` at `offset`, as the
  // target has it at `address`.
  bool VerifyMergedConstant(const diff::Entity& t, int64_t offset, uint64_t address, std::string* why);

  // A reference into a function whose layout is being matched: checked once
  // the function's instruction map is complete.
  struct LabelRef {
    int table;         // entity holding the reference (a jump table)
    uint64_t field;    // its offset in that entity's section
    bool pc;           // PC-relative entry (relative to the table's start)
    int64_t addend;
    int64_t shift;     // where the target has the label, minus where the object has it
  };
  int layout_entity_ = -1;
  std::vector<LabelRef> pending_labels_;
  std::map<int, std::set<uint64_t>> table_starts_;  // entity -> offsets code points it at
  const diff::ObjectModel& m_;
  const elf::ObjectFile& target_;
  const elf::TargetSymbols& syms_;
  std::set<std::pair<int, uint64_t>> verified_;
};

}  // namespace graft::userspace
