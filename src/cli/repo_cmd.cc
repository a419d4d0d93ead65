// `graft repo add | promote | withdraw | policy | list`: the publisher's side
// of a patch repository (src/repo/publish.h) — a directory any web server can
// serve, with a signed index, channels and advisories.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "repo/publish.h"
#include "trust/keys.h"

namespace graft::cli {

namespace {

std::string Describe(const repo::Entry& e) {
  return e.kind == "kernel" ? fmt::format("kernel {} for {}{}", e.id, e.kernel_release, e.cumulative ? " (cumulative)" : "")
                            : fmt::format("bundle {} for {} ({})", e.id, e.target_name, e.target_build_id);
}

}  // namespace

void RegisterRepoCommands(CLI::App& app) {
  auto* group = app.add_subcommand("repo", "Publish live patches: a signed repository with channels and advisories");
  group->require_subcommand(1);
  group->footer(
      "A repository is a directory any web server can serve: index.json (+ .sig), bundles/,\n"
      "kernel/, updateinfo.xml and osv/. Every change re-signs the index with a higher\n"
      "sequence number and a 30-day expiry (graft repo refresh renews it); hosts follow channels\n"
      "with graft channel add and graft update.\n"
      "Example:\n"
      "  graft repo add /srv/graft fix.graft livepatch.ko --channel testing --key publisher.key\n"
      "  graft repo promote /srv/graft fix-1 --from testing --to stable --key publisher.key");
  auto key_path = std::make_shared<std::string>();
  auto add_key = [&](CLI::App* cmd) {
    cmd->add_option("--key", *key_path, "The publisher's secret key (graft keygen)")->required()->check(CLI::ExistingFile);
  };
  {
    auto* cmd = group->add_subcommand("add", "Publish bundles (.graft) and kernel live patch modules (.ko) in a channel");
    auto dir = std::make_shared<std::string>();
    auto files = std::make_shared<std::vector<std::string>>();
    auto opt = std::make_shared<repo::AddOptions>();
    cmd->add_option("dir", *dir, "The repository directory (created if needed)")->required();
    cmd->add_option("files", *files, "Bundles and modules; a FILE.sig next to one must verify")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--channel", opt->channel, "Channel to publish in (default testing)");
    cmd->add_option("--severity", opt->severity, "Severity of the advisory: critical, important, moderate, low")
        ->check(CLI::IsMember({"critical", "important", "moderate", "low"}));
    add_key(cmd);
    cmd->callback([=] {
      auto key = Check(trust::ReadSecretKey(*key_path));
      for (const auto& e : Check(repo::AddToRepository(*dir, *files, *opt, key)))
        fmt::print("published {} in {}\n", Describe(e), opt->channel);
    });
  }
  {
    auto* cmd = group->add_subcommand("promote", "Publish an entry of one channel in another (its delay starts now)");
    auto dir = std::make_shared<std::string>(), id = std::make_shared<std::string>();
    auto from = std::make_shared<std::string>("testing"), to = std::make_shared<std::string>("stable");
    cmd->add_option("dir", *dir, "The repository directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("id", *id, "The bundle's or module's id")->required();
    cmd->add_option("--from", *from, "Channel it is in (default testing)");
    cmd->add_option("--to", *to, "Channel to publish it in (default stable)");
    add_key(cmd);
    cmd->callback([=] {
      auto key = Check(trust::ReadSecretKey(*key_path));
      auto e = Check(repo::Promote(*dir, *id, *from, *to, key));
      fmt::print("promoted {} from {} to {} at {}\n", Describe(e), *from, *to, e.published);
    });
  }
  {
    auto* cmd = group->add_subcommand("withdraw", "Remove an entry from a channel");
    auto dir = std::make_shared<std::string>(), id = std::make_shared<std::string>();
    auto channel = std::make_shared<std::string>();
    cmd->add_option("dir", *dir, "The repository directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("id", *id, "The bundle's or module's id")->required();
    cmd->add_option("--channel", *channel, "The channel")->required();
    add_key(cmd);
    cmd->callback([=] {
      auto key = Check(trust::ReadSecretKey(*key_path));
      if (Status s = repo::Withdraw(*dir, *id, *channel, key); !s.ok()) Fail(s.error());
      fmt::print("withdrew {} from {} (hosts keep what they installed)\n", *id, *channel);
    });
  }
  {
    auto* cmd = group->add_subcommand("policy", "Say until when a kernel release receives live patches (graft supported)");
    auto dir = std::make_shared<std::string>(), release = std::make_shared<std::string>();
    auto p = std::make_shared<repo::ReleasePolicy>();
    cmd->add_option("dir", *dir, "The repository directory")->required();
    cmd->add_option("--kernel-release", *release, "uname -r of the kernel")->required();
    cmd->add_option("--until", p->until, "Last day of live patches, YYYY-MM-DD")->required();
    cmd->add_option("--since", p->since, "First day, YYYY-MM-DD");
    cmd->add_option("--note", p->note, "Shown to hosts (e.g. which kernel to move to)");
    add_key(cmd);
    cmd->callback([=] {
      auto key = Check(trust::ReadSecretKey(*key_path));
      if (Status s = repo::SetKernelPolicy(*dir, *release, *p, key); !s.ok()) Fail(s.error());
      fmt::print("kernel {} receives live patches until {}\n", *release, p->until);
    });
  }
  {
    auto* cmd = group->add_subcommand("refresh", "Re-sign the index with a new expiry (run it regularly, e.g. daily)");
    auto dir = std::make_shared<std::string>();
    auto days = std::make_shared<int>(repo::kDefaultValidDays);
    cmd->add_option("dir", *dir, "The repository directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--valid-days", *days, "Days until hosts refuse the index (default 30)")
        ->check(CLI::PositiveNumber);
    add_key(cmd);
    cmd->footer("Every change (add, promote, withdraw, policy) signs the index for 30 days; a repository\n"
                "that changes less often needs this, or its hosts refuse the index as expired.");
    cmd->callback([=] {
      auto key = Check(trust::ReadSecretKey(*key_path));
      auto index = Check(repo::Refresh(*dir, key, *days));
      fmt::print("index sequence {} valid until {}\n", index.sequence, index.expires);
    });
  }
  {
    auto* cmd = group->add_subcommand("list", "Show what a repository publishes, per channel");
    auto dir = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("dir", *dir, "The repository directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      auto index = Check(repo::LoadIndex(*dir));
      if (*as_json) {  // the index itself, as hosts read it
        fmt::print("{}", repo::SerializeIndex(index));
        return;
      }
      fmt::print("index sequence {} (signed {}, valid until {})\n", index.sequence, index.generated, index.expires);
      for (const auto& [c, entries] : index.channels) {
        fmt::print("{}:\n", c);
        for (const auto& e : entries)
          fmt::print("  {}  published {}  {}\n", Describe(e), e.published, fmt::join(e.cves, " "));
      }
      for (const auto& [r, p] : index.kernel_policy) fmt::print("kernel {}: live patches until {}\n", r, p.until);
    });
  }
}

}  // namespace graft::cli
