// The patch file: what `graft build` writes and `graft apply` reads. Code and
// data sections with relocations resolved as far as the target file allows
// (link-time addresses); what depends on where things load is left for apply.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::bundle {

struct Reloc {
  enum class Kind : uint8_t {
    kSection,   // another section of this bundle
    kTarget,    // link-time address in the target ELF (apply adds the load bias)
    kExternal,  // a symbol from another loaded library, looked up in the process
    // The 8-byte word at a link-time address of the target as the process
    // holds it: a GOT slot the dynamic linker filled (a TLS module id or
    // offset), plus the addend.
    kTargetWord,
  };
  uint64_t offset = 0;
  uint32_t type = 0;
  int64_t addend = 0;
  Kind kind = Kind::kTarget;
  uint32_t section = 0;
  uint64_t address = 0;
  std::string symbol;  // for kExternal, and for messages
};

struct Section {
  enum class Kind : uint8_t { kText, kRodata, kData, kBss };
  std::string name;
  Kind kind = Kind::kText;
  uint64_t align = 1;
  uint64_t size = 0;
  std::vector<uint8_t> bytes;
  std::vector<Reloc> relocs;
};

struct Function {
  std::string name;
  uint64_t address = 0;            // link-time address of the old code in the target
  uint64_t size = 0;
  uint32_t section = 0;            // the new code
  std::vector<uint8_t> expected;   // the old code as run-pre verified it (bytes of the target)
};

struct Bundle {
  static constexpr uint32_t kFormatVersion = 1;
  std::string id;
  std::string description;
  std::vector<std::string> cves;
  std::string arch = "x86_64";
  std::string target_name;      // basename of the target ELF, for messages
  std::string target_build_id;  // hex GNU build-id; apply matches mappings by it
  std::vector<Section> sections;
  std::vector<Function> functions;
  // Patch levels: ids of earlier patches for the same target that this one
  // replaces. Applying it where one of them is active swaps their functions
  // for this one's in a single stop and removes them.
  std::vector<std::string> supersedes;
  std::vector<std::string> added;
  std::vector<std::string> new_data;
  // Unwind tables of the new code (an .eh_frame section) and the zeroed
  // storage their registration with the process's unwinder uses; -1: none.
  int32_t eh_frame_section = -1;
  int32_t unwind_object_section = -1;
};

// Binary encoding: magic, version, BLAKE2b-256 of the payload, CBOR payload.
std::vector<uint8_t> Encode(const Bundle& b);
Result<Bundle> Decode(const std::vector<uint8_t>& bytes, const std::string& origin);
Status WriteFile(const Bundle& b, const std::string& path);
Result<Bundle> ReadFile(const std::string& path);

// Patch ids name memfd mappings and CLI arguments: [A-Za-z0-9._-]{1,48}.
Status ValidateId(const std::string& id);

}  // namespace graft::bundle
