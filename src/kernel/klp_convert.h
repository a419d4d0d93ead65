// Turns a linked live patch module's references to ".klp.sym.<object>.*"
// symbols into the livepatch ELF format the kernel expects: those symbols get
// section index SHN_LIVEPATCH, and their relocations move out of the normal
// relocation sections (which the module loader applies at load time) into
// ".klp.rela.<object>.<section>" sections flagged SHF_RELA_LIVEPATCH |
// SHF_ALLOC, which the livepatch core applies once <object> is loaded.
#pragma once

#include <string>

#include "base/status.h"

namespace graft::kernel {

struct KlpConversion {
  int symbols = 0;
  int relocations = 0;
  int sections = 0;  // .klp.rela sections written
};

Result<KlpConversion> ConvertKlpRelocations(const std::string& ko_path);

}  // namespace graft::kernel
