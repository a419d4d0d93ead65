#include "scan/scanner.h"

#include <algorithm>
#include <unordered_map>

#include "advisory/version_deb.h"
#include "advisory/version_rpm.h"

namespace graft::scan {
namespace {

using advisory::Advisory;
using advisory::Ecosystem;
using advisory::FixedPackage;

int Compare(Ecosystem e, const std::string& a, const std::string& b) {
  if (e == Ecosystem::kDeb) return advisory::CompareDebVersions(a, b);
  return advisory::CompareRpmEvrStrings(a, b);
}

bool InstallOnly(const std::string& name) {
  return name == "kernel" || name.rfind("kernel-", 0) == 0 || name.rfind("linux-image-", 0) == 0;
}

// The installed packages advisory matching looks at, keyed by name. Views
// point into the inventory.
struct Index {
  Ecosystem eco;
  // rpm: name -> per arch, the latest installed (the running kernel's for install-only names).
  std::unordered_map<std::string_view, std::vector<const InstalledPackage*>> rpm;
  // deb: source name -> the binary with the highest source version (the
  // running kernel's for the kernel's source); binary name -> package.
  std::unordered_map<std::string_view, const InstalledPackage*> deb_source, deb_binary;
  const InstalledPackage* running = nullptr;
  std::string running_kernel_version;

  explicit Index(const Inventory& inv) : eco(inv.ecosystem) {
    for (const auto& p : inv.packages) {
      if (inv.kernel_release.empty()) break;
      bool match = eco == Ecosystem::kDeb ? p.name == "linux-image-" + inv.kernel_release
                                          : InstallOnly(p.name) && p.version + "." + p.arch == inv.kernel_release;
      if (match) running = &p;
    }
    if (running) running_kernel_version = eco == Ecosystem::kDeb ? running->source_version : running->version;
    rpm.reserve(inv.packages.size());
    deb_source.reserve(inv.packages.size());
    deb_binary.reserve(inv.packages.size());
    for (const auto& p : inv.packages) {
      if (eco == Ecosystem::kRpm) {
        auto& per_arch = rpm[p.name];
        auto it = std::find_if(per_arch.begin(), per_arch.end(), [&](auto* q) { return q->arch == p.arch; });
        if (it == per_arch.end())
          per_arch.push_back(&p);
        else if (Compare(eco, p.version, (*it)->version) > 0)
          *it = &p;
      } else {
        deb_binary[p.name] = &p;
        auto [it, added] = deb_source.try_emplace(p.source, &p);
        if (!added && Compare(eco, p.source_version, it->second->source_version) > 0) it->second = &p;
      }
    }
    // Install-only packages count at the running kernel's version, not the newest installed.
    if (running && eco == Ecosystem::kRpm) {
      for (const auto& p : inv.packages) {
        if (!InstallOnly(p.name) || p.version != running->version) continue;
        for (auto*& q : rpm[p.name])
          if (q->arch == p.arch) q = &p;
      }
    }
    if (running && eco == Ecosystem::kDeb) deb_source[running->source] = running;
  }

  // Installed packages an advisory package applies to.
  void Find(const FixedPackage& f, std::vector<const InstalledPackage*>& out) const {
    out.clear();
    if (eco == Ecosystem::kRpm) {
      if (f.arch == "src") return;
      auto it = rpm.find(f.name);
      if (it == rpm.end()) return;
      for (const InstalledPackage* p : it->second)
        if (f.arch.empty() || p->arch == f.arch) out.push_back(p);
      return;
    }
    if (auto it = deb_source.find(f.name); it != deb_source.end())
      out.push_back(it->second);
    else if (auto b = deb_binary.find(f.name); b != deb_binary.end())
      out.push_back(b->second);
  }

  // The version an advisory's fixed version is compared with.
  const std::string& VersionOf(const InstalledPackage& p, const FixedPackage& f) const {
    if (eco == Ecosystem::kDeb && p.source == f.name) return p.source_version;
    return p.version;
  }
};

bool Wanted(const Advisory& a, const ScanOptions& opt) {
  return opt.type.empty() || a.type == opt.type;
}

bool ForThisHost(const FixedPackage& p, const Inventory& inv) {
  if (advisory::EcosystemOf(p) != inv.ecosystem) return false;
  // OSV ecosystems carry the release ("Debian:12"); skip other releases.
  if (!inv.release.empty() && p.ecosystem.find(':') != std::string::npos && p.ecosystem != inv.release) return false;
  return true;
}

// "CVE-2024-12345" as 2024 * 10^9 + 12345, so that sorting tens of
// thousands of findings compares numbers, not strings; other ids sort after.
uint64_t CveNumber(std::string_view id) {
  if (id.size() < 10 || id.substr(0, 4) != "CVE-" || id[8] != '-') return UINT64_MAX;
  uint64_t year = 0, n = 0;
  for (char c : id.substr(4, 4)) {
    if (c < '0' || c > '9') return UINT64_MAX;
    year = year * 10 + (c - '0');
  }
  if (id.size() > 18) return UINT64_MAX;
  for (char c : id.substr(9)) {
    if (c < '0' || c > '9') return UINT64_MAX;
    n = n * 10 + (c - '0');
  }
  return year * 1000000000ull + n;
}

// Missing first, then by severity, CVSS score and id.
void SortFindings(std::vector<CveFinding>& cves) {
  struct Key {
    int status, rank;
    double score;
    uint64_t number;
    uint32_t index;
  };
  std::vector<Key> keys(cves.size());
  for (uint32_t i = 0; i < cves.size(); i++)
    keys[i] = {static_cast<int>(cves[i].status), cves[i].severity_rank, cves[i].cvss_score, CveNumber(cves[i].cve), i};
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.status != b.status) return a.status > b.status;
    if (a.rank != b.rank) return a.rank > b.rank;
    if (a.score != b.score) return a.score > b.score;
    if (a.number != b.number) return a.number < b.number;
    return cves[a.index].cve < cves[b.index].cve;
  });
  std::vector<CveFinding> sorted;
  sorted.reserve(cves.size());
  for (const Key& k : keys) sorted.push_back(std::move(cves[k.index]));
  cves = std::move(sorted);
}

}  // namespace

std::string_view StatusName(CveStatus s) {
  switch (s) {
    case CveStatus::kNotApplicable: return "not-applicable";
    case CveStatus::kFixed: return "fixed";
    case CveStatus::kFixedByLivePatch: return "fixed-by-live-patch";
    case CveStatus::kMissing: return "missing";
  }
  return "?";
}

std::vector<std::string> PackageNames(const Inventory& inv) {
  std::vector<std::string> names;
  for (const auto& p : inv.packages) {
    names.push_back(p.name);
    if (p.source != p.name) names.push_back(p.source);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

bool IsKernelPackage(const FixedPackage& p, Ecosystem e) {
  if (e == Ecosystem::kDeb) return p.name == "linux" || p.name == "linux-signed-amd64" || p.name == "linux-signed-arm64";
  return p.name == "kernel" || p.name == "kernel-core";
}

std::string RunningKernelVersion(const Inventory& inv) { return Index(inv).running_kernel_version; }

ScanReport Scan(const Inventory& inv, const std::vector<Advisory>& advisories, const ScanOptions& opt) {
  Index index(inv);
  ScanReport report;
  report.cves.reserve(advisories.size() * 2);
  report.running_kernel_version = index.running_kernel_version;
  std::unordered_map<std::string_view, std::vector<const LivePatchedCve*>> live;
  for (const auto& l : opt.live_patched) live[l.cve].push_back(&l);

  // CVE id -> its finding in report.cves, built in place.
  std::unordered_map<std::string_view, uint32_t> cves;
  cves.reserve(advisories.size() * 2);
  std::vector<const InstalledPackage*> found;
  for (const Advisory& a : advisories) {
    if (!Wanted(a, opt)) continue;
    AdvisoryFinding af;
    af.advisory = &a;
    bool host_relevant = false;
    for (const FixedPackage& f : a.packages) {
      if (!ForThisHost(f, inv)) continue;
      host_relevant = true;
      index.Find(f, found);
      for (const InstalledPackage* inst : found) {
        bool missing = Compare(inv.ecosystem, index.VersionOf(*inst, f), f.version) < 0;
        af.packages.push_back({&f, inst, missing});
        af.status = std::max(af.status, missing ? CveStatus::kMissing : CveStatus::kFixed);
      }
    }
    if (!host_relevant) continue;
    int rank = advisory::SeverityRank(a.severity);
    for (const std::string& c : a.cves) {
      CveStatus s = af.status;
      auto [it, added] = cves.try_emplace(c, static_cast<uint32_t>(report.cves.size()));
      if (added) report.cves.emplace_back().cve = c;
      CveFinding& cf = report.cves[it->second];
      if (s == CveStatus::kMissing) {
        if (auto l = live.find(c); l != live.end()) {
          s = CveStatus::kFixedByLivePatch;
          for (const LivePatchedCve* p : l->second) {
            std::string where = p->patch + " (" + p->where + ")";
            if (std::find(cf.live_patches.begin(), cf.live_patches.end(), where) == cf.live_patches.end())
              cf.live_patches.push_back(where);
          }
        }
      }
      cf.status = std::max(cf.status, s);
      if (rank > cf.severity_rank) cf.severity = a.severity, cf.severity_rank = rank;
      if (a.cvss_score > cf.cvss_score) cf.cvss_score = a.cvss_score, cf.cvss_vector = a.cvss_vector;
      cf.advisories.push_back(a.id);
    }
    if (af.status != CveStatus::kNotApplicable) report.advisories.push_back(std::move(af));
  }
  if (!opt.severities.empty()) {
    std::erase_if(report.cves, [&](const CveFinding& cf) {
      return std::find(opt.severities.begin(), opt.severities.end(), cf.severity) == opt.severities.end();
    });
  }
  SortFindings(report.cves);
  if (!opt.severities.empty()) {
    std::erase_if(report.advisories, [&](const AdvisoryFinding& f) {
      return std::find(opt.severities.begin(), opt.severities.end(), f.advisory->severity) == opt.severities.end();
    });
  }
  return report;
}

EffectiveKernel ComputeEffectiveKernel(const Inventory& inv, const std::vector<Advisory>& advisories,
                                       const ScanOptions& opt) {
  Index index(inv);
  EffectiveKernel ek;
  ek.running = ek.effective = index.running_kernel_version;
  if (ek.running.empty()) return ek;
  std::set<std::string> live;
  for (const auto& l : opt.live_patched) live.insert(l.cve);
  // Newer kernel releases and the CVEs each one fixes.
  std::vector<std::pair<std::string, std::vector<std::string>>> releases;
  for (const Advisory& a : advisories) {
    for (const FixedPackage& f : a.packages) {
      if (!ForThisHost(f, inv) || !IsKernelPackage(f, inv.ecosystem)) continue;
      if (Compare(inv.ecosystem, f.version, ek.running) <= 0) continue;
      auto it = std::find_if(releases.begin(), releases.end(), [&](auto& r) { return r.first == f.version; });
      if (it == releases.end()) it = releases.insert(releases.end(), {f.version, {}});
      it->second.insert(it->second.end(), a.cves.begin(), a.cves.end());
    }
  }
  std::sort(releases.begin(), releases.end(),
            [&](auto& a, auto& b) { return Compare(inv.ecosystem, a.first, b.first) < 0; });
  std::set<std::string> counted;
  for (auto& [version, cves] : releases) {
    for (const auto& c : cves)
      if (!live.count(c)) ek.blocking.push_back(c);
    if (!ek.blocking.empty()) break;
    ek.effective = version;
    for (const auto& c : cves) counted.insert(c);
  }
  ek.live_patched_cves = static_cast<int>(counted.size());
  return ek;
}

}  // namespace graft::scan
