// Only translation units the second build recompiles are diffed: that is
// exactly what the fix touched (plus anything the build system considers
// dependent, such as files including a changed header).
#include "build/source_build.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <algorithm>
#include <map>

#include "build/compiler_wrapper.h"

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

// Runs `cmd` with sh -c in `dir`; output goes to `log`.
Status Run(const std::string& cmd, const std::string& dir, const std::string& log,
           const std::map<std::string, std::string>& env) {
  pid_t pid = fork();
  if (pid < 0) return Err("fork: {}", strerror(errno));
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(126);
    for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    FILE* f = freopen(log.c_str(), "a", stdout);
    if (f) dup2(fileno(stdout), 2);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return OkStatus();
  return Err("`{}` failed in {} (exit {}); see {}", cmd, dir, WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
}

Status ApplyDiff(const std::string& diff, const std::string& tree, const std::string& log) {
  std::string abs = fs::absolute(diff).string();
  if (!fs::exists(abs)) return Err("diff {} does not exist", diff);
  for (const char* p : {"-p1", "-p0"}) {
    std::string dry = fmt::format("patch {} --dry-run -s -f -i '{}' >/dev/null 2>&1", p, abs);
    if (Run(dry, tree, log, {}).ok())
      return Run(fmt::format("patch {} -s -f -i '{}'", p, abs), tree, log, {});
  }
  return Err("diff {} does not apply to the tree (tried -p1 and -p0); is it for this version?", diff);
}

}  // namespace

Result<userspace::BuildSummary> BuildFromSource(const SourceBuildRequest& req) {
  if (!fs::is_directory(req.source_dir)) return Err("source tree {} is not a directory", req.source_dir);
  if (req.diffs.empty()) return Err("give at least one --diff with the fix");
  Progress progress(req.quiet);
  std::string work = req.work_dir;
  bool temporary = work.empty();
  if (temporary) {
    char tmpl[] = "/tmp/graft-build.XXXXXX";
    if (!mkdtemp(tmpl)) return Err("cannot create a work directory: {}", strerror(errno));
    work = tmpl;
  }
  struct Cleanup {
    std::string dir;
    bool on;
    ~Cleanup() {
      std::error_code ec;
      if (on) fs::remove_all(dir, ec);
    }
  } cleanup{work, temporary};

  std::string tree = work + "/tree", bin = work + "/bin", log = work + "/build.log";
  std::string wraplog = work + "/compilations.jsonl";
  progress.Step(1, fmt::format("copying {} to {}", req.source_dir, tree));
  std::error_code ec;
  fs::remove_all(tree, ec);
  fs::copy(req.source_dir, tree, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) return Err("cannot copy {}: {}", req.source_dir, ec.message());
  // Objects already in the tree would make the build skip compiling, and the
  // wrapper must see (and flag) every compilation: start from sources.
  size_t stale = 0;
  for (auto it = fs::recursive_directory_iterator(tree, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto ext = it->path().extension();
    if (it->is_regular_file() && (ext == ".o" || ext == ".lo" || ext == ".obj")) stale += fs::remove(it->path(), ec);
  }
  if (stale) progress.Step(1, fmt::format("removed {} object file(s) found in the copy", stale));
  fs::create_directories(bin);
  std::string self = fs::read_symlink("/proc/self/exe").string();
  for (const std::string& c : kWrappedCompilers) {
    fs::remove(bin + "/" + c, ec);
    fs::create_symlink(self, bin + "/" + c, ec);
    if (ec) return Err("cannot create the compiler wrapper {}/{}: {}", bin, c, ec.message());
  }
  const char* path = std::getenv("PATH");
  std::map<std::string, std::string> env = {
      {"PATH", bin + ":" + (path ? path : "/usr/bin:/bin")}, {"CC", bin + "/cc"}, {"CXX", bin + "/c++"},
      {kWrapLogEnv, wraplog}, {kWrapDirEnv, bin}};

  progress.Step(2, fmt::format("building the original tree ({})", req.build_command));
  GRAFT_TRY(Run(req.build_command, tree, log, env));
  GRAFT_ASSIGN(auto first, ReadCompilationLog(wraplog));
  if (first.empty())
    return Err("`{}` compiled nothing through graft's wrapper; does the build use cc/gcc from PATH or $CC?",
               req.build_command);
  std::map<std::string, std::string> originals;  // output object -> snapshot
  fs::create_directories(work + "/orig");
  for (size_t i = 0; i < first.size(); i++) {
    if (!fs::exists(first[i].output)) continue;
    std::string snap = fmt::format("{}/orig/{}-{}", work, i, fs::path(first[i].output).filename().string());
    fs::copy_file(first[i].output, snap, fs::copy_options::overwrite_existing, ec);
    if (!ec) originals[first[i].output] = snap;
  }

  progress.Step(3, fmt::format("applying {} diff(s)", req.diffs.size()));
  for (const std::string& d : req.diffs) GRAFT_TRY(ApplyDiff(d, tree, log));

  progress.Step(4, "rebuilding what the fix changed");
  fs::remove(wraplog, ec);
  GRAFT_TRY(Run(req.build_command, tree, log, env));
  GRAFT_ASSIGN(auto second, ReadCompilationLog(wraplog));
  userspace::BundleRequest bundle = req.bundle;
  bundle.original_objects.clear();
  bundle.patched_objects.clear();
  for (const Compilation& c : second) {
    auto it = originals.find(c.output);
    if (it == originals.end())
      return Err("the fix adds translation unit {} ({}); a live patch can only change existing ones", c.source,
                 c.output);
    if (std::find(bundle.patched_objects.begin(), bundle.patched_objects.end(), c.output) != bundle.patched_objects.end())
      continue;
    bundle.original_objects.push_back(it->second);
    bundle.patched_objects.push_back(c.output);
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
