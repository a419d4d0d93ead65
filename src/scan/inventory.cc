#include "scan/inventory.h"

#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace graft::scan {
namespace {

std::string KernelRelease() {
  struct utsname u;
  return uname(&u) == 0 ? u.release : "";
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string HostRelease(const std::string& path) {
  std::ifstream f(path);
  std::string line, id, ver;
  while (std::getline(f, line)) {
    auto val = [&](const char* key) {
      std::string v = line.substr(strlen(key));
      if (v.size() >= 2 && (v[0] == '"' || v[0] == '\'')) v = v.substr(1, v.size() - 2);
      return v;
    };
    if (line.rfind("ID=", 0) == 0) id = val("ID=");
    if (line.rfind("VERSION_ID=", 0) == 0) ver = val("VERSION_ID=");
  }
  if (id.empty()) return "";
  static const std::pair<const char*, const char*> names[] = {
      {"debian", "Debian"}, {"ubuntu", "Ubuntu"}, {"almalinux", "AlmaLinux"}, {"rocky", "Rocky Linux"},
      {"amzn", "Amazon Linux"}, {"rhel", "Red Hat"}, {"fedora", "Fedora"}};
  std::string name = id;
  for (auto& [k, v] : names)
    if (id == k) name = v;
  if (id != "ubuntu") ver = ver.substr(0, ver.find('.'));
  return ver.empty() ? name : name + ":" + ver;
}

Result<Inventory> ReadDpkgStatus(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Err("cannot read dpkg status file {}: {}", path, std::strerror(errno));
  Inventory inv;
  inv.ecosystem = advisory::Ecosystem::kDeb;
  InstalledPackage p;
  std::string status, line;
  auto flush = [&] {
    bool installed = status == "install ok installed" || status.find("triggers-") != std::string::npos ||
                     status == "hold ok installed";
    if (!p.name.empty() && installed && !p.version.empty()) {
      if (p.source.empty()) p.source = p.name;
      if (p.source_version.empty()) p.source_version = p.version;
      inv.packages.push_back(p);
    }
    p = {};
    status.clear();
  };
  while (std::getline(f, line)) {
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') continue;  // continuation of a multi-line field
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon), value = Trim(line.substr(colon + 1));
    if (key == "Package") p.name = value;
    else if (key == "Status") status = value;
    else if (key == "Version") p.version = value;
    else if (key == "Architecture") p.arch = value;
    else if (key == "Source") {
      // "Source: name (version)" when the source version differs.
      size_t paren = value.find(" (");
      p.source = value.substr(0, paren);
      if (paren != std::string::npos) p.source_version = value.substr(paren + 2, value.size() - paren - 3);
    }
  }
  flush();
  return inv;
}

Result<Inventory> ReadRpmDatabase(const std::string& root) {
  std::string cmd = "rpm --root '" + root + "' -qa --qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH}\\n' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return Err("cannot run rpm: {}", std::strerror(errno));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) return Err("rpm --root {} -qa failed: {}", root, out.substr(0, 300));
  Inventory inv;
  inv.ecosystem = advisory::Ecosystem::kRpm;
  std::istringstream in(out);
  std::string name, evr, arch;
  while (in >> name >> evr >> arch) {
    if (name == "gpg-pubkey") continue;  // keys, not software
    if (evr.rfind("0:", 0) == 0) evr = evr.substr(2);
    inv.packages.push_back({name, evr, arch, name, evr});
  }
  return inv;
}

Result<Inventory> ReadPackageList(const std::string& path, advisory::Ecosystem ecosystem) {
  std::ifstream f(path == "-" ? "/dev/stdin" : path);
  if (!f) return Err("cannot read package list {}: {}", path, std::strerror(errno));
  Inventory inv;
  inv.ecosystem = ecosystem;
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    lineno++;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    InstalledPackage p;
    if (!(in >> p.name >> p.version >> p.arch))
      return Err("{}:{}: expected 'NAME VERSION ARCH', got '{}'", path, lineno, line);
    in >> p.source >> p.source_version;
    if (ecosystem == advisory::Ecosystem::kRpm && p.version.rfind("0:", 0) == 0) p.version = p.version.substr(2);
    if (p.source.empty()) p.source = p.name;
    if (p.source_version.empty()) p.source_version = p.version;
    inv.packages.push_back(std::move(p));
  }
  return inv;
}

Result<Inventory> ReadLocalInventory() {
  Result<Inventory> inv = std::filesystem::exists("/var/lib/dpkg/status") ? ReadDpkgStatus("/var/lib/dpkg/status")
                                                                          : ReadRpmDatabase("/");
  if (!inv.ok()) return inv;
  inv->release = HostRelease();
  inv->kernel_release = KernelRelease();
  return inv;
}

}  // namespace graft::scan
