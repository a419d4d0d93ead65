// What graft learns from a mapped file that depends only on its content,
// named by its GNU build-id: the parsed ELF file (sections, symbols, dynamic
// relocations) and where in it the code for injected system calls lies.
// `graft apply --all` over N processes of one program and graftd across its
// requests do that work once per file instead of once per process. Nothing
// else invalidates an entry: a build-id names one content. Files without a
// build-id are never cached. The cache is bounded in bytes (least recently
// used entries go first; an entry still in use stays alive with its user).
// Thread-safe, and fork-safe: a process forked while another thread changes
// the cache (graftd forks a detached worker per apply) gets a consistent copy
// and a usable lock, as glibc does for malloc (pthread_atfork).
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "base/status.h"
#include "elf/object_file.h"

namespace graft::userspace {

// Where `syscall; ret` and rt_sigreturn's code lie in one file, as file
// offsets (0: not in that file's scanned range).
struct GadgetOffsets {
  uint64_t syscall_ret = 0;
  uint64_t sigreturn = 0;
};

class BuildIdCache {
 public:
  static constexpr size_t kDefaultBytes = 256u << 20;
  explicit BuildIdCache(size_t max_bytes = kDefaultBytes);
  ~BuildIdCache();
  BuildIdCache(const BuildIdCache&) = delete;
  BuildIdCache& operator=(const BuildIdCache&) = delete;

  // The file with `build_id`, parsed from `path` (else `fallback`) when not
  // cached yet. A file whose parsed build-id differs (replaced meanwhile) is
  // returned but not kept.
  Result<std::shared_ptr<const elf::ObjectFile>> Object(const std::string& build_id, const std::string& path,
                                                        const std::string& fallback);

  // Gadget offsets found earlier in the file range [offset, offset + size).
  std::optional<GadgetOffsets> Gadgets(const std::string& build_id, uint64_t offset, uint64_t size);
  void PutGadgets(const std::string& build_id, uint64_t offset, uint64_t size, GadgetOffsets g);

  // For tests and `-v`: how often the work was done and how often it was not.
  struct Counters {
    size_t files_parsed = 0, file_hits = 0;
    size_t gadget_scans = 0, gadget_hits = 0;
    size_t evicted = 0;
  };
  Counters counters() const;
  void CountGadgetScan();
  size_t bytes() const;

 private:
  struct Entry {
    std::shared_ptr<const elf::ObjectFile> file;
    size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  void EvictLocked();

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> files_;  // REQUIRES: mu_
  std::list<std::string> lru_;          // most recently used first
  size_t bytes_ = 0;
  std::map<std::tuple<std::string, uint64_t, uint64_t>, GadgetOffsets> gadgets_;
  Counters counters_;
};

}  // namespace graft::userspace
