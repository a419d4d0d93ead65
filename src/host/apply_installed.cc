#include "host/apply_installed.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "bundle/bundle.h"
#include "host/bundle_store.h"
#include "host/host_status.h"
#include "userspace/live_patcher.h"
#include "userspace/patch_record.h"
#include "userspace/process_image.h"

namespace graft::host {

namespace fs = std::filesystem;

namespace {

// `bundle`, or a later level superseding it, is active in `pid` now.
bool RunsAlready(pid_t pid, const std::string& bundle) {
  auto ap = userspace::ReadAppliedPatches(pid);
  if (!ap.ok()) return false;
  for (const auto& a : *ap) {
    const auto& r = a.record;
    if (a.active && (r.id == bundle || std::find(r.supersedes.begin(), r.supersedes.end(), bundle) != r.supersedes.end()))
      return true;
  }
  return false;
}

}  // namespace

ApplyInstalledResult ApplyInstalled(const ApplyInstalledOptions& opt) {
  ApplyInstalledResult out;
  // Every process of one program costs one parse of its files, also
  // without a cache from the caller.
  userspace::BuildIdCache own;
  userspace::BuildIdCache& cache = opt.cache ? *opt.cache : own;
  HostStatus st = ReadHostStatus(opt.store, opt.kernel_records, opt.allow_unsigned, opt.only, &cache);
  for (const auto& p : st.processes) {
    if (p.state != "missing" || (!opt.only.empty() && !opt.only.count(p.pid))) continue;
    if (opt.cancelled && opt.cancelled()) {
      out.failed.push_back(Error("interrupted before process " + std::to_string(p.pid), ErrorKind::kInterrupted));
      break;
    }
    std::string path;
    for (const auto& b : st.bundles)
      if (b.id == p.bundle) path = b.path;
    auto b = bundle::ReadFile(path);
    if (!b.ok()) {
      out.failed.push_back(b.error());
      continue;
    }
    std::unique_lock<std::mutex> held;
    if (opt.apply_lock) {
      held = std::unique_lock<std::mutex>(*opt.apply_lock);
      if (RunsAlready(p.pid, p.bundle)) continue;
    }
    userspace::PatchOptions po;
    po.timeout_seconds = opt.timeout_seconds;
    po.cancelled = opt.cancelled;
    po.cache = &cache;
    // Filled here, the cache reaches the detached worker forked below and
    // stays for the next process.
    userspace::PrepareCache(p.pid, cache);
    auto r = userspace::RunDetached([&]() -> Result<std::string> {
      GRAFT_ASSIGN(auto o, userspace::ApplyToProcess(*b, p.pid, po));
      return fmt::format("process {} ({}): applied {} ({} functions, threads paused {:.3f} ms)", p.pid, p.process,
                         b->id, o.record.functions.size(), o.pause_ms);
    });
    if (r.ok()) out.applied.push_back(*r);
    else out.failed.push_back(r.error());
  }
  return out;
}

Status WriteAgentIndex(const std::string& store, bool allow_unsigned, const std::string& path) {
  std::string text;
  for (const auto& b : EffectiveBundles(ListBundles(store), allow_unsigned)) text += b.target_build_id + "\n";
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::string tmp = path + ".tmp";
  {
    std::ofstream o(tmp);
    o << text;
    if (!o) return Err("cannot write {}", tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return Err("cannot write {}: {}", path, ec.message());
  return OkStatus();
}

}  // namespace graft::host
