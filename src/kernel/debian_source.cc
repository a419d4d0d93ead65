#include "kernel/debian_source.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/subprocess.h"

namespace graft::kernel {

namespace fs = std::filesystem;

namespace {

std::string Marker(const std::string& dir) {
  std::string m = ".got-" + dir;
  for (char& c : m)
    if (c == '/') c = '_';
  return m;
}

}  // namespace

Result<std::vector<std::string>> DiffDirectories(const std::string& diff) {
  std::ifstream in(diff);
  if (!in) return Err("cannot read diff {}", diff);
  std::vector<std::string> dirs;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("+++ ", 0) != 0) continue;
    std::string path = line.substr(4, line.find('\t') == std::string::npos ? std::string::npos : line.find('\t') - 4);
    if (path.rfind("b/", 0) == 0) path = path.substr(2);
    std::string dir = fs::path(path).parent_path().string();
    if (!dir.empty() && std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  if (dirs.empty()) return Err("{} changes no file in a directory (not a unified diff of a kernel tree?)", diff);
  return dirs;
}

Result<std::string> DebianKernelSource(const std::string& release, const std::vector<std::string>& dirs,
                                       const std::function<void(const std::string&)>& progress) {
  std::string version =
      CommandOutput("dpkg-query -W -f '${Version}' 'linux-image-" + release + "' 2>/dev/null").value_or("");
  if (version.empty())
    return Err("linux-image-{} is not an installed Debian package: give the kernel's sources with --source", release);
  std::string series = release.substr(0, release.find('.', release.find('.') + 1));  // "6.1"
  std::string cache = CacheDir("kernel"), log = cache + "/fetch.log";
  std::error_code ec;
  fs::create_directories(cache, ec);
  if (ec) return Err("cannot create {}: {}", cache, ec.message());
  std::string deb = fmt::format("{}/linux-source-{}_{}_all.deb", cache, series, version);
  if (!fs::exists(deb)) {
    if (progress) progress(fmt::format("downloading linux-source-{}={} (Debian's sources of kernel {})", series, version, release));
    Status got = RunCommand(fmt::format("apt-get download -q 'linux-source-{}={}'", series, version), cache, log);
    if (!got.ok() || !fs::exists(deb))
      return Err("cannot download linux-source-{}={} (deb-src or the package lists may be missing: apt-get update); "
                 "see {}", series, version, log);
  }
  std::string tree = fmt::format("{}/linux-source-{}", cache, version);
  fs::create_directories(tree, ec);
  std::string wanted;
  std::vector<std::string> missing;
  for (const auto& d : dirs)
    if (!fs::exists(tree + "/" + Marker(d))) missing.push_back(d), wanted += fmt::format(" 'linux-source-{}/{}'", series, d);
  if (!missing.empty()) {
    if (progress) progress(fmt::format("extracting {} from the kernel sources", fmt::join(missing, ", ")));
    GRAFT_TRY(RunCommand(fmt::format("dpkg-deb --fsys-tarfile '{}' | tar -xO './usr/src/linux-source-{}.tar.xz' | "
                                     "tar -xJ -C '{}' --strip-components=1{}", deb, series, tree, wanted),
                         cache, log));
    for (const auto& d : missing) std::ofstream(tree + "/" + Marker(d));
  }
  return tree;
}

}  // namespace graft::kernel
