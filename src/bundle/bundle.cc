// CBOR through nlohmann-json keeps the format self-describing and its parser
// well-tested; the checksum catches truncated or altered files before any of
// their contents is trusted.
#include "bundle/bundle.h"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace graft::bundle {

using nlohmann::json;
static constexpr char kMagic[8] = {'G', 'R', 'A', 'F', 'T', 'B', 'D', 'L'};
static constexpr size_t kHashSize = 32;

static json ToJson(const Bundle& b) {
  json j;
  j["version"] = Bundle::kFormatVersion;
  j["id"] = b.id;
  j["description"] = b.description;
  j["cves"] = b.cves;
  j["supersedes"] = b.supersedes;
  j["arch"] = b.arch;
  j["target_name"] = b.target_name;
  j["target_build_id"] = b.target_build_id;
  j["added"] = b.added;
  j["new_data"] = b.new_data;
  j["unwind"] = {b.eh_frame_section, b.unwind_object_section};
  json secs = json::array();
  for (const Section& s : b.sections) {
    json rs = json::array();
    for (const Reloc& r : s.relocs)
      rs.push_back({r.offset, r.type, r.addend, static_cast<int>(r.kind), r.section, r.address, r.symbol});
    secs.push_back({{"name", s.name}, {"kind", static_cast<int>(s.kind)}, {"align", s.align},
                    {"size", s.size}, {"bytes", json::binary(s.bytes)}, {"relocs", rs}});
  }
  j["sections"] = secs;
  json fns = json::array();
  for (const Function& f : b.functions)
    fns.push_back({{"name", f.name}, {"address", f.address}, {"size", f.size}, {"section", f.section},
                   {"expected", json::binary(f.expected)}});
  j["functions"] = fns;
  return j;
}

static Result<Bundle> FromJson(const json& j) {
  Bundle b;
  try {
    // Every text must be valid UTF-8: it is printed, and written into the
    // process's patch record as JSON (found by link_fuzz.cc: a bundle with a
    // broken description made apply throw).
    (void)j.dump();
    if (j.at("version").get<uint32_t>() != Bundle::kFormatVersion)
      return Err("bundle format version {} is not supported by this graft (wants {})",
                 j.at("version").get<uint32_t>(), Bundle::kFormatVersion);
    b.id = j.at("id");
    b.description = j.at("description");
    b.cves = j.at("cves").get<std::vector<std::string>>();
    if (j.contains("supersedes")) b.supersedes = j.at("supersedes").get<std::vector<std::string>>();
    b.arch = j.at("arch");
    b.target_name = j.at("target_name");
    b.target_build_id = j.at("target_build_id");
    b.added = j.at("added").get<std::vector<std::string>>();
    b.new_data = j.at("new_data").get<std::vector<std::string>>();
    if (j.contains("unwind")) {
      b.eh_frame_section = j.at("unwind").at(0);
      b.unwind_object_section = j.at("unwind").at(1);
    }
    for (const json& s : j.at("sections")) {
      Section sec;
      sec.name = s.at("name");
      int kind = s.at("kind");
      if (kind < 0 || kind > 3) return Err("section {} has unknown kind {}", sec.name, kind);
      sec.kind = static_cast<Section::Kind>(kind);
      sec.align = s.at("align");
      sec.size = s.at("size");
      sec.bytes = s.at("bytes").get_binary();
      if (sec.align == 0 || (sec.align & (sec.align - 1)) || sec.align > 4096)
        return Err("section {} has invalid alignment {}", sec.name, sec.align);
      if (sec.kind != Section::Kind::kBss && sec.bytes.size() != sec.size)
        return Err("section {} is {} bytes but declares {}", sec.name, sec.bytes.size(), sec.size);
      if (sec.size > (1u << 30)) return Err("section {} is implausibly large", sec.name);
      for (const json& r : s.at("relocs")) {
        Reloc rel;
        rel.offset = r.at(0);
        rel.type = r.at(1);
        rel.addend = r.at(2);
        int rk = r.at(3);
        if (rk < 0 || rk > static_cast<int>(Reloc::Kind::kTargetWord))
          return Err("section {}: relocation has unknown kind {}", sec.name, rk);
        rel.kind = static_cast<Reloc::Kind>(rk);
        rel.section = r.at(4);
        rel.address = r.at(5);
        rel.symbol = r.at(6);
        if (rel.offset + 8 > sec.size + 4 || rel.offset >= sec.size)
          return Err("section {}: relocation at +{:#x} lies outside it", sec.name, rel.offset);
        sec.relocs.push_back(std::move(rel));
      }
      b.sections.push_back(std::move(sec));
    }
    for (const json& f : j.at("functions")) {
      Function fn;
      fn.name = f.at("name");
      fn.address = f.at("address");
      fn.size = f.at("size");
      fn.section = f.at("section");
      fn.expected = f.at("expected").get_binary();
      if (fn.section >= b.sections.size()) return Err("function {} names a missing section", fn.name);
      if (b.sections[fn.section].kind != Section::Kind::kText)
        return Err("function {}: its new code is in section {}, which is not code", fn.name,
                   b.sections[fn.section].name);
      if (fn.expected.size() != fn.size)
        return Err("function {}: {} bytes of expected code for a {}-byte function", fn.name, fn.expected.size(),
                   fn.size);
      b.functions.push_back(std::move(fn));
    }
    for (const Section& s : b.sections)
      for (const Reloc& r : s.relocs)
        if (r.kind == Reloc::Kind::kSection && r.section >= b.sections.size())
          return Err("section {}: relocation names missing section {}", s.name, r.section);
  } catch (const json::exception& e) {
    return Err("malformed bundle contents: {}", e.what());
  }
  GRAFT_TRY(ValidateId(b.id));
  for (const std::string& id : b.supersedes) GRAFT_TRY(ValidateId(id));
  if (b.arch != "x86_64") return Err("the bundle is for architecture '{}'; this graft patches x86_64", b.arch);
  if (b.functions.empty() && b.added.empty()) return Err("the bundle replaces and adds nothing");
  for (int32_t u : {b.eh_frame_section, b.unwind_object_section})
    if (u < -1 || u >= static_cast<int32_t>(b.sections.size())) return Err("unwind tables name a missing section");
  if ((b.eh_frame_section < 0) != (b.unwind_object_section < 0)) return Err("unwind tables without storage");
  if (b.eh_frame_section >= 0) {
    const Section& eh = b.sections[b.eh_frame_section];
    const Section& obj = b.sections[b.unwind_object_section];
    if (eh.kind != Section::Kind::kRodata || eh.size < 4)
      return Err("unwind tables: section {} is not a read-only .eh_frame", eh.name);
    if ((obj.kind != Section::Kind::kBss && obj.kind != Section::Kind::kData) || obj.size < 64)
      return Err("unwind tables: their storage {} is not 64 writable bytes", obj.name);
  }
  return b;
}

Status ValidateId(const std::string& id) {
  if (id.empty() || id.size() > 48) return Err("patch id '{}' must be 1 to 48 characters", id);
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return Err("patch id '{}' may only contain letters, digits, '.', '_' and '-'", id);
  return OkStatus();
}

std::vector<uint8_t> Encode(const Bundle& b) {
  std::vector<uint8_t> payload = json::to_cbor(ToJson(b));
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  uint32_t v = Bundle::kFormatVersion;
  out.insert(out.end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 4);
  uint8_t hash[kHashSize];
  crypto_generichash(hash, kHashSize, payload.data(), payload.size(), nullptr, 0);
  out.insert(out.end(), hash, hash + kHashSize);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<Bundle> Decode(const std::vector<uint8_t>& bytes, const std::string& origin) {
  size_t head = 8 + 4 + kHashSize;
  if (bytes.size() < head || std::memcmp(bytes.data(), kMagic, 8) != 0)
    return Err("{}: not a graft bundle (bad magic)", origin);
  uint32_t v;
  std::memcpy(&v, &bytes[8], 4);
  if (v != Bundle::kFormatVersion)
    return Err("{}: bundle format version {} is not supported (this graft reads {})", origin, v,
               Bundle::kFormatVersion);
  uint8_t hash[kHashSize];
  crypto_generichash(hash, kHashSize, bytes.data() + head, bytes.size() - head, nullptr, 0);
  if (std::memcmp(hash, &bytes[12], kHashSize) != 0)
    return Err("{}: checksum mismatch: the bundle is truncated or was altered", origin);
  json j;
  try {
    // Even with exceptions off, the CBOR reader throws for some malformed
    // sizes (found by bundle_fuzz.cc).
    j = json::from_cbor(bytes.begin() + head, bytes.end(), true, false);
  } catch (const json::exception& e) {
    return Err("{}: payload is not valid CBOR: {}", origin, e.what());
  }
  if (j.is_discarded()) return Err("{}: payload is not valid CBOR", origin);
  auto b = FromJson(j);
  if (!b.ok()) return b.error().context(origin);
  return b;
}

Status WriteFile(const Bundle& b, const std::string& path) {
  std::vector<uint8_t> bytes = Encode(b);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Err("{}: cannot write: {}", tmp, std::strerror(errno));
    out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (!out) return Err("{}: write failed", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Err("{}: cannot rename into place", path);
  return OkStatus();
}

Result<Bundle> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err("{}: cannot open: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  return Decode(bytes, path);
}

}  // namespace graft::bundle
