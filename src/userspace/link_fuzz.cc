// libFuzzer target past decoding: a bundle payload that decodes is laid out
// and relocated (LinkPatch) against the fuzzer's own process, as `graft
// apply` does before it writes anything; nothing is written to any process.
// Build and run: bench/fuzz.sh link_fuzz (clang, -DGRAFT_FUZZ=ON).
#include <sodium.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bundle/bundle.h"
#include "userspace/patch_linker.h"
#include "userspace/process_image.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static userspace::ProcessImage* image = [] {
    auto r = userspace::ProcessImage::Read(getpid());
    return r.ok() ? new userspace::ProcessImage(std::move(*r)) : nullptr;
  }();
  if (!image) return 0;
  // The input is a payload: frame it with a valid header and checksum.
  auto framed = bundle::Encode(bundle::Bundle{});
  framed.resize(44);
  framed.insert(framed.end(), data, data + size);
  crypto_generichash(&framed[12], 32, data, size, nullptr, 0);
  auto b = bundle::Decode(framed, "fuzz");
  if (!b.ok()) return 0;
  // Link against this executable, whatever build-id the bundle names.
  userspace::LoadedObject self;
  for (const auto& m : image->maps())
    if (m.path.find("link_fuzz") != std::string::npos) {
      if (!self.lo) self.lo = m.start, self.bias = m.start - m.offset;
      self.hi = m.end;
    }
  if (!self.lo) return 0;
  (void)userspace::LinkPatch(*b, *image, self);
  return 0;
}
