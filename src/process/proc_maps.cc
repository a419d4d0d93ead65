// Parsing of the maps format; memory access by pread/pwrite on /proc/PID/mem.
#include "process/proc_maps.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace graft::process {

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

std::string ProcessName(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

Result<std::vector<Mapping>> ReadMaps(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  if (!in) return Err("process {}: cannot read its memory map (no such process, or not permitted)", pid);
  std::vector<Mapping> out;
  std::string line;
  while (std::getline(in, line)) {
    Mapping m;
    char perms[8] = {};
    unsigned long long start, end, off, inode;
    unsigned dev_major, dev_minor;
    int consumed = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &dev_major,
               &dev_minor, &inode, &consumed) < 7)
      continue;
    m.start = start;
    m.end = end;
    m.offset = off;
    m.inode = inode;
    m.perms = perms;
    if (consumed > 0 && static_cast<size_t>(consumed) <= line.size()) m.path = line.substr(consumed);
    out.push_back(std::move(m));
  }
  return out;
}

Result<ProcessMemory> ProcessMemory::Open(pid_t pid) {
  int fd = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Err("process {}: cannot open its memory: {}", pid, std::strerror(errno));
  return ProcessMemory(pid, fd);
}

ProcessMemory::~ProcessMemory() {
  if (fd_ >= 0) close(fd_);
}

Result<std::vector<uint8_t>> ProcessMemory::Read(uint64_t addr, size_t size) const {
  std::vector<uint8_t> buf(size);
  GRAFT_TRY(ReadInto(addr, buf));
  return buf;
}

Status ProcessMemory::ReadInto(uint64_t addr, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(addr + done));
    if (n <= 0) return Err("process {}: cannot read {} bytes at {:#x}: {}", pid_, out.size(), addr,
                           n == 0 ? "end of memory" : std::strerror(errno));
    done += n;
  }
  return OkStatus();
}

Status ProcessMemory::Write(uint64_t addr, std::span<const uint8_t> bytes) const {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(addr + done));
    if (n <= 0) return Err("process {}: cannot write {} bytes at {:#x}: {}", pid_, bytes.size(), addr,
                           std::strerror(errno));
    done += n;
  }
  return OkStatus();
}

}  // namespace graft::process
