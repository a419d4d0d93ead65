#include "kernel/source_build.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/subprocess.h"
#include "base/unified_diff.h"
#include "base/work_dir.h"
#include "kernel/module_info.h"
#include "kernel/source_tree.h"

namespace graft::kernel {

namespace fs = std::filesystem;

Result<std::vector<std::string>> ChangedFiles(const std::string& diff, const std::string& tree) {
  GRAFT_ASSIGN(TreeChanges tc, ChangesInTree(diff, tree, "a live patch"));
  return tc.files;
}

namespace {

std::string LogTail(const std::string& log, size_t max) {
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max) text = "..." + text.substr(text.size() - max);
  return text;
}

// The common source tree a Debian-style headers package builds against
// (its Makefile is "include <tree>/Makefile").
std::string HeadersSourceTree(const std::string& headers) {
  std::ifstream in(fs::path(headers) / "Makefile");
  std::string first;
  std::getline(in, first);
  if (first.rfind("include ", 0) != 0) return headers;
  return fs::path(first.substr(8)).parent_path().string();
}

}  // namespace

Result<KernelBuildSummary> BuildKernelLivePatchFromSource(const KernelSourceRequest& req) {
  if (!fs::is_directory(req.source_dir)) return Err("kernel source tree {} is not a directory", req.source_dir);
  if (req.diffs.empty()) return Err("give the fix with --diff");
  auto say = [&](const std::string& m) {
    if (req.build.progress) req.build.progress(m);
  };
  std::string release = req.build.kernel_release;
  if (release.empty()) {
    struct utsname u;
    uname(&u);
    release = u.release;
  }
  std::string headers = req.build.headers.empty() ? "/usr/src/linux-headers-" + release : req.build.headers;
  if (!fs::exists(fs::path(headers) / "Makefile"))
    return Err("no kernel headers at {}: install linux-headers-{} (or give --headers)", headers, release);
  // Sources of another version would compile, and run-pre might not catch
  // every difference: refuse them first.
  GRAFT_ASSIGN(std::string tree_version, TreeVersion(req.source_dir));
  if (auto want = TreeVersion(HeadersSourceTree(headers)); want.ok() && *want != tree_version)
    return Err("{} holds the sources of Linux {}, but kernel {} is {} (its headers): give the sources of the running "
               "kernel", req.source_dir, tree_version, release, *want);

  std::vector<std::string> files;
  for (const auto& d : req.diffs) {
    GRAFT_ASSIGN(auto changed, ChangedFiles(d, req.source_dir));
    for (auto& f : changed)
      if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  }
  for (const auto& f : files)
    if (!f.ends_with(".c"))
      return Err("the fix changes {}: only .c files can be rebuilt this way (a header change reaches every file "
                 "that includes it); build the objects yourself and use --orig/--patched", f);

  GRAFT_ASSIGN(auto workdir, WorkDir::Make(req.build.work_dir, "graft-ksrc"));
  const std::string work = workdir->path(), log = work + "/build.log";
  const std::string fixed = work + "/fixed";
  std::error_code ec;
  fs::remove_all(fixed, ec);
  say(fmt::format("applying the fix to an overlay of {} ({})", req.source_dir, fmt::join(files, ", ")));
  GRAFT_TRY(MakeOverlay(req.source_dir, fixed, files));
  for (const auto& d : req.diffs) GRAFT_TRY(ApplyDiff(d, fixed, log));
  const std::vector<std::pair<std::string, std::string>> srctrees = {{"orig", fs::absolute(req.source_dir).string()}, {"fixed", fixed}};
  for (const auto& [tree, src] : srctrees) GRAFT_TRY(MakeObjectTree(headers, src, work + "/obj-" + tree));

  // One kbuild run per tree and Makefile directory, all its files at once.
  std::map<std::string, std::vector<std::string>> by_dir;
  for (const auto& f : files) by_dir[KbuildDirectory(req.source_dir, f)].push_back(f);
  long jobs = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  for (const auto& [tree, src] : srctrees) {
    for (const auto& [dir, in_dir] : by_dir) {
      std::string targets;
      for (const auto& f : in_dir)
        targets += " '" + fs::path(f).lexically_relative(dir).replace_extension(".o").string() + "'";
      say(fmt::format("compiling {} {} with kbuild", tree, fmt::join(in_dir, ", ")));
      Status built = RunCommand(fmt::format("make -s -j{} M='{}' KCFLAGS='-ffunction-sections -fdata-sections'{}",
                                            jobs, dir, targets),
                                work + "/obj-" + tree, log);
      if (!built.ok())
        return Err("kbuild could not compile {} of the {} tree (is it configured in kernel {}?):\n{}",
                   fmt::join(in_dir, ", "), tree, release, LogTail(log, 2000));
    }
  }

  // Group the object pairs by what they belong to: vmlinux or a module.
  KernelBuildRequest build = req.build;
  build.kernel_release = release;
  build.headers = headers;
  build.work_dir = req.build.work_dir.empty() ? "" : work + "/kbuild";
  // Modules the caller named (--target-module) are kept; others are found.
  std::vector<KernelBuildTarget> given = std::move(build.targets);
  build.targets.clear();
  for (const auto& f : files) {
    std::string object = fs::path(f).replace_extension(".o").string();
    std::pair<std::string, std::string> pair{work + "/obj-orig/" + object, work + "/obj-fixed/" + object};
    if (!fs::exists(pair.first) || !fs::exists(pair.second))
      return Err("kbuild did not produce {} (is {} built in kernel {}'s configuration?)", object, f, release);
    GRAFT_ASSIGN(std::string owner, ObjectOwner(pair.first));
    std::string name = owner.empty() ? "vmlinux" : owner;
    auto t = std::find_if(build.targets.begin(), build.targets.end(), [&](auto& x) { return x.object == name; });
    if (t == build.targets.end()) {
      KernelBuildTarget target;
      target.object = name;
      for (const auto& g : given)
        if (g.object == name) target.target_module = g.target_module;
      if (!owner.empty() && target.target_module.empty()) {
        target.target_module = InstalledModuleFile(release, owner);
        if (target.target_module.empty())
          return Err("{} is part of module {}, which is not installed under /lib/modules/{}: build with --orig/--patched "
                     "and --target-module", f, owner, release);
        if (!target.target_module.ends_with(".ko"))
          return Err("{} is compressed: build with --orig/--patched and --target-module with the uncompressed module",
                     target.target_module);
      }
      build.targets.push_back(target);
      t = build.targets.end() - 1;
    }
    t->objects.push_back(pair);
    say(fmt::format("{} belongs to {}", f, name));
  }
  return BuildKernelLivePatch(build);
}

}  // namespace graft::kernel
