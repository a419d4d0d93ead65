// What is installed on a host: read from dpkg's status file, from the rpm
// database (through rpm itself), or from an inventory file another host sent.
#pragma once

#include <string>
#include <vector>

#include "advisory/advisory.h"
#include "base/status.h"

namespace graft::scan {

struct InstalledPackage {
  std::string name;
  std::string version;  // rpm: "[E:]V-R"; deb: the Debian version
  std::string arch;
  std::string source;          // deb: source package name (name when the same)
  std::string source_version;  // deb: version of the source (version when the same)
};

struct Inventory {
  advisory::Ecosystem ecosystem = advisory::Ecosystem::kDeb;
  std::string release;  // OSV ecosystem of the host, e.g. "Debian:12", when known
  std::vector<InstalledPackage> packages;
  std::string kernel_release;  // uname -r of the host, when known
};

// Only packages whose Status is "install ok installed" (or half-configured
// ones that are still on disk: "triggers-pending", "triggers-awaited").
Result<Inventory> ReadDpkgStatus(const std::string& path);

// rpm -qa through `rpm --root ROOT` (ROOT "/" for this host).
Result<Inventory> ReadRpmDatabase(const std::string& root);

// One package a line, "NAME VERSION ARCH" (whitespace separated; '#' comments),
// as printed by
//   rpm -qa --qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH}\n'
//   dpkg-query -W -f '${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\n'
// (the last two columns, deb only, are optional).
Result<Inventory> ReadPackageList(const std::string& path, advisory::Ecosystem ecosystem);

// This host: dpkg when /var/lib/dpkg/status exists, else rpm. Fills release
// from /etc/os-release and kernel_release from uname.
Result<Inventory> ReadLocalInventory();

// "Debian:12" from /etc/os-release (ID + major VERSION_ID), or "".
std::string HostRelease(const std::string& os_release_path = "/etc/os-release");

}  // namespace graft::scan
