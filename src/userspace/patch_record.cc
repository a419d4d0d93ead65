// The record is JSON behind a magic and a length; reading a record never
// trusts it further than comparing its jumps with the process's code.
#include "userspace/patch_record.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "elf/object_file.h"

namespace graft::userspace {

using nlohmann::json;
static constexpr char kMagic[8] = {'G', 'R', 'A', 'F', 'T', 'R', 'E', 'C'};

static std::vector<uint8_t> Unhex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(std::stoi(s.substr(i, 2), nullptr, 16));
  return out;
}

std::vector<uint8_t> EncodeRecord(const PatchRecord& r) {
  json j = {{"id", r.id}, {"description", r.description}, {"cves", r.cves}, {"supersedes", r.supersedes}, {"target_name", r.target_name},
            {"target_build_id", r.target_build_id}, {"code", {r.code_start, r.code_size}},
            {"data", {r.data_start, r.data_size}}, {"applied_at", r.applied_at},
            {"unwind", {r.eh_frame, r.unwind_object}}, {"traps", {r.trap_code, r.trap_data, r.trap_count}}};
  json fns = json::array();
  for (const PatchedFunction& f : r.functions)
    fns.push_back({{"name", f.name}, {"site", f.site}, {"address", f.address}, {"size", f.size},
                   {"target", f.target}, {"original", elf::HexBytes(f.original)}, {"jump", elf::HexBytes(f.jump)}});
  j["functions"] = fns;
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  uint32_t n = text.size();
  std::vector<uint8_t> out(12 + text.size());
  std::memcpy(out.data(), kMagic, 8);
  std::memcpy(out.data() + 8, &n, 4);
  std::memcpy(out.data() + 12, text.data(), text.size());
  out.resize((out.size() + 4095) & ~size_t(4095), 0);
  return out;
}

Result<PatchRecord> DecodeRecord(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kMagic, 8) != 0) return Err("no graft patch record");
  uint32_t n;
  std::memcpy(&n, &bytes[8], 4);
  if (12 + n > bytes.size()) return Err("patch record truncated");
  json j = json::parse(bytes.begin() + 12, bytes.begin() + 12 + n, nullptr, false);
  if (j.is_discarded()) return Err("patch record is not valid JSON");
  PatchRecord r;
  try {
    r.id = j.at("id");
    r.description = j.at("description");
    r.cves = j.at("cves").get<std::vector<std::string>>();
    if (j.contains("supersedes")) r.supersedes = j.at("supersedes").get<std::vector<std::string>>();
    r.target_name = j.at("target_name");
    r.target_build_id = j.at("target_build_id");
    r.code_start = j.at("code").at(0);
    r.code_size = j.at("code").at(1);
    r.data_start = j.at("data").at(0);
    r.data_size = j.at("data").at(1);
    r.applied_at = j.at("applied_at");
    if (j.contains("unwind")) {
      r.eh_frame = j.at("unwind").at(0);
      r.unwind_object = j.at("unwind").at(1);
    }
    if (j.contains("traps")) {
      r.trap_code = j.at("traps").at(0);
      r.trap_data = j.at("traps").at(1);
      r.trap_count = j.at("traps").at(2);
    }
    for (const json& f : j.at("functions")) {
      PatchedFunction pf;
      pf.name = f.at("name");
      pf.site = f.at("site");
      pf.address = f.at("address");
      pf.size = f.at("size");
      pf.target = f.at("target");
      pf.original = Unhex(f.at("original"));
      pf.jump = Unhex(f.at("jump"));
      r.functions.push_back(std::move(pf));
    }
  } catch (const json::exception& e) {
    return Err("patch record malformed: {}", e.what());
  }
  return r;
}

Result<std::vector<AppliedPatch>> ReadAppliedPatches(pid_t pid) {
  GRAFT_ASSIGN(auto maps, process::ReadMaps(pid));
  GRAFT_ASSIGN(process::ProcessMemory mem, process::ProcessMemory::Open(pid));
  std::vector<AppliedPatch> out;
  for (const process::Mapping& m : maps) {
    if (m.path.rfind(kMappingPrefix, 0) != 0 || m.offset != 0 || !m.exec()) continue;
    // The record's length is in its header; a record of any size (hundreds
    // of functions) is read whole, but never past the mapping.
    GRAFT_ASSIGN(auto head, mem.Read(m.start, 12));
    if (std::memcmp(head.data(), kMagic, 8) != 0) continue;
    uint32_t n;
    std::memcpy(&n, &head[8], 4);
    if (12 + uint64_t(n) > m.end - m.start)
      return Err("process {}: the record of patch mapping {} says {} bytes, more than the mapping holds; "
                 "it is damaged", pid, m.path, n);
    GRAFT_ASSIGN(auto all, mem.Read(m.start, 12 + n));
    auto rec = DecodeRecord(all);
    if (!rec.ok()) return rec.error().context(fmt::format("process {}: patch mapping {}", pid, m.path));
    AppliedPatch ap;
    ap.record = std::move(*rec);
    size_t in_place = 0;
    for (const PatchedFunction& f : ap.record.functions) {
      auto now = mem.Read(f.site, f.jump.size());
      if (now.ok() && *now == f.jump) in_place++;
    }
    ap.active = in_place == ap.record.functions.size() && in_place > 0;
    ap.state = ap.active ? "active" : in_place == 0 ? "inactive" : "partial";
    out.push_back(std::move(ap));
  }
  return out;
}



Result<std::vector<process::ExtraUnwindTables>> UnwindTablesOf(pid_t pid, const std::vector<AppliedPatch>& applied) {
  GRAFT_ASSIGN(process::ProcessMemory mem, process::ProcessMemory::Open(pid));
  std::vector<process::ExtraUnwindTables> out;
  for (const AppliedPatch& ap : applied) {
    const PatchRecord& r = ap.record;
    if (!r.eh_frame) continue;
    uint64_t end = r.code_start + r.code_size;
    if (r.eh_frame < r.code_start || r.eh_frame >= end)
      return Err("process {}: patch {}'s unwind tables lie outside its code", pid, r.id);
    GRAFT_ASSIGN(auto bytes, mem.Read(r.eh_frame, end - r.eh_frame));
    // CIE/FDE records are length-prefixed; a zero length ends the table.
    size_t at = 0;
    for (;;) {
      if (at + 4 > bytes.size()) return Err("process {}: patch {}'s unwind tables are not terminated", pid, r.id);
      uint32_t len;
      std::memcpy(&len, &bytes[at], 4);
      if (len == 0 || len == 0xffffffff) break;
      at += 4 + uint64_t(len);
    }
    bytes.resize(at + 4);
    out.push_back({r.code_start, end, r.eh_frame, std::move(bytes)});
  }
  return out;
}

}  // namespace graft::userspace
