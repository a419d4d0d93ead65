// The code of the kernel that runs, as an ELF file graft can read: Debian
// ships vmlinux only inside the compressed boot image (/boot/vmlinuz-R, an
// x86 bzImage whose payload is the xz- or zstd-compressed ELF vmlinux,
// section headers kept, symbols stripped) and, with its symbols and STT_FILE
// entries, in linux-image-R-dbg. Decompressed images are cached.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

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
// 25 s here; 20 s to extract).
Result<std::string> DebianDebugVmlinux(const std::string& release, const std::string& cache_dir,
                                       const std::function<void(const std::string&)>& progress);

}  // namespace graft::kernel
