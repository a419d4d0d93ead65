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

  Result<CellRoute> RouteThroughCell(std::span<const uint8_t> code, uint64_t field) const override;

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


// The thunk keeps every register and flag the instruction does not itself
// change: a pure load into a general register uses that register for the
// address; any other access borrows r8-r11 (one the instruction does not
// touch), saved below the red zone so that leaf code's locals stay intact.
// lea/push/pop/mov leave the flags alone.
Result<CellRoute> X86_64::RouteThroughCell(std::span<const uint8_t> code, uint64_t field) const {
  csh h;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return Err("capstone: cannot open x86_64");
  cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
  cs_insn* insn = cs_malloc(h);
  const uint8_t* p = code.data();
  size_t left = code.size();
  uint64_t addr = 0, start = 0;
  bool found = false;
  while (left > 0) {
    start = addr;
    if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
      p++, left--, addr++;
      continue;
    }
    if (field >= start && field < addr) {
      found = true;
      break;
    }
    if (start > field) break;
  }
  auto done = [&](Result<CellRoute> r) {
    cs_free(insn, 1);
    cs_close(&h);
    return r;
  };
  if (!found) return done(Err("no instruction holds the field at +{:#x}", field));
  const cs_x86& x = insn->detail->x86;
  std::string text = std::string(insn->mnemonic) + " " + insn->op_str;
  uint64_t end = addr;
  // RIP-relative (ModRM mod 00, r/m 101) displacements are always 32 bits;
  // capstone 4 reports the operand size for disp_size under a 0x66 prefix.
  if (x.encoding.disp_offset != field - start || x.encoding.modrm_offset == 0 ||
      (insn->bytes[x.encoding.modrm_offset] & 0xc7) != 0x05)
    return done(Err("'{}' at +{:#x}: the field is not a 32-bit memory displacement", text, start));
  bool rip = false;
  for (uint8_t i = 0; i < x.op_count; i++)
    rip |= x.operands[i].type == X86_OP_MEM && x.operands[i].mem.base == X86_REG_RIP;
  if (!rip) return done(Err("'{}' at +{:#x}: not a PC-relative memory operand", text, start));
  for (uint8_t g = 0; g < insn->detail->groups_count; g++) {
    uint8_t grp = insn->detail->groups[g];
    if (grp == CS_GRP_JUMP || grp == CS_GRP_CALL || grp == CS_GRP_RET || grp == CS_GRP_BRANCH_RELATIVE)
      return done(Err("'{}' at +{:#x}: a branch through a far variable", text, start));
  }
  cs_regs read, written;
  uint8_t nread = 0, nwritten = 0;
  cs_regs_access(h, insn, read, &nread, written, &nwritten);
  auto touches = [&](std::initializer_list<x86_reg> regs) {
    for (uint8_t i = 0; i < nread; i++)
      for (x86_reg r : regs) if (read[i] == r) return true;
    for (uint8_t i = 0; i < nwritten; i++)
      for (x86_reg r : regs) if (written[i] == r) return true;
    return false;
  };
  if (touches({X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL}))
    return done(Err("'{}' at +{:#x}: uses the stack pointer", text, start));
  // Layout: legacy prefixes, optional REX, opcode (1-3 bytes), ModRM, disp32, immediate.
  const uint8_t* b = insn->bytes;
  size_t modrm_at = x.encoding.modrm_offset;
  size_t opcode_len = x.opcode[0] != 0x0f ? 1 : (x.opcode[1] == 0x38 || x.opcode[1] == 0x3a) ? 3 : 2;
  if (modrm_at < opcode_len) return done(Err("'{}' at +{:#x}: unexpected encoding", text, start));
  size_t opcode_at = modrm_at - opcode_len;
  bool has_rex = opcode_at > 0 && (b[opcode_at - 1] & 0xf0) == 0x40;
  size_t legacy_end = has_rex ? opcode_at - 1 : opcode_at;
  for (size_t i = 0; i < legacy_end; i++)
    if (b[i] == 0xc4 || b[i] == 0xc5 || b[i] == 0x62 || b[i] == 0x8f)
      return done(Err("'{}' at +{:#x}: a VEX/EVEX instruction", text, start));
  if (std::memcmp(b + opcode_at, x.opcode, opcode_len) != 0)
    return done(Err("'{}' at +{:#x}: unexpected encoding (VEX/EVEX?)", text, start));
  uint8_t rex = has_rex ? b[opcode_at - 1] : 0;
  uint8_t modrm = b[modrm_at];
  int reg = ((modrm >> 3) & 7) | ((rex & 0x04) ? 8 : 0);
  size_t imm_at = x.encoding.disp_offset + 4;
  // Pure loads that write the whole destination register (32-bit writes zero
  // the upper half): mov, movzx, movsx, movsxd.
  bool rex_w = rex & 0x08;
  bool word_size = std::find(b, b + legacy_end, 0x66) != b + legacy_end;  // 16-bit writes keep the upper bits
  bool pure_load = !word_size && ((opcode_len == 1 && x.opcode[0] == 0x8b) ||
                   (opcode_len == 1 && x.opcode[0] == 0x63 && rex_w) ||
                   (opcode_len == 2 && (x.opcode[1] == 0xb6 || x.opcode[1] == 0xb7 || x.opcode[1] == 0xbe ||
                                        x.opcode[1] == 0xbf)));
  pure_load = pure_load && reg != 4;  // never %rsp
  int base = reg;
  if (!pure_load) {
    base = -1;
    const x86_reg names[4][4] = {{X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B},
                                 {X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B},
                                 {X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B},
                                 {X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B}};
    for (int i = 0; i < 4 && base < 0; i++)
      if (!touches({names[i][0], names[i][1], names[i][2], names[i][3]}) && reg != 11 - i) base = 11 - i;
    if (base < 0) return done(Err("'{}' at +{:#x}: uses r8-r11, no register to borrow", text, start));
    // A REX prefix turns %ah-%bh into %spl-%dil: byte forms without one keep them.
    if (!has_rex && reg >= 4) {
      bool byte_reg = false;
      for (uint8_t i = 0; i < x.op_count; i++) byte_reg |= x.operands[i].type == X86_OP_REG && x.operands[i].size == 1;
      if (byte_reg) return done(Err("'{}' at +{:#x}: a high-byte register operand", text, start));
    }
  }
  // The instruction with (%base) for its memory operand.
  std::vector<uint8_t> moved(b, b + legacy_end);
  uint8_t new_rex = static_cast<uint8_t>((rex & ~0x01) | (base >= 8 ? 0x01 : 0));
  if (has_rex || base >= 8) moved.push_back(new_rex | 0x40);
  moved.insert(moved.end(), b + opcode_at, b + modrm_at);
  uint8_t rm = base & 7;
  if (rm == 5) {
    moved.push_back(static_cast<uint8_t>(0x40 | (modrm & 0x38) | rm));  // mod 01, disp8 0
    moved.push_back(0);
  } else {
    moved.push_back(static_cast<uint8_t>((modrm & 0x38) | rm));
    if (rm == 4) moved.push_back(0x24);  // SIB: base only
  }
  moved.insert(moved.end(), b + imm_at, b + insn->size);

  CellRoute r;
  r.start = start;
  r.end = end;
  r.entry = {0xe9, 0, 0, 0, 0};
  r.entry.resize(end - start, 0xcc);  // never reached: the jump leaves and the thunk returns past them
  r.entry_field = 1;
  r.operand_bias = static_cast<int64_t>(end - field);
  auto& t = r.thunk;
  auto push_pop = [&](uint8_t op) {
    if (base >= 8) t.push_back(0x41);
    t.push_back(static_cast<uint8_t>(op + (base & 7)));
  };
  if (!pure_load) {
    t.insert(t.end(), {0x48, 0x8d, 0x64, 0x24, 0x80});  // lea -0x80(%rsp),%rsp
    push_pop(0x50);
  }
  // mov cell(%rip),%base
  t.push_back(static_cast<uint8_t>(0x48 | (base >= 8 ? 0x04 : 0)));
  t.push_back(0x8b);
  t.push_back(static_cast<uint8_t>(((base & 7) << 3) | 5));
  r.cell_field = t.size();
  t.insert(t.end(), 4, 0);
  t.insert(t.end(), moved.begin(), moved.end());
  if (!pure_load) {
    push_pop(0x58);
    t.insert(t.end(), {0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0});  // lea 0x80(%rsp),%rsp
  }
  t.push_back(0xe9);
  r.back_field = t.size();
  t.insert(t.end(), 4, 0);
  return done(r);
}
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
