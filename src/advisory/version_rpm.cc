// Only ASCII letters and digits form segments; everything else separates
// them, exactly as in rpm (locale-independent).
#include "advisory/version_rpm.h"

namespace graft::advisory {

static bool Digit(char c) { return c >= '0' && c <= '9'; }
static bool Alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool Alnum(char c) { return Digit(c) || Alpha(c); }

int RpmVerCmp(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  size_t i = 0, j = 0;
  auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while (i < a.size() && !Alnum(a[i]) && a[i] != '~' && a[i] != '^') i++;
    while (j < b.size() && !Alnum(b[j]) && b[j] != '~' && b[j] != '^') j++;
    char x = at(a, i), y = at(b, j);
    if (x == '~' || y == '~') {
      if (x != '~') return 1;
      if (y != '~') return -1;
      i++, j++;
      continue;
    }
    if (x == '^' || y == '^') {
      if (!x) return -1;
      if (!y) return 1;
      if (x != '^') return 1;
      if (y != '^') return -1;
      i++, j++;
      continue;
    }
    if (!x || !y) break;
    size_t si = i, sj = j;
    bool numeric = Digit(x);
    auto same_kind = [numeric](char c) { return numeric ? Digit(c) : Alpha(c); };
    while (i < a.size() && same_kind(a[i])) i++;
    while (j < b.size() && same_kind(b[j])) j++;
    if (sj == j) return numeric ? 1 : -1;  // segments of different kinds: numbers are newer
    std::string_view sa = a.substr(si, i - si), sb = b.substr(sj, j - sj);
    if (numeric) {
      while (sa.size() > 1 && sa[0] == '0') sa.remove_prefix(1);
      while (sb.size() > 1 && sb[0] == '0') sb.remove_prefix(1);
      if (sa.size() != sb.size()) return sa.size() > sb.size() ? 1 : -1;
    }
    int rc = sa.compare(sb);
    if (rc) return rc < 0 ? -1 : 1;
  }
  bool more_a = i < a.size(), more_b = j < b.size();
  if (!more_a && !more_b) return 0;
  return more_a ? 1 : -1;
}

Evr ParseEvr(std::string_view s) {
  Evr e;
  size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    e.epoch = s.substr(0, colon);
    s.remove_prefix(colon + 1);
  }
  size_t dash = s.rfind('-');
  if (dash != std::string_view::npos) {
    e.release = s.substr(dash + 1);
    s = s.substr(0, dash);
  }
  e.version = s;
  return e;
}

int CompareRpmEvr(const Evr& a, const Evr& b) {
  int rc = RpmVerCmp(a.epoch.empty() ? "0" : a.epoch, b.epoch.empty() ? "0" : b.epoch);
  if (rc) return rc;
  rc = RpmVerCmp(a.version, b.version);
  if (rc) return rc;
  // A missing release matches any release (as in dnf's EVR matching).
  if (a.release.empty() || b.release.empty()) return 0;
  return RpmVerCmp(a.release, b.release);
}

int CompareRpmEvrStrings(std::string_view a, std::string_view b) { return CompareRpmEvr(ParseEvr(a), ParseEvr(b)); }

}  // namespace graft::advisory
