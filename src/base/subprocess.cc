#include "base/subprocess.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace graft {

Status RunCommand(const std::string& cmd, const std::string& dir, const std::string& log,
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

namespace {

// popen's output, trailing newlines and blanks removed, and the exit status.
Result<CapturedRun> ReadPipe(const std::string& full, const std::string& cmd) {
  FILE* p = popen(full.c_str(), "r");
  if (!p) return Err("cannot run `{}`: {}", cmd, strerror(errno));
  CapturedRun r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == ' ')) r.output.pop_back();
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace

Result<std::string> CommandOutput(const std::string& cmd, const std::string& dir) {
  GRAFT_ASSIGN(CapturedRun r, ReadPipe(fmt::format("cd '{}' && {}", dir, cmd), cmd));
  if (r.exit_status != 0) return Err("`{}` failed in {} (exit {})", cmd, dir, r.exit_status);
  return r.output;
}

CapturedRun RunCaptured(const std::string& cmd) {
  auto r = ReadPipe(cmd + " 2>&1", cmd);
  if (!r.ok()) return {-1, r.error().message()};
  return *r;
}

std::string CacheDir(const std::string& what) {
  if (const char* c = getenv("GRAFT_CACHE"); c && *c) return std::string(c) + "/" + what;
  if (geteuid() == 0) return "/var/cache/graft/" + what;
  const char* x = getenv("XDG_CACHE_HOME");
  std::string home = getenv("HOME") ? getenv("HOME") : ".";
  return (x && *x ? std::string(x) : home + "/.cache") + "/graft/" + what;
}

Status ApplyDiff(const std::string& diff, const std::string& tree, const std::string& log) {
  std::string abs = std::filesystem::absolute(diff).string();
  if (!std::filesystem::exists(abs)) return Err("diff {} does not exist", diff);
  for (const char* p : {"-p1", "-p0"}) {
    std::string dry = fmt::format("patch {} --dry-run -s -f -i '{}' >/dev/null 2>&1", p, abs);
    if (RunCommand(dry, tree, log).ok()) return RunCommand(fmt::format("patch {} -s -f -i '{}'", p, abs), tree, log);
  }
  // Say which hunks fail at the level that finds the files.
  std::string why = CommandOutput(fmt::format("patch -p1 --dry-run -f -i '{}' 2>&1 | grep -E 'FAILED|can.t find file' | head -5", abs), tree)
                        .value_or("");
  return Err("diff {} does not apply to the tree (tried -p1 and -p0); is it for this version?{}{}", diff,
             why.empty() ? "" : "\n", why);
}

}  // namespace graft
