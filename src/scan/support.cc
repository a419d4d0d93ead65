#include "scan/support.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "advisory/version_deb.h"
#include "advisory/version_rpm.h"
#include "scan/scanner.h"

namespace graft::scan {
namespace {

int Compare(advisory::Ecosystem e, const std::string& a, const std::string& b) {
  if (e == advisory::Ecosystem::kDeb) return advisory::CompareDebVersions(a, b);
  return advisory::CompareRpmEvrStrings(a, b);
}

std::string AddMonths(const std::string& date, int months) {
  struct tm tm = {};
  if (!strptime(date.c_str(), "%Y-%m-%d", &tm)) return "";
  tm.tm_mon += months;
  time_t t = timegm(&tm);
  gmtime_r(&t, &tm);
  char buf[16];
  strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

SupportStatus CheckSupport(const Inventory& inv, const std::vector<advisory::Advisory>& advisories,
                           const SupportPolicy& policy, time_t now) {
  SupportStatus st;
  st.kernel = RunningKernelVersion(inv);
  if (st.kernel.empty()) {
    st.reason = inv.kernel_release.empty() ? "the running kernel release is unknown"
                                           : fmt::format("no installed package provides the running kernel {}",
                                                         inv.kernel_release);
    return st;
  }
  // Each kernel release and the first date an advisory shipped it.
  std::map<std::string, std::string> released;
  for (const auto& a : advisories) {
    for (const auto& p : a.packages) {
      if (advisory::EcosystemOf(p) != inv.ecosystem) continue;
      if (p.name.rfind("kernel-livepatch-", 0) == 0) {
        std::string v = p.name.substr(17);
        if (st.kernel.rfind(v, 0) == 0) {
          st.livepatch_advisories++;
          st.last_livepatch = std::max(st.last_livepatch, a.issued.substr(0, 10));
        }
        continue;
      }
      if (!IsKernelPackage(p, inv.ecosystem)) continue;
      auto [it, added] = released.try_emplace(p.version, a.issued.substr(0, 10));
      if (!added && a.issued.substr(0, 10) < it->second) it->second = a.issued.substr(0, 10);
    }
  }
  auto it = released.find(st.kernel);
  if (it == released.end() || it->second.empty()) {
    st.reason = fmt::format("no advisory names kernel {}, so its release date is unknown", st.kernel);
    return st;
  }
  st.known = true;
  st.released = it->second;
  st.until = AddMonths(st.released, policy.window_months);
  for (const auto& [v, date] : released)
    if (Compare(inv.ecosystem, v, st.kernel) > 0) st.newer_releases++;
  char today[16];
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  bool in_window = std::string(today) < st.until;
  bool recent = st.newer_releases < policy.latest_kernels;
  st.supported = in_window && recent;
  if (!in_window)
    st.reason = fmt::format("kernel {} was released on {}; live patches stopped on {} ({} months); "
                            "update the kernel and reboot into it",
                            st.kernel, st.released, st.until, policy.window_months);
  else if (!recent)
    st.reason = fmt::format("{} newer kernel releases exist; live patches cover only the {} newest", st.newer_releases,
                            policy.latest_kernels);
  else
    st.reason = fmt::format("kernel {} receives live patches until {}", st.kernel, st.until);
  return st;
}

}  // namespace graft::scan
