// `graft build --debian-source [PKG[=VERSION]]`: the source of what Debian
// installed, built the way Debian built it. The package and version default
// to those of the installed package that owns the target file (dpkg -S), the
// source comes from apt-get source (deb-src enabled for the machine's own
// suites when missing), cached once per version, and the build command runs
// debian/rules as dpkg-buildpackage would, without tests and extra ABIs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::build {

struct DebianSource {
  std::string package, version;  // source package and its version
  std::string tree;              // extracted, Debian's patches applied
  std::string build_command;     // debian/rules, rerunnable after the fix
};

// The names dpkg may know `path` by. With merged /usr (Debian 12: /lib ->
// usr/lib, /bin -> usr/bin, ...) a file has two, and dpkg's database holds
// only the one its package shipped: libbz2's /lib/x86_64-linux-gnu/...,
// libyaml's /usr/lib/x86_64-linux-gnu/.... `path` first, then its twin; the
// caller keeps the twins that are the same file on this machine.
std::vector<std::string> MergedUsrNames(const std::string& path);

// The package in a line of `dpkg -S` output ("zlib1g:amd64: /lib/...",
// "bzip2: /bin/bzip2", "libc6:amd64, libc6:i386: /usr/share/..."): the first
// one named; "" for a diversion line or one that names none.
std::string DpkgSearchOwner(const std::string& line);

// `spec` is "", "PKG" or "PKG=VERSION"; `target` the installed file.
Result<DebianSource> FetchDebianSource(const std::string& spec, const std::string& target,
                                       const std::function<void(const std::string&)>& progress);

}  // namespace graft::build
