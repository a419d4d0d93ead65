// Run-pre for module patches: before a live patch of a module is built, each
// function it replaces must be, in the original object, the code of the
// module file that runs: the same bytes outside relocation fields, and every
// relocation naming the same symbol. A patch built from another version or
// configuration of the module (other struct offsets, other constants) is
// refused here instead of corrupting the running module.
#pragma once

#include "base/status.h"
#include "diff/plan.h"
#include "elf/object_file.h"

namespace graft::kernel {

Status VerifyAgainstModule(const diff::PatchPlan& plan, const elf::ObjectFile& module, const arch::Arch& arch);

}  // namespace graft::kernel
