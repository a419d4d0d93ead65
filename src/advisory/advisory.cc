#include "advisory/advisory.h"

#include <algorithm>
#include <cctype>

namespace graft::advisory {

std::string_view EcosystemName(Ecosystem e) { return e == Ecosystem::kDeb ? "deb" : "rpm"; }

std::string NormalizeSeverity(std::string_view s) {
  std::string l(s);
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  if (l == "high") return "important";
  if (l == "medium") return "moderate";
  if (l == "none" || l == "unknown" || l == "not set" || l == "unimportant") return "";
  return l;
}

std::vector<std::string> ParseSeverityList(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    if (end > start) out.push_back(NormalizeSeverity(list.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

int SeverityRank(std::string_view s) {
  if (s == "critical") return 4;
  if (s == "important") return 3;
  if (s == "moderate") return 2;
  if (s == "low") return 1;
  return 0;
}

Ecosystem EcosystemOf(const FixedPackage& p) {
  std::string_view e = p.ecosystem;
  if (e == "deb" || e.rfind("Debian", 0) == 0 || e.rfind("Ubuntu", 0) == 0) return Ecosystem::kDeb;
  return Ecosystem::kRpm;
}

}  // namespace graft::advisory
