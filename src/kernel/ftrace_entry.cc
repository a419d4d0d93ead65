#include "kernel/ftrace_entry.h"

namespace graft::kernel {

// ftrace redirects a replaced function from the call to __fentry__ at its
// start; a function compiled without one (notrace, which the kernel's
// `inline` implies: an inline function the compiler kept out of line, such
// as a syscall's body) has no such call, and the livepatch core would refuse
// the module ("failed to find location for function").
Status CheckFtraceEntry(const diff::PatchPlan& plan, const diff::PlanFunction& f) {
  const diff::ObjectModel& m = *plan.originals[f.pair];
  if (f.orig_entity < 0) return OkStatus();
  const elf::ObjectFile& obj = m.object();
  uint32_t text = m.entities()[f.orig_entity].section;
  for (const char* table : {"__mcount_loc", "__patchable_function_entries"}) {
    const elf::Section* s = obj.section_named(table);
    if (!s) continue;
    for (const elf::Relocation& r : obj.relocations_for(s->index))
      if (r.symbol < obj.symbols().size() && obj.symbols()[r.symbol].shndx == text) return OkStatus();
  }
  if (!obj.section_named("__mcount_loc") && !obj.section_named("__patchable_function_entries"))
    return OkStatus();  // built without ftrace entries at all: nothing to check against
  return Err("{}: function '{}' cannot be replaced by a live patch: it has no ftrace entry (__fentry__ call; it is "
             "notrace, or an inline function the compiler kept out of line), so the kernel cannot redirect it. "
             "Patch the functions that call it instead (change them so that they no longer reach the old code)",
             obj.path(), f.name);
}

}  // namespace graft::kernel
