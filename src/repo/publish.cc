#include "repo/publish.h"

#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "advisory/osv.h"
#include "advisory/updateinfo.h"
#include "bundle/bundle.h"
#include "kernel/module_info.h"
#include "trust/signature.h"

namespace graft::repo {

namespace fs = std::filesystem;

namespace {

Status WriteAtomically(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  {
    std::ofstream o(path.string() + ".tmp", std::ios::binary | std::ios::trunc);
    o << text;
    if (!o.flush()) return Err("cannot write {}", path.string());
  }
  fs::rename(path.string() + ".tmp", path, ec);
  if (ec) return Err("cannot write {}: {}", path.string(), ec.message());
  return OkStatus();
}

Status CopyInto(const std::string& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  fs::copy_file(from, to.string() + ".tmp", fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(to.string() + ".tmp", to, ec);
  if (ec) return Err("cannot copy {} to {}: {}", from, to.string(), ec.message());
  return OkStatus();
}

// One advisory per published entry, named after it: what a dnf-style tool or
// `graft advisories import` reads. A kernel patch names the package
// kernel-livepatch-<release> (what `graft supported` and scanners count).
std::vector<advisory::Advisory> Advisories(const Index& index) {
  std::map<std::string, advisory::Advisory> by_id;
  for (const auto& [channel, entries] : index.channels) {
    for (const auto& e : entries) {
      std::string issued = e.published.substr(0, 10) + " " + e.published.substr(11, 8);
      auto [it, added] = by_id.try_emplace(e.id);
      advisory::Advisory& a = it->second;
      if (added) {
        a.id = "GRAFT-" + e.id;
        a.severity = e.severity;
        a.title = e.kind == "kernel" ? "Kernel live patch " + e.id + " for " + e.kernel_release
                                     : "Live patch " + e.id + " for " + e.target_name;
        a.description = e.description.empty() ? a.title : e.description;
        a.cves = e.cves;
        a.issued = a.updated = issued;
        advisory::FixedPackage p;
        if (e.kind == "kernel") {
          p.name = "kernel-livepatch-" + e.kernel_release;
          p.arch = "x86_64";
          p.version = e.published.substr(0, 4) + e.published.substr(5, 2) + e.published.substr(8, 2) + "-" + e.id;
          std::replace(p.version.begin() + 9, p.version.end(), '-', '_');
        } else {
          p.name = e.target_name;
          p.arch = "x86_64";
          p.version = "0-" + e.target_build_id.substr(0, 12);
        }
        p.ecosystem = "rpm";
        p.filename = e.file;
        a.packages.push_back(p);
      }
      a.issued = std::min(a.issued, issued);
      a.updated = std::max(a.updated, issued);
    }
  }
  std::vector<advisory::Advisory> out;
  for (auto& [id, a] : by_id) out.push_back(std::move(a));
  return out;
}

Status Store(const std::string& dir, Index& index, const trust::SecretKey& key, int valid_days = kDefaultValidDays) {
  index.sequence++;
  long long now = ParseTime(Iso8601());
  index.generated = Iso8601(now);
  index.expires = Iso8601(now + static_cast<long long>(valid_days) * 86400);
  auto advisories = Advisories(index);
  GRAFT_TRY(WriteAtomically(fs::path(dir) / "updateinfo.xml", advisory::RenderUpdateinfo(advisories)));
  std::error_code ec;
  fs::remove_all(fs::path(dir) / "osv", ec);
  for (const auto& a : advisories)
    GRAFT_TRY(WriteAtomically(fs::path(dir) / "osv" / (a.id + ".json"), advisory::ToOsv(a, "graft").dump(2) + "\n"));
  // Files no channel lists any more go (with their signatures).
  std::set<std::string> listed;
  for (const auto& [c, entries] : index.channels)
    for (const auto& e : entries) listed.insert(e.file);
  for (const char* sub : {"bundles", "kernel"}) {
    if (!fs::is_directory(fs::path(dir) / sub)) continue;
    for (const auto& f : fs::directory_iterator(fs::path(dir) / sub)) {
      std::string rel = std::string(sub) + "/" + f.path().filename().string();
      std::string base = rel.ends_with(".sig") ? rel.substr(0, rel.size() - 4) : rel;
      if (!listed.count(base)) fs::remove(f.path(), ec);
    }
  }
  fs::path path = fs::path(dir) / "index.json";
  GRAFT_TRY(WriteAtomically(path.string() + ".new", SerializeIndex(index)));
  // The new index's signature goes in first: a reader that meets the old
  // index with the new signature refuses it and tries again later, never
  // takes an unsigned state for a signed one.
  GRAFT_TRY(trust::SignFile(path.string() + ".new", key, path.string() + ".sig"));
  fs::rename(path.string() + ".new", path, ec);
  if (ec) return Err("cannot write {}: {}", path.string(), ec.message());
  return OkStatus();
}

}  // namespace

Result<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err("cannot read {}", path);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), buf.size());
    crypto_hash_sha256_update(&st, reinterpret_cast<unsigned char*>(buf.data()), in.gcount());
  }
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  char hex[2 * sizeof out + 1];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return std::string(hex);
}

Result<Index> LoadIndex(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "index.json");
  if (!in) return Index{};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseIndex(text, dir + "/index.json");
}

Result<std::vector<Entry>> AddToRepository(const std::string& dir, const std::vector<std::string>& files,
                                           const AddOptions& opt, const trust::SecretKey& key) {
  GRAFT_ASSIGN(Index index, LoadIndex(dir));
  std::vector<Entry> added;
  for (const auto& f : files) {
    // A file that comes with a signature must carry the publisher's: a
    // changed bundle is not re-signed by accident.
    if (fs::exists(f + ".sig")) GRAFT_TRY(trust::VerifyFile(f, trust::DefaultTrustStore(), false));
    Entry e;
    e.published = opt.now.empty() ? Iso8601() : opt.now;
    e.severity = opt.severity;
    if (f.ends_with(".ko")) {
      GRAFT_ASSIGN(kernel::ModuleInfo m, kernel::ReadModuleInfo(f));
      if (!m.livepatch) return Err("{} is not a kernel live patch module (no livepatch=Y)", f);
      e.kind = "kernel";
      e.id = m.name;
      e.kernel_release = m.KernelRelease();
      e.cumulative = m.replace;
      e.cves = m.cves;
      e.description = m.description;
      e.file = "kernel/" + m.name + ".ko";
    } else {
      GRAFT_ASSIGN(bundle::Bundle b, bundle::ReadFile(f));
      e.kind = "bundle";
      e.id = b.id;
      e.target_build_id = b.target_build_id;
      e.target_name = b.target_name;
      e.cves = b.cves;
      e.supersedes = b.supersedes;
      e.description = b.description;
      e.file = "bundles/" + b.id + ".graft";
    }
    GRAFT_ASSIGN(e.sha256, Sha256File(f));
    // The same id must mean the same file in every channel: promotion moves
    // what was tested, never a rebuilt look-alike.
    for (const auto& [c, entries] : index.channels)
      for (const auto& x : entries)
        if (x.id == e.id && x.sha256 != e.sha256 && c != opt.channel)
          return Err("{}: channel {} already publishes a different {} with id {}; give the new one another id "
                     "(a new patch level) or withdraw the old one first",
                     f, c, e.kind, e.id);
    fs::path to = fs::path(dir) / e.file;
    GRAFT_TRY(CopyInto(f, to));
    if (fs::exists(f + ".sig"))
      GRAFT_TRY(CopyInto(f + ".sig", to.string() + ".sig"));
    else
      GRAFT_TRY(trust::SignFile(to.string(), key));
    auto& list = index.channels[opt.channel];
    std::erase_if(list, [&](const Entry& x) { return x.id == e.id; });
    list.push_back(e);
    added.push_back(e);
  }
  GRAFT_TRY(Store(dir, index, key));
  return added;
}

Result<Entry> Promote(const std::string& dir, const std::string& id, const std::string& from, const std::string& to,
                      const trust::SecretKey& key, const std::string& now) {
  GRAFT_ASSIGN(Index index, LoadIndex(dir));
  auto& src = index.channels[from];
  auto it = std::find_if(src.begin(), src.end(), [&](const Entry& e) { return e.id == id; });
  if (it == src.end()) return Err("{} is not published in channel {} of {}", id, from, dir);
  Entry e = *it;
  e.published = now.empty() ? Iso8601() : now;
  auto& dst = index.channels[to];
  std::erase_if(dst, [&](const Entry& x) { return x.id == id; });
  dst.push_back(e);
  GRAFT_TRY(Store(dir, index, key));
  return e;
}

Status Withdraw(const std::string& dir, const std::string& id, const std::string& channel,
                const trust::SecretKey& key) {
  GRAFT_ASSIGN(Index index, LoadIndex(dir));
  auto& list = index.channels[channel];
  if (std::erase_if(list, [&](const Entry& x) { return x.id == id; }) == 0)
    return Err("{} is not published in channel {} of {}", id, channel, dir);
  return Store(dir, index, key);
}

Result<Index> Refresh(const std::string& dir, const trust::SecretKey& key, int valid_days) {
  if (valid_days < 1) return Err("--valid-days must be at least 1");
  GRAFT_ASSIGN(Index index, LoadIndex(dir));
  if (index.sequence == 0) return Err("{} holds no repository index (graft repo add creates one)", dir);
  GRAFT_TRY(Store(dir, index, key, valid_days));
  return index;
}

Status SetKernelPolicy(const std::string& dir, const std::string& release, const ReleasePolicy& policy,
                       const trust::SecretKey& key) {
  if (ParseTime(policy.until) < 0) return Err("--until: expected YYYY-MM-DD, got '{}'", policy.until);
  if (!policy.since.empty() && ParseTime(policy.since) < 0)
    return Err("--since: expected YYYY-MM-DD, got '{}'", policy.since);
  GRAFT_ASSIGN(Index index, LoadIndex(dir));
  index.kernel_policy[release] = policy;
  return Store(dir, index, key);
}

}  // namespace graft::repo
