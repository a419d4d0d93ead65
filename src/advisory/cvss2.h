// CVSS v2 scores (base, temporal, environmental) as the v2 guide defines
// them, with its round_to_1_decimal applied where the guide applies it.
#pragma once

#include <string_view>

#include "base/status.h"

namespace graft::advisory {

struct Cvss2Scores {
  double base = 0, temporal = 0, environmental = 0;
  bool has_temporal = false, has_environmental = false;  // metrics given other than ND
};

// "AV:N/AC:L/Au:N/C:P/I:P/A:P[/E:..]" with an optional "CVSS:2.0/" or
// enclosing "(...)". Errors name the metric.
Result<Cvss2Scores> ScoreCvss2(std::string_view vector);

}  // namespace graft::advisory
