// One pass over each mapping in 4 MiB pieces through /proc/PID/mem; a word is
// looked at further only when it falls inside the code ranges' span.
#include "userspace/suspended_stacks.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "process/proc_maps.h"

namespace graft::userspace {

Result<std::optional<SavedReturn>> FindSavedReturn(process::StoppedProcess& proc, const std::vector<CodeRange>& code,
                                                   const arch::Arch& arch, bool* skipped) {
  *skipped = false;
  if (code.empty()) return std::optional<SavedReturn>();
  pid_t pid = proc.pid();
  GRAFT_ASSIGN(auto maps, process::ReadMaps(pid));
  GRAFT_ASSIGN(process::ProcessMemory mem, process::ProcessMemory::Open(pid));
  // The code itself, to tell a return address from any other pointer into it.
  std::vector<std::vector<uint8_t>> bytes;
  uint64_t lo = ~0ull, hi = 0;
  for (const CodeRange& r : code) {
    auto b = mem.Read(r.lo, r.hi - r.lo);
    bytes.push_back(b.ok() ? std::move(*b) : std::vector<uint8_t>());
    lo = std::min(lo, r.lo);
    hi = std::max(hi, r.hi);
  }
  std::vector<const process::Mapping*> scan;
  uint64_t total = 0;
  for (const process::Mapping& m : maps) {
    bool anonymous = m.path.empty() || m.path == "[heap]";
    if (!anonymous || !m.write() || m.perms.size() < 4 || m.perms[0] != 'r' || m.perms[3] != 'p') continue;
    bool thread_stack = false;
    for (const process::ThreadState& t : proc.threads()) thread_stack |= t.regs.rsp >= m.start && t.regs.rsp < m.end;
    if (thread_stack) continue;
    scan.push_back(&m);
    total += m.end - m.start;
  }
  if (total > kSuspendedScanBudget) {
    *skipped = true;
    return std::optional<SavedReturn>();
  }
  int fd = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err("process {}: cannot read its memory: {}", pid, std::strerror(errno));
  std::vector<uint64_t> buf(1 << 19);  // 4 MiB
  std::optional<SavedReturn> found;
  for (const process::Mapping* m : scan) {
    for (uint64_t at = m->start; at < m->end && !found; at += buf.size() * 8) {
      size_t want = std::min<uint64_t>(buf.size() * 8, m->end - at);
      ssize_t n = pread(fd, buf.data(), want, static_cast<off_t>(at));
      if (n <= 0) break;  // unreadable (guard pages inside, say): nothing to find there
      for (size_t i = 0; i < static_cast<size_t>(n) / 8; i++) {
        uint64_t v = buf[i];
        if (v < lo || v >= hi) continue;
        for (size_t r = 0; r < code.size(); r++) {
          if (v < code[r].lo || v >= code[r].hi || bytes[r].empty()) continue;
          if (!arch.MayEndCall(bytes[r], v - code[r].lo)) continue;
          found = SavedReturn{at + i * 8, v, code[r].what, m->path.empty() ? "anonymous memory" : m->path};
          break;
        }
        if (found) break;
      }
    }
    if (found) break;
  }
  close(fd);
  return found;
}

}  // namespace graft::userspace
