#include "advisory/updateinfo.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <sstream>

#include "advisory/compressed_file.h"
#include "advisory/cvss.h"

namespace graft::advisory {

std::string NormalizeDate(std::string_view d) {
  if (d.empty()) return "";
  if (std::all_of(d.begin(), d.end(), [](unsigned char c) { return std::isdigit(c); })) {
    time_t t = static_cast<time_t>(std::stoll(std::string(d)));
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
  }
  std::string s(d);
  if (s.size() > 4 && s.compare(s.size() - 4, 4, " UTC") == 0) s.resize(s.size() - 4);
  for (const char* f : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
    struct tm tm = {};
    const char* end = strptime(s.c_str(), f, &tm);
    if (end && *end == 0) {
      char buf[32];
      strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
      return buf;
    }
  }
  return "";  // not a date
}

Result<ParsedAdvisories> ParseUpdateinfo(const std::string& xml, const std::string& origin) {
  pugi::xml_document doc;
  pugi::xml_parse_result pr = doc.load_buffer(xml.data(), xml.size());
  if (!pr) return Err("{}: not valid XML at byte {}: {}", origin, pr.offset, pr.description());
  pugi::xml_node updates = doc.child("updates");
  if (!updates) return Err("{}: no <updates> element: not an updateinfo.xml", origin);
  ParsedAdvisories out;
  int index = 0;
  for (pugi::xml_node u : updates.children("update")) {
    index++;
    Advisory a;
    a.source = "updateinfo";
    a.id = u.child_value("id");
    if (a.id.empty()) {
      out.warnings.push_back(fmt::format("{}: update #{} has no <id>; skipped", origin, index));
      continue;
    }
    if (const char* t = u.attribute("type").value(); *t) a.type = t;
    a.severity = NormalizeSeverity(u.child_value("severity"));
    a.title = u.child_value("title");
    a.description = u.child_value("description");
    if (a.description.empty()) a.description = u.child_value("summary");
    for (auto [field, elem] : {std::pair{&a.issued, "issued"}, std::pair{&a.updated, "updated"}}) {
      std::string raw = u.child(elem).attribute("date").value();
      *field = NormalizeDate(raw);
      if (field->empty() && !raw.empty())
        out.warnings.push_back(fmt::format("{}: {}: <{}> date '{}' is not a date; ignored", origin, a.id, elem, raw));
    }
    if (a.updated.empty()) a.updated = a.issued;
    for (pugi::xml_node r : u.child("references").children("reference")) {
      Reference ref{r.attribute("type").value(), r.attribute("id").value(), r.attribute("href").value(),
                    r.attribute("title").value()};
      if (ref.type.empty() && ref.id.empty() && ref.href.empty()) continue;
      if (ref.type == "cve" && !ref.id.empty() && std::find(a.cves.begin(), a.cves.end(), ref.id) == a.cves.end())
        a.cves.push_back(ref.id);
      a.references.push_back(std::move(ref));
    }
    // Some publishers attach CVSS vectors to the update; keep the newest version.
    for (pugi::xml_node c : u.children()) {
      std::string_view n = c.name();
      if (n != "cvss" && n != "cvss3" && n != "cvss_v3" && n != "cvss4") continue;
      std::string v = c.attribute("vector") ? c.attribute("vector").value() : c.child_value();
      if (auto s = ScoreCvss(v); s.ok() && (a.cvss_vector.empty() || v > a.cvss_vector))
        a.cvss_vector = v, a.cvss_score = s->score;
    }
    for (pugi::xml_node col : u.child("pkglist").children("collection")) {
      for (pugi::xml_node p : col.children("package")) {
        FixedPackage fp;
        fp.name = p.attribute("name").value();
        if (fp.name.empty()) {
          out.warnings.push_back(fmt::format("{}: {}: a <package> without a name; skipped", origin, a.id));
          continue;
        }
        fp.arch = p.attribute("arch").value();
        std::string epoch = p.attribute("epoch").value(), release = p.attribute("release").value();
        fp.version = (epoch.empty() || epoch == "0" ? "" : epoch + ":") + p.attribute("version").value() +
                     (release.empty() ? "" : "-" + release);
        fp.ecosystem = "rpm";
        fp.filename = p.child_value("filename");
        a.packages.push_back(std::move(fp));
      }
    }
    out.advisories.push_back(std::move(a));
  }
  return out;
}

std::string RenderUpdateinfo(const std::vector<Advisory>& advisories) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node updates = doc.append_child("updates");
  for (const auto& a : advisories) {
    pugi::xml_node u = updates.append_child("update");
    u.append_attribute("status") = "final";
    u.append_attribute("type") = a.type.c_str();
    u.append_attribute("version") = "1.4";
    u.append_child("id").text() = a.id.c_str();
    u.append_child("title").text() = a.title.c_str();
    if (!a.severity.empty()) u.append_child("severity").text() = a.severity.c_str();
    u.append_child("issued").append_attribute("date") = a.issued.c_str();
    u.append_child("updated").append_attribute("date") = (a.updated.empty() ? a.issued : a.updated).c_str();
    u.append_child("description").text() = a.description.c_str();
    pugi::xml_node refs = u.append_child("references");
    for (const auto& c : a.cves) {
      pugi::xml_node r = refs.append_child("reference");
      r.append_attribute("type") = "cve";
      r.append_attribute("id") = c.c_str();
      r.append_attribute("title") = c.c_str();
      r.append_attribute("href") = ("https://www.cve.org/CVERecord?id=" + c).c_str();
    }
    if (!a.cvss_vector.empty()) u.append_child("cvss3").append_attribute("vector") = a.cvss_vector.c_str();
    pugi::xml_node col = u.append_child("pkglist").append_child("collection");
    col.append_attribute("short") = a.id.c_str();
    for (const auto& p : a.packages) {
      std::string epoch = "0", version = p.version, release;
      if (auto colon = version.find(':'); colon != std::string::npos)
        epoch = version.substr(0, colon), version = version.substr(colon + 1);
      if (auto dash = version.rfind('-'); dash != std::string::npos)
        release = version.substr(dash + 1), version = version.substr(0, dash);
      pugi::xml_node pk = col.append_child("package");
      pk.append_attribute("name") = p.name.c_str();
      pk.append_attribute("epoch") = epoch.c_str();
      pk.append_attribute("version") = version.c_str();
      pk.append_attribute("release") = release.c_str();
      pk.append_attribute("arch") = p.arch.c_str();
      if (!p.filename.empty()) pk.append_child("filename").text() = p.filename.c_str();
    }
  }
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

Result<ParsedAdvisories> ParseUpdateinfoFile(const std::string& path) {
  GRAFT_ASSIGN(std::string xml, ReadMaybeCompressed(path));
  return ParseUpdateinfo(xml, path);
}

}  // namespace graft::advisory
