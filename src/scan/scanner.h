// Which advisories and CVEs a host still carries. Matching follows dnf: an
// advisory package counts when a package of the same name and architecture is
// installed (for rpm, the latest installed version of each name; for
// install-only packages such as kernel, the running kernel's); it is missing
// when that version is lower than the fixed one. Debian advisories name
// source packages, so deb hosts match on each binary's source package.
// A missing CVE that an applied live patch declares is fixed-by-live-patch.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "advisory/advisory.h"
#include "scan/inventory.h"

namespace graft::scan {

enum class CveStatus { kNotApplicable, kFixed, kFixedByLivePatch, kMissing };
std::string_view StatusName(CveStatus s);  // "not-applicable", "fixed", "fixed-by-live-patch", "missing"

// Findings point into the inventory and the advisories given to Scan, which
// must outlive the report.
struct PackageFinding {
  const advisory::FixedPackage* fixed = nullptr;
  const InstalledPackage* installed = nullptr;
  bool missing = false;  // installed version lower than the fixed one
};

struct AdvisoryFinding {
  const advisory::Advisory* advisory = nullptr;
  CveStatus status = CveStatus::kNotApplicable;
  std::vector<PackageFinding> packages;  // installed packages the advisory names
};

struct CveFinding {
  std::string_view cve;
  CveStatus status = CveStatus::kNotApplicable;
  std::string_view severity;  // the highest of the advisories naming it
  int severity_rank = -1;     // advisory::SeverityRank(severity)
  double cvss_score = -1;
  std::string_view cvss_vector;
  std::vector<std::string_view> advisories;  // ids
  std::vector<std::string> live_patches;  // "ID (pid 123 lua5.4)", "ID (kernel)"
};

// A CVE an applied live patch declares fixed, and where the patch is.
struct LivePatchedCve {
  std::string cve;
  std::string patch;  // patch id
  std::string where;  // "pid 123 lua5.4", "kernel"
};

struct ScanOptions {
  std::string type = "security";        // advisory type to consider; empty: all
  std::vector<std::string> severities;  // normalized; empty: all
  std::vector<LivePatchedCve> live_patched;
};

struct ScanReport {
  std::vector<AdvisoryFinding> advisories;  // every advisory naming an installed package
  std::vector<CveFinding> cves;             // sorted: missing first, then by severity
  std::string running_kernel_version;       // package version of the running kernel, if found
};

ScanReport Scan(const Inventory& inv, const std::vector<advisory::Advisory>& advisories, const ScanOptions& opt);

// Names to fetch advisories for: binary and source names of every package.
std::vector<std::string> PackageNames(const Inventory& inv);

// Packages the running kernel came from (kernel/kernel-core on rpm,
// linux-image-$(uname -r) on deb); their installed version is the kernel level.
bool IsKernelPackage(const advisory::FixedPackage& p, advisory::Ecosystem e);

// Installed version of the package the running kernel came from, or "".
std::string RunningKernelVersion(const Inventory& inv);

struct EffectiveKernel {
  std::string running;    // installed version of the running kernel's package
  std::string effective;  // the newest kernel version whose CVE fixes are all present
  int live_patched_cves = 0;
  std::vector<std::string> blocking;  // first missing CVEs that stop the level from rising
};

// The kernel level a compliance tool should believe: raised over each newer
// kernel release as long as every CVE that release fixes is fixed by an
// applied live patch.
EffectiveKernel ComputeEffectiveKernel(const Inventory& inv, const std::vector<advisory::Advisory>& advisories,
                                       const ScanOptions& opt);

}  // namespace graft::scan
