// The relocatable object a kernel live patch's new code is written as:
// sections with their bytes and relocations, and a symbol table (section
// symbols, then the undefined symbols relocations name, then globals).
// kernel/patch_object.cc fills it; kbuild links it into the patch module.
#pragma once

#include <elf.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

struct Writer {
  std::vector<Elf64_Sym> syms{Elf64_Sym{}};
  std::string strtab{'\0'};
  std::map<std::string, uint32_t> by_name;

  uint32_t AddString(const std::string& s) {
    uint32_t off = strtab.size();
    strtab += s;
    strtab += '\0';
    return off;
  }
  uint32_t Undefined(const std::string& name) {
    auto it = by_name.find(name);
    if (it != by_name.end()) return it->second;
    Elf64_Sym s{};
    s.st_name = AddString(name);
    s.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
    s.st_shndx = SHN_UNDEF;
    syms.push_back(s);
    return by_name[name] = syms.size() - 1;
  }
};

struct OutSection {
  std::string name;
  uint32_t type = SHT_PROGBITS;
  uint64_t flags = 0, align = 1;
  std::vector<uint8_t> bytes;
  uint64_t nobits_size = 0;
  std::vector<Elf64_Rela> relas;
  uint32_t sym = 0;  // its section symbol
  std::string what;  // for messages: the function or object it holds
};

// `name` with everything but letters and digits made '_' (section and symbol names).
std::string Sanitize(const std::string& name);

// Writes an x86-64 ET_REL file: `secs` (each with a .rela section when it has
// relocations), `w`'s symbol table, whose first `first_global` entries are local.
Status WriteElf(const std::string& path, std::vector<OutSection>& secs, Writer& w, uint32_t first_global);

}  // namespace graft::kernel
