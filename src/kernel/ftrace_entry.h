// Whether ftrace can redirect a function a kernel live patch replaces: the
// livepatch core hooks the call to __fentry__ every traceable function
// starts with, which kbuild records in __mcount_loc (or
// __patchable_function_entries). Checked on the original object, before
// anything is built, so that the refusal names the function.
#pragma once

#include "base/status.h"
#include "diff/plan.h"

namespace graft::kernel {

Status CheckFtraceEntry(const diff::PatchPlan& plan, const diff::PlanFunction& f);

}  // namespace graft::kernel
