// The one interface behind which every architecture-specific detail lives:
// relocation arithmetic, the jump written at an old function's entry, the
// instruction decoding the diff needs, and the linker relaxations run-pre must
// accept. x86_64.cc implements it; an aarch64.cc adds a file, not ifs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace graft::arch {

enum class RelocClass {
  kAbsolute,     // S + A
  kPcRelative,   // S + A - P
  kGotRelative,  // G + A - P: needs a GOT slot holding S
  kTls,          // thread-local storage: see TlsAccess
  kUnsupported,
};

// How a thread-local reference reaches the variable. The offsets are those of
// the module's TLS block the running program already has: patch code must
// use the threads' existing storage, never storage of its own.
enum class TlsAccess {
  kNone,            // not a thread-local relocation
  kLocalExec,       // field = TP offset of the variable + A (executables only)
  kInitialExec,     // PC-relative field to a word holding the TP offset
  kGeneralDynamic,  // PC-relative field to a {module id, offset} pair for __tls_get_addr
  kLocalDynamic,    // PC-relative field to a {module id, 0} pair for __tls_get_addr
  kModuleOffset,    // field = offset of the variable in its module's block + A
  kUnsupported,     // a TLS form graft does not rewrite (descriptors, 64-bit offsets)
};

// One decoded instruction, as layout-tolerant run-pre compares them.
struct Instruction {
  uint32_t offset = 0;       // from the start of the decoded code
  uint32_t size = 0;
  uint32_t opcode = 0;       // arch-specific identity, the same for short and near forms of a branch
  bool padding = false;      // a no-op the assembler may emit in another form or size
  bool relative_branch = false;
  int64_t destination = 0;   // of a relative branch, as an offset from the start of the code
};

// An instruction whose PC-relative memory operand cannot reach its variable
// (a variable of a library mapped far from the patch), moved out of line
// into a thunk that loads the variable's address from an 8-byte cell the
// patch owns and performs the same access through a register. The
// instruction's bytes become `entry`, a jump to the thunk.
struct CellRoute {
  uint64_t start = 0, end = 0;  // the instruction in the code
  std::vector<uint8_t> entry;   // replaces code[start, end)
  size_t entry_field = 0;       // PC-relative 32-bit field in `entry`: the thunk's start (addend -4)
  std::vector<uint8_t> thunk;
  size_t cell_field = 0;        // PC-relative 32-bit field in `thunk`: the cell (addend -4)
  size_t back_field = 0;        // PC-relative 32-bit field in `thunk`: code + end (addend end - 4)
  int64_t operand_bias = 0;     // the cell holds symbol + original addend + operand_bias
};

class Arch {
 public:
  virtual ~Arch() = default;
  virtual std::string_view name() const = 0;

  virtual RelocClass Classify(uint32_t type) const = 0;
  virtual std::string_view RelocName(uint32_t type) const = 0;
  virtual size_t FieldSize(uint32_t type) const = 0;
  virtual TlsAccess TlsAccessOf(uint32_t type) const = 0;
  // Writes the relocated value into `field`; errors when it does not fit.
  // For kLocalExec and kModuleOffset types S is the offset itself.
  virtual Status Apply(uint32_t type, uint8_t* field, uint64_t P, uint64_t S, int64_t A) const = 0;
  // Reads the value a linker wrote in `field` back as the target address it
  // denotes, assuming the relocation resolved directly (P-relative for PC types).
  virtual uint64_t Denoted(uint32_t type, const uint8_t* field, uint64_t P, int64_t A) const = 0;

  // Bytes of the direct jump written at an old function's entry.
  virtual size_t JumpSize() const = 0;
  virtual Result<std::vector<uint8_t>> EncodeJump(uint64_t from, uint64_t to) const = 0;
  // Where in a function the jump goes: past a landing pad (endbr64) so that
  // indirect calls under CET/IBT still land on one.
  virtual size_t EntryPatchOffset(std::span<const uint8_t> code) const = 0;
  // If `code` at `at` is a direct jump written by EncodeJump, its destination.
  virtual bool DecodeJump(std::span<const uint8_t> code, uint64_t at, uint64_t* to) const = 0;

  // A return trap: code at `at` that a busy thread's return address is
  // pointed at so that it stops right after leaving a function, without a
  // breakpoint: it saves the return-value register into `save`, makes the
  // harmless system call ReturnTrapSyscall() (a tracer stops there), puts the
  // register back and jumps to the address stored in `resume`. If the tracer
  // is gone it does the same and the program goes on unharmed.
  static constexpr size_t kReturnTrapSize = 32;
  virtual Result<std::vector<uint8_t>> EncodeReturnTrap(uint64_t at, uint64_t save, uint64_t resume) const = 0;
  virtual long ReturnTrapSyscall() const = 0;
  // Offset in the trap just past its system call instruction, and past the
  // instruction that saves the register.
  virtual size_t ReturnTrapSyscallEnd() const = 0;
  virtual size_t ReturnTrapSaved() const = 0;

  // An indirect jump through an 8-byte literal that follows it (veneer for
  // calls into other shared libraries); *literal_offset is where the address goes.
  virtual std::vector<uint8_t> AbsoluteJumpVeneer(size_t* literal_offset) const = 0;

  // For each byte offset of `code` that starts a relocation field, the distance
  // from the field to the end of its instruction (PC-relative operands count
  // from there). Fails on undecodable code.
  virtual Result<std::vector<std::pair<uint64_t, uint32_t>>> FieldToInstructionEnd(
      std::span<const uint8_t> code, const std::vector<uint64_t>& field_offsets) const = 0;
  // Whether the bytes just before `end` in `code` can be a call instruction,
  // i.e. `end` can be a return address. Errs on the side of "yes" (it is used
  // to find saved return addresses, where a false yes only means caution).
  virtual bool MayEndCall(std::span<const uint8_t> code, size_t end) const = 0;
  // True when the relocation field at `off` is the operand of a direct call or jump.
  virtual bool IsBranchOperand(std::span<const uint8_t> code, uint64_t off) const = 0;

  // Moves the instruction of `code` whose PC-relative 32-bit memory operand
  // field is at `field` out of line (see CellRoute). Fails, naming the
  // instruction, on forms it cannot move (branches, stack-relative ones).
  virtual Result<CellRoute> RouteThroughCell(std::span<const uint8_t> code, uint64_t field) const = 0;

  // Decodes a whole function. Fails on bytes that are not instructions.
  virtual Result<std::vector<Instruction>> Decode(std::span<const uint8_t> code) const = 0;

  // Linker relaxation: does `linked` show `object`'s GOT-indirect instruction
  // (field at `off`) rewritten to its direct form? Sets *direct when so.
  virtual bool MatchesRelaxed(uint32_t type, std::span<const uint8_t> object,
                              std::span<const uint8_t> linked, uint64_t off, bool* direct) const = 0;
};

// The Arch for an ELF e_machine, or an error naming it.
Result<const Arch*> ArchFor(uint16_t e_machine);
const Arch& HostArch();

}  // namespace graft::arch
