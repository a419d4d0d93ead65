// graft: turns source-level fixes into live patches and grafts them into
// running processes.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "build/compiler_wrapper.h"
#include "cli/commands.h"

namespace {

// A scan builds tens of megabytes of small objects in a fresh process; most
// of its system time is page faults. Letting malloc's heap use transparent
// huge pages (a glibc tunable, read only at start, hence the re-exec) cut a
// dense 3,000-package scan from 123 to 83 ms (docs/benchmarks.md).
void ReexecScanWithHugePages(char** argv) {
  if (!argv[1] || std::strcmp(argv[1], "scan") != 0) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.hugetlb")) return;
  std::string value = tunables && *tunables ? std::string(tunables) + ":" : std::string();
  value += "glibc.malloc.hugetlb=1";
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("GLIBC_TUNABLES");  // exec failed: run as we are
  if (tunables) setenv("GLIBC_TUNABLES", tunables, 1);
}

}  // namespace

int main(int argc, char** argv) {
  // Under the names cc/gcc/c++/g++ graft is the compiler wrapper of source builds.
  if (auto code = graft::build::MaybeRunAsCompilerWrapper(argc, argv)) return *code;
  ReexecScanWithHugePages(argv);
  CLI::App app{
      "graft - live-patch running Linux software without restarting it.\n"
      "Build a patch bundle from a fix (objects or a source tree and a diff), apply it\n"
      "to running processes, list and revert it; keep security advisories, score CVSS\n"
      "vectors and report which CVEs a host still carries, counting live patches."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "graft " GRAFT_VERSION);
  graft::cli::RegisterBuildCommand(app);
  graft::cli::RegisterUserspaceCommands(app);
  graft::cli::RegisterCvssCommand(app);
  graft::cli::RegisterAdvisoryCommands(app);
  graft::cli::RegisterScanCommands(app);
  graft::cli::RegisterKernelCommands(app);
  graft::cli::RegisterTrustCommands(app);
  graft::cli::RegisterHostCommands(app);
  graft::cli::RegisterRepoCommands(app);
  graft::cli::RegisterUpdateCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
