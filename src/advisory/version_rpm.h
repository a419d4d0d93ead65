// RPM version ordering, as rpm's rpmvercmp() and EVR comparison define it:
// what dnf and yum use to decide whether an installed package is older than
// an advisory's fixed version.
#pragma once

#include <string>
#include <string_view>

namespace graft::advisory {

// -1, 0 or 1. Alphanumeric segments compare numerically or lexically; '~'
// sorts before anything (even the end), '^' after the end but before more.
int RpmVerCmp(std::string_view a, std::string_view b);

struct Evr {
  std::string epoch;  // empty means 0
  std::string version;
  std::string release;
};

// "[epoch:]version[-release]"
Evr ParseEvr(std::string_view evr);
int CompareRpmEvr(const Evr& a, const Evr& b);

}  // namespace graft::advisory
