// `graft build`: a bundle from object files (--orig/--patched) or from a
// source tree and a fix (--source/--diff).
#include <fmt/format.h>

#include "build/source_build.h"
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
      "From objects (compiled with -ffunction-sections -fdata-sections):\n"
      "  graft build --orig lparser.o --patched lparser.fixed.o --target /usr/bin/lua5.4 -o fix.graft\n"
      "From a source tree and a fix:\n"
      "  graft build --source lua-5.4.4 --diff cve.patch --target ./lua -o fix.graft --cve CVE-2022-28805\n"
      "Every function whose code changed is replaced; the original objects must reproduce the target's\n"
      "code exactly (run-pre verification) or the build is refused, naming the functions that differ.");
  auto req = std::make_shared<userspace::BundleRequest>();
  auto src = std::make_shared<build::SourceBuildRequest>();
  cmd->add_option("--orig", req->original_objects, "Original object files");
  cmd->add_option("--patched", req->patched_objects, "Patched object files, same order as --orig");
  cmd->add_option("--source", src->source_dir, "Source tree to build (left untouched; a copy is built)");
  cmd->add_option("--diff", src->diffs, "Fix to apply to the source tree (repeatable)");
  cmd->add_option("--build", src->build_command, "Build command run in the tree (default: make)");
  cmd->add_option("--work-dir", src->work_dir, "Where the tree copy is built (default: a temporary directory)");
  cmd->add_option("--target", req->target, "The running executable or shared library the patch is for")->required();
  cmd->add_option("-o,--output", req->output, "Bundle file to write")->required();
  cmd->add_option("--id", req->id, "Patch id (default: output file name without extension)");
  cmd->add_option("--cve", req->cves, "CVE the patch fixes (repeatable)");
  cmd->add_option("--description", req->description, "Free text shown by graft info and list");
  cmd->add_flag("-v,--verbose", src->verbose, "Progress lines on stderr");
  cmd->callback([req, src] {
    if (!src->source_dir.empty()) {
      if (!req->original_objects.empty()) Fail(Err("use either --source or --orig/--patched, not both"), 2);
      if (src->diffs.empty()) Fail(Err("--source needs at least one --diff"), 2);
      src->target = req->target;
      src->output = req->output;
      src->id = req->id;
      src->cves = req->cves;
      src->description = req->description;
      PrintSummary(Check(build::BuildFromSource(*src)), req->output);
      return;
    }
    if (req->original_objects.empty()) Fail(Err("give --orig/--patched objects or --source/--diff"), 2);
    PrintSummary(Check(userspace::BuildBundle(*req)), req->output);
  });
}

}  // namespace graft::cli
