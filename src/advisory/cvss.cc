#include "advisory/cvss.h"

#include "advisory/cvss2.h"
#include "advisory/cvss3.h"
#include "advisory/cvss4.h"

namespace graft::advisory {

Result<CvssScore> ScoreCvss(std::string_view vector) {
  CvssScore out;
  if (vector.rfind("CVSS:4.0/", 0) == 0) {
    GRAFT_ASSIGN(Cvss4Score s, ScoreCvss4(vector));
    out.version = "4.0";
    out.base = out.temporal = out.environmental = out.score = s.score;
    out.has_temporal = s.has_threat;
    out.has_environmental = s.has_environmental;
    out.macrovector = s.macrovector;
    return out;
  }
  bool v2 = vector.rfind("CVSS:2.0/", 0) == 0 ||
            (vector.rfind("CVSS:", 0) != 0 && vector.find("Au:") != std::string_view::npos);
  if (v2) {
    GRAFT_ASSIGN(Cvss2Scores s, ScoreCvss2(vector));
    out.version = "2.0";
    out.base = s.base, out.temporal = s.temporal, out.environmental = s.environmental;
    out.has_temporal = s.has_temporal, out.has_environmental = s.has_environmental;
  } else {
    GRAFT_ASSIGN(Cvss3Scores s, ScoreCvss3(vector));
    out.version = s.version;
    out.base = s.base, out.temporal = s.temporal, out.environmental = s.environmental;
    out.has_temporal = s.has_temporal, out.has_environmental = s.has_environmental;
  }
  out.score = out.has_environmental ? out.environmental : out.has_temporal ? out.temporal : out.base;
  return out;
}

std::string_view CvssSeverity(std::string_view version, double s) {
  if (version == "2.0") return s < 4.0 ? "Low" : s < 7.0 ? "Medium" : "High";
  return Cvss3Severity(s);
}

}  // namespace graft::advisory
