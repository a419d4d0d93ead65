// One entry point for a CVSS vector of any version: v2 ("AV:N/AC:L/Au:N/..."),
// v3.0/v3.1 ("CVSS:3.x/...") and v4.0 ("CVSS:4.0/...").
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace graft::advisory {

struct CvssScore {
  std::string version;  // "2.0", "3.0", "3.1", "4.0"
  double base = 0, temporal = 0, environmental = 0;  // v4.0: all three are its one score
  bool has_temporal = false, has_environmental = false;
  double score = 0;  // the score the vector stands for (environmental, else temporal, else base)
  std::string macrovector;  // v4.0 only
};

Result<CvssScore> ScoreCvss(std::string_view vector);

// "None", "Low", "Medium", "High", "Critical" (v3/v4 bands); v2 has no None
// band, a v2 score of 0.0 is "Low" by NVD's convention.
std::string_view CvssSeverity(std::string_view version, double score);

}  // namespace graft::advisory
