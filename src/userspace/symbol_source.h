// Stripped targets. Distributions install binaries without .symtab, yet a
// patch must find the target's static and hidden functions. The symbols come
// from a file that describes exactly the code that runs: the distribution's
// debug file for the target's build-id, an unstripped build of the same
// sources (the binary a source build linked, or one the operator names), each
// accepted only when every section the target maps is the same (a debug
// file: same build-id and layout; a rebuild: byte for byte, build-id note
// aside). The patch keeps the target's own build-id.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "elf/object_file.h"

namespace graft::userspace {

// Where the distribution keeps debug files: /usr/lib/debug/.build-id/xx/rest.debug.
std::string DebugFileFor(const std::string& build_id, const std::string& root = "/usr/lib/debug");

// Gives the stripped `target` the symbols of the first candidate that
// reproduces it, and says which (and how it was checked). `named` is true when
// the operator gave the candidate: the refusal is then about that file alone.
Result<std::string> AdoptSymbolSource(elf::ObjectFile& target, const std::vector<std::string>& candidates,
                                      bool named);

}  // namespace graft::userspace
