// Publishing a store the way the seed publishes its advisories: an RSS 2.0
// feed for people and feed readers, and OSV JSON for machines.
#pragma once

#include <string>
#include <vector>

#include "advisory/advisory.h"

namespace graft::advisory {

struct FeedInfo {
  std::string title = "graft security advisories";
  std::string link = "https://localhost/advisories/";  // base URL; an item links to link + id
  std::string description = "Security advisories with CVEs, CVSS scores and fixed package versions";
};

std::string RenderRss(const std::vector<Advisory>& advisories, const FeedInfo& info);

// "2023-06-01 12:00:00" -> "Thu, 01 Jun 2023 12:00:00 GMT" (RFC 822, as RSS 2.0 wants).
std::string Rfc822Date(const std::string& utc);

}  // namespace graft::advisory
