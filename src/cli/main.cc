// graft: turns source-level fixes into live patches and grafts them into
// running processes.
#include <CLI/CLI.hpp>

#include "build/compiler_wrapper.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  // Under the names cc/gcc/c++/g++ graft is the compiler wrapper of source builds.
  if (auto code = graft::build::MaybeRunAsCompilerWrapper(argc, argv)) return *code;
  CLI::App app{
      "graft - live-patch running Linux software without restarting it.\n"
      "Build a patch bundle from a fix (objects or a source tree and a diff), apply it\n"
      "to running processes, list and revert it; keep security advisories, score CVSS\n"
      "vectors and report which CVEs a host still carries, counting live patches."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "graft 0.1.0");
  graft::cli::RegisterBuildCommand(app);
  graft::cli::RegisterUserspaceCommands(app);
  graft::cli::RegisterCvssCommand(app);
  graft::cli::RegisterAdvisoryCommands(app);
  graft::cli::RegisterScanCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
