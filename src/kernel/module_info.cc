#include "kernel/module_info.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "elf/object_file.h"

namespace graft::kernel {

std::string ModuleInfo::KernelRelease() const {
  size_t end = vermagic.find(' ');
  return vermagic.substr(0, end);
}

Result<std::vector<std::string>> ParseCveList(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ';' || std::isspace(static_cast<unsigned char>(text[i])))) i++;
    size_t start = i;
    while (i < text.size() && text[i] != ',' && text[i] != ';' && !std::isspace(static_cast<unsigned char>(text[i]))) i++;
    if (start == i) break;
    std::string id = text.substr(start, i - start);
    std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::toupper(c); });
    // CVE-YYYY-NNNN with at least four digits in the sequence number.
    bool valid = id.size() >= 13 && id.compare(0, 4, "CVE-") == 0 && id[8] == '-';
    for (size_t k = 4; valid && k < id.size(); k++)
      if (k != 8 && !std::isdigit(static_cast<unsigned char>(id[k]))) valid = false;
    if (!valid) return Err("'{}' is not a CVE ID (expected CVE-YYYY-NNNN)", text.substr(start, i - start));
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

std::string InstalledModuleFile(const std::string& release, const std::string& name) {
  std::filesystem::path dir = std::filesystem::path("/lib/modules") / release;
  std::ifstream dep(dir / "modules.dep");
  std::string line;
  while (std::getline(dep, line)) {
    std::string file = line.substr(0, line.find(':'));
    std::string base = std::filesystem::path(file).filename().string();
    base = base.substr(0, base.find(".ko"));
    std::replace(base.begin(), base.end(), '-', '_');
    if (base == name) return (dir / file).string();
  }
  return "";
}

Result<ModuleInfo> ReadModuleInfo(const std::string& path) {
  GRAFT_ASSIGN(auto obj, elf::ObjectFile::Open(path));
  const elf::Section* s = obj->section_named(".modinfo");
  if (!s) return Err("{}: no .modinfo section: not a kernel module", path);
  ModuleInfo info;
  info.path = path;
  std::string_view all(reinterpret_cast<const char*>(s->data.data()), s->data.size());
  while (!all.empty()) {
    size_t end = all.find('\0');
    std::string_view entry = all.substr(0, end);
    all = end == std::string_view::npos ? std::string_view() : all.substr(end + 1);
    size_t eq = entry.find('=');
    if (entry.empty() || eq == std::string_view::npos) continue;  // alignment padding
    std::string key(entry.substr(0, eq)), value(entry.substr(eq + 1));
    if (key == "name") info.name = value;
    else if (key == "vermagic") info.vermagic = value;
    else if (key == "description") info.description = value;
    else if (key == "version") info.version = value;
    else if (key == "livepatch") info.livepatch = value == "Y";
    else if (key == "graft_replace") info.replace = value == "Y";
    else if (key == "graft_callbacks") info.callbacks = value;
    else if (key == "cve") {
      auto ids = ParseCveList(value);
      if (!ids.ok()) return ids.error().context(path + ": .modinfo cve tag");
      for (auto& id : *ids)
        if (std::find(info.cves.begin(), info.cves.end(), id) == info.cves.end()) info.cves.push_back(id);
    }
    info.fields.emplace_back(std::move(key), std::move(value));
  }
  if (info.name.empty()) {
    // Kernels before 5.3 do not write name=; the loader uses the file name then.
    std::string stem = std::filesystem::path(path).filename().string();
    if (stem.size() > 3 && stem.ends_with(".ko")) stem.resize(stem.size() - 3);
    std::replace(stem.begin(), stem.end(), '-', '_');
    info.name = stem;
  }
  if (info.vermagic.empty()) return Err("{}: .modinfo has no vermagic: not a kernel module", path);
  return info;
}

}  // namespace graft::kernel
