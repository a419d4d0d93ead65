// Brings running processes up to the installed bundles: for each installed
// bundle that should be active (EffectiveBundles) and each process mapping
// its target where neither it nor a later level runs, an apply with the
// usual safety (a detached worker, busy threads waited for, everything
// undone when interrupted). Used by `graft apply-installed` and by graftd
// for the processes that start after a patch was installed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "userspace/build_id_cache.h"

namespace graft::host {

struct ApplyInstalledOptions {
  std::string store;
  std::string kernel_records;
  std::set<pid_t> only;       // empty: every process
  double timeout_seconds = 10;
  bool allow_unsigned = false;
  std::function<bool()> cancelled;
  // Held around each apply (graftd serves new processes while a full pass
  // runs); under it the process is read again, so that a patch another pass
  // applied meanwhile is not applied twice.
  std::mutex* apply_lock = nullptr;
  // Parsed files and gadget places kept across calls (graftd keeps one for
  // its lifetime); null: one for this call.
  userspace::BuildIdCache* cache = nullptr;
};

struct ApplyInstalledResult {
  std::vector<std::string> applied;  // one line per (process, bundle)
  std::vector<Error> failed;
};

ApplyInstalledResult ApplyInstalled(const ApplyInstalledOptions& opt);

// The build-ids of the installed bundles that should be active, one per line:
// what the start-up agent compares a new process's objects with, so that it
// asks graftd only when the process maps a patched target.
Status WriteAgentIndex(const std::string& store, bool allow_unsigned, const std::string& path);

}  // namespace graft::host
