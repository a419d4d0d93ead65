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

namespace graft::kernel {

using diff::Referent;

namespace {

// Special sections whose entries point into functions. Carried: ORC, and
// the tables of kTables below (Builder::CarryEntry). Left
// out because the code stays correct without them: ftrace call sites (the new
// code is not traceable), return/retpoline/call-depth sites (the thunks stay
// in place), lock-prefix sites (the prefix stays), objtool annotations.
// Refused: entries the code cannot run correctly without and graft cannot
// carry yet (static keys need their key resolved before livepatch
// relocations are applied; static calls and tracepoints likewise).
// Static keys (jump labels) are carried when the key lives in vmlinux.
// Alternatives' replacement code may jump back into the function: it is
// reached through .altinstructions entries and copied with them.
enum class Special { kNone, kOrc, kDrop, kRefuse, kViaTable };

Special Classify(const std::string& name) {
  if (name == ".orc_unwind_ip") return Special::kOrc;
  if (name == "__mcount_loc" || name == "__patchable_function_entries" || name == ".return_sites" ||
      name == ".retpoline_sites" || name == ".call_sites" || name == ".ibt_endbr_seal" || name == ".smp_locks" ||
      name.rfind(".discard", 0) == 0 || name.rfind(".debug", 0) == 0 || name.rfind(".note", 0) == 0 ||
      name == ".eh_frame" || name == ".orc_unwind")
    return Special::kDrop;
  if (name == ".altinstr_replacement") return Special::kViaTable;
  if (name == ".static_call_sites" || name == "__tracepoints" || name == ".fixup" || name == "__tracepoints_ptrs" ||
      name == "_ftrace_events")
    return Special::kRefuse;
  return Special::kNone;
}

std::string WhyNeeded(const std::string& section) {
  if (section == ".static_call_sites") return "it uses static calls";
  if (section == ".fixup") return "its exception fixups live in .fixup (kernels before 5.17)";
  return "it uses " + section + " entries";
}

struct Writer {
  std::vector<Elf64_Sym> syms{Elf64_Sym{}};
  std::string strtab{'\0'};
  std::map<std::string, uint32_t> by_name;

  uint32_t AddString(const std::string& s) {
    uint32_t off = strtab.size();
    strtab += s;
    strtab += '\0';
    return off;
  }
  uint32_t Undefined(const std::string& name) {
    auto it = by_name.find(name);
    if (it != by_name.end()) return it->second;
    Elf64_Sym s{};
    s.st_name = AddString(name);
    s.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
    s.st_shndx = SHN_UNDEF;
    syms.push_back(s);
    return by_name[name] = syms.size() - 1;
  }
};

struct OutSection {
  std::string name;
  uint32_t type = SHT_PROGBITS;
  uint64_t flags = 0, align = 1;
  std::vector<uint8_t> bytes;
  uint64_t nobits_size = 0;
  std::vector<Elf64_Rela> relas;
  uint32_t sym = 0;  // its section symbol
  std::string what;  // for messages: the function or object it holds
};

std::string Sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

Status WriteElf(const std::string& path, std::vector<OutSection>& secs, Writer& w, uint32_t first_global) {
  if (elf_version(EV_CURRENT) == EV_NONE) return Err("libelf: {}", elf_errmsg(-1));
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Err("cannot create {}: {}", path, std::strerror(errno));
  Elf* e = elf_begin(fd, ELF_C_WRITE, nullptr);
  auto fail = [&](const char* what) {
    Error err = Err("writing {}: {}: {}", path, what, elf_errmsg(-1));
    if (e) elf_end(e);
    close(fd);
    return err;
  };
  if (!e || !gelf_newehdr(e, ELFCLASS64)) return fail("header");
  GElf_Ehdr eh;
  gelf_getehdr(e, &eh);
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_REL;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  std::string shstr(1, '\0');
  auto name_of = [&](const std::string& n) {
    uint32_t off = shstr.size();
    shstr += n;
    shstr += '\0';
    return off;
  };
  // Section indexes: 1..n content, then one .rela per content section with
  // relocations, then .symtab, .strtab, .shstrtab.
  std::vector<uint32_t> rela_of(secs.size(), 0);
  uint32_t next = secs.size() + 1;
  for (size_t i = 0; i < secs.size(); i++)
    if (!secs[i].relas.empty()) rela_of[i] = next++;
  uint32_t symtab = next++, strtab = next++, shstrtab = next++;
  // Every name goes into .shstrtab before its buffer is handed to libelf
  // (the string must not move afterwards).
  std::vector<uint32_t> names;
  for (const auto& s : secs) names.push_back(name_of(s.name));
  std::vector<uint32_t> rela_names(secs.size(), 0);
  for (size_t i = 0; i < secs.size(); i++)
    if (rela_of[i]) rela_names[i] = name_of(".rela" + secs[i].name);
  uint32_t symtab_name = name_of(".symtab"), strtab_name = name_of(".strtab"), shstrtab_name = name_of(".shstrtab");
  auto add = [&](uint32_t name, uint32_t type, uint64_t flags, uint64_t align, const void* buf,
                 size_t size, uint32_t link, uint32_t info, uint64_t entsize) -> bool {
    Elf_Scn* scn = elf_newscn(e);
    if (!scn) return false;
    Elf_Data* d = elf_newdata(scn);
    d->d_buf = const_cast<void*>(buf);
    d->d_size = size;
    d->d_type = ELF_T_BYTE;
    d->d_align = align;
    GElf_Shdr sh;
    gelf_getshdr(scn, &sh);
    sh.sh_name = name;
    sh.sh_type = type;
    sh.sh_flags = flags;
    sh.sh_addralign = align;
    sh.sh_link = link;
    sh.sh_info = info;
    sh.sh_entsize = entsize;
    sh.sh_size = size;
    return gelf_update_shdr(scn, &sh);
  };
  for (size_t i = 0; i < secs.size(); i++) {
    const OutSection& s = secs[i];
    if (!add(names[i], s.type, s.flags, s.align, s.type == SHT_NOBITS ? nullptr : s.bytes.data(),
             s.type == SHT_NOBITS ? s.nobits_size : s.bytes.size(), 0, 0, 0))
      return fail(s.name.c_str());
  }
  for (size_t i = 0; i < secs.size(); i++)
    if (rela_of[i] && !add(rela_names[i], SHT_RELA, SHF_INFO_LINK, 8, secs[i].relas.data(),
                           secs[i].relas.size() * sizeof(Elf64_Rela), symtab, i + 1, sizeof(Elf64_Rela)))
      return fail("relocations");
  if (!add(symtab_name, SHT_SYMTAB, 0, 8, w.syms.data(), w.syms.size() * sizeof(Elf64_Sym), strtab, first_global,
           sizeof(Elf64_Sym)) ||
      !add(strtab_name, SHT_STRTAB, 0, 1, w.strtab.data(), w.strtab.size(), 0, 0, 0))
    return fail("symbols");
  if (!add(shstrtab_name, SHT_STRTAB, 0, 1, shstr.data(), shstr.size(), 0, 0, 0)) return fail("section names");
  eh.e_shstrndx = shstrtab;
  gelf_update_ehdr(e, &eh);
  if (elf_update(e, ELF_C_WRITE) < 0) return fail("layout");
  elf_end(e);
  close(fd);
  return OkStatus();
}

}  // namespace

namespace {

// Entries of the kernel's tables that describe code: each names an
// instruction of a function by a PC-relative offset at the start of the entry.
// Layouts of x86_64 kernels since 5.13 (exception_table_entry; bug_entry with
// relative pointers and file/line; alt_instr without padlen).
struct TableSpec {
  const char* name;
  size_t entry_size;
  int replacement_len_at = -1;  // alt_instr.replacementlen
};
constexpr TableSpec kTables[] = {
    {"__ex_table", 12},
    {"__bug_table", 12},
    {".altinstructions", 12, 11},
    {"__jump_table", 16},  // code, target, key (s32, s32, long)
};

const TableSpec* TableFor(const std::string& name) {
  for (const auto& t : kTables)
    if (name == t.name) return &t;
  return nullptr;
}

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
  Builder(const diff::PatchPlan& plan, const SymbolBinder& binder, PatchObject& out, std::string prefix)
      : plan_(plan), binder_(binder), out_(out), prefix_(std::move(prefix)) {}

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

  const diff::PatchPlan& plan_;
  const SymbolBinder& binder_;
  PatchObject& out_;
  const std::string prefix_;
  std::vector<OutSection> secs_;
  std::vector<std::vector<Pending>> pending_;
  std::vector<int> out_of_;                                   // plan section -> output section
  std::map<std::pair<size_t, uint32_t>, int> copied_text_;    // (pair, source section) -> output section
  std::map<std::string, int> tables_;                         // output table sections by name
  std::set<std::tuple<size_t, uint32_t, uint64_t>> carried_;  // (pair, table section, entry)
  int strings_ = -1, replacements_ = -1, orc_ip_ = -1, orc_ = -1;
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
  if (ts.merge_strings() && !ts.exec()) {
    // A literal (a BUG()'s file name): carried as a copy of its own.
    if (strings_ < 0) strings_ = AddSection(MakeSection(".rodata.graft.str", SHF_ALLOC, 1));
    uint64_t at = t.value + r.addend;
    auto& bytes = secs_[strings_].bytes;
    p.section = strings_;
    p.addend = static_cast<int64_t>(bytes.size());
    for (; at < ts.data.size() && ts.data[at]; at++) bytes.push_back(ts.data[at]);
    bytes.push_back(0);
    return OkStatus();
  }
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
      if (std::string(spec.name) == "__jump_table" && r.offset - begin == 8 && p.symbol.rfind(".klp.sym.", 0) == 0 &&
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
      const TableSpec* spec = TableFor(sec.name);
      for (const elf::Relocation& r : obj.relocations_for(sec.index)) {
        const elf::Symbol& target = obj.symbols()[r.symbol];
        if (target.shndx != source) continue;
        if (spec) {
          GRAFT_TRY(CarryEntry(pair, sec, *spec, r.offset / spec->entry_size, where));
        } else if (kind == Special::kViaTable) {
          continue;  // copied with the .altinstructions entry that points at it
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
                       sec.name.rfind(".note", 0) == 0;  // debug info and annotations: nothing runs from them
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
  for (const auto& [name, index] : tables_) out_.tables[name] = secs_[index].bytes.size() / TableFor(name)->entry_size;
  return OkStatus();
}

Status Builder::Run(const std::string& path) {
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
      } else {
        GRAFT_ASSIGN(p.symbol, Bind(r.to, "'" + plan_.sections[i].name + "'"));
      }
      pending_[out_of_[i]].push_back(std::move(p));
    }
  }
  GRAFT_TRY(CarrySpecialSections());

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
  return WriteElf(path, secs_, w, locals);
}

}  // namespace

Result<PatchObject> WritePatchObject(const diff::PatchPlan& plan, const SymbolBinder& binder, const std::string& path,
                                     const std::string& prefix) {
  PatchObject out;
  Builder b(plan, binder, out, prefix);
  GRAFT_TRY(b.Run(path));
  return out;
}

}  // namespace graft::kernel
