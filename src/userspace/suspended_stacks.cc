// One pass over each mapping in 4 MiB pieces; a word is
// looked at further only when it falls inside the code ranges' span.
#include "userspace/suspended_stacks.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "process/proc_maps.h"

namespace graft::userspace {

Result<std::optional<SavedReturn>> FindSavedReturn(process::StoppedProcess& proc, const process::ProcessMemory& mem,
                                                   const std::vector<CodeRange>& code, const arch::Arch& arch,
                                                   bool* skipped) {
  *skipped = false;
  if (code.empty()) return std::optional<SavedReturn>();
  pid_t pid = proc.pid();
  GRAFT_ASSIGN(auto maps, process::ReadMaps(pid));
  // The code itself, to tell a return address from any other pointer into it.
  std::vector<std::vector<uint8_t>> bytes_of;
  uint64_t lo = ~0ull, hi = 0;
  for (const CodeRange& r : code) {
    auto b = mem.Read(r.lo, r.hi - r.lo);
    bytes_of.push_back(b.ok() ? std::move(*b) : std::vector<uint8_t>());
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
  // Sized for the largest mapping scanned and left uninitialized: this runs
  // with the threads stopped, and zero-filling 4 MiB (a thousand page faults)
  // cost more than scanning a small process's heap.
  constexpr uint64_t kChunk = 4 << 20;
  uint64_t largest = 0;
  for (const process::Mapping* m : scan) largest = std::max(largest, m->end - m->start);
  std::unique_ptr<uint64_t[]> words(new uint64_t[std::min(kChunk, largest) / 8 + 1]);
  for (const process::Mapping* m : scan) {
    for (uint64_t at = m->start; at < m->end; at += kChunk) {
      size_t n = std::min(kChunk, m->end - at) / 8;
      // Unreadable (guard pages inside, say): nothing to find there.
      if (!mem.ReadInto(at, {reinterpret_cast<uint8_t*>(words.get()), n * 8}).ok()) break;
      for (size_t i = 0; i < n; i++) {
        uint64_t v = words[i];
        if (v < lo || v >= hi) continue;
        for (size_t r = 0; r < code.size(); r++) {
          if (v < code[r].lo || v >= code[r].hi || bytes_of[r].empty()) continue;
          if (!arch.MayEndCall(bytes_of[r], v - code[r].lo)) continue;
          return std::optional<SavedReturn>(
              SavedReturn{at + i * 8, v, code[r].what, m->path.empty() ? "anonymous memory" : m->path});
        }
      }
    }
  }
  return std::optional<SavedReturn>();
}

}  // namespace graft::userspace
