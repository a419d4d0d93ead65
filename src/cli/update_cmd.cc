// `graft channel add | remove | list` and `graft update`: a host following
// repositories' channels (src/repo/update.h).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/interrupt.h"
#include "base/state_dir.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "host/bundle_store.h"
#include "host/daemon.h"
#include "kernel/records.h"
#include "repo/subscriptions.h"
#include "repo/update.h"
#include "trust/keys.h"

namespace graft::cli {

using json = nlohmann::json;

namespace {

json UpdateReportJson(const repo::UpdateReport& r) {
  json channels = json::array();
  for (const auto& c : r.channels) {
    json j = {{"name", c.name}, {"url", c.url}, {"channel", c.channel}, {"sequence", c.sequence}};
    if (!c.error.empty()) j["error"] = c.error;
    channels.push_back(j);
  }
  json items = json::array();
  for (const auto& i : r.items)
    items.push_back({{"subscription", i.subscription}, {"channel", i.channel}, {"id", i.id}, {"kind", i.kind},
                     {"target", i.target}, {"cves", i.cves}, {"action", i.action}, {"detail", i.detail}});
  json kfailed = json::array();
  for (const auto& [n, why] : r.kernel_failed) kfailed.push_back({{"id", n}, {"error", why}});
  return {{"time", r.time},         {"check_only", r.check_only},   {"ok", r.ok()},
          {"channels", channels},   {"items", items},               {"kernel_loaded", r.kernel_loaded},
          {"kernel_failed", kfailed}, {"processes_patched", r.applied}, {"process_failures", r.apply_failed}};
}

repo::UpdateOptions DefaultUpdateOptions(bool allow_unsigned) {
  repo::UpdateOptions opt;
  opt.state_dir = StateDir();
  opt.bundle_store = host::DefaultBundleStore();
  opt.kernel_records = kernel::DefaultRecordsDir();
  opt.trust_store = trust::DefaultTrustStore();
  opt.allow_unsigned = allow_unsigned;
  return opt;
}

}  // namespace

std::function<void(const std::function<void(const std::string&)>&)> DaemonUpdate(bool allow_unsigned) {
  return [=](const std::function<void(const std::string&)>& log) {
    repo::UpdateOptions opt = DefaultUpdateOptions(allow_unsigned);
    opt.apply_to_processes = false;  // graftd's full pass follows at once
    opt.cancelled = InterruptRequested;
    repo::UpdateReport r = repo::RunUpdate(opt);
    host::RefreshAgentIndex(DefaultAgentDir(), opt.bundle_store, allow_unsigned);
    if (!log) return;
    for (const auto& c : r.channels)
      log(c.error.empty() ? fmt::format("update: channel {}: index {}", c.name, c.sequence)
                          : fmt::format("update: channel {}: {}", c.name, c.error));
    for (const auto& i : r.items)
      if (i.action == "installed" || i.action == "refused" || i.action == "held")
        log(fmt::format("update: {} {} {}{}", i.action, i.kind, i.id, i.detail.empty() ? "" : ": " + i.detail));
    for (const auto& k : r.kernel_loaded) log("update: loaded kernel live patch " + k);
    for (const auto& [n, why] : r.kernel_failed) log(fmt::format("update: kernel {}: {}", n, why));
  };
}

void RegisterUpdateCommands(CLI::App& app) {
  {
    auto* group = app.add_subcommand("channel", "Follow channels of live patch repositories");
    group->require_subcommand(1);
    {
      auto* cmd = group->add_subcommand("add", "Follow a channel of a repository");
      auto s = std::make_shared<repo::Subscription>();
      s->channel = "stable";
      cmd->add_option("name", s->name, "A local name for it")->required();
      cmd->add_option("url", s->url, "The repository: http(s)://..., file:///PATH or /PATH")->required();
      cmd->add_option("--channel", s->channel, "The channel (default stable)");
      cmd->add_option("--delay", s->delay_hours,
                      "Install an entry only this many hours after it entered the channel (default 0)")
          ->check(CLI::NonNegativeNumber);
      cmd->footer("The repository's index must be signed by a key of the trust store ($GRAFT_KEYS_DIR or\n"
                  "/etc/graft/keys). Example:\n  graft channel add vendor https://patches.example.com/graft --delay 24");
      cmd->callback([=] {
        if (Status st = repo::AddSubscription(StateDir(), *s); !st.ok()) Fail(st.error());
        fmt::print("following {} of {} as {}{}; run graft update\n", s->channel, s->url, s->name,
                   s->delay_hours > 0 ? fmt::format(" ({} h delay)", s->delay_hours) : "");
      });
    }
    {
      auto* cmd = group->add_subcommand("remove", "Stop following a channel (installed patches stay)");
      auto name = std::make_shared<std::string>();
      cmd->add_option("name", *name, "Its local name")->required();
      cmd->callback([=] {
        if (Status st = repo::RemoveSubscription(StateDir(), *name); !st.ok()) Fail(st.error());
        fmt::print("no longer following {}\n", *name);
      });
    }
    {
      auto* cmd = group->add_subcommand("list", "The channels this host follows and their last fetch");
      auto as_json = std::make_shared<bool>(false);
      cmd->add_flag("--json", *as_json, "Machine-readable output");
      cmd->callback([=] {
        auto subs = Check(repo::ReadSubscriptions(StateDir()));
        json out = json::array();
        for (const auto& s : subs) {
          repo::ChannelState st = repo::ReadChannelState(StateDir(), s.name);
          out.push_back({{"name", s.name}, {"url", s.url}, {"channel", s.channel}, {"delay_hours", s.delay_hours},
                         {"sequence", st.sequence}, {"fetched", st.fetched}, {"error", st.error}});
          if (!*as_json)
            fmt::print("{}  {} {}  delay {} h  {}\n", s.name, s.url, s.channel, s.delay_hours,
                       !st.error.empty() ? "last fetch failed: " + st.error
                       : st.fetched.empty() ? std::string("never fetched")
                                            : fmt::format("index {} fetched {}", st.sequence, st.fetched));
        }
        if (*as_json) fmt::print("{}\n", out.dump(2));
        else if (subs.empty()) fmt::print("no channels followed (graft channel add)\n");
      });
    }
  }
  {
    auto* cmd = app.add_subcommand("update", "Install and apply what the followed channels publish for this host");
    auto check = std::make_shared<bool>(false), as_json = std::make_shared<bool>(false);
    auto now = std::make_shared<std::string>();
    auto allow_unsigned = AddAllowUnsigned(cmd);
    cmd->add_flag("--check", *check, "Only say what would be installed (fetches the indexes)");
    cmd->add_flag("--json", *as_json, "Machine-readable report");
    cmd->add_option("--now", *now, "Judge delays as of this UTC time (YYYY-MM-DDTHH:MM:SSZ), for planning");
    cmd->footer(
        "For each followed channel: fetch index.json and verify its signature and sequence; pick\n"
        "kernel patches for the running release and bundles whose target a running process maps\n"
        "(or an installed bundle targets); hold what the channel's delay holds; fetch the rest,\n"
        "check SHA-256 and signature, install (under the state directory), load the kernel's\n"
        "installed patches (a cumulative one replaces the older) and apply the installed bundles\n"
        "to every process. Each item: installed, would-install, up-to-date, held, not-applicable,\n"
        "superseded or refused. Exit status 1 when anything failed or was refused.");
    cmd->callback([=] {
      repo::UpdateOptions opt = DefaultUpdateOptions(UnsignedAllowed(*allow_unsigned));
      opt.check_only = *check;
      opt.cancelled = InterruptRequested;
      if (!now->empty()) {
        opt.now = repo::ParseTime(*now);
        if (opt.now < 0) Fail(Err("--now: expected YYYY-MM-DDTHH:MM:SSZ, got '{}'", *now), 2);
      }
      if (!*as_json) opt.progress = [](const std::string& m) { fmt::print(stderr, "graft: {}\n", m); };
      CatchInterrupts();
      repo::UpdateReport r = repo::RunUpdate(opt);
      if (!opt.check_only) host::RefreshAgentIndex(DefaultAgentDir(), opt.bundle_store, opt.allow_unsigned);
      if (*as_json) {
        fmt::print("{}\n", UpdateReportJson(r).dump(2));
      } else {
        for (const auto& c : r.channels)
          if (!c.error.empty()) fmt::print(stderr, "graft: channel {}: {}\n", c.name, c.error);
        for (const auto& i : r.items)
          fmt::print("{:<15} {} {} ({}){}{}\n", i.action, i.kind, i.id, i.target,
                     i.cves.empty() ? "" : " " + fmt::format("{}", fmt::join(i.cves, " ")),
                     i.detail.empty() ? "" : ": " + i.detail);
        for (const auto& k : r.kernel_loaded) fmt::print("loaded kernel live patch {}\n", k);
        for (const auto& [n, why] : r.kernel_failed) fmt::print(stderr, "graft: kernel {}: {}\n", n, why);
        for (const auto& a : r.applied) fmt::print("{}\n", a);
        for (const auto& e : r.apply_failed) fmt::print(stderr, "graft: {}\n", e);
        if (r.channels.empty()) fmt::print("no channels followed (graft channel add)\n");
      }
      if (!r.ok()) throw CLI::RuntimeError(1);
    });
  }
}

}  // namespace graft::cli
