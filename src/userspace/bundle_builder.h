// Object-level bundle building: the diff engine, run-pre verification against
// the target ELF and the bundle writer chained together. `graft build --orig
// ... --patched ...` calls this directly; source-tree builds call it after
// compiling the original and the patched tree.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace graft::userspace {

struct BundleRequest {
  std::vector<std::string> original_objects;  // compiled with -ffunction-sections -fdata-sections
  std::vector<std::string> patched_objects;   // same order: patched_objects[i] is the fix of original_objects[i]
  std::string target;                         // ELF executable or shared library that runs
  std::string output;                         // bundle path to write
  std::string id;                             // patch id; derived from output's name when empty
  std::vector<std::string> cves;
  std::vector<std::string> supersedes;  // earlier patches (ids) this one replaces in one switch
  std::string description;
  // Types ("struct foo") whose layout the fix may change: the operator knows
  // no object of that type outlives the patch (stack-only, or rebuilt).
  std::vector<std::string> allowed_layout_changes;
  // Patch a target that unwinds C++ exceptions although the new code has no
  // unwind tables (the operator knows no exception crosses it).
  bool allow_unwind_gap = false;
  // Functions left out of the patch although they changed: only constants
  // (line numbers) differ in them. Others named here are refused.
  std::vector<std::string> ignored_functions;
  // For a stripped target: the file its symbols come from (--symbols), else
  // these candidates (binaries a source build linked) after the debug file.
  std::string symbols;
  std::vector<std::string> symbol_candidates;
};

struct BuildSummary {
  std::string id;
  std::string target_build_id;             // hex GNU build-id of the target
  std::vector<std::string> replaced;       // functions whose code changed
  std::vector<std::string> added;          // new functions
  std::vector<std::string> new_data;       // new globals / literals carried by the bundle
  std::vector<std::string> constants_only; // replaced functions where only constants differ: "name (a -> b, ...)"
  std::vector<std::string> ignored;        // left out on request, with their constant changes
  std::vector<std::string> notes;          // checks that could not run, and why
  std::string symbol_source;               // for a stripped target: where its symbols came from
  bool unwind_tables = false;              // the new code's frame descriptions travel with it
  size_t code_bytes = 0;
};

// Refuses (Error naming symbol and reason) whatever cannot be patched safely.
Result<BuildSummary> BuildBundle(const BundleRequest& request);

}  // namespace graft::userspace
