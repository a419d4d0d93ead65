#include "host/bundle_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "base/state_dir.h"
#include "bundle/bundle.h"
#include "trust/signature.h"

namespace graft::host {

namespace fs = std::filesystem;

std::string DefaultBundleStore() { return StateDir() + "/bundles"; }

namespace {

Result<InstalledBundle> Describe(const std::string& path, const trust::Verdict& v) {
  GRAFT_ASSIGN(bundle::Bundle b, bundle::ReadFile(path));
  InstalledBundle ib;
  ib.id = b.id;
  ib.path = path;
  ib.description = b.description;
  ib.target_name = b.target_name;
  ib.target_build_id = b.target_build_id;
  ib.cves = b.cves;
  ib.supersedes = b.supersedes;
  ib.functions = static_cast<int>(b.functions.size());
  ib.signed_by = v.signed_ ? v.key_name : "";
  return ib;
}

Status CopyAtomically(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::string tmp = to + ".tmp";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, to, ec);
  if (ec) return Err("cannot install {} as {}: {}", from, to, ec.message());
  return OkStatus();
}

}  // namespace

Result<InstalledBundle> InstallBundle(const std::string& file, const std::string& store, bool allow_unsigned) {
  GRAFT_ASSIGN(trust::Verdict v, trust::VerifyFile(file, trust::DefaultTrustStore(), allow_unsigned));
  GRAFT_ASSIGN(InstalledBundle ib, Describe(file, v));
  std::error_code ec;
  fs::create_directories(store, ec);
  if (ec) return Err("cannot create {}: {}", store, ec.message());
  std::string path = (fs::path(store) / (ib.id + ".graft")).string();
  // The signature first, so that an interrupted install never leaves a
  // bundle next to a signature of another one (it then fails verification).
  fs::remove(path + ".sig", ec);
  if (v.signed_) GRAFT_TRY(CopyAtomically(file + ".sig", path + ".sig"));
  GRAFT_TRY(CopyAtomically(file, path));
  ib.path = path;
  return ib;
}

Status UninstallBundle(const std::string& id, const std::string& store) {
  std::string path = (fs::path(store) / (id + ".graft")).string();
  std::error_code ec;
  if (!fs::remove(path, ec)) return Err("no bundle {} is installed (graft status lists them)", id);
  fs::remove(path + ".sig", ec);
  return OkStatus();
}

std::vector<InstalledBundle> ListBundles(const std::string& store) {
  std::vector<InstalledBundle> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store, ec)) {
    if (e.path().extension() != ".graft") continue;
    std::string path = e.path().string();
    auto v = trust::VerifyFile(path, trust::DefaultTrustStore(), true);
    auto ib = v.ok() ? Describe(path, *v) : Result<InstalledBundle>(v.error());
    if (ib.ok()) {
      out.push_back(std::move(*ib));
      continue;
    }
    InstalledBundle bad;
    bad.id = e.path().stem().string();
    bad.path = path;
    bad.problem = ib.error().message();
    out.push_back(std::move(bad));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::vector<InstalledBundle> EffectiveBundles(const std::vector<InstalledBundle>& all, bool allow_unsigned) {
  std::vector<InstalledBundle> out;
  for (const auto& b : all) {
    if (!b.problem.empty() || (b.signed_by.empty() && !allow_unsigned)) continue;
    bool superseded = std::any_of(all.begin(), all.end(), [&](const InstalledBundle& o) {
      return o.target_build_id == b.target_build_id &&
             std::find(o.supersedes.begin(), o.supersedes.end(), b.id) != o.supersedes.end();
    });
    if (!superseded) out.push_back(b);
  }
  return out;
}

}  // namespace graft::host
