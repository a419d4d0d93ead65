// libFuzzer target for the kernel module signature reader (`graft kernel
// info` and `kernel load` run it on any module they are given): the trailer
// and the PKCS#7 signer info behind it. Build: -DGRAFT_FUZZ=ON with clang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernel/module_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)graft::kernel::ParseModuleSignature(bytes);
  // The input as the signature of an empty module, so that the CMS parser
  // is reached by most inputs, not only those ending in the magic.
  std::string framed = bytes;
  uint32_t n = static_cast<uint32_t>(size);
  framed += std::string{0, 0, 2, 0, 0, 0, 0, 0, static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                        static_cast<char>(n >> 8), static_cast<char>(n)};
  framed += graft::kernel::kModuleSignatureMagic;
  (void)graft::kernel::ParseModuleSignature(framed);
  return 0;
}
