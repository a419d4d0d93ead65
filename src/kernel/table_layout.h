// Entry layouts of the kernel's tables that describe code (exception table,
// bug table, alternatives, jump labels) for the kernel a patch is built for,
// read from that kernel's own headers: a probe file compiled with its kbuild
// records sizeof/offsetof in a .rodata array, read back from the object.
// They change between versions (alt_instr grew ft_flags in 6.3, bug_entry
// loses file/line without CONFIG_DEBUG_BUGVERBOSE), so constants would
// silently misparse another kernel's tables. Cached per release.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

struct TableSpec {
  std::string name;  // section
  size_t entry_size = 0;
  int replacement_len_at = -1;  // alt_instr.replacementlen (u8), for .altinstructions
};

struct TableLayouts {
  std::vector<TableSpec> tables;
  const TableSpec* For(const std::string& section) const;
};

// The layouts of the kernel whose kbuild tree (headers) is `headers`, cached
// in `cache_dir` under `release`.
Result<TableLayouts> ReadTableLayouts(const std::string& headers, const std::string& release,
                                      const std::string& cache_dir);

// Parses "section entry_size replacement_len_at" lines (the cache format).
Result<TableLayouts> ParseTableLayouts(const std::string& text);

}  // namespace graft::kernel
