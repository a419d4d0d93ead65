// The host's whole picture in one place, for `graft status` and for a fleet
// server reading `graft status --json`: kernel live patches (loaded and
// installed), the installed user-space bundles, and for each bundle every
// process that maps its target (by build-id) with whether the patch is
// applied there or still missing; patches applied by hand that are not
// installed; and the CVEs live patches fix right now.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "host/bundle_store.h"
#include "kernel/live_state.h"
#include "userspace/build_id_cache.h"
#include "userspace/live_inventory.h"

namespace graft::host {

struct ProcessPatchState {
  pid_t pid = 0;
  std::string process;  // comm
  std::string bundle;   // installed bundle id
  // "applied"; "applied-newer" (a later level that supersedes it runs);
  // "missing" (maps the target, no patch); "partial" (mapped, not switched).
  std::string state;
  std::string by;  // for applied-newer: the patch that runs
};

struct HostStatus {
  kernel::KernelStatus kernel;
  std::string kernel_error;  // when the kernel's state could not be read
  std::vector<InstalledBundle> bundles;
  std::vector<ProcessPatchState> processes;
  std::vector<userspace::LivePatch> not_installed;  // applied by hand, not in the store
  std::vector<std::string> live_cves;  // fixed now by an active kernel patch or a patch in every mapping process
};

// `only`: look at these processes only (graftd asking about one new
// process: the kernel part is then left empty); empty: every process.
// `cache`: where the processes' mapped files are parsed (shared with the
// applies that follow); null: a private one.
HostStatus ReadHostStatus(const std::string& store, const std::string& kernel_records, bool allow_unsigned,
                          const std::set<pid_t>& only = {}, userspace::BuildIdCache* cache = nullptr);

}  // namespace graft::host
