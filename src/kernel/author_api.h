// What the author of a kernel fix can declare in the fixed source with
// <graft/livepatch.h>: livepatch callbacks (GRAFT_PRE_PATCH and friends),
// functions the patch must leave alone (GRAFT_IGNORE_FUNCTION), and typed
// helpers over the kernel's shadow variables. The macros leave records in
// .graft.* sections of the fixed object; graft reads them back here, so the
// declarations need no kernel support and no build flags beyond -I.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "elf/object_file.h"

namespace graft::kernel {

// The header's text, as graft ships it (one file, embedded in graft).
const std::string& AuthorApiHeader();

// Writes <dir>/graft/livepatch.h and returns the compiler flag that finds it
// ("-I<dir>"), for the KCFLAGS of both compiles of a fix.
Result<std::string> WriteAuthorApiHeader(const std::string& dir);

// The klp_callbacks members, in struct order.
inline const std::vector<std::string>& CallbackKinds() {
  static const std::vector<std::string> kinds = {"pre_patch", "post_patch", "pre_unpatch", "post_unpatch"};
  return kinds;
}

struct AuthorDeclarations {
  std::map<std::string, std::string> callbacks;  // kind ("pre_patch", ...) -> function
  std::vector<std::string> ignored_functions;
};

// Reads the records the macros left in the fixed objects. Refuses two
// callbacks of one kind (a klp_object has one of each) and records whose
// target is not a function of the object.
Result<AuthorDeclarations> ReadAuthorDeclarations(const std::vector<const elf::ObjectFile*>& fixed);

// C fragments of the generated klp_patch source: the declarations of the
// exported callback symbols (kind -> symbol) and the `.callbacks` member of
// the patched object's klp_object ("" without callbacks).
std::string CallbackDeclarations(const std::map<std::string, std::string>& symbols);
std::string CallbacksMember(const std::map<std::string, std::string>& symbols);

}  // namespace graft::kernel
