// The wrapper records after the compiler finished, so only steps that
// succeeded and wrote their output are in the log.
#include "build/compiler_wrapper.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace graft::build {

namespace fs = std::filesystem;

bool IsCompilerName(const std::string& name) {
  static const std::regex re(R"(^([A-Za-z0-9_]+-[A-Za-z0-9_]+-[A-Za-z0-9_]+-)?(cc|gcc|c\+\+|g\+\+|clang|clang\+\+)(-[0-9]+(\.[0-9]+)*)?$)");
  return std::regex_match(name, re);
}

static std::vector<std::string> PathDirs() {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    if (end > start) out.push_back(p.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> CompilerNamesOnPath() {
  std::set<std::string> names = {"cc", "gcc", "c++", "g++"};
  for (const std::string& dir : PathDirs()) {
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d))
      if (IsCompilerName(e->d_name) && access((dir + "/" + e->d_name).c_str(), X_OK) == 0) names.insert(e->d_name);
    closedir(d);
  }
  return {names.begin(), names.end()};
}

std::string CxxCompilerFor(const std::string& c) {
  for (auto [from, to] : {std::pair{"clang", "clang++"}, std::pair{"gcc", "g++"}, std::pair{"cc", "c++"}}) {
    size_t at = c.rfind(from);
    if (at != std::string::npos && c.find("++") == std::string::npos)
      return c.substr(0, at) + to + c.substr(at + std::strlen(from));
  }
  return c;
}

static std::string FindRealCompiler(const std::string& name, const std::string& skip_dir) {
  for (const std::string& dir : PathDirs()) {
    if (fs::weakly_canonical(dir) == fs::weakly_canonical(skip_dir)) continue;
    std::string cand = dir + "/" + name;
    if (access(cand.c_str(), X_OK) == 0) return cand;
  }
  return "";
}

static uint64_t Fnv(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

uint64_t FileHash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  return Fnv(bytes.data(), bytes.size());  // FNV-1a
}

// Content hashes of the members of an ar archive (a static library is linked
// by its members); the members of a thin archive are files beside it.
static std::vector<uint64_t> ArchiveMemberHashes(const std::string& path) {
  std::vector<uint64_t> out;
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> a((std::istreambuf_iterator<char>(in)), {});
  bool thin = a.size() >= 8 && std::memcmp(a.data(), "!<thin>\n", 8) == 0;
  if (a.size() < 8 || (!thin && std::memcmp(a.data(), "!<arch>\n", 8) != 0)) return out;
  std::string names;  // GNU long-name table "//"
  for (size_t at = 8; at + 60 <= a.size();) {
    std::string name(reinterpret_cast<const char*>(&a[at]), 16);
    size_t size = std::strtoul(std::string(reinterpret_cast<const char*>(&a[at + 48]), 10).c_str(), nullptr, 10);
    size_t data = at + 60;
    bool special = name.rfind("/ ", 0) == 0 || name.rfind("// ", 0) == 0 || name.rfind("/SYM64/", 0) == 0;
    if (name.rfind("// ", 0) == 0 && data + size <= a.size())
      names.assign(reinterpret_cast<const char*>(&a[data]), size);
    if (!special) {
      if (thin) {
        std::string member = name.substr(0, name.find('/'));
        if (name[0] == '/') {
          size_t off = std::strtoul(name.c_str() + 1, nullptr, 10);
          member = off < names.size() ? names.substr(off, names.find("/\n", off) - off) : "";
        }
        if (!member.empty()) out.push_back(FileHash((fs::path(path).parent_path() / member).string()));
      } else if (data + size <= a.size()) {
        out.push_back(Fnv(&a[data], size));
      }
    }
    // Thin archives hold no member data; regular ones are 2-byte aligned.
    at = data + ((thin && !special) ? 0 : size);
    at += at & 1;
  }
  return out;
}

bool IsObjectName(const std::string& a) {
  return a.ends_with(".o") || a.ends_with(".lo") || a.ends_with(".obj");
}

static bool IsSourceName(const std::string& a) {
  return a.ends_with(".c") || a.ends_with(".cc") || a.ends_with(".cpp") || a.ends_with(".cxx") || a.ends_with(".C");
}

// An ELF relocatable object or an ar archive (regular or thin), by its first bytes.
static bool IsLinkableFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[18] = {};
  if (!in.read(head, sizeof head) && in.gcount() < 8) return false;
  if (std::memcmp(head, "!<arch>\n", 8) == 0 || std::memcmp(head, "!<thin>\n", 8) == 0) return true;
  if (in.gcount() < 18 || std::memcmp(head, ELFMAG, SELFMAG) != 0) return false;
  uint16_t type;  // e_type, in the file's byte order (little-endian here, as on every target graft patches)
  std::memcpy(&type, head + 16, sizeof type);
  return type == ET_REL;
}

std::vector<std::string> LinkInputs(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "-o") {  // the output, not an input (it may exist from an earlier build)
      i++;
      continue;
    }
    if (a.empty() || a[0] == '-' || IsSourceName(a)) continue;
    std::error_code ec;
    if (fs::is_regular_file(fs::path(cwd) / a, ec) && IsLinkableFile((fs::path(cwd) / a).string())) out.push_back(a);
  }
  return out;
}

static void Append(const char* log, const nlohmann::json& j) {
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  flock(fd, LOCK_EX);
  (void)!write(fd, line.data(), line.size());
  close(fd);
}

// Runs a compiler and waits: the exit status, or 128+N for a signal.
static int Run(const std::string& real, std::vector<std::string> args) {
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "graft compiler wrapper: fork: %s\n", strerror(errno));
    return 127;
  }
  if (child == 0) {
    execv(real.c_str(), cargs.data());
    fprintf(stderr, "graft compiler wrapper: cannot run %s: %s\n", real.c_str(), strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::optional<int> MaybeRunAsCompilerWrapper(int argc, char** argv) {
  std::string name = fs::path(argv[0]).filename().string();
  const char* log = std::getenv(kWrapLogEnv);
  const char* dir = std::getenv(kWrapDirEnv);
  if (!log || !dir || !IsCompilerName(name)) return std::nullopt;
  // With a chosen compiler, every C name runs it and every C++ name its C++ twin.
  std::string want = name;
  if (const char* chosen = std::getenv(kWrapCompilerEnv); chosen && *chosen)
    want = name.find("++") != std::string::npos ? CxxCompilerFor(chosen) : chosen;
  std::string real = FindRealCompiler(want, dir);
  if (real.empty()) {
    fprintf(stderr, "graft compiler wrapper: no real '%s' on PATH\n", want.c_str());
    return 127;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  bool compile = false;
  std::string output, source;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "-c") compile = true;
    if (a == "-o" && i + 1 < args.size()) output = args[++i];
    else if (a.size() > 2 && a[0] != '-' && IsSourceName(a))
      source = a;
  }
  bool compiling = compile && !source.empty();
  if (compiling && output.empty()) output = fs::path(source).stem().string() + ".o";
  // The build's own step, exactly as asked: the binary it links must be the
  // one the distribution linked (it can then lend a stripped target its
  // symbols).
  std::vector<std::string> exec_args = {real};
  exec_args.insert(exec_args.end(), args.begin(), args.end());
  int rc = Run(real, exec_args);
  if (rc != 0 || output.empty()) return rc;
  std::string cwd = fs::current_path().string();
  std::string out_abs = (fs::path(cwd) / output).lexically_normal().string();
  std::error_code ec;
  if (!fs::exists(out_abs, ec)) return rc;
  if (!compiling) {
    if (compile) return rc;
    std::vector<std::string> inputs = LinkInputs(args, cwd);
    if (inputs.empty()) return rc;
    std::vector<uint64_t> hashes;
    for (const std::string& in : inputs) {
      std::string at = (fs::path(cwd) / in).string();
      std::vector<uint64_t> members = ArchiveMemberHashes(at);  // none: an object
      if (members.empty()) members.push_back(FileHash(at));
      hashes.insert(hashes.end(), members.begin(), members.end());
    }
    Append(log, {{"link", true}, {"directory", cwd}, {"output", out_abs}, {"inputs", hashes}});
    return rc;
  }
  nlohmann::json j = {{"directory", cwd}, {"arguments", args}, {"source", source}, {"output", out_abs},
                      {"hash", FileHash(out_abs)}};
  // The same unit again, for graft: one section per function and object
  // (what the diff works on), written beside the build, never into it.
  if (const char* snaps = std::getenv(kWrapSnapshotEnv); snaps && *snaps) {
    fs::create_directories(snaps, ec);
    std::string snap = fmt::format("{}/{}-{}-{}", snaps, getpid(), time(nullptr), fs::path(out_abs).filename().string());
    std::vector<std::string> again = {real};
    // __FILE__ of a file compiled by absolute path (CMake does that) must
    // name the user's tree, not graft's copy, or the string literals differ
    // from the running binary's. Placed first: a build's own prefix maps come
    // later on the command line and take precedence, as they did originally.
    if (const char* map = std::getenv(kWrapPrefixMapEnv); map && *map)
      again.push_back(std::string("-ffile-prefix-map=") + map);
    for (size_t i = 0; i < args.size(); i++) {
      const std::string& a = args[i];
      // Dependency files belong to the build's own step.
      if (a == "-MD" || a == "-MMD" || a == "-MP") continue;
      if ((a == "-MF" || a == "-MT" || a == "-MQ") && i + 1 < args.size()) {
        i++;
        continue;
      }
      if (a == "-o" && i + 1 < args.size()) {
        i++;
        continue;
      }
      again.push_back(a);
    }
    again.insert(again.end(), {"-ffunction-sections", "-fdata-sections", "-o", snap});
    if (Run(real, again) == 0) j["snapshot"] = snap;
  }
  Append(log, j);
  return rc;
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
    c.link = j.value("link", false);
    c.directory = j.value("directory", "");
    c.arguments = j.value("arguments", std::vector<std::string>{});
    c.output = j.value("output", "");
    c.source = j.value("source", "");
    c.snapshot = j.value("snapshot", "");
    c.hash = j.value("hash", uint64_t{0});
    c.inputs = j.value("inputs", std::vector<uint64_t>{});
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace graft::build
