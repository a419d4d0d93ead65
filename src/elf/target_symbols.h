// Symbol lookups in a linked ELF (the running program or library a patch is
// for): globals by name, locals by (source file, name) through the STT_FILE
// groups of .symtab, and the PLT stubs / GOT slots the linker made for
// symbols that live in other shared libraries.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "elf/object_file.h"

namespace graft::elf {

class TargetSymbols {
 public:
  explicit TargetSymbols(const ObjectFile& file);

  // Defined symbol: a local from `file` (source basename) when one exists,
  // else a global/weak one. Returns nullopt when absent, and sets *ambiguous
  // when several locals of that name live in same-named files.
  std::optional<Symbol> Find(const std::string& name, const std::string& file,
                             bool* ambiguous = nullptr) const;
  // Every local `name` of `file` (several when files share a basename), else
  // every local `name` of no known file (symbols from a map).
  std::vector<const Symbol*> Locals(const std::string& name, const std::string& file) const;
  // A global/weak definition, or else the only local of that name: hidden and
  // internal symbols (GCC's visibility attributes) become locals when linked.
  std::optional<Symbol> FindGlobal(const std::string& name) const;
  // Link-time address of the PLT stub that calls `name`, if the linker made
  // one (for an IFUNC of this file: the stub that jumps to its resolved
  // implementation, which is also its address as the program sees it).
  std::optional<uint64_t> PltStub(const std::string& name) const;
  // For an IFUNC defined in this file: the GOT slot in which ld.so leaves
  // its resolved implementation (R_X86_64_IRELATIVE), if the linker made one.
  std::optional<uint64_t> IfuncSlot(const std::string& name) const;
  // Link-time address of the GOT slot holding `name`'s address, if any.
  std::optional<uint64_t> GotSlot(const std::string& name) const;
  // Function symbol covering link-time address `addr`, if any.
  const Symbol* FunctionAt(uint64_t addr) const;
  bool has_symtab() const { return has_symtab_; }

 private:
  const ObjectFile& file_;
  bool has_symtab_ = false;
  std::unordered_multimap<std::string, const Symbol*> globals_;
  std::unordered_multimap<std::string, const Symbol*> locals_;  // key: file + '\0' + name
  std::unordered_multimap<std::string, const Symbol*> locals_by_name_;
  std::unordered_map<std::string, uint64_t> plt_, got_;
  std::unordered_map<std::string, uint64_t> ifunc_plt_, ifunc_got_;
  std::vector<const Symbol*> functions_;  // sorted by address
};

}  // namespace graft::elf
