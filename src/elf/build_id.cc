// Reads the ELF header, the program headers and the PT_NOTE segments with
// pread; a file whose notes lie beyond what it holds has no build-id here,
// and callers then parse it fully as before.
#include "elf/build_id.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "elf/object_file.h"

namespace graft::elf {

namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

bool ReadAt(int fd, void* out, size_t size, uint64_t offset) {
  return pread(fd, out, size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size);
}

}  // namespace

Result<std::optional<std::string>> ReadBuildId(const std::string& path) {
  Fd f{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return Err("{}: cannot open: {}", path, std::strerror(errno));
  Elf64_Ehdr eh;
  if (!ReadAt(f.fd, &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return std::optional<std::string>();
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256)
    return std::optional<std::string>("");
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!ReadAt(f.fd, ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff)) return std::optional<std::string>("");
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type != PT_NOTE || p.p_filesz == 0 || p.p_filesz > (1 << 16)) continue;
    std::vector<uint8_t> notes(p.p_filesz);
    if (!ReadAt(f.fd, notes.data(), notes.size(), p.p_offset)) continue;
    size_t align = p.p_align == 8 ? 8 : 4;
    auto up = [&](size_t v) { return (v + align - 1) & ~(align - 1); };
    for (size_t at = 0; at + 12 <= notes.size();) {
      uint32_t namesz, descsz, type;
      std::memcpy(&namesz, &notes[at], 4);
      std::memcpy(&descsz, &notes[at + 4], 4);
      std::memcpy(&type, &notes[at + 8], 4);
      size_t name_at = at + 12, desc_at = name_at + up(namesz);
      if (desc_at > notes.size() || descsz > notes.size() - desc_at) break;
      if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(&notes[name_at], "GNU", 4) == 0)
        return std::optional<std::string>(HexBytes(std::span<const uint8_t>(&notes[desc_at], descsz)));
      at = desc_at + up(descsz);
    }
  }
  return std::optional<std::string>("");
}

}  // namespace graft::elf
