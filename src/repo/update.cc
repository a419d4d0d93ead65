#include "repo/update.h"

#include <sys/utsname.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "elf/build_id.h"
#include "host/apply_installed.h"
#include "host/bundle_store.h"
#include "kernel/installed.h"
#include "repo/fetch.h"
#include "repo/publish.h"
#include "repo/subscriptions.h"
#include "trust/signature.h"
#include "userspace/process_image.h"

namespace graft::repo {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string RunningRelease() {
  struct utsname u;
  return uname(&u) == 0 ? u.release : "";
}

// Fetches and verifies a channel's index; on success it replaces the cached one.
Result<Index> FetchIndex(const Subscription& s, const UpdateOptions& opt) {
  std::string dir = ChannelDir(opt.state_dir, s.name);
  std::string in = dir + "/incoming/index.json";
  GRAFT_TRY(FetchFile(s.url, "index.json", in));
  GRAFT_TRY(FetchFile(s.url, "index.json.sig", in + ".sig"));
  // The index says what the host installs: it is never taken unsigned.
  auto verdict = trust::VerifyFile(in, opt.trust_store, false);
  if (!verdict.ok()) return verdict.error().context(fmt::format("{} index.json", s.url));
  std::ifstream f(in);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  GRAFT_ASSIGN(Index index, ParseIndex(text, s.url + "/index.json"));
  long long now = opt.now >= 0 ? opt.now : ParseTime(Iso8601());
  if (!index.expires.empty() && ParseTime(index.expires) < now)
    return Err("{}/index.json expired at {}: the repository (or this mirror of it) is no longer refreshed, so it "
               "may hide newer fixes; refused. The publisher runs graft repo refresh",
               s.url, index.expires);
  ChannelState st = ReadChannelState(opt.state_dir, s.name);
  if (index.sequence < st.sequence)
    return Err("{}/index.json has sequence {}, older than the {} this host already verified: a stale mirror or a "
               "replayed index; refused",
               s.url, index.sequence, st.sequence);
  std::error_code ec;
  fs::rename(in + ".sig", dir + "/index.json.sig", ec);
  if (!ec) fs::rename(in, dir + "/index.json", ec);
  if (ec) return Err("cannot keep the index of {} in {}: {}", s.name, dir, ec.message());
  return index;
}

struct Candidate {
  const Subscription* sub;
  std::string channel;
  Entry entry;
  size_t item;  // index into the report's items
};

// Whether `o` is a newer patch level of what `c` patches: a bundle that
// lists c among those it supersedes, or a cumulative kernel patch for the
// same release published after c (later in the index when at the same second).
bool Replaces(const Candidate& o, const Candidate& c) {
  if (o.entry.id == c.entry.id || o.entry.kind != c.entry.kind) return false;
  if (c.entry.kind == "bundle")
    return o.entry.target_build_id == c.entry.target_build_id &&
           std::count(o.entry.supersedes.begin(), o.entry.supersedes.end(), c.entry.id);
  long long to = ParseTime(o.entry.published), tc = ParseTime(c.entry.published);
  return o.entry.cumulative && o.entry.kernel_release == c.entry.kernel_release &&
         (to > tc || (to == tc && o.item > c.item));
}

// Whether the installed copy of an entry is the very file the index names.
bool Installed(const Entry& e, const UpdateOptions& opt, const std::vector<host::InstalledBundle>& bundles) {
  std::string path;
  if (e.kind == "bundle") {
    for (const auto& b : bundles)
      if (b.id == e.id && b.problem.empty()) path = b.path;
  } else {
    path = kernel::InstalledDir(opt.kernel_records, e.kernel_release) + "/" + e.id + ".ko";
  }
  if (path.empty() || !fs::exists(path)) return false;
  auto sum = Sha256File(path);
  return sum.ok() && *sum == e.sha256;
}

Status Stage(const Candidate& c, const std::string& staged, const UpdateOptions& opt) {
  GRAFT_TRY(FetchFile(c.sub->url, c.entry.file, staged));
  GRAFT_TRY(FetchFile(c.sub->url, c.entry.file + ".sig", staged + ".sig"));
  GRAFT_ASSIGN(std::string sum, Sha256File(staged));
  if (sum != c.entry.sha256)
    return Err("{}/{}: SHA-256 {} differs from the {} the signed index names: the file was changed after "
               "publication; refused",
               c.sub->url, c.entry.file, sum, c.entry.sha256);
  GRAFT_TRY(trust::VerifyFile(staged, opt.trust_store, false));
  return OkStatus();
}

kernel::LoadOptions KernelOptions(const UpdateOptions& opt) {
  kernel::LoadOptions lo;
  lo.allow_unsigned = opt.allow_unsigned;
  lo.trust_store = opt.trust_store;
  lo.records_dir = opt.kernel_records;
  lo.timeout_seconds = opt.kernel_timeout;
  return lo;
}

void WriteLastReport(const UpdateOptions& opt, const UpdateReport& r) {
  std::map<std::string, int> counts;
  for (const auto& i : r.items) counts[i.action]++;
  json j = {{"time", r.time},           {"check_only", r.check_only}, {"ok", r.ok()},
            {"actions", counts},        {"kernel_loaded", r.kernel_loaded},
            {"processes_patched", r.applied.size()}, {"failures", r.apply_failed.size() + r.kernel_failed.size()}};
  std::error_code ec;
  fs::create_directories(opt.state_dir, ec);
  std::string path = LastUpdatePath(opt.state_dir);
  std::ofstream(path + ".tmp", std::ios::trunc) << j.dump(2) << "\n";
  fs::rename(path + ".tmp", path, ec);
}

}  // namespace

bool InstalledFileHasBuildId(const std::string& name, const std::string& build_id,
                             const std::vector<std::string>& dirs) {
  static const std::vector<std::string> kSystem = {
      "/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/lib", "/usr/libexec",
      "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/bin", "/sbin", "/lib/x86_64-linux-gnu"};
  if (name.empty() || name.find('/') != std::string::npos) return false;
  for (const auto& d : dirs.empty() ? kSystem : dirs) {
    std::error_code ec;
    fs::path p = fs::path(d) / name;
    if (!fs::is_regular_file(p, ec)) continue;
    auto id = elf::ReadBuildId(p.string());
    if (id.ok() && *id && **id == build_id) return true;
  }
  return false;
}

bool UpdateReport::ok() const {
  for (const auto& c : channels)
    if (!c.error.empty()) return false;
  for (const auto& i : items)
    if (i.action == "refused") return false;
  return kernel_failed.empty() && apply_failed.empty();
}

std::string LastUpdatePath(const std::string& state_dir) { return state_dir + "/last-update.json"; }

UpdateReport RunUpdate(const UpdateOptions& opt) {
  UpdateReport r;
  long long now = opt.now >= 0 ? opt.now : ParseTime(Iso8601());
  r.time = Iso8601(now);
  r.check_only = opt.check_only;
  auto say = [&](const std::string& s) {
    if (opt.progress) opt.progress(s);
  };
  auto subs = ReadSubscriptions(opt.state_dir);
  if (!subs.ok()) {
    r.channels.push_back({"", "", "", 0, subs.error().message()});
    return r;
  }
  std::string release = RunningRelease();
  std::vector<host::InstalledBundle> bundles = host::ListBundles(opt.bundle_store);
  std::set<std::string> installed_targets;
  for (const auto& b : bundles) installed_targets.insert(b.target_build_id);
  std::map<std::string, bool> mapped;  // build-id -> some process maps it
  // What the scan of processes parses is reused by the applies at the end.
  userspace::BuildIdCache cache;

  std::vector<Candidate> eligible;
  for (const auto& s : *subs) {
    ChannelReport cr{s.name, s.url, s.channel, 0, ""};
    say(fmt::format("fetching {} ({} {})", s.name, s.url, s.channel));
    ChannelState st = ReadChannelState(opt.state_dir, s.name);
    st.attempted = r.time;
    auto index = FetchIndex(s, opt);
    if (!index.ok()) {
      cr.error = index.error().message();
      st.error = cr.error;
      (void)WriteChannelState(opt.state_dir, s.name, st);
      r.channels.push_back(cr);
      continue;
    }
    st = {index->sequence, r.time, "", r.time};
    (void)WriteChannelState(opt.state_dir, s.name, st);
    cr.sequence = index->sequence;
    r.channels.push_back(cr);
    // A channel nothing was published in yet is simply empty.
    auto ch = index->channels.find(s.channel);
    if (ch == index->channels.end()) continue;
    for (const auto& e : ch->second) {
      ItemReport item{s.name, s.channel, e.id, e.kind, e.kind == "kernel" ? e.kernel_release : e.target_name,
                      e.cves, "", ""};
      bool applies;
      if (e.kind == "kernel") {
        applies = e.kernel_release == release;
        if (!applies) item.detail = fmt::format("built for kernel {}, this host runs {}", e.kernel_release, release);
      } else {
        auto [it, added] = mapped.try_emplace(e.target_build_id, false);
        if (added) it->second = !userspace::ProcessesMapping(e.target_build_id, &cache).empty();
        applies = it->second || installed_targets.count(e.target_build_id) ||
                  InstalledFileHasBuildId(e.target_name, e.target_build_id);
        if (!applies)
          item.detail = fmt::format("no process maps {} (build-id {}) and no installed file has it", e.target_name,
                                    e.target_build_id);
      }
      long long due = ParseTime(e.published) + static_cast<long long>(s.delay_hours * 3600);
      if (!applies) {
        item.action = "not-applicable";
      } else if (due > now) {
        item.action = "held";
        item.detail = fmt::format("published in {} at {}; this host's delay of {} h holds it until {}", s.channel,
                                  e.published, s.delay_hours, Iso8601(due));
      } else {
        eligible.push_back({&s, s.channel, e, r.items.size()});
      }
      r.items.push_back(item);
    }
  }

  std::string staging = opt.state_dir + "/staging";
  std::error_code ec;
  fs::remove_all(staging, ec);  // what an interrupted run left
  std::set<std::string> done;   // the same entry from two channels is installed once
  bool kernel_changed = false;
  // Newest first: an entry is superseded only by a newer level this host has
  // (installed now or before) — when the newer one is refused, the older one
  // is still the best the host can get. A cumulative kernel patch installed
  // before an older one also keeps the older off the boot list.
  std::vector<const Candidate*> order;
  for (const auto& c : eligible) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const Candidate* a, const Candidate* b) {
    long long ta = ParseTime(a->entry.published), tb = ParseTime(b->entry.published);
    return ta != tb ? ta > tb : a->item > b->item;
  });
  std::vector<const Candidate*> have;  // installed now or before
  for (const Candidate* cp : order) {
    const Candidate& c = *cp;
    ItemReport& item = r.items[c.item];
    auto newer = std::find_if(have.begin(), have.end(), [&](const Candidate* o) { return Replaces(*o, c); });
    if (newer != have.end()) {
      item.action = "superseded";
      item.detail = fmt::format("{} replaces it", (*newer)->entry.id);
      continue;
    }
    if (Installed(c.entry, opt, bundles) || done.count(c.entry.kind + "/" + c.entry.id)) {
      item.action = "up-to-date";
      have.push_back(cp);
      continue;
    }
    if (opt.check_only) {
      item.action = "would-install";
      have.push_back(cp);
      continue;
    }
    if (opt.cancelled && opt.cancelled()) {
      item.action = "refused";
      item.detail = "interrupted before it was fetched; nothing of it was installed";
      continue;
    }
    say(fmt::format("fetching {} {}", c.entry.kind, c.entry.id));
    std::string staged = staging + "/" + fs::path(c.entry.file).filename().string();
    if (Status s = Stage(c, staged, opt); !s.ok()) {
      item.action = "refused";
      item.detail = s.error().message();
      continue;
    }
    if (c.entry.kind == "bundle") {
      auto installed = host::InstallBundle(staged, opt.bundle_store, opt.allow_unsigned);
      if (!installed.ok()) {
        item.action = "refused";
        item.detail = installed.error().message();
        continue;
      }
    } else {
      auto installed = kernel::InstallPatch(staged, opt.kernel_records, KernelOptions(opt));
      if (!installed.ok()) {
        item.action = "refused";
        item.detail = installed.error().message();
        continue;
      }
      if (!installed->superseded.empty())
        item.detail = fmt::format("replaces {}", fmt::join(installed->superseded, ", "));
      kernel_changed = true;
    }
    item.action = "installed";
    done.insert(c.entry.kind + "/" + c.entry.id);
    have.push_back(cp);
  }
  fs::remove_all(staging, ec);

  if (!opt.check_only) {
    // Loaded even when nothing new came: a patch installed by an earlier,
    // interrupted run, or one unloaded by hand, belongs to this kernel.
    if (!release.empty() && (kernel_changed || !kernel::ListInstalled(opt.kernel_records, release).empty())) {
      say("loading kernel live patches");
      auto k = kernel::LoadInstalled(KernelOptions(opt), release);
      r.kernel_loaded = k.loaded;
      r.kernel_failed = k.failed;
    }
  }
  if (!opt.check_only && opt.apply_to_processes) {
    say("patching processes");
    host::ApplyInstalledOptions ao;
    ao.store = opt.bundle_store;
    ao.kernel_records = opt.kernel_records;
    ao.timeout_seconds = opt.apply_timeout;
    ao.allow_unsigned = opt.allow_unsigned;
    ao.cancelled = opt.cancelled;
    ao.cache = &cache;
    auto a = host::ApplyInstalled(ao);
    r.applied = a.applied;
    for (const auto& e : a.failed) r.apply_failed.push_back(e.message());
  }
  WriteLastReport(opt, r);
  return r;
}

ChannelSupport SupportFromChannels(const std::string& state_dir, const std::string& release, long long now) {
  ChannelSupport out;
  auto subs = ReadSubscriptions(state_dir);
  if (!subs.ok()) {
    out.reason = subs.error().message();
    return out;
  }
  std::vector<std::string> served_elsewhere;
  for (const auto& s : *subs) {
    auto index = CachedIndex(state_dir, s.name);
    if (!index.ok() || index->kernel_policy.empty()) continue;
    auto it = index->kernel_policy.find(release);
    if (it == index->kernel_policy.end()) {
      for (const auto& [rel, p] : index->kernel_policy)
        if (ParseTime(p.until) > now) served_elsewhere.push_back(rel);
      if (!out.known) out.source = fmt::format("channel {} ({})", s.name, s.url);
      continue;
    }
    const ReleasePolicy& p = it->second;
    bool supported = ParseTime(p.until) > now;
    if (out.known && out.supported && !supported) continue;  // the most generous channel decides
    out.known = true;
    out.supported = supported;
    out.until = p.until;
    out.since = p.since;
    out.note = p.note;
    out.source = fmt::format("channel {} ({})", s.name, s.url);
    out.reason = supported ? fmt::format("kernel {} receives live patches from {} until {}", release, out.source, p.until)
                           : fmt::format("kernel {} stopped receiving live patches from {} on {}; update the kernel "
                                         "and reboot into it",
                                         release, out.source, p.until);
  }
  if (!out.known && !out.source.empty()) {
    // Some channel states a policy, and this release is not in it.
    out.known = true;
    std::sort(served_elsewhere.begin(), served_elsewhere.end());
    served_elsewhere.erase(std::unique(served_elsewhere.begin(), served_elsewhere.end()), served_elsewhere.end());
    out.reason = fmt::format("{} does not serve kernel {}{}", out.source, release,
                             served_elsewhere.empty() ? std::string()
                                                      : "; it serves " + fmt::format("{}", fmt::join(served_elsewhere, ", ")));
  }
  return out;
}

}  // namespace graft::repo
