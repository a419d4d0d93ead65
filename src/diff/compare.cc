// Masking relocation fields before the byte compare is what makes two builds
// of an unchanged function compare equal even though the assembler left
// different addends against renumbered .LC labels in them.
#include "diff/compare.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "diff/renamed_locals.h"

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

std::optional<std::vector<std::pair<int64_t, int64_t>>> ConstantOnlyChanges(const ObjectModel& a, int ea,
                                                                           const ObjectModel& b, int eb) {
  const Entity& x = a.entities()[ea];
  const Entity& y = b.entities()[eb];
  auto dx = a.SectionOf(x).data, dy = b.SectionOf(y).data;
  if (x.kind != EntityKind::kFunction || y.kind != EntityKind::kFunction || dx.size() != dy.size()) return std::nullopt;
  auto rx = Sorted(a.RelocsOf(x)), ry = Sorted(b.RelocsOf(y));
  if (rx.size() != ry.size()) return std::nullopt;
  std::vector<bool> field(dx.size(), false);
  for (size_t i = 0; i < rx.size(); i++) {
    if (rx[i].offset != ry[i].offset || rx[i].type != ry[i].type) return std::nullopt;
    Reference p = a.Resolve(rx[i]), q = b.Resolve(ry[i]);
    if (p.external != q.external || p.offset != q.offset) return std::nullopt;
    if (p.external ? p.name != q.name : a.entities()[p.entity].key != b.entities()[q.entity].key) return std::nullopt;
    for (size_t k = 0; k < a.arch().FieldSize(rx[i].type) && rx[i].offset + k < field.size(); k++)
      field[rx[i].offset + k] = true;
  }
  auto ix = a.arch().Decode(dx), iy = b.arch().Decode(dy);
  if (!ix.ok() || !iy.ok() || ix->size() != iy->size()) return std::nullopt;
  std::vector<std::pair<int64_t, int64_t>> changes;
  for (size_t i = 0; i < ix->size(); i++) {
    const arch::Instruction& p = (*ix)[i];
    const arch::Instruction& q = (*iy)[i];
    if (p.offset != q.offset || p.size != q.size || p.opcode != q.opcode) return std::nullopt;
    bool differs = false;
    for (uint32_t k = 0; k < p.size; k++) {
      size_t at = p.offset + k;
      if (field[at] || dx[at] == dy[at]) continue;
      if (p.size < 4 || k < p.size - 4) return std::nullopt;  // not in the trailing imm32
      differs = true;
    }
    if (!differs) continue;
    int32_t u, v;
    memcpy(&u, dx.data() + p.offset + p.size - 4, 4);
    memcpy(&v, dy.data() + p.offset + p.size - 4, 4);
    changes.push_back({u, v});
  }
  if (changes.empty()) return std::nullopt;
  return changes;
}

std::string FormatConstantChanges(const std::vector<std::pair<int64_t, int64_t>>& changes) {
  std::string s;
  for (size_t k = 0; k < changes.size() && k < 4; k++)
    s += fmt::format("{}{} -> {}", k ? ", " : "", changes[k].first, changes[k].second);
  return changes.size() > 4 ? s + ", ..." : s;
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

// The compiler gives every literal and constant of a pool its own label and
// never edits one in place (a changed value is a new entry), so an entry is
// known by its bytes up to the next label; padding zeros may differ in length,
// but whatever code reads lies within both entries and so reads the same bytes.
std::optional<std::vector<uint8_t>> EntityComparator::PoolItemAt(const ObjectModel& m, int entity,
                                                                 int64_t offset) {
  const Entity& pool = m.entities()[entity];
  const elf::Section& sec = m.SectionOf(pool);
  if (sec.write() || sec.nobits() || !m.RelocsOf(pool).empty()) return std::nullopt;
  auto [it, fresh] = referenced_.try_emplace({&m, entity});
  if (fresh) {
    for (const Entity& e : m.entities())
      for (const elf::Relocation& r : m.RelocsOf(e)) {
        Reference ref = m.Resolve(r);
        if (ref.external || ref.entity != entity) continue;
        bool pc = m.arch().Classify(r.type) != arch::RelocClass::kAbsolute;
        it->second.insert(ref.offset + (pc && e.kind == EntityKind::kFunction ? m.PcAdjust(e, r.offset) : 0));
      }
  }
  auto next = it->second.upper_bound(offset);
  size_t end = next == it->second.end() ? sec.data.size() : static_cast<size_t>(*next);
  if (offset < 0 || static_cast<size_t>(offset) >= end || end > sec.data.size()) return std::nullopt;
  while (end > static_cast<size_t>(offset) && sec.data[end - 1] == 0) end--;
  return std::vector<uint8_t>(sec.data.begin() + offset, sec.data.begin() + end);
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
  if (x.entity < 0 && y.entity < 0) {
    if (SameRawPlace(in_a, ra, in_b, rb)) return true;
    auto place = b_.RawPlaceOf(rb);
    return differ("another place in " + (place ? place->section_name : std::string("an unknown section")));
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
    case EntityKind::kAnonymous: {
      if (x.offset == y.offset && Same(x.entity, y.entity)) return true;
      int64_t ox = x.offset + (pc && in_a.kind == EntityKind::kFunction ? a_.PcAdjust(in_a, ra.offset) : 0);
      int64_t oy = y.offset + (pc && in_b.kind == EntityKind::kFunction ? b_.PcAdjust(in_b, rb.offset) : 0);
      // Equal constants are one to the linker wherever they sit in the pool:
      // a constant the fix adds elsewhere must not make this code differ.
      if (a_.SectionOf(tx).merge_constants() && b_.SectionOf(ty).merge_constants()) {
        if (a_.ConstantAt(tx, ox) != b_.ConstantAt(ty, oy)) return differ("another constant in " + ty.key);
        return true;
      }
      // An unchanged literal or constant in a pool where others changed (or moved).
      auto ix = PoolItemAt(a_, x.entity, ox), iy = PoolItemAt(b_, y.entity, oy);
      if (ix && iy && *ix == *iy) return true;
      return differ("changed compiler data " + ty.key);
    }
    default:
      if (!SameVariable(x.entity, y.entity) ||
          x.offset - int64_t(tx.symbol_offset) != y.offset - int64_t(ty.symbol_offset))
        return differ(ty.key);
      return true;
  }
}

bool EntityComparator::SameVariable(int ea, int eb) const {
  if (renamed_) {
    auto it = renamed_->find(eb);
    if (it != renamed_->end()) return it->second == ea;
    if (claimed_.count(ea)) return false;  // that name now belongs to another variable
  }
  return a_.entities()[ea].key == b_.entities()[eb].key;
}

namespace {

// A pr_debug() descriptor as what it prints: the strings it points at
// (module, function, file, format). Its line number is left out: lines the
// fix adds above a function move it without changing what the code does.
std::string DescriptorText(const ObjectModel& m, const RawPlace& p) {
  const elf::ObjectFile& obj = m.object();
  uint64_t begin = p.offset - p.into_symbol, end = begin + 1;
  for (const elf::Symbol& s : obj.symbols())
    if (s.shndx == p.section && s.name == p.symbol) end = s.value + std::max<uint64_t>(s.size, 1);
  std::string text = std::to_string(p.into_symbol) + ":";
  for (const elf::Relocation& r : obj.relocations_for(p.section)) {
    if (r.offset < begin || r.offset >= end || r.symbol >= obj.symbols().size()) continue;
    const elf::Symbol& t = obj.symbols()[r.symbol];
    text += std::to_string(r.offset - begin) + "=";
    if (!t.defined() || t.shndx >= obj.sections().size()) {
      text += t.name + ";";
      continue;
    }
    auto data = obj.sections()[t.shndx].data;
    for (uint64_t at = (t.type == STT_SECTION ? 0 : t.value) + r.addend; at < data.size() && data[at]; at++)
      text += static_cast<char>(data[at]);
    text += ";";
  }
  return text;
}

// A static_cpu_has() fallback as what it does: its bytes outside relocation
// fields, and where each relocation goes (back into the referring function
// by offset, or elsewhere by name).
std::string SnippetText(const ObjectModel& m, const Entity& from, const elf::Relocation& r, const RawPlace& p) {
  const elf::ObjectFile& obj = m.object();
  bool pc = m.arch().Classify(r.type) != arch::RelocClass::kAbsolute;
  uint64_t start = p.offset + (pc && from.kind == EntityKind::kFunction ? m.PcAdjust(from, r.offset) : 0);
  uint64_t end = SnippetEnd(obj, p.section, start);
  auto data = obj.sections()[p.section].data;
  if (start > end || end > data.size()) return "?";
  std::vector<uint8_t> bytes(data.begin() + start, data.begin() + end);
  std::string text;
  for (const elf::Relocation& rr : obj.relocations_for(p.section)) {
    if (rr.offset < start || rr.offset >= end || rr.symbol >= obj.symbols().size()) continue;
    for (size_t k = 0; k < m.arch().FieldSize(rr.type) && rr.offset - start + k < bytes.size(); k++)
      bytes[rr.offset - start + k] = 0;
    const elf::Symbol& t = obj.symbols()[rr.symbol];
    int64_t at = (t.type == STT_SECTION ? 0 : static_cast<int64_t>(t.value)) + rr.addend;
    text += fmt::format("{}:{}=", rr.offset - start, rr.type);
    if (t.shndx == from.section) text += fmt::format("self+{};", at);
    else if (!t.defined()) text += t.name + fmt::format("+{};", rr.addend);
    else text += (t.type == STT_SECTION ? obj.sections()[t.shndx].name : t.name) + fmt::format("+{};", at);
  }
  return elf::HexBytes(bytes) + "|" + text;
}

}  // namespace

bool EntityComparator::SameRawPlace(const Entity& in_a, const elf::Relocation& ra, const Entity& in_b,
                                    const elf::Relocation& rb) {
  auto px = a_.RawPlaceOf(ra), py = b_.RawPlaceOf(rb);
  if (!px || !py || px->section_name != py->section_name) return false;
  if (px->section_name == "__dyndbg") return DescriptorText(a_, *px) == DescriptorText(b_, *py);
  if (px->section_name == ".altinstr_aux") return SnippetText(a_, in_a, ra, *px) == SnippetText(b_, in_b, rb, *py);
  // Anything else by the symbol there (a static call trampoline, __SCT__*).
  if (px->symbol.empty() || py->symbol.empty()) return false;
  return StripNumericSuffix(px->symbol) == StripNumericSuffix(py->symbol) && px->into_symbol == py->into_symbol;
}

}  // namespace graft::diff
