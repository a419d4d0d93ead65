// Weights and formulas from the CVSS v3.0 and v3.1 specification documents
// (section 7 / appendix A). Roundup is done on integers (v3.1's definition)
// so that floating-point error never pushes a score up by 0.1.
#include "advisory/cvss3.h"

#include "advisory/cvss_vector.h"

#include <cmath>
#include <vector>

namespace graft::advisory {
namespace {

// Values of the temporal/environmental metrics include X (not defined).
const std::vector<WeightedMetric>& Metrics() {
  static const std::vector<WeightedMetric> m = {
      {"AV", true, {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}}},
      {"AC", true, {{"L", 0.77}, {"H", 0.44}}},
      {"PR", true, {{"N", 0.85}, {"L", 0.62}, {"H", 0.27}}},
      {"UI", true, {{"N", 0.85}, {"R", 0.62}}},
      {"S", true, {{"U", 0}, {"C", 1}}},
      {"C", true, {{"H", 0.56}, {"L", 0.22}, {"N", 0}}},
      {"I", true, {{"H", 0.56}, {"L", 0.22}, {"N", 0}}},
      {"A", true, {{"H", 0.56}, {"L", 0.22}, {"N", 0}}},
      {"E", false, {{"X", 1}, {"H", 1}, {"F", 0.97}, {"P", 0.94}, {"U", 0.91}}},
      {"RL", false, {{"X", 1}, {"U", 1}, {"W", 0.97}, {"T", 0.96}, {"O", 0.95}}},
      {"RC", false, {{"X", 1}, {"C", 1}, {"R", 0.96}, {"U", 0.92}}},
      {"CR", false, {{"X", 1}, {"H", 1.5}, {"M", 1}, {"L", 0.5}}},
      {"IR", false, {{"X", 1}, {"H", 1.5}, {"M", 1}, {"L", 0.5}}},
      {"AR", false, {{"X", 1}, {"H", 1.5}, {"M", 1}, {"L", 0.5}}},
      {"MAV", false, {{"X", 0}, {"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}}},
      {"MAC", false, {{"X", 0}, {"L", 0.77}, {"H", 0.44}}},
      {"MPR", false, {{"X", 0}, {"N", 0.85}, {"L", 0.62}, {"H", 0.27}}},
      {"MUI", false, {{"X", 0}, {"N", 0.85}, {"R", 0.62}}},
      {"MS", false, {{"X", 0}, {"U", 0}, {"C", 1}}},
      {"MC", false, {{"X", 0}, {"H", 0.56}, {"L", 0.22}, {"N", 0}}},
      {"MI", false, {{"X", 0}, {"H", 0.56}, {"L", 0.22}, {"N", 0}}},
      {"MA", false, {{"X", 0}, {"H", 0.56}, {"L", 0.22}, {"N", 0}}},
  };
  return m;
}

double Roundup31(double x) {
  long long i = std::llround(x * 100000);
  if (i % 10000 == 0) return i / 100000.0;
  return (std::floor(i / 10000.0) + 1) / 10.0;
}

double Roundup30(double x) { return std::ceil(std::llround(x * 100000) / 10000.0) / 10.0; }

double PrivilegeWeight(const std::string& pr, bool changed) {
  if (pr == "L") return changed ? 0.68 : 0.62;
  if (pr == "H") return changed ? 0.5 : 0.27;
  return 0.85;
}

}  // namespace

std::string_view Cvss3Severity(double s) {
  if (s == 0) return "None";
  if (s < 4.0) return "Low";
  if (s < 7.0) return "Medium";
  if (s < 9.0) return "High";
  return "Critical";
}

Result<Cvss3Scores> ScoreCvss3(std::string_view vector) {
  Cvss3Scores out;
  std::string_view body = vector;
  if (body.rfind("CVSS:", 0) == 0) {
    size_t slash = body.find('/');
    std::string_view ver = body.substr(5, slash == std::string_view::npos ? std::string_view::npos : slash - 5);
    if (ver != "3.0" && ver != "3.1") return Err("bad prefix: CVSS version '{}' is not 3.0 or 3.1", ver);
    out.version = std::string(ver);
    if (slash == std::string_view::npos) return Err("vector has a prefix but no metrics");
    body.remove_prefix(slash + 1);
  } else {
    out.version = "3.0";
  }
  GRAFT_ASSIGN(std::vector<int> chosen, ParseCvssMetrics(body, Metrics()));
  std::map<std::string, std::string> given;
  std::map<std::string, double> w;
  for (size_t i = 0; i < chosen.size(); i++) {
    if (chosen[i] < 0) continue;
    const auto& [value, weight] = Metrics()[i].values[chosen[i]];
    given[Metrics()[i].name] = value;
    w[Metrics()[i].name] = weight;
  }
  auto val = [&](const char* n) { return given.count(n) ? given[n] : std::string("X"); };
  auto weight = [&](const char* n) { return given.count(n) ? w[n] : 1.0; };
  bool v31 = out.version == "3.1";
  auto roundup = v31 ? Roundup31 : Roundup30;

  bool changed = val("S") == "C";
  double iss = 1 - (1 - w["C"]) * (1 - w["I"]) * (1 - w["A"]);
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  double expl = 8.22 * w["AV"] * w["AC"] * PrivilegeWeight(val("PR"), changed) * w["UI"];
  if (impact <= 0)
    out.base = 0;
  else
    out.base = roundup(std::min((changed ? 1.08 : 1.0) * (impact + expl), 10.0));

  double tmul = weight("E") * weight("RL") * weight("RC");
  out.temporal = roundup(out.base * tmul);
  out.has_temporal = val("E") != "X" || val("RL") != "X" || val("RC") != "X";

  // Modified metrics fall back to their base values.
  auto mod = [&](const char* m, const char* base) { return val(m) == "X" ? w[base] : w[m]; };
  bool mchanged = val("MS") == "X" ? changed : val("MS") == "C";
  double miss = std::min(1 - (1 - weight("CR") * mod("MC", "C")) * (1 - weight("IR") * mod("MI", "I")) *
                                 (1 - weight("AR") * mod("MA", "A")),
                         0.915);
  double mimpact = mchanged ? (v31 ? 7.52 * (miss - 0.029) - 3.25 * std::pow(miss * 0.9731 - 0.02, 13)
                                   : 7.52 * (miss - 0.029) - 3.25 * std::pow(miss - 0.02, 15))
                            : 6.42 * miss;
  std::string mpr = val("MPR") == "X" ? val("PR") : val("MPR");
  double mexpl = 8.22 * mod("MAV", "AV") * mod("MAC", "AC") * PrivilegeWeight(mpr, mchanged) * mod("MUI", "UI");
  if (mimpact <= 0)
    out.environmental = 0;
  else
    out.environmental =
        roundup(roundup(std::min((mchanged ? 1.08 : 1.0) * (mimpact + mexpl), 10.0)) * tmul);
  for (const char* m : {"CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"})
    out.has_environmental |= val(m) != "X";
  return out;
}

}  // namespace graft::advisory
