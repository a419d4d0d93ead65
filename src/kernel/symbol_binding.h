// How the new code of a kernel live patch reaches what already runs. A
// reference the module loader can resolve (a symbol the kernel exports) stays
// an ordinary undefined symbol; anything else (statics, unexported globals,
// symbols of the patched module) becomes a livepatch symbol
// ".klp.sym.<object>.<name>,<position>" that the livepatch core resolves
// through kallsyms when the patched object is loaded. The position tells
// apart symbols of one name (0 when unique, else 1-based in kallsyms order).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "diff/plan.h"

namespace graft::kernel {

struct KernelSymbolSources {
  std::string object;         // "vmlinux" or the patched module's name
  std::string module_file;    // the patched module (.ko) when object is a module
  std::string module_symvers; // exports: <headers>/Module.symvers
  std::string system_map;     // vmlinux symbols: /boot/System.map-<release>
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

  const std::string& object() const { return src_.object; }

  // The symbols one source file defines (its object's functions and
  // variables): vmlinux's kallsyms has no file names, but a file's code and
  // data are contiguous in it, so a static defined several times in vmlinux
  // is told apart by which copy lies among the file's uniquely named symbols.
  void AddFileSymbols(const std::string& file, const std::vector<std::string>& names);
  bool Exported(const std::string& name) const { return exports_.count(name) > 0; }

 private:
  struct Definition {
    std::string file;  // source file for locals (module symtab), "" when unknown
    bool local = false;
    uint64_t address = 0;  // vmlinux (kallsyms)
  };
  // For vmlinux: the copy of `name` nearest a uniquely named symbol of `file`
  // (1-based), or 0 when that does not single one out.
  int NearestToFile(const std::vector<Definition>& defs, const std::string& file) const;
  // Position among same-named symbols of `defs`: 0 if unique; which one by file.
  Result<int> Position(const std::string& obj, const std::string& name, const std::string& file) const;

  KernelSymbolSources src_;
  std::set<std::string> exports_;
  std::map<std::string, std::vector<Definition>> vmlinux_;  // from System.map
  std::map<std::string, std::vector<Definition>> module_;   // from the module's symtab
  std::map<std::string, std::vector<std::string>> file_symbols_;
};

}  // namespace graft::kernel
