// `graft kernel build --source TREE --diff FIX`: a kernel live patch from a
// kernel source tree (the running kernel's: Debian's linux-source package,
// or a git checkout of the same version) and the fix. Only what the fix
// touches is compiled: each changed file's directory is copied twice, the
// fix applied to one copy, and the changed files compiled in both by the
// kernel's own kbuild (the installed headers package: the running kernel's
// configuration and flags) with the directory's real Makefile, so each file
// gets the flags it has in the kernel: built-in or part of a module, and
// which module. The object pairs then go to BuildKernelLivePatch.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "kernel/module_builder.h"

namespace graft::kernel {

struct KernelSourceRequest {
  std::string source_dir;
  std::vector<std::string> diffs;  // applied in order (patch -p1, else -p0)
  KernelBuildRequest build;        // output, name, CVEs, release, headers, symbol map, module file, work dir
};

// The files a unified diff changes, relative to the tree (by its "+++" and
// "---" lines, with the a/ b/ prefixes of -p1 diffs removed when the tree has
// no such directory). New and deleted files are reported as errors.
Result<std::vector<std::string>> ChangedFiles(const std::string& diff, const std::string& tree);

Result<KernelBuildSummary> BuildKernelLivePatchFromSource(const KernelSourceRequest& req);

}  // namespace graft::kernel
