#include "host/host_status.h"

#include <algorithm>
#include <map>
#include <set>

#include "process/proc_maps.h"
#include "userspace/patch_record.h"
#include "userspace/process_image.h"

namespace graft::host {

namespace {

std::vector<pid_t> Mapping(const std::string& build_id, const std::set<pid_t>& only,
                           userspace::BuildIdCache* cache) {
  if (only.empty()) return userspace::ProcessesMapping(build_id, cache);
  std::vector<pid_t> out;
  for (pid_t pid : only) {
    auto im = userspace::ProcessImage::Read(pid, cache);
    if (!im.ok()) continue;
    auto found = im->FindByBuildId(build_id);
    if (found.ok() && found->has_value()) out.push_back(pid);
  }
  return out;
}

std::vector<userspace::LivePatch> Live(const std::set<pid_t>& only) {
  if (only.empty()) return userspace::AllLivePatches();
  std::vector<userspace::LivePatch> out;
  for (pid_t pid : only) {
    auto ap = userspace::ReadAppliedPatches(pid);
    if (!ap.ok()) continue;
    for (auto& a : *ap) out.push_back({pid, process::ProcessName(pid), std::move(a)});
  }
  return out;
}

}  // namespace

HostStatus ReadHostStatus(const std::string& store, const std::string& kernel_records, bool allow_unsigned,
                          const std::set<pid_t>& only, userspace::BuildIdCache* cache) {
  HostStatus st;
  std::set<std::string> cves;
  // graftd asking about one starting process needs no kernel state: that
  // read would sit on the process's start-up path.
  if (only.empty()) {
    if (auto k = kernel::ReadKernelStatus("/sys", "/proc", kernel_records); k.ok()) {
      st.kernel = *k;
      for (const auto& p : st.kernel.patches)
        if (p.State() == "active") cves.insert(p.cves.begin(), p.cves.end());
    } else {
      st.kernel_error = k.error().message();
    }
  }
  st.bundles = ListBundles(store);
  std::vector<userspace::LivePatch> live = Live(only);
  std::map<pid_t, std::vector<const userspace::LivePatch*>> by_pid;
  for (const auto& l : live) by_pid[l.pid].push_back(&l);
  std::set<std::string> installed_ids;
  for (const auto& b : st.bundles) installed_ids.insert(b.id);
  for (const InstalledBundle& b : EffectiveBundles(st.bundles, allow_unsigned)) {
    bool everywhere = true;
    std::vector<pid_t> pids = Mapping(b.target_build_id, only, cache);
    for (pid_t pid : pids) {
      ProcessPatchState ps;
      ps.pid = pid;
      ps.bundle = b.id;
      ps.state = "missing";
      for (const auto* l : by_pid[pid]) {
        ps.process = l->process;
        const auto& r = l->patch.record;
        bool newer = std::find(r.supersedes.begin(), r.supersedes.end(), b.id) != r.supersedes.end();
        if (r.id != b.id && !newer) continue;
        ps.state = !l->patch.active ? "partial" : newer ? "applied-newer" : "applied";
        if (newer) ps.by = r.id;
        break;
      }
      if (ps.process.empty()) ps.process = process::ProcessName(pid);
      everywhere &= ps.state == "applied" || ps.state == "applied-newer";
      st.processes.push_back(std::move(ps));
    }
    if (!pids.empty() && everywhere) cves.insert(b.cves.begin(), b.cves.end());
  }
  for (const auto& l : live)
    if (!installed_ids.count(l.patch.record.id)) st.not_installed.push_back(l);
  st.live_cves.assign(cves.begin(), cves.end());
  return st;
}

}  // namespace graft::host
