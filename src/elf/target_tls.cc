// The block layout mirrors glibc's _dl_determine_tlsoffset for the first
// module, which must agree with what the static linker baked into the
// executable's own local-exec accesses.
#include "elf/target_tls.h"

#include <elf.h>

#include <cstring>

namespace graft::elf {

TargetTls::TargetTls(const ObjectFile& file) {
  uint64_t end = 0;
  for (const Section& s : file.sections()) {
    if (!(s.flags & SHF_TLS) || !s.alloc()) continue;
    if (!block_size_ && !end) block_start_ = s.addr;
    block_start_ = std::min(block_start_, s.addr);
    end = std::max(end, s.addr + s.size);
    block_align_ = std::max(block_align_, s.align);
    block_size_ = end - block_start_;
  }
  main_executable_ = file.type() == ET_EXEC;
  if (const Section* dyn = file.section_named(".dynamic")) {
    for (size_t at = 0; at + sizeof(Elf64_Dyn) <= dyn->data.size(); at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      std::memcpy(&d, dyn->data.data() + at, sizeof d);
      if (d.d_tag == DT_FLAGS_1 && (d.d_un.d_val & DF_1_PIE)) main_executable_ = true;
    }
  }
  const auto& dynsyms = file.dynamic_symbols();
  for (const Relocation& r : file.dynamic_relocations()) {
    TlsGotSlot s;
    if (r.type == R_X86_64_TPOFF64) s.kind = TlsGotSlot::Kind::kTpOffset;
    else if (r.type == R_X86_64_DTPMOD64) s.kind = TlsGotSlot::Kind::kModuleId;
    else if (r.type == R_X86_64_DTPOFF64) s.kind = TlsGotSlot::Kind::kModuleOffset;
    else continue;
    s.slot = r.offset;
    s.block_offset = r.addend;
    s.own = r.symbol == 0;
    if (r.symbol != 0 && r.symbol < dynsyms.size()) {
      const Symbol& sym = dynsyms[r.symbol];
      s.symbol = sym.name;
      s.own = sym.defined();
      s.block_offset += sym.value;
    }
    slots_.push_back(s);
  }
}

int64_t TargetTls::ExecutableTpOffset(uint64_t off) const {
  uint64_t align = block_align_ ? block_align_ : 1;
  uint64_t firstbyte = (-(block_start_ & (align - 1))) & (align - 1);
  uint64_t block_offset = (block_size_ - firstbyte + align - 1) / align * align + firstbyte;
  return static_cast<int64_t>(off) - static_cast<int64_t>(block_offset);
}

const TlsGotSlot* TargetTls::Slot(TlsGotSlot::Kind kind, const std::string& symbol) const {
  for (const TlsGotSlot& s : slots_)
    if (s.kind == kind && !symbol.empty() && s.symbol == symbol) return &s;
  return nullptr;
}

const TlsGotSlot* TargetTls::OwnSlot(TlsGotSlot::Kind kind) const {
  for (const TlsGotSlot& s : slots_)
    if (s.kind == kind && s.own) return &s;
  return nullptr;
}

}  // namespace graft::elf
