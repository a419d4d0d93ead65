// Masking relocation fields before the byte compare is what makes two builds
// of an unchanged function compare equal even though the assembler left
// different addends against renumbered .LC labels in them.
#include "diff/compare.h"

#include <algorithm>
#include <vector>

namespace graft::diff {

static std::vector<uint8_t> Masked(const ObjectModel& m, const Entity& e) {
  auto data = m.SectionOf(e).data;
  std::vector<uint8_t> bytes(data.begin(), data.end());
  if (m.SectionOf(e).nobits()) bytes.assign(m.SectionOf(e).size, 0);
  for (const elf::Relocation& r : m.RelocsOf(e)) {
    size_t n = m.arch().FieldSize(r.type);
    for (size_t i = 0; i < n && r.offset + i < bytes.size(); i++) bytes[r.offset + i] = 0;
  }
  return bytes;
}

static std::vector<elf::Relocation> Sorted(const std::vector<elf::Relocation>& rs) {
  std::vector<elf::Relocation> v = rs;
  std::sort(v.begin(), v.end(), [](auto& x, auto& y) { return x.offset < y.offset; });
  return v;
}

bool EntityComparator::Same(int ea, int eb, std::string* why) {
  if (assumed_.count({ea, eb})) return true;
  assumed_.insert({ea, eb});
  const Entity& x = a_.entities()[ea];
  const Entity& y = b_.entities()[eb];
  bool same = [&] {
    if (x.kind != y.kind) {
      if (why) *why = "kind changed";
      return false;
    }
    const elf::Section& sx = a_.SectionOf(x);
    const elf::Section& sy = b_.SectionOf(y);
    if (sx.size != sy.size) {
      if (why) *why = fmt::format("size changed from {} to {} bytes", sx.size, sy.size);
      return false;
    }
    if (sx.nobits() != sy.nobits() || Masked(a_, x) != Masked(b_, y)) {
      if (why) *why = "contents changed";
      return false;
    }
    auto rx = Sorted(a_.RelocsOf(x)), ry = Sorted(b_.RelocsOf(y));
    if (rx.size() != ry.size()) {
      if (why) *why = "references changed";
      return false;
    }
    for (size_t i = 0; i < rx.size(); i++) {
      if (rx[i].offset != ry[i].offset || rx[i].type != ry[i].type) {
        if (why) *why = fmt::format("reference at +{:#x} changed", rx[i].offset);
        return false;
      }
      if (!SameReference(x, rx[i], y, ry[i], why)) return false;
    }
    return true;
  }();
  if (!same) assumed_.erase({ea, eb});
  return same;
}

bool EntityComparator::SameReference(const Entity& in_a, const elf::Relocation& ra, const Entity& in_b,
                                     const elf::Relocation& rb, std::string* why) {
  Reference x = a_.Resolve(ra), y = b_.Resolve(rb);
  auto differ = [&](std::string_view what) {
    if (why) *why = fmt::format("reference at +{:#x} now points to {}", ra.offset, what);
    return false;
  };
  if (x.external || y.external) {
    if (x.external != y.external || x.name != y.name || ra.addend != rb.addend)
      return differ(y.external ? y.name : "another object");
    return true;
  }
  if (x.entity < 0 || y.entity < 0) return differ("an unknown section");
  const Entity& tx = a_.entities()[x.entity];
  const Entity& ty = b_.entities()[y.entity];
  if (tx.kind != ty.kind) return differ(ty.key);
  bool pc = a_.arch().Classify(ra.type) != arch::RelocClass::kAbsolute;
  switch (tx.kind) {
    case EntityKind::kStrings: {
      int64_t ox = x.offset + (pc ? a_.PcAdjust(in_a, ra.offset) : 0);
      int64_t oy = y.offset + (pc ? b_.PcAdjust(in_b, rb.offset) : 0);
      if (a_.StringAt(tx, ox) != b_.StringAt(ty, oy)) return differ("another string literal");
      return true;
    }
    case EntityKind::kAnonymous:
      if (x.offset != y.offset || !Same(x.entity, y.entity)) return differ("changed compiler data " + ty.key);
      return true;
    default:
      if (tx.key != ty.key || x.offset - int64_t(tx.symbol_offset) != y.offset - int64_t(ty.symbol_offset))
        return differ(ty.key);
      return true;
  }
}

}  // namespace graft::diff
