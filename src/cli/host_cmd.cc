// `graft install | uninstall | apply-installed | status`: the user-space
// patches this host should run (src/host/bundle_store.h), bringing running
// processes up to them, and the host's whole picture.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include <signal.h>

#include "base/interrupt.h"
#include "base/state_dir.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "host/apply_installed.h"
#include "host/bundle_store.h"
#include "host/daemon.h"
#include "host/host_status.h"
#include "kernel/records.h"
#include "repo/subscriptions.h"
#include "repo/update.h"

namespace graft::cli {

using json = nlohmann::json;

namespace {

json StatusJson(const host::HostStatus& st) {
  json k = {{"release", st.kernel.release}, {"livepatch_supported", st.kernel.livepatch_supported}};
  json patches = json::array();
  for (const auto& p : st.kernel.patches)
    patches.push_back({{"name", p.name}, {"state", p.State()}, {"cves", p.cves}, {"replace", p.replace}});
  k["patches"] = patches;
  json installed = json::array();
  for (const auto& i : st.kernel.installed) installed.push_back({{"name", i.name}, {"loaded", i.loaded}});
  k["installed"] = installed;
  if (!st.kernel_error.empty()) k["error"] = st.kernel_error;
  json bundles = json::array();
  for (const auto& b : st.bundles) {
    json j = {{"id", b.id}, {"target", b.target_name}, {"target_build_id", b.target_build_id}, {"cves", b.cves},
              {"supersedes", b.supersedes}, {"signed_by", b.signed_by}, {"path", b.path}};
    if (!b.problem.empty()) j["problem"] = b.problem;
    bundles.push_back(j);
  }
  json procs = json::array();
  for (const auto& p : st.processes) {
    json j = {{"pid", p.pid}, {"process", p.process}, {"bundle", p.bundle}, {"state", p.state}};
    if (!p.by.empty()) j["by"] = p.by;
    procs.push_back(j);
  }
  json other = json::array();
  for (const auto& l : st.not_installed)
    other.push_back({{"pid", l.pid}, {"process", l.process}, {"id", l.patch.record.id}, {"state", l.patch.state}});
  return {{"kernel", k}, {"bundles", bundles}, {"processes", procs}, {"applied_not_installed", other},
          {"live_cves", st.live_cves}};
}

// The channels this host follows, what it last fetched of each, and the
// last update's summary (src/repo).
json DeliveryJson() {
  json channels = json::array();
  if (auto subs = repo::ReadSubscriptions(StateDir()); subs.ok()) {
    for (const auto& s : *subs) {
      repo::ChannelState st = repo::ReadChannelState(StateDir(), s.name);
      json j = {{"name", s.name}, {"url", s.url}, {"channel", s.channel}, {"delay_hours", s.delay_hours},
                {"sequence", st.sequence}, {"fetched", st.fetched}};
      if (!st.error.empty()) j["error"] = st.error;
      channels.push_back(j);
    }
  }
  std::ifstream in(repo::LastUpdatePath(StateDir()));
  json last = json::parse(in, nullptr, false);
  return {{"channels", channels}, {"last_update", last.is_discarded() ? json(nullptr) : last}};
}

}  // namespace

std::string DefaultAgentDir() {
  const char* d = std::getenv("GRAFT_AGENT_DIR");
  return d && *d ? d : "/run/graft";
}

void RegisterHostCommands(CLI::App& app) {
  auto store = std::make_shared<std::string>(host::DefaultBundleStore());
  {
    auto* cmd = app.add_subcommand("install", "Keep a verified bundle as one this host should run");
    auto files = std::make_shared<std::vector<std::string>>();
    cmd->add_option("bundles", *files, "Bundles (.graft), signed (FILE.sig)")->required()->check(CLI::ExistingFile);
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->footer(
        "The bundle is verified (signature, then its own checks) and kept with its .sig in\n"
        "$GRAFT_STATE_DIR/bundles (root: /var/lib/graft/bundles). Installing does not apply:\n"
        "graft apply-installed brings running processes up to the installed bundles.\n"
        "Example:\n  graft install fix.graft && graft apply-installed");
    cmd->callback([=] {
      for (const auto& f : *files) {
        auto b = Check(host::InstallBundle(f, *store, UnsignedAllowed(*allow_unsigned)));
        fmt::print("installed {} for {} (build-id {}){}\n", b.id, b.target_name, b.target_build_id,
                   b.signed_by.empty() ? ", unsigned" : ", signed by " + b.signed_by);
      }
      host::RefreshAgentIndex(DefaultAgentDir(), *store, UnsignedAllowed(*allow_unsigned));
    });
  }
  {
    auto* cmd = app.add_subcommand("uninstall", "Stop keeping an installed bundle (processes keep what they run)");
    auto id = std::make_shared<std::string>();
    cmd->add_option("id", *id, "The bundle's id (graft status)")->required();
    cmd->callback([=] {
      if (Status s = host::UninstallBundle(*id, *store); !s.ok()) Fail(s.error());
      host::RefreshAgentIndex(DefaultAgentDir(), *store, UnsignedAllowed(false));
      fmt::print("uninstalled {}; revert it from processes with graft revert {} --all\n", *id, *id);
    });
  }
  {
    auto* cmd = app.add_subcommand("apply-installed",
                                   "Apply every installed bundle to the running processes that map its target and lack it");
    auto pids = std::make_shared<std::vector<pid_t>>();
    auto timeout = std::make_shared<double>(10);
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->add_option("--pid,-p", *pids, "Only these processes (default: every process)");
    cmd->add_option("--timeout", *timeout, "Seconds to wait for busy functions, per process and bundle (default 10)");
    cmd->footer(
        "For each installed bundle (the newest patch level per target; unsigned ones only when\n"
        "allowed) and each process mapping its target by build-id where it is not applied:\n"
        "graft apply. Processes where it runs already are left alone. Exit status as for apply\n"
        "(the worst outcome decides); 0 when nothing was missing.");
    cmd->callback([=] {
      host::ApplyInstalledOptions opt;
      opt.store = *store;
      opt.kernel_records = kernel::DefaultRecordsDir();
      opt.only.insert(pids->begin(), pids->end());
      opt.timeout_seconds = *timeout;
      opt.allow_unsigned = UnsignedAllowed(*allow_unsigned);
      opt.cancelled = InterruptRequested;
      host::ApplyInstalledResult r = host::ApplyInstalled(opt);
      for (const auto& line : r.applied) fmt::print("{}\n", line);
      int status = 0;
      for (const auto& e : r.failed) {
        fmt::print(stderr, "graft: apply-installed: {}\n", e.message());
        if (e.kind() == ErrorKind::kInterrupted)
          throw CLI::RuntimeError(128 + (InterruptSignal() ? InterruptSignal() : SIGINT));
        status = WorseExitStatus(status, ExitStatusFor(e));
      }
      if (r.applied.empty() && !status) fmt::print("every process runs the installed bundles it maps\n");
      if (status) throw CLI::RuntimeError(status);
    });
  }
  {
    auto* cmd = app.add_subcommand("daemon", "graftd: patch processes as they start, and keep every process patched");
    auto agent_dir = std::make_shared<std::string>(DefaultAgentDir());
    auto interval = std::make_shared<double>(300);
    auto timeout = std::make_shared<double>(10);
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->add_option("--agent-dir", *agent_dir, "Socket and index for the start-up agent (default $GRAFT_AGENT_DIR or /run/graft)");
    cmd->add_option("--interval", *interval, "Seconds between full passes over every process (default 300)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--timeout", *timeout, "Seconds to wait for busy functions per apply (default 10)");
    auto update_interval = std::make_shared<double>(3600);
    cmd->add_option("--update-interval", *update_interval,
                    "Seconds between graft update runs over the followed channels (default 3600)")
        ->check(CLI::PositiveNumber);
    cmd->footer(
        "At start and every --update-interval: graft update (followed channels, under their delay;\n"
        "the kernel patches installed for the running release are loaded — at boot too).\n"
        "New processes: libgraft-agent.so, preloaded into every process (/etc/ld.so.preload), asks\n"
        "graftd from its constructor — before the program's code runs — when the process maps a\n"
        "build-id an installed bundle patches, and waits (at most GRAFT_AGENT_TIMEOUT_MS, default\n"
        "10000; not at all when graftd is down) while graftd applies it. Every --interval graftd\n"
        "applies whatever is still missing anywhere. Logs one line per event on stdout.\n"
        "Runs until SIGTERM/SIGINT. systemd: dist/graftd.service. See docs/host.md.");
    cmd->callback([=] {
      host::DaemonOptions opt;
      opt.agent_dir = *agent_dir;
      opt.store = *store;
      opt.kernel_records = kernel::DefaultRecordsDir();
      opt.interval_seconds = *interval;
      opt.timeout_seconds = *timeout;
      opt.allow_unsigned = UnsignedAllowed(*allow_unsigned);
      opt.stop = InterruptRequested;
      opt.log = [](const std::string& m) {
        fmt::print("graftd: {}\n", m);
        std::fflush(stdout);
      };
      opt.update = DaemonUpdate(opt.allow_unsigned);
      opt.update_interval_seconds = *update_interval;
      CatchInterrupts();
      if (Status s = host::RunDaemon(opt); !s.ok()) Fail(s.error());
    });
  }
  {
    auto* cmd = app.add_subcommand("status", "This host's live patches: kernel, installed bundles, processes, CVEs");
    auto as_json = std::make_shared<bool>(false);
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->add_flag("--json", *as_json, "Machine-readable output (what a fleet server reads)");
    cmd->footer(
        "Kernel: live patches loaded (sysfs) and installed for boot. User space: installed bundles,\n"
        "and for each, every process mapping its target: applied, applied-newer (a later patch\n"
        "level runs), partial, or missing (graft apply-installed applies it); patches applied by\n"
        "hand that are not installed. live_cves: what graft scan counts as fixed by live patches.");
    cmd->callback([=] {
      host::HostStatus st = host::ReadHostStatus(*store, kernel::DefaultRecordsDir(), UnsignedAllowed(*allow_unsigned));
      json delivery = DeliveryJson();
      if (*as_json) {
        json out = StatusJson(st);
        out["channels"] = delivery["channels"];
        out["last_update"] = delivery["last_update"];
        fmt::print("{}\n", out.dump(2));
        return;
      }
      fmt::print("kernel {}: ", st.kernel.release.empty() ? "?" : st.kernel.release);
      if (!st.kernel_error.empty()) fmt::print("unreadable ({})\n", st.kernel_error);
      else if (!st.kernel.livepatch_supported) fmt::print("no live patching (CONFIG_LIVEPATCH)\n");
      else fmt::print("{} live patch(es), {} installed for boot\n", st.kernel.patches.size(), st.kernel.installed.size());
      for (const auto& p : st.kernel.patches)
        fmt::print("  {:<28} {:<10} {}\n", p.name, p.State(), p.cves.empty() ? "-" : fmt::format("{}", fmt::join(p.cves, ",")));
      fmt::print("installed bundles: {}\n", st.bundles.size());
      for (const auto& b : st.bundles)
        fmt::print("  {:<28} {:<16} {}{}\n", b.id, b.target_name, b.cves.empty() ? "-" : fmt::format("{}", fmt::join(b.cves, ",")),
                   b.problem.empty() ? "" : "  PROBLEM: " + b.problem);
      int missing = 0;
      for (const auto& p : st.processes) missing += p.state == "missing" || p.state == "partial";
      fmt::print("processes mapping their targets: {} ({} missing a patch)\n", st.processes.size(), missing);
      for (const auto& p : st.processes)
        fmt::print("  {:<8} {:<16} {:<28} {}{}\n", p.pid, p.process, p.bundle, p.state, p.by.empty() ? "" : " (" + p.by + ")");
      if (!st.not_installed.empty()) {
        fmt::print("applied by hand, not installed: {}\n", st.not_installed.size());
        for (const auto& l : st.not_installed) fmt::print("  {:<8} {:<16} {}\n", l.pid, l.process, l.patch.record.id);
      }
      fmt::print("channels followed: {}\n", delivery["channels"].size());
      for (const auto& c : delivery["channels"])
        fmt::print("  {:<12} {} {}  index {}{}\n", c["name"].get<std::string>(), c["url"].get<std::string>(),
                   c["channel"].get<std::string>(), c["sequence"].get<long long>(),
                   c.contains("error") ? "  LAST FETCH FAILED: " + c["error"].get<std::string>() : "");
      if (const json& l = delivery["last_update"]; l.is_object())
        fmt::print("last update: {} ({})\n", l.value("time", "?"), l.value("ok", false) ? "ok" : "with failures");
      fmt::print("CVEs fixed by live patches now: {}\n",
                 st.live_cves.empty() ? "none" : fmt::format("{}", fmt::join(st.live_cves, ", ")));
    });
  }
}

}  // namespace graft::cli
