// Debian version ordering, as dpkg --compare-versions and APT define it:
// [epoch:]upstream[-revision], with '~' sorting before everything.
#pragma once

#include <string_view>

#include "base/status.h"

namespace graft::advisory {

// Negative, zero or positive, like strcmp.
int CompareDebVersions(std::string_view a, std::string_view b);
// Rejects what dpkg rejects: empty, bad epoch, upstream not starting with a digit,
// characters outside [A-Za-z0-9.+~-:].
Status ValidateDebVersion(std::string_view v);

}  // namespace graft::advisory
