// How the new code of a kernel live patch reaches what already runs. A
// reference the module loader can resolve (a symbol the kernel exports) stays
// an ordinary undefined symbol; anything else (statics, unexported globals,
// symbols of the patched module) becomes a livepatch symbol
// ".klp.sym.<object>.<name>,<position>" that the livepatch core resolves
// through kallsyms when the patched object is loaded. The position tells
// apart symbols of one name (0 when unique, else 1-based in kallsyms order;
// symbol_position.h weighs the evidence).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "diff/plan.h"
#include "elf/object_file.h"
#include "kernel/symbol_map.h"
#include "kernel/symbol_position.h"

namespace graft::kernel {

struct KernelSymbolSources {
  std::string object;         // "vmlinux" or the patched module's name
  std::string module_file;    // the patched module (.ko) when object is a module
  std::string module_symvers; // exports: <headers>/Module.symvers
  std::string system_map;     // vmlinux symbols: /boot/System.map-<release>
  // vmlinux with its symbol table (linux-image-R-dbg): the STT_FILE entries
  // tell same-named statics apart. Optional.
  const elf::ObjectFile* vmlinux = nullptr;
  uint64_t link_text = 0;  // link-time address of _text (vmlinux's .text): map minus KASLR
  // The original objects of the patched files: their symbols' sizes.
  std::vector<const elf::ObjectFile*> originals;
  // Whether the original object's function `name` (of `file`) is the code at
  // link-time address `address` of the running kernel (run-pre); optional.
  std::function<bool(const std::string& name, const std::string& file, uint64_t address)> same_code;
  std::string without_files_hint;  // what to give when only file names can tell twins apart
};

struct Binding {
  bool klp = false;
  std::string symbol;  // plain name, or the .klp.sym.* name
};

// Referents for Bind: a symbol defined in the patched object, or one it
// leaves undefined.
inline diff::Referent ExistingReferent(const std::string& name, bool local, const std::string& file) {
  diff::Referent r;
  r.kind = diff::Referent::Kind::kExisting;
  r.name = name;
  r.local = local;
  r.file = file;
  return r;
}

inline diff::Referent ExternalReferent(const std::string& name) {
  diff::Referent r;
  r.kind = diff::Referent::Kind::kExternal;
  r.name = name;
  return r;
}

class SymbolBinder {
 public:
  static Result<SymbolBinder> Load(const KernelSymbolSources& src);

  // A reference of the new code to something that exists in the kernel:
  // defined in the patched object (existing) or undefined there (external).
  Result<Binding> Bind(const diff::Referent& r) const;

  // The kallsyms position of a function the patch replaces (klp_func.old_sympos).
  Result<int> FunctionPosition(const std::string& name, const std::string& file) const;

  // Link-time address (KASLR removed) of vmlinux's `name` at `position`
  // (FunctionPosition's answer).
  Result<uint64_t> LinkAddress(const std::string& name, int position) const;
  // vmlinux's map, in kallsyms order, and its KASLR offset (map minus link-time).
  const std::vector<MapSymbol>& vmlinux_map() const { return map_; }
  uint64_t kaslr_offset() const { return kaslr_; }

  const std::string& object() const { return src_.object; }
  bool Exported(const std::string& name) const { return exports_.count(name) > 0; }

 private:
  // Position among same-named symbols: 0 if unique; which one by file, size, code.
  Result<int> Position(const std::string& obj, const std::string& name, bool local, const std::string& file,
                       bool reference = false) const;
  void AttributeTwins();

  KernelSymbolSources src_;
  std::set<std::string> exports_;
  std::vector<MapSymbol> map_;
  uint64_t kaslr_ = 0;
  std::map<std::string, std::vector<SymbolCandidate>> vmlinux_;  // from the map (+ vmlinux's symtab)
  std::map<std::string, std::vector<SymbolCandidate>> module_;   // from the module's symtab
  std::map<std::pair<std::string, std::string>, uint64_t> original_sizes_;  // (file, name) of the originals
  std::map<std::string, std::vector<std::string>> original_locals_;         // file -> its local names, sorted
};

}  // namespace graft::kernel
