#include "kernel/source_build.h"

#include <sys/utsname.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/subprocess.h"
#include "base/work_dir.h"
#include "kernel/module_info.h"

namespace graft::kernel {

namespace fs = std::filesystem;

Result<std::vector<std::string>> ChangedFiles(const std::string& diff, const std::string& tree) {
  std::ifstream in(diff);
  if (!in) return Err("cannot read diff {}", diff);
  std::vector<std::string> out;
  std::string line, minus;
  while (std::getline(in, line)) {
    if (line.rfind("--- ", 0) == 0) {
      minus = line.substr(4, line.find('\t') == std::string::npos ? std::string::npos : line.find('\t') - 4);
      continue;
    }
    if (line.rfind("+++ ", 0) != 0) continue;
    std::string plus = line.substr(4, line.find('\t') == std::string::npos ? std::string::npos : line.find('\t') - 4);
    if (plus == "/dev/null") return Err("{} deletes {}: a live patch can only change existing files", diff, minus);
    if (minus == "/dev/null") return Err("{} adds {}: a live patch can only change existing files", diff, plus);
    // -p1 ("b/fs/proc/cmdline.c") or -p0 ("fs/proc/cmdline.c").
    std::string path = plus;
    if (!fs::exists(fs::path(tree) / path)) {
      size_t slash = path.find('/');
      if (slash != std::string::npos && fs::exists(fs::path(tree) / path.substr(slash + 1))) path = path.substr(slash + 1);
    }
    if (!fs::exists(fs::path(tree) / path))
      return Err("{} changes {}, which is not in {}: is the tree the sources of this kernel?", diff, plus, tree);
    if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
  }
  if (out.empty()) return Err("{} changes no file (not a unified diff?)", diff);
  return out;
}

namespace {

// The module a kbuild-compiled object belongs to ("" for vmlinux), from the
// flags kbuild recorded in its .cmd file.
Result<std::string> ObjectOwner(const fs::path& object) {
  fs::path cmd = object.parent_path() / ("." + object.filename().string() + ".cmd");
  std::ifstream in(cmd);
  if (!in) return Err("kbuild left no {}", cmd.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string first = text.substr(0, text.find('\n'));
  if (first.find(" -DMODULE ") == std::string::npos) return std::string();
  size_t at = first.find("-DKBUILD_MODNAME='\"");
  if (at == std::string::npos) return Err("{}: a module object without KBUILD_MODNAME", cmd.string());
  at += 19;
  return first.substr(at, first.find('"', at) - at);
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
  std::set<std::string> dirs;
  for (const auto& f : files) dirs.insert(fs::path(f).parent_path().string());
  for (const char* tree : {"orig", "fixed"}) {
    for (const auto& d : dirs) {
      // The directory's own files (sources, local headers, Makefile), not its subdirectories.
      fs::path to = fs::path(work) / tree / d;
      std::error_code ec;
      fs::remove_all(to, ec);
      fs::create_directories(to, ec);
      for (const auto& e : fs::directory_iterator(fs::path(req.source_dir) / d, ec))
        if (e.is_regular_file()) fs::copy_file(e.path(), to / e.path().filename(), ec);
      if (ec) return Err("copying {} to {}: {}", d, to.string(), ec.message());
    }
  }
  say(fmt::format("applying the fix to copies of {}", fmt::join(dirs, ", ")));
  for (const auto& d : req.diffs) GRAFT_TRY(ApplyDiff(d, work + "/fixed", log));

  KernelBuildRequest build = req.build;
  build.kernel_release = release;
  build.headers = headers;
  build.work_dir = req.build.work_dir.empty() ? "" : work + "/kbuild";
  std::string owner;
  for (const auto& f : files) {
    std::pair<std::string, std::string> pair;
    for (const char* tree : {"orig", "fixed"}) {
      fs::path dir = fs::path(work) / tree / fs::path(f).parent_path();
      std::string object = fs::path(f).filename().replace_extension(".o").string();
      say(fmt::format("compiling {} {} with kbuild", tree, f));
      Status built = RunCommand(fmt::format("make -s -C '{}' M='{}' KCFLAGS='-ffunction-sections -fdata-sections' '{}'",
                                            headers, dir.string(), object), work, log);
      if (!built.ok()) {
        std::ifstream in(log);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
        return Err("kbuild could not compile {} of the {} tree (is it configured in this kernel? does its directory "
                   "need headers the headers package lacks?):\n{}", f, tree, text);
      }
      (std::string(tree) == "orig" ? pair.first : pair.second) = (dir / object).string();
    }
    GRAFT_ASSIGN(std::string o, ObjectOwner(pair.first));
    if (&f != &files.front() && o != owner)
      return Err("the fix changes code of {} and of {}: build one live patch per object", owner.empty() ? "vmlinux" : owner,
                 o.empty() ? "vmlinux" : o);
    owner = o;
    build.objects.push_back(pair);
  }
  build.object = owner.empty() ? "vmlinux" : owner;
  if (!owner.empty() && build.target_module.empty()) {
    build.target_module = InstalledModuleFile(release, owner);
    if (build.target_module.empty())
      return Err("{} is part of module {}, which is not installed under /lib/modules/{}: give --target-module",
                 files.front(), owner, release);
    if (!build.target_module.ends_with(".ko"))
      return Err("{} is compressed: give --target-module with the uncompressed module", build.target_module);
  }
  say(fmt::format("{} belongs to {}", fmt::join(files, ", "), build.object));
  return BuildKernelLivePatch(build);
}

}  // namespace graft::kernel
