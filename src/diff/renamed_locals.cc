#include "diff/renamed_locals.h"

#include <algorithm>
#include <cctype>

namespace graft::diff {

std::string StripNumericSuffix(const std::string& name) {
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size()) return name;
  for (size_t i = dot + 1; i < name.size(); i++)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return name;
  return name.substr(0, dot);
}

std::vector<std::pair<int, int>> MatchRenamedLocals(const std::vector<LocalCandidate>& orig,
                                                    const std::vector<LocalCandidate>& patched) {
  std::vector<std::pair<int, int>> out;
  std::vector<bool> used_o(orig.size()), used_p(patched.size());
  auto alike = [&](size_t i, size_t j) {
    return orig[i].stripped == patched[j].stripped && orig[i].kind == patched[j].kind &&
           orig[i].size == patched[j].size;
  };
  // By anchor: an anchor held by one candidate on each side names one variable.
  std::map<std::pair<std::string, int>, std::vector<int>> by_anchor_o, by_anchor_p;
  for (size_t i = 0; i < orig.size(); i++)
    for (const auto& a : orig[i].anchors) by_anchor_o[{orig[i].stripped + "\n" + a.first, a.second}].push_back(i);
  for (size_t j = 0; j < patched.size(); j++)
    for (const auto& a : patched[j].anchors)
      by_anchor_p[{patched[j].stripped + "\n" + a.first, a.second}].push_back(j);
  for (const auto& [anchor, os] : by_anchor_o) {
    auto ps = by_anchor_p.find(anchor);
    if (os.size() != 1 || ps == by_anchor_p.end() || ps->second.size() != 1) continue;
    int i = os[0], j = ps->second[0];
    if (used_o[i] || used_p[j] || !alike(i, j)) continue;
    used_o[i] = used_p[j] = true;
    out.push_back({i, j});
  }
  // By contents, among what is left: `__func__` holds its function's name;
  // zero-size or zero-filled variables only pair when one of each remains.
  for (size_t i = 0; i < orig.size(); i++) {
    if (used_o[i]) continue;
    int match = -1, matches = 0;
    for (size_t j = 0; j < patched.size(); j++)
      if (!used_p[j] && alike(i, j) && patched[j].content == orig[i].content) match = j, matches++;
    if (matches != 1) continue;
    int rivals = 0;  // another original the same match would fit
    for (size_t k = 0; k < orig.size(); k++)
      rivals += !used_o[k] && alike(k, match) && orig[k].content == patched[match].content;
    if (rivals != 1) continue;
    used_o[i] = used_p[match] = true;
    out.push_back({static_cast<int>(i), match});
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// Numbered locals whose key is still numbered (the suffix-less name is not
// unique in this build) or has no namesake in the other build.
std::vector<int> Numbered(const ObjectModel& m, const ObjectModel& other) {
  std::vector<int> v;
  for (size_t i = 0; i < m.entities().size(); i++) {
    const Entity& e = m.entities()[i];
    if (!e.local || e.symbol.empty() || StripNumericSuffix(e.symbol) == e.symbol) continue;
    if (e.kind != EntityKind::kData && e.kind != EntityKind::kConstant) continue;
    const Entity* twin = other.Find(e.key);
    if (e.key == e.symbol || !twin || twin->kind != e.kind) v.push_back(i);
  }
  return v;
}

std::vector<LocalCandidate> Describe(const ObjectModel& m, const std::vector<int>& which) {
  std::map<int, size_t> slot;
  std::vector<LocalCandidate> out;
  for (int i : which) {
    const Entity& e = m.entities()[i];
    const elf::Section& s = m.SectionOf(e);
    LocalCandidate c;
    c.stripped = StripNumericSuffix(e.symbol);
    c.kind = e.kind;
    c.size = s.size;
    if (!s.nobits()) c.content.assign(s.data.begin(), s.data.end());
    slot[i] = out.size();
    out.push_back(std::move(c));
  }
  for (const Entity& from : m.entities()) {
    std::vector<elf::Relocation> relocs = m.RelocsOf(from);
    std::sort(relocs.begin(), relocs.end(), [](auto& x, auto& y) { return x.offset < y.offset; });
    std::map<std::string, int> ordinal;  // per stripped name
    for (const elf::Relocation& r : relocs) {
      Reference ref = m.Resolve(r);
      if (ref.external || ref.entity < 0) continue;
      auto it = slot.find(ref.entity);
      if (it == slot.end()) continue;
      LocalCandidate& c = out[it->second];
      c.anchors.insert({from.key, ordinal[c.stripped]++});
    }
  }
  return out;
}

}  // namespace

std::map<int, int> CorrelateRenamedLocals(const ObjectModel& orig, const ObjectModel& patched) {
  std::vector<int> o = Numbered(orig, patched), p = Numbered(patched, orig);
  std::map<int, int> out;
  if (o.empty() || p.empty()) return out;
  for (auto [i, j] : MatchRenamedLocals(Describe(orig, o), Describe(patched, p))) out[p[j]] = o[i];
  return out;
}

}  // namespace graft::diff
