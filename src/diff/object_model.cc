// Entities come from allocatable sections. With -ffunction-sections and
// -fdata-sections every function and variable has its own section, which is
// what makes a per-function diff possible; objects built without them are
// refused up front with a message saying which flags to add.
#include "diff/object_model.h"

#include "diff/renamed_locals.h"

#include <elf.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace graft::diff {

namespace {

bool IsKernelCodeTable(const std::string& name) {
  static const char* const kTables[] = {
      ".altinstr_replacement", ".altinstr_aux", ".altinstructions", "__ex_table", "__bug_table", "__jump_table",
      ".static_call_sites", "__mcount_loc", "__patchable_function_entries", ".return_sites", ".retpoline_sites",
      ".call_sites", ".orc_unwind", ".orc_unwind_ip", ".smp_locks", ".ibt_endbr_seal", ".static_call.text",
      ".parainstructions",
      // Dynamic debug descriptors: one section for all of a file's pr_debug()
      // sites, each descriptor owned by the function that prints it.
      "__dyndbg"};
  for (const char* t : kTables)
    if (name == t) return true;
  return name.rfind(".discard", 0) == 0;
}

}  // namespace

std::string_view KindName(EntityKind k) {
  switch (k) {
    case EntityKind::kFunction: return "function";
    case EntityKind::kData: return "variable";
    case EntityKind::kConstant: return "constant";
    case EntityKind::kAnonymous: return "compiler data";
    case EntityKind::kStrings: return "string literals";
  }
  return "?";
}

static bool StartsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// `static const void *ops[] = {&&a, &&b}` in position-independent code: the
// compiler puts it in .data.rel.ro (writable only until the loader has
// relocated it), and every entry is a place inside a function, not its
// entry. Nothing writes it at run time, so it is a constant, carried with the
// function whose labels it holds instead of refused as changed state.
bool ObjectModel::IsLabelTable(const elf::Section& s, const std::map<uint32_t, const elf::Symbol*>& primary) const {
  if (!StartsWith(s.name, ".data.rel.ro")) return false;
  const auto& relocs = obj_.relocations_for(s.index);
  if (relocs.empty()) return false;
  for (const elf::Relocation& r : relocs) {
    if (r.symbol >= obj_.symbols().size()) return false;
    const elf::Symbol& t = obj_.symbols()[r.symbol];
    if (!t.defined() || t.shndx >= obj_.sections().size() || !obj_.sections()[t.shndx].exec()) return false;
    auto fn = primary.find(t.shndx);
    int64_t at = (t.type == STT_SECTION ? 0 : static_cast<int64_t>(t.value)) + r.addend;
    if (fn == primary.end() || at == static_cast<int64_t>(fn->second->value)) return false;
  }
  return true;
}

Result<std::unique_ptr<ObjectModel>> ObjectModel::Build(const elf::ObjectFile& obj, const arch::Arch& arch) {
  if (!obj.relocatable()) return Err("{}: not a relocatable object (.o)", obj.path());
  std::unique_ptr<ObjectModel> m(new ObjectModel(obj, arch));
  GRAFT_TRY(m->Load());
  return m;
}

Status ObjectModel::Load() {
  const auto& secs = obj_.sections();
  const auto& syms = obj_.symbols();
  // Primary symbol of each section: a global beats a local, a named object beats NOTYPE labels.
  std::map<uint32_t, const elf::Symbol*> primary;
  for (const elf::Symbol& s : syms) {
    if (!s.defined() || s.shndx >= secs.size() || s.name.empty()) continue;
    if (s.type != STT_FUNC && s.type != STT_OBJECT && s.type != STT_GNU_IFUNC && s.type != STT_TLS) continue;
    const elf::Symbol*& p = primary[s.shndx];
    if (!p || (p->local() && !s.local()) || (p->value > s.value && p->local() == s.local())) p = &s;
  }
  std::set<uint32_t> init_sections;
  for (const elf::Section& s : secs) {
    if (s.type != SHT_INIT_ARRAY && s.type != SHT_FINI_ARRAY && s.type != SHT_PREINIT_ARRAY &&
        s.name != ".ctors" && s.name != ".dtors")
      continue;
    for (const elf::Relocation& r : obj_.relocations_for(s.index))
      if (r.symbol < syms.size()) init_sections.insert(syms[r.symbol].shndx);
  }

  size_t text_sections = 0;
  for (const elf::Section& s : secs) {
    // Zero-size variables are entities too (a lockdep key without lockdep,
    // `static struct lock_class_key __key`): code passes their address.
    if (!s.alloc() || (s.size == 0 && !primary.count(s.index)) || s.type == SHT_NOTE || s.type == SHT_GROUP)
      continue;
    if (s.type == SHT_INIT_ARRAY || s.type == SHT_FINI_ARRAY || s.type == SHT_PREINIT_ARRAY) continue;
    if (s.name == ".eh_frame" || StartsWith(s.name, ".note")) continue;
    // Kernel tables that describe code (exception, bug, alternatives, ftrace,
    // ORC, ... entries) and the alternatives' replacement instructions: not
    // functions or variables but facts about them; the kernel back end reads
    // them from the raw sections (kernel/patch_object.cc).
    if (IsKernelCodeTable(s.name)) continue;
    Entity e;
    e.section = s.index;
    auto p = primary.find(s.index);
    if (s.exec()) {
      text_sections++;
      if (p == primary.end())
        return Err("{}: code section {} has no function symbol (hand-written assembly?)", obj_.path(), s.name);
      e.kind = EntityKind::kFunction;
    } else if (s.merge_strings()) {
      e.kind = EntityKind::kStrings;
    } else if (s.write() && p != primary.end() && IsLabelTable(s, primary)) {
      e.kind = EntityKind::kConstant;
    } else if (s.write()) {
      e.kind = p == primary.end() ? EntityKind::kAnonymous : EntityKind::kData;
      if (p == primary.end())
        return Err("{}: writable section {} holds no named variable; rebuild with -fdata-sections",
                   obj_.path(), s.name);
    } else {
      // `__func__` is a function's name as a string: what it holds is all
      // that matters, never which copy (GCC renumbers it with every edit).
      bool compiler_made = p == primary.end() || StartsWith(p->second->name, "CSWTCH") ||
                           StartsWith(p->second->name, ".L") || StartsWith(p->second->name, "__func__.") ||
                           StartsWith(p->second->name, "__PRETTY_FUNCTION__.");
      e.kind = compiler_made ? EntityKind::kAnonymous : EntityKind::kConstant;
    }
    if (p != primary.end()) {
      e.symbol = p->second->name;
      e.symbol_offset = p->second->value;
      e.local = p->second->local();
      e.key = e.symbol;
    } else {
      e.key = s.name;
      e.local = true;
    }
    if (e.kind == EntityKind::kFunction) {
      if (StartsWith(s.name, ".text.startup") || StartsWith(s.name, ".text.exit") ||
          StartsWith(s.name, ".init.text") || StartsWith(s.name, ".exit.text") || init_sections.count(s.index))
        e.startup = true;
      size_t cold = e.symbol.find(".cold");
      if (cold != std::string::npos) e.parent = e.symbol.substr(0, cold);
    }
    entities_.push_back(e);
  }
  if (text_sections == 1 && obj_.section_named(".text") && obj_.section_named(".text")->size > 0) {
    size_t funcs = 0;
    for (const elf::Symbol& s : syms) funcs += s.type == STT_FUNC && s.defined();
    if (funcs > 1)
      return Err("{}: all functions share one .text section; rebuild with -ffunction-sections -fdata-sections",
                 obj_.path());
  }
  // Keys: drop the numeric suffix of local names (calls.0, calls.3) where that stays unique,
  // because GCC renumbers static locals whenever the file changes.
  std::map<std::string, int> stripped_count;
  for (Entity& e : entities_)
    if (e.local && !e.symbol.empty()) stripped_count[StripNumericSuffix(e.symbol)]++;
  // Small read-only constants that share a name (__func__.12, __func__.13:
  // one per fortified string call in the kernel) are told apart by what
  // they hold, so that a fix adding a static anywhere in the file does not
  // turn them, and every function using them, into new code.
  auto content_key = [&](const Entity& e) -> std::string {
    if (e.kind != EntityKind::kConstant || !e.local || e.symbol.empty() || e.symbol_offset != 0) return "";
    const elf::Section& sec = SectionOf(e);
    if (sec.nobits() || sec.size > 64 || !RelocsOf(e).empty()) return "";
    return StripNumericSuffix(e.symbol) + "{" + elf::HexBytes(sec.data) + "}";
  };
  std::map<std::string, int> content_count;
  for (const Entity& e : entities_)
    if (std::string k = content_key(e); !k.empty()) content_count[k]++;
  for (Entity& e : entities_) {
    if (e.local && !e.symbol.empty() && stripped_count[StripNumericSuffix(e.symbol)] == 1)
      e.key = StripNumericSuffix(e.symbol);
    else if (std::string k = content_key(e); !k.empty() && content_count[k] == 1)
      e.key = k;
    if (e.kind == EntityKind::kStrings || e.kind == EntityKind::kAnonymous) e.key = "[" + e.key + "]";
  }
  for (size_t i = 0; i < entities_.size(); i++) {
    by_section_[entities_[i].section] = i;
    by_key_.emplace(entities_[i].key, i);
  }
  // Instruction boundaries for every relocated field of every function.
  for (const Entity& e : entities_) {
    if (e.kind != EntityKind::kFunction) continue;
    std::vector<uint64_t> fields;
    for (const elf::Relocation& r : RelocsOf(e)) fields.push_back(r.offset);
    GRAFT_ASSIGN(auto ends, arch_.FieldToInstructionEnd(SectionOf(e).data, fields));
    for (auto [f, d] : ends) pc_adjust_[e.section][f] = d;
  }
  return OkStatus();
}

const Entity* ObjectModel::Find(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &entities_[it->second];
}

int ObjectModel::EntityOfSection(uint32_t section) const {
  auto it = by_section_.find(section);
  return it == by_section_.end() ? -1 : it->second;
}

Reference ObjectModel::Resolve(const elf::Relocation& r) const {
  Reference ref;
  const auto& syms = obj_.symbols();
  if (r.symbol >= syms.size()) {
    ref.external = true;
    ref.name = "<bad symbol index>";
    return ref;
  }
  const elf::Symbol& s = syms[r.symbol];
  if (!s.defined() || s.shndx == SHN_COMMON || s.shndx == SHN_ABS) {
    ref.external = true;
    ref.name = s.name;
    return ref;
  }
  ref.entity = EntityOfSection(s.shndx);
  ref.offset = (s.type == STT_SECTION ? 0 : static_cast<int64_t>(s.value)) + r.addend;
  return ref;
}

std::optional<RawPlace> ObjectModel::RawPlaceOf(const elf::Relocation& r) const {
  const auto& syms = obj_.symbols();
  if (r.symbol >= syms.size()) return std::nullopt;
  const elf::Symbol& s = syms[r.symbol];
  if (!s.defined() || s.shndx >= obj_.sections().size()) return std::nullopt;
  RawPlace p;
  p.section = s.shndx;
  p.section_name = obj_.sections()[s.shndx].name;
  p.offset = (s.type == STT_SECTION ? 0 : static_cast<int64_t>(s.value)) + r.addend;
  if (s.type != STT_SECTION && !s.name.empty()) {
    p.symbol = s.name;
    p.into_symbol = r.addend;
    return p;
  }
  for (const elf::Symbol& c : syms) {
    if (c.shndx != s.shndx || c.type == STT_SECTION || c.name.empty() || c.name.rfind(".L", 0) == 0) continue;
    int64_t start = static_cast<int64_t>(c.value);
    if (p.offset < start || p.offset >= start + static_cast<int64_t>(std::max<uint64_t>(c.size, 1))) continue;
    p.symbol = c.name;
    p.into_symbol = p.offset - start;
    break;
  }
  return p;
}

uint64_t SnippetEnd(const elf::ObjectFile& obj, uint32_t section, uint64_t offset) {
  uint64_t end = section < obj.sections().size() ? obj.sections()[section].size : offset;
  for (const elf::Section& from : obj.sections()) {
    if (from.index == section || from.type == SHT_RELA || from.type == SHT_REL) continue;
    for (const elf::Relocation& r : obj.relocations_for(from.index)) {
      if (r.symbol >= obj.symbols().size()) continue;
      const elf::Symbol& s = obj.symbols()[r.symbol];
      if (s.shndx != section) continue;
      uint64_t at = (s.type == STT_SECTION ? 0 : s.value) + r.addend;
      // A jump (x86-64 PC32/PLT32) means its addend plus the field's 4 bytes.
      if (obj.machine() == EM_X86_64 && (r.type == R_X86_64_PC32 || r.type == R_X86_64_PLT32)) at += 4;
      if (at > offset && at < end) end = at;
    }
  }
  return end;
}

uint32_t ObjectModel::PcAdjust(const Entity& e, uint64_t field_offset) const {
  auto it = pc_adjust_.find(e.section);
  if (it == pc_adjust_.end()) return 0;
  auto f = it->second.find(field_offset);
  return f == it->second.end() ? 4 : f->second;
}

std::string ObjectModel::StringAt(const Entity& e, int64_t offset) const {
  auto data = SectionOf(e).data;
  if (offset < 0 || static_cast<uint64_t>(offset) >= data.size()) return "<out of range>";
  size_t start = offset;
  while (start > 0 && data[start - 1] != 0) start--;
  size_t end = offset;
  while (end < data.size() && data[end] != 0) end++;
  return std::string(data.begin() + start, data.begin() + end) + "@" + std::to_string(offset - start);
}

std::string ObjectModel::ConstantAt(const Entity& e, int64_t offset) const {
  const elf::Section& s = SectionOf(e);
  if (offset < 0 || static_cast<uint64_t>(offset) >= s.data.size() || !s.entsize) return "<out of range>";
  uint64_t into = static_cast<uint64_t>(offset) % s.entsize;
  uint64_t start = offset - into;
  return elf::HexBytes(s.data.subspan(start, std::min<uint64_t>(s.entsize, s.data.size() - start))) + "@" +
         std::to_string(into);
}

}  // namespace graft::diff
