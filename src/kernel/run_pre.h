// Run-pre: before a live patch is built, each function it replaces must be,
// in the original object, the code that runs: the same bytes outside
// relocation fields, and every relocation naming the same symbol (the same
// string, for literals). A patch built from another version or configuration
// (other struct offsets, other constants) is refused here instead of
// corrupting the running kernel. Modules are checked against their .ko file;
// vmlinux against the kernel image that boots (the bzImage's payload, or
// vmlinux from linux-image-R-dbg), with user space's RunPreVerifier, since
// both are linked files.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "diff/plan.h"
#include "elf/object_file.h"
#include "elf/target_symbols.h"
#include "kernel/symbol_binding.h"
#include "kernel/symbol_map.h"

namespace graft::userspace {
class RunPreVerifier;
}

namespace graft::kernel {

Status VerifyAgainstModule(const diff::PatchPlan& plan, const elf::ObjectFile& module, const arch::Arch& arch);

// Symbols for a stripped kernel image from its symbol map: link-time
// addresses (the KASLR offset removed from kernel addresses; per-CPU ones are
// offsets and stay), sizes up to the next symbol, no file names.
std::vector<elf::Symbol> SymbolsFromMap(const std::vector<MapSymbol>& map, uint64_t kaslr, const elf::ObjectFile& image);

class VmlinuxRunPre {
 public:
  // `image`: vmlinux's code at link-time addresses, with symbols (its own,
  // adopted from the dbg vmlinux, or SymbolsFromMap: then sizes are not exact).
  // `shown`: the file to name in messages (the boot image, not its cached payload).
  VmlinuxRunPre(const diff::PatchPlan& plan, const elf::ObjectFile& image, bool sizes_exact, std::string shown);
  ~VmlinuxRunPre();

  // Whether function `name` of source `file` ("" for any file) in the
  // original objects is the code at link-time `address`; *why says where not.
  bool SameCode(const std::string& name, const std::string& file, uint64_t address, std::string* why);

  // Each replaced function at the address its resolved position gives.
  Status Verify(const SymbolBinder& binder);

 private:
  const diff::PatchPlan& plan_;
  const elf::ObjectFile& image_;
  elf::TargetSymbols syms_;
  bool sizes_exact_;
  std::string shown_;
  std::vector<std::unique_ptr<userspace::RunPreVerifier>> verifiers_;
};

}  // namespace graft::kernel
