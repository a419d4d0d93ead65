#include "advisory/feeds.h"

#include <fmt/format.h>

#include <ctime>
#include <pugixml.hpp>
#include <sstream>

namespace graft::advisory {

std::string Rfc822Date(const std::string& utc) {
  struct tm tm = {};
  if (!strptime(utc.c_str(), "%Y-%m-%d %H:%M:%S", &tm) && !strptime(utc.c_str(), "%Y-%m-%d", &tm)) return "";
  time_t t = timegm(&tm);
  gmtime_r(&t, &tm);  // fills in the weekday
  char buf[64];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string RenderRss(const std::vector<Advisory>& advisories, const FeedInfo& info) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto rss = doc.append_child("rss");
  rss.append_attribute("version") = "2.0";
  auto ch = rss.append_child("channel");
  ch.append_child("title").text() = info.title.c_str();
  ch.append_child("link").text() = info.link.c_str();
  ch.append_child("description").text() = info.description.c_str();
  std::string newest;
  for (const Advisory& a : advisories) newest = std::max(newest, a.updated.empty() ? a.issued : a.updated);
  if (!newest.empty()) ch.append_child("lastBuildDate").text() = Rfc822Date(newest).c_str();
  ch.append_child("generator").text() = "graft";
  for (const Advisory& a : advisories) {
    auto item = ch.append_child("item");
    std::string sev = a.severity.empty() ? "" : " (" + a.severity + ")";
    std::string title = a.id + sev + ": " + (a.title.empty() ? fmt::format("{}", fmt::join(a.cves, ", ")) : a.title);
    item.append_child("title").text() = title.c_str();
    std::string link = info.link + a.id;
    for (const auto& r : a.references)
      if (r.type == "self" && !r.href.empty()) link = r.href;
    item.append_child("link").text() = link.c_str();
    std::ostringstream d;
    if (!a.cves.empty()) d << "CVEs: " << fmt::format("{}", fmt::join(a.cves, ", ")) << "\n";
    if (a.cvss_score >= 0) d << fmt::format("CVSS: {:.1f} {}\n", a.cvss_score, a.cvss_vector);
    for (const auto& p : a.packages)
      d << "Fixed in: " << p.name << " " << p.version << (p.arch.empty() ? "" : "." + p.arch) << "\n";
    if (!a.description.empty()) d << "\n" << a.description;
    item.append_child("description").text() = d.str().c_str();
    auto guid = item.append_child("guid");
    guid.append_attribute("isPermaLink") = "false";
    guid.text() = a.id.c_str();
    if (std::string date = Rfc822Date(a.issued); !date.empty()) item.append_child("pubDate").text() = date.c_str();
    if (!a.severity.empty()) item.append_child("category").text() = a.severity.c_str();
    for (const auto& c : a.cves) item.append_child("category").text() = c.c_str();
  }
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

}  // namespace graft::advisory
