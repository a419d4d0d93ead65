// What a scan reads from the store, packed into one blob kept beside the
// tables. A scan of 3,000 packages against 50,000 advisories otherwise steps
// through ~160,000 SQLite rows; with the blob it reads one value and unpacks
// only the advisories that name an installed package.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "advisory/advisory.h"
#include "base/status.h"

namespace graft::advisory {

// Packs advisories without descriptions and references.
std::string PackScanSnapshot(const std::vector<Advisory>& advisories);

// The advisories of a packed snapshot that name any package in `names`
// (no descriptions, no references).
Result<std::vector<Advisory>> UnpackScanSnapshot(std::string_view blob,
                                                 const std::unordered_set<std::string_view>& names);

}  // namespace graft::advisory
