#include "kernel/klp_convert.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace graft::kernel {

namespace {

constexpr uint16_t kShnLivepatch = 0xff20;              // SHN_LIVEPATCH
constexpr uint64_t kShfRelaLivepatch = 0x00100000;      // SHF_RELA_LIVEPATCH
constexpr std::string_view kKlpSym = ".klp.sym.";

// "vmlinux" from ".klp.sym.vmlinux.name,0".
std::string ObjectOf(std::string_view sym) {
  sym.remove_prefix(kKlpSym.size());
  return std::string(sym.substr(0, sym.find('.')));
}

}  // namespace

Result<KlpConversion> ConvertKlpRelocations(const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) return Err("libelf: {}", elf_errmsg(-1));
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Err("cannot open {}: {}", path, std::strerror(errno));
  Elf* e = elf_begin(fd, ELF_C_RDWR, nullptr);
  auto fail = [&](std::string what) {
    Error err = Err("{}: {}", path, what);
    if (e) elf_end(e);
    close(fd);
    return err;
  };
  if (!e) return fail(elf_errmsg(-1));
  size_t shstrndx;
  if (elf_getshdrstrndx(e, &shstrndx) != 0) return fail("no section name table");

  // 1. Mark the livepatch symbols.
  Elf_Scn* symscn = nullptr;
  size_t symtab_index = 0;
  for (Elf_Scn* s = elf_nextscn(e, nullptr); s; s = elf_nextscn(e, s)) {
    GElf_Shdr sh;
    gelf_getshdr(s, &sh);
    if (sh.sh_type == SHT_SYMTAB) symscn = s, symtab_index = elf_ndxscn(s);
  }
  if (!symscn) return fail("no symbol table");
  GElf_Shdr symsh;
  gelf_getshdr(symscn, &symsh);
  Elf_Data* symdata = elf_getdata(symscn, nullptr);
  size_t nsyms = symsh.sh_size / symsh.sh_entsize;
  std::vector<std::string> klp_object(nsyms);  // "" for ordinary symbols
  KlpConversion out;
  for (size_t i = 0; i < nsyms; i++) {
    GElf_Sym sym;
    gelf_getsym(symdata, i, &sym);
    const char* name = elf_strptr(e, symsh.sh_link, sym.st_name);
    if (!name || std::strncmp(name, kKlpSym.data(), kKlpSym.size()) != 0) continue;
    if (sym.st_shndx != SHN_UNDEF && sym.st_shndx != kShnLivepatch)
      return fail(std::string("livepatch symbol ") + name + " is defined in the module");
    sym.st_shndx = kShnLivepatch;
    gelf_update_sym(symdata, i, &sym);
    klp_object[i] = ObjectOf(name);
    out.symbols++;
  }
  elf_flagdata(symdata, ELF_C_SET, ELF_F_DIRTY);

  // 2. Split the relocation sections.
  struct NewSection {
    std::string name;
    size_t target = 0;
    std::vector<Elf64_Rela> relas;
  };
  std::vector<NewSection> added;
  std::vector<std::unique_ptr<std::vector<Elf64_Rela>>> kept;  // buffers live until elf_update
  for (Elf_Scn* s = elf_nextscn(e, nullptr); s; s = elf_nextscn(e, s)) {
    GElf_Shdr sh;
    gelf_getshdr(s, &sh);
    if (sh.sh_type != SHT_RELA || (sh.sh_flags & kShfRelaLivepatch) || sh.sh_link != symtab_index) continue;
    Elf_Data* d = elf_getdata(s, nullptr);
    size_t n = sh.sh_size / sizeof(Elf64_Rela);
    GElf_Shdr target;
    gelf_getshdr(elf_getscn(e, sh.sh_info), &target);
    std::string target_name = elf_strptr(e, shstrndx, target.sh_name);
    auto keep = std::make_unique<std::vector<Elf64_Rela>>();
    std::map<std::string, std::vector<Elf64_Rela>> moved;
    for (size_t i = 0; i < n; i++) {
      GElf_Rela r;
      gelf_getrela(d, i, &r);
      Elf64_Rela raw{r.r_offset, r.r_info, r.r_addend};
      size_t sym = GELF_R_SYM(r.r_info);
      if (sym < nsyms && !klp_object[sym].empty())
        moved[klp_object[sym]].push_back(raw);
      else
        keep->push_back(raw);
    }
    if (moved.empty()) continue;
    if (!(target.sh_flags & SHF_ALLOC))
      return fail("livepatch symbols referenced from non-allocated section " + target_name);
    for (auto& [obj, relas] : moved) {
      out.relocations += relas.size();
      added.push_back({".klp.rela." + obj + "." + target_name, sh.sh_info, std::move(relas)});
    }
    d->d_buf = keep->data();
    d->d_size = keep->size() * sizeof(Elf64_Rela);
    d->d_type = ELF_T_BYTE;
    elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
    kept.push_back(std::move(keep));
  }

  // 3. New section names go at the end of .shstrtab.
  Elf_Scn* shstr = elf_getscn(e, shstrndx);
  Elf_Data* names = elf_getdata(shstr, nullptr);
  std::string table(static_cast<const char*>(names->d_buf), names->d_size);
  std::vector<size_t> name_at;
  for (const auto& a : added) {
    name_at.push_back(table.size());
    table += a.name;
    table += '\0';
  }
  names->d_buf = table.data();
  names->d_size = table.size();
  elf_flagdata(names, ELF_C_SET, ELF_F_DIRTY);
  for (size_t k = 0; k < added.size(); k++) {
    Elf_Scn* s = elf_newscn(e);
    Elf_Data* d = elf_newdata(s);
    d->d_buf = added[k].relas.data();
    d->d_size = added[k].relas.size() * sizeof(Elf64_Rela);
    d->d_type = ELF_T_BYTE;
    d->d_align = 8;
    GElf_Shdr sh;
    gelf_getshdr(s, &sh);
    sh.sh_name = name_at[k];
    sh.sh_type = SHT_RELA;
    sh.sh_flags = SHF_ALLOC | SHF_INFO_LINK | kShfRelaLivepatch;
    sh.sh_link = symtab_index;
    sh.sh_info = added[k].target;
    sh.sh_addralign = 8;
    sh.sh_entsize = sizeof(Elf64_Rela);
    gelf_update_shdr(s, &sh);
    out.sections++;
  }
  if (elf_update(e, ELF_C_WRITE) < 0) return fail(std::string("rewriting: ") + elf_errmsg(-1));
  elf_end(e);
  close(fd);
  return out;
}

}  // namespace graft::kernel
