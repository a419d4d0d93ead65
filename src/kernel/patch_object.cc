#include "kernel/patch_object.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "elf/object_file.h"

namespace graft::kernel {

namespace {

// Special sections whose entries point into functions. Carried: ORC. Left
// out because the code stays correct without them: ftrace call sites (the new
// code is not traceable), return/retpoline/call-depth sites (the thunks stay
// in place), lock-prefix sites (the prefix stays), objtool annotations.
// Refused: entries the code cannot run correctly without.
enum class Special { kNone, kOrc, kDrop, kRefuse };

Special Classify(const std::string& name) {
  if (name == ".orc_unwind_ip") return Special::kOrc;
  if (name == "__mcount_loc" || name == "__patchable_function_entries" || name == ".return_sites" ||
      name == ".retpoline_sites" || name == ".call_sites" || name == ".ibt_endbr_seal" || name == ".smp_locks" ||
      name.rfind(".discard", 0) == 0 || name.rfind(".debug", 0) == 0 || name.rfind(".note", 0) == 0 ||
      name == ".eh_frame" || name == ".orc_unwind")
    return Special::kDrop;
  if (name == "__ex_table" || name == "__bug_table" || name == ".altinstructions" || name == "__jump_table" ||
      name == ".static_call_sites" || name == "__tracepoints" || name == ".altinstr_replacement" ||
      name == ".fixup" || name == "__tracepoints_ptrs" || name == "_ftrace_events")
    return Special::kRefuse;
  return Special::kNone;
}

std::string WhyNeeded(const std::string& section) {
  if (section == "__ex_table") return "its user-memory accesses need exception table entries";
  if (section == "__bug_table") return "its BUG()/WARN() sites need bug table entries";
  if (section == ".altinstructions" || section == ".altinstr_replacement")
    return "it uses alternative instructions patched in at boot (e.g. SMAP's stac/clac)";
  if (section == "__jump_table") return "it uses static keys (jump labels)";
  if (section == ".static_call_sites") return "it uses static calls";
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
  std::vector<std::string> keep;  // buffers libelf points to until elf_update
  auto add = [&](const std::string& name, uint32_t type, uint64_t flags, uint64_t align, const void* buf,
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
    sh.sh_name = name_of(name);
    sh.sh_type = type;
    sh.sh_flags = flags;
    sh.sh_addralign = align;
    sh.sh_link = link;
    sh.sh_info = info;
    sh.sh_entsize = entsize;
    sh.sh_size = size;
    return gelf_update_shdr(scn, &sh);
  };
  for (auto& s : secs)
    if (!add(s.name, s.type, s.flags, s.align, s.type == SHT_NOBITS ? nullptr : s.bytes.data(),
             s.type == SHT_NOBITS ? s.nobits_size : s.bytes.size(), 0, 0, 0))
      return fail(s.name.c_str());
  for (size_t i = 0; i < secs.size(); i++)
    if (rela_of[i] && !add(".rela" + secs[i].name, SHT_RELA, SHF_INFO_LINK, 8, secs[i].relas.data(),
                           secs[i].relas.size() * sizeof(Elf64_Rela), symtab, i + 1, sizeof(Elf64_Rela)))
      return fail("relocations");
  if (!add(".symtab", SHT_SYMTAB, 0, 8, w.syms.data(), w.syms.size() * sizeof(Elf64_Sym), strtab, first_global,
           sizeof(Elf64_Sym)) ||
      !add(".strtab", SHT_STRTAB, 0, 1, w.strtab.data(), w.strtab.size(), 0, 0, 0))
    return fail("symbols");
  name_of(".shstrtab");
  uint32_t shstr_name = shstr.rfind(".shstrtab");
  if (!add(".shstrtab", SHT_STRTAB, 0, 1, shstr.data(), shstr.size(), 0, 0, 0)) return fail("section names");
  // .shstrtab's own name was added after its buffer was sized: fix its header.
  GElf_Shdr sh;
  Elf_Scn* scn = elf_getscn(e, shstrtab);
  gelf_getshdr(scn, &sh);
  sh.sh_name = shstr_name;
  gelf_update_shdr(scn, &sh);
  elf_getdata(scn, nullptr)->d_size = shstr.size();
  eh.e_shstrndx = shstrtab;
  gelf_update_ehdr(e, &eh);
  if (elf_update(e, ELF_C_WRITE) < 0) return fail("layout");
  elf_end(e);
  close(fd);
  return OkStatus();
}

}  // namespace

Result<PatchObject> WritePatchObject(const diff::PatchPlan& plan, const SymbolBinder& binder, const std::string& path) {
  PatchObject out;
  Writer w;
  std::vector<OutSection> secs;
  std::vector<int> out_of(plan.sections.size(), -1);  // plan section -> secs index
  for (size_t i = 0; i < plan.sections.size(); i++) {
    if (static_cast<int>(i) == plan.eh_frame_section || static_cast<int>(i) == plan.unwind_object_section) continue;
    const diff::PlanSection& ps = plan.sections[i];
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
    out_of[i] = secs.size();
    secs.push_back(std::move(s));
  }
  // Section symbols first (locals), in section order.
  for (size_t k = 0; k < secs.size(); k++) {
    Elf64_Sym sym{};
    sym.st_info = ELF64_ST_INFO(STB_LOCAL, STT_SECTION);
    sym.st_shndx = k + 1;
    secs[k].sym = w.syms.size();
    w.syms.push_back(sym);
  }

  // Special sections of the patched objects that point into copied code.
  OutSection orc_ip{".orc_unwind_ip", SHT_PROGBITS, SHF_ALLOC, 4};
  OutSection orc{".orc_unwind", SHT_PROGBITS, SHF_ALLOC, 2};
  for (size_t i = 0; i < plan.sections.size(); i++) {
    const diff::PlanSection& ps = plan.sections[i];
    if (out_of[i] < 0 || ps.kind != diff::PlanSection::Kind::kText || !ps.source_section) continue;
    const elf::ObjectFile& obj = plan.patched[ps.pair]->object();
    for (const elf::Section& sec : obj.sections()) {
      if (sec.type == SHT_RELA || sec.type == SHT_REL || sec.index == ps.source_section) continue;
      Special kind = Classify(sec.name);
      const auto& relocs = obj.relocations_for(sec.index);
      for (const elf::Relocation& r : relocs) {
        const elf::Symbol& target = obj.symbols()[r.symbol];
        if (target.shndx != ps.source_section) continue;
        if (kind == Special::kRefuse)
          return Err("{}: '{}' cannot be patched yet: {} ({}), which graft does not carry into kernel live "
                     "patches", obj.path(), ps.name, WhyNeeded(sec.name), sec.name);
        if (kind == Special::kOrc) {
          const elf::Section* units = obj.section_named(".orc_unwind");
          uint64_t n = r.offset / 4;
          if (!units || (n + 1) * 6 > units->data.size())
            return Err("{}: .orc_unwind_ip and .orc_unwind do not match", obj.path());
          orc_ip.relas.push_back({orc_ip.bytes.size(), ELF64_R_INFO(secs[out_of[i]].sym, R_X86_64_PC32),
                                  static_cast<int64_t>(target.value) + r.addend});
          orc_ip.bytes.insert(orc_ip.bytes.end(), 4, 0);
          orc.bytes.insert(orc.bytes.end(), units->data.begin() + n * 6, units->data.begin() + n * 6 + 6);
          out.orc_entries++;
        } else if (kind == Special::kDrop) {
          std::string note = sec.name + " (" + ps.name + ")";
          if (sec.name.rfind(".discard", 0) != 0 && std::find(out.dropped.begin(), out.dropped.end(), note) == out.dropped.end())
            out.dropped.push_back(note);
        } else if (sec.alloc() && !sec.exec() && !sec.write() && sec.name.rfind(".rodata", 0) != 0) {
          // An unknown read-only table pointing into the function: refuse
          // rather than guess what the kernel does with it.
          return Err("{}: '{}' is referenced from section {}, which graft does not know how to carry",
                     obj.path(), ps.name, sec.name);
        }
      }
    }
  }

  // Relocations of the copied sections.
  for (size_t i = 0; i < plan.sections.size(); i++) {
    if (out_of[i] < 0) continue;
    for (const diff::PlanReloc& r : plan.sections[i].relocs) {
      uint32_t sym;
      if (r.to.kind == diff::Referent::Kind::kCopied) {
        if (out_of[r.to.section] < 0) return Err("'{}' refers to graft-made unwind data", plan.sections[i].name);
        sym = secs[out_of[r.to.section]].sym;
      } else {
        auto b = binder.Bind(r.to);
        if (!b.ok()) return b.error().context("'" + plan.sections[i].name + "'");
        sym = w.Undefined(b->symbol);
        if (b->klp && std::find(out.klp_symbols.begin(), out.klp_symbols.end(), b->symbol) == out.klp_symbols.end())
          out.klp_symbols.push_back(b->symbol);
      }
      secs[out_of[i]].relas.push_back({r.offset, ELF64_R_INFO(sym, r.type), r.addend});
    }
  }
  if (!orc_ip.bytes.empty()) {
    secs.push_back(std::move(orc_ip));
    secs.push_back(std::move(orc));
  }

  // Globals: the new functions, named for the generated klp_func table.
  std::vector<Elf64_Sym> globals;
  for (const diff::PlanFunction& f : plan.replaced) {
    const diff::PlanSection& ps = plan.sections[f.section];
    const elf::ObjectFile& obj = plan.patched[ps.pair]->object();
    uint64_t value = 0;
    for (const elf::Symbol& s : obj.symbols())
      if (s.shndx == ps.source_section && s.type == STT_FUNC) {
        value = s.value;
        break;
      }
    ReplacedFunction rf;
    rf.old_name = f.name;
    GRAFT_ASSIGN(rf.old_sympos, binder.FunctionPosition(f.name, f.local ? f.file : ""));
    rf.new_symbol = "__graft_new_" + std::to_string(out.functions.size()) + "_" + Sanitize(f.name);
    Elf64_Sym sym{};
    sym.st_name = w.AddString(rf.new_symbol);
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    sym.st_shndx = out_of[f.section] + 1;
    sym.st_value = value;
    sym.st_size = ps.size - value;
    globals.push_back(sym);
    out.functions.push_back(std::move(rf));
  }
  // Symbol table: null, the section symbols (the only locals), the undefined
  // symbols the relocations added, the new functions.
  uint32_t locals = 1 + std::count_if(secs.begin(), secs.end(), [](const OutSection& s) { return s.sym != 0; });
  w.syms.insert(w.syms.end(), globals.begin(), globals.end());
  GRAFT_TRY(WriteElf(path, secs, w, locals));
  return out;
}

}  // namespace graft::kernel
