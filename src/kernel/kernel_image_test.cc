// The kernel's code as graft reads it: bzImage payloads (xz through liblzma
// with the size the kernel appends after the stream, gzip through zlib) on
// images assembled here around a real ELF, and Debian's own image and
// headers when installed (the table layouts of 6.1 read by the probe).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "base/testing.h"
#include "elf/object_file.h"
#include "kernel/kernel_image.h"
#include "kernel/table_layout.h"

namespace graft::kernel {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A bzImage around `payload`: boot header with one setup sector, the payload
// 0x40 bytes into the protected-mode part, then the 4-byte size kbuild appends.
std::string BzImage(const std::string& payload, uint32_t unpacked) {
  std::string img(1024 + 0x40, '\0');
  img[0x1f1] = 1;
  std::memcpy(&img[0x202], "HdrS", 4);
  uint32_t off = 0x40, len = payload.size();
  std::memcpy(&img[0x248], &off, 4);
  std::memcpy(&img[0x24c], &len, 4);
  img += payload;
  img.append(reinterpret_cast<const char*>(&unpacked), 4);
  return img;
}

TEST(KernelImage, DecompressesXzAndGzipPayloads) {
  testing::Scratch s;
  s.Write("t.c", "int text_here(int x) { return x * 3; }\n");
  std::string elf = s.Compile("t.c", "vmlinux.bin", "-O2 -c");
  std::string raw = Slurp(elf);
  for (const char* tool : {"xz --check=crc32 -c", "gzip -9 -c"}) {
    if (std::system(fmt::format("{} '{}' > '{}'", tool, elf, s.Path("packed")).c_str()) != 0)
      throw std::runtime_error(std::string("cannot run ") + tool);
    std::string name = std::string("vmlinuz-") + (tool[0] == 'x' ? "xz" : "gz");
    std::ofstream(s.Path(name), std::ios::binary) << BzImage(Slurp(s.Path("packed")), raw.size());
    auto out = DecompressedKernelImage(s.Path(name), s.Path("cache"));
    ASSERT_TRUE(out.ok()) << tool << ": " << out.error().message();
    EXPECT_EQ(Slurp(*out), raw) << tool;
    EXPECT_EQ(*DecompressedKernelImage(s.Path(name), s.Path("cache")), *out);  // cached
  }
  auto refused = DecompressedKernelImage(elf, s.Path("cache"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("not an x86 bzImage"), std::string::npos) << refused.error().message();
}

// Newest installed Debian kernel with headers, or "".
std::string InstalledRelease() {
  std::string found;
  for (const auto& e : fs::directory_iterator("/boot", fs::directory_options::skip_permission_denied)) {
    std::string n = e.path().filename().string();
    if (n.rfind("vmlinuz-", 0) != 0) continue;
    std::string r = n.substr(8);
    if (fs::exists("/usr/src/linux-headers-" + r + "/Makefile") && r > found) found = r;
  }
  return found;
}

TEST(KernelImage, DebiansImageIsAnElfVmlinux) {
  std::string r = InstalledRelease();
  if (r.empty()) GTEST_SKIP() << "no Debian kernel image with headers installed";
  testing::Scratch s;
  auto out = DecompressedKernelImage("/boot/vmlinuz-" + r, s.Path("cache"));
  ASSERT_TRUE(out.ok()) << out.error().message();
  auto f = elf::ObjectFile::Open(*out);
  ASSERT_TRUE(f.ok()) << f.error().message();
  const elf::Section* text = (*f)->section_named(".text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->addr, 0xffffffff81000000ull);  // x86_64's link address; KASLR moves it at boot
  EXPECT_FALSE((*f)->build_id().empty());
}

TEST(TableLayouts, ReadFromTheKernelsHeaders) {
  std::string r = InstalledRelease();
  if (r.empty()) GTEST_SKIP() << "no Debian kernel headers installed";
  testing::Scratch s;
  auto l = ReadTableLayouts("/usr/src/linux-headers-" + r, r, s.Path("cache"));
  ASSERT_TRUE(l.ok()) << l.error().message();
  ASSERT_NE(l->For(".altinstructions"), nullptr);
  ASSERT_NE(l->For("__ex_table"), nullptr);
  if (r.rfind("6.1.", 0) == 0) {
    // 6.1: alt_instr {s32 instr, s32 repl; u16 cpuid; u8 instrlen, replacementlen}.
    EXPECT_EQ(l->For(".altinstructions")->entry_size, 12u);
    EXPECT_EQ(l->For(".altinstructions")->replacement_len_at, 11);
    EXPECT_EQ(l->For("__ex_table")->entry_size, 12u);
    EXPECT_EQ(l->For("__bug_table")->entry_size, 12u);
    EXPECT_EQ(l->For("__jump_table")->entry_size, 16u);
  }
  EXPECT_TRUE(fs::exists(s.Path("cache/table-layout-" + r)));
}

}  // namespace
}  // namespace graft::kernel
