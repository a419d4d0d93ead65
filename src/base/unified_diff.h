// What a unified diff (diff -u, git diff, quilt) changes, read the way patch
// reads it: file headers ("---"/"+++", git's "diff --git" extended lines)
// outside hunks, hunks skipped by their line counts so that a removed line
// starting with "-- " is never taken for a header. Used to find the files a
// fix touches and the -p level that applies it to a tree.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace graft {

struct FileChange {
  std::string old_path, new_path;  // as written, timestamps removed ("a/fs/x.c", "/dev/null")
  bool created = false, deleted = false, renamed = false, binary = false;
};

Result<std::vector<FileChange>> ReadUnifiedDiff(const std::string& path);

// `path` without its first `strip` components (patch -pN), "" if it has fewer.
std::string StripComponents(const std::string& path, int strip);

// The -p level (1, else 0) at which every changed file of `changes` exists
// under `tree`, and the files relative to the tree. Errors name the file that
// is missing and the diff, or the created/deleted/renamed/binary change
// `what` (e.g. "a live patch") cannot take.
struct TreeChanges {
  int strip = 1;
  std::vector<std::string> files;
};
Result<TreeChanges> ChangesInTree(const std::string& diff, const std::string& tree, const std::string& what);

}  // namespace graft
