// The compiler wrapper of source-tree builds. graft places symlinks named
// cc, gcc, c++, g++ (pointing at itself) first on PATH; invoked under such a
// name with GRAFT_WRAP_LOG set, it records the compilation (directory,
// arguments, output object), adds -ffunction-sections -fdata-sections (and a
// prefix map naming the original tree) to compile steps, and execs the real
// compiler found further down PATH.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::build {

inline constexpr char kWrapLogEnv[] = "GRAFT_WRAP_LOG";
inline constexpr char kWrapDirEnv[] = "GRAFT_WRAP_DIR";
inline constexpr char kWrapPrefixMapEnv[] = "GRAFT_WRAP_PREFIX_MAP";  // "COPY=ORIGINAL" for -ffile-prefix-map
inline const std::vector<std::string> kWrappedCompilers = {"cc", "gcc", "c++", "g++"};

// If argv[0] names a wrapped compiler and the log is set, runs as the wrapper
// and never returns (execs the compiler) or returns the exit code on error.
std::optional<int> MaybeRunAsCompilerWrapper(int argc, char** argv);

struct Compilation {
  std::string directory;
  std::vector<std::string> arguments;
  std::string output;  // absolute path of the object written
  std::string source;
};

// Reads the log the wrapper appended to (one JSON object per line).
Result<std::vector<Compilation>> ReadCompilationLog(const std::string& path);

}  // namespace graft::build
