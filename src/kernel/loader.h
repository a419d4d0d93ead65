// Loading and unloading kernel live patches through the upstream livepatch
// API: a patch is an ordinary module tagged livepatch=Y whose init calls
// klp_enable_patch(); the kernel then switches every task to the new
// functions one by one (the "transition", visible in sysfs) and unloading
// means disabling (the reverse transition) and then removing the module.
// graft checks the module against the running kernel before the kernel sees
// it, waits for the transition with a deadline and, when tasks cannot be
// switched in time, reverses it rather than leave the kernel half-patched.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "kernel/module_info.h"

namespace graft::kernel {

struct LoadOptions {
  double timeout_seconds = 60;  // for the transition; then it is reversed
  std::string records_dir;      // where to keep graft's record
  // Signature policy (src/trust): the module's FILE.sig must verify with a
  // key of `trust_store` (default: $GRAFT_KEYS_DIR or /etc/graft/keys);
  // unsigned modules only when allowed. Checked before anything else.
  bool allow_unsigned = false;
  std::string trust_store;
  std::string sys = "/sys";
  std::string proc = "/proc";
  // Called about once a second while a transition is running.
  std::function<void(const std::string& name, double elapsed)> progress;
};

struct LoadResult {
  ModuleInfo module;
  double transition_seconds = 0;
};

// The reasons graft refuses a module before loading it, or "" when it can be
// loaded into the kernel described by `release` and the sysfs under `sys`.
std::string WhyNotLoadable(const ModuleInfo& m, const std::string& release, const std::string& sys);

Result<LoadResult> LoadLivePatch(const std::string& path, const LoadOptions& opt);

struct UnloadResult {
  std::string name;
  double transition_seconds = 0;
};

Result<UnloadResult> UnloadLivePatch(const std::string& name, const LoadOptions& opt);

}  // namespace graft::kernel
