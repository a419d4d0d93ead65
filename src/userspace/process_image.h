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
#include "process/remote_syscall.h"
#include "userspace/build_id_cache.h"

namespace graft::userspace {

struct LoadedObject {
  std::string path;   // as in /proc/PID/maps
  uint64_t bias = 0;  // runtime address = link-time address + bias
  uint64_t lo = 0, hi = 0;  // extent of its mappings
};

class ProcessImage {
 public:
  // Files are parsed through `cache` (shared across processes); without one,
  // through a cache of this image's own.
  static Result<ProcessImage> Read(pid_t pid, BuildIdCache* cache = nullptr);
  pid_t pid() const { return pid_; }
  const std::vector<process::Mapping>& maps() const { return maps_; }
  // The loaded object whose file has GNU build-id `build_id`, if any. Only
  // that file is parsed; the others' build-ids are read from their notes.
  Result<std::optional<LoadedObject>> FindByBuildId(const std::string& build_id);
  // Runtime address of a default-version dynamic symbol from any loaded object.
  Result<uint64_t> LookupDynamic(const std::string& name);
  // The 8-byte word at `address` in the process (a GOT slot ld.so filled).
  Result<uint64_t> ReadWord(uint64_t address);
  // Code to borrow for injected system calls: where the cache says the C
  // library holds it (checked in this process's memory), else found by
  // scanning the process's code.
  Result<process::SyscallGadgets> FindSyscallGadgets();
  // Parses every mapped object (what LookupDynamic reads), for PrepareCache.
  void LoadObjects() { (void)Objects(); }

 private:
  Result<std::vector<LoadedObject>> Objects();
  std::optional<LoadedObject> Locate(const std::string& path, const elf::ObjectFile& f) const;
  Result<uint64_t> ResolveIfunc(const std::string& name, const LoadedObject& def, const elf::Symbol& sym);
  Result<const elf::ObjectFile*> File(const std::string& path);
  std::string OpenPath(const std::string& path) const;
  // "" when unknown; nullopt when the file is not ELF.
  std::optional<std::string> BuildIdOf(const std::string& path);
  Result<process::ProcessMemory*> Memory();

  pid_t pid_ = 0;
  std::vector<process::Mapping> maps_;
  std::shared_ptr<BuildIdCache> own_cache_;
  BuildIdCache* cache_ = nullptr;
  std::map<std::string, std::shared_ptr<const elf::ObjectFile>> files_;
  std::map<std::string, std::optional<std::string>> build_ids_;
  std::unique_ptr<process::ProcessMemory> memory_;  // opened on first read
};

// Processes that map an object with this build-id (for --all).
std::vector<pid_t> ProcessesMapping(const std::string& build_id, BuildIdCache* cache = nullptr);

// Does, in the calling process, what an apply to `pid` reads from the files
// it maps (parsing them, finding the syscall code), so that a detached worker
// forked afterwards finds it all in `cache`. Errors are left to the apply.
void PrepareCache(pid_t pid, BuildIdCache& cache);


}  // namespace graft::userspace
