#include "kernel/symbol_position.h"

#include <algorithm>
#include <filesystem>
#include <iterator>

namespace graft::kernel {

namespace {

std::string Base(const std::string& f) { return std::filesystem::path(f).filename().string(); }

}  // namespace

Result<int> PickPosition(const std::vector<SymbolCandidate>& candidates, const PositionQuery& q) {
  if (candidates.size() == 1) return 0;
  if (candidates.empty()) return Err("'{}' is not a symbol of {}", q.name, q.object);
  std::vector<size_t> left;
  for (size_t i = 0; i < candidates.size(); i++) left.push_back(i);
  // Keeps the candidates `pred` accepts; strong evidence (the file) may rule
  // all out, weak evidence (size, code) is ignored when it would.
  auto narrow = [&](auto pred, bool strong) {
    std::vector<size_t> keep;
    for (size_t i : left)
      if (pred(candidates[i])) keep.push_back(i);
    if (!keep.empty() || strong) left = keep;
  };
  std::vector<std::string> used;
  bool any_file = false;
  for (const auto& c : candidates) any_file |= c.attributed;
  if (!q.local) {
    // A global: kallsyms also lists statics of the same name (lower-case types).
    narrow([](const SymbolCandidate& c) { return !c.local; }, false);
  } else {
    if (any_file && !q.file.empty()) {
      narrow([&](const SymbolCandidate& c) { return !c.attributed || Base(c.file) == Base(q.file); }, true);
      used.push_back("file " + Base(q.file));
      if (left.empty())
        return Err("none of the {} symbols '{}' of {} comes from a file named {}: the objects were not built from "
                   "this kernel's sources", candidates.size(), q.name, q.object, Base(q.file));
    }
    if (left.size() > 1 && !q.neighbours.empty() && any_file) {
      // The candidate whose file shares the most other statics with the
      // original object's file.
      auto shared = [&](const SymbolCandidate& c) {
        std::vector<std::string> both;
        std::set_intersection(c.neighbours.begin(), c.neighbours.end(), q.neighbours.begin(), q.neighbours.end(),
                              std::back_inserter(both));
        return both.size();
      };
      size_t best = 0;
      for (size_t i : left) best = std::max(best, shared(candidates[i]));
      if (best > 0) narrow([&](const SymbolCandidate& c) { return shared(c) == best; }, false);
      used.push_back("neighbouring statics");
    }
    if (left.size() > 1 && q.size && any_file) {
      narrow([&](const SymbolCandidate& c) { return c.attributed && c.size == q.size; }, false);
      used.push_back("size");
    }
  }
  if (left.size() > 1 && q.same_code) {
    bool any = std::any_of(left.begin(), left.end(), [&](size_t i) { return q.same_code(candidates[i].address); });
    narrow([&](const SymbolCandidate& c) { return q.same_code(c.address); }, false);
    used.push_back("code");
    // Several copies run the original's very code (an inline helper's clone
    // in several files): calling any of them does the same; replacing one
    // would miss the others' callers, so this is for references only.
    if (left.size() > 1 && any && q.reference) return static_cast<int>(left[0]) + 1;
  }
  if (left.size() == 1) return static_cast<int>(left[0]) + 1;
  std::string positions;
  for (size_t i : left) positions += (positions.empty() ? "" : ", ") + std::to_string(i + 1);
  if (!any_file)
    return Err("'{}' is defined {} times in {} and the symbol map cannot tell which one {} means (positions {}): {}",
               q.name, candidates.size(), q.object, q.file.empty() ? "the patch" : q.file, positions,
               q.without_files_hint.empty() ? "patching it needs a symbol table with file names" : q.without_files_hint);
  return Err("'{}' is defined {} times in {}; positions {} are alike by {}, so graft cannot tell which one {} means "
             "(when neither size nor code matches, the objects are not of this kernel)",
             q.name, candidates.size(), q.object, positions, fmt::join(used, ", "),
             q.file.empty() ? "the patch" : q.file);
}

}  // namespace graft::kernel
