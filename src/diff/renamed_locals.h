// GCC numbers function-local statics (`__key.254`, `__func__.65`,
// `__already_done.12`, `__warned.3`) in the order it emits them, so one line
// added anywhere in a file renumbers every one after it. Keys alone (names,
// suffix dropped only where that stays unique) then pair the wrong variables
// or none, and every untouched function that mentions one looks changed.
// This pairs them up again by what they are: the same name without the
// suffix, the same kind and size, and then who refers to them (the n-th such
// variable a function mentions is the same variable in both builds) or, for
// the rest, the same contents.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "diff/object_model.h"

namespace graft::diff {

// "calls.0" -> "calls"; "foo.cold" stays; "CSWTCH.7" -> "CSWTCH".
std::string StripNumericSuffix(const std::string& name);

// One numbered static local of one build, as the matcher sees it.
struct LocalCandidate {
  std::string stripped;  // name without the numeric suffix
  EntityKind kind = EntityKind::kData;
  uint64_t size = 0;
  std::vector<uint8_t> content;  // section bytes (empty for .bss)
  // (key of a referring entity, ordinal among that entity's references to
  // variables of the same stripped name, in code order).
  std::set<std::pair<std::string, int>> anchors;
};

// Pairs (index into orig, index into patched). A pair shares stripped name,
// kind and size, and either an anchor (exactly one candidate on each side
// shares it) or, among what is left, contents no other candidate of that
// name has. Candidates left over have no counterpart (new, or removed).
std::vector<std::pair<int, int>> MatchRenamedLocals(const std::vector<LocalCandidate>& orig,
                                                    const std::vector<LocalCandidate>& patched);

// The numbered locals of `m` whose key did not pair by name (entity indexes).
// Keys pair by name when the suffix-less name is unique in both builds.
// Returns patched entity -> original entity.
std::map<int, int> CorrelateRenamedLocals(const ObjectModel& orig, const ObjectModel& patched);

}  // namespace graft::diff
