#include "kernel/patch_object.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "elf/object_file.h"
#include "kernel/elf_writer.h"
#include "kernel/ftrace_entry.h"

namespace graft::kernel {

using diff::Referent;

namespace {

// Special sections whose entries point into functions. Carried: ORC, and
// the tables of table_layout.h (Builder::CarryEntry). Left
// out because the code stays correct without them: ftrace call sites (the new
// code is not traceable), return/retpoline/call-depth sites (the thunks stay
// in place), lock-prefix sites (the prefix stays), paravirt sites (an
// unpatched site keeps its indirect call through pv_ops, or the alternative
// that replaces it), objtool annotations (.discard.*: never loaded).
// Static call sites are checked, then left out (Builder::CheckStaticCallSite).
// Tables that name a function by its entry (exports, tracepoint and trace
// event definitions) keep naming the old function, which ftrace sends to the
// new one (kEntryOnly). Refused: .fixup (kernels before 5.17).
// Static keys (jump labels) are carried when the key lives in vmlinux or is
// a carried pr_debug() descriptor's.
// Alternatives' replacement code may jump back into the function: it is
// reached through .altinstructions entries and copied with them;
// static_cpu_has()'s fallback code (.altinstr_aux) and pr_debug() descriptors
// (__dyndbg) are reached from the code itself (Builder::CarryRaw).
enum class Special { kNone, kOrc, kDrop, kRefuse, kViaTable, kStaticCall, kEntryOnly };

// <graft/livepatch.h>'s records (callbacks, ignored functions): graft read
// them when it built the plan; nothing in the kernel reads them.
bool IsAuthorRecord(const std::string& name) { return name.rfind(".graft.", 0) == 0; }

Special Classify(const std::string& name) {
  if (name == ".orc_unwind_ip") return Special::kOrc;
  if (name == "__mcount_loc" || name == "__patchable_function_entries" || name == ".return_sites" ||
      name == ".retpoline_sites" || name == ".call_sites" || name == ".ibt_endbr_seal" || name == ".smp_locks" ||
      name == ".parainstructions" || name.rfind(".discard", 0) == 0 || name.rfind(".debug", 0) == 0 ||
      name.rfind(".note", 0) == 0 || name == ".eh_frame" || name == ".orc_unwind" || IsAuthorRecord(name))
    return Special::kDrop;
  if (name == ".altinstr_replacement" || name == ".altinstr_aux") return Special::kViaTable;
  if (name == ".static_call_sites") return Special::kStaticCall;
  if (name == "__tracepoints" || name == "__tracepoints_ptrs" || name == "_ftrace_events" ||
      name == "__bpf_raw_tp_map" || name == "__syscalls_metadata" || name.rfind("___ksymtab", 0) == 0 ||
      name.rfind("__ksymtab", 0) == 0)
    return Special::kEntryOnly;
  if (name == ".fixup") return Special::kRefuse;
  return Special::kNone;
}

std::string WhyNeeded(const std::string& section) {
  if (section == ".fixup") return "its exception fixups live in .fixup (kernels before 5.17)";
  return "it uses " + section + " entries";
}

}  // namespace

namespace {

// Entries of the kernel's tables that describe code: each names an
// instruction of a function by a PC-relative offset at the start of the entry.
// Their layouts are the target kernel's (table_layout.h).

// A relocation before symbol indexes are known: to an output section or to a
// symbol by name.
struct Pending {
  uint64_t offset = 0;
  uint32_t type = 0;
  int64_t addend = 0;
  int section = -1;  // output section
  std::string symbol;
};

OutSection MakeSection(const std::string& name, uint64_t flags, uint64_t align) {
  OutSection s;
  s.name = name;
  s.flags = flags;
  s.align = align;
  return s;
}

Pending At(uint64_t offset, uint32_t type, int64_t addend) {
  Pending p;
  p.offset = offset;
  p.type = type;
  p.addend = addend;
  return p;
}

class Builder {
 public:
  Builder(const diff::PatchPlan& plan, const SymbolBinder& binder, const TableLayouts& layouts, PatchObject& out,
          std::string prefix, const std::map<std::string, uint32_t>& exports)
      : plan_(plan), binder_(binder), layouts_(layouts), out_(out), prefix_(std::move(prefix)), exports_(exports) {}

  Status Run(const std::string& path);

 private:
  int AddSection(OutSection s) {
    secs_.push_back(std::move(s));
    pending_.emplace_back();
    return static_cast<int>(secs_.size() - 1);
  }
  Result<std::string> Bind(const Referent& r, const std::string& where);
  Status Retarget(size_t pair, const elf::Relocation& r, Pending& p, const std::string& where);
  Status CarryEntry(size_t pair, const elf::Section& table, const TableSpec& spec, uint64_t entry,
                    const std::string& where);
  Status CarrySpecialSections();
  Status ExportFunctions(Writer& w);
  // A kRaw reference of copied code: the .altinstr_aux snippet or __dyndbg
  // descriptor it reaches, carried once (`raw` is sym.value + A, `place`
  // where the code means).
  Status CarryRaw(size_t pair, uint32_t section, int64_t raw, int64_t place, Pending& p, const std::string& where);
  Result<std::pair<int, uint64_t>> CarryDescriptor(size_t pair, uint32_t section, uint64_t offset,
                                                   const std::string& where);
  Status CopyString(const elf::Section& from, uint64_t at, Pending& p);
  Status CheckStaticCallSite(size_t pair, const elf::Section& sites, const elf::Relocation& r, uint32_t text,
                             const std::string& where);
  Status CarryNewExports();

  const diff::PatchPlan& plan_;
  const SymbolBinder& binder_;
  const TableLayouts& layouts_;
  PatchObject& out_;
  const std::string prefix_;
  const std::map<std::string, uint32_t>& exports_;
  std::vector<OutSection> secs_;
  std::vector<std::vector<Pending>> pending_;
  std::vector<int> out_of_;                                   // plan section -> output section
  std::map<std::pair<size_t, uint32_t>, int> copied_text_;    // (pair, source section) -> output section
  std::map<std::string, int> tables_;                         // output table sections by name
  std::set<std::tuple<size_t, uint32_t, uint64_t>> carried_;  // (pair, table section, entry)
  std::map<std::tuple<size_t, uint32_t, uint64_t>, uint64_t> raw_at_;  // (pair, section, start) -> output offset
  std::vector<std::pair<int, std::string>> named_;  // extra local symbols: (output section, name) at 0
  int strings_ = -1, replacements_ = -1, orc_ip_ = -1, orc_ = -1, aux_ = -1, dyndbg_ = -1;
};

Result<std::string> Builder::Bind(const Referent& r, const std::string& where) {
  auto b = binder_.Bind(r);
  if (!b.ok()) return b.error().context(where);
  if (b->klp && std::find(out_.klp_symbols.begin(), out_.klp_symbols.end(), b->symbol) == out_.klp_symbols.end())
    out_.klp_symbols.push_back(b->symbol);
  return b->symbol;
}

// Points `p` at what relocation `r` of patched[pair] refers to: copied code,
// a string copied here, or a symbol of the running kernel.
Status Builder::Retarget(size_t pair, const elf::Relocation& r, Pending& p, const std::string& where) {
  const elf::ObjectFile& obj = plan_.patched[pair]->object();
  const elf::Symbol& t = obj.symbols()[r.symbol];
  p.addend = r.addend;
  if (t.shndx == SHN_UNDEF) {
    GRAFT_ASSIGN(p.symbol, Bind(ExternalReferent(t.name), where));
    return OkStatus();
  }
  if (auto c = copied_text_.find({pair, t.shndx}); c != copied_text_.end()) {
    p.section = c->second;
    p.addend = static_cast<int64_t>(t.value) + r.addend;
    return OkStatus();
  }
  if (t.shndx >= obj.sections().size()) return Err("{}: a reference graft cannot follow", where);
  const elf::Section& ts = obj.sections()[t.shndx];
  if (ts.name == "__dyndbg") {
    // A jump label's key inside a pr_debug() descriptor: the carried one.
    uint64_t at = t.value + r.addend;
    GRAFT_ASSIGN(auto d, CarryDescriptor(pair, t.shndx, at, where));
    p.section = d.first;
    p.addend = static_cast<int64_t>(d.second);
    return OkStatus();
  }
  // A literal (a BUG()'s file name): carried as a copy of its own.
  if (ts.merge_strings() && !ts.exec()) return CopyString(ts, t.value + r.addend, p);
  if (t.type != STT_SECTION && !t.name.empty()) {
    GRAFT_ASSIGN(p.symbol, Bind(ExistingReferent(t.name, t.local(), t.file), where));
    return OkStatus();
  }
  // A table entry pointing into a variable by its section (a static key
  // defined in the same file): bind to the variable, keep the offset (a
  // jump entry's key carries flags in its low bits).
  uint64_t at = t.value + r.addend;
  for (const elf::Symbol& v : obj.symbols()) {
    if (v.shndx != t.shndx || v.type != STT_OBJECT || v.name.empty() || at < v.value || at >= v.value + std::max<uint64_t>(v.size, 1))
      continue;
    GRAFT_ASSIGN(p.symbol, Bind(ExistingReferent(v.name, v.local(), v.file), where));
    p.addend = static_cast<int64_t>(at - v.value);
    return OkStatus();
  }
  return Err("{}: points into {} of {}, which graft cannot carry", where, ts.name, obj.path());
}

Status Builder::CopyString(const elf::Section& from, uint64_t at, Pending& p) {
  if (strings_ < 0) strings_ = AddSection(MakeSection(".rodata.graft.str", SHF_ALLOC, 1));
  auto& bytes = secs_[strings_].bytes;
  p.section = strings_;
  p.addend = static_cast<int64_t>(bytes.size());
  for (; at < from.data.size() && from.data[at]; at++) bytes.push_back(from.data[at]);
  bytes.push_back(0);
  return OkStatus();
}

// A pr_debug() descriptor (struct _ddebug) of a copied function goes into the
// patch module's own __dyndbg section: the module loader registers it with
// dynamic debug (`echo 'func NAME +p' > /proc/dynamic_debug/control` finds it)
// and sets up the jump label testing its key, which the code's __jump_table
// entry now names. Its strings (module, function, file, format) are copied.
Result<std::pair<int, uint64_t>> Builder::CarryDescriptor(size_t pair, uint32_t section, uint64_t offset,
                                                          const std::string& where) {
  const elf::ObjectFile& obj = plan_.patched[pair]->object();
  const elf::Section& sec = obj.sections()[section];
  const elf::Symbol* desc = nullptr;
  for (const elf::Symbol& s : obj.symbols())
    if (s.shndx == section && s.type == STT_OBJECT && s.size && offset >= s.value && offset < s.value + s.size)
      desc = &s;
  if (!desc || desc->value + desc->size > sec.data.size())
    return Err("{}: points into {} at +{:#x}, where no dynamic debug descriptor is", where, sec.name, offset);
  auto key = std::make_tuple(pair, section, desc->value);
  if (dyndbg_ < 0) dyndbg_ = AddSection(MakeSection("__dyndbg", SHF_ALLOC | SHF_WRITE, std::max<uint64_t>(sec.align, 8)));
  auto [it, fresh] = raw_at_.try_emplace(key, 0);
  if (fresh) {
    auto& bytes = secs_[dyndbg_].bytes;
    it->second = bytes.size();
    bytes.insert(bytes.end(), sec.data.begin() + desc->value, sec.data.begin() + desc->value + desc->size);
    for (const elf::Relocation& r : obj.relocations_for(section)) {
      if (r.offset < desc->value || r.offset >= desc->value + desc->size) continue;
      Pending q = At(it->second + (r.offset - desc->value), r.type, r.addend);
      const elf::Symbol& t = obj.symbols()[r.symbol];
      const elf::Section* ts = t.defined() && t.shndx < obj.sections().size() ? &obj.sections()[t.shndx] : nullptr;
      if (ts && ts->alloc() && !ts->write() && !ts->exec())  // its strings, __func__ included
        GRAFT_TRY(CopyString(*ts, (t.type == STT_SECTION ? 0 : t.value) + r.addend, q));
      else
        GRAFT_TRY(Retarget(pair, r, q, where));
      pending_[dyndbg_].push_back(std::move(q));
    }
    out_.dyndbg_descriptors++;
  }
  return std::make_pair(dyndbg_, it->second + (offset - desc->value));
}

Status Builder::CarryRaw(size_t pair, uint32_t section, int64_t raw, int64_t place, Pending& p,
                         const std::string& where) {
  const elf::ObjectFile& obj = plan_.patched[pair]->object();
  const elf::Section& sec = obj.sections()[section];
  if (sec.name == "__dyndbg") {
    GRAFT_ASSIGN(auto d, CarryDescriptor(pair, section, static_cast<uint64_t>(raw), where));
    p.section = d.first;
    p.addend = static_cast<int64_t>(d.second);
    return OkStatus();
  }
  if (sec.name != ".altinstr_aux") return Err("{}: refers to {}, which graft does not carry", where, sec.name);
  // static_cpu_has()'s fallback: test the feature bit, jump back into the
  // function (to the copy, through copied_text_). Reached only until the
  // module's alternatives are applied, which the loader does before any of
  // its code runs; carried so that the jump into it has a target.
  uint64_t start = static_cast<uint64_t>(place), end = diff::SnippetEnd(obj, section, start);
  if (place < 0 || end > sec.data.size() || end <= start)
    return Err("{}: static_cpu_has() fallback code at .altinstr_aux+{:#x} is out of range", where, place);
  if (aux_ < 0) aux_ = AddSection(MakeSection(".altinstr_aux", SHF_ALLOC | SHF_EXECINSTR, 1));
  auto [it, fresh] = raw_at_.try_emplace(std::make_tuple(pair, section, start), 0);
  if (fresh) {
    auto& bytes = secs_[aux_].bytes;
    it->second = bytes.size();
    bytes.insert(bytes.end(), sec.data.begin() + start, sec.data.begin() + end);
    for (const elf::Relocation& r : obj.relocations_for(section)) {
      if (r.offset < start || r.offset >= end) continue;
      Pending q = At(it->second + (r.offset - start), r.type, r.addend);
      GRAFT_TRY(Retarget(pair, r, q, where + " (static_cpu_has() fallback in .altinstr_aux)"));
      pending_[aux_].push_back(std::move(q));
    }
    out_.aux_snippets++;
  }
  p.section = aux_;
  p.addend = static_cast<int64_t>(it->second) + (raw - place);
  return OkStatus();
}

// A static call site entry lets the kernel turn `call __SCT__x` into a
// direct call to the current target. Without it the call goes through the
// trampoline __SCT__x, which the kernel rewrites on every update of the
// static call (arch_static_call_transform always patches the trampoline):
// the same target, one jump more. So the entry is left out, once the copied
// instruction is checked to be such a call.
Status Builder::CheckStaticCallSite(size_t pair, const elf::Section& sites, const elf::Relocation& r, uint32_t text,
                                    const std::string& where) {
  const elf::ObjectFile& obj = plan_.patched[pair]->object();
  const elf::Symbol& t = obj.symbols()[r.symbol];
  if (r.offset % 8) return OkStatus();  // the key field (it never points into code)
  uint64_t insn = (t.type == STT_SECTION ? 0 : t.value) + r.addend;
  const elf::Section& code = obj.sections()[text];
  for (const elf::Relocation& c : obj.relocations_for(text)) {
    if (c.offset != insn + 1 || c.symbol >= obj.symbols().size()) continue;
    const std::string& callee = obj.symbols()[c.symbol].name;
    bool branch = insn < code.data.size() && (code.data[insn] == 0xe8 || code.data[insn] == 0xe9);
    if (branch && callee.rfind("__SCT__", 0) == 0) {
      std::string note = sites.name + " (" + callee + " called through its trampoline)";
      if (std::find(out_.dropped.begin(), out_.dropped.end(), note) == out_.dropped.end())
        out_.dropped.push_back(note);
      return OkStatus();
    }
  }
  return Err("{} cannot be patched yet: its static call site at +{:#x} is not a call to a static call trampoline "
             "(__SCT__*), so graft cannot tell it stays correct without the site entry", where, insn);
}

// A fix that exports a new function (EXPORT_SYMBOL in the fixed file): the
// patch module exports it, as any module may. Its ___ksymtab+NAME entry is
// carried pointing at the copy, with the symbol __ksymtab_NAME by which
// modpost finds the export (it adds the CRC table, __kcrctab, that a
// kernel with MODVERSIONS requires of a module that exports). Only new
// functions the patch carries can be exported this way: an export of code
// already in the kernel would need the kernel's own export table.
Status Builder::CarryNewExports() {
  for (size_t pair = 0; pair < plan_.patched.size(); pair++) {
    const elf::ObjectFile& obj = plan_.patched[pair]->object();
    for (const elf::Section& sec : obj.sections()) {
      if (sec.name.rfind("___ksymtab", 0) != 0 || plan_.originals[pair]->object().section_named(sec.name)) continue;
      std::string name = sec.name.substr(sec.name.find('+') + 1);
      std::string where = obj.path() + ": the new export of '" + name + "'";
      const auto& relocs = obj.relocations_for(sec.index);
      auto value = std::find_if(relocs.begin(), relocs.end(), [](const elf::Relocation& r) { return r.offset == 0; });
      if (value == relocs.end() || value->symbol >= obj.symbols().size())
        return Err("{}: {} has no value relocation", where, sec.name);
      const elf::Symbol& fn = obj.symbols()[value->symbol];
      if (!copied_text_.count({pair, fn.shndx}))
        return Err("{} cannot be carried: '{}' is not code the patch carries (it exists in the running kernel); "
                   "a live patch can only export functions it adds", where, fn.name);
      int out = AddSection(MakeSection(sec.name, SHF_ALLOC, sec.align ? sec.align : 4));
      secs_[out].bytes.assign(sec.data.begin(), sec.data.end());
      for (const elf::Relocation& r : relocs) {
        Pending p = At(r.offset, r.type, r.addend);
        GRAFT_TRY(Retarget(pair, r, p, where));
        pending_[out].push_back(std::move(p));
      }
      named_.push_back({out, "__ksymtab_" + name});
      out_.exports.push_back(name);
    }
  }
  return OkStatus();
}

// Copies entry `entry` of a code-describing table, and what it points to.
Status Builder::CarryEntry(size_t pair, const elf::Section& table, const TableSpec& spec, uint64_t entry,
                           const std::string& where) {
  if (!carried_.insert({pair, table.index, entry}).second) return OkStatus();
  const elf::ObjectFile& obj = plan_.patched[pair]->object();
  uint64_t begin = entry * spec.entry_size, end = begin + spec.entry_size;
  if (table.size % spec.entry_size || end > table.data.size())
    return Err("{}: {} is {} bytes, not a whole number of {}-byte entries: a kernel layout graft does not know",
               where, table.name, table.size, spec.entry_size);
  // Same flags as the kernel's own: the bug table is writable (WARN_ONCE
  // marks its entry done there).
  auto [it, fresh] = tables_.try_emplace(table.name, -1);
  if (fresh) it->second = AddSection(MakeSection(table.name, table.flags & (SHF_ALLOC | SHF_WRITE), table.align ? table.align : 4));
  int out = it->second;
  uint64_t dest = secs_[out].bytes.size();
  secs_[out].bytes.insert(secs_[out].bytes.end(), table.data.begin() + begin, table.data.begin() + end);
  for (const elf::Relocation& r : obj.relocations_for(table.index)) {
    if (r.offset < begin || r.offset >= end) continue;
    Pending p = At(dest + (r.offset - begin), r.type, r.addend);
    const elf::Symbol& t = obj.symbols()[r.symbol];
    bool to_replacement = t.shndx != SHN_UNDEF && t.shndx < obj.sections().size() &&
                          obj.sections()[t.shndx].name == ".altinstr_replacement";
    if (to_replacement && spec.replacement_len_at >= 0) {
      // The replacement instructions travel too, with their own relocations.
      const elf::Section& rs = obj.sections()[t.shndx];
      uint64_t len = table.data[begin + spec.replacement_len_at];
      uint64_t start = t.value + r.addend;
      if (start + len > rs.data.size()) return Err("{}: alternative replacement out of range", where);
      if (replacements_ < 0)
        replacements_ = AddSection(MakeSection(".altinstr_replacement", SHF_ALLOC | SHF_EXECINSTR, 1));
      uint64_t at = secs_[replacements_].bytes.size();
      secs_[replacements_].bytes.insert(secs_[replacements_].bytes.end(), rs.data.begin() + start,
                                        rs.data.begin() + start + len);
      for (const elf::Relocation& rr : obj.relocations_for(rs.index)) {
        if (rr.offset < start || rr.offset >= start + len) continue;
        Pending q = At(at + (rr.offset - start), rr.type, rr.addend);
        GRAFT_TRY(Retarget(pair, rr, q, where));
        pending_[replacements_].push_back(std::move(q));
      }
      p.section = replacements_;
      p.addend = static_cast<int64_t>(at);
    } else {
      GRAFT_TRY(Retarget(pair, r, p, where));
      // Jump labels are set up while the patch module loads: the kernel has
      // applied livepatch relocations into vmlinux by then (early, since 5.8)
      // but not those into other modules.
      if (spec.name == "__jump_table" && r.offset - begin == 8 && p.symbol.rfind(".klp.sym.", 0) == 0 &&
          p.symbol.rfind(".klp.sym.vmlinux.", 0) != 0)
        return Err("{} cannot be patched yet: it tests static key {}, which lives in a module; jump labels are set "
                   "up before livepatch relocations into modules are applied", where,
                   p.symbol.substr(9, p.symbol.rfind(',') - 9));
    }
    pending_[out].push_back(std::move(p));
  }
  return OkStatus();
}

Status Builder::CarrySpecialSections() {
  for (const auto& [key, out_index] : copied_text_) {
    auto [pair, source] = key;
    const elf::ObjectFile& obj = plan_.patched[pair]->object();
    std::string where = obj.path() + ": '" + secs_[out_index].what + "'";
    for (const elf::Section& sec : obj.sections()) {
      if (sec.type == SHT_RELA || sec.type == SHT_REL || sec.index == source) continue;
      Special kind = Classify(sec.name);
      const TableSpec* spec = layouts_.For(sec.name);
      for (const elf::Relocation& r : obj.relocations_for(sec.index)) {
        const elf::Symbol& target = obj.symbols()[r.symbol];
        if (target.shndx != source) continue;
        if (spec) {
          GRAFT_TRY(CarryEntry(pair, sec, *spec, r.offset / spec->entry_size, where));
        } else if (kind == Special::kViaTable) {
          continue;  // copied with the .altinstructions entry, or the jump, that reaches it
        } else if (kind == Special::kStaticCall) {
          GRAFT_TRY(CheckStaticCallSite(pair, sec, r, source, where));
        } else if (kind == Special::kEntryOnly) {
          // An export, tracepoint or trace event naming the function: it keeps
          // the old address, where ftrace sends callers to the new code.
          int64_t at = (target.type == STT_SECTION ? 0 : static_cast<int64_t>(target.value)) + r.addend;
          bool entry = false;
          for (const elf::Symbol& f : obj.symbols())
            entry |= f.shndx == source && f.type == STT_FUNC && static_cast<int64_t>(f.value) == at;
          if (!entry)
            return Err("{} cannot be patched yet: {} points inside it (+{:#x}), not at its entry", where, sec.name, at);
        } else if (kind == Special::kRefuse) {
          return Err("{} cannot be patched yet: {} ({}), which graft does not carry into kernel live patches",
                     where, WhyNeeded(sec.name), sec.name);
        } else if (kind == Special::kOrc) {
          const elf::Section* units = obj.section_named(".orc_unwind");
          uint64_t n = r.offset / 4;
          if (!units || (n + 1) * 6 > units->data.size())
            return Err("{}: .orc_unwind_ip and .orc_unwind do not match", obj.path());
          if (orc_ip_ < 0) {
            orc_ip_ = AddSection(MakeSection(".orc_unwind_ip", SHF_ALLOC, 4));
            orc_ = AddSection(MakeSection(".orc_unwind", SHF_ALLOC, 2));
          }
          Pending ip = At(secs_[orc_ip_].bytes.size(), R_X86_64_PC32, static_cast<int64_t>(target.value) + r.addend);
          ip.section = out_index;
          pending_[orc_ip_].push_back(std::move(ip));
          secs_[orc_ip_].bytes.insert(secs_[orc_ip_].bytes.end(), 4, 0);
          secs_[orc_].bytes.insert(secs_[orc_].bytes.end(), units->data.begin() + n * 6,
                                   units->data.begin() + n * 6 + 6);
          out_.orc_entries++;
        } else if (kind == Special::kDrop) {
          bool noise = sec.name.rfind(".discard", 0) == 0 || sec.name.rfind(".debug", 0) == 0 ||
                       sec.name.rfind(".note", 0) == 0 ||  // debug info and annotations: nothing runs from them
                       IsAuthorRecord(sec.name);
          std::string note = sec.name + " (" + secs_[out_index].what + ")";
          if (!noise && std::find(out_.dropped.begin(), out_.dropped.end(), note) == out_.dropped.end())
            out_.dropped.push_back(note);
        } else if (sec.alloc() && !sec.exec() && !sec.write() && sec.name.rfind(".rodata", 0) != 0) {
          // An unknown read-only table pointing into the function: refuse
          // rather than guess what the kernel does with it.
          return Err("{} is referenced from section {}, which graft does not know how to carry", where, sec.name);
        }
      }
    }
  }
  for (const auto& [name, index] : tables_) out_.tables[name] = secs_[index].bytes.size() / layouts_.For(name)->entry_size;
  if (out_.dyndbg_descriptors) out_.tables["__dyndbg"] = out_.dyndbg_descriptors;
  if (out_.aux_snippets) out_.tables[".altinstr_aux"] = out_.aux_snippets;
  return OkStatus();
}

Status Builder::Run(const std::string& path) {
  for (const diff::PlanFunction& f : plan_.replaced) GRAFT_TRY(CheckFtraceEntry(plan_, f));
  out_of_.assign(plan_.sections.size(), -1);
  for (size_t i = 0; i < plan_.sections.size(); i++) {
    if (static_cast<int>(i) == plan_.eh_frame_section || static_cast<int>(i) == plan_.unwind_object_section) continue;
    const diff::PlanSection& ps = plan_.sections[i];
    OutSection s;
    using K = diff::PlanSection::Kind;
    const char* prefix = ps.kind == K::kText ? ".text" : ps.kind == K::kRodata ? ".rodata" : ps.kind == K::kData ? ".data" : ".bss";
    s.name = std::string(prefix) + ".graft." + Sanitize(ps.name) + "." + std::to_string(i);
    s.type = ps.kind == K::kBss ? SHT_NOBITS : SHT_PROGBITS;
    s.flags = SHF_ALLOC | (ps.kind == K::kText ? SHF_EXECINSTR : 0) |
              (ps.kind == K::kData || ps.kind == K::kBss ? SHF_WRITE : 0);
    s.align = ps.align ? ps.align : 1;
    s.bytes = ps.bytes;
    s.nobits_size = ps.size;
    s.what = ps.name;
    out_of_[i] = AddSection(std::move(s));
    if (ps.kind == K::kText && ps.source_section) copied_text_[{ps.pair, ps.source_section}] = out_of_[i];
  }
  // Relocations of the copied sections.
  for (size_t i = 0; i < plan_.sections.size(); i++) {
    if (out_of_[i] < 0) continue;
    for (const diff::PlanReloc& r : plan_.sections[i].relocs) {
      Pending p = At(r.offset, r.type, r.addend);
      if (r.to.kind == Referent::Kind::kCopied) {
        if (out_of_[r.to.section] < 0) return Err("'{}' refers to graft-made unwind data", plan_.sections[i].name);
        p.section = out_of_[r.to.section];
      } else if (r.to.kind == Referent::Kind::kRaw) {
        const diff::PlanSection& ps = plan_.sections[i];
        GRAFT_TRY(CarryRaw(ps.pair, r.to.section, r.addend, r.to.place, p,
                           plan_.patched[ps.pair]->object().path() + ": '" + ps.name + "'"));
      } else {
        GRAFT_ASSIGN(p.symbol, Bind(r.to, "'" + plan_.sections[i].name + "'"));
      }
      pending_[out_of_[i]].push_back(std::move(p));
    }
  }
  GRAFT_TRY(CarrySpecialSections());
  GRAFT_TRY(CarryNewExports());

  // Symbol table: null, one section symbol per section (the only locals),
  // the undefined symbols the relocations name, the new functions.
  Writer w;
  for (size_t k = 0; k < secs_.size(); k++) {
    Elf64_Sym sym{};
    sym.st_info = ELF64_ST_INFO(STB_LOCAL, STT_SECTION);
    sym.st_shndx = k + 1;
    secs_[k].sym = w.syms.size();
    w.syms.push_back(sym);
  }
  for (const auto& [section, name] : named_) {
    Elf64_Sym sym{};
    sym.st_name = w.AddString(name);
    sym.st_info = ELF64_ST_INFO(STB_LOCAL, STT_NOTYPE);
    sym.st_shndx = section + 1;
    w.syms.push_back(sym);
  }
  uint32_t locals = w.syms.size();
  for (size_t k = 0; k < secs_.size(); k++)
    for (const Pending& p : pending_[k]) {
      uint32_t sym = p.section >= 0 ? secs_[p.section].sym : w.Undefined(p.symbol);
      secs_[k].relas.push_back({p.offset, ELF64_R_INFO(sym, p.type), p.addend});
    }
  for (const diff::PlanFunction& f : plan_.replaced) {
    const diff::PlanSection& ps = plan_.sections[f.section];
    const elf::ObjectFile& obj = plan_.patched[ps.pair]->object();
    uint64_t value = 0;
    for (const elf::Symbol& s : obj.symbols())
      if (s.shndx == ps.source_section && s.type == STT_FUNC) {
        value = s.value;
        break;
      }
    ReplacedFunction rf;
    rf.old_name = f.name;
    GRAFT_ASSIGN(rf.old_sympos, binder_.FunctionPosition(f.name, f.local ? f.file : ""));
    rf.new_symbol = prefix_ + std::to_string(out_.functions.size()) + "_" + Sanitize(f.name);
    Elf64_Sym sym{};
    sym.st_name = w.AddString(rf.new_symbol);
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    sym.st_shndx = out_of_[f.section] + 1;
    sym.st_value = value;
    sym.st_size = ps.size - value;
    w.syms.push_back(sym);
    out_.functions.push_back(std::move(rf));
  }
  GRAFT_TRY(ExportFunctions(w));
  return WriteElf(path, secs_, w, locals);
}

// Global symbols for copied functions the generated klp_patch source names
// itself (the author's callbacks), at the function's place in its copy.
Status Builder::ExportFunctions(Writer& w) {
  for (const auto& [name, section] : exports_) {
    if (section >= plan_.sections.size() || out_of_[section] < 0)
      return Err("'{}' is not among the copied code of the patch", name);
    const diff::PlanSection& ps = plan_.sections[section];
    uint64_t value = 0;
    for (const elf::Symbol& s : plan_.patched[ps.pair]->object().symbols())
      if (s.shndx == ps.source_section && s.type == STT_FUNC) {
        value = s.value;
        break;
      }
    Elf64_Sym sym{};
    sym.st_name = w.AddString(name);
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    sym.st_shndx = out_of_[section] + 1;
    sym.st_value = value;
    sym.st_size = ps.size - value;
    w.syms.push_back(sym);
  }
  return OkStatus();
}

}  // namespace

Result<PatchObject> WritePatchObject(const diff::PatchPlan& plan, const SymbolBinder& binder,
                                     const TableLayouts& layouts, const std::string& path, const std::string& prefix,
                                     const std::map<std::string, uint32_t>& exports) {
  PatchObject out;
  Builder b(plan, binder, layouts, out, prefix, exports);
  GRAFT_TRY(b.Run(path));
  return out;
}

}  // namespace graft::kernel
