#include "kernel/elf_writer.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace graft::kernel {

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

}  // namespace graft::kernel
