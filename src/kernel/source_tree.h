// The two kernel source trees a fix is built from and kbuild's view of them.
// The original is the running kernel's whole source tree, used read-only (a
// cache graft extracted, or the user's); the fixed tree is a copy-on-write
// overlay of it: real directories along the paths of the changed files,
// symlinks to the original for everything else, and real copies of the
// changed files with the fix applied. Each tree gets its own object tree, a
// copy of the headers package (the running kernel's .config, generated
// headers and Module.symvers) whose Makefile points at that source tree, so
// kbuild compiles a file exactly as the kernel's own build did: every
// directory of the tree reachable (../bridge/br_private.h, libxfs/), the
// directory's real Makefile and flags, __FILE__ relative to the tree.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

// "6.1.192" from a tree's top Makefile (VERSION, PATCHLEVEL, SUBLEVEL).
Result<std::string> TreeVersion(const std::string& tree);

// Makes `fixed` an overlay of `orig` in which `files` (relative) are real copies.
Status MakeOverlay(const std::string& orig, const std::string& fixed, const std::vector<std::string>& files);

// Makes `objtree` a kbuild object tree for `srctree` from the headers package
// `headers` (Debian's /usr/src/linux-headers-<release>, whose Makefile only
// includes the common tree's).
Status MakeObjectTree(const std::string& headers, const std::string& srctree, const std::string& objtree);

// The directory whose Makefile (or Kbuild) builds `file` (the nearest
// ancestor that has one: fs/xfs for fs/xfs/libxfs/xfs_alloc.c), relative.
std::string KbuildDirectory(const std::string& tree, const std::string& file);

// What a kbuild-compiled object belongs to: "" (vmlinux) or the module's
// name, from the flags kbuild recorded in its .cmd file.
Result<std::string> ObjectOwner(const std::string& object);

}  // namespace graft::kernel
