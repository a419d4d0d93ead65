// Running build tools: a shell command in a directory with its output
// appended to a log, and applying a fix (a unified diff) to a tree.
#pragma once

#include <map>
#include <string>

#include "base/status.h"

namespace graft {

// Runs `cmd` with sh -c in `dir`, extra environment `env`, stdout and stderr
// appended to `log`. The error names the command, the exit status and the log.
Status RunCommand(const std::string& cmd, const std::string& dir, const std::string& log,
                  const std::map<std::string, std::string>& env = {});

// Runs `cmd` with sh -c in `dir` and returns its standard output, trailing
// newlines removed; the error names the command and its exit status.
Result<std::string> CommandOutput(const std::string& cmd, const std::string& dir = ".");

// Runs `cmd` with sh -c and returns its exit status (-1: did not exit) and
// what it printed on stdout and stderr, trailing newlines removed: for
// callers whose error message quotes the tool's own words.
struct CapturedRun {
  int exit_status = -1;
  std::string output;
};
CapturedRun RunCaptured(const std::string& cmd);

// Where graft keeps what it downloads and builds once (source packages,
// kernel sources): $GRAFT_CACHE/<what>, else /var/cache/graft/<what> for
// root, else ~/.cache/graft/<what>.
std::string CacheDir(const std::string& what);

// Applies `diff` to `tree` with patch -p1, else -p0 (whichever applies cleanly).
Status ApplyDiff(const std::string& diff, const std::string& tree, const std::string& log);

}  // namespace graft
