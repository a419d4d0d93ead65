// Struct and union layouts from an object's DWARF. A fix that adds, moves or
// resizes a member changes what the new code expects of objects the running
// program already holds (a parser allocated before the patch is read with the
// new offsets), and no code comparison sees that. Builds compiled with -g let
// graft compare the layouts and refuse such a patch by type and member.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace graft::diff {

struct TypeLayout {
  uint64_t size = 0;
  // "name@offset:type(size)" per member, in declaration order.
  std::vector<std::string> members;
  bool operator==(const TypeLayout&) const = default;
};

// Keyed "struct NAME", "union NAME", or "typedef NAME" for anonymous ones.
// An object without debug information yields an empty map and, when asked,
// *has_dwarf = false.
Result<std::map<std::string, TypeLayout>> ReadTypeLayouts(const std::string& object_path, bool* has_dwarf = nullptr);

// One line per type defined in both whose layout differs, saying how.
std::vector<std::string> LayoutChanges(const std::map<std::string, TypeLayout>& before,
                                       const std::map<std::string, TypeLayout>& after);

// Compares the layouts of each (original, patched) object pair. A changed
// type not in `allowed` refuses the patch, the message naming every such type
// and what holds objects of it (`holder`: "the running program", "the running
// kernel"). Returns notes for pairs without debug information.
Result<std::vector<std::string>> CheckLayoutChanges(const std::vector<std::pair<std::string, std::string>>& objects,
                                                    const std::vector<std::string>& allowed, const std::string& holder);

}  // namespace graft::diff
