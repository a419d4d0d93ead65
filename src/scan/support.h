// Whether the running kernel still receives live patches. The policy is the
// advisory source's: a kernel release is covered for `window_months` after
// it was released and while it is one of the `latest_kernels` newest
// releases (the seed's: 3 months, 6 kernels; vendors with longer windows set
// their own). Release dates come from the advisories that shipped each kernel.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "advisory/advisory.h"
#include "scan/inventory.h"

namespace graft::scan {

struct SupportPolicy {
  int window_months = 3;
  int latest_kernels = 6;
};

struct SupportStatus {
  std::string kernel;        // installed version of the running kernel's package
  bool known = false;        // the advisories name this kernel release
  bool supported = false;
  std::string released;      // "YYYY-MM-DD"
  std::string until;         // end of the window, "YYYY-MM-DD"
  int newer_releases = 0;    // kernel releases newer than this one
  std::string reason;        // one sentence an operator can act on
  int livepatch_advisories = 0;  // advisories shipping kernel-livepatch packages for this kernel
  std::string last_livepatch;    // issue date of the newest of them
};

SupportStatus CheckSupport(const Inventory& inv, const std::vector<advisory::Advisory>& advisories,
                           const SupportPolicy& policy, time_t now);

}  // namespace graft::scan
