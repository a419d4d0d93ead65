// `graft build`: a bundle from object files (--orig/--patched) or from a
// source tree and a fix (--source/--diff).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "build/debian_package.h"
#include "build/source_build.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "userspace/bundle_builder.h"

namespace graft::cli {

namespace {
void PrintSummary(const userspace::BuildSummary& s, const std::string& out, bool as_json) {
  if (as_json) {
    nlohmann::json j = {{"output", out},           {"id", s.id},
                        {"target_build_id", s.target_build_id}, {"replaced", s.replaced},
                        {"added", s.added},         {"new_data", s.new_data},
                        {"constants_only", s.constants_only}, {"ignored", s.ignored},
                        {"notes", s.notes},         {"unwind_tables", s.unwind_tables},
                        {"code_bytes", s.code_bytes}, {"symbol_source", s.symbol_source}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("wrote {} (patch {}, target build-id {})\n", out, s.id, s.target_build_id);
  if (!s.symbol_source.empty()) fmt::print("  stripped  {}\n", s.symbol_source);
  fmt::print("  run-pre   {} function(s) verified against the target's code\n", s.replaced.size());
  for (const auto& f : s.replaced) fmt::print("  replaces  {}\n", f);
  for (const auto& f : s.added) fmt::print("  adds      {}\n", f);
  for (const auto& d : s.new_data) fmt::print("  new data  {}\n", d);
  for (const auto& c : s.constants_only)
    fmt::print("  note      only constants differ in {}: line numbers (__LINE__)? --ignore-function leaves it out\n", c);
  for (const auto& c : s.ignored) fmt::print("  ignored   {}\n", c);
  for (const auto& n : s.notes) fmt::print("  note      {}\n", n);
  if (s.unwind_tables) fmt::print("  unwind    frame descriptions of the new code included\n");
  fmt::print("  {} bytes of code and data\n", s.code_bytes);
}
}  // namespace

void RegisterBuildCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("build", "Build a live patch bundle from a fix");
  cmd->footer(
      "From a source tree and a fix (the tree is copied, built through graft's compiler wrapper,\n"
      "patched and rebuilt; only what the fix recompiles is diffed):\n"
      "  graft build --source lua-5.4.4 --diff 0004-cve-2022-28805.patch --build 'make linux' \\\n"
      "              --target /usr/local/bin/lua -o cve-2022-28805.graft --cve CVE-2022-28805\n"
      "From objects compiled with -ffunction-sections -fdata-sections (the running target need not be):\n"
      "  graft build --orig lparser.o --patched lparser.fixed.o --target ./lua -o fix.graft\n"
      "Every function whose code changed is replaced; the original objects must reproduce the target's\n"
      "code (run-pre verification) or the build is refused, naming the functions that differ. A fix that\n"
      "changes a struct or union layout (seen in the objects' DWARF) is refused too, naming the type. The\n"
      "new code's unwind tables travel with it, for C++ exceptions thrown through patched functions.");
  auto req = std::make_shared<userspace::BundleRequest>();
  auto src = std::make_shared<build::SourceBuildRequest>();
  cmd->add_option("--orig", req->original_objects, "Original object files");
  cmd->add_option("--patched", req->patched_objects, "Patched object files, same order as --orig");
  cmd->add_option("--source", src->source_dir, "Source tree the running target was built from (left untouched)");
  cmd->add_option("--diff", src->diffs, "The fix: a unified diff applied to the tree (repeatable, in order)");
  auto* build_opt = cmd->add_option("--build", src->build_command,
                                    "Build command run in the tree's copy (default: make; with --debian-source:\n"
                                    "debian/rules build-arch as dpkg-buildpackage runs it, without tests)");
  auto debian = std::make_shared<std::string>();
  auto* debian_opt = cmd->add_option("--debian-source", *debian,
                                     "Build from Debian's source of what is installed: PKG[=VERSION], or nothing for\n"
                                     "the source package and version of the installed package owning --target\n"
                                     "(apt-get source, cached; deb-src enabled when missing; build dependencies\n"
                                     "must be installed: apt-get build-dep)")
                        ->expected(0, 1);
  cmd->add_option("--work-dir", src->work_dir, "Keep the build here instead of a temporary directory; a later run with the same tree,\n"
                  "command and work directory reuses the built original (warm: only the fix is compiled)");
  cmd->add_flag("-q,--quiet", src->quiet, "No progress lines");
  auto as_json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *as_json, "Print the summary as JSON (progress lines stay on stderr)");
  cmd->add_option("--target", req->target, "The running executable or shared library the patch is for")->required();
  cmd->add_option("-o,--output", req->output, "Bundle file to write")->required();
  cmd->add_option("--id", req->id, "Patch id (default: output file name without extension)");
  cmd->add_option("--cve", req->cves, "CVE the patch fixes (repeatable)");
  cmd->add_option("--symbols", req->symbols,
                  "For a stripped target (as distributions install them): a file with its symbols, either its\n"
                  "debug file or an unstripped build of the same sources; accepted only when it describes the\n"
                  "target's code exactly. Default: /usr/lib/debug/.build-id/... if installed, then (with\n"
                  "--source) the binaries the source build linked. The patch keeps the target's build-id");
  cmd->add_option("--compiler", src->compiler,
                  "With --source: build with this C compiler (e.g. gcc-11; C++ follows: g++-11), whatever\n"
                  "names the build calls. Default: the GCC version named in the target's .comment section\n"
                  "when it differs from gcc's and gcc-N is installed");
  cmd->add_option("--supersedes", req->supersedes,
                  "Id of an earlier patch for the same target that this one replaces (repeatable): a patch\n"
                  "level. Build it from the original source with every fix so far (cumulative); applying it\n"
                  "where the earlier one is active switches in one stop");
  cmd->add_option("--description", req->description, "Free text shown by graft info and list");
  cmd->add_option("--allow-layout-change", req->allowed_layout_changes,
                  "Accept that the fix changes this type's layout, e.g. 'struct foo' (repeatable): only when no "
                  "object of it outlives the patch");
  cmd->add_option("--ignore-function", req->ignored_functions,
                  "Leave out a function whose only change is constants, e.g. __LINE__ moved by lines the fix "
                  "added above it (repeatable); refused for any other change");
  cmd->add_flag("--allow-unwind-gap", req->allow_unwind_gap,
                "Patch a target that throws C++ exceptions although the objects carry no unwind tables: only "
                "when no exception can pass through the changed functions");
  cmd->callback([req, src, as_json, debian, debian_opt, build_opt] {
    if (debian_opt->count()) {
      if (!src->source_dir.empty()) Fail(Error("use either --source or --debian-source, not both"), 2);
      auto progress = [src](const std::string& s) {
        if (!src->quiet) fmt::print(stderr, "[debian] {}\n", s);
      };
      build::DebianSource ds = Check(build::FetchDebianSource(*debian, req->target, progress));
      progress(fmt::format("{} {} in {}", ds.package, ds.version, ds.tree));
      src->source_dir = ds.tree;
      if (!build_opt->count()) src->build_command = ds.build_command;
    }
    if (!src->source_dir.empty()) {
      if (!req->original_objects.empty() || !req->patched_objects.empty())
        Fail(Error("use either --source/--diff or --orig/--patched, not both"), 2);
      src->bundle = *req;
      PrintSummary(Check(build::BuildFromSource(*src)), req->output, *as_json);
      return;
    }
    if (req->original_objects.empty()) Fail(Error("give --orig/--patched objects, or --source with --diff"), 2);
    PrintSummary(Check(userspace::BuildBundle(*req)), req->output, *as_json);
  });
}

}  // namespace graft::cli
