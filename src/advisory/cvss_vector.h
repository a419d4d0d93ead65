// Splits a CVSS vector body ("AV:N/AC:L/...") into metric values against a
// table of metric definitions. Shared by the v2, v3 and v4 calculators so
// that every version reports a bad vector with the same precise messages.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"

namespace graft::advisory {

// A metric whose values carry the weight the version's formulas use.
struct WeightedMetric {
  const char* name;
  bool mandatory;
  std::vector<std::pair<const char*, double>> values;
};

// Def has `name`, `mandatory` and `values`, each value either a C string or a
// pair whose first member is one. The result holds, for each definition in
// order, the index of the value given, or -1 when the metric is absent.
template <class Def>
Result<std::vector<int>> ParseCvssMetrics(std::string_view body, const std::vector<Def>& defs) {
  auto value_name = [](const auto& v) -> std::string_view {
    if constexpr (requires { v.first; })
      return v.first;
    else
      return v;
  };
  std::vector<int> chosen(defs.size(), -1);
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('/', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view part = body.substr(start, end - start);
    start = end + 1;
    if (part.empty()) return Err("empty metric in vector (double '/' or trailing '/')");
    size_t colon = part.find(':');
    if (colon == std::string_view::npos) return Err("metric '{}' has no value (expected NAME:VALUE)", part);
    std::string_view name = part.substr(0, colon), value = part.substr(colon + 1);
    size_t i = 0;
    while (i < defs.size() && name != std::string_view(defs[i].name)) i++;
    if (i == defs.size()) return Err("unknown metric '{}'", name);
    if (chosen[i] >= 0) return Err("duplicate metric {}", name);
    const auto& values = defs[i].values;
    for (size_t v = 0; v < values.size(); v++)
      if (value == value_name(values[v])) chosen[i] = static_cast<int>(v);
    if (chosen[i] < 0) return Err("bad value '{}' for metric {}", value, name);
  }
  for (size_t i = 0; i < defs.size(); i++)
    if (defs[i].mandatory && chosen[i] < 0) return Err("missing mandatory metric {}", defs[i].name);
  return chosen;
}

// Round half up to one decimal, on the exact binary value of x: x*10 is exact
// in long double (64-bit mantissa), so no tie is lost to a rounding error.
inline double RoundHalfUp1(double x) {
  return static_cast<double>(__builtin_floorl(static_cast<long double>(x) * 10.0L + 0.5L) / 10.0L);
}

}  // namespace graft::advisory
