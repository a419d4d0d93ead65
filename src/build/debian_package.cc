// apt and dpkg do the work; graft only chooses what to ask them and turns
// their failures into messages that say what to install or enable.
#include "build/debian_package.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/subprocess.h"

namespace graft::build {

namespace fs = std::filesystem;

std::vector<std::string> MergedUsrNames(const std::string& path) {
  std::vector<std::string> names = {path};
  for (const char* top : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    std::string root = fmt::format("/{}/", top), usr = fmt::format("/usr/{}/", top);
    if (path.starts_with(usr)) names.push_back(path.substr(4));
    if (path.starts_with(root)) names.push_back("/usr" + path);
  }
  return names;
}

std::string DpkgSearchOwner(const std::string& line) {
  if (line.starts_with("diversion by ")) return "";
  size_t end = line.find(": /");  // the owners, then the path
  if (end == std::string::npos) return "";
  std::string owners = line.substr(0, end);
  return owners.substr(0, owners.find(", "));
}

// The installed package that owns `target` (by any name dpkg may know it by), or "".
static std::string OwningPackage(const std::string& target, const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> tried;
  // The file itself first: a symlink to it may belong to another package (libbz2.so: libbz2-dev).
  for (const std::string& given : {fs::canonical(target, ec).string(),
                                   fs::absolute(target, ec).lexically_normal().string()}) {
    for (const std::string& name : MergedUsrNames(given)) {
      if (name.empty() || std::find(tried.begin(), tried.end(), name) != tried.end()) continue;
      tried.push_back(name);
      if (name != given && !fs::equivalent(name, target, ec)) continue;  // not merged here
      auto out = CommandOutput(fmt::format("dpkg -S '{}' 2>/dev/null", name), dir);
      if (!out.ok()) continue;
      std::istringstream lines(*out);
      for (std::string line; std::getline(lines, line);)
        if (std::string owner = DpkgSearchOwner(line); !owner.empty()) return owner;
    }
  }
  return "";
}

Result<DebianSource> FetchDebianSource(const std::string& spec, const std::string& target,
                                       const std::function<void(const std::string&)>& progress) {
  std::string root = CacheDir("debian-src");
  std::error_code ec;
  fs::create_directories(root, ec);
  std::string log = root + "/apt.log";
  DebianSource src;
  size_t eq = spec.find('=');
  src.package = spec.substr(0, eq);
  if (eq != std::string::npos) src.version = spec.substr(eq + 1);
  if (src.version.empty()) {
    // The installed package that owns the target says which source built it.
    std::string owner = OwningPackage(target, root);
    if (owner.empty())
      return Err("{} belongs to no installed Debian package (dpkg -S); give --debian-source PKG=VERSION", target);
    GRAFT_ASSIGN(std::string both, CommandOutput(fmt::format("dpkg-query -W -f '${{source:Package}}=${{source:Version}}' '{}'",
                                                             owner), root));
    size_t at = both.find('=');
    std::string pkg = both.substr(0, at), version = both.substr(at + 1);
    if (!src.package.empty() && src.package != pkg)
      return Err("{} was installed by {}, built from source package {}, not {}", target, owner, pkg, src.package);
    src.package = pkg;
    src.version = version;
  }
  std::string dir = fmt::format("{}/{}_{}", root, src.package, src.version);
  src.tree = dir + "/src";
  if (!fs::exists(dir + "/extracted")) {
    if (progress) progress(fmt::format("fetching the source of {} {} (apt-get source)", src.package, src.version));
    fs::create_directories(dir, ec);
    // Same steps as scripts/fetch-debian-source.sh, which the tests use.
    Status enabled = RunCommand(
        "grep -rqs '^Types:.*deb-src\\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d || "
        "{ sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources "
        ">/etc/apt/sources.list.d/graft-src.sources && apt-get update -qq; }",
        dir, log);
    if (!enabled.ok())
      return Err("cannot enable deb-src in apt's sources (as root, add a deb-src line); see {}", log);
    // Stale package lists are the usual reason a version is not found.
    std::string fetch = fmt::format("apt-get source -qq --download-only '{}={}'", src.package, src.version);
    Status got = RunCommand(fetch, dir, log);
    if (!got.ok()) got = RunCommand("apt-get update -qq && " + fetch, dir, log);
    if (!got.ok())
      return Err("apt-get source {}={} failed (not in any deb-src archive apt knows: an old version is only on "
                 "snapshot.debian.org); see {}", src.package, src.version, log);
    std::string version_no_epoch = src.version.substr(src.version.find(':') + 1);
    fs::remove_all(src.tree, ec);
    GRAFT_TRY(RunCommand(fmt::format("dpkg-source -x '{}_{}.dsc' src", src.package, version_no_epoch), dir, log));
    std::ofstream(dir + "/extracted") << src.package << " " << src.version << "\n";
  }
  // What the package needs to build must be installed, as for dpkg-buildpackage.
  if (!RunCommand("dpkg-checkbuilddeps -B", src.tree, log).ok())
    return Err("the build dependencies of {} {} are not installed: apt-get build-dep '{}={}' (see {})", src.package,
               src.version, src.package, src.version, log);
  // Rerunnable: without the stamps of an earlier run, debian/rules builds
  // again (make then recompiles only what the fix changed). No tests, no
  // extra ABIs (lib32/lib64 variants), the flags dpkg-buildflags gives.
  src.build_command =
      "rm -f build-stamp build-arch-stamp debian/*stamp debian/*.debhelper.log && "
      "DEB_BUILD_OPTIONS=nocheck DEB_BUILD_PROFILES='nocheck nobiarch' debian/rules build-arch";
  return src;
}

}  // namespace graft::build
