// Reads a yum/dnf repository's updateinfo.xml (plain, .gz or .xz) into
// advisories. Updates without an <id> cannot be stored or matched; they are
// skipped with a warning rather than failing the whole file.
#pragma once

#include <string>
#include <vector>

#include "advisory/advisory.h"
#include "base/status.h"

namespace graft::advisory {

struct ParsedAdvisories {
  std::vector<Advisory> advisories;
  std::vector<std::string> warnings;
};

Result<ParsedAdvisories> ParseUpdateinfoFile(const std::string& path);
Result<ParsedAdvisories> ParseUpdateinfo(const std::string& xml, const std::string& origin);

// The advisories as a yum/dnf updateinfo.xml (what ParseUpdateinfo reads
// back): packages' versions are split into epoch, version and release the way
// rpm writes them.
std::string RenderUpdateinfo(const std::vector<Advisory>& advisories);

// "1483228800" (seconds since the epoch, as some repositories write) or
// "2012-12-12 00:00:00" / "2012-12-12" -> "YYYY-MM-DD HH:MM:SS".
std::string NormalizeDate(std::string_view d);

}  // namespace graft::advisory
