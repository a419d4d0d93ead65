// The code of the kernel that runs, as an ELF file graft can read: Debian
// ships vmlinux only inside the compressed boot image (/boot/vmlinuz-R, an
// x86 bzImage whose payload is the xz- or zstd-compressed ELF vmlinux,
// section headers kept, symbols stripped) and, with its symbols and STT_FILE
// entries, in linux-image-R-dbg. Decompressed images are cached.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "elf/object_file.h"

namespace graft::kernel {

// The ELF vmlinux inside bzImage `image`, decompressed once into `cache_dir`
// (returns the cached file's path). The compression is read from the
// payload's magic: xz and gzip in-process, zstd/lz4/lzma/bzip2 through their
// command-line tools.
Result<std::string> DecompressedKernelImage(const std::string& image, const std::string& cache_dir);

// `vmlinux` without its debug information and link relocations (633 MB of
// Debian's 700): the code, section headers and symbol table graft reads, in a
// tenth of the time and memory. Returns `vmlinux` itself when already slim,
// else a copy made once in `cache_dir`.
Result<std::string> SlimVmlinux(const std::string& vmlinux, const std::string& cache_dir);

// vmlinux with symbols for kernel `release`: linux-image-<release>-dbg's
// /usr/lib/debug/boot/vmlinux-<release>, downloaded with apt-get and only that
// file and System.map-<release> extracted into `cache_dir` (860 MB download,
// 11 s here; 12 s to extract), kept slim (SlimVmlinux: 71 MB).
Result<std::string> DebianDebugVmlinux(const std::string& release, const std::string& cache_dir,
                                       const std::function<void(const std::string&)>& progress);

// vmlinux's code and symbols for run-pre and for telling same-named statics
// apart: the boot image (decompressed, cached) and, when given or installed,
// vmlinux with symbols from linux-image-R-dbg — the same link, checked by
// build-id — whose symbols the image adopts.
struct VmlinuxCode {
  std::unique_ptr<elf::ObjectFile> symbols;  // the dbg vmlinux
  std::unique_ptr<elf::ObjectFile> decompressed;
  elf::ObjectFile* image = nullptr;  // the code that boots (or the dbg vmlinux's own)
  std::string shown;                 // the file it came from
  uint64_t link_text = 0;
};

// The given vmlinux with symbols, else the installed one of
// linux-image-R-dbg, else (`fetch`) DebianDebugVmlinux's, else "".
Result<std::string> VmlinuxWithSymbols(const std::string& given, bool fetch, const std::string& release,
                                       const std::function<void(const std::string&)>& say);

// Opens `vmlinux` (a slim copy of it; "" for none) and, when `need_code` (vmlinux is what is
// patched), the boot image (`given_image`, default /boot/vmlinuz-<release>),
// which adopts vmlinux's symbols after their build-ids are checked to match.
Result<VmlinuxCode> OpenVmlinuxCode(const std::string& vmlinux, const std::string& given_image, bool need_code,
                                    const std::string& release, const std::function<void(const std::string&)>& say);

}  // namespace graft::kernel
