// The result of diffing original and patched objects, independent of where it
// will run: the code and data to carry, each relocation tied to something
// copied, something that already exists in the target (by name), or a symbol
// from another library. User-space bundles and kernel modules both start here.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "diff/object_model.h"

namespace graft::diff {

struct Referent {
  // kRaw: a place in out-of-line code or a descriptor of a kernel table that
  // belongs to the referring function (static_cpu_has()'s fallback in
  // .altinstr_aux, a pr_debug() descriptor in __dyndbg); the kernel back end
  // carries it, user space has none.
  enum class Kind { kCopied, kExisting, kExternal, kRaw };
  Kind kind = Kind::kExisting;
  uint32_t section = 0;  // kCopied: index into PatchPlan::sections; kRaw: section of patched[pair]
  int64_t place = 0;     // kRaw: where the reference points, as the code means it (after PC adjustment)
  std::string name;      // kExisting / kExternal: symbol name as the target knows it
  std::string file;      // kExisting locals: source file of the static
  bool local = false;
  bool function = false;
  // kExisting function that the patch replaces: calls may go straight to the
  // new copy (`replacement`) while address-of keeps the old address.
  int replacement = -1;
};

struct PlanReloc {
  uint64_t offset = 0;
  uint32_t type = 0;
  int64_t addend = 0;  // relative to the referent's start
  Referent to;
};

struct PlanSection {
  enum class Kind { kText, kRodata, kData, kBss };
  std::string name;  // function or object name, or the compiler's section name
  Kind kind = Kind::kText;
  uint64_t align = 1;
  uint64_t size = 0;
  std::vector<uint8_t> bytes;  // empty for kBss
  std::vector<PlanReloc> relocs;
  // Where it was copied from: section index in patched[pair] (0: made by
  // graft). The kernel back end finds the copy's ORC and exception entries by it.
  size_t pair = 0;
  uint32_t source_section = 0;
};

struct PlanFunction {
  std::string name;
  std::string file;
  bool local = false;
  uint32_t section = 0;  // the new code
  size_t pair = 0;       // index into PatchPlan::originals / patched (sorted by path)
  int orig_entity = -1;  // in originals[pair]; run-pre checks it against the target
  // Set when only 32-bit constants differ (original, patched): often __LINE__
  // moved by lines the fix added above the function.
  std::vector<std::pair<int64_t, int64_t>> constants_only;
};

struct PatchPlan {
  std::vector<PlanSection> sections;
  std::vector<PlanFunction> replaced;  // by object path, then name
  std::vector<std::string> added;     // new functions
  std::vector<std::string> new_data;  // new variables and copied constants/literals
  std::vector<std::string> ignored;   // changed only in constants, left out on request
  // The frame descriptions of the copied functions (an .eh_frame section,
  // zero-terminated) and 64 bytes of zeroed data the unwinder's registration
  // keeps its bookkeeping in; -1 when no copied function has one.
  int eh_frame_section = -1;
  int unwind_object_section = -1;
  std::vector<std::unique_ptr<ObjectModel>> originals;
  std::vector<std::unique_ptr<ObjectModel>> patched;
};

struct ObjectPair {
  const elf::ObjectFile* original;
  const elf::ObjectFile* patched;
};

// Diffs each pair and closes over what the changed code references. Refuses,
// naming the symbol, object and reason, whatever cannot be patched safely.
// `ignore` names functions the operator leaves out because only constants
// (line numbers) changed in them; one that changed otherwise is refused.
// `ignore_any` names functions the fix's author marked to keep their
// original code whatever changed in them (a kernel fix's
// GRAFT_IGNORE_FUNCTION: changed only through an inlined callee).
// The plan does not depend on the order of `pairs` (they are taken by path).
Result<PatchPlan> MakePatchPlan(const std::vector<ObjectPair>& pairs, const arch::Arch& arch,
                                const std::set<std::string>& ignore = {},
                                const std::set<std::string>& ignore_any = {});

}  // namespace graft::diff
