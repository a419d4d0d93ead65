#include "advisory/osv.h"

#include <filesystem>

#include "advisory/compressed_file.h"
#include "advisory/cvss.h"

namespace graft::advisory {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// RFC 3339 "2023-06-01T12:00:00Z" / "2023-06-01T12:00:00.123456Z" -> "2023-06-01 12:00:00".
std::string FromRfc3339(std::string s) {
  if (s.size() >= 19 && s[10] == 'T') return s.substr(0, 10) + " " + s.substr(11, 8);
  return NormalizeDate(s);
}

std::string ToRfc3339(const std::string& s) {
  if (s.size() >= 19) return s.substr(0, 10) + "T" + s.substr(11, 8) + "Z";
  if (s.size() == 10) return s + "T00:00:00Z";
  return "1970-01-01T00:00:00Z";
}

std::string SeverityFromScore(double score) {
  if (score >= 9) return "critical";
  if (score >= 7) return "important";
  if (score >= 4) return "moderate";
  if (score > 0) return "low";
  return "";
}

Result<Advisory> FromOsvRecord(const json& v, const std::string& origin) {
  if (!v.is_object()) return Err("{}: an OSV record must be a JSON object", origin);
  Advisory a;
  a.source = "osv";
  a.id = Str(v, "id");
  if (a.id.empty()) return Err("{}: OSV record without an \"id\"", origin);
  a.title = Str(v, "summary");
  a.description = Str(v, "details");
  a.issued = FromRfc3339(Str(v, "published"));
  a.updated = FromRfc3339(Str(v, "modified"));
  if (a.issued.empty()) a.issued = a.updated;
  auto add_cve = [&](const std::string& id) {
    if (id.rfind("CVE-", 0) == 0 && std::find(a.cves.begin(), a.cves.end(), id) == a.cves.end()) a.cves.push_back(id);
  };
  add_cve(a.id);
  // "related" names other issues, not this one: only aliases/upstream are its CVEs.
  for (const char* key : {"aliases", "upstream"}) {
    if (!v.contains(key) || !v[key].is_array()) continue;
    for (const auto& x : v[key])
      if (x.is_string()) add_cve(x.get<std::string>());
  }
  // The most recent CVSS version wins (v4 over v3 over v2).
  if (v.contains("severity") && v["severity"].is_array()) {
    std::string best_version;
    for (const auto& s : v["severity"]) {
      std::string type = Str(s, "type"), vec = Str(s, "score");
      if (type.rfind("CVSS_V", 0) != 0) continue;
      auto r = ScoreCvss(vec);
      if (!r.ok()) return Err("{}: {}: CVSS vector '{}': {}", origin, a.id, vec, r.error().message());
      if (r->version > best_version) {
        best_version = r->version;
        a.cvss_vector = vec;
        a.cvss_score = r->score;
      }
    }
  }
  if (v.contains("database_specific") && v["database_specific"].is_object()) {
    a.severity = NormalizeSeverity(Str(v["database_specific"], "severity"));
    if (std::string t = Str(v["database_specific"], "type"); !t.empty()) a.type = t;
  }
  if (v.contains("references") && v["references"].is_array())
    for (const auto& r : v["references"]) a.references.push_back({Str(r, "type"), "", Str(r, "url"), ""});
  if (v.contains("affected") && v["affected"].is_array()) {
    for (const auto& af : v["affected"]) {
      if (!af.contains("package")) continue;
      std::string eco = Str(af["package"], "ecosystem"), name = Str(af["package"], "name");
      if (a.severity.empty() && af.contains("ecosystem_specific") && af["ecosystem_specific"].is_object())
        a.severity = NormalizeSeverity(Str(af["ecosystem_specific"], "severity"));
      std::string arch;  // graft's own feeds say which architecture a fixed rpm is for
      if (af.contains("ecosystem_specific") && af["ecosystem_specific"].is_object())
        arch = Str(af["ecosystem_specific"], "arch");
      if (!af.contains("ranges") || !af["ranges"].is_array()) continue;
      for (const auto& range : af["ranges"]) {
        if (Str(range, "type") != "ECOSYSTEM" || !range.contains("events")) continue;
        for (const auto& ev : range["events"]) {
          std::string fixed = Str(ev, "fixed");
          if (!fixed.empty()) a.packages.push_back({name, arch, fixed, eco, ""});
        }
      }
    }
  }
  if (a.severity.empty()) a.severity = SeverityFromScore(a.cvss_score);
  return a;
}

}  // namespace

Result<ParsedAdvisories> ParseOsv(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Err("{}: not valid JSON", origin);
  if (j.is_object() && j.contains("vulns")) j = j["vulns"];
  if (j.is_object()) j = json::array({j});
  if (!j.is_array()) return Err("{}: expected an OSV record or an array of them", origin);
  ParsedAdvisories out;
  for (const auto& rec : j) {
    GRAFT_ASSIGN(Advisory a, FromOsvRecord(rec, origin));
    if (a.packages.empty())
      out.warnings.push_back(fmt::format("{}: {} names no fixed version of any package", origin, a.id));
    out.advisories.push_back(std::move(a));
  }
  return out;
}

Result<ParsedAdvisories> ParseOsvFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    GRAFT_ASSIGN(std::string text, ReadMaybeCompressed(path));
    return ParseOsv(text, path);
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(path, ec))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  if (ec) return Err("{}: {}", path, ec.message());
  std::sort(files.begin(), files.end());
  ParsedAdvisories out;
  for (const auto& f : files) {
    GRAFT_ASSIGN(ParsedAdvisories one, ParseOsvFile(f));
    for (auto& a : one.advisories) out.advisories.push_back(std::move(a));
    for (auto& w : one.warnings) out.warnings.push_back(std::move(w));
  }
  return out;
}

json ToOsv(const Advisory& a, const std::string& rpm_ecosystem) {
  json v = {{"schema_version", "1.6.0"},
            {"id", a.id},
            {"modified", ToRfc3339(a.updated.empty() ? a.issued : a.updated)},
            {"published", ToRfc3339(a.issued)},
            {"summary", a.title},
            {"details", a.description}};
  json aliases = json::array();
  for (const auto& c : a.cves)
    if (c != a.id) aliases.push_back(c);
  v["aliases"] = aliases;
  if (!a.cvss_vector.empty()) {
    auto scored = ScoreCvss(a.cvss_vector);
    std::string version = scored.ok() ? scored->version : "3.1";
    v["severity"] = json::array({{{"type", "CVSS_V" + version.substr(0, 1)}, {"score", a.cvss_vector}}});
  }
  json affected = json::array();
  for (const auto& p : a.packages) {
    bool rpm = EcosystemOf(p) == Ecosystem::kRpm;
    std::string eco = rpm && (p.ecosystem.empty() || p.ecosystem == "rpm") ? rpm_ecosystem : p.ecosystem;
    json af = {{"package", {{"ecosystem", eco}, {"name", p.name}}},
               {"ranges", json::array({{{"type", "ECOSYSTEM"},
                                        {"events", json::array({{{"introduced", "0"}}, {{"fixed", p.version}}})}}})}};
    if (rpm) af["package"]["purl"] = fmt::format("pkg:rpm/{}@{}{}", p.name, p.version, p.arch.empty() ? "" : "?arch=" + p.arch);
    if (!p.arch.empty()) af["ecosystem_specific"] = {{"arch", p.arch}};
    affected.push_back(af);
  }
  v["affected"] = affected;
  json refs = json::array();
  for (const auto& r : a.references)
    if (!r.href.empty()) refs.push_back({{"type", r.type == "self" ? "ADVISORY" : "WEB"}, {"url", r.href}});
  v["references"] = refs;
  v["database_specific"] = {{"severity", a.severity}, {"type", a.type}};
  return v;
}

}  // namespace graft::advisory
