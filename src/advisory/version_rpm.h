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

// Views into the string ParseEvr was given, which must outlive the Evr.
struct Evr {
  std::string_view epoch;  // empty means 0
  std::string_view version;
  std::string_view release;
};

// "[epoch:]version[-release]"
Evr ParseEvr(std::string_view evr);
int CompareRpmEvr(const Evr& a, const Evr& b);

// CompareRpmEvr(ParseEvr(a), ParseEvr(b)), for "[E:]V[-R]" strings.
int CompareRpmEvrStrings(std::string_view a, std::string_view b);

}  // namespace graft::advisory
