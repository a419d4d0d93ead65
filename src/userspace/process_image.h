// What graft needs to know about one loaded object inside a process: which
// mapped file has a given build-id, its load bias, and symbol lookup across
// all loaded libraries (for imports the target file could not resolve).
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "elf/object_file.h"
#include "process/proc_maps.h"

namespace graft::userspace {

struct LoadedObject {
  std::string path;   // as in /proc/PID/maps
  uint64_t bias = 0;  // runtime address = link-time address + bias
  uint64_t lo = 0, hi = 0;  // extent of its mappings
};

class ProcessImage {
 public:
  static Result<ProcessImage> Read(pid_t pid);
  pid_t pid() const { return pid_; }
  const std::vector<process::Mapping>& maps() const { return maps_; }
  // The loaded object whose file has GNU build-id `build_id`, if any.
  Result<std::optional<LoadedObject>> FindByBuildId(const std::string& build_id);
  // Runtime address of a default-version dynamic symbol from any loaded object.
  Result<uint64_t> LookupDynamic(const std::string& name);
  // The 8-byte word at `address` in the process (a GOT slot ld.so filled).
  Result<uint64_t> ReadWord(uint64_t address);

 private:
  Result<std::vector<LoadedObject>> Objects();
  Result<uint64_t> ResolveIfunc(const std::string& name, const LoadedObject& def, const elf::Symbol& sym);
  Result<const elf::ObjectFile*> File(const std::string& path);

  pid_t pid_ = 0;
  std::vector<process::Mapping> maps_;
  std::map<std::string, std::unique_ptr<elf::ObjectFile>> files_;
  std::unique_ptr<process::ProcessMemory> memory_;  // opened on first read
};

// Processes that map an object with this build-id (for --all).
std::vector<pid_t> ProcessesMapping(const std::string& build_id);

}  // namespace graft::userspace
