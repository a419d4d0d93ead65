// Thread-local storage facts of a linked ELF that a patch for it needs: where
// its TLS block's variables sit relative to the thread pointer (fixed for the
// main executable), and the GOT slots in which the dynamic linker leaves the
// module id and offsets it chose for a shared library, to be read in the process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "elf/object_file.h"

namespace graft::elf {

struct TlsGotSlot {
  enum class Kind { kTpOffset, kModuleId, kModuleOffset };
  Kind kind = Kind::kTpOffset;
  uint64_t slot = 0;      // link-time address of the GOT word
  std::string symbol;     // empty: the module itself (symbol index 0)
  bool own = false;       // names this file's own block (symbol 0, or a symbol defined here)
  int64_t block_offset = 0;  // kTpOffset/kModuleOffset of an own slot: which variable offset it holds
};

class TargetTls {
 public:
  explicit TargetTls(const ObjectFile& file);

  // The program itself (ET_EXEC or a PIE), whose block has module id 1 and a
  // thread-pointer offset fixed by its own PT_TLS.
  bool main_executable() const { return main_executable_; }
  bool has_block() const { return block_size_ > 0; }
  // Thread-pointer offset of block offset `off` in the main executable
  // (x86_64 TLS variant II: the block ends at the thread pointer).
  int64_t ExecutableTpOffset(uint64_t off) const;
  // The GOT slot of `kind` for `symbol` (exact), if the target has one.
  const TlsGotSlot* Slot(TlsGotSlot::Kind kind, const std::string& symbol) const;
  // Any slot of `kind` for this file's own block.
  const TlsGotSlot* OwnSlot(TlsGotSlot::Kind kind) const;

 private:
  bool main_executable_ = false;
  uint64_t block_start_ = 0, block_size_ = 0, block_align_ = 1;
  std::vector<TlsGotSlot> slots_;
};

}  // namespace graft::elf
