#include "kernel/ftrace_entry.h"

#include <filesystem>
#include <fstream>

namespace graft::kernel {

namespace fs = std::filesystem;

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
  if (!obj.section_named("__mcount_loc") && !obj.section_named("__patchable_function_entries")) {
    // No entries at all: an object compiled without ftrace (a unit test's),
    // or a kernel file whose Makefile removes the ftrace flags (the tracer
    // itself: kernel/trace/). kbuild's command line for it tells which.
    fs::path o(obj.path());
    std::ifstream cmd(o.parent_path() / ("." + o.filename().string() + ".cmd"));
    std::string line;
    if (!std::getline(cmd, line) || line.find("-D__KERNEL__") == std::string::npos ||
        line.find("-mfentry") != std::string::npos || line.find(" -pg") != std::string::npos)
      return OkStatus();
    return Err("{}: function '{}' cannot be replaced by a live patch: its file is built without ftrace entries (its "
               "Makefile removes -pg/-mfentry, as kernel/trace/ does), so the kernel cannot redirect it. Patch the "
               "functions outside that file that reach the old code instead", obj.path(), f.name);
  }
  return Err("{}: function '{}' cannot be replaced by a live patch: it has no ftrace entry (__fentry__ call; it is "
             "notrace, or an inline function the compiler kept out of line), so the kernel cannot redirect it. "
             "Patch the functions that call it instead (change them so that they no longer reach the old code)",
             obj.path(), f.name);
}

}  // namespace graft::kernel
