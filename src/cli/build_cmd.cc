// `graft build`: a bundle from object files (--orig/--patched).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "userspace/bundle_builder.h"

namespace graft::cli {

namespace {
void PrintSummary(const userspace::BuildSummary& s, const std::string& out) {
  fmt::print("wrote {} (patch {}, target build-id {})\n", out, s.id, s.target_build_id);
  for (const auto& f : s.replaced) fmt::print("  replaces  {}\n", f);
  for (const auto& f : s.added) fmt::print("  adds      {}\n", f);
  for (const auto& d : s.new_data) fmt::print("  new data  {}\n", d);
  fmt::print("  {} bytes of code and data\n", s.code_bytes);
}
}  // namespace

void RegisterBuildCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "Build a live patch bundle from a fix");
  cmd->footer(
      "Objects are compiled with -ffunction-sections -fdata-sections (the running target need not be):\n"
      "  graft build --orig lparser.o --patched lparser.fixed.o --target ./lua -o fix.graft --cve CVE-2022-28805\n"
      "Every function whose code changed is replaced; the original objects must reproduce the target's\n"
      "code exactly (run-pre verification) or the build is refused, naming the functions that differ.");
  auto req = std::make_shared<userspace::BundleRequest>();
  cmd->add_option("--orig", req->original_objects, "Original object files")->required();
  cmd->add_option("--patched", req->patched_objects, "Patched object files, same order as --orig")->required();
  cmd->add_option("--target", req->target, "The running executable or shared library the patch is for")->required();
  cmd->add_option("-o,--output", req->output, "Bundle file to write")->required();
  cmd->add_option("--id", req->id, "Patch id (default: output file name without extension)");
  cmd->add_option("--cve", req->cves, "CVE the patch fixes (repeatable)");
  cmd->add_option("--description", req->description, "Free text shown by graft info and list");
  cmd->callback([req] {
    PrintSummary(Check(userspace::BuildBundle(*req)), req->output);
  });
}

}  // namespace graft::cli
