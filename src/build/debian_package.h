// `graft build --debian-source [PKG[=VERSION]]`: the source of what Debian
// installed, built the way Debian built it. The package and version default
// to those of the installed package that owns the target file (dpkg -S), the
// source comes from apt-get source (deb-src enabled for the machine's own
// suites when missing), cached once per version, and the build command runs
// debian/rules as dpkg-buildpackage would, without tests and extra ABIs.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace graft::build {

struct DebianSource {
  std::string package, version;  // source package and its version
  std::string tree;              // extracted, Debian's patches applied
  std::string build_command;     // debian/rules, rerunnable after the fix
};

// `spec` is "", "PKG" or "PKG=VERSION"; `target` the installed file.
Result<DebianSource> FetchDebianSource(const std::string& spec, const std::string& target,
                                       const std::function<void(const std::string&)>& progress);

}  // namespace graft::build
