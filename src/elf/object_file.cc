// libelf-backed reader. The whole file is read into memory once; sections and
// symbols are copied into plain structs so callers never touch libelf types.
#include "elf/object_file.h"

#include <elf.h>
#include <gelf.h>
#include <libelf.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace graft::elf {

bool Section::alloc() const { return flags & SHF_ALLOC; }
bool Section::exec() const { return flags & SHF_EXECINSTR; }
bool Section::write() const { return flags & SHF_WRITE; }
bool Section::nobits() const { return type == SHT_NOBITS; }
bool Section::merge_strings() const { return (flags & SHF_MERGE) && (flags & SHF_STRINGS); }
bool Section::merge_constants() const { return (flags & SHF_MERGE) && !(flags & SHF_STRINGS) && entsize > 0; }
bool Symbol::defined() const { return shndx != SHN_UNDEF; }
bool Symbol::local() const { return bind == STB_LOCAL; }

std::string HexBytes(std::span<const uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

Result<std::unique_ptr<ObjectFile>> ObjectFile::Open(const std::string& path) {
  std::unique_ptr<ObjectFile> f(new ObjectFile());
  f->path_ = path;
  // One read of the whole file (a character iterator over a stream costs
  // more than the parse itself for a C library).
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size > 0) f->image_.reserve(st.st_size);
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return Err("{}: cannot read: {}", path, std::strerror(e));
    }
    if (n == 0) break;
    f->image_.insert(f->image_.end(), buf, buf + n);
  }
  close(fd);
  GRAFT_TRY(f->Load());
  return f;
}

ObjectFile::~ObjectFile() {
  if (elf_) elf_end(static_cast<Elf*>(elf_));
}

bool ObjectFile::relocatable() const { return e_type_ == ET_REL; }

static const std::vector<Relocation> kNoRelocs;

const std::vector<Relocation>& ObjectFile::relocations_for(uint32_t index) const {
  auto it = relocs_.find(index);
  return it == relocs_.end() ? kNoRelocs : it->second;
}

const Section* ObjectFile::section_named(std::string_view name) const {
  for (const Section& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::span<const uint8_t> ObjectFile::bytes_at(uint64_t addr, uint64_t size) const {
  for (const Section& s : sections_) {
    if (!s.alloc() || s.nobits() || addr < s.addr || addr + size > s.addr + s.size) continue;
    return s.data.subspan(addr - s.addr, size);
  }
  return {};
}

static void ReadSymbols(Elf* elf, Elf_Scn* scn, const GElf_Shdr& sh, bool dynamic,
                        std::vector<Symbol>& out) {
  Elf_Data* d = elf_getdata(scn, nullptr);
  if (!d) return;
  size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
  std::string file;
  out.reserve(n);
  for (size_t i = 0; i < n; i++) {
    GElf_Sym sym;
    if (!gelf_getsym(d, i, &sym)) break;
    Symbol s;
    s.index = i;
    const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
    s.name = name ? name : "";
    s.type = GELF_ST_TYPE(sym.st_info);
    s.bind = GELF_ST_BIND(sym.st_info);
    s.visibility = GELF_ST_VISIBILITY(sym.st_other);
    s.shndx = sym.st_shndx;
    s.value = sym.st_value;
    s.size = sym.st_size;
    s.dynamic = dynamic;
    if (s.type == STT_FILE) file = s.name;
    if (s.bind == STB_LOCAL) s.file = file;
    out.push_back(std::move(s));
  }
}

Status ObjectFile::Load() {
  elf_version(EV_CURRENT);
  Elf* elf = elf_memory(reinterpret_cast<char*>(image_.data()), image_.size());
  elf_ = elf;
  if (!elf || elf_kind(elf) != ELF_K_ELF) return Err("{}: not an ELF file", path_);
  GElf_Ehdr eh;
  if (!gelf_getehdr(elf, &eh)) return Err("{}: bad ELF header: {}", path_, elf_errmsg(-1));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return Err("{}: only 64-bit ELF files are supported", path_);
  e_type_ = eh.e_type;
  e_machine_ = eh.e_machine;
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return Err("{}: no section name table", path_);

  size_t nsec = 0;
  elf_getshdrnum(elf, &nsec);
  sections_.resize(nsec);
  std::vector<std::pair<Elf_Scn*, GElf_Shdr>> rela;
  for (size_t i = 0; i < nsec; i++) {
    Elf_Scn* scn = elf_getscn(elf, i);
    GElf_Shdr sh;
    if (!scn || !gelf_getshdr(scn, &sh)) return Err("{}: bad section header {}", path_, i);
    Section& s = sections_[i];
    s.index = i;
    const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
    s.name = name ? name : "";
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    s.addr = sh.sh_addr;
    s.offset = sh.sh_offset;
    s.size = sh.sh_size;
    s.align = sh.sh_addralign ? sh.sh_addralign : 1;
    s.entsize = sh.sh_entsize;
    s.link = sh.sh_link;
    s.info = sh.sh_info;
    if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL) {
      if (sh.sh_offset + sh.sh_size > image_.size())
        return Err("{}: section {} extends past the end of the file", path_, s.name);
      s.data = std::span<const uint8_t>(image_.data() + sh.sh_offset, sh.sh_size);
    }
    if (sh.sh_type == SHT_SYMTAB) ReadSymbols(elf, scn, sh, false, symbols_);
    if (sh.sh_type == SHT_DYNSYM) ReadSymbols(elf, scn, sh, true, dynsyms_);
    if (sh.sh_type == SHT_RELA) rela.push_back({scn, sh});
    if (sh.sh_type == SHT_REL) return Err("{}: REL relocations are not supported (x86_64 uses RELA)", path_);
    if (sh.sh_type == SHT_NOTE && s.data.size() >= 16) {
      // Walk notes looking for NT_GNU_BUILD_ID.
      size_t off = 0;
      while (off + 12 <= s.data.size()) {
        uint32_t namesz, descsz, type;
        std::memcpy(&namesz, &s.data[off], 4);
        std::memcpy(&descsz, &s.data[off + 4], 4);
        std::memcpy(&type, &s.data[off + 8], 4);
        size_t name_off = off + 12, desc_off = name_off + ((namesz + 3) & ~3u);
        if (desc_off + descsz > s.data.size()) break;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(&s.data[name_off], "GNU", 4) == 0)
          build_id_ = HexBytes(s.data.subspan(desc_off, descsz));
        off = desc_off + ((descsz + 3) & ~3u);
      }
    }
  }
  for (auto& [scn, sh] : rela) {
    Elf_Data* d = elf_getdata(scn, nullptr);
    if (!d || !sh.sh_entsize) continue;
    size_t n = sh.sh_size / sh.sh_entsize;
    bool dynamic = e_type_ != ET_REL && (sh.sh_flags & SHF_ALLOC);
    std::vector<Relocation>& out = dynamic ? dynrelocs_ : relocs_[sh.sh_info];
    for (size_t i = 0; i < n; i++) {
      GElf_Rela r;
      if (!gelf_getrela(d, i, &r)) break;
      out.push_back({r.r_offset, static_cast<uint32_t>(GELF_R_TYPE(r.r_info)),
                     static_cast<uint32_t>(GELF_R_SYM(r.r_info)), r.r_addend});
    }
  }
  for (const Section& s : sections_) {
    if (s.type != SHT_GNU_versym) continue;
    for (size_t i = 0; i < dynsyms_.size() && 2 * i + 1 < s.data.size(); i++) {
      uint16_t v;
      std::memcpy(&v, &s.data[2 * i], 2);
      dynsyms_[i].hidden_version = v & 0x8000;
    }
  }
  for (const Symbol& s : symbols_)
    if (s.type == STT_FILE) {
      source_file_ = s.name;
      break;
    }
  return OkStatus();
}

void ObjectFile::AdoptSymbols(const ObjectFile& from) {
  symbols_ = from.symbols_;
  for (Symbol& s : symbols_) {
    if (s.shndx == SHN_UNDEF || s.shndx >= SHN_LORESERVE) continue;
    const Section* own = s.shndx < from.sections_.size() ? section_named(from.sections_[s.shndx].name) : nullptr;
    s.shndx = own ? static_cast<uint16_t>(own->index) : static_cast<uint16_t>(SHN_ABS);
  }
}

std::string ObjectFile::Comment() const {
  const Section* c = section_named(".comment");
  if (!c || c->data.empty()) return "";
  std::string out;
  for (uint8_t b : c->data) {
    if (b == 0) {
      if (!out.empty() && out.back() != ';') out += "; ";
      continue;
    }
    out += static_cast<char>(b);
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

}  // namespace graft::elf
