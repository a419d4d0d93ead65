// dpkg's verrevcmp: alternate non-digit runs (compared by a character order
// where letters come before non-letters and '~' before the end) and digit runs
// (compared numerically).
#include "advisory/version_deb.h"

#include <cstdlib>
#include <string>

namespace graft::advisory {

static bool Digit(char c) { return c >= '0' && c <= '9'; }
static bool Alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int Order(char c) {
  if (Digit(c)) return 0;
  if (Alpha(c)) return c;
  if (c == '~') return -1;
  if (c) return c + 256;
  return 0;
}

static int VerRevCmp(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !Digit(a[i])) || (j < b.size() && !Digit(b[j]))) {
      int ac = Order(at(a, i)), bc = Order(at(b, j));
      if (ac != bc) return ac - bc;
      i++, j++;
    }
    while (at(a, i) == '0') i++;
    while (at(b, j) == '0') j++;
    while (Digit(at(a, i)) && Digit(at(b, j))) {
      if (!first_diff) first_diff = at(a, i) - at(b, j);
      i++, j++;
    }
    if (Digit(at(a, i))) return 1;
    if (Digit(at(b, j))) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

struct DebVersion {
  long epoch = 0;
  std::string_view upstream, revision;
};

static DebVersion Split(std::string_view v) {
  DebVersion d;
  size_t colon = v.find(':');
  if (colon != std::string_view::npos) {
    d.epoch = std::strtol(std::string(v.substr(0, colon)).c_str(), nullptr, 10);
    v.remove_prefix(colon + 1);
  }
  size_t dash = v.rfind('-');
  if (dash != std::string_view::npos) {
    d.revision = v.substr(dash + 1);
    v = v.substr(0, dash);
  }
  d.upstream = v;
  return d;
}

int CompareDebVersions(std::string_view a, std::string_view b) {
  DebVersion x = Split(a), y = Split(b);
  if (x.epoch != y.epoch) return x.epoch < y.epoch ? -1 : 1;
  if (int r = VerRevCmp(x.upstream, y.upstream)) return r;
  return VerRevCmp(x.revision, y.revision);
}

Status ValidateDebVersion(std::string_view v) {
  if (v.empty()) return Err("version is empty");
  size_t colon = v.find(':');
  if (colon != std::string_view::npos) {
    std::string_view epoch = v.substr(0, colon);
    if (epoch.empty()) return Err("version '{}': empty epoch before ':'", v);
    for (char c : epoch)
      if (!Digit(c)) return Err("version '{}': epoch '{}' is not a number", v, epoch);
  }
  DebVersion d = Split(v);
  if (d.upstream.empty()) return Err("version '{}': empty upstream version", v);
  if (!Digit(d.upstream[0])) return Err("version '{}': upstream version must start with a digit", v);
  for (char c : v)
    if (!Digit(c) && !Alpha(c) && c != '.' && c != '+' && c != '~' && c != '-' && c != ':')
      return Err("version '{}': invalid character '{}'", v, c);
  return OkStatus();
}

}  // namespace graft::advisory
