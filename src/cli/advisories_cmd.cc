// `graft advisories import | list | show | publish | policy`: the local
// advisory store (updateinfo.xml and OSV in; tables, JSON, RSS and OSV out).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "advisory/compressed_file.h"
#include "advisory/feeds.h"
#include "advisory/osv.h"
#include "advisory/store.h"
#include "advisory/updateinfo.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace graft::cli {

using nlohmann::json;

namespace {

json AdvisoryJson(const advisory::Advisory& a) {
  json pkgs = json::array(), refs = json::array();
  for (const auto& p : a.packages)
    pkgs.push_back({{"name", p.name}, {"arch", p.arch}, {"version", p.version}, {"ecosystem", p.ecosystem}});
  for (const auto& r : a.references) refs.push_back({{"type", r.type}, {"id", r.id}, {"href", r.href}});
  json j = {{"id", a.id},       {"type", a.type},     {"severity", a.severity}, {"title", a.title},
            {"issued", a.issued}, {"updated", a.updated}, {"cves", a.cves},       {"packages", pkgs},
            {"references", refs}, {"source", a.source}, {"description", a.description}};
  if (a.cvss_score >= 0) j["cvss"] = {{"vector", a.cvss_vector}, {"score", a.cvss_score}};
  return j;
}


// updateinfo.xml or OSV, told apart by content rather than by name.
Result<advisory::ParsedAdvisories> ParseAny(const std::string& path, const std::string& format) {
  std::string f = format;
  if (f == "auto") {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      f = "osv";
    } else {
      auto text = advisory::ReadMaybeCompressed(path);
      if (!text.ok()) return text.error();
      size_t first = text->find_first_not_of(" \t\r\n\xef\xbb\xbf");
      f = first != std::string::npos && (text->at(first) == '{' || text->at(first) == '[') ? "osv" : "updateinfo";
    }
  }
  if (f == "osv") return advisory::ParseOsvFile(path);
  if (f == "updateinfo") return advisory::ParseUpdateinfoFile(path);
  return Err("unknown --format '{}' (auto, updateinfo, osv)", format);
}

}  // namespace

std::unique_ptr<advisory::AdvisoryStore> OpenStore(const std::string& db, bool create) {
  return Check(advisory::AdvisoryStore::Open(db.empty() ? advisory::DefaultStorePath() : db, create));
}

void RegisterAdvisoryCommands(CLI::App& app) {
  auto* group = app.add_subcommand("advisories", "Import, query and publish security advisories");
  group->require_subcommand(1);
  group->footer("The store is one SQLite file: --db PATH, else $GRAFT_DB, else /var/lib/graft/advisories.db\n"
                "(root) or ~/.local/share/graft/advisories.db.");
  auto db = std::make_shared<std::string>();
  group->add_option("--db", *db, "Advisory store (SQLite file)");
  {
    auto* cmd = group->add_subcommand("import", "Read updateinfo.xml[.gz|.xz] or OSV JSON files into the store");
    cmd->footer("Examples:\n"
                "  graft advisories import repodata/updateinfo.xml.gz\n"
                "  graft advisories import DSA-5461-1.json osv-records/\n"
                "A record with an id already in the store replaces it.");
    auto files = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>("auto");
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("files", *files, "updateinfo.xml (plain, .gz, .xz), OSV .json files or directories")->required();
    cmd->add_option("--format", *format, "auto, updateinfo or osv")->capture_default_str();
    cmd->add_flag("--quiet,-q", *quiet, "No per-file lines");
    cmd->callback([=] {
      auto store = OpenStore(*db, true);
      int total = 0;
      for (const auto& f : *files) {
        advisory::ParsedAdvisories parsed = Check(ParseAny(f, *format));
        for (const auto& w : parsed.warnings) fmt::print(stderr, "graft: warning: {}\n", w);
        int added = Check(store->Import(parsed.advisories));
        total += static_cast<int>(parsed.advisories.size());
        if (!*quiet)
          fmt::print("{}: {} advisories ({} new, {} updated)\n", f, parsed.advisories.size(), added,
                     parsed.advisories.size() - added);
      }
      fmt::print("store {}: {} advisories\n", store->path(), Check(store->Count()));
    });
  }
  {
    auto* cmd = group->add_subcommand("list", "List advisories in the store");
    cmd->footer("Examples:\n"
                "  graft advisories list --type security --severity critical,important\n"
                "  graft advisories list --cve CVE-2022-28805 --json");
    auto filter = std::make_shared<advisory::AdvisoryFilter>();
    auto sev = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("--type", filter->type, "security, bugfix, enhancement, newpackage");
    cmd->add_option("--severity", *sev, "Comma-separated: critical, important, moderate, low");
    cmd->add_option("--cve", filter->cve, "Only advisories that fix this CVE");
    cmd->add_option("--package", filter->package, "Only advisories that fix this package");
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      advisory::AdvisoryFilter f = *filter;
      f.severities = advisory::ParseSeverityList(*sev);
      auto list = Check(OpenStore(*db, false)->List(f));
      if (*as_json) {
        json out = json::array();
        for (const auto& a : list) out.push_back(AdvisoryJson(a));
        fmt::print("{}\n", out.dump(2));
        return;
      }
      for (const auto& a : list) {
        std::string cvss = a.cvss_score >= 0 ? fmt::format("{:.1f}", a.cvss_score) : "-";
        fmt::print("{:<24} {:<11} {:<9} {:<4} {:<10} {}\n", a.id, a.type, a.severity.empty() ? "-" : a.severity, cvss,
                   a.issued.substr(0, 10), a.cves.empty() ? "-" : fmt::format("{}", fmt::join(a.cves, ",")));
      }
      fmt::print(stderr, "{} advisories\n", list.size());
    });
  }
  {
    auto* cmd = group->add_subcommand("show", "Show one advisory");
    auto id = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("id", *id, "Advisory id, e.g. ALAS2-2023-2001 or DSA-5461-1")->required();
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->callback([=] {
      auto a = Check(OpenStore(*db, false)->Get(*id));
      if (!a) Fail(Err("no advisory {} in the store", *id));
      if (*as_json) {
        fmt::print("{}\n", AdvisoryJson(*a).dump(2));
        return;
      }
      fmt::print("id           {}\ntype         {}\nseverity     {}\ntitle        {}\nissued       {}\nupdated      {}\n",
                 a->id, a->type, a->severity.empty() ? "-" : a->severity, a->title, a->issued, a->updated);
      fmt::print("cves         {}\n", a->cves.empty() ? "-" : fmt::format("{}", fmt::join(a->cves, ", ")));
      if (a->cvss_score >= 0) fmt::print("cvss         {:.1f} {}\n", a->cvss_score, a->cvss_vector);
      for (const auto& p : a->packages)
        fmt::print("fixed in     {} {}{}{}\n", p.name, p.version, p.arch.empty() ? "" : " " + p.arch,
                   p.ecosystem == "rpm" ? "" : " (" + p.ecosystem + ")");
      for (const auto& r : a->references)
        if (!r.href.empty()) fmt::print("reference    {}\n", r.href);
      if (!a->description.empty()) fmt::print("\n{}\n", a->description);
    });
  }
  {
    auto* cmd = group->add_subcommand("publish", "Write the store as an RSS 2.0 feed or as OSV JSON");
    cmd->footer("Examples:\n"
                "  graft advisories publish --format rss --link https://example.com/advisories/ -o feed.xml\n"
                "  graft advisories publish --format osv --ecosystem 'AlmaLinux:9' -o osv.json\n"
                "Filters are those of `graft advisories list`.");
    auto format = std::make_shared<std::string>("rss");
    auto out = std::make_shared<std::string>("-");
    auto info = std::make_shared<advisory::FeedInfo>();
    auto eco = std::make_shared<std::string>("rpm");
    auto filter = std::make_shared<advisory::AdvisoryFilter>();
    auto sev = std::make_shared<std::string>();
    cmd->add_option("--format", *format, "rss or osv")->capture_default_str();
    cmd->add_option("-o,--output", *out, "File to write (- for standard output)");
    cmd->add_option("--title", info->title, "RSS channel title");
    cmd->add_option("--link", info->link, "Base URL; each item links to LINK + advisory id");
    cmd->add_option("--ecosystem", *eco, "OSV ecosystem for packages read from updateinfo.xml");
    cmd->add_option("--type", filter->type, "Only this advisory type");
    cmd->add_option("--severity", *sev, "Comma-separated severities");
    cmd->callback([=] {
      if (*format != "rss" && *format != "osv") Fail(Err("unknown --format '{}' (rss, osv)", *format), 2);
      advisory::AdvisoryFilter f = *filter;
      f.severities = advisory::ParseSeverityList(*sev);
      auto list = Check(OpenStore(*db, false)->List(f));
      std::string text;
      if (*format == "rss") {
        text = advisory::RenderRss(list, *info);
      } else {
        json arr = json::array();
        for (const auto& a : list) arr.push_back(advisory::ToOsv(a, *eco));
        text = arr.dump(2) + "\n";
      }
      if (*out == "-") {
        fmt::print("{}", text);
        return;
      }
      std::ofstream o(*out);
      o << text;
      if (!o) Fail(Err("cannot write {}", *out));
      fmt::print(stderr, "wrote {} advisories to {}\n", list.size(), *out);
    });
  }
  {
    auto* cmd = group->add_subcommand("policy", "Show or set the live-patch support policy kept in the store");
    cmd->footer("Example: graft advisories policy --window-months 12 --latest-kernels 10");
    auto window = std::make_shared<int>(0), latest = std::make_shared<int>(0);
    cmd->add_option("--window-months", *window, "Months a kernel release receives live patches");
    cmd->add_option("--latest-kernels", *latest, "Only this many newest kernel releases receive live patches");
    cmd->callback([=] {
      auto store = OpenStore(*db, true);
      if (*window < 0 || *latest < 0) Fail(Err("policy values must be positive"), 2);
      if (*window) Check(store->SetSetting("livepatch.window_months", std::to_string(*window)));
      if (*latest) Check(store->SetSetting("livepatch.latest_kernels", std::to_string(*latest)));
      auto w = Check(store->GetSetting("livepatch.window_months"));
      auto l = Check(store->GetSetting("livepatch.latest_kernels"));
      fmt::print("window_months   {}\nlatest_kernels  {}\n", w.value_or("3 (default)"), l.value_or("6 (default)"));
    });
  }
}

}  // namespace graft::cli
