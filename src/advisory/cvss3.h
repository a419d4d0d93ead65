// CVSS v3.0 and v3.1 scores (base, temporal, environmental) as the FIRST
// specifications define them, including their different Roundup functions and
// the v3.1 change to the modified-impact formula under a changed scope.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace graft::advisory {

struct Cvss3Scores {
  std::string version;  // "3.0" or "3.1"
  double base = 0, temporal = 0, environmental = 0;
  bool has_temporal = false, has_environmental = false;  // metrics given other than X
  // The score a single number stands for: environmental, else temporal, else base.
  double overall() const { return has_environmental ? environmental : has_temporal ? temporal : base; }
};

// "CVSS:3.1/AV:N/AC:L/..." (a vector without prefix is read as 3.0). Errors
// name the metric: unknown metric, bad value, duplicate, missing mandatory.
Result<Cvss3Scores> ScoreCvss3(std::string_view vector);

// "None", "Low", "Medium", "High", "Critical" for a 0.0-10.0 score.
std::string_view Cvss3Severity(double score);

}  // namespace graft::advisory
