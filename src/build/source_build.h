// Source-tree builds: `graft build --source DIR --diff FIX.patch --target ELF`.
// Copies DIR, builds it through a compiler wrapper that adds
// -ffunction-sections -fdata-sections and records every compilation, applies
// the diffs, rebuilds what changed and hands the object pairs to
// userspace::BuildBundle.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "userspace/bundle_builder.h"

namespace graft::build {

struct SourceBuildRequest {
  std::string source_dir;             // left untouched; work happens on a copy
  std::vector<std::string> diffs;     // applied in order with patch -p1 (or -p0 when that fits)
  std::string target;                 // running ELF the patch is for
  std::string build_command = "make"; // run in the copy's top directory
  std::string work_dir;               // where the copy lives; a fresh temp dir when empty
  std::string output;
  std::string id;
  std::vector<std::string> cves;
  std::string description;
  bool verbose = false;               // progress lines on stderr
};

Result<userspace::BuildSummary> BuildFromSource(const SourceBuildRequest& request);

}  // namespace graft::build
