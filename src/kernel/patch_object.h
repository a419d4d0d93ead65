// The new code of a kernel live patch as one relocatable object: the plan's
// sections, their relocations bound by SymbolBinder (livepatch symbols are
// left undefined under their .klp.sym.* names; klp_convert turns them into
// livepatch relocations after the module is linked), one global symbol per
// replaced function for the generated klp_func table, and the copied
// functions' ORC unwind entries, which the livepatch consistency model needs
// to check stacks that run through the new code.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "diff/plan.h"
#include "kernel/symbol_binding.h"
#include "kernel/table_layout.h"

namespace graft::kernel {

struct ReplacedFunction {
  std::string old_name;
  int old_sympos = 0;
  std::string new_symbol;  // defined in the patch object
};

struct PatchObject {
  std::vector<ReplacedFunction> functions;
  std::vector<std::string> klp_symbols;  // livepatch symbols it needs
  int orc_entries = 0;
  int aux_snippets = 0;         // static_cpu_has() fallbacks (.altinstr_aux) carried
  int dyndbg_descriptors = 0;   // pr_debug() descriptors carried into the module's __dyndbg
  std::map<std::string, int> tables;  // carried entries: __ex_table, __bug_table, .altinstructions, __jump_table
  std::vector<std::string> dropped;  // special sections left out, and why it is safe
  std::vector<std::string> exports;  // new functions the fix exports, exported by the patch module
};

// Carries the copied functions' exception-table, bug-table, alternatives and
// jump-label entries (with the replacement instructions and BUG() file names
// they point to), their static_cpu_has() fallbacks (.altinstr_aux) and
// pr_debug() descriptors (__dyndbg). Refuses, naming the function and
// section, what graft cannot carry yet (static keys of modules, .fixup,
// exports of code it does not carry) and functions ftrace cannot redirect
// (notrace). New exported functions are exported by the patch module.
// Table entries are cut by `layouts`, the target kernel's. `prefix` starts
// the global symbols of the new functions (unique per object file linked
// into one module). `exports`: global symbols to define at copied functions
// (symbol -> plan section), for the generated source to name (the author's
// callbacks).
Result<PatchObject> WritePatchObject(const diff::PatchPlan& plan, const SymbolBinder& binder,
                                     const TableLayouts& layouts, const std::string& path,
                                     const std::string& prefix = "__graft_new_",
                                     const std::map<std::string, uint32_t>& exports = {});

}  // namespace graft::kernel
