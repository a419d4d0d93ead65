// OSV (https://ossf.github.io/osv-schema/) in and out: Debian's DSA/DLA and
// AlmaLinux/Rocky ALSA/RLSA records read into advisories, and any advisory
// written back as an OSV record.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "advisory/updateinfo.h"

namespace graft::advisory {

// One record, an array of records, or {"vulns": [...]}. A path that is a
// directory is read file by file (*.json).
Result<ParsedAdvisories> ParseOsvFile(const std::string& path);
Result<ParsedAdvisories> ParseOsv(const std::string& text, const std::string& origin);

// `rpm_ecosystem` names the ecosystem of packages read from updateinfo.xml
// (which does not say), e.g. "AlmaLinux:9".
nlohmann::json ToOsv(const Advisory& a, const std::string& rpm_ecosystem);

}  // namespace graft::advisory
