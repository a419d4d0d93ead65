// Read-only view of an ELF file (relocatable object, executable or shared
// library) through libelf: sections, symbols, relocations, build-id and the
// STT_FILE grouping of local symbols. Everything later stages need, nothing
// written back.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::elf {

struct Section {
  uint32_t index = 0;
  std::string name;
  uint32_t type = 0;   // SHT_*
  uint64_t flags = 0;  // SHF_*
  uint64_t addr = 0;   // link-time address (0 in objects)
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t align = 1;
  uint64_t entsize = 0;
  uint32_t link = 0;
  uint32_t info = 0;
  std::span<const uint8_t> data;  // empty for SHT_NOBITS

  bool alloc() const;
  bool exec() const;
  bool write() const;
  bool nobits() const;
  bool merge_strings() const;
  bool merge_constants() const;  // .rodata.cst4/8/16: fixed-size entries the linker deduplicates
};

struct Symbol {
  uint32_t index = 0;
  std::string name;
  uint8_t type = 0;  // STT_*
  uint8_t bind = 0;  // STB_*
  uint8_t visibility = 0;
  uint16_t shndx = 0;  // SHN_UNDEF, SHN_ABS, SHN_COMMON or a section index
  uint64_t value = 0;
  uint64_t size = 0;
  std::string file;    // for locals: the STT_FILE group they belong to
  bool dynamic = false;  // from .dynsym rather than .symtab
  bool hidden_version = false;  // .gnu.version marks it non-default (foo@VER, not foo@@VER)

  bool defined() const;
  bool local() const;
};

struct Relocation {
  uint64_t offset = 0;  // within the section it applies to (objects) or vaddr (linked)
  uint32_t type = 0;
  uint32_t symbol = 0;  // index into symbols() (or dynamic_symbols() for dynamic relocs)
  int64_t addend = 0;
};

class ObjectFile {
 public:
  static Result<std::unique_ptr<ObjectFile>> Open(const std::string& path);
  ~ObjectFile();

  const std::string& path() const { return path_; }
  uint16_t type() const { return e_type_; }  // ET_REL, ET_EXEC, ET_DYN
  uint16_t machine() const { return e_machine_; }
  bool relocatable() const;
  const std::vector<Section>& sections() const { return sections_; }
  const std::vector<Symbol>& symbols() const { return symbols_; }
  const std::vector<Symbol>& dynamic_symbols() const { return dynsyms_; }
  // Relocations that apply to section `index` (from its SHT_RELA companion).
  const std::vector<Relocation>& relocations_for(uint32_t index) const;
  // Dynamic relocations (.rela.dyn, .rela.plt) of a linked file; symbol indexes into dynamic_symbols().
  const std::vector<Relocation>& dynamic_relocations() const { return dynrelocs_; }
  const Section* section_named(std::string_view name) const;
  // Hex GNU build-id, empty when the file has none.
  const std::string& build_id() const { return build_id_; }
  // Bytes at link-time address [addr, addr+size) of a linked file; empty if not file-backed.
  std::span<const uint8_t> bytes_at(uint64_t addr, uint64_t size) const;
  // The first STT_FILE name of a relocatable object (its source file).
  const std::string& source_file() const { return source_file_; }
  // Takes the symbol table of `from` (a debug file or an unstripped build of
  // this very file, checked by the caller), each symbol's section matched by
  // name: for a stripped file, whose code is what runs.
  void AdoptSymbols(const ObjectFile& from);
  // Replaces the symbol table with symbols read from elsewhere (a stripped
  // kernel image's symbol map).
  void SetSymbols(std::vector<Symbol> symbols) { symbols_ = std::move(symbols); }
  // The .comment section's text (compiler identification), "" if none.
  std::string Comment() const;

 private:
  ObjectFile() = default;
  Status Load();

  std::string path_;
  std::vector<uint8_t> image_;
  void* elf_ = nullptr;  // Elf*
  uint16_t e_type_ = 0, e_machine_ = 0;
  std::vector<Section> sections_;
  std::vector<Symbol> symbols_, dynsyms_;
  std::map<uint32_t, std::vector<Relocation>> relocs_;
  std::vector<Relocation> dynrelocs_;
  std::string build_id_, source_file_;
};

std::string HexBytes(std::span<const uint8_t> bytes);

}  // namespace graft::elf
