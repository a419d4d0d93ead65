// `graft kernel status|load|unload|info`: the running kernel's live patches
// through the upstream livepatch API (sysfs and the module syscalls).
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kernel_sign.h"
#include "cli/output.h"
#include "kernel/author_api.h"
#include "kernel/debian_source.h"
#include "kernel/installed.h"
#include "kernel/live_state.h"
#include "kernel/loader.h"
#include "kernel/module_builder.h"
#include "kernel/module_info.h"
#include "kernel/module_signature.h"
#include "kernel/source_build.h"
#include "kernel/records.h"

namespace graft::cli {

using nlohmann::json;

json KernelStatusJson(const kernel::KernelStatus& st) {
  json patches = json::array();
  for (const auto& p : st.patches) {
    json objects = json::array();
    for (const auto& o : p.objects) {
      json fns = json::array();
      for (const auto& f : o.functions) fns.push_back({{"name", f.name}, {"sympos", f.sympos}});
      objects.push_back({{"name", o.name}, {"patched", o.patched}, {"functions", fns}});
    }
    patches.push_back({{"id", p.name}, {"where", "kernel"}, {"state", p.State()}, {"enabled", p.enabled},
                       {"transition", p.transition}, {"replace", p.replace}, {"cves", p.cves},
                       {"cves_from", p.cves_from}, {"module", p.module_path}, {"loaded_by_graft", p.loaded_by_graft},
                       {"loaded_at", p.loaded_at}, {"objects", objects}, {"replaced", p.replaced},
                       {"replaced_by", p.replaced_by}});
  }
  json installed = json::array();
  for (const auto& i : st.installed) installed.push_back({{"id", i.name}, {"module", i.path}, {"loaded", i.loaded}});
  return {{"kernel_release", st.release}, {"livepatch_supported", st.livepatch_supported},
          {"tainted_livepatch", st.tainted_livepatch}, {"patches", patches}, {"installed", installed}};
}

namespace {

json ModuleJson(const kernel::ModuleInfo& m) {
  json fields = json::object();
  for (const auto& [k, v] : m.fields) {
    if (fields.contains(k)) {
      if (!fields[k].is_array()) fields[k] = json::array({fields[k]});
      fields[k].push_back(v);
    } else {
      fields[k] = v;
    }
  }
  return {{"path", m.path}, {"name", m.name}, {"livepatch", m.livepatch}, {"kernel_release", m.KernelRelease()},
          {"vermagic", m.vermagic}, {"description", m.description}, {"cves", m.cves}, {"replace", m.replace},
          {"callbacks", m.callbacks}, {"modinfo", fields}};
}

void PrintStatus(const kernel::KernelStatus& st) {
  fmt::print("kernel {}: live patching {}{}\n", st.release, st.livepatch_supported ? "supported" : "not supported",
             st.tainted_livepatch ? ", tainted K (a live patch was loaded since boot)" : "");
  for (const auto& i : st.installed)
    fmt::print("installed for boot: {}{}\n", i.name, i.loaded ? "" : " (not loaded)");
  if (st.patches.empty()) {
    fmt::print("no live patches loaded\n");
    return;
  }
  fmt::print("{:<24} {:<11} {:<28} {}\n", "PATCH", "STATE", "CVES", "FUNCTIONS");
  for (const auto& p : st.patches) {
    std::string fns;
    for (const auto& o : p.objects)
      for (const auto& f : o.functions) fns += (fns.empty() ? "" : " ") + o.name + ":" + f.name;
    std::string cves = p.cves.empty() ? "-" : fmt::format("{}", fmt::join(p.cves, ","));
    if (!p.replaced_by.empty()) fns = "(replaced by " + p.replaced_by + "; module still loaded: graft kernel unload " + p.name + ")";
    fmt::print("{:<24} {:<11} {:<28} {}\n", p.name, p.State(), cves, fns.empty() ? "-" : fns);
    if (p.replace)
      fmt::print("{:<24} cumulative{}\n", "",
                 p.replaced.empty() ? "" : fmt::format(", replaced {} when loaded", fmt::join(p.replaced, ", ")));
  }
}

}  // namespace

void RegisterKernelCommands(CLI::App& app) {
  auto* group = app.add_subcommand("kernel", "Kernel live patches: build, load, status, unload, install, info");
  group->require_subcommand(1);
  group->footer(
      "Kernel live patches are modules tagged livepatch=Y for the upstream livepatch core\n"
      "(CONFIG_LIVEPATCH). A patch declares the CVEs it fixes with cve= tags in .modinfo and,\n"
      "for scanners reading the running kernel, a read-only 'cves' module parameter.\n"
      "graft keeps a record of each patch it loads in $GRAFT_STATE_DIR/kernel (root:\n"
      "/var/lib/graft/kernel); sysfs (/sys/kernel/livepatch) stays the truth.");
  auto records = std::make_shared<std::string>(kernel::DefaultRecordsDir());

  {
    auto* cmd = group->add_subcommand("build", "Build a kernel live patch module from a source fix or from objects");
    auto req = std::make_shared<kernel::KernelBuildRequest>();
    auto origs = std::make_shared<std::vector<std::string>>(), patched = std::make_shared<std::vector<std::string>>();
    auto as_json = std::make_shared<bool>(false), quiet = std::make_shared<bool>(false);
    auto source = std::make_shared<std::string>();
    auto diffs = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--source", *source, "Kernel source tree of the target kernel (with --diff)")->check(CLI::ExistingDirectory);
    auto debian = std::make_shared<bool>(false);
    cmd->add_flag("--debian-source", *debian,
                  "Fetch the kernel's sources from Debian (linux-source-X.Y of the image's version; with --diff)");
    cmd->add_option("--diff", *diffs, "The fix, a unified diff against --source (repeatable)")->check(CLI::ExistingFile);
    cmd->add_option("--orig", *origs, "Original object (.o) of a changed file; repeat, in the order of --patched")
        ->check(CLI::ExistingFile);
    cmd->add_option("--patched", *patched, "Patched object (.o) of the same file")->check(CLI::ExistingFile);
    auto object = std::make_shared<std::string>("vmlinux"), target_module = std::make_shared<std::string>();
    cmd->add_option("--object", *object, "What --orig/--patched belong to: vmlinux (default) or a module's name");
    cmd->add_option("--target-module", *target_module, "The patched module's .ko (when --object is a module)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--kernel-release", req->kernel_release, "Kernel to build for (default: the target module's, else uname -r)");
    cmd->add_option("--headers", req->headers, "Kernel headers/build tree (default /usr/src/linux-headers-RELEASE)");
    cmd->add_option("--system-map", req->system_map,
                    "vmlinux symbol map (default: linux-image-RELEASE-dbg's, /proc/kallsyms, /boot/System.map-RELEASE)");
    cmd->add_option("--vmlinux", req->vmlinux,
                    "vmlinux with symbols (linux-image-RELEASE-dbg; default /usr/lib/debug/boot/vmlinux-RELEASE): "
                    "tells same-named statics apart")
        ->check(CLI::ExistingFile);
    cmd->add_flag("--fetch-vmlinux", req->fetch_vmlinux,
                  "Download linux-image-RELEASE-dbg once (860 MB, cached) and keep only its vmlinux and System.map");
    cmd->add_option("--image", req->image, "Boot image whose code run-pre checks (default /boot/vmlinuz-RELEASE)");
    cmd->add_option("--name", req->name, "Module name (default: from the output file name)");
    cmd->add_option("--cve", req->cves, "CVE the patch fixes (repeatable)");
    cmd->add_option("--description", req->description, "One line for modinfo");
    cmd->add_option("-o,--output", req->output, "The live patch module to write (.ko)")->required();
    cmd->add_option("--work-dir", req->work_dir, "Keep the kbuild directory here (generated klp_patch source, objects, log)");
    cmd->add_option("--ignore-function", req->ignored_functions, "Leave out a function changed only in constants");
    cmd->add_flag("--replace", req->replace,
                  "Cumulative patch: loading it atomically replaces every live patch loaded before (klp_patch.replace)");
    cmd->add_option("--allow-layout-change", req->allowed_layout_changes,
                    "Accept a changed layout of this type ('struct NAME'): no object of it outlives the patch");
    cmd->add_flag("--json", *as_json, "Machine-readable summary");
    cmd->add_flag("-q,--quiet", *quiet, "No progress lines");
    auto kernel_sign = AddKernelSignOptions(cmd, "module-sign-");
    cmd->footer(
        "--debian-source fetches that tree from Debian: linux-source-X.Y of the installed image's\n"
        "version (apt-get download, cached in $GRAFT_CACHE/kernel or /var/cache/graft/kernel).\n"
        "With --source and --diff (any -p1 form: a/ b/, src.orig/ src/, git; several files, diffs\n"
        "and objects) graft compiles each changed file before and after the fix in the whole tree\n"
        "(the fixed tree is an overlay) with the installed headers' kbuild and its directory's\n"
        "Makefile, which tells whether it is built in or part of a module (found under\n"
        "/lib/modules); one klp_object per patched object (vmlinux, modules).\n"
        "With --orig/--patched the objects are the changed files compiled by kbuild before and\n"
        "after the fix, with -ffunction-sections -fdata-sections (the running kernel needs no\n"
        "special flags). Changed functions are replaced through klp_func entries; references to\n"
        "exported symbols stay ordinary, everything else becomes a livepatch symbol resolved by\n"
        "the kernel. The new code's exception-table, bug-table, alternatives, jump-label and ORC\n"
        "entries travel with it. Refused with the reason: changed variables or struct layouts\n"
        "(DWARF; --allow-layout-change), static keys of\n"
        "modules, static calls, tracepoints, and (run-pre) original objects that are not the\n"
        "code that runs: the module file, or for vmlinux the boot image (--image, decompressed\n"
        "once). Statics whose name vmlinux has several times get their position from vmlinux's\n"
        "file names (--vmlinux, --fetch-vmlinux: linux-image-RELEASE-dbg), sizes and code.\n"
        "--module-sign-key (and --module-sign-cert) append the kernel's module signature\n"
        "(scripts/sign-file) for kernels that enforce them; sign with graft afterwards.\n"
        "The fix may #include <graft/livepatch.h> (graft adds it to both compiles; for your own\n"
        "compiles `graft kernel header --dir DIR` writes it): GRAFT_PRE_PATCH(fn) and the other\n"
        "callbacks, GRAFT_IGNORE_FUNCTION(fn), and typed shadow-variable helpers (docs/kernel.md).\n"
        "Example:\n"
        "  graft kernel build --debian-source --diff fix.patch -o livepatch_fix.ko\n"
        "  graft kernel build --source /usr/src/linux-source-6.1 --diff fix.patch \\\n"
        "        --cve CVE-2024-1234 -o livepatch_cve_2024_1234.ko\n"
        "  graft kernel build --orig orig/drv.o --patched fixed/drv.o --object drv \\\n"
        "        --target-module /lib/modules/$(uname -r)/kernel/drivers/drv.ko \\\n"
        "        --cve CVE-2024-1234 -o livepatch_drv_cve_2024_1234.ko");
    cmd->callback([=] {
      if (!*quiet) req->progress = [](const std::string& m) { fmt::print(stderr, "graft: {}\n", m); };
      if (kernel_sign->key.empty() && !kernel_sign->cert.empty())
        Fail(Err("--module-sign-cert needs the private key: --module-sign-key KEY.pem"), 2);
      kernel::KernelBuildSummary s;
      if (*debian) {
        if (!source->empty()) Fail(Err("give either --source or --debian-source"), 2);
        if (diffs->empty()) Fail(Err("--debian-source needs the fix: --diff FIX.patch"), 2);
        std::string release = req->kernel_release;
        if (release.empty()) release = Check(kernel::ReadKernelStatus("/sys", "/proc", "")).release;
        req->kernel_release = release;
        *source = Check(kernel::DebianKernelSource(release, req->progress));
      }
      if (!source->empty()) {
        if (!origs->empty() || !patched->empty()) Fail(Err("give either --source with --diff, or --orig/--patched"), 2);
        if (diffs->empty()) Fail(Err("--source needs the fix: --diff FIX.patch"), 2);
        if (!target_module->empty()) {
          kernel::KernelBuildTarget t;
          t.object = Check(kernel::ReadModuleInfo(*target_module)).name;
          t.target_module = *target_module;
          req->targets.push_back(t);
        }
        s = Check(kernel::BuildKernelLivePatchFromSource({*source, *diffs, *req}));
      } else {
        if (origs->empty() || origs->size() != patched->size())
          Fail(Err("give --source DIR --diff FIX, or as many --patched as --orig objects"), 2);
        kernel::KernelBuildTarget t;
        t.object = *object;
        t.target_module = *target_module;
        for (size_t i = 0; i < origs->size(); i++) t.objects.emplace_back((*origs)[i], (*patched)[i]);
        req->targets.push_back(t);
        s = Check(kernel::BuildKernelLivePatch(*req));
      }
      kernel::ModuleSignature ksig;
      if (!kernel_sign->key.empty()) ksig = Check(kernel::SignModuleForKernel(s.output, *kernel_sign));
      if (*as_json) {
        fmt::print("{}\n", json{{"name", s.name}, {"output", s.output}, {"kernel_release", s.kernel_release},
                                {"object", s.object}, {"replaced", s.replaced}, {"added", s.added},
                                {"klp_symbols", s.klp_symbols}, {"klp_relocations", s.klp_relocations},
                                {"orc_entries", s.orc_entries}, {"tables", s.tables}, {"dropped", s.dropped},
                                {"cves", s.cves}, {"notes", s.notes}, {"run_pre", s.run_pre}, {"ignored", s.ignored},
                                {"callbacks", s.callbacks}, {"replace", s.replace},
                                {"kernel_signature", KernelSignatureJson(ksig)}, {"seconds", s.seconds}}
                               .dump(2));
        return;
      }
      fmt::print("built {} for kernel {} ({:.1f} s): replaces {} in {}\n", s.output, s.kernel_release, s.seconds,
                 fmt::join(s.replaced, ", "), s.object);
      if (!s.added.empty()) fmt::print("  new functions: {}\n", fmt::join(s.added, ", "));
      for (const auto& [kind, fn] : s.callbacks) fmt::print("  {} callback: {}\n", kind, fn);
      if (!s.ignored.empty()) fmt::print("  left as they are: {}\n", fmt::join(s.ignored, ", "));
      if (s.replace) fmt::print("  cumulative: replaces every live patch loaded before it\n");
      if (!s.klp_symbols.empty())
        fmt::print("  resolved by the kernel at load ({} relocations): {}\n", s.klp_relocations,
                   fmt::join(s.klp_symbols, ", "));
      if (!s.tables.empty()) {
        std::string t;
        for (const auto& [name, n] : s.tables) t += fmt::format("{}{} {}", t.empty() ? "" : ", ", n, name);
        fmt::print("  carried table entries: {}\n", t);
      }
      if (!s.run_pre.empty()) fmt::print("  run-pre: the original code is the code of {}\n", s.run_pre);
      for (const auto& n : s.notes) fmt::print("  note: {}\n", n);
      if (!s.dropped.empty()) fmt::print("  left out (the code stays correct without them): {}\n", fmt::join(s.dropped, ", "));
      if (ksig.present) PrintKernelSignature(s.output, ksig);
    });
  }
  {
    auto* cmd = group->add_subcommand("status", "List the running kernel's live patches and the CVEs they fix");
    auto as_json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *as_json, "Machine-readable output (graft scan --live-patches reads it)");
    cmd->footer(
        "STATE is active (every task switched), patching or unpatching (a transition is\n"
        "running), disabled, or replaced (a cumulative patch took over and the module is still\n"
        "loaded). A cumulative patch lists the patches it replaced. CVEs come from graft's record, else the module's 'cves'\n"
        "parameter, else the cve= tags of the module file.\n"
        "Examples:\n"
        "  graft kernel status\n"
        "  graft kernel status --json > host42-kernel.json");
    cmd->callback([=] {
      auto st = Check(kernel::ReadKernelStatus("/sys", "/proc", *records));
      if (*as_json)
        fmt::print("{}\n", KernelStatusJson(st).dump(2));
      else
        PrintStatus(st);
    });
  }
  {
    auto* cmd = group->add_subcommand("load", "Load a kernel live patch module and wait until every task is switched");
    auto path = std::make_shared<std::string>();
    auto timeout = std::make_shared<double>(60);
    auto as_json = std::make_shared<bool>(false), quiet = std::make_shared<bool>(false);
    cmd->add_option("module", *path, "The live patch module (.ko)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--timeout", *timeout, "Seconds to wait for the transition before reversing it (default 60)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->add_flag("-q,--quiet", *quiet, "No progress lines");
    auto allow_unsigned = AddAllowUnsigned(cmd);
    auto keep_replaced = std::make_shared<bool>(false);
    cmd->add_flag("--keep-replaced", *keep_replaced,
                  "A cumulative patch: leave the modules of the patches it replaced loaded (default: removed)");
    cmd->footer(
        "A cumulative patch (built with --replace) replaces every live patch loaded before it: when\n"
        "its transition has finished the kernel has disabled them, and graft removes their modules\n"
        "(--keep-replaced leaves them; status shows them as replaced).\n"
        "Refused before the kernel sees it: a module that is not signed (MODULE.ko.sig, graft sign)\n"
        "by a key of the trust store ($GRAFT_KEYS_DIR, default /etc/graft/keys) or was changed after\n"
        "signing; a module without livepatch=Y, one built for another\n"
        "kernel release (vermagic), a kernel without live patching, a patch already loaded, and\n"
        "any load while another patch is in transition. If some task cannot be switched within\n"
        "--timeout, the transition is reversed and the module removed: the kernel is never left\n"
        "half-patched by graft.\n"
        "Exit status: 0 loaded and switched, 1 refused or failed, 2 usage.\n"
        "A kernel that enforces module signatures (module.sig_enforce=1, lockdown) refuses a module\n"
        "without a kernel signature from a key it trusts; graft names the signer and what to do\n"
        "(graft kernel sign-module, MOK enrolment: docs/signing.md).\n"
        "Example:\n"
        "  graft kernel load livepatch-cve-2024-1086.ko");
    cmd->callback([=] {
      kernel::LoadOptions opt;
      opt.timeout_seconds = *timeout;
      opt.records_dir = *records;
      opt.allow_unsigned = UnsignedAllowed(*allow_unsigned);
      opt.keep_replaced = *keep_replaced;
      if (!*quiet)
        opt.progress = [](const std::string& name, double t) {
          fmt::print(stderr, "graft: {}: transition running for {:.0f} s (tasks still to switch)\n", name, t);
        };
      auto r = Check(kernel::LoadLivePatch(*path, opt));
      if (*as_json) {
        fmt::print("{}\n", json{{"loaded", r.module.name}, {"cves", r.module.cves},
                                {"transition_seconds", r.transition_seconds}, {"replace", r.module.replace},
                                {"replaced", r.replaced}, {"left_loaded", r.left_loaded}, {"notes", r.notes}}
                               .dump(2));
      } else {
        fmt::print("loaded {} ({}) into kernel {}: every task switched in {:.2f} s\n", r.module.name,
                   r.module.cves.empty() ? "no CVEs declared" : fmt::format("{}", fmt::join(r.module.cves, ", ")),
                   r.module.KernelRelease(), r.transition_seconds);
        if (!r.replaced.empty())
          fmt::print("replaced {} (disabled by the kernel; {})\n", fmt::join(r.replaced, ", "),
                     r.left_loaded.empty() ? "modules removed"
                                           : fmt::format("still loaded: {}", fmt::join(r.left_loaded, ", ")));
        for (const auto& n : r.notes) fmt::print("note: {}\n", n);
      }
    });
  }
  {
    auto* cmd = group->add_subcommand("unload", "Disable a kernel live patch and remove its module");
    auto name = std::make_shared<std::string>();
    auto timeout = std::make_shared<double>(60);
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("name", *name, "The live patch's name (graft kernel status)")->required();
    cmd->add_option("--timeout", *timeout, "Seconds to wait for the reverse transition (default 60)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      kernel::LoadOptions opt;
      opt.timeout_seconds = *timeout;
      opt.records_dir = *records;
      auto r = Check(kernel::UnloadLivePatch(*name, opt));
      if (*as_json)
        fmt::print("{}\n", json{{"unloaded", r.name}, {"transition_seconds", r.transition_seconds},
                                {"replaced_by", r.replaced_by}}.dump(2));
      else if (!r.replaced_by.empty())
        fmt::print("removed {}: {} had replaced it, the module patched nothing any more\n", r.name, r.replaced_by);
      else
        fmt::print("unloaded {}: every task back on the original functions in {:.2f} s\n", r.name,
                   r.transition_seconds);
    });
  }
  {
    auto* cmd = group->add_subcommand("install", "Keep a kernel live patch to be loaded at every boot of its kernel");
    auto path = std::make_shared<std::string>();
    auto no_service = std::make_shared<bool>(false);
    cmd->add_option("module", *path, "The live patch module (.ko)")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--no-service", *no_service, "Do not write/enable the systemd unit that loads them at boot");
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->footer(
        "The module must be signed like for graft kernel load; its .sig is installed with it.\n"
        "The copy goes to <state>/kernel/installed/<release>/ (the release the module was built\n"
        "for); `graft kernel load-installed` loads those of the running release, and the systemd\n"
        "unit graft-kernel-patches.service runs it at boot. Installing does not load: use\n"
        "`graft kernel load` for the running kernel now.");
    cmd->callback([=] {
      kernel::LoadOptions opt;
      opt.allow_unsigned = UnsignedAllowed(*allow_unsigned);
      auto p = Check(kernel::InstallPatch(*path, *records, opt));
      fmt::print("installed {} for kernel {}: {}\n", p.name, p.release, p.path);
      if (!p.superseded.empty())
        fmt::print("uninstalled {} (the cumulative {} replaces them)\n", fmt::join(p.superseded, ", "), p.name);
      if (!*no_service) {
        std::error_code ec;
        std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        fmt::print("{}\n", Check(kernel::InstallBootUnit(self)));
      }
    });
  }
  {
    auto* cmd = group->add_subcommand("uninstall", "Stop loading a kernel live patch at boot (it stays loaded now)");
    auto name = std::make_shared<std::string>();
    auto release = std::make_shared<std::string>();
    cmd->add_option("name", *name, "The live patch's name")->required();
    cmd->add_option("--kernel-release", *release, "Kernel it was installed for (default: the running one)");
    cmd->callback([=] {
      std::string rel = release->empty() ? Check(kernel::ReadKernelStatus("/sys", "/proc", "")).release : *release;
      Check(kernel::UninstallPatch(*name, rel, *records));
      fmt::print("uninstalled {} for kernel {}\n", *name, rel);
    });
  }
  {
    auto* cmd = group->add_subcommand("load-installed", "Load every live patch installed for the running kernel");
    auto timeout = std::make_shared<double>(60);
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("--timeout", *timeout, "Seconds to wait for each transition (default 60)")->check(CLI::PositiveNumber);
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->footer("Patches already loaded are left alone; each is verified again against its installed .sig.\n"
                "Exit status 1 when any could not be loaded.");
    cmd->callback([=] {
      kernel::LoadOptions opt;
      opt.timeout_seconds = *timeout;
      opt.records_dir = *records;
      opt.allow_unsigned = UnsignedAllowed(*allow_unsigned);
      std::string release = Check(kernel::ReadKernelStatus("/sys", "/proc", "")).release;
      auto r = kernel::LoadInstalled(opt, release);
      if (*as_json) {
        json failed = json::array();
        for (const auto& [n, why] : r.failed) failed.push_back({{"id", n}, {"error", why}});
        fmt::print("{}\n", json{{"kernel_release", release}, {"loaded", r.loaded}, {"already_loaded", r.already},
                                {"failed", failed}}
                               .dump(2));
      } else {
        for (const auto& n : r.loaded) fmt::print("loaded {}\n", n);
        for (const auto& n : r.already) fmt::print("already loaded {}\n", n);
        for (const auto& [n, why] : r.failed) fmt::print(stderr, "graft: {}: {}\n", n, why);
        if (r.loaded.empty() && r.already.empty() && r.failed.empty())
          fmt::print("no live patches installed for kernel {}\n", release);
      }
      if (!r.failed.empty()) throw CLI::RuntimeError(1);
    });
  }
  {
    auto* cmd = group->add_subcommand("header", "Write <graft/livepatch.h>, the header kernel fixes include (callbacks, ...)");
    auto dir = std::make_shared<std::string>();
    cmd->add_option("--dir", *dir, "Write DIR/graft/livepatch.h and print the -I flag (default: print the header)");
    cmd->footer(
        "graft kernel build --source/--debian-source adds the header to the fix's compile itself;\n"
        "this is for objects you compile yourself (--orig/--patched):\n"
        "  make -C /usr/src/linux-headers-$(uname -r) M=$PWD/fixed \\\n"
        "       KCFLAGS=\"-ffunction-sections -fdata-sections $(graft kernel header --dir /tmp/gh)\" drv.o");
    cmd->callback([=] {
      if (dir->empty()) {
        fmt::print("{}", kernel::AuthorApiHeader());
        return;
      }
      fmt::print("{}\n", Check(kernel::WriteAuthorApiHeader(*dir)));
    });
  }
  RegisterKernelSignCommand(group);
  {
    auto* cmd = group->add_subcommand("info", "Show what a live patch module declares and whether it fits this kernel");
    auto path = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("module", *path, "A kernel module (.ko)")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      auto m = Check(kernel::ReadModuleInfo(*path));
      auto st = Check(kernel::ReadKernelStatus("/sys", "/proc", ""));
      std::string why = kernel::WhyNotLoadable(m, st.release, "/sys");
      // A malformed kernel signature is part of the answer, not a failure of info.
      auto read_sig = kernel::ReadModuleSignature(*path);
      kernel::ModuleSignature ksig = read_sig.ok() ? *read_sig : kernel::ModuleSignature{};
      auto enforcement = kernel::ReadSignatureEnforcement("/sys");
      if (*as_json) {
        json j = ModuleJson(m);
        j["kernel_signature"] = KernelSignatureJson(ksig);
        if (!read_sig.ok()) j["kernel_signature_error"] = read_sig.error().message();
        j["kernel_enforces_signatures"] = enforcement.Enforced();
        j["loadable"] = why.empty();
        if (!why.empty()) j["why_not"] = why;
        fmt::print("{}\n", j.dump(2));
        return;
      }
      fmt::print("name         {}\n", m.name);
      fmt::print("livepatch    {}\n", m.livepatch ? "yes" : "no");
      fmt::print("cumulative   {}\n", m.replace ? "yes (replaces every live patch loaded before it)" : "no");
      if (!m.callbacks.empty()) fmt::print("callbacks    {}\n", m.callbacks);
      fmt::print("kernel       {}\n", m.KernelRelease());
      fmt::print("cves         {}\n", m.cves.empty() ? "-" : fmt::format("{}", fmt::join(m.cves, ", ")));
      if (!m.description.empty()) fmt::print("description  {}\n", m.description);
      if (!read_sig.ok())
        fmt::print("kernel sig   malformed: {}\n", read_sig.error().message());
      else if (ksig.present)
        fmt::print("kernel sig   signer '{}', key id {}, {}\n", ksig.signer, ksig.key_id, ksig.hash_algo);
      else
        fmt::print("kernel sig   none{}\n", enforcement.Enforced()
                                               ? fmt::format(" (this kernel enforces signatures: {}; graft kernel "
                                                             "sign-module)", enforcement.Describe())
                                               : "");
      fmt::print("loadable     {}\n", why.empty() ? "yes" : "no: " + why);
    });
  }
}

}  // namespace graft::cli
