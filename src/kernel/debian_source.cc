#include "kernel/debian_source.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/subprocess.h"

namespace graft::kernel {

namespace fs = std::filesystem;

Result<std::string> DebianKernelSource(const std::string& release,
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
      return Err("cannot download linux-source-{}={} (the package lists may be missing: apt-get update); see {}",
                 series, version, log);
  }
  std::string tree = fmt::format("{}/linux-source-{}", cache, version);
  const std::string complete = tree + "/.graft-complete";
  if (fs::exists(complete)) return tree;
  // Extracted next to the cache entry and renamed when whole, so that an
  // interrupted extraction is never taken for a tree (earlier graft versions
  // extracted single directories: such a tree is replaced).
  auto t0 = std::chrono::steady_clock::now();
  if (progress) progress(fmt::format("extracting linux-source-{} {} (once; about 1.3 GB)", series, version));
  std::string partial = fmt::format("{}.partial.{}", tree, getpid());
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  GRAFT_TRY(RunCommand(fmt::format("dpkg-deb --fsys-tarfile '{}' | tar -xO './usr/src/linux-source-{}.tar.xz' | "
                                   "tar -xJ -C '{}' --strip-components=1 --exclude='linux-source-{}/Documentation'",
                                   deb, series, partial, series),
                       cache, log));
  std::ofstream(partial + "/.graft-complete") << version << "\n";
  fs::remove_all(tree, ec);
  fs::rename(partial, tree, ec);
  if (ec && !fs::exists(complete)) return Err("cannot move {} to {}: {}", partial, tree, ec.message());
  fs::remove_all(partial, ec);
  if (progress)
    progress(fmt::format("extracted in {:.0f} s",
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  return tree;
}

}  // namespace graft::kernel
