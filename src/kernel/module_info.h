// What a kernel module file says about itself: the key=value strings of its
// .modinfo section (what modinfo(8) prints). graft reads a live patch's
// name, the kernel it was built for (vermagic), the livepatch=Y tag the
// kernel requires, and the CVEs it declares (cve= tags, repeatable; each may
// hold several IDs separated by commas or spaces).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

struct ModuleInfo {
  std::string path;
  std::string name;         // name=, else the file name without .ko
  std::string vermagic;     // "6.1.0-56-amd64 SMP preempt mod_unload modversions "
  std::string description;
  std::string version;      // MODULE_VERSION, if any
  bool livepatch = false;   // livepatch=Y
  bool replace = false;     // graft_replace=Y: cumulative, replaces every earlier live patch
  std::string callbacks;    // graft_callbacks=: the livepatch callbacks it has ("pre_patch,post_patch")
  std::vector<std::string> cves;
  std::vector<std::pair<std::string, std::string>> fields;  // every key=value, in file order

  // The kernel release vermagic names (its first word).
  std::string KernelRelease() const;
};

Result<ModuleInfo> ReadModuleInfo(const std::string& path);

// The installed file of module `name` (dashes and underscores alike) for
// kernel `release`, from /lib/modules/<release>/modules.dep; "" if none.
std::string InstalledModuleFile(const std::string& release, const std::string& name);

// CVE IDs in a free-form list ("CVE-1, CVE-2 CVE-3"), upper-cased, in order,
// without repeats; anything that is not CVE-YYYY-NNNN... is an error naming it.
Result<std::vector<std::string>> ParseCveList(const std::string& text);

}  // namespace graft::kernel
