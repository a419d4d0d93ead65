// Which user-space live patches are in effect on this host, read from the
// processes themselves: what `graft list` shows and `graft scan` counts.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "userspace/patch_record.h"

namespace graft::userspace {

// Processes that map at least one graft patch.
std::vector<pid_t> ProcessesWithPatches();

struct LivePatch {
  pid_t pid = 0;
  std::string process;  // comm
  AppliedPatch patch;
};

// Every patch in every process (unreadable processes are skipped).
std::vector<LivePatch> AllLivePatches();

}  // namespace graft::userspace
