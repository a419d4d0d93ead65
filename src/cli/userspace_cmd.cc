// `graft apply | revert | list | info | check`: user-space live patches.
#include <fmt/format.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include <signal.h>

#include "base/interrupt.h"
#include "bundle/bundle.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "process/proc_maps.h"
#include "userspace/live_inventory.h"
#include "userspace/live_patcher.h"
#include "userspace/process_image.h"

namespace graft::cli {

using nlohmann::json;

namespace {

struct Targets {
  std::vector<pid_t> pids;
  bool all = false;
};

void AddTargets(CLI::App* cmd, Targets& t) {
  cmd->add_option("--pid,-p", t.pids, "Process to work on (repeatable)");
  cmd->add_flag("--all", t.all, "Every process that maps the patch's target (by build-id)");
}

json RecordJson(const userspace::PatchRecord& r) {
  json fns = json::array();
  for (const auto& f : r.functions)
    fns.push_back({{"name", f.name}, {"address", fmt::format("{:#x}", f.address)},
                   {"new_address", fmt::format("{:#x}", f.target)}});
  return {{"id", r.id}, {"cves", r.cves}, {"description", r.description}, {"target", r.target_name},
          {"target_build_id", r.target_build_id}, {"applied_at", r.applied_at}, {"functions", fns},
          {"supersedes", r.supersedes}};
}

void RunOnProcesses(const std::string& verb, const Targets& t, const std::string& build_id,
                    const std::function<Result<std::string>(pid_t)>& fn, userspace::BuildIdCache* cache = nullptr) {
  std::vector<pid_t> pids = t.pids;
  if (t.all) {
    auto found =
        build_id.empty() ? userspace::ProcessesWithPatches() : userspace::ProcessesMapping(build_id, cache);
    pids.insert(pids.end(), found.begin(), found.end());
  }
  if (pids.empty()) Fail(Error(t.all ? "no running process matches" : "give --pid PID or --all"), t.all ? 1 : 2);
  // The worst outcome decides the exit status (see ExitStatusHelp).
  int status = 0;
  for (pid_t pid : pids) {
    if (InterruptRequested()) {
      fmt::print(stderr, "graft: {}: interrupted; process {} and the ones after it were not touched\n", verb, pid);
      throw CLI::RuntimeError(128 + InterruptSignal());
    }
    auto r = fn(pid);
    if (r.ok()) {
      fmt::print("{}\n", *r);
      continue;
    }
    fmt::print(stderr, "graft: {}: {}\n", verb, r.error().message());
    if (r.error().kind() == ErrorKind::kInterrupted)
      throw CLI::RuntimeError(128 + (InterruptSignal() ? InterruptSignal() : SIGINT));
    status = WorseExitStatus(status, ExitStatusFor(r.error()));
  }
  if (status) throw CLI::RuntimeError(status);
}

constexpr char kExitStatusHelp[] =
    "Exit status: 0 done; 1 refused, nothing changed (bad bundle, wrong target, ...); 3 busy: gave up\n"
    "waiting for a moment when no thread runs the code being switched, nothing changed; 4 the running\n"
    "code is not what the patch expects (run-pre), nothing changed; 5 partial: something was left\n"
    "half-done and the message says what and how to finish it; 128+N interrupted by signal N\n"
    "(SIGINT, SIGTERM, SIGHUP: the current step finishes, what was started is undone). With several\n"
    "processes the worst outcome decides.";

}  // namespace

void RegisterUserspaceCommands(CLI::App& app) {
  // apply / check
  for (bool dry : {false, true}) {
    auto* cmd = app.add_subcommand(dry ? "check" : "apply",
                                   dry ? "Check that a bundle could be applied, without writing anything"
                                       : "Apply a live patch bundle to running processes");
    cmd->footer(dry ? "Example: graft check fix.graft --pid 1234"
                    : "Examples:\n  graft apply fix.graft --pid 1234\n  graft apply fix.graft --all\n"
                      "All threads are stopped briefly; no thread may be inside a replaced function, and a\n"
                      "thread whose stack cannot be read to its end (code without unwind tables: JIT code,\n"
                      "hand-written assembly) counts as inside, and so does a return address into a replaced\n"
                      "function kept in the heap or other anonymous memory (a suspended coroutine's stack;\n"
                      "see docs/safety.md). When one is, graft resumes the process and retries\n"
                      "with backoff until --timeout.\n"
                      "The bundle must be signed (FILE.sig, graft sign) by a key of the trust store\n"
                      "($GRAFT_KEYS_DIR, default /etc/graft/keys), else nothing is read further.\n" +
                      std::string(kExitStatusHelp));
    auto file = std::make_shared<std::string>();
    auto t = std::make_shared<Targets>();
    auto timeout = std::make_shared<double>(10);
    auto verbose = std::make_shared<bool>(false);
    cmd->add_option("bundle", *file, "Bundle written by graft build")->required();
    AddTargets(cmd, *t);
    cmd->add_option("--timeout", *timeout, "Seconds to wait for busy functions to go idle (default 10)");
    cmd->add_flag("-v,--verbose", *verbose, "Progress lines on stderr");
    auto no_suspended = std::make_shared<bool>(false);
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->add_flag("--no-suspended-check", *no_suspended,
                  "Do not look for return addresses into the replaced functions kept outside the threads'\n"
                  "stacks (suspended coroutines); use when a stale copy blocks a patch you know is safe");
    cmd->callback([=] {
      RequireSignature(*file, *allow_unsigned);
      bundle::Bundle b = Check(bundle::ReadFile(*file));
      // The files the processes map are parsed once for all of them, here:
      // each detached worker is forked with the cache filled.
      userspace::BuildIdCache cache;
      RunOnProcesses(dry ? "check" : "apply", *t, b.target_build_id, [&](pid_t pid) -> Result<std::string> {
        userspace::PatchOptions opt;
        opt.cache = &cache;
        opt.timeout_seconds = *timeout;
        opt.dry_run = dry;
        opt.cancelled = InterruptRequested;
        opt.check_suspended = !*no_suspended;
        if (*verbose) opt.progress = [](const std::string& s) { fmt::print(stderr, "{}\n", s); };
        auto work = [&]() -> Result<std::string> {
          GRAFT_ASSIGN(auto o, userspace::ApplyToProcess(b, pid, opt));
          if (dry) return fmt::format("process {}: patch {} can be applied ({} functions)", pid, b.id, b.functions.size());
          return fmt::format("process {}: applied {} ({} functions, {} attempt{}, threads paused {:.3f} ms)", pid,
                             b.id, o.record.functions.size(), o.attempts, o.attempts == 1 ? "" : "s", o.pause_ms);
        };
        if (dry) return work();
        userspace::PrepareCache(pid, cache);
        return userspace::RunDetached(work);
      }, &cache);
      if (*verbose) {
        auto c = cache.counters();
        fmt::print(stderr, "build-id cache: {} files parsed, {} reused; gadget scans {}, reused {}\n",
                   c.files_parsed, c.file_hits, c.gadget_scans, c.gadget_hits);
      }
    });
  }
  {
    auto* cmd = app.add_subcommand("revert", "Remove a live patch from running processes");
    cmd->footer("Examples:\n  graft revert cve-2022-28805 --pid 1234\n  graft revert cve-2022-28805 --all\n" +
                std::string(kExitStatusHelp));
    auto id = std::make_shared<std::string>();
    auto t = std::make_shared<Targets>();
    auto timeout = std::make_shared<double>(10);
    cmd->add_option("id", *id, "Patch id (see graft list)")->required();
    AddTargets(cmd, *t);
    cmd->add_option("--timeout", *timeout, "Seconds to wait for the patch's code to go idle (default 10)");
    auto no_suspended = std::make_shared<bool>(false);
    cmd->add_flag("--no-suspended-check", *no_suspended,
                  "Do not look for return addresses into the patch's code kept outside the threads' stacks\n"
                  "(suspended coroutines); a coroutine suspended there would crash after the revert");
    cmd->callback([=] {
      std::vector<pid_t> pids = t->pids;
      Targets tt = *t;
      if (t->all) {
        tt.all = false;
        for (pid_t pid : userspace::ProcessesWithPatches()) {
          auto ap = userspace::ReadAppliedPatches(pid);
          if (!ap.ok()) continue;
          for (const auto& a : *ap)
            if (a.record.id == *id) tt.pids.push_back(pid);
        }
        if (tt.pids.empty()) Fail(Err("patch {} is not applied to any process", *id));
      }
      RunOnProcesses("revert", tt, "", [&](pid_t pid) -> Result<std::string> {
        userspace::PatchOptions opt;
        opt.timeout_seconds = *timeout;
        opt.cancelled = InterruptRequested;
        opt.check_suspended = !*no_suspended;
        return userspace::RunDetached([&]() -> Result<std::string> {
          GRAFT_ASSIGN(auto o, userspace::RevertFromProcess(*id, pid, opt));
          return fmt::format("process {}: reverted {} (threads paused {:.3f} ms)", pid, *id, o.pause_ms);
        });
      });
    });
  }
  {
    auto* cmd = app.add_subcommand("list", "Show the live patches applied in running processes");
    cmd->footer("Read from the processes themselves (each patch is a memfd mapping named graft:ID).\n"
                "Example: graft list --json");
    auto pids = std::make_shared<std::vector<pid_t>>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("--pid,-p", *pids, "Only these processes");
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      std::vector<pid_t> which = pids->empty() ? userspace::ProcessesWithPatches() : *pids;
      json out = json::array();
      for (pid_t pid : which) {
        auto ap = userspace::ReadAppliedPatches(pid);
        if (!ap.ok()) Fail(ap.error());
        for (const auto& a : *ap) {
          json j = RecordJson(a.record);
          j["pid"] = pid;
          j["process"] = process::ProcessName(pid);
          j["state"] = a.state;
          out.push_back(j);
        }
      }
      if (*as_json) {
        fmt::print("{}\n", out.dump(2));
        return;
      }
      if (out.empty()) {
        fmt::print("no live patches applied\n");
        return;
      }
      fmt::print("{:<8} {:<16} {:<28} {:<9} {:<5} {}\n", "PID", "PROCESS", "PATCH", "STATE", "FUNCS", "CVES");
      for (const json& j : out) {
        std::string cves;
        for (const auto& c : j["cves"]) cves += (cves.empty() ? "" : ",") + c.get<std::string>();
        fmt::print("{:<8} {:<16} {:<28} {:<9} {:<5} {}\n", j["pid"].get<int>(), j["process"].get<std::string>(),
                   j["id"].get<std::string>(), j["state"].get<std::string>(), j["functions"].size(),
                   cves.empty() ? "-" : cves);
      }
    });
  }
  {
    auto* cmd = app.add_subcommand("info", "Show what a bundle changes");
    cmd->footer("Example: graft info fix.graft --json");
    auto file = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("bundle", *file, "Bundle file")->required();
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      bundle::Bundle b = Check(bundle::ReadFile(*file));
      json fns = json::array();
      for (const auto& f : b.functions)
        fns.push_back({{"name", f.name}, {"address", fmt::format("{:#x}", f.address)}, {"size", f.size}});
      size_t bytes = 0;
      for (const auto& s : b.sections) bytes += s.size;
      json j = {{"id", b.id}, {"description", b.description}, {"cves", b.cves}, {"arch", b.arch},
                {"target", b.target_name}, {"target_build_id", b.target_build_id}, {"replaces", fns},
                {"supersedes", b.supersedes},
                {"adds", b.added}, {"new_data", b.new_data}, {"bytes", bytes}};
      if (*as_json) {
        fmt::print("{}\n", j.dump(2));
        return;
      }
      fmt::print("patch        {}\n", b.id);
      if (!b.description.empty()) fmt::print("description  {}\n", b.description);
      fmt::print("cves         {}\n", b.cves.empty() ? "-" : fmt::format("{}", fmt::join(b.cves, ", ")));
      fmt::print("target       {} (build-id {}, {})\n", b.target_name, b.target_build_id, b.arch);
      for (const auto& id : b.supersedes) fmt::print("supersedes   {}\n", id);
      for (const auto& f : b.functions) fmt::print("replaces     {} ({:#x}, {} bytes)\n", f.name, f.address, f.size);
      for (const auto& f : b.added) fmt::print("adds         {}\n", f);
      for (const auto& d : b.new_data) fmt::print("new data     {}\n", d);
      fmt::print("size         {} bytes\n", bytes);
    });
  }
}

}  // namespace graft::cli
