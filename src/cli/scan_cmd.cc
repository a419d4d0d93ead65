// `graft scan` and `graft supported`: which CVEs this host (or an inventory
// sent by another host) still carries, counting graft's applied live patches,
// and whether the running kernel still receives live patches.
#include <fmt/format.h>

#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "advisory/store.h"
#include "base/state_dir.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "kernel/live_state.h"
#include "kernel/records.h"
#include "repo/update.h"
#include "scan/scanner.h"
#include "scan/support.h"
#include "userspace/live_inventory.h"

namespace graft::cli {

using nlohmann::json;

std::unique_ptr<advisory::AdvisoryStore> OpenStore(const std::string& db, bool create);

namespace {

struct HostOptions {
  std::string db;
  std::string packages;   // inventory file
  std::string ecosystem;  // of the inventory file: rpm or deb
  std::string dpkg_status;
  std::string rpm_root;
  std::string kernel_release;
  std::string release;
  std::vector<std::string> live_patches;  // `graft list --json` / `graft kernel status --json` of the host
  bool no_live = false;
};

void AddHostOptions(CLI::App* cmd, HostOptions& h) {
  cmd->add_option("--db", h.db, "Advisory store (SQLite file)");
  cmd->add_option("--packages", h.packages, "Inventory file, one 'NAME VERSION ARCH' a line (- for stdin)");
  cmd->add_option("--ecosystem", h.ecosystem, "Version rules of --packages: rpm or deb")->check(CLI::IsMember({"rpm", "deb"}));
  cmd->add_option("--dpkg-status", h.dpkg_status, "Read this dpkg status file");
  cmd->add_option("--rpm-root", h.rpm_root, "Read the rpm database under this root (rpm --root)");
  cmd->add_option("--kernel-release", h.kernel_release, "Running kernel (uname -r) of the scanned host");
  cmd->add_option("--release", h.release, "OSV release of the host, e.g. Debian:12 (default: /etc/os-release)");
  cmd->add_option("--live-patches", h.live_patches,
                  "`graft list --json` or `graft kernel status --json` output of the scanned host (repeatable)");
  cmd->add_flag("--no-live-patches", h.no_live, "Ignore live patches (what a scanner without graft reports)");
}

scan::Inventory LoadInventory(const HostOptions& h) {
  scan::Inventory inv;
  if (!h.packages.empty()) {
    if (h.ecosystem.empty()) Fail(Err("--packages needs --ecosystem rpm or deb"), 2);
    inv = Check(scan::ReadPackageList(h.packages, h.ecosystem == "deb" ? advisory::Ecosystem::kDeb
                                                                       : advisory::Ecosystem::kRpm));
  } else if (!h.dpkg_status.empty()) {
    inv = Check(scan::ReadDpkgStatus(h.dpkg_status));
  } else if (!h.rpm_root.empty()) {
    inv = Check(scan::ReadRpmDatabase(h.rpm_root));
  } else {
    inv = Check(scan::ReadLocalInventory());
  }
  if (!h.kernel_release.empty()) inv.kernel_release = h.kernel_release;
  if (!h.release.empty()) inv.release = h.release;
  return inv;
}

// Adds the CVEs of the active patches in one `graft list --json` array or
// one `graft kernel status --json` object.
void AddLivePatched(const json& patches, std::vector<scan::LivePatchedCve>& out) {
  for (const auto& p : patches) {
    if (p.value("state", "active") != "active") continue;
    std::string where = p.contains("pid") ? fmt::format("pid {} {}", p.value("pid", 0), p.value("process", ""))
                                          : p.value("where", "kernel");
    for (const auto& c : p.value("cves", json::array())) out.push_back({c.get<std::string>(), p.value("id", ""), where});
  }
}

std::vector<scan::LivePatchedCve> LivePatched(const HostOptions& h) {
  std::vector<scan::LivePatchedCve> out;
  if (h.no_live) return out;
  if (!h.live_patches.empty()) {
    for (const std::string& path : h.live_patches) {
      std::ifstream f(path);
      if (!f) Fail(Err("cannot read {}", path));
      json j = json::parse(f, nullptr, false);
      if (!j.is_discarded() && j.is_array())
        AddLivePatched(j, out);
      else if (!j.is_discarded() && j.is_object() && j.contains("patches") && j["patches"].is_array())
        AddLivePatched(j["patches"], out);
      else
        Fail(Err("{}: expected the output of `graft list --json` (an array) or `graft kernel status --json`", path));
    }
    return out;
  }
  // This host: user-space patches live in the processes; only fully switched ones count.
  for (const auto& lp : userspace::AllLivePatches()) {
    if (lp.patch.state != "active") continue;
    for (const auto& c : lp.patch.record.cves)
      out.push_back({c, lp.patch.record.id, fmt::format("pid {} {}", lp.pid, lp.process)});
  }
  // Kernel patches count once every task runs the new code (state active).
  if (auto st = kernel::ReadKernelStatus("/sys", "/proc", kernel::DefaultRecordsDir()); st.ok()) {
    for (const auto& p : st->patches)
      if (p.State() == "active")
        for (const auto& c : p.cves) out.push_back({c, p.name, "kernel"});
  }
  return out;
}


}  // namespace

void RegisterScanCommands(CLI::App& app) {
  {
    auto* cmd = app.add_subcommand("scan", "Report which CVEs this host still carries, counting live patches");
    cmd->footer(
        "Each CVE of an advisory that names an installed package is reported as\n"
        "  missing               the installed version is older than the fixed one\n"
        "  fixed-by-live-patch   older, but an applied graft live patch declares the CVE\n"
        "  fixed                 the installed version is the fixed one or newer\n"
        "  not-applicable        (with --all) no installed package is named\n"
        "Matching follows dnf: same name and architecture, the latest installed version of\n"
        "each name, the running kernel's packages for kernels. Debian advisories name source\n"
        "packages and are matched on each binary's source.\n"
        "Examples:\n"
        "  graft scan\n"
        "  graft scan --severity critical,important --json\n"
        "  graft scan --packages host42.txt --ecosystem rpm --kernel-release 5.10.1-1.x86_64 \\\n"
        "             --live-patches host42-live.json\n"
        "  graft scan --effective-kernel\n"
        "Exit status: 0, or 3 with --exit-code when a CVE is missing.");
    auto h = std::make_shared<HostOptions>();
    AddHostOptions(cmd, *h);
    auto sev = std::make_shared<std::string>();
    auto all_types = std::make_shared<bool>(false), all = std::make_shared<bool>(false);
    auto as_json = std::make_shared<bool>(false), effective = std::make_shared<bool>(false);
    auto advisories_view = std::make_shared<bool>(false), exit_code = std::make_shared<bool>(false);
    cmd->add_option("--severity", *sev, "Only these severities (critical,important,moderate,low)");
    cmd->add_flag("--all-types", *all_types, "Also bugfix and enhancement advisories (default: security only)");
    cmd->add_flag("--all", *all, "Also list fixed CVEs");
    cmd->add_flag("--advisories", *advisories_view, "List missing advisories and packages (like dnf updateinfo list)");
    cmd->add_flag("--effective-kernel", *effective, "Print the kernel level a compliance tool should believe");
    cmd->add_flag("--exit-code", *exit_code, "Exit with 3 when a CVE is missing");
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      auto store = OpenStore(h->db, false);
      scan::Inventory inv = LoadInventory(*h);
      scan::ScanOptions opt;
      opt.type = *all_types ? "" : "security";
      opt.severities = advisory::ParseSeverityList(*sev);
      opt.live_patched = LivePatched(*h);
      auto advisories = Check(store->ForPackages(scan::PackageNames(inv)));
      if (*effective) {
        auto ek = scan::ComputeEffectiveKernel(inv, advisories, opt);
        if (ek.running.empty()) Fail(Err("no installed package provides the running kernel {}", inv.kernel_release));
        if (*as_json) {
          fmt::print("{}\n", json{{"kernel_release", inv.kernel_release}, {"running", ek.running},
                                  {"effective", ek.effective}, {"live_patched_cves", ek.live_patched_cves},
                                  {"blocking_cves", ek.blocking}}
                                 .dump(2));
        } else {
          fmt::print("{}\n", ek.effective);
          fmt::print(stderr, "running kernel package {}; effective {} ({} CVEs of newer kernels fixed by live patches{})\n",
                     ek.running, ek.effective, ek.live_patched_cves,
                     ek.blocking.empty() ? "" : fmt::format("; next level needs {}", fmt::join(ek.blocking, ", ")));
        }
        return;
      }
      scan::ScanReport r = scan::Scan(inv, advisories, opt);
      int counts[4] = {};
      for (const auto& c : r.cves) counts[static_cast<int>(c.status)]++;
      int missing = counts[static_cast<int>(scan::CveStatus::kMissing)];
      if (*as_json) {
        // Streamed, one object a line: a JSON tree of a dense host's tens of
        // thousands of findings costs several times the scan itself.
        auto str = [](std::string_view v) { return json(v).dump(); };
        fmt::memory_buffer out;
        auto put = [&]<typename... A>(fmt::format_string<A...> f, A&&... a) {
          fmt::format_to(std::back_inserter(out), f, std::forward<A>(a)...);
        };
        put("{{\n  \"packages\": {},\n  \"kernel_release\": {},\n  \"summary\": {{", inv.packages.size(),
            str(inv.kernel_release));
        const char* sep = "";
        for (auto s : {scan::CveStatus::kMissing, scan::CveStatus::kFixedByLivePatch, scan::CveStatus::kFixed}) {
          put("{}\"{}\": {}", sep, scan::StatusName(s), counts[static_cast<int>(s)]);
          sep = ", ";
        }
        put("}},\n  \"cves\": [");
        sep = "\n    ";
        for (const auto& c : r.cves) {
          if (!*all && c.status == scan::CveStatus::kFixed) continue;
          put("{}{{\"cve\": {}, \"status\": \"{}\", \"severity\": {}, \"advisories\": [", sep, str(c.cve),
              scan::StatusName(c.status), str(c.severity));
          for (size_t i = 0; i < c.advisories.size(); i++) put("{}{}", i ? ", " : "", str(c.advisories[i]));
          put("]");
          if (c.cvss_score >= 0) put(", \"cvss\": {{\"score\": {}, \"vector\": {}}}", c.cvss_score, str(c.cvss_vector));
          if (!c.live_patches.empty()) put(", \"live_patches\": {}", json(c.live_patches).dump());
          put("}}");
          sep = ",\n    ";
        }
        put("\n  ],\n  \"advisories\": [");
        sep = "\n    ";
        for (const auto& a : r.advisories) {
          if (!*all && a.status == scan::CveStatus::kFixed) continue;
          put("{}{{\"id\": {}, \"type\": {}, \"severity\": {}, \"status\": \"{}\", \"packages\": [", sep,
              str(a.advisory->id), str(a.advisory->type), str(a.advisory->severity), scan::StatusName(a.status));
          for (size_t i = 0; i < a.packages.size(); i++) {
            const auto& p = a.packages[i];
            put("{}{{\"name\": {}, \"arch\": {}, \"installed\": {}, \"fixed\": {}, \"missing\": {}}}", i ? ", " : "",
                str(p.installed->name), str(p.installed->arch), str(p.installed->version), str(p.fixed->version),
                p.missing);
          }
          put("]}}");
          sep = ",\n    ";
        }
        put("\n  ]\n}}\n");
        fwrite(out.data(), 1, out.size(), stdout);
      } else if (*advisories_view) {
        for (const auto& a : r.advisories)
          for (const auto& p : a.packages)
            if (p.missing)
              fmt::print("{:<24} {:<20} {}-{}.{}\n", a.advisory->id,
                         a.advisory->type + "/" + (a.advisory->severity.empty() ? "None" : a.advisory->severity),
                         p.fixed->name, p.fixed->version, p.fixed->arch.empty() ? p.installed->arch : p.fixed->arch);
      } else {
        // One buffer, one write, plain appends: a dense host has tens of
        // thousands of lines.
        std::string out;
        out.reserve(r.cves.size() * 80);
        auto column = [&](std::string_view v, size_t width) {
          out += v;
          out.append(v.size() < width ? width - v.size() : 0, ' ');
          out += ' ';
        };
        for (const auto& c : r.cves) {
          if (!*all && c.status == scan::CveStatus::kFixed) continue;
          column(c.cve, 18);
          column(scan::StatusName(c.status), 20);
          column(c.severity.empty() ? "-" : c.severity, 10);
          char score[16] = "-";
          if (c.cvss_score >= 0) snprintf(score, sizeof score, "%.1f", c.cvss_score);
          column(score, 4);
          const char* sep = "";
          if (c.live_patches.empty()) {
            for (std::string_view a : c.advisories) out.append(sep).append(a), sep = ",";
          } else {
            for (const std::string& l : c.live_patches) out.append(sep).append(l), sep = ", ";
          }
          out += '\n';
        }
        fwrite(out.data(), 1, out.size(), stdout);
        fmt::print(stderr, "{} packages; CVEs: {} missing, {} fixed by live patch, {} fixed\n", inv.packages.size(),
                   missing, counts[static_cast<int>(scan::CveStatus::kFixedByLivePatch)],
                   counts[static_cast<int>(scan::CveStatus::kFixed)]);
      }
      // The report is out; freeing tens of thousands of findings and
      // advisories one by one would only delay the exit (the store was
      // opened read-only: nothing is left to flush).
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(*exit_code && missing ? 3 : 0);
    });
  }
  {
    auto* cmd = app.add_subcommand("supported", "Say whether the running kernel still receives live patches");
    cmd->footer("A followed channel (graft channel add) whose repository states a policy for kernel\n"
                "releases (graft repo policy) decides first. Otherwise the policy comes from the advisory store (graft advisories policy), else 3 months\n"
                "per kernel release and the 6 newest releases; --window-months/--latest-kernels override.\n"
                "Exit status: 0 supported, 1 not supported, 4 unknown.\n"
                "Example: graft supported --json");
    auto h = std::make_shared<HostOptions>();
    AddHostOptions(cmd, *h);
    auto window = std::make_shared<int>(0), latest = std::make_shared<int>(0);
    auto now = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("--window-months", *window, "Override the policy's window");
    cmd->add_option("--latest-kernels", *latest, "Override the policy's number of covered releases");
    cmd->add_option("--now", *now, "Judge as of this date (YYYY-MM-DD)");
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      scan::Inventory inv = LoadInventory(*h);
      time_t t = time(nullptr);
      if (!now->empty()) {
        struct tm tm = {};
        if (!strptime(now->c_str(), "%Y-%m-%d", &tm)) Fail(Err("--now: expected YYYY-MM-DD, got '{}'", *now), 2);
        t = timegm(&tm);
      }
      // A followed channel that states a policy for kernel releases decides:
      // it is what will (or will not) send this host its next live patch.
      if (repo::ChannelSupport cs = repo::SupportFromChannels(StateDir(), inv.kernel_release, t); cs.known) {
        if (*as_json)
          fmt::print("{}\n", json{{"kernel_release", inv.kernel_release}, {"known", true}, {"supported", cs.supported},
                                  {"since", cs.since}, {"until", cs.until}, {"reason", cs.reason},
                                  {"note", cs.note}, {"source", cs.source}}
                                 .dump(2));
        else
          fmt::print("{}: {}{}\n", cs.supported ? "supported" : "not supported", cs.reason,
                     cs.note.empty() ? "" : " (" + cs.note + ")");
        if (!cs.supported) throw CLI::RuntimeError(1);
        return;
      }
      auto store = OpenStore(h->db, false);
      scan::SupportPolicy policy;
      if (auto w = Check(store->GetSetting("livepatch.window_months"))) policy.window_months = std::stoi(*w);
      if (auto l = Check(store->GetSetting("livepatch.latest_kernels"))) policy.latest_kernels = std::stoi(*l);
      if (*window > 0) policy.window_months = *window;
      if (*latest > 0) policy.latest_kernels = *latest;
      auto advisories = Check(store->List({}));
      scan::SupportStatus st = scan::CheckSupport(inv, advisories, policy, t);
      if (*as_json) {
        fmt::print("{}\n", json{{"kernel_release", inv.kernel_release}, {"kernel", st.kernel}, {"known", st.known},
                                {"supported", st.supported}, {"released", st.released}, {"until", st.until},
                                {"newer_releases", st.newer_releases}, {"reason", st.reason},
                                {"window_months", policy.window_months}, {"latest_kernels", policy.latest_kernels},
                                {"livepatch_advisories", st.livepatch_advisories},
                                {"last_livepatch", st.last_livepatch}}
                               .dump(2));
      } else {
        fmt::print("{}: {}\n", !st.known ? "unknown" : st.supported ? "supported" : "not supported", st.reason);
        if (st.livepatch_advisories)
          fmt::print("{} live-patch advisories for this kernel, the newest issued {}\n", st.livepatch_advisories,
                     st.last_livepatch);
      }
      if (!st.known) throw CLI::RuntimeError(4);
      if (!st.supported) throw CLI::RuntimeError(1);
    });
  }
}

}  // namespace graft::cli
