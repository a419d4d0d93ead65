#include "kernel/records.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/state_dir.h"

namespace graft::kernel {

namespace fs = std::filesystem;
using nlohmann::json;

std::string DefaultRecordsDir() { return StateDir() + "/kernel"; }

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

Status WriteRecord(const std::string& dir, const PatchRecord& r) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Err("cannot create {}: {}", dir, ec.message());
  json j = {{"name", r.name}, {"module", r.module_path}, {"vermagic", r.vermagic},
            {"cves", r.cves}, {"loaded_at", r.loaded_at}};
  if (r.replace) j["replace"] = true;
  if (!r.replaced.empty()) j["replaced"] = r.replaced;
  if (!r.replaced_by.empty()) j["replaced_by"] = r.replaced_by;
  // Write and rename so a reader never sees half a record.
  std::string path = dir + "/" + r.name + ".json", tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << j.dump(2) << "\n";
    if (!f.flush()) return Err("cannot write {}", tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return Err("cannot write {}: {}", path, ec.message());
  return OkStatus();
}

std::optional<PatchRecord> ReadRecord(const std::string& dir, const std::string& name) {
  std::ifstream f(dir + "/" + name + ".json");
  if (!f) return std::nullopt;
  json j = json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  PatchRecord r;
  r.name = j.value("name", name);
  r.module_path = j.value("module", "");
  r.vermagic = j.value("vermagic", "");
  r.loaded_at = j.value("loaded_at", "");
  for (const auto& c : j.value("cves", json::array()))
    if (c.is_string()) r.cves.push_back(c.get<std::string>());
  r.replace = j.value("replace", false);
  for (const auto& c : j.value("replaced", json::array()))
    if (c.is_string()) r.replaced.push_back(c.get<std::string>());
  r.replaced_by = j.value("replaced_by", "");
  return r;
}

std::vector<PatchRecord> ReadRecords(const std::string& dir) {
  std::vector<PatchRecord> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".json" || !e.is_regular_file()) continue;
    if (auto r = ReadRecord(dir, e.path().stem().string())) out.push_back(std::move(*r));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

void RemoveRecord(const std::string& dir, const std::string& name) {
  std::error_code ec;
  fs::remove(dir + "/" + name + ".json", ec);
}

}  // namespace graft::kernel
