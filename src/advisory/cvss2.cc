// Weights and equations of "A Complete Guide to the Common Vulnerability
// Scoring System Version 2.0" (section 3.2). Scores below zero are clamped to 0.
#include "advisory/cvss2.h"

#include <algorithm>
#include <vector>

#include "advisory/cvss_vector.h"

namespace graft::advisory {
namespace {

enum { AV, AC, Au, C, I, A, E, RL, RC, CDP, TD, CR, IR, AR };

// Same order as the enum. ND ("not defined") weighs as the guide says.
const std::vector<WeightedMetric>& Metrics() {
  static const std::vector<WeightedMetric> m = {
      {"AV", true, {{"L", 0.395}, {"A", 0.646}, {"N", 1.0}}},
      {"AC", true, {{"H", 0.35}, {"M", 0.61}, {"L", 0.71}}},
      {"Au", true, {{"M", 0.45}, {"S", 0.56}, {"N", 0.704}}},
      {"C", true, {{"N", 0.0}, {"P", 0.275}, {"C", 0.660}}},
      {"I", true, {{"N", 0.0}, {"P", 0.275}, {"C", 0.660}}},
      {"A", true, {{"N", 0.0}, {"P", 0.275}, {"C", 0.660}}},
      {"E", false, {{"ND", 1.0}, {"U", 0.85}, {"POC", 0.9}, {"F", 0.95}, {"H", 1.0}}},
      {"RL", false, {{"ND", 1.0}, {"OF", 0.87}, {"TF", 0.90}, {"W", 0.95}, {"U", 1.0}}},
      {"RC", false, {{"ND", 1.0}, {"UC", 0.90}, {"UR", 0.95}, {"C", 1.0}}},
      {"CDP", false, {{"ND", 0.0}, {"N", 0.0}, {"L", 0.1}, {"LM", 0.3}, {"MH", 0.4}, {"H", 0.5}}},
      {"TD", false, {{"ND", 1.0}, {"N", 0.0}, {"L", 0.25}, {"M", 0.75}, {"H", 1.0}}},
      {"CR", false, {{"ND", 1.0}, {"L", 0.5}, {"M", 1.0}, {"H", 1.51}}},
      {"IR", false, {{"ND", 1.0}, {"L", 0.5}, {"M", 1.0}, {"H", 1.51}}},
      {"AR", false, {{"ND", 1.0}, {"L", 0.5}, {"M", 1.0}, {"H", 1.51}}},
  };
  return m;
}

// The guide's decimal arithmetic meets .x5 ties exactly; binary doubles land
// a hair either side, so ties are decided with a tolerance far below 0.05.
double Round1(double x) { return RoundHalfUp1(x + 1e-9); }

}  // namespace

Result<Cvss2Scores> ScoreCvss2(std::string_view vector) {
  std::string_view body = vector;
  if (body.size() >= 2 && body.front() == '(' && body.back() == ')') body = body.substr(1, body.size() - 2);
  if (body.rfind("CVSS:2.0/", 0) == 0) body.remove_prefix(9);
  GRAFT_ASSIGN(std::vector<int> chosen, ParseCvssMetrics(body, Metrics()));
  auto w = [&](int m) { return chosen[m] < 0 ? Metrics()[m].values[0].second : Metrics()[m].values[chosen[m]].second; };
  auto given = [&](int m) { return chosen[m] > 0; };  // present and not ND (index 0)

  auto base_with = [&](double impact) {
    double expl = 20 * w(AV) * w(AC) * w(Au);
    double f = impact == 0 ? 0 : 1.176;
    return Round1(((0.6 * impact) + (0.4 * expl) - 1.5) * f);
  };
  Cvss2Scores out;
  double impact = 10.41 * (1 - (1 - w(C)) * (1 - w(I)) * (1 - w(A)));
  out.base = std::max(0.0, base_with(impact));
  double tmul = w(E) * w(RL) * w(RC);
  out.has_temporal = given(E) || given(RL) || given(RC);
  if (out.has_temporal) out.temporal = std::max(0.0, Round1(out.base * tmul));
  out.has_environmental = given(CDP) || given(TD) || given(CR) || given(IR) || given(AR);
  if (out.has_environmental) {
    double adj_impact =
        std::min(10.0, 10.41 * (1 - (1 - w(C) * w(CR)) * (1 - w(I) * w(IR)) * (1 - w(A) * w(AR))));
    double adj_temporal = Round1(base_with(adj_impact) * tmul);
    out.environmental = std::max(0.0, Round1((adj_temporal + (10 - adj_temporal) * w(CDP)) * w(TD)));
  }
  return out;
}

}  // namespace graft::advisory
