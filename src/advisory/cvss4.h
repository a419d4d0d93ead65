// CVSS v4.0 scores by the FIRST macrovector method: the vector's macrovector
// (EQ1..EQ6) selects an expert-scored value, which is then lowered by how far
// the vector sits below the highest-severity vectors of its macrovector.
#pragma once

#include <string_view>

#include "base/status.h"

namespace graft::advisory {

struct Cvss4Score {
  double score = 0;           // CVSS-B, -BT, -BE or -BTE: v4.0 has a single score
  char macrovector[7] = {};   // "EQ1..EQ6" digits, e.g. "000200"
  bool has_threat = false;    // E given
  bool has_environmental = false;  // CR/IR/AR or a modified base metric given
};

// "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N[/...]".
// Errors name the metric: unknown metric, bad value, duplicate, missing mandatory.
Result<Cvss4Score> ScoreCvss4(std::string_view vector);

}  // namespace graft::advisory
