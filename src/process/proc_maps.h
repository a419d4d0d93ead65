// /proc/PID/maps and /proc/PID/mem: where things are mapped in a process and
// reading/writing its memory. Writes through /proc/PID/mem work on read-only
// code pages (as debuggers' breakpoints do), so no page is ever made
// writable and executable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::process {

struct Mapping {
  uint64_t start = 0, end = 0, offset = 0, inode = 0;
  std::string perms;  // "r-xp"
  std::string path;   // may be "[stack]", "/memfd:graft:ID (deleted)", ""
  bool exec() const { return perms.size() > 2 && perms[2] == 'x'; }
  bool write() const { return perms.size() > 1 && perms[1] == 'w'; }
};

Result<std::vector<Mapping>> ReadMaps(pid_t pid);
bool ProcessExists(pid_t pid);
std::string ProcessName(pid_t pid);

class ProcessMemory {
 public:
  static Result<ProcessMemory> Open(pid_t pid);
  ProcessMemory(ProcessMemory&& o) noexcept : pid_(o.pid_), fd_(o.fd_) { o.fd_ = -1; }
  ~ProcessMemory();
  Result<std::vector<uint8_t>> Read(uint64_t addr, size_t size) const;
  // Fills `out` from `addr` (no allocation: for large scans).
  Status ReadInto(uint64_t addr, std::span<uint8_t> out) const;
  Status Write(uint64_t addr, std::span<const uint8_t> bytes) const;

 private:
  ProcessMemory(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_;
  int fd_;
};

}  // namespace graft::process
