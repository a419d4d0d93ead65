// Source-tree builds: `graft build --source DIR --diff FIX.patch --target ELF`.
// Copies DIR (the user's tree stays untouched), builds the copy through the
// compiler wrapper, applies the diffs, rebuilds what changed and hands each
// (original, patched) object pair to userspace::BuildBundle, whose run-pre
// check proves the rebuilt original reproduces the running target.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "userspace/bundle_builder.h"

namespace graft::build {

struct SourceBuildRequest {
  std::string source_dir;
  std::vector<std::string> diffs;      // applied in order (patch -p1, else -p0)
  std::string build_command = "make";  // run with sh -c in the copy's top directory
  std::string work_dir;                // kept when given; a temporary one is removed
  userspace::BundleRequest bundle;     // target, output, id, cves, description
  bool quiet = false;                  // no progress lines on stderr
  std::string compiler;                // C compiler the wrapper runs (gcc-11); empty: see ChooseCompiler
};

Result<userspace::BuildSummary> BuildFromSource(const SourceBuildRequest& request);

}  // namespace graft::build
