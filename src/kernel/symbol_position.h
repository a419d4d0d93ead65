// Which of several same-named kernel symbols a patch means, as the position
// the livepatch core counts (klp_func.old_sympos, ".klp.sym.<obj>.<name>,<pos>"):
// 1-based among the symbols of that name in kallsyms order (address order for
// vmlinux, symbol-table order for a module), 0 when the name is unique.
// kallsyms has no file names, so the evidence comes from a symbol table with
// STT_FILE entries (the module's own, or vmlinux from linux-image-R-dbg): the
// file's basename, the other statics of that file (two proc.c define other
// functions), the symbol's size in the original object; and the code itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

struct SymbolCandidate {
  uint64_t address = 0;  // as the symbol map has it (run-time, KASLR included)
  bool local = false;
  bool attributed = false;  // file and size known (from a symbol table with STT_FILE entries)
  std::string file;         // source file basename (STT_FILE)
  uint64_t size = 0;
  std::vector<std::string> neighbours;  // other locals of its STT_FILE group, sorted
};

struct PositionQuery {
  std::string object;  // "vmlinux" or the module's name, for messages
  std::string name;
  bool local = false;
  std::string file;  // the original object's source file (its STT_FILE), for locals
  uint64_t size = 0;  // the symbol's size in the original object, 0 when unknown
  std::vector<std::string> neighbours;  // the original object's other locals, sorted
  // The original object's code of `name` is what runs at this map address
  // (run-pre); unset when the running code cannot be read.
  std::function<bool(uint64_t address)> same_code;
  std::string without_files_hint;  // what would attribute the candidates to files
  // The position is for a reference from new code (not a function to
  // replace): copies that all run the original's very code are equivalent
  // callees, and the first of them will do.
  bool reference = false;
};

// `candidates` in kallsyms order. Refuses, saying what would resolve it, when
// the evidence leaves more or less than one candidate.
Result<int> PickPosition(const std::vector<SymbolCandidate>& candidates, const PositionQuery& q);

}  // namespace graft::kernel
