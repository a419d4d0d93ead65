#include "repo/index.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace graft::repo {

using json = nlohmann::json;

namespace {

constexpr char kFormat[] = "graft-repo-v1";

json EntryJson(const Entry& e) {
  json j = {{"id", e.id},         {"kind", e.kind}, {"file", e.file},       {"sha256", e.sha256},
            {"cves", e.cves},     {"published", e.published}, {"severity", e.severity},
            {"description", e.description}};
  if (e.kind == "bundle") {
    j["target_build_id"] = e.target_build_id;
    j["target_name"] = e.target_name;
    j["supersedes"] = e.supersedes;
  } else {
    j["kernel_release"] = e.kernel_release;
    j["cumulative"] = e.cumulative;
  }
  return j;
}

bool IsHex(const std::string& s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) return false;
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Ids and file names come from a remote index and end up in paths and
// command lines of the host: only the characters bundle ids allow.
bool SafeName(const std::string& s) {
  if (s.empty() || s.size() > 64 || s[0] == '.') return false;
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
}

}  // namespace

std::string Iso8601(long long t) {
  std::time_t tt = t < 0 ? std::time(nullptr) : static_cast<std::time_t>(t);
  char buf[32];
  struct tm tm;
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
  return buf;
}

long long ParseTime(const std::string& s) {
  for (const char* f : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"}) {
    std::tm tm{};
    const char* end = strptime(s.c_str(), f, &tm);
    if (end && *end == '\0') return static_cast<long long>(timegm(&tm));
  }
  return -1;
}

Result<Index> ParseIndex(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kFormat)
    return Err("{} is not a graft repository index (format {} expected)", origin, kFormat);
  Index index;
  try {
    index.sequence = j.value("sequence", 0LL);
    index.generated = j.value("generated", "");
    index.expires = j.value("expires", "");
    if (!index.expires.empty() && ParseTime(index.expires) < 0)
      return Err("{}: expires '{}' is not a time (YYYY-MM-DDTHH:MM:SSZ)", origin, index.expires);
    if (!j.contains("channels") || !j["channels"].is_object()) return Err("{}: no channels object", origin);
    for (auto& [name, entries] : j["channels"].items()) {
      if (!SafeName(name)) return Err("{}: channel name '{}' is not allowed", origin, name);
      if (!entries.is_array()) return Err("{}: channel {} is not a list", origin, name);
      auto& list = index.channels[name];
      for (const auto& e : entries) {
        Entry x;
        x.id = e.at("id").get<std::string>();
        x.kind = e.at("kind").get<std::string>();
        x.file = e.at("file").get<std::string>();
        x.sha256 = e.at("sha256").get<std::string>();
        x.published = e.at("published").get<std::string>();
        x.cves = e.value("cves", std::vector<std::string>{});
        x.severity = e.value("severity", "");
        x.description = e.value("description", "");
        x.target_build_id = e.value("target_build_id", "");
        x.target_name = e.value("target_name", "");
        x.supersedes = e.value("supersedes", std::vector<std::string>{});
        x.kernel_release = e.value("kernel_release", "");
        x.cumulative = e.value("cumulative", false);
        std::string dir = x.kind == "bundle" ? "bundles/" : "kernel/";
        std::string ext = x.kind == "bundle" ? ".graft" : ".ko";
        bool file_ok = x.file.starts_with(dir) && x.file.ends_with(ext) &&
                       SafeName(x.file.substr(dir.size(), x.file.size() - dir.size()));
        if ((x.kind != "bundle" && x.kind != "kernel") || !SafeName(x.id) || !file_ok || !IsHex(x.sha256, 64, 64) ||
            ParseTime(x.published) < 0 ||
            (x.kind == "bundle" && !IsHex(x.target_build_id, 2, 80)) ||
            (x.kind == "kernel" && !SafeName(x.kernel_release)))
          return Err("{}: channel {}: entry '{}' is malformed (kind, id, file, sha256, target or published)", origin,
                     name, x.id);
        list.push_back(std::move(x));
      }
    }
    if (j.contains("kernel_policy")) {
      for (auto& [release, p] : j["kernel_policy"].items()) {
        ReleasePolicy rp{p.value("since", ""), p.value("until", ""), p.value("note", "")};
        if (!SafeName(release) || ParseTime(rp.until) < 0)
          return Err("{}: the policy of kernel release '{}' needs an until date (YYYY-MM-DD)", origin, release);
        index.kernel_policy[release] = rp;
      }
    }
  } catch (const json::exception& ex) {
    return Err("{}: a field is missing or has the wrong type ({})", origin, ex.what());
  }
  return index;
}

std::string SerializeIndex(const Index& index) {
  json channels = json::object();
  for (const auto& [name, entries] : index.channels) {
    json list = json::array();
    for (const auto& e : entries) list.push_back(EntryJson(e));
    channels[name] = list;
  }
  json policy = json::object();
  for (const auto& [release, p] : index.kernel_policy)
    policy[release] = {{"since", p.since}, {"until", p.until}, {"note", p.note}};
  return json{{"format", kFormat},     {"sequence", index.sequence}, {"generated", index.generated},
              {"expires", index.expires},
              {"channels", channels}, {"kernel_policy", policy}}
             .dump(2) +
         "\n";
}

}  // namespace graft::repo
