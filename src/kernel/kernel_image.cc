#include "kernel/kernel_image.h"

#include <lzma.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <vector>

#include "base/subprocess.h"
#include "elf/object_file.h"

namespace graft::kernel {

namespace fs = std::filesystem;

namespace {

// Stops at the end of the first stream: the kernel appends the
// decompressed size (4 bytes) after it.
Status UnxzTo(std::span<const uint8_t> in, std::ofstream& out, const std::string& what) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) return Err("{}: cannot start the xz decoder", what);
  s.next_in = in.data();
  s.avail_in = in.size();
  std::vector<uint8_t> buf(1 << 20);
  lzma_ret rc;
  do {
    s.next_out = buf.data();
    s.avail_out = buf.size();
    rc = lzma_code(&s, LZMA_FINISH);
    out.write(reinterpret_cast<const char*>(buf.data()), buf.size() - s.avail_out);
  } while (rc == LZMA_OK);
  lzma_end(&s);
  if (rc != LZMA_STREAM_END) return Err("{}: the xz payload is corrupt or truncated (lzma error {})", what, int(rc));
  return OkStatus();
}

Status GunzipTo(std::span<const uint8_t> in, std::ofstream& out, const std::string& what) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return Err("{}: cannot start zlib", what);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  std::vector<uint8_t> buf(1 << 20);
  int rc;
  do {
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&z, Z_NO_FLUSH);
    out.write(reinterpret_cast<const char*>(buf.data()), buf.size() - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return Err("{}: the gzip payload is corrupt or truncated", what);
  return OkStatus();
}

}  // namespace

Result<std::string> DecompressedKernelImage(const std::string& image, const std::string& cache_dir) {
  std::ifstream in(image, std::ios::binary);
  if (!in) return Err("cannot read the kernel image {}: {}", image, std::strerror(errno));
  std::vector<uint8_t> d((std::istreambuf_iterator<char>(in)), {});
  // x86 boot protocol: "HdrS" at 0x202; the protected-mode part starts after
  // setup_sects+1 sectors, and payload_offset/length (0x248) locate the
  // compressed vmlinux within it.
  if (d.size() < 0x250 || std::memcmp(&d[0x202], "HdrS", 4) != 0)
    return Err("{} is not an x86 bzImage (no HdrS boot header): give --vmlinux with the kernel's ELF vmlinux", image);
  uint32_t setup_sects = d[0x1f1] ? d[0x1f1] : 4, off, len;
  std::memcpy(&off, &d[0x248], 4);
  std::memcpy(&len, &d[0x24c], 4);
  uint64_t start = (setup_sects + 1) * 512ull + off;
  if (start + len > d.size() || len < 16) return Err("{}: the compressed payload lies outside the file", image);
  std::span<const uint8_t> payload(d.data() + start, len);

  struct stat st {};
  stat(image.c_str(), &st);
  std::string out_path = fmt::format("{}/vmlinux-of-{}-{}", cache_dir, fs::path(image).filename().string(),
                                     static_cast<uint64_t>(st.st_size));
  if (fs::exists(out_path)) return out_path;
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return Err("cannot create {}: {}", cache_dir, ec.message());
  std::string tmp = out_path + ".part";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Err("cannot write {}", tmp);
    auto magic = [&](std::initializer_list<uint8_t> m) { return std::equal(m.begin(), m.end(), payload.begin()); };
    const char* tool = nullptr;
    if (magic({0xfd, '7', 'z', 'X', 'Z', 0})) {
      GRAFT_TRY(UnxzTo(payload, out, image));
    } else if (magic({0x1f, 0x8b})) {
      GRAFT_TRY(GunzipTo(payload, out, image));
    } else if (magic({0x28, 0xb5, 0x2f, 0xfd})) {
      tool = "zstd -dc";
    } else if (magic({0x02, 0x21, 0x4c, 0x18})) {
      tool = "lz4 -dc";
    } else if (magic({0x5d, 0x00})) {
      tool = "lzma -dc";
    } else if (magic({'B', 'Z', 'h'})) {
      tool = "bzip2 -dc";
    } else {
      return Err("{}: unknown compression of the kernel payload (magic {:02x} {:02x}): give --vmlinux", image,
                 payload[0], payload[1]);
    }
    if (tool) {
      out.close();
      std::string packed = tmp + ".in";
      std::ofstream(packed, std::ios::binary).write(reinterpret_cast<const char*>(payload.data()), payload.size());
      // The tools stop at the end of the frame and complain about the size
      // the kernel appends after it; the output is complete regardless.
      auto rc = RunCommand(fmt::format("{} < '{}' > '{}'", tool, packed, tmp), cache_dir, cache_dir + "/decompress.log");
      fs::remove(packed, ec);
      if (!rc.ok() && fs::file_size(tmp, ec) < 1024)
        return Err("{}: cannot decompress the kernel payload with {} (is it installed?)", image, tool);
    }
  }
  std::ifstream check(tmp, std::ios::binary);
  char elf[4] = {};
  check.read(elf, 4);
  if (std::memcmp(elf, "\x7f" "ELF", 4) != 0)
    return Err("{}: the decompressed payload is not an ELF vmlinux (a relocatable kernel without one?)", image);
  fs::rename(tmp, out_path, ec);
  if (ec) return Err("cannot write {}: {}", out_path, ec.message());
  return out_path;
}

Result<std::string> SlimVmlinux(const std::string& vmlinux, const std::string& cache_dir) {
  std::error_code ec;
  uint64_t size = fs::file_size(vmlinux, ec);
  if (ec) return Err("cannot read {}: {}", vmlinux, ec.message());
  if (size < (200ull << 20)) return vmlinux;
  std::string out = fmt::format("{}/vmlinux-symbols-of-{}-{}", cache_dir, fs::path(vmlinux).filename().string(), size);
  if (fs::exists(out)) return out;
  fs::create_directories(cache_dir, ec);
  GRAFT_TRY(RunCommand(fmt::format("objcopy -R '.debug_*' -R '.rela*' '{}' '{}.part' && mv '{}.part' '{}'", vmlinux, out,
                                   out, out),
                       cache_dir, cache_dir + "/slim.log"));
  return out;
}

Result<std::string> DebianDebugVmlinux(const std::string& release, const std::string& cache_dir,
                                       const std::function<void(const std::string&)>& progress) {
  std::string out = fmt::format("{}/vmlinux-{}", cache_dir, release);
  if (fs::exists(out)) return out;
  std::string version =
      CommandOutput("dpkg-query -W -f '${Version}' 'linux-image-" + release + "' 2>/dev/null").value_or("");
  if (version.empty())
    return Err("linux-image-{} is not an installed Debian package: give --vmlinux with the kernel's vmlinux", release);
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return Err("cannot create {}: {}", cache_dir, ec.message());
  std::string pkg = "linux-image-" + release + "-dbg", log = cache_dir + "/fetch.log";
  std::string deb = fmt::format("{}/{}_{}_amd64.deb", cache_dir, pkg, version);
  if (!fs::exists(deb)) {
    if (progress) progress(fmt::format("downloading {}={} (vmlinux with symbols, ~860 MB)", pkg, version));
    Status got = RunCommand(fmt::format("apt-get download -q '{}={}'", pkg, version), cache_dir, log);
    if (!got.ok() || !fs::exists(deb))
      return Err("cannot download {}={} (package lists may be missing: apt-get update); see {}", pkg, version, log);
  }
  if (progress) progress("extracting vmlinux-" + release + " from " + pkg);
  // vmlinux comes early in the archive: --occurrence stops tar there instead
  // of decompressing the modules' debug files after it.
  std::string member = "./usr/lib/debug/boot/vmlinux-" + release, map = "./usr/lib/debug/boot/System.map-" + release;
  std::string tmp = cache_dir + "/extract-" + release;
  fs::create_directories(tmp, ec);
  GRAFT_TRY(RunCommand(fmt::format("dpkg-deb --fsys-tarfile '{}' 2>/dev/null | tar -x --occurrence=1 -C '{}' '{}' '{}'",
                                   deb, tmp, member, map),
                       cache_dir, log));
  fs::rename(tmp + "/" + map, cache_dir + "/System.map-" + release, ec);  // the real one: /boot's is a placeholder
  if (!fs::exists(tmp + "/" + member)) return Err("{} holds no {}: see {}", deb, member, log);
  GRAFT_TRY(RunCommand(fmt::format("objcopy -R '.debug_*' -R '.rela*' '{}/{}' '{}'", tmp, member, out), cache_dir, log));
  fs::remove_all(tmp, ec);
  fs::remove(deb, ec);  // 860 MB, of which only vmlinux is kept
  return out;
}

Result<std::string> VmlinuxWithSymbols(const std::string& given, bool fetch, const std::string& release,
                                       const std::function<void(const std::string&)>& say) {
  if (!given.empty()) return given;
  if (std::string v = "/usr/lib/debug/boot/vmlinux-" + release; fs::exists(v)) return v;
  if (fetch) return DebianDebugVmlinux(release, CacheDir("kernel"), say);  // cached after the first time
  return std::string();
}

Result<VmlinuxCode> OpenVmlinuxCode(const std::string& vmlinux, const std::string& given_image, bool need_code,
                                    const std::string& release, const std::function<void(const std::string&)>& say) {
  VmlinuxCode c;
  if (!vmlinux.empty()) {
    say("reading vmlinux's symbols from " + vmlinux);
    GRAFT_ASSIGN(std::string slim, SlimVmlinux(vmlinux, CacheDir("kernel")));
    GRAFT_ASSIGN(c.symbols, elf::ObjectFile::Open(slim));
    if (c.symbols->symbols().empty()) return Err("{} has no symbol table: give vmlinux from linux-image-{}-dbg", vmlinux, release);
  }
  std::string image = given_image.empty() ? "/boot/vmlinuz-" + release : given_image;
  if (!need_code) {
    // A module's code is checked against its .ko; vmlinux's symbols only name statics.
  } else if (fs::exists(image)) {
    say("reading the kernel's code from " + image);
    GRAFT_ASSIGN(std::string elf, DecompressedKernelImage(image, CacheDir("kernel")));
    GRAFT_ASSIGN(c.decompressed, elf::ObjectFile::Open(elf));
    c.image = c.decompressed.get();
    c.shown = image;
    if (c.symbols) {
      if (!c.image->build_id().empty() && c.image->build_id() != c.symbols->build_id())
        return Err("{} (build-id {}) is not the vmlinux of {} (build-id {}): give the vmlinux of the same build",
                   c.symbols->path(), c.symbols->build_id(), image, c.image->build_id());
      c.image->AdoptSymbols(*c.symbols);
    }
  } else if (!given_image.empty()) {
    return Err("no kernel image at {}", given_image);
  } else if (c.symbols) {
    c.image = c.symbols.get();  // its own code: the same link as the image
    c.shown = vmlinux;
  }
  if (c.image) {
    const elf::Section* text = c.image->section_named(".text");
    if (!text) return Err("{} has no .text section: not a vmlinux", c.image->path());
    c.link_text = text->addr;
  }
  return c;
}


}  // namespace graft::kernel
