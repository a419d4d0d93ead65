// Only translation units the second build recompiles are diffed: that is
// exactly what the fix touched (plus anything the build system considers
// dependent, such as files including a changed header).
#include "build/source_build.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/subprocess.h"
#include "base/work_dir.h"
#include "build/compiler_wrapper.h"
#include "elf/object_file.h"

namespace graft::build {

namespace fs = std::filesystem;

namespace {

class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), start_(std::chrono::steady_clock::now()) {}
  void Step(int n, const std::string& what) {
    if (quiet_) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    fprintf(stderr, "[%d/5 %6.1fs] %s\n", n, s, what.c_str());
  }

 private:
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) return Err("cannot write {}", path);
  return OkStatus();
}

// What a warm rebuild must match: the tree given (every file but objects, by
// path, size and modification time), the build command and the compiler. Any
// edit to the tree or another command or compiler means building the
// original again.
Result<std::string> TreeStamp(const SourceBuildRequest& req, const std::string& compiler) {
  std::error_code ec;
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(req.source_dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec) || IsObjectName(it->path().string())) continue;
    auto mtime = it->last_write_time(ec).time_since_epoch().count();
    lines.push_back(fmt::format("{} {} {}", fs::relative(it->path(), req.source_dir, ec).string(),
                                it->file_size(ec), mtime));
  }
  if (ec) return Err("cannot read source tree {}: {}", req.source_dir, ec.message());
  std::sort(lines.begin(), lines.end());
  size_t h = std::hash<std::string>{}(fs::absolute(req.source_dir).lexically_normal().string());
  for (const std::string& l : lines) h = h * 1000003u ^ std::hash<std::string>{}(l);
  // "layout 2": the work directory keeps the first build's compilation log
  // (earlier ones kept only what went into the first run's target).
  return fmt::format("layout 2\nsource {}\nbuild {}\ncompiler {}\nfiles {} {:016x}\n",
                     fs::absolute(req.source_dir).string(),
                     req.build_command, compiler.empty() ? "default" : compiler, lines.size(), h);
}

Status WriteSnapshotIndex(const std::string& path, const std::map<std::string, std::string>& originals) {
  std::string text;
  for (auto& [out, snap] : originals) text += out + "\t" + snap + "\n";
  return WriteText(path, text);
}

Result<std::map<std::string, std::string>> ReadSnapshotIndex(const std::string& path) {
  std::map<std::string, std::string> originals;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    originals[line.substr(0, tab)] = line.substr(tab + 1);
  }
  if (originals.empty()) return Err("{} lists no original objects; remove the work directory and build again", path);
  return originals;
}

// The objects linked into the binary named like the target (by content: the
// build may have renamed them after compiling, objs/x.o -> x.lo), and that
// binary, kept as a symbol source for a stripped target. Found for each run
// from the first build's log: one work directory serves every binary the
// package builds (libbz2.so.1.0.4 and /usr/bin/bzip2 share bzip2's).
struct Linked {
  std::set<std::string> outputs;
  std::vector<std::string> symbol_files;
};

Linked FindLinked(const std::vector<Compilation>& log, const std::string& target, const std::string& keep_dir) {
  Linked out;
  // The target may be named through a symlink (libbz2.so.1.0, as ldconfig
  // lists it); the build links the file it points to (libbz2.so.1.0.4).
  std::error_code ec;
  std::string name = fs::path(target).filename().string();
  std::string real = fs::canonical(target, ec).filename().string();
  std::map<uint64_t, std::string> by_hash;
  for (const Compilation& c : log)
    if (!c.link && c.hash) by_hash[c.hash] = c.output;
  for (const Compilation& c : log) {
    std::string linked = fs::path(c.output).filename().string();
    if (!c.link || (linked != name && linked != real)) continue;
    for (uint64_t h : c.inputs)
      if (auto it = by_hash.find(h); it != by_hash.end()) out.outputs.insert(it->second);
    std::string keep = fmt::format("{}/linked-{}-{}", keep_dir, out.symbol_files.size(), linked);
    if (fs::copy_file(c.output, keep, fs::copy_options::overwrite_existing, ec)) out.symbol_files.push_back(keep);
  }
  return out;
}

// The GCC major version a binary's .comment names ("GCC: (Debian 12.2.0-14)
// 12.2.0" -> 12), or 0.
int GccMajorOf(const std::string& comment) {
  size_t at = comment.find("GCC: ");
  if (at == std::string::npos) return 0;
  size_t close = comment.find(") ", at);
  size_t num = close == std::string::npos ? at + 5 : close + 2;
  return std::atoi(comment.c_str() + num);
}

// --compiler, or the GCC the target was built with when gcc is another one
// and that version is installed (Debian keeps gcc-N side by side).
Result<std::string> ChooseCompiler(const SourceBuildRequest& req, Progress& progress) {
  if (!req.compiler.empty()) {
    if (!IsCompilerName(req.compiler))
      return Err("--compiler {}: not a C compiler name (gcc-11, clang-14, x86_64-linux-gnu-gcc-12, ...)",
                 req.compiler);
    return req.compiler;
  }
  auto target = elf::ObjectFile::Open(req.bundle.target);
  if (!target.ok()) return std::string();
  int want = GccMajorOf((*target)->Comment());
  if (!want) return std::string();
  int have = std::atoi(CommandOutput("gcc -dumpversion 2>/dev/null").value_or("0").c_str());
  if (have == want) return std::string();
  std::string versioned = fmt::format("gcc-{}", want);
  for (const std::string& n : CompilerNamesOnPath())
    if (n == versioned) {
      progress.Step(1, fmt::format("{} was built by GCC {}; building with {} (--compiler to choose)",
                                   req.bundle.target, want, versioned));
      return versioned;
    }
  progress.Step(1, fmt::format("warning: {} was built by GCC {} but gcc is GCC {} and {} is not installed "
                               "(apt-get install {}); the rebuild may not reproduce the target",
                               req.bundle.target, want, have, versioned, versioned));
  return std::string();
}

}  // namespace

Result<userspace::BuildSummary> BuildFromSource(const SourceBuildRequest& req) {
  if (!fs::is_directory(req.source_dir)) return Err("source tree {} is not a directory", req.source_dir);
  if (req.diffs.empty()) return Err("give at least one --diff with the fix");
  Progress progress(req.quiet);
  GRAFT_ASSIGN(auto workdir, WorkDir::Make(req.work_dir, "graft-build"));
  const std::string work = workdir->path();
  const bool temporary = workdir->temporary();

  std::string tree = work + "/tree", base = work + "/base", bin = work + "/bin", log = work + "/build.log";
  std::string wraplog = work + "/compilations.jsonl";
  std::error_code ec;
  fs::create_directories(bin);
  std::string self = fs::read_symlink("/proc/self/exe").string();
  for (const std::string& c : CompilerNamesOnPath()) {
    fs::remove(bin + "/" + c, ec);
    fs::create_symlink(self, bin + "/" + c, ec);
    if (ec) return Err("cannot create the compiler wrapper {}/{}: {}", bin, c, ec.message());
  }
  const char* path = std::getenv("PATH");
  std::map<std::string, std::string> env = {
      {"PATH", bin + ":" + (path ? path : "/usr/bin:/bin")}, {"CC", bin + "/cc"}, {"CXX", bin + "/c++"},
      {kWrapLogEnv, wraplog}, {kWrapDirEnv, bin}, {kWrapSnapshotEnv, work + "/snapshots"},
      {kWrapPrefixMapEnv, tree + "=" + fs::absolute(req.source_dir).lexically_normal().string()}};

  GRAFT_ASSIGN(std::string compiler, ChooseCompiler(req, progress));
  if (!compiler.empty()) {
    env[kWrapCompilerEnv] = compiler;
    env["CC"] = bin + "/" + compiler;
    env["CXX"] = bin + "/" + CxxCompilerFor(compiler);
  }
  std::map<std::string, std::string> originals;  // output object -> snapshot
  Linked linked;  // what went into the target, and candidate symbol sources
  GRAFT_ASSIGN(std::string stamp, TreeStamp(req, compiler));
  if (!temporary && ReadText(work + "/base.stamp") == stamp) {
    // Warm: the original was built by an earlier run with the same tree and
    // command. `cp -a` keeps timestamps, so make sees the copy as up to date
    // and only what the diffs touch is recompiled.
    progress.Step(2, fmt::format("reusing the original built earlier in {}", base));
    fs::remove_all(tree, ec);
    GRAFT_TRY(RunCommand(fmt::format("cp -a '{}' '{}'", base, tree), work, log, {}));
    GRAFT_ASSIGN(originals, ReadSnapshotIndex(work + "/orig/index.tsv"));
    GRAFT_ASSIGN(auto first, ReadCompilationLog(work + "/orig/compilations.jsonl"));
    linked = FindLinked(first, req.bundle.target, work + "/orig");  // the copy is the original yet
  } else {
    progress.Step(1, fmt::format("copying {} to {}", req.source_dir, tree));
    fs::remove(work + "/base.stamp", ec);
    fs::remove_all(tree, ec);
    fs::remove_all(base, ec);
    fs::remove_all(work + "/orig", ec);
    // Timestamps must survive the copy: with fresh ones, an autotools tree's
    // make would try to regenerate configure and Makefile.in.
    if (!RunCommand(fmt::format("cp -a '{}' '{}'", fs::absolute(req.source_dir).string(), tree), work, log, {}).ok())
      return Err("cannot copy {} to {}; see {}", req.source_dir, tree, log);
    // Objects already in the tree would make the build skip compiling, and the
    // wrapper must see (and flag) every compilation: start from sources.
    size_t stale = 0;
    for (auto it = fs::recursive_directory_iterator(tree, ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file() && IsObjectName(it->path().string())) stale += fs::remove(it->path(), ec);
    }
    if (stale) progress.Step(1, fmt::format("removed {} object file(s) found in the copy", stale));
    // A CMake build directory is bound to the absolute path of the tree it was
    // configured for: building in the copy would compile the user's tree.
    std::vector<fs::path> cmake_dirs;
    for (auto it = fs::recursive_directory_iterator(tree, ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->path().filename() == "CMakeCache.txt") cmake_dirs.push_back(it->path().parent_path());
    }
    for (const fs::path& d : cmake_dirs) {
      progress.Step(1, fmt::format("dropped CMake build directory {} from the copy (configured for the original "
                                   "path; the build command must configure again)",
                                   fs::relative(d, tree, ec).string()));
      fs::remove_all(d, ec);
    }

    progress.Step(2, fmt::format("building the original tree ({})", req.build_command));
    fs::remove(wraplog, ec);
    GRAFT_TRY(RunCommand(req.build_command, tree, log, env));
    GRAFT_ASSIGN(auto first, ReadCompilationLog(wraplog));
    if (first.empty())
      return Err("`{}` compiled nothing through graft's wrapper; does the build use cc/gcc from PATH or $CC?",
                 req.build_command);
    fs::create_directories(work + "/orig");
    for (size_t i = 0; i < first.size(); i++) {
      if (first[i].link || first[i].snapshot.empty()) continue;
      std::string snap = fmt::format("{}/orig/{}-{}", work, i, fs::path(first[i].output).filename().string());
      fs::copy_file(first[i].snapshot, snap, fs::copy_options::overwrite_existing, ec);
      if (!ec) originals[first[i].output] = snap;
    }
    linked = FindLinked(first, req.bundle.target, work + "/orig");
    fs::copy_file(wraplog, work + "/orig/compilations.jsonl", fs::copy_options::overwrite_existing, ec);
    if (ec) return Err("cannot keep the compilation log in {}/orig: {}", work, ec.message());
    if (!temporary) {
      // Keep the built original for the next run with this work directory.
      progress.Step(2, fmt::format("keeping the built original in {} for warm rebuilds", base));
      GRAFT_TRY(RunCommand(fmt::format("cp -a '{}' '{}'", tree, base), work, log, {}));
      GRAFT_TRY(WriteSnapshotIndex(work + "/orig/index.tsv", originals));
      GRAFT_TRY(WriteText(work + "/base.stamp", stamp));
    }
  }

  if (!linked.outputs.empty())
    progress.Step(2, fmt::format("{} object(s) of the build went into {}", linked.outputs.size(),
                                 fs::path(req.bundle.target).filename().string()));
  progress.Step(3, fmt::format("applying {} diff(s)", req.diffs.size()));
  for (const std::string& d : req.diffs) GRAFT_TRY(ApplyDiff(d, tree, log));

  progress.Step(4, "rebuilding what the fix changed");
  fs::remove(wraplog, ec);
  GRAFT_TRY(RunCommand(req.build_command, tree, log, env));
  GRAFT_ASSIGN(auto second, ReadCompilationLog(wraplog));
  userspace::BundleRequest bundle = req.bundle;
  bundle.original_objects.clear();
  bundle.patched_objects.clear();
  bundle.symbol_candidates = linked.symbol_files;
  std::set<std::string> seen;
  for (const Compilation& c : second) {
    if (c.link || c.snapshot.empty()) continue;
    // Only objects that went into the target: not the static library's
    // copies, other programs, or configure's probes (conftest.o, ztest123.o).
    if (!linked.outputs.empty() && !linked.outputs.count(c.output)) continue;
    auto it = originals.find(c.output);
    if (it == originals.end()) {
      if (linked.outputs.empty() && !fs::exists(c.output)) continue;  // a probe whose output vanished
      return Err("the fix adds translation unit {} ({}); a live patch can only change existing ones", c.source,
                 c.output);
    }
    if (!seen.insert(c.output).second) continue;
    bundle.original_objects.push_back(it->second);
    bundle.patched_objects.push_back(c.snapshot);
  }
  if (bundle.patched_objects.empty())
    return Err("the rebuild after applying the diffs compiled nothing: the fix changes no C/C++ source");

  progress.Step(5, fmt::format("diffing {} object pair(s) and verifying against {}", bundle.patched_objects.size(),
                               bundle.target));
  auto summary = userspace::BuildBundle(bundle);
  if (!summary.ok() && summary.error().message().find("run-pre") != std::string::npos)
    return summary.error().context(
        "the tree rebuilt from source does not reproduce the running binary's code (another compiler, other "
        "flags, or other sources?), so a patch built from it cannot be trusted");
  return summary;
}

}  // namespace graft::build
