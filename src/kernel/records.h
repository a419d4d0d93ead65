// graft's records of the kernel live patches it loaded: one JSON file per
// patch in <state>/kernel/<name>.json with what sysfs cannot say (the module
// file, its CVEs, when it was loaded). A record is written before the module
// is loaded and removed after it is unloaded, so a graft killed in between
// leaves a record that sysfs either confirms or shows stale; readers always
// check sysfs first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

struct PatchRecord {
  std::string name;
  std::string module_path;
  std::string vermagic;
  std::vector<std::string> cves;
  std::string loaded_at;  // UTC, ISO 8601
  bool replace = false;               // cumulative (graft_replace=Y)
  std::vector<std::string> replaced;  // the live patches it replaced when it was loaded
  std::string replaced_by;            // set on a replaced patch whose module was left loaded
};

// $GRAFT_STATE_DIR/kernel, else /var/lib/graft/kernel for root, else
// $XDG_STATE_HOME (or ~/.local/state)/graft/kernel.
std::string DefaultRecordsDir();

Status WriteRecord(const std::string& dir, const PatchRecord& r);
std::optional<PatchRecord> ReadRecord(const std::string& dir, const std::string& name);
void RemoveRecord(const std::string& dir, const std::string& name);
// Every record in `dir`, by name.
std::vector<PatchRecord> ReadRecords(const std::string& dir);

std::string UtcNow();

}  // namespace graft::kernel
