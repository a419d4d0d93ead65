#include "userspace/live_inventory.h"

#include <cstdlib>
#include <filesystem>

#include "process/proc_maps.h"

namespace graft::userspace {

std::vector<pid_t> ProcessesWithPatches() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    pid_t pid = std::atoi(entry.path().filename().c_str());
    if (pid <= 0) continue;
    auto maps = process::ReadMaps(pid);
    if (!maps.ok()) continue;
    for (const auto& m : *maps)
      if (m.path.rfind(kMappingPrefix, 0) == 0) {
        out.push_back(pid);
        break;
      }
  }
  return out;
}

std::vector<LivePatch> AllLivePatches() {
  std::vector<LivePatch> out;
  for (pid_t pid : ProcessesWithPatches()) {
    auto ap = ReadAppliedPatches(pid);
    if (!ap.ok()) continue;  // exited meanwhile, or not ours to read
    for (auto& a : *ap) out.push_back({pid, process::ProcessName(pid), std::move(a)});
  }
  return out;
}

}  // namespace graft::userspace
