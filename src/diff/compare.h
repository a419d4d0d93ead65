// Decides whether an entity of the original object and its namesake in the
// patched object are the same: equal bytes outside relocation fields, and
// relocations that point at the same things (by name, or by content for
// string literals and compiler-made tables whose labels renumber).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "diff/object_model.h"

namespace graft::diff {

// When two versions of a function differ only in 32-bit immediate operands
// (same instructions and sizes, same relocations to the same things), the
// (original, patched) values in code order; nullopt otherwise. A fix that
// adds lines above a function changes nothing else in one that passes
// __LINE__ along (assertions, logging, accounting macros).
std::optional<std::vector<std::pair<int64_t, int64_t>>> ConstantOnlyChanges(const ObjectModel& a, int ea,
                                                                           const ObjectModel& b, int eb);

// "12 -> 14, 40 -> 42": the first four changes of ConstantOnlyChanges, for messages.
std::string FormatConstantChanges(const std::vector<std::pair<int64_t, int64_t>>& changes);

class EntityComparator {
 public:
  // `renamed`: numbered static locals paired by CorrelateRenamedLocals
  // (patched entity -> original); they are the same variable whatever their names.
  EntityComparator(const ObjectModel& orig, const ObjectModel& patched, const std::map<int, int>* renamed = nullptr)
      : a_(orig), b_(patched), renamed_(renamed) {
    if (renamed_)
      for (auto [p, o] : *renamed_) claimed_.insert(o);
  }
  // True when equal; otherwise *why says what differs first.
  bool Same(int ea, int eb, std::string* why = nullptr);

 private:
  bool SameReference(const Entity& in_a, const elf::Relocation& ra, const Entity& in_b,
                     const elf::Relocation& rb, std::string* why);
  // What an unmerged pool of literals and constants (.rodata at -O0 or with
  // -fno-merge-constants) holds from `offset` to the next offset anything
  // references, trailing zeros (NULs, padding) left out; nullopt for a
  // writable pool or one with relocations (tables), which compare whole.
  std::optional<std::vector<uint8_t>> PoolItemAt(const ObjectModel& m, int entity, int64_t offset);
  bool SameVariable(int ea, int eb) const;
  bool SameRawPlace(const Entity& in_a, const elf::Relocation& ra, const Entity& in_b, const elf::Relocation& rb);
  const ObjectModel& a_;
  const ObjectModel& b_;
  const std::map<int, int>* renamed_;
  std::set<int> claimed_;  // originals paired by renamed_
  std::set<std::pair<int, int>> assumed_;  // pairs under comparison: cycles count as equal
  std::map<std::pair<const ObjectModel*, int>, std::set<int64_t>> referenced_;  // offsets into pools
};

}  // namespace graft::diff
