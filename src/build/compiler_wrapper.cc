// The wrapper records before it execs, so a compile that fails is recorded
// too; source_build only trusts outputs that exist afterwards.
#include "build/compiler_wrapper.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace graft::build {

namespace fs = std::filesystem;

static std::string FindRealCompiler(const std::string& name, const std::string& skip_dir) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    start = end + 1;
    if (dir.empty() || fs::weakly_canonical(dir) == fs::weakly_canonical(skip_dir)) continue;
    std::string cand = dir + "/" + name;
    if (access(cand.c_str(), X_OK) == 0) return cand;
  }
  return "";
}

std::optional<int> MaybeRunAsCompilerWrapper(int argc, char** argv) {
  std::string name = fs::path(argv[0]).filename().string();
  const char* log = std::getenv(kWrapLogEnv);
  const char* dir = std::getenv(kWrapDirEnv);
  if (!log || !dir || std::find(kWrappedCompilers.begin(), kWrappedCompilers.end(), name) == kWrappedCompilers.end())
    return std::nullopt;
  std::string real = FindRealCompiler(name, dir);
  if (real.empty()) {
    fprintf(stderr, "graft compiler wrapper: no real '%s' on PATH\n", name.c_str());
    return 127;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  bool compile = false;
  std::string output, source;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "-c") compile = true;
    if (a == "-o" && i + 1 < args.size()) output = args[i + 1];
    if (a.size() > 2 && a[0] != '-' && (a.ends_with(".c") || a.ends_with(".cc") || a.ends_with(".cpp") ||
                                        a.ends_with(".cxx") || a.ends_with(".C")))
      source = a;
  }
  std::vector<std::string> exec_args = {real};
  exec_args.insert(exec_args.end(), args.begin(), args.end());
  if (compile && !source.empty()) {
    exec_args.push_back("-ffunction-sections");
    exec_args.push_back("-fdata-sections");
    // __FILE__ of a file compiled by absolute path (CMake does that) must
    // name the user's tree, not graft's copy, or the string literals differ
    // from the running binary's. Placed first: a build's own prefix maps come
    // later on the command line and take precedence, as they did originally.
    if (const char* map = std::getenv(kWrapPrefixMapEnv); map && *map)
      exec_args.insert(exec_args.begin() + 1, std::string("-ffile-prefix-map=") + map);
    if (output.empty()) output = fs::path(source).stem().string() + ".o";
    std::string cwd = fs::current_path().string();
    nlohmann::json j = {{"directory", cwd}, {"arguments", args}, {"source", source},
                        {"output", (fs::path(cwd) / output).lexically_normal().string()}};
    std::string line = j.dump() + "\n";
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      flock(fd, LOCK_EX);
      (void)!write(fd, line.data(), line.size());
      close(fd);
    }
  }
  std::vector<char*> cargs;
  for (std::string& a : exec_args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  execv(real.c_str(), cargs.data());
  fprintf(stderr, "graft compiler wrapper: cannot run %s: %s\n", real.c_str(), strerror(errno));
  return 127;
}

Result<std::vector<Compilation>> ReadCompilationLog(const std::string& path) {
  std::vector<Compilation> out;
  std::ifstream in(path);
  if (!in) return out;  // nothing was compiled
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    n++;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return Err("{}:{}: malformed compilation record", path, n);
    Compilation c;
    c.directory = j.value("directory", "");
    c.arguments = j.value("arguments", std::vector<std::string>{});
    c.output = j.value("output", "");
    c.source = j.value("source", "");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace graft::build
