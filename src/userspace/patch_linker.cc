// Placement: a free gap nearest the target object such that the whole patch
// stays within +-2 GiB of the lowest and highest address it must reach
// (the target's mappings, since both calls out and jumps in are rel32).
#include "userspace/patch_linker.h"

#include <ctime>
#include <limits>

#include "arch/arch.h"
#include "userspace/run_until_safe.h"

namespace graft::userspace {

static uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static Result<uint64_t> Place(const std::vector<process::Mapping>& maps, uint64_t size, uint64_t need_lo,
                              uint64_t need_hi) {
  const uint64_t reach = (1ull << 31) - (1ull << 20);
  const uint64_t kMinAddr = 0x10000, kMaxAddr = 0x7ffffffff000ull;
  uint64_t best = 0, best_dist = std::numeric_limits<uint64_t>::max();
  uint64_t prev_end = kMinAddr;
  auto consider = [&](uint64_t gap_lo, uint64_t gap_hi) {
    // Leave a guard page on either side of the patch.
    gap_lo = AlignUp(gap_lo + 4096, 4096);
    if (gap_hi < 4096 || gap_hi - 4096 < gap_lo || gap_hi - 4096 - gap_lo < size) return;
    gap_hi -= 4096;
    uint64_t cand = need_lo > gap_lo ? std::min(need_lo, gap_hi - size) : gap_lo;
    cand = cand > gap_hi - size ? gap_hi - size : cand;
    cand &= ~uint64_t(4095);
    if (cand < gap_lo) return;
    uint64_t lo = std::min(cand, need_lo), hi = std::max(cand + size, need_hi);
    if (hi - lo > reach) return;
    uint64_t dist = cand > need_lo ? cand - need_lo : need_lo - cand;
    if (dist < best_dist) best = cand, best_dist = dist;
  };
  for (const process::Mapping& m : maps) {
    if (m.start > prev_end) consider(prev_end, m.start);
    prev_end = std::max(prev_end, m.end);
  }
  if (prev_end < kMaxAddr) consider(prev_end, kMaxAddr);
  if (!best) return Err("no free address range within 2 GiB of the target for {} bytes of patch", size);
  return best;
}

Result<LinkedPatch> LinkPatch(const bundle::Bundle& b, ProcessImage& image, const LoadedObject& target) {
  const arch::Arch& arch = arch::HostArch();
  PatchRecord rec;
  rec.id = b.id;
  rec.description = b.description;
  rec.cves = b.cves;
  rec.supersedes = b.supersedes;
  rec.target_name = b.target_name;
  rec.target_build_id = b.target_build_id;
  rec.applied_at = std::time(nullptr);
  // A provisional record sizes the record pages (addresses do not change its length much;
  // room for them is reserved by sizing with maximal numbers).
  PatchRecord sizing = rec;
  for (const bundle::Function& f : b.functions) {
    PatchedFunction pf;
    pf.name = f.name;
    pf.site = pf.address = pf.target = pf.size = std::numeric_limits<uint64_t>::max();
    pf.original.assign(arch.JumpSize(), 0);
    pf.jump.assign(arch.JumpSize(), 0);
    sizing.functions.push_back(pf);
  }
  sizing.code_start = sizing.code_size = sizing.data_start = sizing.data_size = sizing.eh_frame =
      sizing.unwind_object = sizing.trap_code = sizing.trap_data = sizing.trap_count =
          std::numeric_limits<uint64_t>::max();
  uint64_t record_size = EncodeRecord(sizing).size();

  std::vector<uint64_t> offset(b.sections.size());
  uint64_t code = record_size;
  for (int pass = 0; pass < 2; pass++)  // text first, then read-only data
    for (size_t i = 0; i < b.sections.size(); i++) {
      bool text = b.sections[i].kind == bundle::Section::Kind::kText;
      bool ro = b.sections[i].kind == bundle::Section::Kind::kRodata;
      if ((pass == 0 && !text) || (pass == 1 && !ro)) continue;
      code = AlignUp(code, b.sections[i].align);
      offset[i] = code;
      code += b.sections[i].size;
    }
  // Return traps for running busy threads out of functions (run_until_safe.h).
  code = AlignUp(code, arch::Arch::kReturnTrapSize);
  const uint64_t trap_code = code;
  code += kReturnTraps * arch::Arch::kReturnTrapSize;
  code = AlignUp(code, 4096);
  uint64_t data = 0;
  for (size_t i = 0; i < b.sections.size(); i++) {
    auto k = b.sections[i].kind;
    if (k != bundle::Section::Kind::kData && k != bundle::Section::Kind::kBss) continue;
    data = AlignUp(data, b.sections[i].align);
    offset[i] = code + data;
    data += b.sections[i].size;
  }
  data = AlignUp(data, 16);
  const uint64_t trap_data = code + data;
  data += kReturnTraps * TrapArea::kCellSize;
  data = AlignUp(data, 4096);

  LinkedPatch lp;
  lp.code_size = code;
  lp.data_size = data;
  GRAFT_ASSIGN(lp.base, Place(image.maps(), code + data, target.lo, target.hi));
  lp.image.assign(code + data, 0);
  for (size_t i = 0; i < b.sections.size(); i++)
    if (b.sections[i].kind != bundle::Section::Kind::kBss)
      std::copy(b.sections[i].bytes.begin(), b.sections[i].bytes.end(), lp.image.begin() + offset[i]);

  for (size_t i = 0; i < b.sections.size(); i++) {
    for (const bundle::Reloc& r : b.sections[i].relocs) {
      uint64_t S = 0;
      switch (r.kind) {
        case bundle::Reloc::Kind::kSection: S = lp.base + offset[r.section]; break;
        case bundle::Reloc::Kind::kTarget: S = r.address + target.bias; break;
        case bundle::Reloc::Kind::kTargetWord: {
          auto w = image.ReadWord(r.address + target.bias);
          if (!w.ok()) return w.error().context(fmt::format("section {}, {}", b.sections[i].name, r.symbol));
          S = *w;
          break;
        }
        case bundle::Reloc::Kind::kExternal: {
          auto a = image.LookupDynamic(r.symbol);
          if (!a.ok()) return a.error().context(fmt::format("section {}", b.sections[i].name));
          S = *a;
          break;
        }
      }
      uint64_t P = lp.base + offset[i] + r.offset;
      if (offset[i] + r.offset + arch.FieldSize(r.type) > lp.image.size())
        return Err("section {}: relocation at +{:#x} is out of bounds", b.sections[i].name, r.offset);
      Status st = arch.Apply(r.type, &lp.image[offset[i] + r.offset], P, S, r.addend);
      if (!st.ok())
        return st.error().context(fmt::format("section {}, reference to {} at +{:#x}", b.sections[i].name,
                                              r.symbol, r.offset));
    }
  }
  const TrapArea traps{lp.base + trap_code, lp.base + trap_data, kReturnTraps};
  for (uint64_t i = 0; i < kReturnTraps; i++) {
    GRAFT_ASSIGN(auto trap, arch.EncodeReturnTrap(traps.Code(i), traps.SavedCell(i), traps.ResumeCell(i)));
    std::copy(trap.begin(), trap.end(), lp.image.begin() + (traps.Code(i) - lp.base));
  }
  rec.trap_code = lp.base + trap_code;
  rec.trap_data = lp.base + trap_data;
  rec.trap_count = kReturnTraps;
  rec.code_start = lp.base;
  rec.code_size = code;
  rec.data_start = lp.base + code;
  rec.data_size = data;
  if (b.eh_frame_section >= 0) {
    rec.eh_frame = lp.base + offset[b.eh_frame_section];
    rec.unwind_object = lp.base + offset[b.unwind_object_section];
  }
  for (const bundle::Function& f : b.functions) {
    PatchedFunction pf;
    pf.name = f.name;
    pf.address = f.address + target.bias;
    pf.size = f.size;
    pf.site = pf.address + arch.EntryPatchOffset(f.expected);
    pf.target = lp.base + offset[f.section];
    uint64_t at = pf.site - pf.address;
    pf.original.assign(f.expected.begin() + at, f.expected.begin() + at + arch.JumpSize());
    GRAFT_ASSIGN(pf.jump, arch.EncodeJump(pf.site, pf.target));
    rec.functions.push_back(std::move(pf));
  }
  std::vector<uint8_t> record = EncodeRecord(rec);
  if (record.size() > record_size) return Err("internal: patch record outgrew its reserved space");
  std::copy(record.begin(), record.end(), lp.image.begin());
  lp.record = std::move(rec);
  return lp;
}

}  // namespace graft::userspace
