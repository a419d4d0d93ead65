// The running kernel's live patches, read where the upstream livepatch core
// publishes them: /sys/kernel/livepatch/<patch>/{enabled,transition} and one
// directory per patched object (vmlinux or a module) holding one directory
// per replaced function ("<name>,<sympos>"). sysfs is the truth; graft's own
// records (kernel/records.h) and the modules' declarations only add which
// CVEs each patch fixes.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

struct PatchedFunction {
  std::string name;
  int sympos = 0;  // 0 or 1: the only symbol of that name; n: the n-th
};

struct PatchedObject {
  std::string name;      // "vmlinux" or a module name
  bool patched = false;  // the object is loaded and its functions redirected
  std::vector<PatchedFunction> functions;
};

struct KernelLivePatch {
  std::string name;
  bool enabled = false;
  bool transition = false;  // tasks are still being switched (to or from it)
  bool replace = false;     // cumulative: replaces every earlier patch (sysfs where the kernel says, else graft's record)
  std::vector<std::string> replaced;  // the patches it replaced when graft loaded it
  std::string replaced_by;  // a replaced patch whose module is still loaded: the cumulative patch that replaced it
  std::vector<PatchedObject> objects;
  std::vector<std::string> cves;
  std::string cves_from;  // "graft record", "module parameter", "module file", or "" (none declared)
  std::string module_path;
  std::string loaded_at;  // from graft's record, UTC ISO 8601
  bool loaded_by_graft = false;

  // "active" (enabled, switched), "patching", "unpatching", "disabled",
  // "replaced" (a cumulative patch took over; only the module is left).
  std::string State() const;
};

struct KernelStatus {
  std::string release;              // uname -r
  bool livepatch_supported = false;  // /sys/kernel/livepatch exists
  bool tainted_livepatch = false;    // taint flag K: a live patch was loaded since boot
  std::vector<KernelLivePatch> patches;
  // Installed to be loaded at boot for this release (graft kernel install).
  struct Installed {
    std::string name, path;
    bool loaded = false;
  };
  std::vector<Installed> installed;
};

// First line of a sysfs/procfs attribute without the newline; "" if absent.
std::string ReadAttribute(const std::string& path);

// Reads sysfs under `sys` (normally "/sys") and the taint flags from
// `proc` (normally "/proc"); patch metadata from `records_dir`.
Result<KernelStatus> ReadKernelStatus(const std::string& sys = "/sys", const std::string& proc = "/proc",
                                      const std::string& records_dir = "");

}  // namespace graft::kernel
