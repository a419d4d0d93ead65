// The compiler wrapper of source-tree builds. graft places symlinks named
// after every C/C++ compiler on PATH (cc, gcc, g++, gcc-12,
// x86_64-linux-gnu-gcc-12, clang-14, ...; all pointing at itself) first on
// PATH; invoked under such a name with GRAFT_WRAP_LOG set, it runs the real
// compiler (or the one GRAFT_WRAP_COMPILER names) exactly as the build asks,
// so the build links what the distribution linked; each compile step is then
// run again with -ffunction-sections -fdata-sections (and a prefix map naming
// the original tree) into a snapshot beside the build, the object graft
// diffs. It records each step that succeeded: compiles with that snapshot and
// the content hash of the build's object (builds move and rename objects:
// objs/x.o becomes x.lo), links with the content hashes of their inputs, so
// that the driver knows which objects went into which binary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::build {

inline constexpr char kWrapLogEnv[] = "GRAFT_WRAP_LOG";
inline constexpr char kWrapDirEnv[] = "GRAFT_WRAP_DIR";
inline constexpr char kWrapPrefixMapEnv[] = "GRAFT_WRAP_PREFIX_MAP";  // "COPY=ORIGINAL" for -ffile-prefix-map
inline constexpr char kWrapCompilerEnv[] = "GRAFT_WRAP_COMPILER";     // "gcc-11": the C compiler to run
inline constexpr char kWrapSnapshotEnv[] = "GRAFT_WRAP_SNAPSHOTS";    // where compiled objects are copied

// cc, gcc, c++, g++, clang, clang++, with an optional target triplet prefix
// and version suffix.
bool IsCompilerName(const std::string& name);
// The compiler names found in the directories of PATH (each once).
std::vector<std::string> CompilerNamesOnPath();
// An object file name as builds write them: .o, .lo (libtool), .obj.
bool IsObjectName(const std::string& path);
// The arguments of a compiler command line that are objects or static
// libraries to link, by content (ELF relocatable or ar archive), not by name:
// builds name their objects freely (bzip2's PIC objects are x.sho, glibc's
// x.os). Relative paths are taken from `cwd`.
std::vector<std::string> LinkInputs(const std::vector<std::string>& args, const std::string& cwd);
// The C++ compiler that goes with a C compiler name: gcc-11 -> g++-11.
std::string CxxCompilerFor(const std::string& c_compiler);

// If argv[0] names a wrapped compiler and the log is set, runs as the wrapper
// and returns the compiler's exit status.
std::optional<int> MaybeRunAsCompilerWrapper(int argc, char** argv);

struct Compilation {
  bool link = false;     // a link step (inputs), not a compile
  std::string directory;
  std::vector<std::string> arguments;
  std::string output;    // absolute path written
  std::string source;    // compile steps
  std::string snapshot;  // compile steps: a copy of the object as it was written
  uint64_t hash = 0;     // compile steps: content hash of the object
  std::vector<uint64_t> inputs;  // link steps: content hashes of the objects linked
};

// Reads the log the wrapper appended to (one JSON object per line).
Result<std::vector<Compilation>> ReadCompilationLog(const std::string& path);

// Content hash of a file as the wrapper computes it (0: unreadable).
uint64_t FileHash(const std::string& path);

}  // namespace graft::build
