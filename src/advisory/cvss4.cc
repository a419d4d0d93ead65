// The v4.0 scoring method: macrovector lookup, then interpolation towards the
// next lower macrovector of each EQ by the vector's "severity distance" from
// the highest-severity vectors of its own macrovector.
#include "advisory/cvss4.h"

#include <cmath>
#include <limits>
#include <vector>

#include "advisory/cvss4_tables.h"
#include "advisory/cvss_vector.h"

namespace graft::advisory {
namespace {

struct MetricDef {
  const char* name;
  bool mandatory;
  std::vector<const char*> values;
};

// Specification order; the modified base metrics follow at +kModified.
enum Metric { AV, AC, AT, PR, UI, VC, VI, VA, SC, SI, SA, E, CR, IR, AR, MAV };
constexpr int kModified = MAV - AV;
constexpr int kFirstEnvironmental = CR, kLastEnvironmental = MAV + (SA - AV);

const std::vector<MetricDef>& Metrics() {
  static const std::vector<MetricDef> m = {
      {"AV", true, {"N", "A", "L", "P"}},
      {"AC", true, {"L", "H"}},
      {"AT", true, {"N", "P"}},
      {"PR", true, {"N", "L", "H"}},
      {"UI", true, {"N", "P", "A"}},
      {"VC", true, {"H", "L", "N"}},
      {"VI", true, {"H", "L", "N"}},
      {"VA", true, {"H", "L", "N"}},
      {"SC", true, {"H", "L", "N"}},
      {"SI", true, {"H", "L", "N"}},
      {"SA", true, {"H", "L", "N"}},
      {"E", false, {"X", "A", "P", "U"}},
      {"CR", false, {"X", "H", "M", "L"}},
      {"IR", false, {"X", "H", "M", "L"}},
      {"AR", false, {"X", "H", "M", "L"}},
      {"MAV", false, {"X", "N", "A", "L", "P"}},
      {"MAC", false, {"X", "L", "H"}},
      {"MAT", false, {"X", "N", "P"}},
      {"MPR", false, {"X", "N", "L", "H"}},
      {"MUI", false, {"X", "N", "P", "A"}},
      {"MVC", false, {"X", "H", "L", "N"}},
      {"MVI", false, {"X", "H", "L", "N"}},
      {"MVA", false, {"X", "H", "L", "N"}},
      {"MSC", false, {"X", "H", "L", "N"}},
      {"MSI", false, {"X", "S", "H", "L", "N"}},
      {"MSA", false, {"X", "S", "H", "L", "N"}},
      // Supplemental metrics: validated, never scored.
      {"S", false, {"X", "N", "P"}},
      {"AU", false, {"X", "N", "Y"}},
      {"R", false, {"X", "A", "U", "I"}},
      {"V", false, {"X", "D", "C"}},
      {"RE", false, {"X", "L", "M", "H"}},
      {"U", false, {"X", "Clear", "Green", "Amber", "Red"}},
  };
  return m;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Severity level of a value within its metric: 0 is the most severe, each
// step down adds 0.1 (the spec's distance unit).
double Level(int metric, char v) {
  switch (metric) {
    case AV: return v == 'N' ? 0.0 : v == 'A' ? 0.1 : v == 'L' ? 0.2 : 0.3;
    case PR: return v == 'N' ? 0.0 : v == 'L' ? 0.1 : 0.2;
    case UI: return v == 'N' ? 0.0 : v == 'P' ? 0.1 : 0.2;
    case AC: return v == 'L' ? 0.0 : 0.1;
    case AT: return v == 'N' ? 0.0 : 0.1;
    case VC: case VI: case VA: return v == 'H' ? 0.0 : v == 'L' ? 0.1 : 0.2;
    case SC: case SI: case SA: return v == 'S' ? 0.0 : v == 'H' ? 0.1 : v == 'L' ? 0.2 : 0.3;
    default: return v == 'H' ? 0.0 : v == 'M' ? 0.1 : 0.2;  // CR, IR, AR
  }
}

double MacroScore(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6) {
  if (eq1 > 2 || eq2 > 1 || eq3 > 2 || eq4 > 2 || eq5 > 2 || eq6 > 1) return kNaN;
  int s = cvss4::kMacroScore[((((eq1 * 2 + eq2) * 3 + eq3) * 3 + eq4) * 3 + eq5) * 2 + eq6];
  return s < 0 ? kNaN : s / 10.0;
}

}  // namespace

Result<Cvss4Score> ScoreCvss4(std::string_view vector) {
  if (vector.rfind("CVSS:4.0/", 0) != 0) return Err("bad prefix: a CVSS v4.0 vector starts with 'CVSS:4.0/'");
  GRAFT_ASSIGN(std::vector<int> chosen, ParseCvssMetrics(vector.substr(9), Metrics()));
  auto given = [&](int m) { return chosen[m] < 0 ? 'X' : Metrics()[m].values[chosen[m]][0]; };

  Cvss4Score out;
  out.has_threat = given(E) != 'X';
  for (int m = kFirstEnvironmental; m <= kLastEnvironmental; m++) out.has_environmental |= given(m) != 'X';

  // Effective values: modified metrics override base ones; E, CR, IR, AR
  // left undefined count as their worst case (Attacked, High).
  char v[AR + 1];
  for (int m = AV; m <= SA; m++) v[m] = given(m + kModified) != 'X' ? given(m + kModified) : given(m);
  v[E] = given(E) == 'X' ? 'A' : given(E);
  for (int m : {CR, IR, AR}) v[m] = given(m) == 'X' ? 'H' : given(m);

  int eq1 = v[AV] == 'N' && v[PR] == 'N' && v[UI] == 'N'                      ? 0
            : (v[AV] == 'N' || v[PR] == 'N' || v[UI] == 'N') && v[AV] != 'P' ? 1
                                                                               : 2;
  int eq2 = v[AC] == 'L' && v[AT] == 'N' ? 0 : 1;
  int eq3 = v[VC] == 'H' && v[VI] == 'H'                     ? 0
            : v[VC] == 'H' || v[VI] == 'H' || v[VA] == 'H' ? 1
                                                            : 2;
  int eq4 = v[SI] == 'S' || v[SA] == 'S'                     ? 0
            : v[SC] == 'H' || v[SI] == 'H' || v[SA] == 'H' ? 1
                                                            : 2;
  int eq5 = v[E] == 'A' ? 0 : v[E] == 'P' ? 1 : 2;
  int eq6 = (v[CR] == 'H' && v[VC] == 'H') || (v[IR] == 'H' && v[VI] == 'H') || (v[AR] == 'H' && v[VA] == 'H') ? 0 : 1;
  const int eqs[6] = {eq1, eq2, eq3, eq4, eq5, eq6};
  for (int i = 0; i < 6; i++) out.macrovector[i] = static_cast<char>('0' + eqs[i]);

  bool no_impact = true;
  for (int m : {VC, VI, VA, SC, SI, SA}) no_impact &= v[m] == 'N';
  if (no_impact) return out;  // 0.0

  double value = MacroScore(eq1, eq2, eq3, eq4, eq5, eq6);
  double lower_eq1 = MacroScore(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
  double lower_eq2 = MacroScore(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
  double lower_eq3eq6;
  if (eq3 == 0 && eq6 == 0) {
    // Two ways down; the higher one is the next lower macrovector.
    double left = MacroScore(eq1, eq2, eq3, eq4, eq5, eq6 + 1), right = MacroScore(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
    lower_eq3eq6 = std::isnan(left) ? left : (right > left ? right : left);
  } else if (eq3 == 1 && eq6 == 0) {
    lower_eq3eq6 = MacroScore(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
  } else if (eq6 == 1 && eq3 < 2) {
    lower_eq3eq6 = MacroScore(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
  } else {
    lower_eq3eq6 = kNaN;  // 21: the lowest EQ3/EQ6 level
  }
  double lower_eq4 = MacroScore(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
  double lower_eq5 = MacroScore(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

  // Distance of each metric from the first highest-severity vector of this
  // macrovector that the vector does not exceed (the last one if none fits).
  double d[AR + 1] = {};
  auto from = [&](int m, char max_value) { d[m] = Level(m, v[m]) - Level(m, max_value); };
  bool found = false;
  for (const char* m1 : cvss4::kMaxEq1[eq1]) {
    if (!m1 || found) break;
    for (const char* m2 : cvss4::kMaxEq2[eq2]) {
      if (!m2 || found) break;
      for (const char* m36 : cvss4::kMaxEq3Eq6[eq3][eq6]) {
        if (!m36 || found) break;
        const char* m4 = cvss4::kMaxEq4[eq4];
        from(AV, m1[0]), from(PR, m1[1]), from(UI, m1[2]);
        from(AC, m2[0]), from(AT, m2[1]);
        from(VC, m36[0]), from(VI, m36[1]), from(VA, m36[2]), from(CR, m36[3]), from(IR, m36[4]), from(AR, m36[5]);
        from(SC, m4[0]), from(SI, m4[1]), from(SA, m4[2]);
        found = true;
        for (int m : {AV, PR, UI, AC, AT, VC, VI, VA, SC, SI, SA, CR, IR, AR}) found &= d[m] >= 0;
      }
    }
  }
  double dist_eq1 = d[AV] + d[PR] + d[UI];
  double dist_eq2 = d[AC] + d[AT];
  double dist_eq3eq6 = d[VC] + d[VI] + d[VA] + d[CR] + d[IR] + d[AR];
  double dist_eq4 = d[SC] + d[SI] + d[SA];

  int lowers = 0;
  double sum = 0;
  auto add = [&](double lower, double distance, int depth) {
    double available = value - lower;
    if (!(available >= 0)) return;  // no lower macrovector on this axis
    lowers++;
    sum += available * (distance / (depth * 0.1));
  };
  add(lower_eq1, dist_eq1, cvss4::kDepthEq1[eq1]);
  add(lower_eq2, dist_eq2, cvss4::kDepthEq2[eq2]);
  add(lower_eq3eq6, dist_eq3eq6, cvss4::kDepthEq3Eq6[eq3][eq6]);
  add(lower_eq4, dist_eq4, cvss4::kDepthEq4[eq4]);
  if (value - lower_eq5 >= 0) lowers++;  // EQ5 has no distance within a level
  if (lowers) value -= sum / lowers;
  // The reference calculator adds 1e-6 before rounding so that a distance
  // that is a tie in decimal (5.05) is not lost to binary error (5.0499..).
  out.score = RoundHalfUp1(std::min(10.0, std::max(0.0, value)) + 1e-6);
  return out;
}

}  // namespace graft::advisory
