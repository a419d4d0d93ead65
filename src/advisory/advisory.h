// The advisory model every source is read into (updateinfo.xml, OSV) and the
// store, the scanner and the feeds work from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace graft::advisory {

// How versions of a package compare: rpm's EVR or Debian's dpkg order.
enum class Ecosystem { kRpm, kDeb };

std::string_view EcosystemName(Ecosystem e);  // "rpm", "deb"

// A package version that fixes the advisory's issues.
struct FixedPackage {
  std::string name;
  std::string arch;     // "x86_64", "noarch", "amd64", "all"; empty: any
  std::string version;  // rpm: "[E:]V-R"; deb: the full Debian version
  std::string ecosystem;  // as the source names it: "rpm", "Debian:12", "AlmaLinux:9"
  std::string filename;   // updateinfo's <filename>, when given
};

struct Reference {
  std::string type;  // "cve", "bugzilla", "self", "ADVISORY", "WEB", ...
  std::string id;
  std::string href;
  std::string title;
};

struct Advisory {
  std::string id;
  std::string type = "security";  // "security", "bugfix", "enhancement", "newpackage"
  std::string severity;           // lower case: "critical", "important", "moderate", "low"; empty: unrated
  std::string title;
  std::string description;
  std::string issued;   // "YYYY-MM-DD HH:MM:SS" (UTC)
  std::string updated;
  std::string source;   // "updateinfo" or "osv"
  std::vector<std::string> cves;
  std::string cvss_vector;  // the highest-version vector the source gives
  double cvss_score = -1;   // computed from cvss_vector; -1: none
  std::vector<Reference> references;
  std::vector<FixedPackage> packages;
};

// Lower-cased severity names mapped onto the updateinfo scale:
// "High" -> "important", "Medium" -> "moderate"; unknown words are kept.
std::string NormalizeSeverity(std::string_view s);

// "Critical,high" -> {"critical", "important"}: a --severity option's list.
std::vector<std::string> ParseSeverityList(std::string_view list);

// Rank for filtering and sorting: critical 4, important 3, moderate 2, low 1, else 0.
int SeverityRank(std::string_view normalized);

// Ecosystem of a fixed package: Debian, Ubuntu => deb; everything else rpm.
Ecosystem EcosystemOf(const FixedPackage& p);

}  // namespace graft::advisory
