// x86_64: rel32 jumps (so patch code must sit within +-2 GiB of what it
// reaches), endbr64 landing pads, and the GOTPCRELX relaxations GNU ld and lld
// apply to `mov foo@GOTPCREL(%rip)` and `call *foo@GOTPCREL(%rip)`.
#include <capstone/capstone.h>
#include <elf.h>

#include <algorithm>
#include <cstring>

#include "arch/arch.h"

namespace graft::arch {
namespace {

class X86_64 final : public Arch {
 public:
  std::string_view name() const override { return "x86_64"; }

  RelocClass Classify(uint32_t type) const override {
    switch (type) {
      case R_X86_64_64:
      case R_X86_64_32:
      case R_X86_64_32S:
        return RelocClass::kAbsolute;
      case R_X86_64_PC32:
      case R_X86_64_PLT32:
      case R_X86_64_PC64:
        return RelocClass::kPcRelative;
      case R_X86_64_GOTPCREL:
      case R_X86_64_GOTPCRELX:
      case R_X86_64_REX_GOTPCRELX:
        return RelocClass::kGotRelative;
      case R_X86_64_TPOFF32:
      case R_X86_64_GOTTPOFF:
      case R_X86_64_TLSGD:
      case R_X86_64_TLSLD:
      case R_X86_64_DTPOFF32:
      case R_X86_64_DTPOFF64:
      case R_X86_64_TPOFF64:
      case R_X86_64_GOTPC32_TLSDESC:
      case R_X86_64_TLSDESC_CALL:
        return RelocClass::kTls;
      default:
        return RelocClass::kUnsupported;
    }
  }

  std::string_view RelocName(uint32_t type) const override {
    switch (type) {
      case R_X86_64_64: return "R_X86_64_64";
      case R_X86_64_32: return "R_X86_64_32";
      case R_X86_64_32S: return "R_X86_64_32S";
      case R_X86_64_PC32: return "R_X86_64_PC32";
      case R_X86_64_PLT32: return "R_X86_64_PLT32";
      case R_X86_64_PC64: return "R_X86_64_PC64";
      case R_X86_64_GOTPCREL: return "R_X86_64_GOTPCREL";
      case R_X86_64_GOTPCRELX: return "R_X86_64_GOTPCRELX";
      case R_X86_64_REX_GOTPCRELX: return "R_X86_64_REX_GOTPCRELX";
      case R_X86_64_TPOFF32: return "R_X86_64_TPOFF32";
      case R_X86_64_GOTTPOFF: return "R_X86_64_GOTTPOFF";
      case R_X86_64_TLSGD: return "R_X86_64_TLSGD";
      case R_X86_64_TLSLD: return "R_X86_64_TLSLD";
      case R_X86_64_DTPOFF32: return "R_X86_64_DTPOFF32";
      case R_X86_64_DTPOFF64: return "R_X86_64_DTPOFF64";
      case R_X86_64_TPOFF64: return "R_X86_64_TPOFF64";
      case R_X86_64_GOTPC32_TLSDESC: return "R_X86_64_GOTPC32_TLSDESC";
      case R_X86_64_TLSDESC_CALL: return "R_X86_64_TLSDESC_CALL";
      default: return "R_X86_64_(other)";
    }
  }

  size_t FieldSize(uint32_t type) const override {
    return (type == R_X86_64_64 || type == R_X86_64_PC64) ? 8 : 4;
  }

  TlsAccess TlsAccessOf(uint32_t type) const override {
    switch (type) {
      case R_X86_64_TPOFF32: return TlsAccess::kLocalExec;
      case R_X86_64_GOTTPOFF: return TlsAccess::kInitialExec;
      case R_X86_64_TLSGD: return TlsAccess::kGeneralDynamic;
      case R_X86_64_TLSLD: return TlsAccess::kLocalDynamic;
      case R_X86_64_DTPOFF32: return TlsAccess::kModuleOffset;
      case R_X86_64_DTPOFF64:
      case R_X86_64_TPOFF64:
      case R_X86_64_GOTPC32_TLSDESC:
      case R_X86_64_TLSDESC_CALL:
        return TlsAccess::kUnsupported;
      default:
        return TlsAccess::kNone;
    }
  }

  Status Apply(uint32_t type, uint8_t* field, uint64_t P, uint64_t S, int64_t A) const override {
    RelocClass c = Classify(type);
    TlsAccess tls = TlsAccessOf(type);
    bool offset = tls == TlsAccess::kLocalExec || tls == TlsAccess::kModuleOffset;
    if ((c == RelocClass::kTls && !offset) || c == RelocClass::kUnsupported)
      return Err("relocation {} is not supported", RelocName(type));
    uint64_t v = (c == RelocClass::kAbsolute || offset) ? S + A : S + A - P;
    if (FieldSize(type) == 8) {
      std::memcpy(field, &v, 8);
      return OkStatus();
    }
    int64_t sv = static_cast<int64_t>(v);
    if (type == R_X86_64_32) {
      if (v > UINT32_MAX) return Err("{} value {:#x} does not fit in 32 bits", RelocName(type), v);
    } else if (sv < INT32_MIN || sv > INT32_MAX) {
      return Err("{} displacement {:#x} is out of +-2 GiB reach", RelocName(type), v);
    }
    uint32_t v32 = static_cast<uint32_t>(v);
    std::memcpy(field, &v32, 4);
    return OkStatus();
  }

  uint64_t Denoted(uint32_t type, const uint8_t* field, uint64_t P, int64_t A) const override {
    int64_t v;
    if (FieldSize(type) == 8) {
      std::memcpy(&v, field, 8);
    } else if (type == R_X86_64_32) {
      uint32_t u;
      std::memcpy(&u, field, 4);
      v = u;
    } else {
      int32_t s;
      std::memcpy(&s, field, 4);
      v = s;
    }
    RelocClass c = Classify(type);
    if (c == RelocClass::kAbsolute) return v - A;
    return v - A + P;
  }

  size_t JumpSize() const override { return 5; }

  Result<std::vector<uint8_t>> EncodeJump(uint64_t from, uint64_t to) const override {
    int64_t d = static_cast<int64_t>(to - (from + 5));
    if (d < INT32_MIN || d > INT32_MAX)
      return Err("jump from {:#x} to {:#x} is out of rel32 reach", from, to);
    std::vector<uint8_t> j(5);
    j[0] = 0xe9;
    int32_t d32 = static_cast<int32_t>(d);
    std::memcpy(&j[1], &d32, 4);
    return j;
  }

  size_t EntryPatchOffset(std::span<const uint8_t> code) const override {
    static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
    if (code.size() >= 4 && std::equal(endbr64, endbr64 + 4, code.begin())) return 4;
    return 0;
  }

  bool DecodeJump(std::span<const uint8_t> code, uint64_t at, uint64_t* to) const override {
    if (code.size() < 5 || code[0] != 0xe9) return false;
    int32_t d;
    std::memcpy(&d, &code[1], 4);
    *to = at + 5 + d;
    return true;
  }

  Result<std::vector<uint8_t>> EncodeReturnTrap(uint64_t at, uint64_t save, uint64_t resume) const override {
    // mov %rax,save(%rip); mov $24,%eax (sched_yield); syscall; mov save(%rip),%rax; jmp *resume(%rip)
    std::vector<uint8_t> t = {0x48, 0x89, 0x05, 0, 0, 0, 0, 0xb8, 24, 0, 0, 0, 0x0f, 0x05,
                              0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xff, 0x25, 0, 0, 0, 0};
    auto rel = [&](size_t field, uint64_t end, uint64_t to) -> Status {
      int64_t d = static_cast<int64_t>(to - (at + end));
      if (d < INT32_MIN || d > INT32_MAX) return Err("return trap at {:#x}: {:#x} is out of rel32 reach", at, to);
      int32_t d32 = static_cast<int32_t>(d);
      std::memcpy(&t[field], &d32, 4);
      return OkStatus();
    };
    GRAFT_TRY(rel(3, 7, save));
    GRAFT_TRY(rel(17, 21, save));
    GRAFT_TRY(rel(23, 27, resume));
    t.resize(kReturnTrapSize, 0xcc);  // never reached: the jmp above leaves
    return t;
  }
  long ReturnTrapSyscall() const override { return 24; }  // SYS_sched_yield
  size_t ReturnTrapSyscallEnd() const override { return 14; }
  size_t ReturnTrapSaved() const override { return 7; }

  std::vector<uint8_t> AbsoluteJumpVeneer(size_t* literal_offset) const override {
    // jmp *0(%rip); .quad target
    *literal_offset = 6;
    return {0xff, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  }

  Result<std::vector<std::pair<uint64_t, uint32_t>>> FieldToInstructionEnd(
      std::span<const uint8_t> code, const std::vector<uint64_t>& fields) const override {
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return Err("capstone: cannot open x86_64");
    std::vector<std::pair<uint64_t, uint32_t>> out;
    std::vector<uint64_t> sorted = fields;
    std::sort(sorted.begin(), sorted.end());
    size_t next = 0;
    const uint8_t* p = code.data();
    size_t left = code.size();
    uint64_t addr = 0;
    cs_insn* insn = cs_malloc(h);
    while (next < sorted.size() && left > 0) {
      uint64_t start = addr;
      if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
        // Not code we understand (data in text?); skip one byte and resync.
        p++, left--, addr++;
        continue;
      }
      while (next < sorted.size() && sorted[next] < addr) {
        if (sorted[next] >= start) out.push_back({sorted[next], static_cast<uint32_t>(addr - sorted[next])});
        next++;
      }
    }
    cs_free(insn, 1);
    cs_close(&h);
    return out;
  }

  Result<std::vector<Instruction>> Decode(std::span<const uint8_t> code) const override {
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return Err("capstone: cannot open x86_64");
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    std::vector<Instruction> out;
    const uint8_t* p = code.data();
    size_t left = code.size();
    uint64_t addr = 0;
    cs_insn* insn = cs_malloc(h);
    bool ok = true;
    while (left > 0) {
      uint64_t start = addr;
      if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
        ok = false;
        break;
      }
      Instruction in;
      in.offset = static_cast<uint32_t>(start);
      in.size = insn->size;
      in.opcode = insn->id;
      // nop, nopw/nopl with any prefixes, and `xchg %ax,%ax` (66 90) pad to alignment.
      in.padding = insn->id == X86_INS_NOP || (insn->size == 2 && insn->bytes[0] == 0x66 && insn->bytes[1] == 0x90);
      const cs_detail* d = insn->detail;
      bool branch = false;
      for (uint8_t g = 0; g < d->groups_count; g++)
        branch |= d->groups[g] == CS_GRP_BRANCH_RELATIVE;
      if (branch && d->x86.op_count == 1 && d->x86.operands[0].type == X86_OP_IMM) {
        in.relative_branch = true;
        in.destination = d->x86.operands[0].imm;
      }
      out.push_back(in);
    }
    cs_free(insn, 1);
    cs_close(&h);
    if (!ok) return Err("undecodable instruction at +{:#x}", addr);
    return out;
  }

  bool MayEndCall(std::span<const uint8_t> code, size_t end) const override {
    auto at = [&](size_t back) -> int { return end >= back && end - back < code.size() ? code[end - back] : -1; };
    if (at(5) == 0xe8) return true;  // call rel32
    // call r/m64 (ff /2): 2 bytes (register, or memory via a base register),
    // 3 (disp8), 6 (disp32 or rip-relative), 7 (SIB + disp32), plus a REX prefix.
    for (size_t len : {2u, 3u, 4u, 6u, 7u, 8u}) {
      if (at(len) != 0xff) continue;
      int modrm = at(len - 1);
      if (modrm >= 0 && ((modrm >> 3) & 7) == 2) return true;
    }
    return false;
  }

  bool IsBranchOperand(std::span<const uint8_t> code, uint64_t off) const override {
    return off >= 1 && off + 4 <= code.size() && (code[off - 1] == 0xe8 || code[off - 1] == 0xe9);
  }

  bool MatchesRelaxed(uint32_t type, std::span<const uint8_t> object, std::span<const uint8_t> linked,
                      uint64_t off, bool* direct) const override {
    *direct = false;
    if (type != R_X86_64_GOTPCRELX && type != R_X86_64_REX_GOTPCRELX) return false;
    if (off < 2) return false;
    uint8_t op = object[off - 2], modrm = object[off - 1];
    // mov foo@GOTPCREL(%rip), %reg  ->  lea foo(%rip), %reg
    if (op == 0x8b && linked[off - 2] == 0x8d && linked[off - 1] == modrm) {
      *direct = true;
      return true;
    }
    // call/jmp *foo@GOTPCREL(%rip)  ->  addr32 call foo / jmp foo; nop
    if (op == 0xff && modrm == 0x15 && linked[off - 2] == 0x67 && linked[off - 1] == 0xe8) {
      *direct = true;
      return true;
    }
    return false;
  }
};

}  // namespace

const Arch& HostArch() {
  static const X86_64 x86_64;
  return x86_64;
}

Result<const Arch*> ArchFor(uint16_t e_machine) {
  if (e_machine == EM_X86_64) return &HostArch();
  return Err("ELF machine {} is not supported yet (graft supports x86_64)", e_machine);
}

}  // namespace graft::arch
