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
  std::map<std::string, int> tables;  // carried entries: __ex_table, __bug_table, .altinstructions, __jump_table
  std::vector<std::string> dropped;  // special sections left out, and why it is safe
};

// Carries the copied functions' exception-table, bug-table, alternatives and
// jump-label entries (with the replacement instructions and BUG() file names
// they point to). Refuses, naming the function and section, what graft cannot
// carry yet (static keys of modules, static calls, tracepoints).
// `prefix` starts the global symbols of the new functions (unique per object
// file linked into one module).
Result<PatchObject> WritePatchObject(const diff::PatchPlan& plan, const SymbolBinder& binder, const std::string& path,
                                     const std::string& prefix = "__graft_new_");

}  // namespace graft::kernel
